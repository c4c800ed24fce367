"""Known-wrong versions of reference_solutions/dl_basics.py (same names and shapes, wrong values)."""
import random

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn

from reference_solutions import dl_basics as ref
from reference_solutions.known_wrong import Registry

WRONG = Registry()


# ---------------------------------------------------------------- linear regression
@WRONG.wrong("linear_regression", "gradient_without_2",
             "梯度少了因子 2：(y_pred - y)² 的导数是 2 (y_pred - y)",
             "the gradient lacks the factor 2: the derivative of (y_pred - y)² is 2 (y_pred - y)")
def mse_gradient(w, X, y):
    return ref.mse_gradient(w, X, y) / 2


@WRONG.wrong("linear_regression", "gradient_summed",
             "梯度是求和而不是平均：均方误差要除以样本数 N",
             "the gradient is a sum, not a mean: the mean squared error divides by N")
def mse_gradient(w, X, y):  # noqa: F811
    return ref.mse_gradient(w, X, y) * len(y)


@WRONG.wrong("linear_regression", "gradient_sign_flipped",
             "梯度的符号反了：应为 2/N Σ (y_pred - y) x，不是 (y - y_pred)",
             "the gradient's sign is flipped: 2/N Σ (y_pred - y) x, not (y - y_pred)")
def mse_gradient(w, X, y):  # noqa: F811
    return -ref.mse_gradient(w, X, y)


@WRONG.wrong("linear_regression", "intercept_gradient_times_x1",
             "截距 w0 的梯度乘了 x1：w0 对应的输入恒为 1",
             "the intercept's gradient was multiplied by x1: w0's input is always 1")
def mse_gradient(w, X, y):  # noqa: F811
    error = w[0] + X @ w[1:] - y
    return torch.cat([(2 * error * X[:, 0]).mean().reshape(1), 2 * (error[:, None] * X).mean(dim=0)])


@WRONG.wrong("linear_regression", "seed_schedule",
             "照搬种子的学习率 0.0001 和 10000 次迭代：特征尺度差得远，远未收敛到最小二乘解"
             "（先标准化特征，或大幅增加迭代）",
             "the seed's lr 0.0001 and 10000 iterations as they are: with features on such different scales GD is "
             "far from the least-squares solution (standardise the features, or iterate far longer)")
def fit_sales(X, y):
    return ref.gradient_descent(X, y, 0.0001, 10000)


@WRONG.wrong("linear_regression", "standardised_weights_returned",
             "返回的是标准化特征上的权重：要换回原来的单位 w_j = v_j / std_j，w0 = v0 - Σ v_j mean_j / std_j",
             "the weights returned are those of the standardised features: map them back, w_j = v_j / std_j, "
             "w0 = v0 - Σ v_j mean_j / std_j")
def fit_sales(X, y):  # noqa: F811
    return ref.gradient_descent((X - X.mean(dim=0)) / X.std(dim=0), y, 0.1, 2000)


@WRONG.wrong("linear_regression", "no_intercept",
             "没有截距 w0：模型 y = w0 + w1 x1 + w2 x2 里的 w0 也要学",
             "no intercept: w0 in y = w0 + w1 x1 + w2 x2 has to be learned too")
def fit_sales(X, y):  # noqa: F811
    w_rest = torch.linalg.lstsq(X, y[:, None]).solution.flatten()
    return torch.cat([torch.zeros(1, dtype=X.dtype), w_rest])


# ---------------------------------------------------------------- logistic regression
@WRONG.wrong("logistic_regression", "sigmoid_sign",
             "σ(z) 写成了 1 / (1 + e^z)：指数里应是 -z",
             "σ(z) was written 1 / (1 + e^z): the exponent is -z")
def sigmoid(z):
    return 1 / (1 + torch.exp(z))


@WRONG.wrong("logistic_regression", "gradient_y_minus_p",
             "梯度的符号反了：交叉熵对 z 的导数是 p - y，不是 y - p",
             "the gradient's sign is flipped: the cross-entropy's derivative in z is p - y, not y - p")
def logistic_gradient(w, b, x, y):
    p = ref.sigmoid(w * x + b)
    return ((y - p) * x).mean(), (y - p).mean()


@WRONG.wrong("logistic_regression", "dw_without_x",
             "dw 没有乘 x：∂L/∂w = mean((p - y) x)",
             "dw was not multiplied by x: ∂L/∂w = mean((p - y) x)")
def logistic_gradient(w, b, x, y):  # noqa: F811
    p = ref.sigmoid(w * x + b)
    return (p - y).mean(), (p - y).mean()


@WRONG.wrong("logistic_regression", "logistic_gradient_summed",
             "梯度是求和而不是平均：损失是 N 个样本交叉熵的平均",
             "the gradient is a sum, not a mean: the loss is the mean cross-entropy over N samples")
def logistic_gradient(w, b, x, y):  # noqa: F811
    p = ref.sigmoid(w * x + b)
    return ((p - y) * x).sum(), (p - y).sum()


@WRONG.wrong("logistic_regression", "boundary_b_over_w",
             "决策边界的符号反了：w x + b = 0 时 x = -b / w",
             "the decision boundary's sign is flipped: w x + b = 0 at x = -b / w")
def decision_boundary(w, b):
    return float(b / w)


# ---------------------------------------------------------------- convolution
@WRONG.wrong("conv_layers", "padding_once",
             "填充只算了一边：输出尺寸 = (n + 2p - k) / s + 1，两边各填 p",
             "the padding counted once: output size = (n + 2p - k) / s + 1, p on each side")
def conv_output_size(n, k, p=0, s=1):
    return (n + p - k) // s + 1


@WRONG.wrong("conv_layers", "rounded_up",
             "除不尽时向上取整了：应向下取整（floor）",
             "rounded up where the division is not exact: round down (floor)")
def conv_output_size(n, k, p=0, s=1):  # noqa: F811
    return -(-(n + 2 * p - k) // s) + 1


@WRONG.wrong("conv_layers", "stride_ignores_plus_one",
             "+1 放进了除法里：应为 (n + 2p - k) / s 取整后再 + 1",
             "the +1 went inside the division: floor((n + 2p - k) / s), then + 1")
def conv_output_size(n, k, p=0, s=1):  # noqa: F811
    return (n + 2 * p - k + 1) // s


@WRONG.wrong("conv_layers", "weight_not_transposed",
             "权重没有转置：每个输出通道是输入通道的加权和，out = pixels @ weight.T",
             "the weight was not transposed: each output channel is a weighted sum of the input channels, "
             "out = pixels @ weight.T")
def conv1x1(X, weight, bias):
    B, C_in, H, W = X.shape
    out = X.permute(0, 2, 3, 1).reshape(-1, C_in) @ weight + bias
    return out.reshape(B, H, W, -1).permute(0, 3, 1, 2)


@WRONG.wrong("conv_layers", "no_bias",
             "没有加偏置：每个输出通道有自己的偏置 bias[c]",
             "the bias is missing: every output channel adds its own bias[c]")
def conv1x1(X, weight, bias):  # noqa: F811
    return ref.conv1x1(X, weight, torch.zeros_like(bias))


@WRONG.wrong("conv_layers", "pixels_scrambled",
             "直接 reshape 成 (B*H*W, C_in) 打乱了像素和通道：先 permute 把通道移到最后",
             "reshaped straight to (B*H*W, C_in), mixing pixels and channels: permute the channels last first")
def conv1x1(X, weight, bias):  # noqa: F811
    B, C_in, H, W = X.shape
    out = X.reshape(-1, C_in) @ weight.T + bias
    return out.reshape(B, -1, H, W)


@WRONG.wrong("conv_layers", "max_pool",
             "取了最大值：全局平均池化取每个通道的平均值",
             "took the maximum: global average pooling takes each channel's mean")
def global_avg_pool(X):
    return X.amax(dim=(2, 3), keepdim=True)


@WRONG.wrong("conv_layers", "pool_sum",
             "求和后没有除以 H × W", "summed without dividing by H × W")
def global_avg_pool(X):  # noqa: F811
    return X.sum(dim=(2, 3), keepdim=True)


@WRONG.wrong("conv_layers", "pool_divided_by_h",
             "只除以了 H：平均要除以全部 H × W 个位置",
             "divided by H only: the mean divides by all H × W positions")
def global_avg_pool(X):  # noqa: F811
    return X.sum(dim=(2, 3), keepdim=True) / X.shape[2]


# ---------------------------------------------------------------- Cutout
@WRONG.wrong("cutout", "in_place",
             "改动了传入的图像：应在副本上遮挡（np.array(image).copy()），原图保持不变",
             "the image passed in was modified: mask a copy (np.array(image).copy()), leave the input as it was")
def cutout_pil_multi(image, mask_size=50, num_masks=3):
    draw = ImageDraw.Draw(image)
    w, h = image.size
    for _ in range(num_masks):
        y, x = random.randint(0, h - 1), random.randint(0, w - 1)
        y1, y2 = max(0, y - mask_size // 2), min(h, y + mask_size // 2)
        x1, x2 = max(0, x - mask_size // 2), min(w, x + mask_size // 2)
        if y2 > y1 and x2 > x1:
            draw.rectangle([x1, y1, x2 - 1, y2 - 1], fill=(0, 0, 0))
    return image


@WRONG.wrong("cutout", "half_size",
             "遮挡块只有一半大：边长应为 mask_size（中心上下各 mask_size // 2）",
             "the squares are half as large: their side is mask_size (mask_size // 2 either side of the centre)")
def cutout_pil_multi(image, mask_size=50, num_masks=3):  # noqa: F811
    return ref.cutout_pil_multi(image, mask_size // 2, num_masks)


@WRONG.wrong("cutout", "one_mask",
             "只画了一个遮挡块：应画 num_masks 个",
             "only one square was drawn: draw num_masks of them")
def cutout_pil_multi(image, mask_size=50, num_masks=3):  # noqa: F811
    return ref.cutout_pil_multi(image, mask_size, min(num_masks, 1))


@WRONG.wrong("cutout", "first_channel_only",
             "只把第一个通道置 0：遮挡块的所有通道（RGB）都要置 0",
             "only the first channel was zeroed: a square zeroes all channels (RGB)")
def cutout_pil_multi(image, mask_size=50, num_masks=3):  # noqa: F811
    image_np = np.array(image).copy()
    h, w = image_np.shape[0], image_np.shape[1]
    for _ in range(num_masks):
        y, x = random.randint(0, h - 1), random.randint(0, w - 1)
        image_np[max(0, y - mask_size // 2):min(h, y + mask_size // 2),
                 max(0, x - mask_size // 2):min(w, x + mask_size // 2), 0] = 0
    return Image.fromarray(image_np)


def _squares(image, mask_size, num_masks, centre, span):
    """Cutout on a copy: num_masks squares at centre(h, w) = (y, x), each covering span(y, x, h, w)."""
    image_np = np.array(image).copy()  # (H, W, 3)
    h, w = image_np.shape[0], image_np.shape[1]
    for _ in range(num_masks):
        y1, y2, x1, x2 = span(*centre(h, w), h, w)
        image_np[y1:y2, x1:x2, :] = 0
    return Image.fromarray(image_np)


def _uniform(h, w):
    return random.randint(0, h - 1), random.randint(0, w - 1)


@WRONG.wrong("cutout", "one_pixel_too_large",
             "遮挡块每边多了一个像素：行应为 y - mask_size // 2 到 y + mask_size // 2 - 1（切片的终点不含在内）",
             "the squares are one pixel too large: rows y - mask_size // 2 to y + mask_size // 2 - 1 (a slice's end "
             "is excluded)")
def cutout_pil_multi(image, mask_size=50, num_masks=3):  # noqa: F811
    half = mask_size // 2
    return _squares(image, mask_size, num_masks, _uniform,
                    lambda y, x, h, w: (max(0, y - half), min(h, y + half + 1), max(0, x - half), min(w, x + half + 1)))


@WRONG.wrong("cutout", "unclipped_top_left",
             "上边和左边没有裁剪：y - mask_size // 2 为负时切片从另一端算起，整块消失；"
             "起点应取 max(0, y - mask_size // 2)",
             "not clipped at the top and left: where y - mask_size // 2 is negative the slice counts from the other "
             "end and the square vanishes; start at max(0, y - mask_size // 2)")
def cutout_pil_multi(image, mask_size=50, num_masks=3):  # noqa: F811
    half = mask_size // 2
    return _squares(image, mask_size, num_masks, _uniform,
                    lambda y, x, h, w: (y - half, min(h, y + half), x - half, min(w, x + half)))


@WRONG.wrong("cutout", "width_height_swapped",
             "宽和高弄反了：PIL 的 image.size 是 (宽, 高)，而数组的形状是 (高, 宽, 3)；"
             "中心的行应取自 0..高-1，列取自 0..宽-1",
             "width and height swapped: PIL's image.size is (width, height), the array is (height, width, 3); the "
             "centre's row comes from 0..height-1, its column from 0..width-1")
def cutout_pil_multi(image, mask_size=50, num_masks=3):  # noqa: F811
    half = mask_size // 2
    return _squares(image, mask_size, num_masks, lambda h, w: _uniform(w, h),
                    lambda y, x, h, w: (max(0, y - half), min(h, y + half), max(0, x - half), min(w, x + half)))


@WRONG.wrong("cutout", "corner_at_random_pixel",
             "随机像素是遮挡块的左上角而不是中心：块应从 y - mask_size // 2 到 y + mask_size // 2 - 1，"
             "也会越过上边和左边",
             "the random pixel is the square's top-left corner, not its centre: the square spans y - mask_size // 2 to "
             "y + mask_size // 2 - 1, so it can cross the top and left borders too")
def cutout_pil_multi(image, mask_size=50, num_masks=3):  # noqa: F811
    return _squares(image, mask_size, num_masks, _uniform,
                    lambda y, x, h, w: (y, min(h, y + mask_size), x, min(w, x + mask_size)))


# ---------------------------------------------------------------- the cat/dog CNN
def _blocks(activation=nn.ReLU, pool=nn.MaxPool2d):
    layers, channels = [], [3, 16, 32, 64, 128]
    for c_in, c_out in zip(channels, channels[1:]):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), activation(), pool(2, 2)]
    return layers


@WRONG.wrong("cnn_training", "no_relu",
             "卷积之间没有 ReLU：没有非线性，整个网络只是线性变换加池化",
             "no ReLU between the convolutions: without a nonlinearity the network is linear maps and pooling")
class CNNmodel(ref.CNNmodel):
    def __init__(self):
        nn.Module.__init__(self)
        self.model = nn.Sequential(*_blocks(activation=nn.Identity), nn.Conv2d(128, 1, 1), nn.AdaptiveAvgPool2d(1),
                                   nn.Flatten(), nn.Sigmoid())


@WRONG.wrong("cnn_training", "global_max_pool",
             "最后用了全局最大池化：种子用 nn.AdaptiveAvgPool2d(1)（全局平均池化）",
             "global max pooling at the end: the seed uses nn.AdaptiveAvgPool2d(1), global average pooling")
class CNNmodel(ref.CNNmodel):  # noqa: F811
    def __init__(self):
        nn.Module.__init__(self)
        self.model = nn.Sequential(*_blocks(), nn.Conv2d(128, 1, 1), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                                   nn.Sigmoid())


@WRONG.wrong("cnn_training", "avg_pool_blocks",
             "每块里用了平均池化：种子每个卷积块后是 nn.MaxPool2d(2, 2)",
             "average pooling in the blocks: the seed ends every block with nn.MaxPool2d(2, 2)")
class CNNmodel(ref.CNNmodel):  # noqa: F811
    def __init__(self):
        nn.Module.__init__(self)
        self.model = nn.Sequential(*_blocks(pool=nn.AvgPool2d), nn.Conv2d(128, 1, 1), nn.AdaptiveAvgPool2d(1),
                                   nn.Flatten(), nn.Sigmoid())


@WRONG.wrong("cnn_training", "no_sigmoid",
             "最后没有 Sigmoid：输出应是属于第 1 类（狗）的概率，在 0 和 1 之间",
             "no Sigmoid at the end: the output is the probability of class 1 (dog), between 0 and 1")
class CNNmodel(ref.CNNmodel):  # noqa: F811
    def __init__(self):
        nn.Module.__init__(self)
        self.model = nn.Sequential(*_blocks(), nn.Conv2d(128, 1, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())


@WRONG.wrong("cnn_training", "dropout_before_sigmoid",
             "加了种子的模型没有的 dropout（全局平均池化之后）：训练模式下输出被随机丢弃；照种子的结构写",
             "a dropout the seed's model does not have (after the global average pooling): in train mode the output "
             "is dropped at random; build the seed's layers as they are")
class CNNmodel(ref.CNNmodel):  # noqa: F811
    def __init__(self):
        nn.Module.__init__(self)
        self.model = nn.Sequential(*_blocks(), nn.Conv2d(128, 1, 1), nn.AdaptiveAvgPool2d(1), nn.Dropout(0.5),
                                   nn.Flatten(), nn.Sigmoid())
