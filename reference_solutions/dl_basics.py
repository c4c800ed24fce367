"""Deep-learning basics (seed 004): linear regression by batch gradient descent on the seed's
temperature/price -> sales table, one-variable logistic regression, the output size of a
convolution, a 1x1 convolution as a matmul over channels, global average pooling, Cutout on a PIL
image, and the seed's cat/dog CNN trained on generated images: the reference for `00_dl_basics`.

Shapes: N samples, B batch, C channels, H height, W width.
"""
import random

import numpy as np
import torch
from PIL import Image
from torch import nn

# The seed's table: temperature (°C), price (yuan) -> sales, as seed 004 prints it.
SALES_X = [[10, 3], [20, 3], [25, 3], [28, 2.5], [30, 2], [35, 2.5], [40, 2.5]]
SALES_Y = [60, 85, 100, 120, 140, 145, 163]


# <level: linear_regression>
def mse_gradient(w, X, y):
    """The gradient of loss = 1/N Σ (w0 + w1 x1 + w2 x2 - y)² with respect to w = (w0, w1, w2).
    w: (3,); X: (N, 2); y: (N,) -> (3,)"""
    ##########Begin##########
    y_pred = w[0] + X @ w[1:]  # (N,)
    error = y_pred - y  # (N,)
    grad_w0 = 2 * error.mean()
    grad_rest = 2 * (error[:, None] * X).mean(dim=0)  # (2,)
    return torch.cat([grad_w0.reshape(1), grad_rest])
    ##########End##########


def gradient_descent(X, y, lr, num_iterations):
    """Batch gradient descent from w = (0, 0, 0): num_iterations steps w <- w - lr * grad. -> (3,)"""
    ##########Begin##########
    w = torch.zeros(3, dtype=X.dtype, device=X.device)
    for _ in range(num_iterations):
        w = w - lr * mse_gradient(w, X, y)
    return w
    ##########End##########


def fit_sales(X, y):
    """(w0, w1, w2) that minimise the MSE on (X, y), found by gradient descent with a learning rate
    and a number of iterations of your choice. -> (3,)"""
    ##########Begin##########
    mean, std = X.mean(dim=0), X.std(dim=0)
    Z = (X - mean) / std  # 标准化后梯度下降收敛得快 / standardised features: GD converges fast
    v = gradient_descent(Z, y, lr=0.1, num_iterations=2000)  # v0 + Z @ v[1:]
    w_rest = v[1:] / std  # 换回原来的单位 / back to the table's units
    return torch.cat([(v[0] - (mean * w_rest).sum()).reshape(1), w_rest])
    ##########End##########
# </level>


# <level: logistic_regression>
def sigmoid(z):
    """σ(z) = 1 / (1 + e^(-z)), elementwise."""
    ##########Begin##########
    return 1 / (1 + torch.exp(-z))
    ##########End##########


def logistic_gradient(w, b, x, y):
    """The gradient of the mean cross-entropy of p = σ(w x + b) with respect to (w, b).
    w, b: 0-d tensors; x, y: (N,) with y in {0, 1} -> (dw, db), 0-d tensors"""
    ##########Begin##########
    p = sigmoid(w * x + b)  # (N,)
    return ((p - y) * x).mean(), (p - y).mean()
    ##########End##########


def decision_boundary(w, b):
    """The x where σ(w x + b) = 0.5. -> float"""
    ##########Begin##########
    return float(-b / w)
    ##########End##########
# </level>


# <level: conv_layers>
def conv_output_size(n, k, p=0, s=1):
    """The output size of a convolution: floor((n + 2p - k) / s) + 1. -> int"""
    ##########Begin##########
    return (n + 2 * p - k) // s + 1
    ##########End##########


def conv1x1(X, weight, bias):
    """A 1x1 convolution as a matmul over channels. X: (B, C_in, H, W); weight: (C_out, C_in);
    bias: (C_out,) -> (B, C_out, H, W), as nn.Conv2d(C_in, C_out, 1)"""
    ##########Begin##########
    B, C_in, H, W = X.shape
    pixels = X.permute(0, 2, 3, 1).reshape(-1, C_in)  # (B*H*W, C_in): one row per pixel
    out = pixels @ weight.T + bias  # (B*H*W, C_out)
    return out.reshape(B, H, W, -1).permute(0, 3, 1, 2)  # (B, C_out, H, W)
    ##########End##########


def global_avg_pool(X):
    """The mean of every channel over its H x W positions. X: (B, C, H, W) -> (B, C, 1, 1)"""
    ##########Begin##########
    return X.mean(dim=(2, 3), keepdim=True)
    ##########End##########
# </level>


# <level: cutout>
def cutout_pil_multi(image, mask_size=50, num_masks=3):
    """Seed 004's Cutout: num_masks black squares, each centred on a uniformly random pixel (y, x),
    rows y - mask_size // 2 .. y + mask_size // 2 - 1 and the same for columns, clipped at the
    borders. image: a PIL RGB image (left untouched) -> a new PIL image"""
    ##########Begin##########
    image_np = np.array(image).copy()  # (H, W, 3): 副本，原图不变 / a copy: the input stays as it was
    h, w = image_np.shape[0], image_np.shape[1]
    for _ in range(num_masks):
        y = random.randint(0, h - 1)
        x = random.randint(0, w - 1)
        y1, y2 = max(0, y - mask_size // 2), min(h, y + mask_size // 2)  # 越界的部分裁掉 / clipped
        x1, x2 = max(0, x - mask_size // 2), min(w, x + mask_size // 2)
        image_np[y1:y2, x1:x2, :] = 0
    return Image.fromarray(image_np)
    ##########End##########
# </level>


# <level: cnn_training>
class CNNmodel(nn.Module):
    """Seed 004's cat/dog CNN: four Conv(3x3, padding 1)-ReLU-MaxPool(2) blocks, 3 -> 16 -> 32 -> 64
    -> 128 channels, then a 1x1 convolution to one channel, global average pooling and a sigmoid.
    (B, 3, H, W) -> (B, 1): the probability of class 1 ("dog")."""

    def __init__(self):
        super().__init__()
        ##########Begin##########
        self.model = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(128, 1, 1),  # 1x1 卷积：128 个通道 -> 1 个 / 1x1 convolution: 128 channels -> 1
            nn.AdaptiveAvgPool2d(1),  # 全局平均池化 / global average pooling: (B, 1, 1, 1)
            nn.Flatten(),  # (B, 1)
            nn.Sigmoid(),
        )
        ##########End##########

    def forward(self, x):
        return self.model(x)
# </level>


# <scaffold: images>
def make_images(n, generator, size=16):
    """n generated images standing in for cats (label 0: horizontal stripes) and dogs (label 1:
    vertical stripes), each with its own colours, stripe period and phase, plus noise.
    -> X (n, 3, size, size) in [-1, 1], y (n,) of 0.0 / 1.0"""
    y = torch.randint(0, 2, (n,), generator=generator).float()  # (n,)
    period = torch.randint(3, 7, (n, 1, 1), generator=generator).float()  # pixels per stripe pair
    phase = torch.rand(n, 1, 1, generator=generator) * period
    coords = torch.arange(size).float()
    rows, cols = coords.reshape(1, size, 1), coords.reshape(1, 1, size)
    along = torch.where(y.reshape(n, 1, 1) == 1, cols, rows)  # (n, size, size): 条纹的方向 / stripes' direction
    stripes = (torch.sin(2 * torch.pi * (along + phase) / period) > 0).float()  # (n, size, size)
    colour_a, colour_b = torch.rand(n, 3, 1, 1, generator=generator), torch.rand(n, 3, 1, 1, generator=generator)
    X = colour_a + (colour_b - colour_a) * stripes[:, None]  # (n, 3, size, size)
    X = X + 0.15 * torch.randn(X.shape, generator=generator)
    return (X * 2 - 1).clamp(-1, 1), y
# </scaffold>
