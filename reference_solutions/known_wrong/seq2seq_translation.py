"""Known-wrong versions of reference_solutions/seq2seq_translation.py (same shapes, wrong values).

The `training` mistakes are trained models (`model`), trained here for a few hundred epochs on
one thread (well under a second in all).
"""
import numpy as np
import torch
from torch import nn

from reference_solutions import seq2seq_translation as ref
from reference_solutions.known_wrong import Registry
from reference_solutions.seq2seq_translation import char_dic, char_list, n_class, n_hidden, seq_len

WRONG = Registry()


def _encode(words, inputs, outputs, targets):
    """The tensors of make_batch from strings already laid out: (B, T, C), (B, T+1, C), (B, T+1)."""
    def one_hot(w):
        return np.eye(n_class)[[char_dic[c] for c in w]]

    return (torch.tensor(np.array([one_hot(w) for w in inputs]), dtype=torch.float32),
            torch.tensor(np.array([one_hot(w) for w in outputs]), dtype=torch.float32),
            torch.tensor([[char_dic[c] for c in w] for w in targets], dtype=torch.long))


def _pad(word, n=seq_len):
    return word + 'P' * (n - len(word))


# ---------------------------------------------------------------- make_batch
@WRONG.wrong("make_batch", "target_not_shifted",
             "目标没有错开一位：目标应是译文 + 'E'，而不是解码器的输入 'S' + 译文",
             "the target is not shifted: it is the translation + 'E', not the decoder input 'S' + translation")
def make_batch(seq_data):
    pairs = [(_pad(a), _pad(b)) for a, b in seq_data]
    return _encode(pairs, [a for a, _ in pairs], ['S' + b for _, b in pairs], ['S' + b for _, b in pairs])


@WRONG.wrong("make_batch", "end_before_padding",
             "'E' 放错了位置：本实训先把译文用 'P' 补齐到 seq_len，再在最后加 'E'",
             "'E' is misplaced: here the translation is padded with 'P' to seq_len first, then 'E' goes last")
def make_batch(seq_data):  # noqa: F811
    pairs = [(_pad(a), b) for a, b in seq_data]
    return _encode(pairs, [a for a, _ in pairs], ['S' + _pad(b) for _, b in pairs],
                   [_pad(b + 'E', seq_len + 1) for _, b in pairs])


@WRONG.wrong("make_batch", "padding_before_word",
             "'P' 补在了单词前面：应补在单词后面", "the 'P' padding went before the word: it goes after it")
def make_batch(seq_data):  # noqa: F811
    pairs = [('P' * (seq_len - len(a)) + a, 'P' * (seq_len - len(b)) + b) for a, b in seq_data]
    return _encode(pairs, [a for a, _ in pairs], ['S' + b for _, b in pairs], [b + 'E' for _, b in pairs])


@WRONG.wrong("make_batch", "no_start_symbol",
             "解码器输入缺少开头的 'S'", "the decoder input does not start with 'S'")
def make_batch(seq_data):  # noqa: F811
    pairs = [(_pad(a), _pad(b)) for a, b in seq_data]
    return _encode(pairs, [a for a, _ in pairs], [b + 'P' for _, b in pairs], [b + 'E' for _, b in pairs])


# ---------------------------------------------------------------- Seq2Seq
class _Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.RNN(input_size=n_class, hidden_size=n_hidden)
        self.decoder = nn.RNN(input_size=n_class, hidden_size=n_hidden)
        self.fc = nn.Linear(n_hidden, n_class)


@WRONG.wrong("seq2seq_model", "decoder_from_zeros",
             "解码器没有从编码器的最终隐藏状态开始（用了传入的初始状态）",
             "the decoder does not start from the encoder's final hidden state (it got the initial state)")
class Seq2Seq(_Seq2Seq):
    def forward(self, enc_input, enc_hidden, dec_input):
        self.encoder(enc_input.transpose(0, 1), enc_hidden)
        outputs, _ = self.decoder(dec_input.transpose(0, 1), enc_hidden)
        return self.fc(outputs)


@WRONG.wrong("seq2seq_model", "decoder_from_first_step",
             "解码器从编码器第一个时间步的状态开始，而不是最后一个",
             "the decoder starts from the encoder's first step, not its last")
class Seq2Seq(_Seq2Seq):  # noqa: F811
    def forward(self, enc_input, enc_hidden, dec_input):
        enc_outputs, _ = self.encoder(enc_input.transpose(0, 1), enc_hidden)
        outputs, _ = self.decoder(dec_input.transpose(0, 1), enc_outputs[:1].contiguous())
        return self.fc(outputs)


@WRONG.wrong("seq2seq_model", "decoder_reuses_encoder",
             "解码时用了 self.encoder 而不是 self.decoder", "it decodes with self.encoder instead of self.decoder")
class Seq2Seq(_Seq2Seq):  # noqa: F811
    def forward(self, enc_input, enc_hidden, dec_input):
        _, h_states = self.encoder(enc_input.transpose(0, 1), enc_hidden)
        outputs, _ = self.encoder(dec_input.transpose(0, 1), h_states)
        return self.fc(outputs)


# ---------------------------------------------------------------- training (trained models)
UNTRAINED = ("模型还没有训练（损失和随机猜测一样）：optimizer.step() 执行了吗？",
             "the model is untrained (its loss is that of random guessing): did optimizer.step() run?")
COPIES_INPUT = ("模型学会了复述解码器的输入：训练时目标没有错开一位（应为 target_batch）",
                "the model repeats its decoder input: it was trained on an unshifted target (use target_batch)")
NOT_FIT = ("还有训练词对没有翻译对：训练得更久一些（直到损失低于 0.001）",
           "not every training pair is translated yet: train longer (until the loss is below 0.001)")


def _trained(epochs, targets):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(4)
        model = ref.Seq2Seq()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        enc, dec, _ = ref.make_batch(ref.seq_data)
        for _ in range(epochs):
            optimizer.zero_grad()
            outputs = model(enc, torch.zeros(1, len(enc), n_hidden), dec).transpose(0, 1)  # (B, T+1, C)
            loss = nn.functional.cross_entropy(outputs.reshape(-1, n_class), targets.reshape(-1))
            loss.backward()
            optimizer.step()
        return model
    finally:
        torch.set_num_threads(threads)


def _register_training_mistakes():
    torch.manual_seed(4)
    WRONG.answers("training", "no_optimizer_step", *UNTRAINED, model=ref.Seq2Seq())
    _, dec, target = ref.make_batch(ref.seq_data)
    WRONG.answers("training", "target_not_shifted", *COPIES_INPUT, model=_trained(150, dec.argmax(2)))
    WRONG.answers("training", "too_few_epochs", *NOT_FIT, model=_trained(120, target))


_register_training_mistakes()


# ---------------------------------------------------------------- translated (use the global `model`)
@WRONG.wrong("translated", "argmax_wrong_axis",
             "取最大值的维度不对：outputs 的形状是 (T+1, 1, n_class)，应在第 2 维（字符）上取 argmax",
             "argmax over the wrong axis: outputs is (T+1, 1, n_class), take it over axis 2 (the characters)")
def translated(word):
    input_batch, output_batch, _ = ref.make_batch([[word, 'P' * len(word)]])
    outputs = model(input_batch, torch.zeros(1, 1, n_hidden), output_batch)  # noqa: F821 (set by the check)
    predict = outputs.data.max(1, keepdim=True)[1]
    decode = [char_list[i] for i in predict]
    print(''.join(decode[:decode.index('P')]))


@WRONG.wrong("translated", "cut_at_end_marker",
             "译文应在第一个 'P'（补齐）处截断，而不是在 'E' 处",
             "cut the translation at the first 'P' (padding), not at 'E'")
def translated(word):  # noqa: F811
    input_batch, output_batch, _ = ref.make_batch([[word, 'P' * len(word)]])
    outputs = model(input_batch, torch.zeros(1, 1, n_hidden), output_batch)  # noqa: F821
    decode = [char_list[i] for i in outputs.data.max(2, keepdim=True)[1]]
    end = decode.index('E') if 'E' in decode else len(decode)
    print(''.join(decode[:end]))


@WRONG.wrong("translated", "keeps_padding",
             "译文没有去掉末尾的补齐 'P' 和 'E'", "the translation keeps the trailing 'P' padding and 'E'")
def translated(word):  # noqa: F811
    input_batch, output_batch, _ = ref.make_batch([[word, 'P' * len(word)]])
    outputs = model(input_batch, torch.zeros(1, 1, n_hidden), output_batch)  # noqa: F821
    print(''.join(char_list[i] for i in outputs.data.max(2, keepdim=True)[1]))
