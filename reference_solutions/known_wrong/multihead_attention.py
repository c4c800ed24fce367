"""Known-wrong versions of reference_solutions/multihead_attention.py (same shapes, wrong values)."""
import math

import torch
from torch import nn

from reference_solutions.known_wrong import Registry
from reference_solutions import multihead_attention as ref

WRONG = Registry()


def _mask(X, valid_lens, fill, repeat):
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = valid_lens.repeat(shape[1]) if repeat else torch.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = X.reshape(-1, shape[-1])
    mask = torch.arange(shape[-1], device=X.device)[None, :] < valid_lens[:, None]
    return X.masked_fill(~mask, fill).reshape(shape)


@WRONG.wrong("masked_softmax", "fill_zero",
             "被遮蔽的位置填了 0 而不是很大的负数（softmax 后仍有权重）",
             "masked positions filled with 0, not a large negative: they still get weight after softmax")
def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    return nn.functional.softmax(_mask(X, valid_lens, 0.0, repeat=False), dim=-1)


@WRONG.wrong("masked_softmax", "repeat_not_interleave",
             "一维 valid_lens 用了 repeat 而不是 repeat_interleave（长度对应到了错误的行）",
             "1-D valid_lens expanded with repeat instead of repeat_interleave: lengths land on the wrong rows")
def masked_softmax(X, valid_lens):  # noqa: F811
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    return nn.functional.softmax(_mask(X, valid_lens, -1e6, repeat=True), dim=-1)


@WRONG.wrong("masked_softmax", "no_mask",
             "没有应用 valid_lens：被遮蔽的位置也得到了权重",
             "valid_lens not applied: masked positions got weight")
def masked_softmax(X, valid_lens):  # noqa: F811
    return nn.functional.softmax(X, dim=-1)


class _Attention(ref.DotProductAttention):
    def scores(self, queries, keys):
        raise NotImplementedError

    def forward(self, queries, keys, values, valid_lens=None):
        self.attention_weights = ref.masked_softmax(self.scores(queries, keys), valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


@WRONG.wrong("dot_product_attention", "no_sqrt_scaling",
             "缺少 1/sqrt(d) 缩放", "the scores are not scaled by 1/sqrt(d)")
class DotProductAttention(_Attention):
    def scores(self, queries, keys):
        return torch.bmm(queries, keys.transpose(1, 2))


@WRONG.wrong("dot_product_attention", "scale_by_d",
             "除以了 d 而不是 sqrt(d)", "the scores are divided by d instead of sqrt(d)")
class DotProductAttention(_Attention):  # noqa: F811
    def scores(self, queries, keys):
        return torch.bmm(queries, keys.transpose(1, 2)) / queries.shape[-1]


@WRONG.wrong("dot_product_attention", "sqrt_of_key_count",
             "用键的个数而不是特征维度 d 来缩放", "scaled by sqrt(number of keys) instead of sqrt(d)")
class DotProductAttention(_Attention):  # noqa: F811
    def scores(self, queries, keys):
        return torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(keys.shape[1])


@WRONG.wrong("dot_product_attention", "ignores_valid_lens",
             "没有把 valid_lens 传给 masked_softmax", "valid_lens was not passed to masked_softmax")
class DotProductAttention(ref.DotProductAttention):  # noqa: F811
    def forward(self, queries, keys, values, valid_lens=None):
        return super().forward(queries, keys, values, None)


@WRONG.wrong("dot_product_attention", "no_dropout",
             "训练模式下没有 dropout：注意力权重要经过 self.dropout 再乘 values",
             "no dropout in train mode: the attention weights go through self.dropout before multiplying the values")
class DotProductAttention(ref.DotProductAttention):  # noqa: F811
    def forward(self, queries, keys, values, valid_lens=None):
        super().forward(queries, keys, values, valid_lens)
        return torch.bmm(self.attention_weights, values)


@WRONG.wrong("dot_product_attention", "dropout_on_scores",
             "dropout 作用在了 softmax 之前的分数上：它应作用在 softmax 之后的注意力权重上",
             "dropout acted on the scores before the softmax: it belongs on the attention weights after it")
class DotProductAttention(ref.DotProductAttention):  # noqa: F811
    def forward(self, queries, keys, values, valid_lens=None):
        scores = self.dropout(torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(queries.shape[-1]))
        self.attention_weights = ref.masked_softmax(scores, valid_lens)
        return torch.bmm(self.attention_weights, values)


@WRONG.wrong("dot_product_attention", "dropout_on_output",
             "dropout 作用在了输出上：它应作用在注意力权重上（丢弃的是整条注意力，而不是输出的单个元素）",
             "dropout acted on the output: it belongs on the attention weights (a whole attention link is dropped, "
             "not single output elements)")
class DotProductAttention(ref.DotProductAttention):  # noqa: F811
    def forward(self, queries, keys, values, valid_lens=None):
        super().forward(queries, keys, values, valid_lens)
        return self.dropout(torch.bmm(self.attention_weights, values))


@WRONG.wrong("dot_product_attention", "dropout_not_rescaled",
             "dropout 保留的注意力权重没有乘以 1/(1-p)：训练时输出的期望变小了，"
             "与评估模式不一致（nn.Dropout 会自动缩放）",
             "dropout's kept attention weights were not scaled by 1/(1-p): the output shrinks in training and no "
             "longer matches eval mode (nn.Dropout rescales by itself)")
class DotProductAttention(ref.DotProductAttention):  # noqa: F811
    def forward(self, queries, keys, values, valid_lens=None):
        super().forward(queries, keys, values, valid_lens)
        weights = self.attention_weights  # (B, Q, K)
        if self.training:  # dropout written by hand: the right weights dropped, the kept ones left as they were
            weights = weights * (torch.rand_like(weights) >= self.dropout.p).float()
        return torch.bmm(weights, values)


@WRONG.wrong("dot_product_attention", "dropout_at_half_the_rate",
             "dropout 的比例只有要求的一半：应丢弃约 p 的注意力权重",
             "dropout at half the asked rate: about a fraction p of the attention weights is dropped")
class DotProductAttention(ref.DotProductAttention):  # noqa: F811
    def forward(self, queries, keys, values, valid_lens=None):
        super().forward(queries, keys, values, valid_lens)
        return torch.bmm(nn.functional.dropout(self.attention_weights, self.dropout.p / 2, self.training), values)


@WRONG.wrong("dot_product_attention", "dropout_in_eval_mode",
             "评估模式下仍在做 dropout：dropout 只在训练时起作用（用 self.dropout，或 F.dropout(..., self.training)）",
             "dropout still on in eval mode: it acts in training only (use self.dropout, or "
             "F.dropout(..., self.training))")
class DotProductAttention(ref.DotProductAttention):  # noqa: F811
    def forward(self, queries, keys, values, valid_lens=None):
        super().forward(queries, keys, values, valid_lens)
        return torch.bmm(nn.functional.dropout(self.attention_weights, self.dropout.p, training=True), values)


@WRONG.wrong("transpose_qkv", "reshape_without_permute",
             "只做了 reshape 没有 permute：各头的数据混在了一起",
             "reshaped without permute: the heads' data got mixed")
def transpose_qkv(X, num_heads):
    return X.reshape(X.shape[0] * num_heads, X.shape[1], -1)


@WRONG.wrong("transpose_qkv", "heads_interleaved",
             "最后一维拆成 (D/h, h)：每个头拿到的是间隔的特征",
             "the last axis was split as (D/h, h): each head got strided features")
def transpose_qkv(X, num_heads):  # noqa: F811
    X = X.reshape(X.shape[0], X.shape[1], -1, num_heads).permute(0, 3, 1, 2)
    return X.reshape(-1, X.shape[2], X.shape[3])


@WRONG.wrong("transpose_qkv", "heads_before_batch",
             "把头放在了批量之前（h, B 而不是 B, h）", "the heads were put before the batch (h, B instead of B, h)")
def transpose_qkv(X, num_heads):  # noqa: F811
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1).permute(2, 0, 1, 3)
    return X.reshape(-1, X.shape[2], X.shape[3])


@WRONG.wrong("transpose_qkv", "output_without_permute",
             "transpose_output 只做了 reshape 没有 permute", "transpose_output reshaped without permute")
def transpose_output(X, num_heads):
    return X.reshape(X.shape[0] // num_heads, X.shape[1], -1)


@WRONG.wrong("multihead_attention", "repeat_valid_lens",
             "valid_lens 用了 repeat 而不是 repeat_interleave：头拿到了别的样本的长度",
             "valid_lens repeated with repeat, not repeat_interleave: heads got another example's lengths")
class MultiHeadAttention(nn.Module):
    def __init__(self, key_size, query_size, value_size, num_hiddens,
                 num_heads, dropout, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.attention = ref.DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def heads(self, queries, keys, values, valid_lens):
        queries = ref.transpose_qkv(self.W_q(queries), self.num_heads)
        keys = ref.transpose_qkv(self.W_k(keys), self.num_heads)
        values = ref.transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:
            valid_lens = valid_lens.repeat((self.num_heads,) + (1,) * (valid_lens.dim() - 1))
        return ref.transpose_output(self.attention(queries, keys, values, valid_lens), self.num_heads)

    def forward(self, queries, keys, values, valid_lens):
        return self.W_o(self.heads(queries, keys, values, valid_lens))


@WRONG.wrong("multihead_attention", "no_output_projection",
             "拼接各头之后没有经过 W_o", "the concatenated heads were not passed through W_o")
class MultiHeadAttention(MultiHeadAttention):  # noqa: F811
    def forward(self, queries, keys, values, valid_lens):
        valid_lens = None if valid_lens is None else torch.repeat_interleave(valid_lens, self.num_heads, dim=0)
        queries = ref.transpose_qkv(self.W_q(queries), self.num_heads)
        keys = ref.transpose_qkv(self.W_k(keys), self.num_heads)
        values = ref.transpose_qkv(self.W_v(values), self.num_heads)
        return ref.transpose_output(self.attention(queries, keys, values, valid_lens), self.num_heads)


@WRONG.wrong("multihead_attention", "values_through_W_k",
             "values 用 W_k 而不是 W_v 投影", "the values were projected with W_k instead of W_v")
class MultiHeadAttention(MultiHeadAttention):  # noqa: F811
    def forward(self, queries, keys, values, valid_lens):
        valid_lens = None if valid_lens is None else torch.repeat_interleave(valid_lens, self.num_heads, dim=0)
        queries = ref.transpose_qkv(self.W_q(queries), self.num_heads)
        keys = ref.transpose_qkv(self.W_k(keys), self.num_heads)
        values = ref.transpose_qkv(self.W_k(values), self.num_heads)
        return self.W_o(ref.transpose_output(self.attention(queries, keys, values, valid_lens), self.num_heads))


@WRONG.wrong("multihead_attention", "attention_without_dropout",
             "各头的注意力是自己算的，没有经过 self.attention：训练模式下没有 dropout",
             "the heads' attention was computed by hand, not through self.attention: no dropout in train mode")
class MultiHeadAttention(MultiHeadAttention):
    def forward(self, queries, keys, values, valid_lens):
        valid_lens = None if valid_lens is None else torch.repeat_interleave(valid_lens, self.num_heads, dim=0)
        queries = ref.transpose_qkv(self.W_q(queries), self.num_heads)  # (B*h, Q, D/h)
        keys = ref.transpose_qkv(self.W_k(keys), self.num_heads)
        values = ref.transpose_qkv(self.W_v(values), self.num_heads)
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(queries.shape[-1])
        heads = torch.bmm(ref.masked_softmax(scores, valid_lens), values)
        return self.W_o(ref.transpose_output(heads, self.num_heads))


WRONG.answers("attention_shapes", "heads_not_folded",
              "头没有并入批量维：transpose_qkv 之后应是 (B*h, N, D/h)",
              "the heads were not folded into the batch: after transpose_qkv it is (B*h, N, D/h)",
              queries_after_transpose_qkv=(2, 4, 5, 20), keys_after_transpose_qkv=(2, 6, 5, 20))
WRONG.answers("attention_shapes", "weights_per_example",
              "注意力权重是每个头各一份：(B*h, 查询数, 键值对数)",
              "the attention weights exist per head: (B*h, queries, key-value pairs)",
              attention_weights_shape=(2, 4, 6))
WRONG.answers("attention_shapes", "output_per_head",
              "输出经 transpose_output 和 W_o 后回到 (B, 查询数, num_hiddens)",
              "after transpose_output and W_o the output is (B, queries, num_hiddens) again",
              output_shape=(10, 4, 20))
