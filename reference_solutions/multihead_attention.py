"""Multi-head attention in d2l's API (seed 000), the reference for `01_multihead_attention`.

Shapes: B batch, Q queries, K key-value pairs, D features, h heads.
"""
import math

import torch
from torch import nn


# <level: masked_softmax>
def masked_softmax(X, valid_lens):
    """Softmax over the last axis that ignores positions at or after `valid_lens`."""
    # X: (B, Q, K); valid_lens: None, (B,) or (B, Q)
    ##########Begin##########
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = torch.repeat_interleave(valid_lens, shape[1])  # (B*Q,)
    else:
        valid_lens = valid_lens.reshape(-1)  # (B*Q,)
    X = X.reshape(-1, shape[-1])  # (B*Q, K)
    positions = torch.arange(shape[-1], device=X.device)
    mask = positions[None, :] < valid_lens[:, None]  # (B*Q, K)
    X = X.masked_fill(~mask, -1e6)  # a large negative: exp() makes it 0
    return nn.functional.softmax(X.reshape(shape), dim=-1)
    ##########End##########
# </level>


# <level: dot_product_attention>
class DotProductAttention(nn.Module):
    """Scaled dot-product attention: softmax(Q K^T / sqrt(d)) V."""

    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        # queries: (B, Q, d); keys: (B, K, d); values: (B, K, v)
        ##########Begin##########
        d = queries.shape[-1]
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)  # (B, Q, K)
        self.attention_weights = masked_softmax(scores, valid_lens)  # (B, Q, K)
        return torch.bmm(self.dropout(self.attention_weights), values)  # (B, Q, v)
        ##########End##########
# </level>


# <level: transpose_qkv>
def transpose_qkv(X, num_heads):
    """Split the last axis into heads and fold the heads into the batch."""
    ##########Begin##########
    # X: (B, N, D) -> (B, N, h, D/h)
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1)
    # -> (B, h, N, D/h)
    X = X.permute(0, 2, 1, 3)
    # -> (B*h, N, D/h)
    return X.reshape(-1, X.shape[2], X.shape[3])
    ##########End##########


def transpose_output(X, num_heads):
    """Undo `transpose_qkv`: (B*h, N, D/h) -> (B, N, D)."""
    ##########Begin##########
    X = X.reshape(-1, num_heads, X.shape[1], X.shape[2])  # (B, h, N, D/h)
    X = X.permute(0, 2, 1, 3)  # (B, N, h, D/h)
    return X.reshape(X.shape[0], X.shape[1], -1)  # (B, N, D)
    ##########End##########
# </level>


# <level: multihead_attention>
class MultiHeadAttention(nn.Module):
    """Multi-head attention: h scaled dot-product attentions over learned projections."""

    def __init__(self, key_size, query_size, value_size, num_hiddens,
                 num_heads, dropout, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        # queries: (B, Q, query_size); keys, values: (B, K, key_size / value_size)
        ##########Begin##########
        queries = transpose_qkv(self.W_q(queries), self.num_heads)  # (B*h, Q, D/h)
        keys = transpose_qkv(self.W_k(keys), self.num_heads)  # (B*h, K, D/h)
        values = transpose_qkv(self.W_v(values), self.num_heads)  # (B*h, K, D/h)
        if valid_lens is not None:
            # each example's valid length, once per head: (B*h,) or (B*h, Q)
            valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)  # (B*h, Q, D/h)
        output_concat = transpose_output(output, self.num_heads)  # (B, Q, D)
        return self.W_o(output_concat)
        ##########End##########
# </level>


# <level: attention_shapes>
# batch 2, 4 queries, 6 key-value pairs, num_hiddens 100, 5 heads
##########Begin##########
queries_after_W_q = (2, 4, 100)
keys_after_W_k = (2, 6, 100)
queries_after_transpose_qkv = (10, 4, 20)
keys_after_transpose_qkv = (10, 6, 20)
attention_weights_shape = (10, 4, 6)
output_shape = (2, 4, 100)
##########End##########
# </level>
