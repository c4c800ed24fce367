"""LSTM, GRU and a 2-layer LSTM from scratch in d2l's API (seed 004), an `LSTMCell` module with one
weight per gate (seed 001, fixed), and a character language model: the reference for
`05_rnn_from_scratch`.

Shapes: T time steps, B batch, V vocabulary size (one-hot inputs), H hidden units.
`inputs` is a sequence of T steps of shape (B, V) (a (T, B, V) tensor or a list); the models
return the T outputs concatenated to (T*B, V) and the final state, as in d2l.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

from reference_solutions.corpus import load_corpus, seq_data_iter_sequential  # noqa: F401  (given)


# <level: lstm>
def get_lstm_params(vocab_size, num_hiddens, device):
    """[W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q]"""
    num_inputs = num_outputs = vocab_size
    ##########Begin##########
    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    def three():
        return (normal((num_inputs, num_hiddens)),  # W_x*: (V, H)
                normal((num_hiddens, num_hiddens)),  # W_h*: (H, H)
                torch.zeros(num_hiddens, device=device))  # b_*: (H,)

    W_xi, W_hi, b_i = three()  # 输入门 / input gate
    W_xf, W_hf, b_f = three()  # 遗忘门 / forget gate
    W_xo, W_ho, b_o = three()  # 输出门 / output gate
    W_xc, W_hc, b_c = three()  # 候选记忆元 / candidate memory cell
    W_hq = normal((num_hiddens, num_outputs))  # 输出层 / output layer: (H, V)
    b_q = torch.zeros(num_outputs, device=device)  # (V,)
    params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params
    ##########End##########


def init_lstm_state(batch_size, num_hiddens, device):
    """(H, C), both zeros of shape (B, H)."""
    ##########Begin##########
    return (torch.zeros((batch_size, num_hiddens), device=device),
            torch.zeros((batch_size, num_hiddens), device=device))
    ##########End##########


def lstm(inputs, state, params):
    """inputs: T steps of (B, V); state: (H, C) -> outputs (T*B, V), (H, C)"""
    ##########Begin##########
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q] = params
    H, C = state  # (B, H), (B, H)
    outputs = []
    for X in inputs:  # X: (B, V)
        I = torch.sigmoid(X @ W_xi + H @ W_hi + b_i)  # (B, H)
        F = torch.sigmoid(X @ W_xf + H @ W_hf + b_f)  # (B, H)
        O = torch.sigmoid(X @ W_xo + H @ W_ho + b_o)  # (B, H)
        C_tilda = torch.tanh(X @ W_xc + H @ W_hc + b_c)  # (B, H)
        C = F * C + I * C_tilda  # (B, H)
        H = O * torch.tanh(C)  # (B, H)
        outputs.append(H @ W_hq + b_q)  # (B, V)
    return torch.cat(outputs, dim=0), (H, C)  # (T*B, V)
    ##########End##########
# </level>


# <level: gru>
def get_params(vocab_size, num_hiddens, device):
    """[W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]"""
    num_inputs = num_outputs = vocab_size
    ##########Begin##########
    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    def three():
        return (normal((num_inputs, num_hiddens)),  # (V, H)
                normal((num_hiddens, num_hiddens)),  # (H, H)
                torch.zeros(num_hiddens, device=device))  # (H,)

    W_xz, W_hz, b_z = three()  # 更新门 / update gate
    W_xr, W_hr, b_r = three()  # 重置门 / reset gate
    W_xh, W_hh, b_h = three()  # 候选隐状态 / candidate hidden state
    W_hq = normal((num_hiddens, num_outputs))  # (H, V)
    b_q = torch.zeros(num_outputs, device=device)  # (V,)
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params
    ##########End##########


def init_gru_state(batch_size, num_hiddens, device):
    """(H,): a tuple of one (B, H) zeros tensor."""
    ##########Begin##########
    return (torch.zeros((batch_size, num_hiddens), device=device),)
    ##########End##########


def gru(inputs, state, params):
    """inputs: T steps of (B, V); state: (H,) -> outputs (T*B, V), (H,)"""
    ##########Begin##########
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state  # (B, H)
    outputs = []
    for X in inputs:  # X: (B, V)
        Z = torch.sigmoid(X @ W_xz + H @ W_hz + b_z)  # (B, H)
        R = torch.sigmoid(X @ W_xr + H @ W_hr + b_r)  # (B, H)
        H_tilda = torch.tanh(X @ W_xh + (R * H) @ W_hh + b_h)  # (B, H)
        H = Z * H + (1 - Z) * H_tilda  # (B, H)
        outputs.append(H @ W_hq + b_q)  # (B, V)
    return torch.cat(outputs, dim=0), (H,)  # (T*B, V)
    ##########End##########
# </level>


# <level: multi_lstm>
def get_multi_lstm_params(vocab_size, num_hiddens, num_layers, device):
    """12 tensors per layer (as get_lstm_params, layer l > 0 reading H inputs), then W_hq, b_q."""
    num_inputs = num_outputs = vocab_size
    ##########Begin##########
    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    def three(in_size, out_size):
        return (normal((in_size, out_size)),  # (V or H, H)
                normal((out_size, out_size)),  # (H, H)
                torch.zeros(out_size, device=device))  # (H,)

    params = []
    for layer in range(num_layers):
        in_size = num_inputs if layer == 0 else num_hiddens
        for _ in range(4):  # 输入门、遗忘门、输出门、候选记忆元 / input, forget, output gates, candidate
            params.extend(three(in_size, num_hiddens))
    params.extend([normal((num_hiddens, num_outputs)),  # W_hq: (H, V)
                   torch.zeros(num_outputs, device=device)])  # b_q: (V,)
    for param in params:
        param.requires_grad_(True)
    return params
    ##########End##########


def init_multi_lstm_state(batch_size, num_hiddens, num_layers, device):
    """[(H, C)] * num_layers, zeros of shape (B, H)."""
    ##########Begin##########
    return [(torch.zeros((batch_size, num_hiddens), device=device),
             torch.zeros((batch_size, num_hiddens), device=device))
            for _ in range(num_layers)]
    ##########End##########


def multi_lstm(inputs, state, params, num_layers):
    """inputs: T steps of (B, V); state: [(H, C)] per layer -> outputs (T*B, V), [(H, C)] per layer"""
    ##########Begin##########
    new_state = []
    layer_inputs = list(inputs)  # T steps of (B, V), then of (B, H)
    for layer in range(num_layers):
        W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c = params[12 * layer:12 * (layer + 1)]
        H, C = state[layer]  # (B, H), (B, H)
        layer_outputs = []
        for X in layer_inputs:
            I = torch.sigmoid(X @ W_xi + H @ W_hi + b_i)  # (B, H)
            F = torch.sigmoid(X @ W_xf + H @ W_hf + b_f)
            O = torch.sigmoid(X @ W_xo + H @ W_ho + b_o)
            C_tilda = torch.tanh(X @ W_xc + H @ W_hc + b_c)
            C = F * C + I * C_tilda
            H = O * torch.tanh(C)
            layer_outputs.append(H)
        layer_inputs = layer_outputs  # 这一层的 H 是下一层的输入 / this layer's H feeds the next
        new_state.append((H, C))
    W_hq, b_q = params[-2], params[-1]
    outputs = [H @ W_hq + b_q for H in layer_inputs]  # T of (B, V)
    return torch.cat(outputs, dim=0), new_state  # (T*B, V)
    ##########End##########
# </level>


# <level: lstm_cell>
class LSTMCell(nn.Module):
    """One LSTM step with its own Linear per gate; the output is log-softmax over output_size."""

    def __init__(self, input_size, hidden_size, cell_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.cell_size = cell_size  # = hidden_size: H = O * tanh(C)
        ##########Begin##########
        self.forget_gate = nn.Linear(input_size + hidden_size, cell_size)
        self.input_gate = nn.Linear(input_size + hidden_size, cell_size)
        self.output_gate = nn.Linear(input_size + hidden_size, cell_size)
        self.candidate = nn.Linear(input_size + hidden_size, cell_size)
        ##########End##########
        self.output = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden, cell):
        # input: (B, input_size); hidden, cell: (B, H)
        ##########Begin##########
        combined = torch.cat((input, hidden), 1)  # (B, input_size + H)
        f_gate = torch.sigmoid(self.forget_gate(combined))  # (B, H)
        i_gate = torch.sigmoid(self.input_gate(combined))
        o_gate = torch.sigmoid(self.output_gate(combined))
        z_state = torch.tanh(self.candidate(combined))
        cell = f_gate * cell + i_gate * z_state  # (B, H)
        hidden = o_gate * torch.tanh(cell)  # (B, H)
        output = self.softmax(self.output(hidden))  # (B, output_size)
        return output, hidden, cell
        ##########End##########

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)

    def initCell(self):
        return torch.zeros(1, self.cell_size)
# </level>


# <scaffold: language_model>
# <stamp: corpus corpus>


class RNNModelScratch:
    """d2l's RNNModelScratch: a model of params from get_params, run by forward_fn."""

    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)  # (B, T) -> (T, B, V)
        return self.forward_fn(X, state, self.params)  # (T*B, V), state

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)


def detach_state(state):
    """The state cut from the previous minibatch's graph (any nesting of tuples and lists)."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    return type(state)(detach_state(s) for s in state)


def train_lm(net, corpus, batch_size, num_steps, lr, num_epochs, device):
    """d2l's train_ch8 for a scratch model, sequential partitioning: the last epoch's perplexity."""
    for epoch in range(num_epochs):
        state, total_loss, total_tokens = None, 0.0, 0
        for X, Y in seq_data_iter_sequential(corpus, batch_size, num_steps):
            X, Y = X.to(device), Y.to(device)
            state = net.begin_state(batch_size, device) if state is None else detach_state(state)
            y_hat, state = net(X, state)  # (T*B, V)
            loss = F.cross_entropy(y_hat, Y.T.reshape(-1))  # mean over the T*B tokens
            for param in net.params:
                param.grad = None
            loss.backward()
            grad_clipping(net.params, 1)
            with torch.no_grad():
                for param in net.params:
                    param -= lr * param.grad  # SGD
            total_loss += loss.item() * Y.numel()
            total_tokens += Y.numel()
    return math.exp(total_loss / total_tokens)


def predict(prefix, num_preds, net, idx_to_char, device):
    """d2l's predict_ch8: warm up on `prefix`, then append `num_preds` greedy characters."""
    char_to_idx = {c: i for i, c in enumerate(idx_to_char)}
    state = net.begin_state(1, device)
    outputs = [char_to_idx[prefix[0]]]
    for c in prefix[1:]:  # warm-up: only the state matters
        _, state = net(torch.tensor([[outputs[-1]]], device=device), state)
        outputs.append(char_to_idx[c])
    for _ in range(num_preds):
        y, state = net(torch.tensor([[outputs[-1]]], device=device), state)  # (1, V)
        outputs.append(int(y.argmax(dim=1)))
    return "".join(idx_to_char[i] for i in outputs)
# </scaffold>


# <level: lstm_training>
def grad_clipping(params, theta):
    """Scale every gradient by theta / ||g|| when the global norm ||g|| of all of them exceeds theta."""
    ##########Begin##########
    norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
    ##########End##########
# </level>
