"""Known-wrong versions of reference_solutions/transformer.py (same names and shapes, wrong values)."""
import torch
from torch import nn
from torch.nn import functional as F

from reference_solutions import transformer as ref
from reference_solutions.known_wrong import Registry

WRONG = Registry()


# ---------------------------------------------------------------- PositionWiseFFN
@WRONG.wrong("position_wise_ffn", "no_relu",
             "两个全连接层之间没有 ReLU：两层线性变换叠起来仍是线性的",
             "no ReLU between the two dense layers: two linear maps in a row are still linear")
class PositionWiseFFN(ref.PositionWiseFFN):
    def forward(self, X):
        return self.dense2(self.dense1(X))


@WRONG.wrong("position_wise_ffn", "relu_on_output",
             "输出也经过了 ReLU：ReLU 只在 dense1 与 dense2 之间",
             "the output went through ReLU too: ReLU sits only between dense1 and dense2")
class PositionWiseFFN(ref.PositionWiseFFN):  # noqa: F811
    def forward(self, X):
        return torch.relu(self.dense2(self.relu(self.dense1(X))))


@WRONG.wrong("position_wise_ffn", "gelu_for_relu",
             "激活函数用了 GELU：d2l 与 nn.TransformerEncoderLayer 的默认都是 ReLU",
             "the activation is GELU: d2l's and nn.TransformerEncoderLayer's default is ReLU")
class PositionWiseFFN(ref.PositionWiseFFN):  # noqa: F811
    def forward(self, X):
        return self.dense2(F.gelu(self.dense1(X)))


@WRONG.wrong("position_wise_ffn", "dropout_between_layers",
             "在两层之间加了 dropout：d2l 的 FFN 没有 dropout（Transformer 的 dropout 在 AddNorm 里）",
             "a dropout between the two layers: d2l's FFN has none (the Transformer's dropout sits in AddNorm)")
class PositionWiseFFN(ref.PositionWiseFFN):  # noqa: F811
    def forward(self, X):
        return self.dense2(F.dropout(self.relu(self.dense1(X)), 0.1, self.training))


# ---------------------------------------------------------------- AddNorm
@WRONG.wrong("add_norm", "no_residual",
             "没有残差连接：应是 LayerNorm(X + Dropout(Y))，不是 LayerNorm(Y)",
             "no residual connection: LayerNorm(X + Dropout(Y)), not LayerNorm(Y)")
class AddNorm(ref.AddNorm):
    def forward(self, X, Y):
        return self.ln(self.dropout(Y))


@WRONG.wrong("add_norm", "norm_before_add",
             "先规范化再相加（X + LayerNorm(Y)）：Transformer 原文与 d2l 是相加之后再 LayerNorm",
             "normalised before adding (X + LayerNorm(Y)): the Transformer (and d2l) applies LayerNorm after the sum")
class AddNorm(ref.AddNorm):  # noqa: F811
    def forward(self, X, Y):
        return X + self.ln(self.dropout(Y))


@WRONG.wrong("add_norm", "dropout_on_residual",
             "dropout 作用在了残差 X 上：它应作用在子层的输出 Y 上",
             "dropout was applied to the residual X: it belongs on the sublayer's output Y")
class AddNorm(ref.AddNorm):  # noqa: F811
    def forward(self, X, Y):
        return self.ln(Y + self.dropout(X))


@WRONG.wrong("add_norm", "normalised_over_batch",
             "在批量维上做了规范化（像 BatchNorm）：LayerNorm 对每个位置的特征各自规范化",
             "normalised over the batch (as BatchNorm does): LayerNorm normalises each position's features")
class AddNorm(ref.AddNorm):  # noqa: F811
    def forward(self, X, Y):
        Z = self.dropout(Y) + X
        Z = (Z - Z.mean(dim=0, keepdim=True)) / torch.sqrt(Z.var(dim=0, unbiased=False, keepdim=True) + self.ln.eps)
        return Z * self.ln.weight + self.ln.bias


@WRONG.wrong("add_norm", "dropout_after_norm",
             "dropout 放在了 LayerNorm 之后：应只丢弃子层的输出 Y，LayerNorm(X + Dropout(Y))",
             "dropout after the LayerNorm: only the sublayer's output Y is dropped, LayerNorm(X + Dropout(Y))")
class AddNorm(ref.AddNorm):  # noqa: F811
    def forward(self, X, Y):
        return self.dropout(self.ln(X + Y))


@WRONG.wrong("add_norm", "dropout_not_rescaled",
             "dropout 保留的元素没有乘以 1/(1-p)：训练时的期望值变小了，与评估模式不一致（nn.Dropout 会自动缩放）",
             "dropout's kept elements were not scaled by 1/(1-p): the expected value shrinks in training and no "
             "longer matches eval mode (nn.Dropout rescales by itself)")
class AddNorm(ref.AddNorm):  # noqa: F811
    def forward(self, X, Y):
        if self.training:  # dropout written by hand: the right elements dropped, the kept ones left as they were
            Y = Y * (torch.rand_like(Y) >= self.dropout.p).float()
        return self.ln(X + Y)


@WRONG.wrong("add_norm", "dropout_at_half_the_rate",
             "dropout 的比例只有要求的一半：应丢弃约 p 的元素",
             "dropout at half the asked rate: about a fraction p of the elements is dropped")
class AddNorm(ref.AddNorm):  # noqa: F811
    def forward(self, X, Y):
        return self.ln(X + F.dropout(Y, self.dropout.p / 2, self.training))


# ---------------------------------------------------------------- PositionalEncoding
class _Encoding(ref.PositionalEncoding):
    """A PositionalEncoding whose table P comes from `table(max_len, num_hiddens)`."""

    def __init__(self, num_hiddens, dropout, max_len=1000):
        nn.Module.__init__(self)
        self.dropout = nn.Dropout(dropout)
        self.P = self.table(max_len, num_hiddens)[None]  # (1, max_len, D)

    @staticmethod
    def angles(max_len, num_hiddens, step=2):
        return torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, step, dtype=torch.float32)[:num_hiddens // 2] / num_hiddens)

    def table(self, max_len, num_hiddens):
        raise NotImplementedError


def _interleaved(first, second):
    """(L, D/2) and (L, D/2) -> (L, D): first in the even columns, second in the odd ones."""
    return torch.stack([first, second], dim=-1).reshape(first.shape[0], -1)


@WRONG.wrong("positional_encoding", "sin_cos_swapped",
             "sin 与 cos 放反了：偶数列（0, 2, 4, ...）是 sin，奇数列是 cos",
             "sin and cos are swapped: the even columns (0, 2, 4, ...) hold sin, the odd ones cos")
class PositionalEncoding(_Encoding):
    def table(self, max_len, num_hiddens):
        X = self.angles(max_len, num_hiddens)
        return _interleaved(torch.cos(X), torch.sin(X))


@WRONG.wrong("positional_encoding", "exponent_i_over_d",
             "频率的指数用了 i/d 而不是 2i/d：分母应是 10000^(2i/d)",
             "the frequency's exponent is i/d, not 2i/d: the denominator is 10000^(2i/d)")
class PositionalEncoding(_Encoding):  # noqa: F811
    def table(self, max_len, num_hiddens):
        X = self.angles(max_len, num_hiddens, step=1)
        return _interleaved(torch.sin(X), torch.cos(X))


@WRONG.wrong("positional_encoding", "halves_not_interleaved",
             "sin 放在前一半、cos 放在后一半：d2l 把它们交错放在偶数列和奇数列（P[:, :, 0::2]、P[:, :, 1::2]）",
             "sin in the first half and cos in the second: d2l interleaves them in the even and odd columns "
             "(P[:, :, 0::2], P[:, :, 1::2])")
class PositionalEncoding(_Encoding):  # noqa: F811
    def table(self, max_len, num_hiddens):
        X = self.angles(max_len, num_hiddens)
        return torch.cat([torch.sin(X), torch.cos(X)], dim=1)


@WRONG.wrong("positional_encoding", "positions_from_one",
             "位置从 1 开始编号：第一个词的位置是 0",
             "the positions start at 1: the first token's position is 0")
class PositionalEncoding(_Encoding):  # noqa: F811
    def table(self, max_len, num_hiddens):
        X = self.angles(max_len + 1, num_hiddens)[1:]
        return _interleaved(torch.sin(X), torch.cos(X))


@WRONG.wrong("positional_encoding", "encoding_dropout_not_rescaled",
             "dropout 保留的元素没有乘以 1/(1-p)：训练时的期望值变小了，与评估模式不一致（nn.Dropout 会自动缩放）",
             "dropout's kept elements were not scaled by 1/(1-p): the expected value shrinks in training and no "
             "longer matches eval mode (nn.Dropout rescales by itself)")
class PositionalEncoding(ref.PositionalEncoding):  # noqa: F811
    def forward(self, X):
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        if self.training:  # dropout written by hand: the right elements dropped, the kept ones left as they were
            X = X * (torch.rand_like(X) >= self.dropout.p).float()
        return X


@WRONG.wrong("positional_encoding", "encoding_dropout_at_half_the_rate",
             "dropout 的比例只有要求的一半：应丢弃约 p 的元素",
             "dropout at half the asked rate: about a fraction p of the elements is dropped")
class PositionalEncoding(ref.PositionalEncoding):  # noqa: F811
    def forward(self, X):
        return F.dropout(X + self.P[:, :X.shape[1], :].to(X.device), self.dropout.p / 2, self.training)


@WRONG.wrong("positional_encoding", "dropout_on_x_only",
             "dropout 只作用在 X 上：应先相加再 dropout，Dropout(X + P)",
             "dropout acted on X alone: add first, then drop out, Dropout(X + P)")
class PositionalEncoding(ref.PositionalEncoding):  # noqa: F811
    def forward(self, X):
        return self.dropout(X) + self.P[:, :X.shape[1], :].to(X.device)


@WRONG.wrong("positional_encoding", "dropout_twice",
             "dropout 做了两次：代码框之后的 return self.dropout(X) 已经做了 dropout，框内只需 X = X + P",
             "dropout applied twice: the return self.dropout(X) after the region already drops out; inside it, "
             "X = X + P only")
class PositionalEncoding(ref.PositionalEncoding):  # noqa: F811
    def forward(self, X):
        X = self.dropout(X + self.P[:, :X.shape[1], :].to(X.device))
        return self.dropout(X)


@WRONG.wrong("positional_encoding", "no_dropout",
             "训练模式下没有 dropout：返回的应是 self.dropout(X + P)",
             "no dropout in train mode: return self.dropout(X + P)")
class PositionalEncoding(ref.PositionalEncoding):  # noqa: F811
    def forward(self, X):
        return X + self.P[:, :X.shape[1], :].to(X.device)


# ---------------------------------------------------------------- EncoderBlock
@WRONG.wrong("encoder_block", "ffn_reads_x",
             "前馈网络读的是块的输入 X：它应读第一个 AddNorm 的输出 Y",
             "the FFN read the block's input X: it reads the first AddNorm's output Y")
class EncoderBlock(ref.EncoderBlock):
    def forward(self, X, valid_lens):
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
        return self.addnorm2(Y, self.ffn(X))


@WRONG.wrong("encoder_block", "second_residual_from_x",
             "第二个残差连接加的是块的输入 X：应加第一个 AddNorm 的输出 Y",
             "the second residual connection added the block's input X: it adds the first AddNorm's output Y")
class EncoderBlock(ref.EncoderBlock):  # noqa: F811
    def forward(self, X, valid_lens):
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
        return self.addnorm2(X, self.ffn(Y))


@WRONG.wrong("encoder_block", "valid_lens_ignored",
             "自注意力没有用 valid_lens：填充的词元也被注意到了",
             "the self-attention ignored valid_lens: padding tokens got attention")
class EncoderBlock(ref.EncoderBlock):  # noqa: F811
    def forward(self, X, valid_lens):
        return super().forward(X, None)


@WRONG.wrong("encoder_block", "pre_norm",
             "用了 pre-norm（X + 子层(LayerNorm(X))）：d2l 与 nn.TransformerEncoderLayer 默认是 post-norm，"
             "LayerNorm(X + 子层(X))",
             "pre-norm (X + sublayer(LayerNorm(X))): d2l and nn.TransformerEncoderLayer's default are post-norm, "
             "LayerNorm(X + sublayer(X))")
class EncoderBlock(ref.EncoderBlock):  # noqa: F811
    def forward(self, X, valid_lens):
        Z = self.addnorm1.ln(X)
        Y = X + self.attention(Z, Z, Z, valid_lens)
        return Y + self.ffn(self.addnorm2.ln(Y))


@WRONG.wrong("encoder_block", "addnorm_arguments_swapped",
             "AddNorm 的两个参数放反了：addnorm(X, 子层(X))，第一个是残差 X；放反后 dropout 丢的是残差而不是子层的输出",
             "AddNorm's arguments swapped: addnorm(X, sublayer(X)), the residual X first; swapped, the dropout drops "
             "the residual instead of the sublayer's output")
class EncoderBlock(ref.EncoderBlock):  # noqa: F811
    def forward(self, X, valid_lens):
        Y = self.addnorm1(self.attention(X, X, X, valid_lens), X)
        return self.addnorm2(self.ffn(Y), Y)


@WRONG.wrong("encoder_block", "addnorm_without_dropout",
             "AddNorm 没有拿到 dropout：AddNorm(norm_shape, dropout)，两个子层的输出都要 dropout",
             "the AddNorms were built without the dropout: AddNorm(norm_shape, dropout), both sublayers' outputs "
             "are dropped out")
class EncoderBlock(ref.EncoderBlock):  # noqa: F811
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.addnorm1.dropout, self.addnorm2.dropout = nn.Dropout(0), nn.Dropout(0)


@WRONG.wrong("encoder_block", "first_dropout_at_half_the_rate",
             "第一个 AddNorm 的 dropout 只有要求的一半：两个 AddNorm 都用 EncoderBlock 的 dropout",
             "the first AddNorm's dropout is at half the asked rate: both AddNorms take the EncoderBlock's dropout")
class EncoderBlock(ref.EncoderBlock):  # noqa: F811
    def forward(self, X, valid_lens):
        attended = self.attention(X, X, X, valid_lens)
        Y = self.addnorm1.ln(X + F.dropout(attended, self.addnorm1.dropout.p / 2, self.training))
        return self.addnorm2(Y, self.ffn(Y))


@WRONG.wrong("encoder_block", "dropout_on_block_output",
             "对块的输出又做了一次 dropout：dropout 只在每个子层的输出上（AddNorm 里）",
             "the block's output was dropped out once more: dropout sits only on each sublayer's output (in AddNorm)")
class EncoderBlock(ref.EncoderBlock):  # noqa: F811
    def forward(self, X, valid_lens):
        return self.addnorm2.dropout(super().forward(X, valid_lens))


# ---------------------------------------------------------------- the decoder's masked self-attention
@WRONG.wrong("masked_self_attention", "no_mask",
             "没有遮蔽（dec_valid_lens 为 None 或都等于 T）：每个位置都看到了后面的词元",
             "no mask (dec_valid_lens None, or all T): every position saw the tokens after it")
def decoder_self_attention(attention, X):
    return attention(X, X, X, None)


@WRONG.wrong("masked_self_attention", "lens_from_zero",
             "dec_valid_lens 从 0 开始（arange(0, T)）：第 t 个位置应能看到 t + 1 个位置（0..t），包括它自己",
             "dec_valid_lens starts at 0 (arange(0, T)): position t sees t + 1 positions (0..t), itself included")
def decoder_self_attention(attention, X):  # noqa: F811
    B, T, _ = X.shape
    return attention(X, X, X, torch.arange(0, T, device=X.device).repeat(B, 1))


@WRONG.wrong("masked_self_attention", "lens_interleaved",
             "用了 repeat_interleave 再 reshape：每一行都应是 1, 2, ..., T（用 repeat(batch_size, 1)）",
             "repeat_interleave then reshape: every row is 1, 2, ..., T (use repeat(batch_size, 1))")
def decoder_self_attention(attention, X):  # noqa: F811
    B, T, _ = X.shape
    return attention(X, X, X, torch.arange(1, T + 1, device=X.device).repeat_interleave(B).reshape(B, T))


@WRONG.wrong("masked_self_attention", "lens_reversed",
             "dec_valid_lens 倒过来了（T, ..., 1）：第一个位置只应看到它自己",
             "dec_valid_lens is reversed (T, ..., 1): the first position sees only itself")
def decoder_self_attention(attention, X):  # noqa: F811
    B, T, _ = X.shape
    return attention(X, X, X, torch.arange(T, 0, -1, device=X.device).repeat(B, 1))


# ---------------------------------------------------------------- the quiz
WRONG.answers("transformer_quiz", "one_z_per_layer",
              "每个头各算出一个 Z：8 个头就有 8 个 Z 矩阵", "every head computes its own Z: 8 heads, 8 Z matrices",
              num_z_matrices=1)
WRONG.answers("transformer_quiz", "z_full_width",
              "每个头的 Z 只有 d_model / 头数 = 64 维；拼接之后才是 512 维",
              "each head's Z is d_model / heads = 64 wide; only the concatenation is 512 wide",
              z_shape=(2, 512))
WRONG.answers("transformer_quiz", "concatenated_by_rows",
              "8 个 Z 沿特征维（列）拼接：还是 2 行（每个词一行）",
              "the 8 Z matrices are concatenated along the features (columns): still 2 rows, one per word",
              concat_shape=(16, 64))
WRONG.answers("transformer_quiz", "divide_by_heads",
              "除以 8 与头数无关：8 = sqrt(d_k) = sqrt(64)",
              "dividing by 8 has nothing to do with the heads: 8 = sqrt(d_k) = sqrt(64)",
              why_divide_by_8="A")
WRONG.answers("transformer_quiz", "queries_from_encoder",
              "编码器-解码器注意力的查询来自解码器（前一个解码器层的输出），键和值来自编码器的输出",
              "in encoder-decoder attention the queries come from the decoder (the previous decoder layer), "
              "the keys and values from the encoder's output",
              enc_dec_queries="B")
WRONG.answers("transformer_quiz", "weights_heads_not_folded",
              "d2l 的 attention_weights 把头并入了批量维：(B*h, 解码器步数, 源序列长度)",
              "d2l's attention_weights hold the heads in the batch axis: (B*h, decoder steps, source length)",
              enc_dec_weights_shape=(2, 5, 7))
WRONG.answers("transformer_quiz", "output_per_key",
              "输出每个查询（解码器的每个时间步）一行：(B, 解码器步数, num_hiddens)，与源序列的长度无关",
              "the output has one row per query (decoder step): (B, decoder steps, num_hiddens), whatever the "
              "source length",
              enc_dec_output_shape=(2, 7, 16))
WRONG.answers("transformer_quiz", "layer_norm_over_batch",
              "LayerNorm 不在批量上统计：它对每个词元（每个位置）的特征各自规范化",
              "LayerNorm does not take statistics over the batch: it normalises each token's features",
              why_add_norm="AB")
