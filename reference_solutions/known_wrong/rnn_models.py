"""Known-wrong versions of reference_solutions/rnn_models.py (same names and shapes, wrong values)."""
import torch
from torch import nn
from torch.nn import functional as F

from reference_solutions import rnn_models as ref
from reference_solutions.known_wrong import Registry

WRONG = Registry()


# ---------------------------------------------------------------- two stacked RNNCells
@WRONG.wrong("rnn_cell_stack", "second_cell_reads_old_h1",
             "第二层读的是第一层上一步的 h1：应先更新 h1，再把这一步的 h1 送进第二层",
             "layer 2 read layer 1's previous h1: update h1 first, then feed this step's h1 to layer 2")
class StackedRNNCells(ref.StackedRNNCells):
    def forward(self, x, h1, h2):
        outputs = []
        for xt in x:
            h2 = self.cell2(h1, h2)
            h1 = self.cell1(xt, h1)
            outputs.append(h2)
        return torch.stack(outputs), (h1, h2)


@WRONG.wrong("rnn_cell_stack", "state_not_carried",
             "隐状态没有在时间步之间传递：每一步都从初始的 h1、h2 重新开始",
             "the hidden states are not carried between steps: every step starts again from the initial h1, h2")
class StackedRNNCells(ref.StackedRNNCells):  # noqa: F811
    def forward(self, x, h1, h2):
        outputs = []
        for xt in x:
            new_h1 = self.cell1(xt, h1)
            new_h2 = self.cell2(new_h1, h2)
            outputs.append(new_h2)
        return torch.stack(outputs), (new_h1, new_h2)


@WRONG.wrong("rnn_cell_stack", "time_reversed",
             "时间步的顺序反了：应从 x[0] 读到 x[T-1]",
             "the time steps ran backwards: read x[0] first and x[T-1] last")
class StackedRNNCells(ref.StackedRNNCells):  # noqa: F811
    def forward(self, x, h1, h2):
        outputs = []
        for xt in reversed(x):
            h1 = self.cell1(xt, h1)
            h2 = self.cell2(h1, h2)
            outputs.append(h2)
        return torch.stack(outputs), (h1, h2)


# ---------------------------------------------------------------- seed 001's RNN
@WRONG.wrong("rnn_module", "no_tanh",
             "隐状态没有经过 tanh（种子 001 的写法）：hidden = tanh(i2h(combined))",
             "the hidden state has no tanh (seed 001 as printed): hidden = tanh(i2h(combined))")
class RNN(ref.RNN):
    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        return self.softmax(self.i2o(combined)), self.i2h(combined)


@WRONG.wrong("rnn_module", "output_from_new_hidden",
             "输出用了更新后的隐状态：i2o 应读 [input, 旧 hidden]，与 i2h 相同",
             "the output read the new hidden state: i2o reads [input, old hidden], as i2h does")
class RNN(ref.RNN):  # noqa: F811
    def forward(self, input, hidden):
        hidden = torch.tanh(self.i2h(torch.cat((input, hidden), 1)))
        return self.softmax(self.i2o(torch.cat((input, hidden), 1))), hidden


@WRONG.wrong("rnn_module", "softmax_not_log",
             "输出用了 softmax 而不是 LogSoftmax", "the output uses softmax, not LogSoftmax")
class RNN(ref.RNN):  # noqa: F811
    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        return torch.softmax(self.i2o(combined), dim=1), torch.tanh(self.i2h(combined))


@WRONG.wrong("rnn_module", "relu_for_tanh",
             "隐状态用了 ReLU 而不是 tanh（nn.RNN 默认 tanh）",
             "the hidden state uses ReLU where tanh belongs (nn.RNN's default)")
class RNN(ref.RNN):  # noqa: F811
    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        return self.softmax(self.i2o(combined)), torch.relu(self.i2h(combined))


# ---------------------------------------------------------------- GRUCell
SHARED_GATE = ("所有门共用了同一个 self.gate 线性层（种子 001 的错误）：重置门、更新门和候选状态要各有一套权重",
               "every gate shares the one self.gate Linear (seed 001's bug): the reset gate, update gate and "
               "candidate each need their own weights")


@WRONG.wrong("gru_cell", "shared_gate", *SHARED_GATE)
class GRUCell(nn.Module):
    """Seed 001's GRUCell as printed: one `self.gate` for both gates and the candidate."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.gate = nn.Linear(input_size + hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        z_gate = torch.sigmoid(self.gate(combined))
        r_gate = torch.sigmoid(self.gate(combined))
        h1_state = torch.tanh(self.gate(torch.cat((input, hidden * r_gate), 1)))
        h_state = (1 - z_gate) * hidden + h1_state * z_gate
        return self.softmax(self.output(h_state)), h_state


class _GRUCell(ref.GRUCell):
    def step(self, input, hidden, r, z):
        raise NotImplementedError

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        r, z = torch.sigmoid(self.reset_gate(combined)), torch.sigmoid(self.update_gate(combined))
        hidden = self.step(input, hidden, r, z)
        return self.softmax(self.output(hidden)), hidden


@WRONG.wrong("gru_cell", "reset_before_matmul",
             "重置门乘在了 W_hn 之前（d2l 的写法）：nn.GRUCell 是 r * (W_hn h + b_hn)",
             "the reset gate multiplies h before W_hn (d2l's form): nn.GRUCell computes r * (W_hn h + b_hn)")
class GRUCell(_GRUCell):  # noqa: F811
    def step(self, input, hidden, r, z):
        n = torch.tanh(self.candidate_x(input) + self.candidate_h(r * hidden))
        return (1 - z) * n + z * hidden


@WRONG.wrong("gru_cell", "update_mix_swapped",
             "更新门的两项对调了（种子 001 的写法）：h' = (1 - z) * n + z * h",
             "the update gate's two terms are swapped (seed 001's form): h' = (1 - z) * n + z * h")
class GRUCell(_GRUCell):  # noqa: F811
    def step(self, input, hidden, r, z):
        n = torch.tanh(self.candidate_x(input) + r * self.candidate_h(hidden))
        return z * n + (1 - z) * hidden


@WRONG.wrong("gru_cell", "candidate_sigmoid",
             "候选状态用了 sigmoid 而不是 tanh", "the candidate uses sigmoid where tanh belongs")
class GRUCell(_GRUCell):  # noqa: F811
    def step(self, input, hidden, r, z):
        n = torch.sigmoid(self.candidate_x(input) + r * self.candidate_h(hidden))
        return (1 - z) * n + z * hidden


# ---------------------------------------------------------------- bidirectional GRU
@WRONG.wrong("bidirectional_gru", "backward_not_reordered",
             "反向的输出没有按时间顺序排回：Y[t] 的后半应是反向在读到 x[t] 时的状态",
             "the backward outputs were not put back in time order: Y[t]'s second half is the backward "
             "state after reading x[t]")
class BiGRU(ref.BiGRU):
    def forward(self, x, h0):
        h_f, h_b, forwards, backwards = h0[0], h0[1], [], []
        for xt in x:
            h_f = self.forward_cell(xt, h_f)
            forwards.append(h_f)
        for xt in reversed(x):
            h_b = self.backward_cell(xt, h_b)
            backwards.append(h_b)
        return torch.cat([torch.stack(forwards), torch.stack(backwards)], dim=2), torch.stack([h_f, h_b])


@WRONG.wrong("bidirectional_gru", "backward_reads_forwards",
             "反向的 GRUCell 也是从 x[0] 读起：它应从 x[T-1] 读到 x[0]",
             "the backward GRUCell also read from x[0]: it reads from x[T-1] back to x[0]")
class BiGRU(ref.BiGRU):  # noqa: F811
    def forward(self, x, h0):
        h_f, h_b, forwards, backwards = h0[0], h0[1], [], []
        for xt in x:
            h_f, h_b = self.forward_cell(xt, h_f), self.backward_cell(xt, h_b)
            forwards.append(h_f)
            backwards.append(h_b)
        return torch.cat([torch.stack(forwards), torch.stack(backwards)], dim=2), torch.stack([h_f, h_b])


@WRONG.wrong("bidirectional_gru", "directions_swapped",
             "两个方向的顺序反了：PyTorch 把正向放在前（Y 的前 H 维、h_n[0]）",
             "the two directions are swapped: PyTorch puts the forward direction first (Y's first H features, h_n[0])")
class BiGRU(ref.BiGRU):  # noqa: F811
    def forward(self, x, h0):
        Y, h_n = ref.BiGRU.forward(self, x, h0)
        H = h_n.shape[-1]
        return torch.cat([Y[..., H:], Y[..., :H]], dim=2), h_n.flip(0)


@WRONG.wrong("bidirectional_gru", "one_initial_state",
             "两个方向都从 h0[0] 开始：反向应从 h0[1] 开始",
             "both directions started from h0[0]: the backward one starts from h0[1]")
class BiGRU(ref.BiGRU):  # noqa: F811
    def forward(self, x, h0):
        return ref.BiGRU.forward(self, x, torch.stack([h0[0], h0[0]]))


# ---------------------------------------------------------------- d2l's RNNModel
@WRONG.wrong("rnn_model", "inputs_not_transposed",
             "输入没有转置：inputs 是 (B, T)，应先 inputs.T 变成 (T, B) 再独热编码",
             "the inputs were not transposed: inputs are (B, T); take inputs.T, (T, B), before one_hot")
class RNNModel(ref.RNNModel):
    def forward(self, inputs, state):
        X = F.one_hot(inputs.long(), self.vocab_size).to(torch.float32)  # (B, T, V): time and batch mixed up
        Y, state = self.rnn(X, state)
        return self.linear(Y.reshape((-1, Y.shape[-1]))), state


@WRONG.wrong("rnn_model", "state_ignored",
             "传入的 state 没有用上：self.rnn(X, state)",
             "the state passed in was not used: self.rnn(X, state)")
class RNNModel(ref.RNNModel):  # noqa: F811
    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X)
        return self.linear(Y.reshape((-1, Y.shape[-1]))), state


@WRONG.wrong("rnn_model", "dropout_on_outputs",
             "在循环层的输出上加了 dropout：d2l 的 RNNModel 没有 dropout，训练模式下输出被随机丢弃",
             "a dropout on the recurrent layer's outputs: d2l's RNNModel has none, in train mode the output is "
             "dropped at random")
class RNNModel(ref.RNNModel):  # noqa: F811
    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X, state)
        return self.linear(F.dropout(Y, 0.2, self.training).reshape((-1, Y.shape[-1]))), state


@WRONG.wrong("rnn_model", "begin_state_one_direction",
             "begin_state 没有乘方向数：第一维应是 num_directions * num_layers",
             "begin_state forgot the directions: its first dimension is num_directions * num_layers")
class RNNModel(ref.RNNModel):  # noqa: F811
    def begin_state(self, device, batch_size=1):
        shape = (self.rnn.num_layers, batch_size, self.num_hiddens)
        if not isinstance(self.rnn, nn.LSTM):
            return torch.zeros(shape, device=device)
        return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))


@WRONG.wrong("rnn_model", "lstm_state_one_tensor",
             "nn.LSTM 的状态是 (H, C) 两个张量组成的元组，begin_state 只返回了一个",
             "nn.LSTM's state is a tuple of two tensors (H, C); begin_state returned one")
class RNNModel(ref.RNNModel):  # noqa: F811
    def begin_state(self, device, batch_size=1):
        return torch.zeros((self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens), device=device)


# ---------------------------------------------------------------- predict
@WRONG.wrong("rnn_model_training", "no_warm_up",
             "没有用前缀预热状态：应先把前缀逐字送入网络（只更新状态），再开始预测",
             "the state was not warmed up on the prefix: feed the prefix in first (updating only the state)")
def predict(prefix, num_preds, net, idx_to_char, device):
    char_to_idx = {c: i for i, c in enumerate(idx_to_char)}
    state = net.begin_state(batch_size=1, device=device)
    outputs = [char_to_idx[c] for c in prefix]
    for _ in range(num_preds):
        y, state = net(torch.tensor([[outputs[-1]]], device=device), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join(idx_to_char[i] for i in outputs)


@WRONG.wrong("rnn_model_training", "prefix_last_char_fed_twice",
             "前缀的最后一个字符送入了两次：预热只送到前缀的倒数第二个字符，最后一个由预测的第一步读入",
             "the prefix's last character went in twice: warm up to the second-to-last, the first "
             "prediction step reads the last")
def predict(prefix, num_preds, net, idx_to_char, device):  # noqa: F811
    char_to_idx = {c: i for i, c in enumerate(idx_to_char)}
    state = net.begin_state(batch_size=1, device=device)
    outputs = []
    for c in prefix:
        outputs.append(char_to_idx[c])
        _, state = net(torch.tensor([[outputs[-1]]], device=device), state)
    for _ in range(num_preds):
        y, state = net(torch.tensor([[outputs[-1]]], device=device), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join(idx_to_char[i] for i in outputs)


@WRONG.wrong("rnn_model_training", "fresh_state_each_step",
             "每次预测都从 begin_state 重新开始：状态应一直传下去",
             "every prediction started again from begin_state: the state must be carried along")
def predict(prefix, num_preds, net, idx_to_char, device):  # noqa: F811
    char_to_idx = {c: i for i, c in enumerate(idx_to_char)}
    outputs = [char_to_idx[c] for c in prefix]
    for _ in range(num_preds):
        y, _ = net(torch.tensor([[outputs[-1]]], device=device), net.begin_state(batch_size=1, device=device))
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join(idx_to_char[i] for i in outputs)
