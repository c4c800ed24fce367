"""Hidden checks of 00_dl_basics: linear regression by gradient descent (seed 004's table and
tables drawn here), logistic regression, convolution sizes, a 1x1 convolution and global average
pooling, Cutout judged by its properties, and seed 004's CNN trained on images it never saw.

The expected values come from independent oracles (autograd, torch.linalg.lstsq, nn.Conv2d,
nn.AdaptiveAvgPool2d, torch.sigmoid) and the reference. Shapes: N samples, B batch, C channels.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

import reference_solutions.dl_basics as ref
from autograder.checking import CheckFailed, expect_close, expect_equal, level, mistakes, seeded, seeded_call, trace
from autograder.engine.plain import describe
from autograder.messages import t
from reference_solutions.known_wrong.dl_basics import WRONG

# The training check: 0.8-1.7 s on one CPU thread of a busy 2-core machine (`make bench` times it).
TRAINING = dict(lr=0.004, steps=120, batch_size=16)
NUM_TRAIN, NUM_HELD_OUT = 1024, 400
ACCURACY_THRESHOLD = 0.85  # the reference reaches 0.91-0.99 over 20 initialisations, untrained 0.43-0.54


def message(name):
    """The message of the known-wrong `name` (properties name a mistake without matching outputs)."""
    wrong = next(w for w in WRONG if w.name == name)
    return t(wrong.zh, wrong.en)


def wrongs_of(level_name, name):
    return [w for w in WRONG.of(level_name) if name in w.overrides]


# ---------------------------------------------------------------- 1. linear regression
def sales_table(rng, n):
    """A table like seed 004's: temperature 5-40 °C, price 1.5-3.5 yuan -> sales, with noise."""
    temperature = 5 + 35 * torch.rand(n, generator=rng, dtype=torch.float64)
    price = 1.5 + 2 * torch.rand(n, generator=rng, dtype=torch.float64)
    w = torch.tensor([60.0, 3.0, -20.0], dtype=torch.float64) * (0.5 + torch.rand(3, generator=rng,
                                                                                     dtype=torch.float64))
    y = w[0] + w[1] * temperature + w[2] * price + 5 * torch.randn(n, generator=rng, dtype=torch.float64)
    return torch.stack([temperature, price], dim=1), y


def seed_table():
    return torch.tensor(ref.SALES_X, dtype=torch.float64), torch.tensor(ref.SALES_Y, dtype=torch.float64)


def autograd_gradient(w, X, y):
    """The oracle: autograd of the mean squared error."""
    w = w.clone().requires_grad_(True)
    ((w[0] + X @ w[1:] - y) ** 2).mean().backward()
    return w.grad


def check_gradient(student, device, w, X, y):
    expected = autograd_gradient(w, X, y)
    wrong = mistakes(ref, wrongs_of("linear_regression", "mse_gradient"), lambda ns: ns.mse_gradient(w, X, y))
    expect_close(student.call("mse_gradient", w, X, y, device=device), expected, device=device,
                 what="mse_gradient", mistakes=wrong)


@level("linear_regression")
def test_gradient_matches_autograd(student, rng, device):
    """mse_gradient 等于 autograd 在随机表格和随机 w 上的梯度 / mse_gradient equals autograd's on a random table and w"""  # noqa: E501
    X, y = sales_table(rng, 9)
    check_gradient(student, device, torch.randn(3, generator=rng, dtype=torch.float64) * 5, X, y)


def descend(namespace, X, y, lr, num_iterations):
    """Gradient descent from zeros with `namespace.mse_gradient`, here."""
    w = torch.zeros(3, dtype=X.dtype)
    for _ in range(num_iterations):
        w = w - lr * namespace.mse_gradient(w, X, y)
    return w


@level("linear_regression")
def test_gradient_descent_on_the_seed_table(student, rng, device):
    """gradient_descent 在种子的表格上按给定的 lr、迭代次数走，与逐步的 autograd 下降相同 / gradient_descent on the seed's table equals descent by autograd's gradient"""  # noqa: E501
    X, y = seed_table()
    lr, steps = 0.0001, int(torch.randint(300, 1500, (1,), generator=rng))
    w = torch.zeros(3, dtype=torch.float64)
    for _ in range(steps):  # the oracle: every step's gradient from autograd
        w = w - lr * autograd_gradient(w, X, y)
    wrong = mistakes(ref, wrongs_of("linear_regression", "mse_gradient"), lambda ns: descend(ns, X, y, lr, steps))
    expect_close(student.call("gradient_descent", X, y, lr, steps, device=device), w, device=device,
                 what="gradient_descent", mistakes=wrong)


def mse(w, X, y):
    return float(((w[0] + X @ w[1:] - y) ** 2).mean())


def check_fit(student, device, X, y):
    A = torch.cat([torch.ones(len(X), 1, dtype=X.dtype), X], dim=1)
    best = torch.linalg.lstsq(A, y[:, None]).solution.flatten()  # the oracle: least squares
    got = student.call("fit_sales", X, y, device=device)
    trace.expected = t(f"MSE ≤ {mse(best, X, y) * 1.01 + 1e-3:.4g}（最小二乘 {mse(best, X, y):.4g}，"
                       f"w = {describe(best)}）",
                       f"MSE ≤ {mse(best, X, y) * 1.01 + 1e-3:.4g} (least squares {mse(best, X, y):.4g}, "
                       f"w = {describe(best)})")
    trace.got = describe(got)
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (3,):
        raise CheckFailed(t("fit_sales 应返回形状 (3,) 的张量 (w0, w1, w2)",
                            "fit_sales should return a tensor of shape (3,): (w0, w1, w2)"))
    got = got.detach().cpu().to(torch.float64)
    loss = mse(got, X, y)
    trace.got = f"{describe(got)}, MSE {loss:.4g}"
    if loss <= mse(best, X, y) * 1.01 + 1e-3:
        return
    for w, text in mistakes(ref, wrongs_of("linear_regression", "fit_sales"), lambda ns: ns.fit_sales(X, y)):
        if torch.allclose(got, w.to(torch.float64), rtol=1e-3, atol=1e-3):
            raise CheckFailed(text)
    raise CheckFailed(t(f"MSE 为 {loss:.4g}，高于最小二乘的 {mse(best, X, y):.4g}：梯度下降还没有收敛",
                        f"the MSE is {loss:.4g}, above least squares' {mse(best, X, y):.4g}: "
                        "gradient descent has not converged"))


@level("linear_regression")
def test_fit_reaches_least_squares_on_the_seed_table(student, rng, device):
    """fit_sales 在种子的表格上达到最小二乘的 MSE（1% 以内） / fit_sales reaches least squares' MSE on the seed's table (within 1%)"""  # noqa: E501
    check_fit(student, device, *seed_table())


@level("linear_regression")
def test_fit_reaches_least_squares_on_a_new_table(student, rng, device):
    """在评测时生成的新表格上也达到最小二乘 / and on a table drawn at grading time"""
    check_fit(student, device, *sales_table(rng, int(torch.randint(6, 15, (1,), generator=rng))))


# ---------------------------------------------------------------- 2. logistic regression
@level("logistic_regression")
def test_sigmoid_matches_torch(student, rng, device):
    """sigmoid 等于 torch.sigmoid（含很大、很小的 z） / sigmoid equals torch.sigmoid, large |z| included"""
    z = torch.cat([torch.randn(20, generator=rng) * 4, torch.tensor([-30.0, 0.0, 30.0])])
    wrong = mistakes(ref, wrongs_of("logistic_regression", "sigmoid"), lambda ns: ns.sigmoid(z))
    expect_close(student.call("sigmoid", z, device=device), torch.sigmoid(z), device=device, what="sigmoid",
                 mistakes=wrong)


def logistic_data(rng, n):
    """Temperatures and whether one goes out (seed 004's table is of this kind), with overlap."""
    x = torch.randn(n, generator=rng) * 6
    y = (x + torch.randn(n, generator=rng) * 3 > 0).float()
    return x, y


def check_logistic_gradient(student, device, w, b, x, y):
    wv, bv = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
    F.binary_cross_entropy_with_logits(wv * x + bv, y).backward()  # the oracle
    got = student.call("logistic_gradient", w, b, x, y, device=device)
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(isinstance(g, torch.Tensor) for g in got):
        raise CheckFailed(t("logistic_gradient 应返回 (dw, db) 两个张量", "logistic_gradient should return (dw, db), "
                            "two tensors"))
    wrong = mistakes(ref, wrongs_of("logistic_regression", "logistic_gradient"),
                     lambda ns: torch.stack(list(ns.logistic_gradient(w, b, x, y))))
    expect_close(torch.stack([g.reshape(()) for g in got]), torch.stack([wv.grad, bv.grad]), device=device,
                 what="(dw, db)", mistakes=wrong)


@level("logistic_regression")
def test_gradient_matches_autograd_of_bce(student, rng, device):
    """logistic_gradient 等于 autograd 对平均交叉熵的梯度 / logistic_gradient equals autograd of the mean cross-entropy"""  # noqa: E501
    x, y = logistic_data(rng, 12)
    check_logistic_gradient(student, device, torch.randn((), generator=rng), torch.randn((), generator=rng), x, y)


@level("logistic_regression")
def test_gradient_on_the_seed_table(student, rng, device):
    """在种子的气温/是否出门表格上，梯度等于 autograd / on seed 004's temperature / going-out table, the gradient equals autograd's"""  # noqa: E501
    x = torch.tensor([-10.0, 3, -3, 5, -4, 7, -6, 8])
    y = torch.tensor([0.0, 1, 0, 1, 0, 1, 0, 1])
    check_logistic_gradient(student, device, torch.rand((), generator=rng), torch.randn((), generator=rng), x, y)


@level("logistic_regression")
def test_decision_boundary_is_where_p_is_one_half(student, rng, device):
    """决策边界 x0 处 σ(w x0 + b) = 0.5 / at the decision boundary x0, σ(w x0 + b) = 0.5"""
    w, b = torch.randn((), generator=rng) * 2, torch.randn((), generator=rng) * 3
    got = student.call("decision_boundary", w, b, device=device)
    wrong = [(torch.tensor(float(m)), text) for m, text in mistakes(
        ref, wrongs_of("logistic_regression", "decision_boundary"), lambda ns: ns.decision_boundary(w, b))]
    if not isinstance(got, (int, float)) or not math.isfinite(got):
        raise CheckFailed(t(f"decision_boundary 应返回一个数，得到 {describe(got)}",
                            f"decision_boundary should return a number, got {describe(got)}"))
    # The closed check: the probability at the returned x is one half.
    expect_close(torch.sigmoid(w * got + b), torch.tensor(0.5), device=device, what="σ(w x0 + b)",
                 mistakes=[(torch.sigmoid(w * m + b), text) for m, text in wrong])


# ---------------------------------------------------------------- 3. convolution
def conv_cases(rng, count=12):
    cases = []
    while len(cases) < count:
        n, k = int(torch.randint(4, 40, (1,), generator=rng)), int(torch.randint(1, 8, (1,), generator=rng))
        p, s = int(torch.randint(0, 4, (1,), generator=rng)), int(torch.randint(1, 5, (1,), generator=rng))
        if n + 2 * p >= k:
            cases.append((n, k, p, s))
    return cases + [(6, 3, 0, 1), (128, 3, 1, 2), (7, 2, 0, 2)]  # the seed's 6x6 -> 4x4, and two inexact


@level("conv_layers")
def test_conv_output_sizes_match_nn_conv2d(student, rng, device):
    """一张随机情形表：conv_output_size 等于 nn.Conv2d 的实际输出尺寸 / a table of random cases: conv_output_size equals nn.Conv2d's output size"""  # noqa: E501
    cases = conv_cases(rng)
    expected = [nn.Conv2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, n, n)).shape[-1] for n, k, p, s in cases]
    got = [student.call("conv_output_size", n, k, p, s) for n, k, p, s in cases]
    hints = {tuple(w): text for w, text in mistakes(
        ref, wrongs_of("conv_layers", "conv_output_size"),
        lambda ns: [ns.conv_output_size(n, k, p, s) for n, k, p, s in cases])}
    expect_equal(tuple(got), tuple(expected), hints=hints)


def check_conv1x1(student, rng, device, B, C_in, C_out, H, W):
    X = torch.randn(B, C_in, H, W, generator=rng)
    weight, bias = torch.randn(C_out, C_in, generator=rng), torch.randn(C_out, generator=rng)
    conv = nn.Conv2d(C_in, C_out, 1)  # the oracle: PyTorch's convolution with the same weights
    conv.load_state_dict({"weight": weight[:, :, None, None], "bias": bias})
    with torch.no_grad():
        expected = conv(X)
    wrong = mistakes(ref, wrongs_of("conv_layers", "conv1x1"), lambda ns: ns.conv1x1(X, weight, bias))
    expect_close(student.call("conv1x1", X, weight, bias, device=device), expected, device=device,
                 what="conv1x1", mistakes=wrong)


@level("conv_layers")
def test_conv1x1_matches_nn_conv2d(student, rng, device):
    """1×1 卷积等于 nn.Conv2d(C, C, 1)（相同权重） / the 1x1 convolution equals nn.Conv2d(C, C, 1) with the same weights"""  # noqa: E501
    check_conv1x1(student, rng, device, B=2, C_in=4, C_out=4, H=3, W=5)


@level("conv_layers")
def test_conv1x1_changes_the_channel_count(student, rng, device):
    """通道数 3 → 5，空间尺寸不变 / 3 channels -> 5, the spatial size kept"""
    check_conv1x1(student, rng, device, B=3, C_in=3, C_out=5, H=4, W=2)


@level("conv_layers")
def test_global_avg_pool_matches_adaptive_avg_pool(student, rng, device):
    """全局平均池化等于 nn.AdaptiveAvgPool2d(1) / global average pooling equals nn.AdaptiveAvgPool2d(1)"""
    X = torch.randn(2, 3, 4, 6, generator=rng)
    wrong = mistakes(ref, wrongs_of("conv_layers", "global_avg_pool"), lambda ns: ns.global_avg_pool(X))
    expect_close(student.call("global_avg_pool", X, device=device), nn.AdaptiveAvgPool2d(1)(X), device=device,
                 what="global_avg_pool", mistakes=wrong)


# ---------------------------------------------------------------- 4. Cutout, judged by its properties
def run_cutout(ns, image, mask_size, num_masks, seeds):
    """Runs beside the student's code (self-contained): the student's cutout_pil_multi on a PIL image
    made here from `image` (H, W, 3) uint8, once per seed (Python's, NumPy's and torch's random
    seeded). Returns [(the input after the call, the output)] as tensors (or the output's type)."""
    import random

    import numpy as np
    from PIL import Image
    results = []
    for seed in seeds:
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        pil = Image.fromarray(image.numpy())
        out = ns["cutout_pil_multi"](pil, mask_size=mask_size, num_masks=num_masks)
        after = torch.from_numpy(np.array(pil).copy())
        results.append((after, torch.from_numpy(np.array(out).copy()) if isinstance(out, Image.Image)
                        else type(out).__name__))
    return results


def no_black_image(rng, H, W):
    """An RGB image with no pixel at 0 in any channel: every zero after Cutout is a mask's."""
    return torch.randint(1, 256, (H, W, 3), generator=rng, dtype=torch.uint8)


def cutout_outputs(student, rng, H, W, mask_size, num_masks, trials):
    image = no_black_image(rng, H, W)
    seeds = torch.randint(0, 2 ** 31, (trials,), generator=rng).tolist()
    return masked_pixels(student.run(run_cutout, image, mask_size, num_masks, seeds), image)


def masked_pixels(results, image):
    """The blacked-out pixels (H, W) of each of run_cutout's results, after checking that nothing else
    changed: the input left as it was, a PIL image of its shape returned, changed pixels 0 in every channel."""
    zeros = []
    for after, out in results:
        if not torch.equal(after, image):
            raise CheckFailed(message("in_place"))
        if not isinstance(out, torch.Tensor):
            raise CheckFailed(t(f"应返回 PIL 图像，得到 {out}", f"should return a PIL image, got {out}"))
        if tuple(out.shape) != tuple(image.shape):
            raise CheckFailed(t(f"输出图像的形状应为 {tuple(image.shape)}，得到 {tuple(out.shape)}",
                                f"the output image should be {tuple(image.shape)}, got {tuple(out.shape)}"))
        changed = (out != image).any(dim=2)  # (H, W)
        black = (out == 0).all(dim=2)
        if (changed & ~black).any():
            raise CheckFailed(message("first_channel_only") if (changed & (out == 0).any(dim=2)).any() else
                              t("遮挡块外的像素被改动了", "pixels outside the squares were changed"))
        zeros.append(black)
    return zeros


def components(mask):
    """The 4-connected components of a boolean (H, W) mask: [(top, bottom, left, right, pixel count)]."""
    H, W = mask.shape
    seen, found = set(), []
    for start in zip(*[c.tolist() for c in torch.nonzero(mask, as_tuple=True)]):
        if start in seen:
            continue
        stack, pixels = [start], []
        seen.add(start)
        while stack:
            r, c = stack.pop()
            pixels.append((r, c))
            for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if 0 <= nr < H and 0 <= nc < W and (nr, nc) not in seen and bool(mask[nr, nc]):
                    seen.add((nr, nc))
                    stack.append((nr, nc))
        rows, cols = [p[0] for p in pixels], [p[1] for p in pixels]
        found.append((min(rows), max(rows), min(cols), max(cols), len(pixels)))
    return found


def square_spans(length, side):
    """{(first, last): centre} for every centre 0..length-1 of an axis: the pixels a square of `side`
    covers, centre - side // 2 .. centre + side // 2 - 1, clipped to 0..length-1 (side < length)."""
    half = side // 2
    return {(max(0, c - half), min(length, c + half) - 1): c for c in range(length)}


def square_centre(mask, side):
    """The centre (y, x) of the one clipped side x side square that `mask` (H, W) is, or None."""
    H, W = mask.shape
    boxes = components(mask)
    if len(boxes) != 1:
        return None
    top, bottom, left, right, count = boxes[0]
    y, x = square_spans(H, side).get((top, bottom)), square_spans(W, side).get((left, right))
    if y is None or x is None or count != (bottom - top + 1) * (right - left + 1):
        return None
    return y, x


def named_cutout_mistake(results, image, mask_size, num_masks, seeds):
    """The message of the known mistake whose outputs, on the same seeds, are the student's (or None)."""
    import random

    import numpy as np
    state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng():
            for wrong in WRONG.of("cutout"):
                theirs = run_cutout({**vars(ref), **wrong.overrides}, image, mask_size, num_masks, seeds)
                if all(torch.equal(a[1], b[1]) for a, b in zip(results, theirs) if isinstance(a[1], torch.Tensor)):
                    return t(wrong.zh, wrong.en)
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
    return None


@level("cutout")
def test_cutout_squares_are_exact_and_centred_anywhere(student, rng, device):
    """每块恰是 mask_size 的正方形，四条边界处都裁剪；中心遍布非方形图像的整个宽和高 / each square is exactly mask_size, clipped at all four borders; centres range over the whole width and height of a non-square image"""  # noqa: E501
    side = int(torch.randint(4, 7, (1,), generator=rng)) * 2
    H, W = int(torch.randint(36, 45, (1,), generator=rng)), int(torch.randint(84, 97, (1,), generator=rng))
    image = no_black_image(rng, H, W)
    seeds = torch.randint(0, 2 ** 31, (60,), generator=rng).tolist()  # P(a quarter missed) < 4 (3/4)^60
    results = student.run(run_cutout, image, side, 1, seeds)
    zeros = masked_pixels(results, image)
    centres = [square_centre(z, side) for z in zeros]
    trace.expected = t(f"{H}×{W} 的图像上每次一块 {side}×{side}（在边界处裁剪）",
                       f"one {side}x{side} square (clipped at the borders) per call on a {H}x{W} image")
    bad = next((z for z, c in zip(zeros, centres) if c is None), None)
    if bad is None:
        ys, xs = [c[0] for c in centres], [c[1] for c in centres]
        trace.got = t(f"中心的行 {min(ys)}..{max(ys)}，列 {min(xs)}..{max(xs)}",
                      f"centre rows {min(ys)}..{max(ys)}, columns {min(xs)}..{max(xs)}")
        if min(ys) < H / 4 and max(ys) >= 3 * H / 4 and min(xs) < W / 4 and max(xs) >= 3 * W / 4:
            return
    named = named_cutout_mistake(results, image, side, 1, seeds)
    if named:
        raise CheckFailed(named)
    if bad is None:
        raise CheckFailed(t(f"中心没有遍布整幅图像：行 0..{H - 1}、列 0..{W - 1} 都应取到，得到 {trace.got}"
                            f"（PIL 的 image.size 是 (宽, 高)）",
                            f"the centres do not range over the whole image: rows 0..{H - 1} and columns 0..{W - 1} "
                            f"expected, got {trace.got} (PIL's image.size is (width, height))"))
    boxes = components(bad)
    trace.got = t(f"遮挡区域（上、下、左、右、像素数）{boxes}",
                  f"masked regions (top, bottom, left, right, pixels) {boxes}")
    if not boxes:
        raise CheckFailed(t("num_masks = 1 时有一次什么也没有遮挡：中心靠近上边或左边时起点要裁到 0（max(0, ...)）；"
                            "中心落在图像之外则是宽和高弄反了（PIL 的 image.size 是 (宽, 高)）",
                            "with num_masks = 1 a call masked nothing: near the top or left border the start is "
                            "clipped to 0 (max(0, ...)); a centre outside the image means width and height were "
                            "swapped (PIL's image.size is (width, height))"))
    raise CheckFailed(t(f"num_masks = 1 时遮挡的应恰是一块 {side}×{side} 的正方形："
                        f"行 y - {side // 2} .. y + {side // 2 - 1}，列同理，在四条边界处裁剪；得到 {boxes}",
                        f"num_masks = 1 should black out exactly one {side}x{side} square: rows y - {side // 2} .. "
                        f"y + {side // 2 - 1}, the same for columns, clipped at all four borders; got {boxes}"))


@level("cutout")
def test_cutout_draws_num_masks_squares(student, rng, device):
    """遮挡块的个数是 num_masks（重叠的块连在一起，至多 num_masks 个） / num_masks squares (overlapping ones merge: at most num_masks)"""  # noqa: E501
    num_masks, trials = int(torch.randint(2, 5, (1,), generator=rng)), 15
    counts = [len(components(z)) for z in cutout_outputs(student, rng, 96, 96, 8, num_masks, trials)]
    trace.expected = t(f"每次至多 {num_masks} 块，多数恰好 {num_masks} 块", f"at most {num_masks} each time, "
                       f"mostly exactly {num_masks}")
    trace.got = str(counts)
    if max(counts) > num_masks:
        raise CheckFailed(t(f"遮挡块多于 num_masks = {num_masks}：{max(counts)}",
                            f"more squares than num_masks = {num_masks}: {max(counts)}"))
    if sum(c == num_masks for c in counts) < trials // 2:
        raise CheckFailed(message("one_mask") if max(counts) <= 1 else
                          t(f"遮挡块太少：{trials} 次中每次的块数为 {counts}，应多为 {num_masks}",
                            f"too few squares: {counts} over {trials} calls, mostly {num_masks} expected"))


@level("cutout")
def test_cutout_is_random_and_honours_zero_masks(student, rng, device):
    """不同的随机种子给出不同的遮挡；num_masks = 0 时图像不变 / different random seeds mask differently; num_masks = 0 leaves the image as it was"""  # noqa: E501
    first, second = cutout_outputs(student, rng, 40, 40, 8, 1, trials=2)
    if torch.equal(first, second):
        raise CheckFailed(t("两次调用遮挡了同一处：中心应随机选取（random.randint）",
                            "two calls masked the same place: draw the centre at random (random.randint)"))
    if any(z.any() for z in cutout_outputs(student, rng, 30, 20, 8, 0, trials=1)):
        raise CheckFailed(t("num_masks = 0 时不应遮挡", "num_masks = 0 should mask nothing"))


# ---------------------------------------------------------------- 5. seed 004's CNN, trained
def initial_weights(rng):
    """PyTorch's default initialisation of the seed's CNN, drawn from rng: U(-1/sqrt(fan_in), ...)."""
    weights = {}
    net = ref.CNNmodel()
    for name, value in net.state_dict().items():
        layer = dict(net.named_modules())[name.rsplit(".", 1)[0]]
        bound = 1 / math.sqrt(layer.weight[0].numel())
        weights[name] = (torch.rand(value.shape, generator=rng) * 2 - 1) * bound
    return weights


def reference_forward(state, X, device="cpu"):
    net = ref.CNNmodel()
    net.load_state_dict(state)
    with torch.no_grad():
        return net.to(device)(X.to(device)).cpu()


def check_cnn_forward(student, rng, device, B, H, W, train=False):
    """CNNmodel holding the judge's weights equals the seed's model on (B, 3, H, W) images, in eval mode
    (or in train mode, torch's random seeded: the seed's model has no dropout nor batch statistics)."""
    state = {k: v * 3 for k, v in initial_weights(rng).items()}  # larger weights: a livelier output
    X = torch.randn(B, 3, H, W, generator=rng)
    seed = int(torch.randint(0, 2 ** 31, (1,), generator=rng))
    module = student.call("CNNmodel")
    keys = student.method(module, "state_dict")
    if not isinstance(keys, dict) or {k: tuple(v.shape) for k, v in keys.items()} != \
            {k: tuple(v.shape) for k, v in state.items()}:
        raise CheckFailed(t(f"CNNmodel 的参数名或形状与种子的模型不同：应为 {sorted(state)}",
                            f"CNNmodel's parameter names or shapes differ from the seed's model: {sorted(state)} "
                            "expected"))
    student.method(module, "load_state_dict", state)
    student.method(module, "train" if train else "eval")
    student.method(module, "to", device)
    got = student.run(seeded_call, module, (X,), seed, device=device)

    def compute(ns):
        net = ns.CNNmodel()
        net.load_state_dict(state)
        return seeded(seed, lambda: net.train(train)(X))
    wrong = mistakes(ref, WRONG.of("cnn_training"), compute)
    expect_close(got, reference_forward(state, X), device=device, what="CNNmodel", mistakes=wrong)


@level("cnn_training")
def test_cnn_forward_matches_the_seed_model(student, rng, device):
    """相同权重下，CNNmodel 在 32×32 图像上的输出等于种子的模型 / with the same weights, CNNmodel's output on 32x32 images equals the seed's model"""  # noqa: E501
    check_cnn_forward(student, rng, device, B=4, H=32, W=32)


@level("cnn_training")
def test_cnn_forward_on_other_sizes(student, rng, device):
    """全局平均池化让任意尺寸的图像都能输入（64×48） / global average pooling takes any image size (64x48)"""
    check_cnn_forward(student, rng, device, B=2, H=64, W=48)


@level("cnn_training")
def test_cnn_forward_is_the_same_in_train_mode(student, rng, device):
    """训练模式下输出不变：种子的模型没有 dropout 或批量统计 / the same output in train mode: the seed's model has no dropout nor batch statistics"""  # noqa: E501
    check_cnn_forward(student, rng, device, B=4, H=32, W=32, train=True)


def train_cnn(ns, state_dict, X, y, lr, steps, batch_size):
    """Runs beside the student's code (self-contained: it travels as source): the student's CNNmodel
    from the judge's initial weights, trained with Adam on binary cross-entropy over minibatches of
    (X, y) in order, on one thread. Returns the trained state_dict."""
    net = ns["CNNmodel"]()
    net.load_state_dict(state_dict)
    net.train()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for step in range(steps):
            start = step * batch_size % len(X)
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            loss = torch.nn.functional.binary_cross_entropy(net(xb), yb[:, None])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    return net.state_dict()


@level("cnn_training")
def test_cnn_learns_generated_images(student, rng, device):
    """你的 CNNmodel 训练后，在评测时新生成的图像上准确率高于阈值 / your CNNmodel, trained, classifies images generated at grading time above the threshold"""  # noqa: E501
    weights = initial_weights(rng)
    X, y = ref.make_images(NUM_TRAIN, rng)
    trained = student.run(train_cnn, weights, X, y, *TRAINING.values(), device="cpu")
    if not isinstance(trained, dict) or {k: tuple(v.shape) for k, v in trained.items() if isinstance(
            v, torch.Tensor)} != {k: tuple(v.shape) for k, v in weights.items()}:
        raise CheckFailed(t("训练后的 state_dict 的名字或形状不对",
                            "the trained state_dict has the wrong names or shapes"))
    # Held-out images, never sent to the student's side; the accuracy is measured here by the reference.
    X_test, y_test = ref.make_images(NUM_HELD_OUT, rng)
    accuracy = float(((reference_forward(trained, X_test)[:, 0] >= 0.5).float() == y_test).float().mean())
    expect_equal(f"accuracy {'>=' if accuracy >= ACCURACY_THRESHOLD else '<'} {ACCURACY_THRESHOLD}",
                 f"accuracy >= {ACCURACY_THRESHOLD}",
                 hints={f"accuracy < {ACCURACY_THRESHOLD}": t(
                     f"训练后在新图像上的准确率为 {accuracy:.3f}，低于 {ACCURACY_THRESHOLD}：检查 CNNmodel",
                     f"the accuracy on new images after training is {accuracy:.3f}, below {ACCURACY_THRESHOLD}: "
                     "check CNNmodel")})
