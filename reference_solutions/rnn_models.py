"""Recurrent models from PyTorch's building blocks (seeds 000, 001, 003): two stacked `nn.RNNCell`s
unrolled by hand, seed 001's `RNN` module made to work, a `GRUCell` with its own weights per gate,
a bidirectional GRU by hand, d2l's `RNNModel` with `begin_state`, and `predict`: the reference for
`06_rnn_models`.

Shapes: T time steps, B batch, I input features, H hidden units, V vocabulary size.
"""
import torch
from torch import nn
from torch.nn import functional as F

from reference_solutions.corpus import load_corpus, seq_data_iter_sequential  # noqa: F401  (given)


# <level: rnn_cell_stack>
class StackedRNNCells(nn.Module):
    """Two nn.RNNCell layers (seed 003: 100 -> 20 -> 15), unrolled over time by hand."""

    def __init__(self, input_size=100, hidden1=20, hidden2=15):
        super().__init__()
        self.cell1 = nn.RNNCell(input_size, hidden1)
        self.cell2 = nn.RNNCell(hidden1, hidden2)

    def forward(self, x, h1, h2):
        """x: (T, B, I); h1: (B, H1); h2: (B, H2) -> outputs (T, B, H2), (h1, h2) after the last step"""
        outputs = []
        ##########Begin##########
        for xt in x:  # xt: (B, I)
            h1 = self.cell1(xt, h1)  # (B, H1): 第一层 / layer 1
            h2 = self.cell2(h1, h2)  # (B, H2): 第二层读第一层这一步的输出 / layer 2 reads layer 1's new h1
            outputs.append(h2)
        ##########End##########
        return torch.stack(outputs), (h1, h2)  # (T, B, H2)
# </level>


# <level: rnn_module>
class RNN(nn.Module):
    """Seed 001's RNN, working: hidden = tanh(i2h([input, hidden])), output = LogSoftmax(i2o(...))."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        # input: (B, I); hidden: (B, H)
        ##########Begin##########
        combined = torch.cat((input, hidden), 1)  # (B, I + H)
        hidden = torch.tanh(self.i2h(combined))  # (B, H)
        output = self.softmax(self.i2o(combined))  # (B, output_size)
        ##########End##########
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)
# </level>


# <level: gru_cell>
class GRUCell(nn.Module):
    """One GRU step as nn.GRUCell computes it, with its own weights per gate (seed 001, fixed):
    r = σ(W_r [x, h] + b_r), z = σ(W_z [x, h] + b_z), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h; the output is LogSoftmax(output(h'))."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        ##########Begin##########
        self.reset_gate = nn.Linear(input_size + hidden_size, hidden_size)
        self.update_gate = nn.Linear(input_size + hidden_size, hidden_size)
        self.candidate_x = nn.Linear(input_size, hidden_size)
        self.candidate_h = nn.Linear(hidden_size, hidden_size)
        ##########End##########
        self.output = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        # input: (B, I); hidden: (B, H)
        ##########Begin##########
        combined = torch.cat((input, hidden), 1)  # (B, I + H)
        r = torch.sigmoid(self.reset_gate(combined))  # (B, H)
        z = torch.sigmoid(self.update_gate(combined))  # (B, H)
        n = torch.tanh(self.candidate_x(input) + r * self.candidate_h(hidden))  # (B, H)
        hidden = (1 - z) * n + z * hidden  # (B, H)
        ##########End##########
        return self.softmax(self.output(hidden)), hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)
# </level>


# <level: bidirectional_gru>
class BiGRU(nn.Module):
    """A bidirectional GRU layer by hand: one GRUCell reads the sequence forwards, another backwards."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.forward_cell = nn.GRUCell(input_size, hidden_size)
        self.backward_cell = nn.GRUCell(input_size, hidden_size)

    def forward(self, x, h0):
        """x: (T, B, I); h0: (2, B, H) -> Y (T, B, 2H), h_n (2, B, H), as nn.GRU(bidirectional=True)"""
        ##########Begin##########
        h_f, h_b = h0[0], h0[1]  # (B, H) each
        forwards, backwards = [], []
        for xt in x:  # t = 0 .. T-1
            h_f = self.forward_cell(xt, h_f)
            forwards.append(h_f)
        for xt in reversed(x):  # t = T-1 .. 0
            h_b = self.backward_cell(xt, h_b)
            backwards.append(h_b)
        backwards.reverse()  # 按时间顺序排回 / back in time order
        Y = torch.cat([torch.stack(forwards), torch.stack(backwards)], dim=2)  # (T, B, 2H)
        h_n = torch.stack([h_f, h_b])  # (2, B, H): 正向在前 / the forward direction first
        ##########End##########
        return Y, h_n
# </level>


# <level: rnn_model>
class RNNModel(nn.Module):
    """d2l's RNNModel (seed 000): one-hot inputs, an nn.RNN / nn.GRU / nn.LSTM layer, a Linear head."""

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super().__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        ##########Begin##########
        self.num_directions = 2 if self.rnn.bidirectional else 1
        self.linear = nn.Linear(self.num_hiddens * self.num_directions, self.vocab_size)
        ##########End##########

    def forward(self, inputs, state):
        """inputs: (B, T) token ids -> output (T*B, V), the new state"""
        ##########Begin##########
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)  # (T, B, V)
        Y, state = self.rnn(X, state)  # Y: (T, B, directions * H)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))  # (T*B, V)
        ##########End##########
        return output, state

    def begin_state(self, device, batch_size=1):
        """Zeros of (directions * layers, B, H); a pair of them for nn.LSTM."""
        ##########Begin##########
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        if not isinstance(self.rnn, nn.LSTM):
            return torch.zeros(shape, device=device)  # nn.RNN, nn.GRU: one tensor
        return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))  # nn.LSTM: (H, C)
        ##########End##########
# </level>


# <scaffold: language_model>
# <stamp: corpus corpus>


def detach_state(state):
    """The state cut from the previous minibatch's graph (a tensor, or nn.LSTM's pair)."""
    return state.detach() if isinstance(state, torch.Tensor) else tuple(s.detach() for s in state)


def train_lm(net, corpus, batch_size, num_steps, lr, num_epochs, device):
    """d2l's train_ch8 for an nn.Module, sequential partitioning, Adam: the last epoch's perplexity."""
    import math
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        state, total_loss, total_tokens = None, 0.0, 0
        for X, Y in seq_data_iter_sequential(corpus, batch_size, num_steps):
            X, Y = X.to(device), Y.to(device)
            state = net.begin_state(device, batch_size) if state is None else detach_state(state)
            y_hat, state = net(X, state)  # (T*B, V)
            loss = F.cross_entropy(y_hat, Y.T.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1)
            optimizer.step()
            total_loss += loss.item() * Y.numel()
            total_tokens += Y.numel()
    return math.exp(total_loss / total_tokens)
# </scaffold>


# <level: rnn_model_training>
def predict(prefix, num_preds, net, idx_to_char, device):
    """d2l's predict_ch8: warm the state up on `prefix`, then append `num_preds` greedy characters."""
    char_to_idx = {c: i for i, c in enumerate(idx_to_char)}
    ##########Begin##########
    state = net.begin_state(batch_size=1, device=device)
    outputs = [char_to_idx[prefix[0]]]
    for c in prefix[1:]:  # 预热期：只更新状态 / warm-up: only the state matters
        _, state = net(torch.tensor([[outputs[-1]]], device=device), state)
        outputs.append(char_to_idx[c])
    for _ in range(num_preds):  # 预测期：每次取概率最大的字符 / predict: the most likely character each time
        y, state = net(torch.tensor([[outputs[-1]]], device=device), state)  # (1, V)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    ##########End##########
    return "".join(idx_to_char[i] for i in outputs)
# </level>
