"""The Transformer's building blocks in d2l's API (seed 000): the position-wise feed-forward network,
AddNorm, sinusoidal positional encoding, the encoder block, the decoder's masked self-attention and a
quiz on shapes and reasons: the reference for `07_transformer`.

Multi-head attention is 01_multihead_attention's exercise: the notebook gives it (the code of that
reference, cell `given_attention`), and this module imports it from there.
Shapes: B batch, T time steps (tokens), D features (num_hiddens), F the FFN's hidden units, h heads.
"""
import torch
from torch import nn

from reference_solutions.multihead_attention import (  # noqa: F401  (the notebook's given cell)
    DotProductAttention, MultiHeadAttention, masked_softmax, transpose_output, transpose_qkv)


# <scaffold: given_attention>
# 给定的代码：第 01 次实训的多头注意力（d2l 的 MultiHeadAttention，种子 000），直接运行，不要修改
# Given: 01_multihead_attention's multi-head attention (d2l's, seed 000): run it as it is
# <stamp: multihead_attention masked_softmax dot_product_attention transpose_qkv multihead_attention>
# </scaffold>


# <level: position_wise_ffn>
class PositionWiseFFN(nn.Module):
    """The same two-layer MLP applied at every position: dense2(ReLU(dense1(X)))."""

    def __init__(self, ffn_num_input, ffn_num_hiddens, ffn_num_outputs, **kwargs):
        super().__init__(**kwargs)
        ##########Begin##########
        self.dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)
        ##########End##########

    def forward(self, X):
        # X: (B, T, D) -> (B, T, ffn_num_outputs)
        ##########Begin##########
        return self.dense2(self.relu(self.dense1(X)))
        ##########End##########
# </level>


# <level: add_norm>
class AddNorm(nn.Module):
    """A residual connection, then layer normalisation: LayerNorm(X + Dropout(Y))."""

    def __init__(self, normalized_shape, dropout, **kwargs):
        super().__init__(**kwargs)
        ##########Begin##########
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(normalized_shape)
        ##########End##########

    def forward(self, X, Y):
        # X: the sublayer's input, Y: its output, both (B, T, D)
        ##########Begin##########
        return self.ln(self.dropout(Y) + X)
        ##########End##########
# </level>


# <level: positional_encoding>
class PositionalEncoding(nn.Module):
    """d2l's sinusoidal positional encoding: P[pos, 2i] = sin(pos / 10000^(2i/D)),
    P[pos, 2i+1] = cos(pos / 10000^(2i/D)), added to X, then dropout."""

    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        ##########Begin##########
        self.P = torch.zeros((1, max_len, num_hiddens))  # (1, max_len, D)
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)  # (max_len, D/2)
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)
        ##########End##########

    def forward(self, X):
        # X: (B, T, D)
        ##########Begin##########
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        ##########End##########
        return self.dropout(X)
# </level>


# <level: encoder_block>
class EncoderBlock(nn.Module):
    """d2l's Transformer encoder block: multi-head self-attention and the FFN, each followed by AddNorm."""

    def __init__(self, key_size, query_size, value_size, num_hiddens,
                 norm_shape, ffn_num_input, ffn_num_hiddens, num_heads,
                 dropout, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        ##########Begin##########
        self.attention = MultiHeadAttention(key_size, query_size, value_size, num_hiddens,
                                            num_heads, dropout, use_bias)
        self.addnorm1 = AddNorm(norm_shape, dropout)
        self.ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(norm_shape, dropout)
        ##########End##########

    def forward(self, X, valid_lens):
        # X: (B, T, D); valid_lens: (B,) -> (B, T, D)
        ##########Begin##########
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))  # (B, T, D)
        return self.addnorm2(Y, self.ffn(Y))
        ##########End##########
# </level>


# <level: masked_self_attention>
def decoder_self_attention(attention, X):
    """The decoder's self-attention while training: position t sees positions 0..t only.

    attention: a MultiHeadAttention; X: (B, T, D), the whole target sequence at once."""
    ##########Begin##########
    batch_size, num_steps, _ = X.shape
    # dec_valid_lens: (B, T), every row 1, 2, ..., T (d2l's DecoderBlock)
    dec_valid_lens = torch.arange(1, num_steps + 1, device=X.device).repeat(batch_size, 1)
    ##########End##########
    return attention(X, X, X, dec_valid_lens)
# </level>


# <level: transformer_quiz>
# 一句 2 个词，d_model = 512，8 个头 / a sentence of 2 words, d_model 512, 8 heads (seed 000)
##########Begin##########
num_z_matrices = 8
z_shape = (2, 64)
concat_shape = (2, 512)
W_o_shape = (512, 512)
why_divide_by_8 = "B"
enc_dec_queries = "C"
enc_dec_weights_shape = (8, 5, 7)
enc_dec_output_shape = (2, 5, 16)
why_decoder_mask = "A"
why_add_norm = "AD"
##########End##########
# </level>
