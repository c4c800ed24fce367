"""Hidden checks of 05_rnn_from_scratch: d2l-style LSTM, GRU, 2-layer LSTM and LSTMCell, checked
against PyTorch's own kernels (nn.LSTM / nn.LSTMCell, cuDNN on a GPU) with the student's weights
mapped into PyTorch's layout, and a character language model trained on a text the student never saw.

Shapes: T time steps, B batch, V vocabulary (input) size, H hidden units. The judge builds every
parameter list from `rng` (seeded per check) in d2l's layout, so hard-coded outputs cannot pass.
"""
import math
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

import reference_solutions.rnn_from_scratch as ref
from autograder.checking import CheckFailed, expect_close, expect_equal, level, mistakes
from autograder.messages import t
from reference_solutions.known_wrong.rnn_from_scratch import WRONG

HIDDEN_TEXT = Path(__file__).parent / "data" / "rnn_from_scratch_hidden.txt"
LSTM_NAMES = ["W_xi", "W_hi", "b_i", "W_xf", "W_hf", "b_f", "W_xo", "W_ho", "b_o",
              "W_xc", "W_hc", "b_c", "W_hq", "b_q"]
GRU_NAMES = ["W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h", "W_hq", "b_q"]

# The training check: about 1 s on one CPU thread (autograder/tools/bench_rnn.py): 160 Adam steps.
TRAINING = dict(num_hiddens=64, batch_size=32, num_steps=16, lr=0.03, num_epochs=40)
# Over 6 initialisations the reference reaches 1.5-1.65, an LSTM whose C is not carried 3.45-5.2,
# the other known-wrong LSTMs 20 and more, a unigram model 16.
PERPLEXITY_THRESHOLD = 2.5


# ---------------------------------------------------------------- parameters the judge builds
def gate_params(rng, in_size, H, scale=0.4):
    """(W_x (in, H), W_h (H, H), b (H,)) drawn from rng."""
    return [torch.randn(in_size, H, generator=rng) * scale, torch.randn(H, H, generator=rng) * scale,
            torch.randn(H, generator=rng) * scale]


def lstm_params(rng, V, H, num_layers=1):
    """d2l's layout: 12 per layer (gates i, f, o, c), then W_hq (H, V), b_q (V,)."""
    params = []
    for layer in range(num_layers):
        for _ in range(4):
            params += gate_params(rng, V if layer == 0 else H, H)
    return params + [torch.randn(H, V, generator=rng) * 0.4, torch.randn(V, generator=rng) * 0.4]


def gru_params(rng, V, H):
    """d2l's layout: (W_x, W_h, b) for gates z, r and the candidate h, then W_hq (H, V), b_q (V,)."""
    return [p for _ in range(3) for p in gate_params(rng, V, H)] + \
        [torch.randn(H, V, generator=rng) * 0.4, torch.randn(V, generator=rng) * 0.4]


def random_state(rng, B, H, n=2):
    return tuple(torch.randn(B, H, generator=rng) * 0.5 for _ in range(n))


# ---------------------------------------------------------------- PyTorch's kernels as oracles
def nn_lstm_weights(params, num_layers):
    """nn.LSTM's weights from d2l's list: gates stacked i, f, g (= c), o; matrices transposed."""
    weights = {}
    for layer in range(num_layers):
        W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c = params[12 * layer:12 * layer + 12]
        weights[f"weight_ih_l{layer}"] = torch.cat([W_xi, W_xf, W_xc, W_xo], dim=1).T  # (4H, in)
        weights[f"weight_hh_l{layer}"] = torch.cat([W_hi, W_hf, W_hc, W_ho], dim=1).T  # (4H, H)
        weights[f"bias_ih_l{layer}"] = torch.cat([b_i, b_f, b_c, b_o])  # (4H,)
        weights[f"bias_hh_l{layer}"] = torch.zeros_like(weights[f"bias_ih_l{layer}"])  # the two biases add up
    return weights


def oracle_lstm(inputs, layer_states, params, device, grad_weights=None):
    """nn.LSTM (cuDNN on a GPU, TF32 off) run with d2l's params: outputs (T*B, V), [(H, C)] per layer.

    grad_weights: (w_out, [(w_H, w_C)] per layer) -> also the gradients of the weighted sum, per param."""
    num_layers = len(layer_states)
    T, B, V = inputs.shape
    H = layer_states[0][0].shape[1]
    model = nn.LSTM(V, H, num_layers).to(device)
    leaves = [p.to(device).requires_grad_(grad_weights is not None) for p in params]
    h0 = torch.stack([s[0] for s in layer_states]).to(device)  # (L, B, H)
    c0 = torch.stack([s[1] for s in layer_states]).to(device)
    with torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True, allow_tf32=False):
        Y, (hn, cn) = torch.func.functional_call(model, nn_lstm_weights(leaves, num_layers),
                                                 (inputs.to(device), (h0, c0)))  # Y: (T, B, H)
        outputs = Y.reshape(-1, H) @ leaves[-2] + leaves[-1]  # (T*B, V)
        state = [(hn[layer], cn[layer]) for layer in range(num_layers)]
        grads = None
        if grad_weights is not None:
            w_out, w_state = grad_weights
            loss = (outputs * w_out.to(device)).sum() + sum(
                (s * w.to(device)).sum() for pair, ws in zip(state, w_state) for s, w in zip(pair, ws))
            grads = [g.cpu() for g in torch.autograd.grad(loss, leaves)]
    return outputs.detach().cpu(), [(h.detach().cpu(), c.detach().cpu()) for h, c in state], grads


def gradients(ns, name, inputs, state, params, extra, w_out, w_state):
    """Runs beside the student's code: the gradients of a weighted sum of `name`'s outputs and
    final state with respect to every parameter (self-contained: it travels as source)."""
    def flat(value):
        if isinstance(value, torch.Tensor):
            return [value]
        return [t for v in value for t in flat(v)]
    params = [p.detach().clone().requires_grad_(True) for p in params]
    outputs, new_state = ns[name](inputs, state, params, *extra)
    loss = (outputs * w_out).sum() + sum((s * w).sum() for s, w in zip(flat(new_state), w_state))
    return [g if g is not None else torch.zeros_like(p)
            for g, p in zip(torch.autograd.grad(loss, params, allow_unused=True), params)]


def param_info(ns, name, args):
    """Runs beside the student's code: requires_grad and device type of each returned parameter."""
    return [(bool(p.requires_grad), p.device.type) for p in ns[name](*args)]


def expect_state(got, expected, device, what, mistake_states=()):
    """got: a tuple/list of tensors (or of (H, C) pairs) equal to `expected`'s."""
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        raise CheckFailed(t(f"{what}应是含 {len(expected)} 项的元组或列表，得到 {type(got).__name__}",
                            f"{what} should be a tuple or list of {len(expected)}, got {type(got).__name__}"))
    for k, (g, e) in enumerate(zip(got, expected)):
        if isinstance(e, (tuple, list)):
            expect_state(g, e, device, f"{what}[{k}]", [(m[k], msg) for m, msg in mistake_states])
        else:
            expect_close(g, e, device=device, what=f"{what}[{k}]",
                         mistakes=[(m[k], msg) for m, msg in mistake_states])


def state_mistakes(wrongs, compute):
    """[(final state of a known-wrong version, its message)]."""
    return [(state, message) for (_, state), message in mistakes(ref, wrongs, compute)]


def output_mistakes(wrongs, compute):
    return [(outputs, message) for (outputs, _), message in mistakes(ref, wrongs, compute)]


# ---------------------------------------------------------------- shapes and initialisation
def check_param_list(student, device, name, args, expected_shapes, names, weights):
    got = student.call(name, *args, device=device)
    if not isinstance(got, (list, tuple)):
        raise CheckFailed(t(f"{name} 应返回参数列表，得到 {type(got).__name__}",
                            f"{name} should return a list of parameters, got {type(got).__name__}"))
    expect_equal(len(got), len(expected_shapes), hints={})
    shapes = [tuple(p.shape) if isinstance(p, torch.Tensor) else None for p in got]
    for k, (shape, expected) in enumerate(zip(shapes, expected_shapes)):
        if shape != expected:
            raise CheckFailed(t(f"第 {k} 个参数 {names[k]} 的形状应为 {expected}，得到 {shape}（顺序与 d2l 相同）",
                                f"parameter {k} ({names[k]}) should have shape {expected}, got {shape} (d2l's order)"))
    for k, p in enumerate(got):
        if k in weights:
            std, mean = p.float().std().item(), p.float().mean().item()
            if not (0.006 < std < 0.014 and abs(mean) < 0.003):
                raise CheckFailed(t(f"{names[k]} 应初始化为 N(0, 0.01²)：得到均值 {mean:.4f}、标准差 {std:.4f}",
                                    f"{names[k]} should start as N(0, 0.01²): got mean {mean:.4f}, std {std:.4f}"))
        elif p.abs().max().item() != 0:
            raise CheckFailed(t(f"偏置 {names[k]} 应初始化为 0", f"the bias {names[k]} should start at 0"))
    info = student.run(param_info, name, args, device=device)
    for k, (requires_grad, where) in enumerate(info):
        if not requires_grad:
            raise CheckFailed(t(f"{names[k]} 没有 requires_grad_(True)：无法训练",
                                f"{names[k]} lacks requires_grad_(True): it cannot be trained"))
        if where != torch.device(device).type:
            raise CheckFailed(t(f"{names[k]} 应在设备 {device} 上创建，得到 {where}",
                                f"{names[k]} should be created on device {device}, got {where}"))


def lstm_shapes(V, H, num_layers=1):
    shapes = []
    for layer in range(num_layers):
        shapes += [(V if layer == 0 else H, H), (H, H), (H,)] * 4
    return shapes + [(H, V), (V,)]


def weight_indices(shapes):
    return {k for k, s in enumerate(shapes) if len(s) == 2}


def check_zero_state(student, device, name, args, expected):
    got = student.call(name, *args, device=device)
    expect_state(got, expected, device, name)


# ---------------------------------------------------------------- LSTM
@level("lstm")
def test_lstm_params_shapes_and_init(student, rng, device):
    """get_lstm_params：14 个参数的形状、顺序与初始化 / get_lstm_params: shapes, order and initialisation of the 14 parameters"""  # noqa: E501
    shapes = lstm_shapes(28, 64)
    check_param_list(student, device, "get_lstm_params", (28, 64, device), shapes, LSTM_NAMES, weight_indices(shapes))


@level("lstm")
def test_init_lstm_state(student, rng, device):
    """init_lstm_state 返回全零的 (H, C) / init_lstm_state returns zero (H, C)"""
    check_zero_state(student, device, "init_lstm_state", (3, 5, device), (torch.zeros(3, 5), torch.zeros(3, 5)))


def check_lstm(student, rng, device, T, B, V, H, one_hot=False):
    params = lstm_params(rng, V, H)
    if one_hot:  # as d2l feeds it: one-hot characters, a zero state
        inputs = F.one_hot(torch.randint(0, V, (T, B), generator=rng), V).float()  # (T, B, V)
        state = (torch.zeros(B, H), torch.zeros(B, H))
    else:
        inputs, state = torch.randn(T, B, V, generator=rng), random_state(rng, B, H)
    got_outputs, got_state = student.call("lstm", inputs, state, params, device=device)
    outputs, [expected_state], _ = oracle_lstm(inputs, [state], params, device)
    compute = lambda ns: ns.lstm(inputs, state, params)  # noqa: E731
    expect_close(got_outputs, outputs, device=device, what="outputs",
                 mistakes=output_mistakes(WRONG.of("lstm"), compute))
    expect_state(got_state, expected_state, device, "(H, C)", state_mistakes(WRONG.of("lstm"), compute))


@level("lstm")
def test_lstm_matches_nn_lstm(student, rng, device):
    """输出与最终 (H, C) 等于 nn.LSTM（映射相同权重） / outputs and final (H, C) equal nn.LSTM with the same weights"""
    check_lstm(student, rng, device, T=6, B=3, V=7, H=5)


@level("lstm")
def test_lstm_one_hot_inputs(student, rng, device):
    """独热输入、零初始状态（d2l 的用法） / one-hot inputs from a zero state (as d2l uses it)"""
    check_lstm(student, rng, device, T=9, B=4, V=11, H=8, one_hot=True)


@level("lstm")
def test_lstm_gradients(student, rng, device):
    """对每个参数的梯度等于 nn.LSTM 的 / the gradients of every parameter equal nn.LSTM's"""
    T, B, V, H = 5, 3, 6, 4
    params, inputs, state = lstm_params(rng, V, H), torch.randn(T, B, V, generator=rng), random_state(rng, B, H)
    w_out, w_state = torch.randn(T * B, V, generator=rng), [torch.randn(B, H, generator=rng) for _ in range(2)]
    got = student.run(gradients, "lstm", inputs, state, params, [], w_out, w_state, device=device)
    _, _, expected = oracle_lstm(inputs, [state], params, device, (w_out, [w_state]))
    for k, name in enumerate(LSTM_NAMES):
        expect_close(got[k], expected[k], device=device, what=f"d loss / d {name}")


# ---------------------------------------------------------------- GRU (d2l's form: nn.GRU is no oracle)
@level("gru")
def test_gru_params_shapes_and_init(student, rng, device):
    """get_params：11 个参数的形状、顺序与初始化 / get_params: shapes, order and initialisation of the 11 parameters"""
    V, H = 28, 64
    shapes = [(V, H), (H, H), (H,)] * 3 + [(H, V), (V,)]
    check_param_list(student, device, "get_params", (V, H, device), shapes, GRU_NAMES, weight_indices(shapes))


@level("gru")
def test_init_gru_state(student, rng, device):
    """init_gru_state 返回 (H,)，H 全零 / init_gru_state returns (H,) with H zero"""
    check_zero_state(student, device, "init_gru_state", (4, 6, device), (torch.zeros(4, 6),))


def check_gru(student, rng, device, T, B, V, H):
    params = gru_params(rng, V, H)
    inputs, state = torch.randn(T, B, V, generator=rng), random_state(rng, B, H, n=1)
    got_outputs, got_state = student.call("gru", inputs, state, params, device=device)
    compute = lambda ns: ns.gru(inputs, state, params)  # noqa: E731
    outputs, expected_state = compute(ref)
    expect_close(got_outputs, outputs, device=device, what="outputs",
                 mistakes=output_mistakes(WRONG.of("gru"), compute))
    expect_state(got_state, expected_state, device, "(H,)", state_mistakes(WRONG.of("gru"), compute))
    return params, inputs, state


@level("gru")
def test_gru_matches_d2l_formulation(student, rng, device):
    """输出与最终 H 等于 d2l 公式的 GRU / outputs and final H equal d2l's GRU"""
    check_gru(student, rng, device, T=7, B=3, V=6, H=5)


@level("gru")
def test_gru_longer_sequence(student, rng, device):
    """更长的序列、更大的批量 / a longer sequence, a larger batch"""
    check_gru(student, rng, device, T=20, B=8, V=10, H=12)


@level("gru")
def test_gru_gradients(student, rng, device):
    """对每个参数的梯度等于参考实现的 / the gradients of every parameter equal the reference's"""
    T, B, V, H = 5, 2, 6, 4
    params = gru_params(rng, V, H)
    inputs, state = torch.randn(T, B, V, generator=rng), random_state(rng, B, H, n=1)
    w_out, w_state = torch.randn(T * B, V, generator=rng), [torch.randn(B, H, generator=rng)]
    got = student.run(gradients, "gru", inputs, state, params, [], w_out, w_state, device=device)
    expected = gradients(vars(ref), "gru", inputs, state, params, [], w_out, w_state)
    for k, name in enumerate(GRU_NAMES):
        expect_close(got[k], expected[k], device=device, what=f"d loss / d {name}")


# ---------------------------------------------------------------- 2-layer LSTM
@level("multi_lstm")
def test_multi_lstm_params_shapes_and_init(student, rng, device):
    """get_multi_lstm_params：两层共 26 个参数的形状与初始化 / get_multi_lstm_params: the 26 parameters of 2 layers"""
    V, H = 28, 64
    shapes = lstm_shapes(V, H, num_layers=2)
    names = [f"{n}(layer {layer})" for layer in range(2) for n in LSTM_NAMES[:12]] + LSTM_NAMES[12:]
    check_param_list(student, device, "get_multi_lstm_params", (V, H, 2, device), shapes, names,
                     weight_indices(shapes))


@level("multi_lstm")
def test_init_multi_lstm_state(student, rng, device):
    """init_multi_lstm_state 每层一个全零的 (H, C) / init_multi_lstm_state: a zero (H, C) per layer"""
    check_zero_state(student, device, "init_multi_lstm_state", (3, 5, 2, device),
                     [(torch.zeros(3, 5), torch.zeros(3, 5))] * 2)


def check_multi_lstm(student, rng, device, T, B, V, H, num_layers):
    params = lstm_params(rng, V, H, num_layers)
    inputs = torch.randn(T, B, V, generator=rng)
    state = [random_state(rng, B, H) for _ in range(num_layers)]
    got_outputs, got_state = student.call("multi_lstm", inputs, state, params, num_layers, device=device)
    outputs, expected_state, _ = oracle_lstm(inputs, state, params, device)
    compute = lambda ns: ns.multi_lstm(inputs, [tuple(s) for s in state], params, num_layers)  # noqa: E731
    expect_close(got_outputs, outputs, device=device, what="outputs",
                 mistakes=output_mistakes(WRONG.of("multi_lstm"), compute))
    expect_state(got_state, expected_state, device, "state", state_mistakes(WRONG.of("multi_lstm"), compute))


@level("multi_lstm")
def test_multi_lstm_matches_nn_lstm_2_layers(student, rng, device):
    """两层：输出与每层最终 (H, C) 等于 nn.LSTM(num_layers=2) / 2 layers: equal nn.LSTM(num_layers=2)"""
    check_multi_lstm(student, rng, device, T=6, B=3, V=7, H=5, num_layers=2)


@level("multi_lstm")
def test_multi_lstm_matches_nn_lstm_3_layers(student, rng, device):
    """三层同样成立 / 3 layers: equal nn.LSTM(num_layers=3)"""
    check_multi_lstm(student, rng, device, T=5, B=2, V=6, H=4, num_layers=3)


@level("multi_lstm")
def test_multi_lstm_gradients(student, rng, device):
    """两层：每个参数的梯度等于 nn.LSTM 的 / 2 layers: the gradients of every parameter equal nn.LSTM's"""
    T, B, V, H, L = 4, 3, 6, 5, 2
    params, inputs = lstm_params(rng, V, H, L), torch.randn(T, B, V, generator=rng)
    state = [random_state(rng, B, H) for _ in range(L)]
    w_out = torch.randn(T * B, V, generator=rng)
    w_state = [[torch.randn(B, H, generator=rng) for _ in range(2)] for _ in range(L)]
    got = student.run(gradients, "multi_lstm", inputs, state, params, [L], w_out,
                      [w for pair in w_state for w in pair], device=device)
    _, _, expected = oracle_lstm(inputs, state, params, device, (w_out, w_state))
    for k in range(len(params)):
        expect_close(got[k], expected[k], device=device, what=f"d loss / d params[{k}]")


# ---------------------------------------------------------------- LSTMCell (seed 001, fixed)
CELL = dict(input_size=7, hidden_size=5, cell_size=5, output_size=6)
GATES = ("input_gate", "forget_gate", "candidate", "output_gate")  # nn.LSTMCell's order i, f, g, o


def cell_state_dict(rng, sizes=CELL):
    """The LSTMCell's weights, drawn from rng: one Linear (H, in + H) per gate, and `output`."""
    state = {}
    for name in GATES:
        state[f"{name}.weight"] = torch.randn(sizes["cell_size"], sizes["input_size"] + sizes["hidden_size"],
                                              generator=rng) * 0.5
        state[f"{name}.bias"] = torch.randn(sizes["cell_size"], generator=rng) * 0.5
    state["output.weight"] = torch.randn(sizes["output_size"], sizes["hidden_size"], generator=rng) * 0.5
    state["output.bias"] = torch.randn(sizes["output_size"], generator=rng) * 0.5
    return state


def oracle_cell(state, input_size):
    """nn.LSTMCell with the same weights: input columns to weight_ih, hidden columns to weight_hh."""
    cell = nn.LSTMCell(input_size, state["input_gate.weight"].shape[0])
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([state[f"{g}.weight"][:, :input_size] for g in GATES]))  # (4H, in)
        cell.weight_hh.copy_(torch.cat([state[f"{g}.weight"][:, input_size:] for g in GATES]))  # (4H, H)
        cell.bias_ih.copy_(torch.cat([state[f"{g}.bias"] for g in GATES]))
        cell.bias_hh.zero_()
    return cell


def student_cell(student, device, state):
    cell = student.call("LSTMCell", *CELL.values())
    keys = student.method(cell, "state_dict")
    if not isinstance(keys, dict):
        raise CheckFailed(t("state_dict() 应返回字典", "state_dict() should return a dict"))
    if any(k.startswith("gate.") for k in keys) or not all(f"{g}.weight" in keys for g in GATES):
        wrong = next(w for w in WRONG.of("lstm_cell") if w.name == "shared_gate")
        message = t(wrong.zh, wrong.en) if any(k.startswith("gate.") for k in keys) else ""
        raise CheckFailed(message or t(
            "LSTMCell 应有 forget_gate、input_gate、output_gate、candidate 四个线性层（每个门一套权重）",
            "LSTMCell should have four Linears forget_gate, input_gate, output_gate, candidate (one per gate)"))
    student.method(cell, "load_state_dict", state)
    student.method(cell, "to", device)
    return cell


def cell_mistakes(state, inputs, steps):
    def compute(ns):
        wrong = ns.LSTMCell(*CELL.values())
        wrong.load_state_dict(state)
        hidden, cell = inputs[1], inputs[2]
        for X in inputs[0][:steps]:
            output, hidden, cell = wrong(X, hidden, cell)
        return output, hidden, cell
    return [(result, message) for result, message in mistakes(ref, WRONG.of("lstm_cell"), compute)]


def run_cell(student, device, cell, inputs, steps):
    hidden, c = inputs[1], inputs[2]
    for X in inputs[0][:steps]:
        output, hidden, c = student.method(cell, "__call__", X, hidden, c, device=device)
    return output, hidden, c


def check_cell(student, rng, device, steps):
    state = cell_state_dict(rng)
    B = 4
    inputs = (torch.randn(steps, B, CELL["input_size"], generator=rng),
              torch.randn(B, CELL["hidden_size"], generator=rng) * 0.5,
              torch.randn(B, CELL["cell_size"], generator=rng) * 0.5)
    cell = student_cell(student, device, state)
    output, hidden, c = run_cell(student, device, cell, inputs, steps)
    oracle = oracle_cell(state, CELL["input_size"])
    h, cc = inputs[1], inputs[2]
    with torch.no_grad():
        for X in inputs[0]:
            h, cc = oracle(X, (h, cc))
        expected_output = torch.log_softmax(h @ state["output.weight"].T + state["output.bias"], dim=1)
    wrong = cell_mistakes(state, inputs, steps)
    expect_close(hidden, h, device=device, what="hidden", mistakes=[(w[1], m) for w, m in wrong])
    expect_close(c, cc, device=device, what="cell", mistakes=[(w[2], m) for w, m in wrong])
    expect_close(output, expected_output, device=device, what="output", mistakes=[(w[0], m) for w, m in wrong])


@level("lstm_cell")
def test_cell_has_one_linear_per_gate(student, rng, device):
    """每个门有自己的线性层（修正种子 001 的共用 gate） / one Linear per gate (seed 001's shared gate fixed)"""
    state = cell_state_dict(rng)
    cell = student_cell(student, device, state)  # load_state_dict: the same names and shapes
    loaded = student.method(cell, "state_dict")
    for name, value in state.items():  # two gates that share one Linear cannot hold two weights
        expect_close(loaded.get(name), value, device=device, what=name)


@level("lstm_cell")
def test_cell_one_step_matches_nn_lstm_cell(student, rng, device):
    """一步：hidden、cell 等于 nn.LSTMCell（映射相同权重） / one step: hidden and cell equal nn.LSTMCell"""
    check_cell(student, rng, device, steps=1)


@level("lstm_cell")
def test_cell_three_steps(student, rng, device):
    """连续三步，状态逐步传递 / three steps, the state carried from step to step"""
    check_cell(student, rng, device, steps=3)


@level("lstm_cell")
def test_cell_output_is_log_softmax(student, rng, device):
    """输出是 LogSoftmax(output(hidden))，每行 exp 之和为 1 / the output is LogSoftmax(output(hidden))"""
    state = cell_state_dict(rng)
    X, hidden, c = (torch.randn(3, CELL["input_size"], generator=rng), torch.zeros(3, 5), torch.zeros(3, 5))
    cell = student_cell(student, device, state)
    output, _, _ = student.method(cell, "__call__", X, hidden, c, device=device)
    wrong = cell_mistakes(state, (X[None], hidden, c), 1)
    expect_close(output.exp().sum(dim=1), torch.ones(3), device=device, what="exp(output).sum(1)",
                 mistakes=[(w[0].exp().sum(dim=1), m) for w, m in wrong])


# ---------------------------------------------------------------- gradient clipping and training
def clip(ns, grads, theta):
    """Runs beside the student's code: grad_clipping on parameters whose .grad are `grads`."""
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    ns["grad_clipping"](params, theta)
    return [p.grad for p in params]


def check_clipping(student, device, grads, theta):
    got = student.run(clip, grads, theta, device=device)
    flat = lambda gs: torch.cat([g.reshape(-1) for g in gs])  # noqa: E731
    compute = lambda ns: flat(clip(vars(ns), grads, theta))  # noqa: E731
    if not isinstance(got, list) or len(got) != len(grads):
        raise CheckFailed(t("grad_clipping 之后梯度丢失", "gradients went missing after grad_clipping"))
    expect_close(flat(got), compute(ref), device=device, what="grads",
                 mistakes=mistakes(ref, WRONG.of("lstm_training"), compute))


@level("lstm_training")
def test_clipping_scales_by_the_global_norm(student, rng, device):
    """范数超过 theta 时，所有梯度按总范数统一缩放到 theta / above theta, all gradients are scaled to global norm theta"""  # noqa: E501
    grads = [torch.randn(4, 3, generator=rng) * 2, torch.randn(3, generator=rng) * 0.1,
             torch.randn(5, 2, generator=rng)]
    check_clipping(student, device, grads, 1.0)


@level("lstm_training")
def test_clipping_leaves_small_gradients(student, rng, device):
    """范数不超过 theta 时梯度不变 / gradients with a norm below theta are left unchanged"""
    grads = [torch.randn(4, 3, generator=rng) * 0.05, torch.randn(6, generator=rng) * 0.05]
    check_clipping(student, device, grads, 1.0)


def train_char_lstm(ns, corpus, params, num_hiddens, batch_size, num_steps, lr, num_epochs):
    """Runs beside the student's code (self-contained: it travels as source): the course's training
    loop (sequential minibatches, state carried and detached, gradient clipping) on the student's
    `lstm` and `grad_clipping`, from parameters the judge built, with Adam's update (it converges in
    a tenth of SGD's steps); on one thread, as in the grading kernel. Returns the trained parameters."""
    vocab_size = params[-1].shape[0]
    params = [p.detach().clone().requires_grad_(True) for p in params]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]  # Adam's m and v
    num_tokens = (len(corpus) - 1) // batch_size * batch_size
    Xs = corpus[:num_tokens].reshape(batch_size, -1)  # (B, L)
    Ys = corpus[1:num_tokens + 1].reshape(batch_size, -1)
    eye = torch.eye(vocab_size)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    step = 0
    try:
        for epoch in range(num_epochs):
            state = (torch.zeros(batch_size, num_hiddens), torch.zeros(batch_size, num_hiddens))
            for i in range(0, Xs.shape[1] // num_steps * num_steps, num_steps):
                X, Y = Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]  # (B, T)
                state = tuple(s.detach() for s in state)
                y_hat, state = ns["lstm"](eye[X.T], state, params)  # (T*B, V)
                loss = torch.nn.functional.cross_entropy(y_hat, Y.T.reshape(-1))
                for p in params:
                    p.grad = None
                loss.backward()
                ns["grad_clipping"](params, 1)
                step += 1
                with torch.no_grad():
                    for p, (m, v) in zip(params, moments):
                        m.mul_(0.9).add_(p.grad, alpha=0.1)
                        v.mul_(0.999).addcmul_(p.grad, p.grad, value=0.001)
                        p -= lr * (m / (1 - 0.9 ** step)) / ((v / (1 - 0.999 ** step)).sqrt() + 1e-8)
    finally:
        torch.set_num_threads(threads)
    return [p.detach() for p in params]


def hidden_corpus():
    """The hidden text as character ids (the same preprocessing as the notebook's load_corpus)."""
    _, idx_to_char, corpus = ref.load_corpus(HIDDEN_TEXT)
    return len(idx_to_char), corpus


def perplexity(params, corpus, num_hiddens, batch_size, num_steps, **_):
    """exp(mean cross-entropy) of the reference LSTM with `params` over the corpus, computed here."""
    vocab_size = params[-1].shape[0]
    total, count = 0.0, 0
    state = (torch.zeros(batch_size, num_hiddens), torch.zeros(batch_size, num_hiddens))
    with torch.no_grad():
        for X, Y in ref.seq_data_iter_sequential(corpus, batch_size, num_steps):
            y_hat, state = ref.lstm(F.one_hot(X.T, vocab_size).float(), state, params)
            total += F.cross_entropy(y_hat, Y.T.reshape(-1), reduction="sum").item()
            count += Y.numel()
    return math.exp(total / count)


def initial_params(rng, vocab_size, num_hiddens):
    """get_lstm_params' initialisation, drawn from rng: N(0, 0.01²) weights, zero biases."""
    shapes = lstm_shapes(vocab_size, num_hiddens)
    return [torch.randn(s, generator=rng) * 0.01 if len(s) == 2 else torch.zeros(s) for s in shapes]


@level("lstm_training")
def test_lstm_learns_a_hidden_text(student, rng, device):
    """你的 LSTM 在隐藏文本上训练后困惑度低于阈值 / your LSTM, trained on a hidden text, gets below the perplexity threshold"""  # noqa: E501
    vocab_size, corpus = hidden_corpus()
    params = initial_params(rng, vocab_size, TRAINING["num_hiddens"])
    # Training runs on the CPU: the model is tiny and launch-bound (a GPU does not speed it up).
    trained = student.run(train_char_lstm, corpus, params, *TRAINING.values(), device="cpu")
    shapes = [tuple(p.shape) for p in params]
    if not isinstance(trained, list) or [tuple(getattr(p, "shape", ())) for p in trained] != shapes:
        raise CheckFailed(t("训练后的参数形状不对", "the trained parameters have the wrong shapes"))
    # The perplexity is measured here, by the reference LSTM: only a model that really learned passes.
    ppl = perplexity(trained, corpus, **TRAINING)
    expect_equal(f"perplexity {'<' if ppl < PERPLEXITY_THRESHOLD else '>='} {PERPLEXITY_THRESHOLD}",
                 f"perplexity < {PERPLEXITY_THRESHOLD}",
                 hints={f"perplexity >= {PERPLEXITY_THRESHOLD}": t(
                     f"训练后困惑度为 {ppl:.2f}，未低于 {PERPLEXITY_THRESHOLD}：检查 lstm 与 grad_clipping",
                     f"the perplexity after training is {ppl:.2f}, not below {PERPLEXITY_THRESHOLD}: "
                     "check lstm and grad_clipping")})
