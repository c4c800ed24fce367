"""Known-wrong versions of reference_solutions/rnn_from_scratch.py (same shapes, wrong values)."""
import torch
from torch import nn

from reference_solutions.known_wrong import Registry, Wrong

WRONG = Registry()


def _lstm(inputs, state, params, step):
    """A d2l LSTM loop whose step is `step(X, H, C, H0, C0, gates) -> (H, C)`."""
    W_hq, b_q = params[12], params[13]
    gates = [params[3 * k:3 * k + 3] for k in range(4)]  # i, f, o, c: (W_x, W_h, b)
    H0, C0 = H, C = state
    outputs = []
    for X in inputs:
        H, C = step(X, H, C, H0, C0, gates)
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H, C)


def _pre(X, H, gate):
    W_x, W_h, b = gate
    return X @ W_x + H @ W_h + b


@WRONG.wrong("lstm", "forget_input_swapped",
             "遗忘门和输入门用反了：C = I * C + F * C_tilda（或两组参数对调）",
             "the forget and input gates are swapped: C = I * C + F * C_tilda (or their parameters swapped)")
def lstm(inputs, state, params):
    def step(X, H, C, H0, C0, g):
        I, F = torch.sigmoid(_pre(X, H, g[1])), torch.sigmoid(_pre(X, H, g[0]))
        O, C_tilda = torch.sigmoid(_pre(X, H, g[2])), torch.tanh(_pre(X, H, g[3]))
        C = F * C + I * C_tilda
        return O * torch.tanh(C), C
    return _lstm(inputs, state, params, step)


@WRONG.wrong("lstm", "tanh_for_sigmoid",
             "门用了 tanh 而不是 sigmoid：门的取值应在 (0, 1)",
             "a gate uses tanh where sigmoid belongs: gates take values in (0, 1)")
def lstm(inputs, state, params):  # noqa: F811
    def step(X, H, C, H0, C0, g):
        I, F = torch.sigmoid(_pre(X, H, g[0])), torch.sigmoid(_pre(X, H, g[1]))
        O, C_tilda = torch.tanh(_pre(X, H, g[2])), torch.tanh(_pre(X, H, g[3]))
        C = F * C + I * C_tilda
        return O * torch.tanh(C), C
    return _lstm(inputs, state, params, step)


@WRONG.wrong("lstm", "cell_not_carried",
             "记忆元 C 没有在时间步之间传递：每一步都从初始的 C 重新开始",
             "the cell state C is not carried between steps: every step starts again from the initial C")
def lstm(inputs, state, params):  # noqa: F811
    def step(X, H, C, H0, C0, g):
        I, F = torch.sigmoid(_pre(X, H, g[0])), torch.sigmoid(_pre(X, H, g[1]))
        O, C_tilda = torch.sigmoid(_pre(X, H, g[2])), torch.tanh(_pre(X, H, g[3]))
        C = F * C0 + I * C_tilda
        return O * torch.tanh(C), C
    return _lstm(inputs, state, params, step)


@WRONG.wrong("lstm", "hidden_from_old_cell",
             "H 用了更新前的 C 计算：应先更新 C，再算 H = O * tanh(C)",
             "H was computed from the old C: update C first, then H = O * tanh(C)")
def lstm(inputs, state, params):  # noqa: F811
    def step(X, H, C, H0, C0, g):
        I, F = torch.sigmoid(_pre(X, H, g[0])), torch.sigmoid(_pre(X, H, g[1]))
        O, C_tilda = torch.sigmoid(_pre(X, H, g[2])), torch.tanh(_pre(X, H, g[3]))
        H = O * torch.tanh(C)
        return H, F * C + I * C_tilda
    return _lstm(inputs, state, params, step)


def _gru(inputs, state, params, candidate, mix):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = torch.sigmoid(X @ W_xr + H @ W_hr + b_r)
        H = mix(Z, H, candidate(X, H, R, W_xh, W_hh, b_h))
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs, dim=0), (H,)


def _d2l_candidate(X, H, R, W_xh, W_hh, b_h):
    return torch.tanh(X @ W_xh + (R * H) @ W_hh + b_h)


@WRONG.wrong("gru", "update_gate_swapped",
             "Z 与 1 - Z 用反了：应为 H = Z * H + (1 - Z) * H_tilda",
             "Z and 1 - Z are swapped: H = Z * H + (1 - Z) * H_tilda")
def gru(inputs, state, params):
    return _gru(inputs, state, params, _d2l_candidate, lambda Z, H, H_tilda: (1 - Z) * H + Z * H_tilda)


@WRONG.wrong("gru", "reset_after_matmul",
             "重置门乘在了 H @ W_hh 之后（nn.GRU 的写法）；d2l 的写法是 (R * H) @ W_hh",
             "the reset gate multiplies H @ W_hh (nn.GRU's form); d2l's form is (R * H) @ W_hh")
def gru(inputs, state, params):  # noqa: F811
    def candidate(X, H, R, W_xh, W_hh, b_h):
        return torch.tanh(X @ W_xh + b_h + R * (H @ W_hh))
    return _gru(inputs, state, params, candidate, lambda Z, H, H_tilda: Z * H + (1 - Z) * H_tilda)


@WRONG.wrong("gru", "no_reset_gate",
             "候选隐状态没有用重置门：应为 tanh(X W_xh + (R * H) W_hh + b_h)",
             "the candidate ignores the reset gate: tanh(X W_xh + (R * H) W_hh + b_h)")
def gru(inputs, state, params):  # noqa: F811
    def candidate(X, H, R, W_xh, W_hh, b_h):
        return torch.tanh(X @ W_xh + H @ W_hh + b_h)
    return _gru(inputs, state, params, candidate, lambda Z, H, H_tilda: Z * H + (1 - Z) * H_tilda)


def _layer(layer_inputs, H, C, p):
    W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c = p
    outputs = []
    for X in layer_inputs:
        I = torch.sigmoid(X @ W_xi + H @ W_hi + b_i)
        F = torch.sigmoid(X @ W_xf + H @ W_hf + b_f)
        O = torch.sigmoid(X @ W_xo + H @ W_ho + b_o)
        C = F * C + I * torch.tanh(X @ W_xc + H @ W_hc + b_c)
        H = O * torch.tanh(C)
        outputs.append(H)
    return outputs, H, C


@WRONG.wrong("multi_lstm", "state_leaks_between_layers",
             "上一层最后的 (H, C) 被当作下一层的初始状态：每层应从自己的状态 state[l] 开始",
             "the lower layer's last (H, C) became the next layer's initial state: "
             "each layer starts from its own state[l]")
def multi_lstm(inputs, state, params, num_layers):
    layer_inputs, new_state = list(inputs), []
    H, C = state[0]
    for layer in range(num_layers):
        layer_inputs, H, C = _layer(layer_inputs, H, C, params[12 * layer:12 * (layer + 1)])
        new_state.append((H, C))
    return torch.cat([H @ params[-2] + params[-1] for H in layer_inputs], dim=0), new_state


@WRONG.wrong("multi_lstm", "final_state_not_updated",
             "返回的状态没有更新：应返回每层最后一步的 (H, C)",
             "the returned state was not updated: return each layer's (H, C) after the last step")
def multi_lstm(inputs, state, params, num_layers):  # noqa: F811
    layer_inputs = list(inputs)
    for layer in range(num_layers):
        layer_inputs, H, C = _layer(layer_inputs, *state[layer], params[12 * layer:12 * (layer + 1)])
    return torch.cat([H @ params[-2] + params[-1] for H in layer_inputs], dim=0), list(state)


@WRONG.wrong("multi_lstm", "output_from_first_layer",
             "输出层接在了第一层的 H 上：应使用最后一层的输出",
             "the output layer reads the first layer's H: it should read the last layer's")
def multi_lstm(inputs, state, params, num_layers):  # noqa: F811
    layer_inputs, new_state, first = list(inputs), [], None
    for layer in range(num_layers):
        layer_inputs, H, C = _layer(layer_inputs, *state[layer], params[12 * layer:12 * (layer + 1)])
        first = layer_inputs if first is None else first
        new_state.append((H, C))
    return torch.cat([H @ params[-2] + params[-1] for H in first], dim=0), new_state


@WRONG.wrong("lstm_cell", "shared_gate",
             "所有门共用同一个 self.gate 线性层（种子 001 的写法）：每个门需要自己的权重",
             "every gate uses the same self.gate Linear (seed 001's code): each gate needs its own weights")
class LSTMCell(nn.Module):
    # Seed 001 (../shared/seeds/001_38c3fc3ee3a07674.txt), as written there.
    def __init__(self, input_size, hidden_size, cell_size, output_size):
        super(LSTMCell, self).__init__()
        self.hidden_size = hidden_size
        self.cell_size = cell_size
        self.gate = nn.Linear(input_size + hidden_size, cell_size)
        self.output = nn.Linear(hidden_size, output_size)
        self.sigmoid = nn.Sigmoid()
        self.tanh = nn.Tanh()
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden, cell):
        combined = torch.cat((input, hidden), 1)
        f_gate = self.sigmoid(self.gate(combined))  # 遗忘门
        i_gate = self.sigmoid(self.gate(combined))  # 输入门
        o_gate = self.sigmoid(self.gate(combined))  # 输出门
        z_state = self.tanh(self.gate(combined))  # 输入状态
        cell = torch.add(torch.mul(cell, f_gate), torch.mul(z_state, i_gate))
        hidden = torch.mul(self.tanh(cell), o_gate)
        output = self.output(hidden)
        output = self.softmax(output)
        return output, hidden, cell

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)

    def initCell(self):
        return torch.zeros(1, self.cell_size)


def lstm_cell(name, zh, en):
    """Registers a class as a wrong `LSTMCell` without rebinding the module's name `LSTMCell`
    (the seed's class above calls super(LSTMCell, self))."""
    def register(cls):
        WRONG.append(Wrong("lstm_cell", name, zh, en, {"LSTMCell": cls}))
        return cls
    return register


class _Cell(nn.Module):
    def __init__(self, input_size, hidden_size, cell_size, output_size):
        super().__init__()
        self.hidden_size, self.cell_size = hidden_size, cell_size
        self.forget_gate = nn.Linear(input_size + hidden_size, cell_size)
        self.input_gate = nn.Linear(input_size + hidden_size, cell_size)
        self.output_gate = nn.Linear(input_size + hidden_size, cell_size)
        self.candidate = nn.Linear(input_size + hidden_size, cell_size)
        self.output = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def gates(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        return (torch.sigmoid(self.forget_gate(combined)), torch.sigmoid(self.input_gate(combined)),
                torch.sigmoid(self.output_gate(combined)), torch.tanh(self.candidate(combined)))


@lstm_cell("cell_forget_input_swapped",
             "遗忘门和输入门用反了：cell = i * cell + f * z",
             "the forget and input gates are swapped: cell = i * cell + f * z")
class SwappedGatesCell(_Cell):
    def forward(self, input, hidden, cell):
        f, i, o, z = self.gates(input, hidden)
        cell = i * cell + f * z
        hidden = o * torch.tanh(cell)
        return self.softmax(self.output(hidden)), hidden, cell


@lstm_cell("no_log_softmax",
             "输出没有经过 LogSoftmax（self.softmax）", "the output was not passed through LogSoftmax (self.softmax)")
class NoLogSoftmaxCell(_Cell):
    def forward(self, input, hidden, cell):
        f, i, o, z = self.gates(input, hidden)
        cell = f * cell + i * z
        hidden = o * torch.tanh(cell)
        return self.output(hidden), hidden, cell


@lstm_cell("cell_hidden_from_old_cell",
             "hidden 用了更新前的 cell 计算", "hidden was computed from the old cell")
class OldCellHiddenCell(_Cell):
    def forward(self, input, hidden, cell):
        f, i, o, z = self.gates(input, hidden)
        hidden = o * torch.tanh(cell)
        cell = f * cell + i * z
        return self.softmax(self.output(hidden)), hidden, cell


@WRONG.wrong("lstm_training", "clip_each_parameter",
             "每个参数各自裁剪到范数 theta：应按所有梯度合起来的范数统一缩放",
             "each parameter was clipped to norm theta on its own: scale all gradients by their global norm")
def grad_clipping(params, theta):
    for param in params:
        norm = torch.sqrt(torch.sum(param.grad ** 2))
        if norm > theta:
            param.grad[:] *= theta / norm


@WRONG.wrong("lstm_training", "always_rescale",
             "范数小于 theta 时也缩放了梯度：只在范数超过 theta 时裁剪",
             "gradients were rescaled even when their norm is below theta: clip only when it exceeds theta")
def grad_clipping(params, theta):  # noqa: F811
    norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
    for param in params:
        param.grad[:] *= theta / norm


@WRONG.wrong("lstm_training", "norm_without_sqrt",
             "范数少了平方根：||g|| = sqrt(所有梯度元素的平方和)",
             "the norm lacks its square root: ||g|| = sqrt(sum of all squared gradient entries)")
def grad_clipping(params, theta):  # noqa: F811
    norm = sum(torch.sum(p.grad ** 2) for p in params)
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
