"""Hidden checks of 07_transformer: the position-wise FFN, AddNorm, positional encoding, the encoder
block, the decoder's masked self-attention, and the quiz.

Every module is built on the student's side from weights the judge draws from `rng` and loads with
`load_state_dict`; the expected values come from the reference and from independent oracles:
nn.Conv1d with kernel 1 (the FFN), LayerNorm written out (AddNorm), the sine/cosine formula in
float64 (positional encoding), nn.TransformerEncoderLayer (post-norm, ReLU, dropout 0) and
nn.MultiheadAttention with a causal mask, holding the same weights mapped into their layout.
Shapes: B batch, T time steps, D features (num_hiddens), F the FFN's hidden units, h heads.
"""
import math

import torch
from torch import nn

import course_config
import reference_solutions.transformer as ref
from autograder.checking import (CheckFailed, dropout_measured, expect_close, expect_dropped_out, expect_shape_of,
                                 level, mistakes, name_the_mistake, rate_bound, seeded, seeded_call, tolerance, trace)
from autograder.messages import t
from autograder.checks import quiz
from reference_solutions.known_wrong.transformer import WRONG


# ---------------------------------------------------------------- shared
def draw_like(rng, module, scale=0.4) -> dict:
    """Random weights for `module` (a reference module of the right sizes): {name: tensor}."""
    return {k: torch.randn(v.shape, generator=rng) * scale for k, v in module.state_dict().items()}


def build(student, device, name, args, state, train=False):
    """The student's `name(*args)` with `state` loaded, in eval (or train) mode, on `device`."""
    module = student.call(name, *args)
    if state is not None:  # (PositionalEncoding has no weights: its table may be a plain attribute or a buffer)
        student.method(module, "load_state_dict", state)
    student.method(module, "train" if train else "eval")
    student.method(module, "to", device)
    return module


def module_mistakes(level_name, name, args, state, run, train=False):
    """[(run(wrong module holding `state`), message)] for the level's known-wrong modules."""
    def compute(ns):
        module = getattr(ns, name)(*args)
        if state is not None:
            module.load_state_dict(state)
        return run(module.train(train))
    return mistakes(ref, [w for w in WRONG.of(level_name) if name in w.overrides], compute)


def in_train_mode(student, rng, device, level_name, name, args, state, inputs):
    """The student's module in train mode on `inputs`, torch's random seeded by a seed drawn from rng,
    and the known-wrong modules' outputs on the same seed (mistakes, as for module_mistakes)."""
    seed = int(torch.randint(0, 2 ** 31, (1,), generator=rng))
    module = build(student, device, name, args, state, train=True)
    got = student.run(seeded_call, module, inputs, seed, device=device)
    return got, module_mistakes(level_name, name, args, state, lambda m: seeded(seed, lambda: m(*inputs)), train=True)


def check_module(student, device, level_name, name, args, state, inputs, oracle, train=False):
    """The student's module on `inputs` equals the reference and `oracle` (computed here)."""
    module = build(student, device, name, args, state, train)
    got = student.method(module, "__call__", *inputs, device=device)
    reference = getattr(ref, name)(*args)
    if state is not None:
        reference.load_state_dict(state)
    with torch.no_grad():
        expected = reference.train(train)(*inputs)
    expect_close(got, expected, device=device,
                 mistakes=module_mistakes(level_name, name, args, state, lambda m: m(*inputs), train))
    expect_close(got, oracle, device=device)


# ---------------------------------------------------------------- 1. PositionWiseFFN
def conv1d_ffn(state, X):
    """The FFN as two 1x1 convolutions over the time axis: the same MLP at every position."""
    F_, D = state["dense1.weight"].shape
    conv1, conv2 = nn.Conv1d(D, F_, 1), nn.Conv1d(F_, state["dense2.weight"].shape[0], 1)
    with torch.no_grad():
        conv1.weight.copy_(state["dense1.weight"][:, :, None])
        conv1.bias.copy_(state["dense1.bias"])
        conv2.weight.copy_(state["dense2.weight"][:, :, None])
        conv2.bias.copy_(state["dense2.bias"])
        return conv2(torch.relu(conv1(X.transpose(1, 2)))).transpose(1, 2)  # (B, T, out)


def check_ffn(student, rng, device, D, F_, out, X):
    state = draw_like(rng, ref.PositionWiseFFN(D, F_, out))
    check_module(student, device, "position_wise_ffn", "PositionWiseFFN", (D, F_, out), state, (X,),
                 conv1d_ffn(state, X))


@level("position_wise_ffn")
def test_ffn_matches_1x1_convolutions(student, rng, device):
    """等于两个 1x1 卷积（映射相同权重） / equals two 1x1 convolutions with the same weights"""
    check_ffn(student, rng, device, 6, 10, 6, torch.randn(2, 5, 6, generator=rng))


@level("position_wise_ffn")
def test_ffn_output_size_differs(student, rng, device):
    """输出维度与输入不同 / an output size other than the input's"""
    check_ffn(student, rng, device, 8, 16, 5, torch.randn(3, 7, 8, generator=rng) * 2)


@level("position_wise_ffn")
def test_ffn_same_output_at_every_position(student, rng, device):
    """d2l 的例子：输入全 1 时每个位置输出相同 / d2l's example: all-ones inputs give one output at every position"""
    check_ffn(student, rng, device, 4, 4, 8, torch.ones(2, 3, 4))


@level("position_wise_ffn")
def test_ffn_is_the_same_in_train_mode(student, rng, device):
    """训练模式下输出不变：FFN 本身没有 dropout / the same output in train mode: the FFN has no dropout of its own"""
    D, F_ = 8, 32
    state = draw_like(rng, ref.PositionWiseFFN(D, F_, D))
    X = torch.randn(4, 6, D, generator=rng)
    got, wrong = in_train_mode(student, rng, device, "position_wise_ffn", "PositionWiseFFN", (D, F_, D), state, (X,))
    expect_close(got, conv1d_ffn(state, X), device=device, mistakes=wrong)


# ---------------------------------------------------------------- 2. AddNorm
def layer_norm(Z, weight, bias, eps=1e-5):
    """LayerNorm over the last axis, written out in float64."""
    Z = Z.double()
    mean = Z.mean(dim=-1, keepdim=True)
    var = ((Z - mean) ** 2).mean(dim=-1, keepdim=True)
    return ((Z - mean) / torch.sqrt(var + eps) * weight.double() + bias.double()).float()


def check_add_norm(student, rng, device, B, T, D, dropout, train=False, shape=None, scale=1.0):
    state = {"ln.weight": 1 + torch.randn(D, generator=rng) * 0.3, "ln.bias": torch.randn(D, generator=rng) * 0.3}
    X, Y = torch.randn(B, T, D, generator=rng) * scale + scale, torch.randn(B, T, D, generator=rng) * scale
    dropped = torch.zeros_like(Y) if train else Y  # train with dropout 1: Y is dropped entirely
    check_module(student, device, "add_norm", "AddNorm", (shape or D, dropout), state, (X, Y),
                 layer_norm(X + dropped, state["ln.weight"], state["ln.bias"]), train)


@level("add_norm")
def test_add_norm_eval(student, rng, device):
    """eval 模式：LayerNorm(X + Y)（dropout 不起作用） / eval mode: LayerNorm(X + Y), dropout off"""
    check_add_norm(student, rng, device, 2, 3, 4, 0.5)


@level("add_norm")
def test_add_norm_dropout_on_the_sublayer(student, rng, device):
    """训练模式、dropout=1：Y 被全部丢弃，输出为 LayerNorm(X) / train mode, dropout=1: Y is dropped, LayerNorm(X)"""
    check_add_norm(student, rng, device, 3, 4, 6, 1.0, train=True)


@level("add_norm")
def test_add_norm_list_shape_large_values(student, rng, device):
    """normalized_shape 为列表 [D]，数值较大 / normalized_shape given as a list [D], large values"""
    check_add_norm(student, rng, device, 4, 5, 8, 0.2, shape=[8], scale=10.0)


def expect_rows_dropped_through_norm(got, X, Y, weight, bias, p, device, mistakes=()):
    """`got` = LayerNorm(X + Dropout_p(Y)) in train mode, where each row of Y holds one non-zero:
    every row is LN(X) (dropped) or LN(X + Y/(1-p)) (kept, rescaled), which settles the scale
    exactly through the LayerNorm; the fraction of rows dropped is p within rate_bound."""
    expect_shape_of(got, X)
    atol, rtol = tolerance(device)
    got = got.detach().cpu().float()
    scale = 1 / (1 - p)
    trace.expected = t(f"每行为 LN(X) 或 LN(X + Y×{scale:g})，约 {p:.0%} 为前者",
                       f"each row LN(X) or LN(X + Y x {scale:g}), about {p:.0%} the first")

    def rows_equal(scales):  # (K,) scales of Y -> (K, B, T): whether each row is LN(X + s Y)
        outs = layer_norm(X + scales.view(-1, 1, 1, 1) * Y, weight, bias)  # (K, B, T, D)
        return torch.isclose(got, outs, atol=atol, rtol=rtol).all(dim=-1)

    dropped, kept = rows_equal(torch.tensor([0.0, scale]))
    n = dropped.numel()
    bound = rate_bound(n)
    if (dropped | kept).all() and abs(dropped.float().mean().item() - p) <= bound:
        return
    name_the_mistake(got, mistakes, atol, rtol)
    neither = t(f"训练模式下每行应为 LayerNorm(X) 或 LayerNorm(X + Y/(1-p))：{int((~(dropped | kept)).sum())}/{n} "
                f"行两者都不是", f"in train mode each row is LayerNorm(X) or LayerNorm(X + Y/(1-p)): "
                f"{int((~(dropped | kept)).sum())} of {n} rows are neither")
    measured = scale
    if not (dropped | kept).all():  # the scale of Y each row took, to 0.01 (0 ... 4): what the dropout did
        grid = torch.linspace(0, 4, 401)
        outs = layer_norm(X + grid.view(-1, 1, 1, 1) * Y, weight, bias)  # (401, B, T, D)
        error, best = (outs - got).abs().amax(dim=-1).min(dim=0)  # (B, T): the closest scale's
        if not (error <= 0.05).all():
            raise CheckFailed(neither)
        dropped = grid[best] == 0
        measured = float(grid[best][~dropped].median()) if (~dropped).any() else 0.0
    zh, en = dropout_measured(measured, dropped.float().mean().item(), p, n, ("行", "row"))
    raise CheckFailed(t("；".join(zh), "; ".join(en)) if en else neither)


@level("add_norm")
def test_add_norm_dropout_rate_and_scale(student, rng, device):
    """训练模式、dropout=0.5：约一半的 Y 被丢弃，保留的乘以 1/(1-p) / train mode, dropout=0.5: about half of Y dropped, the kept scaled by 1/(1-p)"""  # noqa: E501
    p, state, X, Y = add_norm_dropout_case(rng)
    got, wrong = in_train_mode(student, rng, device, "add_norm", "AddNorm", (X.shape[-1], p), state, (X, Y))
    expect_rows_dropped_through_norm(got, X, Y, state["ln.weight"], state["ln.bias"], p, device, wrong)


def add_norm_dropout_case(rng, B=32, T=32, D=8, p=0.5):
    """(p, state, X, Y): B x T rows (1,024), each row of Y one non-zero (|y| in [1, 3]), so that a
    row is kept or dropped whole and LayerNorm cannot hide the scale."""
    state = {"ln.weight": 1 + torch.randn(D, generator=rng) * 0.3, "ln.bias": torch.randn(D, generator=rng) * 0.3}
    X = torch.randn(B, T, D, generator=rng)
    size = (1 + 2 * torch.rand(B, T, 1, generator=rng)) * torch.sign(torch.randn(B, T, 1, generator=rng))
    Y = torch.zeros(B, T, D).scatter_(-1, torch.randint(0, D, (B, T, 1), generator=rng), size)
    return p, state, X, Y


# ---------------------------------------------------------------- 3. PositionalEncoding
def sinusoid_table(T, D):
    """P[pos, 2i] = sin(pos / 10000^(2i/D)), P[pos, 2i+1] = cos(...): the formula, one entry at a time."""
    P = torch.zeros(T, D, dtype=torch.float64)
    for pos in range(T):
        for i in range(0, D, 2):
            angle = pos / 10000 ** (i / D)
            P[pos, i] = math.sin(angle)
            P[pos, i + 1] = math.cos(angle)
    return P.float()


def check_encoding(student, device, D, max_len, X):
    args = (D, 0.5, max_len)
    check_module(student, device, "positional_encoding", "PositionalEncoding", args, None, (X,),
                 X + sinusoid_table(X.shape[1], D))


@level("positional_encoding")
def test_encoding_of_zeros_is_the_table(student, rng, device):
    """输入全 0 时输出就是位置编码表 P（eval 模式） / on zeros the output is the table P (eval mode)"""
    check_encoding(student, device, 16, 1000, torch.zeros(1, 20, 16))


@level("positional_encoding")
def test_encoding_is_added_to_the_input(student, rng, device):
    """X + P[:, :T, :]，随机输入 / X + P[:, :T, :] on random inputs"""
    check_encoding(student, device, 32, 100, torch.randn(3, 40, 32, generator=rng))


@level("positional_encoding")
def test_encoding_as_long_as_max_len(student, rng, device):
    """序列长度等于 max_len / a sequence as long as max_len"""
    check_encoding(student, device, 8, 12, torch.randn(2, 12, 8, generator=rng))


@level("positional_encoding")
def test_encoding_dropout_acts_on_x_plus_p(student, rng, device):
    """训练模式：dropout 作用在 X + P 上，每个元素为 0 或 (X + P)/(1 - p) / train mode: dropout acts on X + P, each element 0 or (X + P)/(1 - p)"""  # noqa: E501
    p, X, kept = encoding_dropout_case(rng)
    got, wrong = in_train_mode(student, rng, device, "positional_encoding", "PositionalEncoding",
                               (X.shape[-1], p, 100), None, (X,))
    expect_dropped_out(got, kept, p, device=device, mistakes=wrong)


def encoding_dropout_case(rng, B=3, T=40, D=32, p=0.5):
    """(p, X, kept = X + P): 3,840 elements, the rate within checking.rate_bound (4.3%: a right answer
    rejected at most once in 10^6 gradings); the scale is exact."""
    X = torch.randn(B, T, D, generator=rng)
    return p, X, X + sinusoid_table(T, D)


# ---------------------------------------------------------------- 4. EncoderBlock
def encoder_args(D, F_, h, use_bias, dropout=0.5):
    """EncoderBlock's arguments, d2l's order: key/query/value sizes, num_hiddens, norm_shape, FFN sizes, heads."""
    return (D, D, D, D, [D], D, F_, h, dropout, use_bias)


def oracle_encoder_layer(state, D, F_, h):
    """nn.TransformerEncoderLayer (post-norm, ReLU, dropout 0) holding `state` (d2l's names) mapped."""
    layer = nn.TransformerEncoderLayer(D, h, dim_feedforward=F_, dropout=0.0, batch_first=True).eval()

    def bias(name):
        return state.get(f"attention.{name}.bias", torch.zeros(D))
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(torch.cat([state[f"attention.{w}.weight"] for w in ("W_q", "W_k", "W_v")]))
        layer.self_attn.in_proj_bias.copy_(torch.cat([bias(w) for w in ("W_q", "W_k", "W_v")]))
        layer.self_attn.out_proj.weight.copy_(state["attention.W_o.weight"])
        layer.self_attn.out_proj.bias.copy_(bias("W_o"))
        for ours, theirs in (("ffn.dense1", "linear1"), ("ffn.dense2", "linear2"),
                             ("addnorm1.ln", "norm1"), ("addnorm2.ln", "norm2")):
            getattr(layer, theirs).weight.copy_(state[f"{ours}.weight"])
            getattr(layer, theirs).bias.copy_(state[f"{ours}.bias"])
    return layer


def check_encoder(student, rng, device, B, T, D, F_, h, valid_lens, use_bias=True):
    args = encoder_args(D, F_, h, use_bias)
    state = draw_like(rng, ref.EncoderBlock(*args))
    X = torch.randn(B, T, D, generator=rng)
    padding = None if valid_lens is None else torch.arange(T)[None, :] >= valid_lens[:, None]  # True = ignore
    with torch.enable_grad():  # the layer's reference path, not its fused inference path
        oracle = oracle_encoder_layer(state, D, F_, h)(X, src_key_padding_mask=padding).detach()
    check_module(student, device, "encoder_block", "EncoderBlock", args, state, (X, valid_lens), oracle)


@level("encoder_block")
def test_encoder_block_matches_nn_transformer_encoder_layer(student, rng, device):
    """等于 nn.TransformerEncoderLayer（post-norm、ReLU、映射相同权重），各样本 valid_lens 不同 / equals nn.TransformerEncoderLayer (post-norm, ReLU) with the same weights, valid_lens per example"""  # noqa: E501
    check_encoder(student, rng, device, 3, 5, 8, 16, 2, torch.tensor([2, 5, 3]))


@level("encoder_block")
def test_encoder_block_without_valid_lens(student, rng, device):
    """valid_lens=None，3 个头 / valid_lens=None, 3 heads"""
    check_encoder(student, rng, device, 2, 6, 12, 20, 3, None)


@level("encoder_block")
def test_encoder_block_without_bias(student, rng, device):
    """use_bias=False（注意力的投影没有偏置） / use_bias=False: the attention's projections have no bias"""
    check_encoder(student, rng, device, 2, 4, 8, 8, 4, torch.tensor([1, 3]), use_bias=False)


@level("encoder_block")
def test_encoder_block_drops_the_sublayers_not_the_residuals(student, rng, device):
    """训练模式、dropout=1：两个子层的输出被全部丢弃，只剩残差：LayerNorm2(LayerNorm1(X)) / train mode, dropout=1: both sublayers' outputs are dropped, only the residuals remain: LayerNorm2(LayerNorm1(X))"""  # noqa: E501
    D, F_, h = 8, 16, 2
    args = encoder_args(D, F_, h, True, dropout=1.0)
    state = draw_like(rng, ref.EncoderBlock(*args))
    state.update({f"addnorm{i}.ln.{name}": base + torch.randn(D, generator=rng) * 0.3
                  for i in (1, 2) for name, base in (("weight", 1), ("bias", 0))})
    X = torch.randn(3, 5, D, generator=rng) * 2
    Y = layer_norm(X, state["addnorm1.ln.weight"], state["addnorm1.ln.bias"])
    oracle = layer_norm(Y, state["addnorm2.ln.weight"], state["addnorm2.ln.bias"])
    check_module(student, device, "encoder_block", "EncoderBlock", args, state, (X, torch.tensor([2, 5, 3])), oracle,
                 train=True)


@level("encoder_block")
def test_encoder_block_dropout_rates_and_scales(student, rng, device):
    """训练模式、dropout=0.5：两个 AddNorm 各丢弃约一半的子层输出，保留的乘以 1/(1-p) / train mode, dropout=0.5: each AddNorm drops about half of its sublayer's output, the kept scaled by 1/(1-p)"""  # noqa: E501
    p, args, state, X, valid_lens = encoder_dropout_case(rng)
    got, wrong = in_train_mode(student, rng, device, "encoder_block", "EncoderBlock", args, state, (X, valid_lens))
    expect_encoder_rows(got, X, state, p, device, wrong)


def encoder_dropout_case(rng, B=32, T=32, D=8, F_=16, h=2, p=0.5):
    """(p, args, state, X, valid_lens): the attention's output is W_o's bias alone (W_o's weight 0)
    and the FFN's is dense2's bias alone, each with one non-zero, so that each AddNorm keeps or
    drops a row's sublayer output whole and the LayerNorms cannot hide the scale: B x T = 1,024
    rows, each site's rate within checking.rate_bound (8.4%)."""
    args = encoder_args(D, F_, h, True, dropout=p)
    state = draw_like(rng, ref.EncoderBlock(*args))
    for weight, bias in (("attention.W_o.weight", "attention.W_o.bias"), ("ffn.dense2.weight", "ffn.dense2.bias")):
        state[weight] = torch.zeros_like(state[weight])
        size = (1 + 2 * torch.rand(1, generator=rng)) * torch.sign(torch.randn(1, generator=rng))
        state[bias] = torch.zeros(D).index_fill_(0, torch.randint(0, D, (1,), generator=rng), size.item())
    state.update({f"addnorm{i}.ln.{name}": base + torch.randn(D, generator=rng) * 0.3
                  for i in (1, 2) for name, base in (("weight", 1), ("bias", 0))})
    return p, args, state, torch.randn(B, T, D, generator=rng), torch.randint(1, T + 1, (B,), generator=rng)


def expect_encoder_rows(got, X, state, p, device, mistakes=()):
    """`got` = AddNorm2(Y, FFN(Y)) with Y = AddNorm1(X, attention), in train mode, where the attention
    gives the constant A and the FFN the constant F (encoder_dropout_case): every row is
    LN2(LN1(X + a A) + f F) with a and f each 0 (dropped) or 1/(1-p) (kept, rescaled), and each
    AddNorm's fraction of rows dropped is p within rate_bound. Where it is not, the message says
    which AddNorm, the scale it kept with and the fraction it dropped, among the usual mistakes'
    scales (1, 1/(1-p/2), 1/(1-p)^2)."""
    expect_shape_of(got, X)
    atol, rtol = tolerance(device)
    got = got.detach().cpu().float()
    scale = 1 / (1 - p)
    A, F = state["attention.W_o.bias"], state["ffn.dense2.bias"]
    trace.expected = t(f"每行为 LN2(LN1(X + a·A) + f·F)，a、f 为 0 或 {scale:g}，各约 {p:.0%} 为 0",
                       f"each row LN2(LN1(X + a A) + f F), a and f 0 or {scale:g}, each about {p:.0%} 0")
    n, bound = got.shape[:-1].numel(), rate_bound(got.shape[:-1].numel())

    def scales_taken(scales):  # the scale (a, f) each row took among `scales`: (B, T) each, nan for none
        a_of, f_of = torch.full(got.shape[:-1], float("nan")), torch.full(got.shape[:-1], float("nan"))
        for a in scales:
            Y = layer_norm(X + a * A, state["addnorm1.ln.weight"], state["addnorm1.ln.bias"])
            for f in scales:
                out = layer_norm(Y + f * F, state["addnorm2.ln.weight"], state["addnorm2.ln.bias"])
                match = torch.isclose(got, out, atol=atol, rtol=rtol).all(dim=-1) & a_of.isnan()
                a_of[match], f_of[match] = a, f
        return a_of, f_of

    a_of, f_of = scales_taken((0.0, scale))
    if not a_of.isnan().any() and all(abs((kept == 0).float().mean().item() - p) <= bound for kept in (a_of, f_of)):
        return
    a_of, f_of = scales_taken(sorted({0.0, 1.0, 1 / (1 - p / 2), scale, scale ** 2}))
    sites = [(a_of, ("第一个", "the first")), (f_of, ("第二个", "the second"))]
    name_the_mistake(got, mistakes, atol, rtol)
    if a_of.isnan().any():
        raise CheckFailed(t(
            f"训练模式下每个 AddNorm 的子层输出应整体保留（乘以 1/(1-p)）或丢弃：{int(a_of.isnan().sum())}/{n} 行"
            f"不是 LN2(Y + Dropout(FFN(Y)))，Y = LN1(X + Dropout(注意力))",
            f"in train mode each AddNorm keeps its sublayer's output (scaled by 1/(1-p)) or drops it: "
            f"{int(a_of.isnan().sum())} of {n} rows are not LN2(Y + Dropout(FFN(Y))) with "
            f"Y = LN1(X + Dropout(attention))"))
    zh, en = [], []
    for kept, (zh_site, en_site) in sites:
        measured = kept[kept > 0].median().item() if (kept > 0).any() else 0
        said = dropout_measured(measured, (kept == 0).float().mean().item(), p, n, ("行", "row"),
                                (f"{zh_site} AddNorm ", f"{en_site} AddNorm "))
        zh, en = zh + said[0], en + said[1]
    raise CheckFailed(t("；".join(zh), "; ".join(en)))


# ---------------------------------------------------------------- 5. the decoder's masked self-attention
def check_masked(student, rng, device, B, T, D, h):
    sizes = (D, D, D, D, h, 0.5)
    attention = ref.MultiHeadAttention(*sizes, bias=True).eval()
    state = draw_like(rng, attention)
    attention.load_state_dict(state)
    X = torch.randn(B, T, D, generator=rng)
    handle = student.call("MultiHeadAttention", *sizes, bias=True)
    student.method(handle, "load_state_dict", state)
    student.method(handle, "eval")
    student.method(handle, "to", device)
    got = student.call("decoder_self_attention", handle, X, device=device)
    with torch.no_grad():
        expected = ref.decoder_self_attention(attention, X)
    expect_close(got, expected, device=device, mistakes=mistakes(
        ref, WRONG.of("masked_self_attention"), lambda ns: ns.decoder_self_attention(attention, X)))
    oracle = nn.MultiheadAttention(D, h, batch_first=True).eval()
    with torch.no_grad():
        oracle.in_proj_weight.copy_(torch.cat([state[f"{w}.weight"] for w in ("W_q", "W_k", "W_v")]))
        oracle.in_proj_bias.copy_(torch.cat([state[f"{w}.bias"] for w in ("W_q", "W_k", "W_v")]))
        oracle.out_proj.weight.copy_(state["W_o.weight"])
        oracle.out_proj.bias.copy_(state["W_o.bias"])
        future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)  # True: a later position, hidden
        expected, _ = oracle(X, X, X, attn_mask=future, need_weights=False)
    expect_close(got, expected, device=device)
    return got, state, X


@level("masked_self_attention")
def test_masked_self_attention_matches_a_causal_mask(student, rng, device):
    """等于带因果掩码的 nn.MultiheadAttention（映射相同权重） / equals nn.MultiheadAttention with a causal mask and the same weights"""  # noqa: E501
    check_masked(student, rng, device, 2, 5, 8, 2)


@level("masked_self_attention")
def test_masked_self_attention_longer_batch(student, rng, device):
    """更大的批量和更长的序列 / a larger batch, a longer sequence"""
    check_masked(student, rng, device, 4, 9, 12, 3)


@level("masked_self_attention")
def test_first_position_sees_only_itself(student, rng, device):
    """第一个位置只注意它自己：输出为 W_o(W_v x_0) / the first position attends to itself only: W_o(W_v x_0)"""
    got, state, X = check_masked(student, rng, device, 3, 4, 6, 2)
    values = X[:, 0] @ state["W_v.weight"].T + state["W_v.bias"]  # (B, D): every head's weight on x_0 is 1
    expect_close(got[:, 0], values @ state["W_o.weight"].T + state["W_o.bias"], device=device, what="output[:, 0]")


# ---------------------------------------------------------------- 6. the quiz
# name: (level, kind, options, the check's name in the verdict table); the key is the reference's
# value of `name` (reference_solutions/transformer.py, the one place it is written)
QUESTIONS = {
    "num_z_matrices": ("transformer_quiz", "number", "", "8 个头得到几个 Z / how many Z matrices from 8 heads"),
    "z_shape": ("transformer_quiz", "shape", "", "每个头的 Z / each head's Z"),
    "concat_shape": ("transformer_quiz", "shape", "", "拼接后 / after concatenation"),
    "W_o_shape": ("transformer_quiz", "shape", "", "W_o"),
    "why_divide_by_8": ("transformer_quiz", "single", "ABCD", "为什么除以 8 / why divide by 8"),
    "enc_dec_queries": ("transformer_quiz", "single", "ABCD",
                        "编码器-解码器注意力的 Q、K、V / encoder-decoder attention's Q, K, V"),
    "enc_dec_weights_shape": ("transformer_quiz", "shape", "",
                              "编码器-解码器注意力权重的形状 / encoder-decoder attention weights' shape"),
    "enc_dec_output_shape": ("transformer_quiz", "shape", "",
                             "编码器-解码器注意力输出的形状 / encoder-decoder attention output's shape"),
    "why_decoder_mask": ("transformer_quiz", "single", "ABCD", "解码器为什么要遮蔽 / why the decoder masks"),
    "why_add_norm": ("transformer_quiz", "multiple", "ABCD", "残差与层规范化（多选） / residuals and LayerNorm"),
}

VARIANTS = course_config.assignment("transformer").folder  # each student's own order (show_questions cells)

quiz.register(QUESTIONS, ref, WRONG, globals(), variants=VARIANTS)
