"""Hidden checks of 01_multihead_attention: values against the reference and independent oracles.

Shapes: B batch, Q queries, K key-value pairs, D features, h heads. Inputs are drawn from `rng`
(seeded per check), so hard-coded outputs cannot pass and a grade is reproducible.
"""
import torch
from torch import nn
from torch.nn import functional as F

import reference_solutions.multihead_attention as ref
from autograder.checking import (
    CheckFailed,
    built_and_called,
    expect_close,
    expect_dropped_out,
    expect_equal,
    level,
    mistakes,
    seeded,
)
from autograder.messages import t
from reference_solutions.known_wrong.multihead_attention import WRONG


def random_lens(rng, shape, K):
    return torch.randint(1, K + 1, shape, generator=rng)


def key_mask(valid_lens, B, Q, K):
    """(B, Q, K) True where a key is valid: the oracle's view of valid_lens."""
    lens = valid_lens if valid_lens.dim() == 2 else valid_lens[:, None].expand(B, Q)
    return torch.arange(K)[None, None, :] < lens[:, :, None]


def oracle_masked_softmax(X, valid_lens):
    """Softmax over the valid prefix of every row, written as a plain loop."""
    B, Q, K = X.shape
    out = torch.zeros_like(X)
    mask = key_mask(valid_lens, B, Q, K)
    for b in range(B):
        for q in range(Q):
            n = int(mask[b, q].sum())
            out[b, q, :n] = torch.softmax(X[b, q, :n], dim=-1)
    return out


# ---------------------------------------------------------------- masked_softmax
def check_masked_softmax(student, device, X, valid_lens):
    got = student.call("masked_softmax", X, valid_lens, device=device)
    expect_close(got, ref.masked_softmax(X, valid_lens), device=device, mistakes=mistakes(
        ref, WRONG.of("masked_softmax"), lambda ns: ns.masked_softmax(X, valid_lens)))
    return got


@level("masked_softmax")
def test_masked_softmax_1d(student, rng, device):
    """一维 valid_lens（每个样本一个长度） / 1-D valid_lens (one length per example)"""
    X = torch.rand(3, 4, 7, generator=rng)
    lens = torch.tensor([2, 7, 4])
    got = check_masked_softmax(student, device, X, lens)
    expect_close(got, oracle_masked_softmax(X, lens), device=device)


@level("masked_softmax")
def test_masked_softmax_2d(student, rng, device):
    """二维 valid_lens（每个查询一个长度） / 2-D valid_lens (one length per query)"""
    X = torch.randn(2, 5, 6, generator=rng)
    lens = random_lens(rng, (2, 5), 6)
    got = check_masked_softmax(student, device, X, lens)
    expect_close(got, oracle_masked_softmax(X, lens), device=device)


@level("masked_softmax")
def test_masked_softmax_none(student, rng, device):
    """valid_lens=None：普通 softmax / valid_lens=None: a plain softmax"""
    X = torch.randn(2, 3, 5, generator=rng) * 3
    got = student.call("masked_softmax", X, None, device=device)
    expect_close(got, torch.softmax(X, dim=-1), device=device)


@level("masked_softmax")
def test_masked_softmax_large_scores(student, rng, device):
    """分数很大时被遮蔽的位置权重仍为 0 / masked positions stay at 0 even for large scores"""
    X = torch.randn(2, 3, 8, generator=rng) * 50
    lens = torch.tensor([3, 5])
    check_masked_softmax(student, device, X, lens)


# ---------------------------------------------------------------- DotProductAttention
def attention_inputs(rng, B=2, Q=3, K=5, d=6, v=4):
    return (torch.randn(B, Q, d, generator=rng), torch.randn(B, K, d, generator=rng),
            torch.randn(B, K, v, generator=rng))


def check_attention(student, device, queries, keys, values, valid_lens, dropout=0.0, seed=2024):
    """The student's DotProductAttention(dropout) in eval mode against the reference; torch's random
    seeded the same on both sides, so that a dropout left on in eval mode is named."""
    got, attention = student.run(built_and_called, "DotProductAttention", (dropout,), {}, None, False,
                                 (queries, keys, values, valid_lens), seed, device=device)

    def reference(ns):
        return seeded(seed, lambda: ns.DotProductAttention(dropout).eval()(queries, keys, values, valid_lens))
    expect_close(got, reference(ref), device=device,
                 mistakes=mistakes(ref, WRONG.of("dot_product_attention"), reference))
    return got, attention


@level("dot_product_attention")
def test_attention_matches_sdpa(student, rng, device):
    """与 scaled_dot_product_attention 一致（一维 valid_lens） / equals PyTorch's SDPA (1-D valid_lens)"""
    q, k, v = attention_inputs(rng)
    lens = torch.tensor([2, 5])
    got, _ = check_attention(student, device, q, k, v, lens)
    oracle = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask(lens, 2, 3, 5))
    expect_close(got, oracle, device=device)


@level("dot_product_attention")
def test_attention_2d_valid_lens(student, rng, device):
    """二维 valid_lens / 2-D valid_lens"""
    q, k, v = attention_inputs(rng, B=3, Q=4, K=6, d=8, v=3)
    lens = random_lens(rng, (3, 4), 6)
    got, _ = check_attention(student, device, q, k, v, lens)
    oracle = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask(lens, 3, 4, 6))
    expect_close(got, oracle, device=device)


@level("dot_product_attention")
def test_attention_no_valid_lens(student, rng, device):
    """valid_lens=None / no valid_lens"""
    q, k, v = attention_inputs(rng, d=16)
    got, _ = check_attention(student, device, q, k, v, None)
    expect_close(got, F.scaled_dot_product_attention(q, k, v), device=device)


@level("dot_product_attention")
def test_attention_dropout_eval(student, rng, device):
    """dropout=0.5 在 eval 模式下不起作用，且保存了 attention_weights / dropout=0.5 is off in eval mode; attention_weights kept"""  # noqa: E501
    q, k, v = attention_inputs(rng)
    lens = torch.tensor([3, 1])
    _, attention = check_attention(student, device, q, k, v, lens, dropout=0.5)
    weights = student.method(attention, "__getattribute__", "attention_weights")
    scores = torch.bmm(q, k.transpose(1, 2)) / 6 ** 0.5
    expect_close(weights, ref.masked_softmax(scores, lens), device=device)


def training_attention(student, device, dropout, inputs, seed=2024):
    """The output of the student's DotProductAttention(dropout) in train mode on `inputs`, on
    `device`, torch's random seeded by `seed` (one call into the kernel)."""
    return student.run(built_and_called, "DotProductAttention", (dropout,), {}, None, True, inputs, seed,
                       device=device)[0]


@level("dot_product_attention")
def test_attention_dropout_one_drops_every_weight(student, rng, device):
    """训练模式、dropout=1：注意力权重全被丢弃，输出为 0 / train mode, dropout=1: every attention weight is dropped, the output is 0"""  # noqa: E501
    q, k, v = attention_inputs(rng)
    got = training_attention(student, device, 1.0, (q, k, v, None))
    expect_close(got, torch.zeros(2, 3, 4), device=device, mistakes=mistakes(
        ref, WRONG.of("dot_product_attention"), lambda ns: ns.DotProductAttention(1.0).train()(q, k, v, None)))


@level("dot_product_attention")
def test_attention_dropout_acts_on_the_weights(student, rng, device):
    """训练模式、只有第一个键有效：每个查询的输出整行为 0（权重被丢弃）或 v_0/(1 - p)，约一半为 0 / train mode, only the first key valid: each query's output row is 0 (its weight dropped) or v_0/(1 - p), about half 0"""  # noqa: E501
    p, q, k, v, lens, kept = attention_dropout_case(rng)
    seed = int(torch.randint(0, 2 ** 31, (1,), generator=rng))
    got = training_attention(student, device, p, (q, k, v, lens), seed)
    expect_dropped_out(got, kept, p, rows=True, device=device, mistakes=mistakes(
        ref, WRONG.of("dot_product_attention"),
        lambda ns: seeded(seed, lambda: ns.DotProductAttention(p).train()(q, k, v, lens))))


def attention_dropout_case(rng, B=16, Q=64, K=5, p=0.5):
    """(p, q, k, v, valid_lens, kept): only the first key valid, so each query's weights are (1, 0, ...)
    and its output row is v_0 kept whole or dropped whole: B x Q = 1,024 rows, the rate within
    checking.rate_bound (8.4%: a right answer rejected at most once in 10^6 gradings), so that half
    the rate (25%) is told apart; the scale is exact."""
    q, k, v = attention_inputs(rng, B=B, Q=Q, K=K)
    return p, q, k, v, torch.ones(B, dtype=torch.long), v[:, :1].expand(B, Q, v.shape[-1])


# ---------------------------------------------------------------- transpose_qkv / transpose_output
@level("transpose_qkv")
def test_transpose_qkv_values(student, rng, device):
    """transpose_qkv 把各头并入批量维 / transpose_qkv folds the heads into the batch"""
    X = torch.randn(2, 3, 8, generator=rng)
    got = student.call("transpose_qkv", X, 4, device=device)
    expect_close(got, ref.transpose_qkv(X, 4), device=device, mistakes=mistakes(
        ref, WRONG.of("transpose_qkv"), lambda ns: ns.transpose_qkv(X, 4)))


@level("transpose_qkv")
def test_transpose_qkv_head_content(student, rng, device):
    """第 b 个样本的第 i 个头 = 特征 [i*D/h, (i+1)*D/h) / head i of example b holds features [i*D/h, (i+1)*D/h)"""
    X = torch.randn(3, 5, 12, generator=rng)
    got = student.call("transpose_qkv", X, 3, device=device)
    oracle = torch.stack([X[b, :, i * 4:(i + 1) * 4] for b in range(3) for i in range(3)])  # (B*h, N, D/h)
    expect_close(got, oracle, device=device, mistakes=mistakes(
        ref, WRONG.of("transpose_qkv"), lambda ns: ns.transpose_qkv(X, 3)))


@level("transpose_qkv")
def test_transpose_output_values(student, rng, device):
    """transpose_output 还原 (B, N, D) / transpose_output restores (B, N, D)"""
    X = torch.randn(6, 4, 5, generator=rng)  # (B*h, N, D/h) with B=2, h=3
    got = student.call("transpose_output", X, 3, device=device)
    expect_close(got, ref.transpose_output(X, 3), device=device, mistakes=mistakes(
        ref, WRONG.of("transpose_qkv"), lambda ns: ns.transpose_output(X, 3)))


@level("transpose_qkv")
def test_transpose_round_trip(student, rng, device):
    """transpose_output(transpose_qkv(X)) == X"""
    X = torch.randn(2, 7, 10, generator=rng)
    folded = student.call("transpose_qkv", X, 5, device=device)
    got = student.call("transpose_output", folded, 5, device=device)
    expect_close(got, X, device=device)


# ---------------------------------------------------------------- MultiHeadAttention
SIZES = dict(key_size=5, query_size=8, value_size=7, num_hiddens=8, num_heads=2)


def reference_mha(rng, bias=False, sizes=SIZES):
    """The reference module with weights drawn from rng (not from the global seed)."""
    model = ref.MultiHeadAttention(**sizes, dropout=0.5, bias=bias).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=rng) * 0.4)
    return model


def mha_inputs(rng, B=2, Q=4, K=6, sizes=SIZES):
    return (torch.randn(B, Q, sizes["query_size"], generator=rng),
            torch.randn(B, K, sizes["key_size"], generator=rng),
            torch.randn(B, K, sizes["value_size"], generator=rng))


def check_mha(student, device, rng, valid_lens, bias=False, sizes=SIZES, dropout=0.5, train=False):
    """The student's MultiHeadAttention equals the reference, in eval mode (or in train mode, where
    `dropout` is 0 or 1: then nothing is random)."""
    model = reference_mha(rng, bias, sizes)
    q, k, v = mha_inputs(rng, B=len(valid_lens) if valid_lens is not None else 2, sizes=sizes)
    got, _ = student.run(built_and_called, "MultiHeadAttention", (*sizes.values(), dropout), {"bias": bias},
                         model.state_dict(), train, (q, k, v, valid_lens), 2024, device=device)

    def reference(ns):
        module = ns.MultiHeadAttention(**sizes, dropout=dropout, bias=bias).train(train)
        module.load_state_dict(model.state_dict())
        return module(q, k, v, valid_lens)
    with torch.no_grad():
        expected = reference(ref)
    try:
        expect_close(got, expected, device=device, mistakes=mistakes(ref, WRONG.of("multihead_attention"), reference))
    except CheckFailed as failed:
        raise earlier_levels_named(failed, student, device, model, (q, k, v), valid_lens, got)
    return got, model, (q, k, v)


def earlier_levels_named(failed, student, device, model, inputs, valid_lens, got):
    """`failed`, with a plain word first where the student's own earlier levels, which their
    forward calls (level 2's DotProductAttention, level 3's transpose_qkv/transpose_output), differ
    from the reference on this very input: then whether this forward is right given them."""
    h = model.num_heads
    with torch.no_grad():
        projected = [model.W_q(inputs[0]), model.W_k(inputs[1]), model.W_v(inputs[2])]
    lens = None if valid_lens is None else torch.repeat_interleave(valid_lens, repeats=h, dim=0)
    try:  # the reference's forward, with the student's pieces in place of the reference's
        folded = [student.call("transpose_qkv", X, h, device=device) for X in projected]
        attention = student.call("DotProductAttention", 0.0)
        student.method(attention, "eval")
        heads = student.method(attention, "__call__", *folded, lens, device=device)
        composed = model.W_o(student.call("transpose_output", heads, h, device=device).to(got.dtype))
        with torch.no_grad():
            ref_folded = [ref.transpose_qkv(X, h) for X in projected]
            ref_heads = ref.DotProductAttention(0.0).eval()(*ref_folded, lens)
        wrong = []
        unfolded = student.call("transpose_output", ref_heads, h, device=device)
        if any(not _close(a, b) for a, b in zip(folded, ref_folded)) or \
                not _close(unfolded, ref.transpose_output(ref_heads, h)):
            wrong.append(("第3关的 transpose_qkv/transpose_output", "level 3's transpose_qkv/transpose_output"))
        if not _close(student.method(attention, "__call__", *ref_folded, lens, device=device), ref_heads):
            wrong.append(("第2关的 DotProductAttention（或第1关的 masked_softmax）",
                          "level 2's DotProductAttention (or level 1's masked_softmax)"))
    except Exception:  # a piece that raises or returns no tensor: the message as it was
        return failed
    if not wrong:
        return failed
    zh, en = "、".join(z for z, _ in wrong), " and ".join(e for _, e in wrong)
    if _close(got, composed):
        cause = t(f"你的 forward 本身是对的：错在它调用的{zh}。改正那一关，本关就会通过。",
                  f"your forward itself is right: the cause is {en}, which it calls. "
                  f"Fix that level and this one passes.")
    else:
        cause = t(f"注意：本关调用你的{zh}，它们本身就不对，先改正它们。",
                  f"note: this level calls your {en}, which are wrong themselves: fix them first.")
    return CheckFailed(f"{cause} {failed.message}", without_answer=f"{cause} {failed.without_answer}")


def _close(a, b) -> bool:
    return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(a.detach().cpu().float(), b.float(),
                                                                                  atol=1e-4, rtol=1e-3)


@level("multihead_attention")
def test_mha_matches_torch_multihead_attention(student, rng, device):
    """与 nn.MultiheadAttention（映射相同权重）一致 / equals nn.MultiheadAttention with the same weights"""
    lens = torch.tensor([3, 6])
    got, model, (q, k, v) = check_mha(student, device, rng, lens)
    oracle = nn.MultiheadAttention(8, 2, bias=False, kdim=5, vdim=7, batch_first=True).eval()
    with torch.no_grad():
        oracle.q_proj_weight.copy_(model.W_q.weight)
        oracle.k_proj_weight.copy_(model.W_k.weight)
        oracle.v_proj_weight.copy_(model.W_v.weight)
        oracle.out_proj.weight.copy_(model.W_o.weight)
        padding = ~key_mask(lens, 2, 1, 6)[:, 0]  # (B, K) True = ignore
        expected, _ = oracle(q, k, v, key_padding_mask=padding, need_weights=False)
    expect_close(got, expected, device=device)


@level("multihead_attention")
def test_mha_valid_lens_differ_per_example(student, rng, device):
    """各样本 valid_lens 不同（repeat_interleave） / valid_lens that differ per example (repeat_interleave)"""
    check_mha(student, device, rng, torch.tensor([1, 6, 2]))


@level("multihead_attention")
def test_mha_2d_valid_lens(student, rng, device):
    """二维 valid_lens / 2-D valid_lens"""
    check_mha(student, device, rng, random_lens(rng, (3, 4), 6))


@level("multihead_attention")
def test_mha_no_valid_lens_equal_sizes(student, rng, device):
    """valid_lens=None，各尺寸相同（d2l 的例子） / valid_lens=None with equal sizes (d2l's example)"""
    check_mha(student, device, rng, None, sizes=dict(key_size=10, query_size=10, value_size=10,
                                                     num_hiddens=10, num_heads=5))


@level("multihead_attention")
def test_mha_with_bias(student, rng, device):
    """bias=True"""
    check_mha(student, device, rng, torch.tensor([4, 2]), bias=True)


@level("multihead_attention")
def test_mha_dropout_one_leaves_the_output_bias(student, rng, device):
    """训练模式、dropout=1：各头的注意力权重全被丢弃，输出只剩 W_o 的偏置 / train mode, dropout=1: every head's weights are dropped, only W_o's bias remains"""  # noqa: E501
    got, model, _ = check_mha(student, device, rng, torch.tensor([2, 6]), bias=True, dropout=1.0, train=True)
    expect_close(got, model.W_o.bias.detach().expand(2, 4, SIZES["num_hiddens"]), device=device)


# ---------------------------------------------------------------- the shapes the student states
SHAPE_ANSWERS = ("queries_after_W_q", "keys_after_W_k", "queries_after_transpose_qkv",
                 "keys_after_transpose_qkv", "attention_weights_shape", "output_shape")


def shape_check(name):
    @level("attention_shapes")
    def test(student):
        try:
            got = student.get(name)
        except Exception:
            got = None
        if isinstance(got, list):
            got = tuple(got)
        hints = {tuple(w.overrides[name]): t(w.zh, w.en)
                 for w in WRONG.of("attention_shapes") if name in w.overrides}
        expect_equal(got, getattr(ref, name), hints=hints, answer_key=True)
    test.__doc__ = name
    test.__name__ = f"test_shape_{name}"
    return test


for _name in SHAPE_ANSWERS:
    globals()[f"test_shape_{_name}"] = shape_check(_name)
