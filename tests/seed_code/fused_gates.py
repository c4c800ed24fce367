# Correct variants in other forms than the reference: all gates from one matmul (the gate
# weights concatenated), a 2-layer LSTM stepped time-major (every layer at step t before step t+1),
# an LSTMCell that stacks its four Linears into one. The checks must accept them.
def lstm(inputs, state, params):
    W_x = torch.cat(params[0:12:3], dim=1)  # (V, 4H): i, f, o, c
    W_h = torch.cat(params[1:12:3], dim=1)  # (H, 4H)
    b = torch.cat(params[2:12:3])  # (4H,)
    W_hq, b_q = params[12], params[13]
    H, C = state
    outputs = []
    for X in inputs:
        I, F, O, C_tilda = (X @ W_x + H @ W_h + b).chunk(4, dim=1)
        C = torch.sigmoid(F) * C + torch.sigmoid(I) * torch.tanh(C_tilda)
        H = torch.sigmoid(O) * torch.tanh(C)
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs), (H, C)


def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    W_x, W_h, b = torch.cat([W_xz, W_xr], 1), torch.cat([W_hz, W_hr], 1), torch.cat([b_z, b_r])
    H, = state
    Ys = []
    for X in inputs:
        Z, R = torch.sigmoid(X @ W_x + H @ W_h + b).chunk(2, dim=1)
        H = torch.lerp(torch.tanh(X @ W_xh + (R * H) @ W_hh + b_h), H, Z)  # Z * H + (1 - Z) * H_tilda
        Ys.append(H @ W_hq + b_q)
    return torch.stack(Ys).reshape(-1, W_hq.shape[1]), (H,)


def multi_lstm(inputs, state, params, num_layers):
    state = [tuple(s) for s in state]
    outputs = []
    for X in inputs:
        for layer in range(num_layers):
            p = params[12 * layer:12 * (layer + 1)]
            H, C = state[layer]
            gates = X @ torch.cat(p[0::3], 1) + H @ torch.cat(p[1::3], 1) + torch.cat(p[2::3])
            I, F, O, C_tilda = gates.chunk(4, dim=1)
            C = torch.sigmoid(F) * C + torch.sigmoid(I) * torch.tanh(C_tilda)
            X = H = torch.sigmoid(O) * torch.tanh(C)
            state[layer] = (H, C)
        outputs.append(X @ params[-2] + params[-1])
    return torch.cat(outputs), state


class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, cell_size, output_size):
        super().__init__()
        self.hidden_size, self.cell_size = hidden_size, cell_size
        for name in ("forget_gate", "input_gate", "output_gate", "candidate"):
            setattr(self, name, nn.Linear(input_size + hidden_size, cell_size))
        self.output = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden, cell):
        gates = (self.forget_gate, self.input_gate, self.output_gate, self.candidate)
        W = torch.cat([g.weight for g in gates])  # (4H, in + H)
        b = torch.cat([g.bias for g in gates])
        f, i, o, z = nn.functional.linear(torch.cat((input, hidden), 1), W, b).chunk(4, dim=1)
        cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(z)
        hidden = torch.sigmoid(o) * torch.tanh(cell)
        return torch.log_softmax(self.output(hidden), dim=1), hidden, cell


def grad_clipping(params, theta):
    torch.nn.utils.clip_grad_norm_(params, theta)
