"""Hidden checks of 06_rnn_models: stacked nn.RNNCells, seed 001's RNN and a GRUCell, a
bidirectional GRU, d2l's RNNModel, and a model trained on a text the student never saw.

Every module is built on the student's side from weights the judge draws from `rng` and loads with
`load_state_dict`; the expected values come from PyTorch's own layers (nn.RNN, nn.RNNCell,
nn.GRUCell, nn.GRU(bidirectional=True), nn.LSTM) with those weights mapped into their layout.
Shapes: T time steps, B batch, I input features, H hidden units, V vocabulary size.
"""
import math
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

import reference_solutions.rnn_models as ref
from autograder.checking import CheckFailed, expect_close, expect_equal, level, mistakes, seeded
from autograder.messages import t
from reference_solutions.known_wrong.rnn_models import SHARED_GATE, WRONG

HIDDEN_TEXT = Path(__file__).parent / "data" / "rnn_models_hidden.txt"
# The training check: about 1 s on one CPU thread (autograder/tools/bench_rnn.py).
TRAINING = dict(num_hiddens=64, batch_size=32, num_steps=16, lr=0.03, num_epochs=25)
PERPLEXITY_THRESHOLD = 3.0  # the reference reaches 1.5-1.6 over 3 initialisations, untrained weights 24


# ---------------------------------------------------------------- shared
def draw(rng, shapes: dict, scale=0.5) -> dict:
    """A state_dict of random tensors: {name: shape}."""
    return {name: torch.randn(shape, generator=rng) * scale for name, shape in shapes.items()}


def build(student, device, name, args, state):
    """The student's `name(*args)` with `state` loaded, moved to `device`: a handle to it."""
    module = student.call(name, *args)
    student.method(module, "load_state_dict", state)
    student.method(module, "to", device)
    return module


def module_mistakes(level_name, name, args, state, run):
    """[(run(wrong module with `state`), message)] for the level's known-wrong modules."""
    def compute(ns):
        module = getattr(ns, name)(*args)
        module.load_state_dict(state)
        return run(module)
    return list(mistakes(ref, [w for w in WRONG.of(level_name) if name in w.overrides], compute))


def expect_all(got, expected, device, names, wrong):
    """got, expected: tuples of tensors; wrong: [(tuple, message)]; each item compared in turn."""
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        raise CheckFailed(t(f"应返回 {len(expected)} 项：{', '.join(names)}",
                            f"should return {len(expected)} items: {', '.join(names)}"))
    for k, name in enumerate(names):
        expect_close(got[k], expected[k], device=device, what=name, mistakes=[(w[k], m) for w, m in wrong])


def nn_layer(kind, input_size, hidden, weights, num_layers=1, bidirectional=False, nonlinearity=None):
    """nn.RNN / nn.GRU / nn.LSTM holding `weights` (its own parameter names), in eval mode."""
    extra = {"nonlinearity": nonlinearity} if nonlinearity else {}
    layer = getattr(nn, kind)(input_size, hidden, num_layers=num_layers, bidirectional=bidirectional, **extra)
    layer.load_state_dict(weights)
    return layer.eval()


def on(device, module, *tensors):
    """module(*tensors) on `device` (cuDNN without TF32), results on the CPU."""
    with torch.no_grad(), torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True,
                                                     allow_tf32=False):
        result = module.to(device)(*[x.to(device) if isinstance(x, torch.Tensor) else
                                     tuple(s.to(device) for s in x) for x in tensors])
    return _cpu(result)


def unroll(step, xs, h0):
    """(the last output, the last hidden state) of `step(x, h) -> (output, h)` over the steps xs."""
    h, output = h0, None
    for x in xs:
        output, h = step(x, h)
    return output, h


def _cpu(value):
    if isinstance(value, torch.Tensor):
        return value.cpu()
    return tuple(_cpu(v) for v in value)


# ---------------------------------------------------------------- 1. two stacked nn.RNNCells (seed 003)
def stack_state(rng, I, H1, H2):
    return draw(rng, {"cell1.weight_ih": (H1, I), "cell1.weight_hh": (H1, H1), "cell1.bias_ih": (H1,),
                      "cell1.bias_hh": (H1,), "cell2.weight_ih": (H2, H1), "cell2.weight_hh": (H2, H2),
                      "cell2.bias_ih": (H2,), "cell2.bias_hh": (H2,)}, scale=0.3)


def oracle_stack(state, x, h1, h2, device):
    """Two nn.RNN layers (all time steps at once) with the cells' weights."""
    layers = []
    for k in (1, 2):
        weights = {f"{p}_l0": state[f"cell{k}.{p}"] for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        layers.append(nn_layer("RNN", weights["weight_ih_l0"].shape[1], weights["weight_hh_l0"].shape[0], weights))
    Y1, h1n = on(device, layers[0], x, h1[None])  # (T, B, H1)
    Y2, h2n = on(device, layers[1], Y1, h2[None])  # (T, B, H2)
    return Y2, h1n[0], h2n[0]


def check_stack(student, rng, device, T, B, I, H1, H2, zero_state=False):
    state = stack_state(rng, I, H1, H2)
    x = torch.randn(T, B, I, generator=rng)
    h1, h2 = (torch.zeros(B, H1), torch.zeros(B, H2)) if zero_state else \
        (torch.randn(B, H1, generator=rng) * 0.5, torch.randn(B, H2, generator=rng) * 0.5)
    module = build(student, device, "StackedRNNCells", (I, H1, H2), state)
    got = student.method(module, "__call__", x, h1, h2, device=device)
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not isinstance(got[1], (tuple, list)):
        raise CheckFailed(t("forward 应返回 (outputs, (h1, h2))", "forward should return (outputs, (h1, h2))"))
    expected = oracle_stack(state, x, h1, h2, device)
    wrong = module_mistakes("rnn_cell_stack", "StackedRNNCells", (I, H1, H2), state,
                            lambda m: (lambda out: (out[0], *out[1]))(m(x, h1, h2)))
    expect_all((got[0], *got[1]), expected, device, ["outputs", "h1", "h2"], wrong)


@level("rnn_cell_stack")
def test_stack_seed_003_sizes(student, rng, device):
    """种子 003 的尺寸 100 → 20 → 15：每个时间步的输出与最终 h1、h2 等于两层 nn.RNN / seed 003's 100 -> 20 -> 15: every step and the final h1, h2 equal two nn.RNN layers"""  # noqa: E501
    check_stack(student, rng, device, T=5, B=3, I=100, H1=20, H2=15, zero_state=True)


@level("rnn_cell_stack")
def test_stack_from_a_given_state(student, rng, device):
    """从给定的非零状态开始 / from a given non-zero state"""
    check_stack(student, rng, device, T=6, B=4, I=7, H1=5, H2=3)


@level("rnn_cell_stack")
def test_stack_one_step(student, rng, device):
    """只有一个时间步 / a single time step"""
    check_stack(student, rng, device, T=1, B=2, I=4, H1=6, H2=5)


# ---------------------------------------------------------------- 2. seed 001's RNN, working
def rnn_state(rng, I, H, O):
    return draw(rng, {"i2h.weight": (H, I + H), "i2h.bias": (H,), "i2o.weight": (O, I + H), "i2o.bias": (O,)})


def oracle_rnn_step(state, x, h, device):
    """nn.RNNCell with i2h's input columns as weight_ih and its hidden columns as weight_hh; the
    output: LogSoftmax of i2o on [x, h]."""
    I = x.shape[1]
    cell = nn.RNNCell(I, h.shape[1])
    cell.load_state_dict({"weight_ih": state["i2h.weight"][:, :I], "weight_hh": state["i2h.weight"][:, I:],
                          "bias_ih": state["i2h.bias"], "bias_hh": torch.zeros_like(state["i2h.bias"])})
    new_h = on(device, cell, x, h)
    output = F.log_softmax(torch.cat((x, h), 1) @ state["i2o.weight"].T + state["i2o.bias"], dim=1)
    return output, new_h


def check_rnn_module(student, rng, device, steps, B=3, I=6, H=5, O=4):
    state = rnn_state(rng, I, H, O)
    xs, h0 = torch.randn(steps, B, I, generator=rng), torch.randn(B, H, generator=rng) * 0.5
    module = build(student, device, "RNN", (I, H, O), state)
    got = unroll(lambda x, h: student.method(module, "__call__", x, h, device=device), xs, h0)
    expected = unroll(lambda x, h: oracle_rnn_step(state, x, h, device), xs, h0)
    wrong = module_mistakes("rnn_module", "RNN", (I, H, O), state, lambda m: unroll(m, xs, h0))
    expect_all(got, expected, device, ["output", "hidden"], wrong)


@level("rnn_module")
def test_rnn_one_step(student, rng, device):
    """一步：hidden 等于 nn.RNNCell，output 为 LogSoftmax(i2o([input, hidden])) / one step: hidden equals nn.RNNCell, output is LogSoftmax(i2o([input, hidden]))"""  # noqa: E501
    check_rnn_module(student, rng, device, steps=1)


@level("rnn_module")
def test_rnn_four_steps(student, rng, device):
    """连续四步，hidden 逐步传递 / four steps, hidden carried from step to step"""
    check_rnn_module(student, rng, device, steps=4)


@level("rnn_module")
def test_rnn_larger(student, rng, device):
    """更大的输入与隐状态 / larger inputs and hidden state"""
    check_rnn_module(student, rng, device, steps=3, B=5, I=12, H=9, O=7)


# ---------------------------------------------------------------- 3. GRUCell, one set of weights per gate
GRU_KEYS = ("reset_gate", "update_gate", "candidate_x", "candidate_h", "output")


def gru_cell_state(rng, I, H, O):
    return draw(rng, {"reset_gate.weight": (H, I + H), "reset_gate.bias": (H,), "update_gate.weight": (H, I + H),
                      "update_gate.bias": (H,), "candidate_x.weight": (H, I), "candidate_x.bias": (H,),
                      "candidate_h.weight": (H, H), "candidate_h.bias": (H,), "output.weight": (O, H),
                      "output.bias": (O,)})


def oracle_gru_cell(state, I):
    """nn.GRUCell (gates r, z, n) with the student's layout mapped: [x, h] columns split."""
    cell = nn.GRUCell(I, state["candidate_h.weight"].shape[0])
    cell.load_state_dict({
        "weight_ih": torch.cat([state["reset_gate.weight"][:, :I], state["update_gate.weight"][:, :I],
                                state["candidate_x.weight"]]),  # (3H, I)
        "weight_hh": torch.cat([state["reset_gate.weight"][:, I:], state["update_gate.weight"][:, I:],
                                state["candidate_h.weight"]]),  # (3H, H)
        "bias_ih": torch.cat([state["reset_gate.bias"], state["update_gate.bias"], state["candidate_x.bias"]]),
        "bias_hh": torch.cat([torch.zeros_like(state["reset_gate.bias"]), torch.zeros_like(state["update_gate.bias"]),
                              state["candidate_h.bias"]])})
    return cell


def student_gru_cell(student, device, I, H, O, state):
    module = student.call("GRUCell", I, H, O)
    keys = student.method(module, "state_dict")
    if not isinstance(keys, dict):
        raise CheckFailed(t("state_dict() 应返回字典", "state_dict() should return a dict"))
    if any(k.startswith("gate.") for k in keys):
        raise CheckFailed(t(*SHARED_GATE))
    if set(keys) != set(state):
        raise CheckFailed(t(f"GRUCell 的参数应为 {sorted(state)}，得到 {sorted(keys)}",
                            f"GRUCell's parameters should be {sorted(state)}, got {sorted(keys)}"))
    student.method(module, "load_state_dict", state)
    student.method(module, "to", device)
    return module


def check_gru_cell(student, rng, device, steps, B=3, I=6, H=5, O=4):
    state = gru_cell_state(rng, I, H, O)
    xs, h0 = torch.randn(steps, B, I, generator=rng), torch.randn(B, H, generator=rng) * 0.5
    module = student_gru_cell(student, device, I, H, O, state)
    got = unroll(lambda x, h: student.method(module, "__call__", x, h, device=device), xs, h0)
    cell = oracle_gru_cell(state, I)

    def oracle_step(x, h):
        new_h = on(device, cell, x, h)
        return F.log_softmax(new_h @ state["output.weight"].T + state["output.bias"], dim=1), new_h
    expected = unroll(oracle_step, xs, h0)
    wrong = module_mistakes("gru_cell", "GRUCell", (I, H, O), state, lambda m: unroll(m, xs, h0))
    expect_all(got, expected, device, ["output", "hidden"], wrong)


@level("gru_cell")
def test_gru_cell_has_its_own_weights_per_gate(student, rng, device):
    """重置门、更新门、候选状态各有一套权重（修正种子 001 的共用 gate） / one set of weights per gate (seed 001's shared gate fixed)"""  # noqa: E501
    I, H, O = 6, 5, 4
    state = gru_cell_state(rng, I, H, O)
    module = student_gru_cell(student, device, I, H, O, state)
    loaded = student.method(module, "state_dict")
    for name, value in state.items():  # gates sharing one Linear cannot hold different weights
        expect_close(loaded.get(name), value, device=device, what=name)


@level("gru_cell")
def test_gru_cell_one_step_matches_nn_gru_cell(student, rng, device):
    """一步：hidden 等于 nn.GRUCell（映射相同权重），output 为 LogSoftmax / one step: hidden equals nn.GRUCell with the same weights"""  # noqa: E501
    check_gru_cell(student, rng, device, steps=1)


@level("gru_cell")
def test_gru_cell_four_steps(student, rng, device):
    """连续四步，状态逐步传递 / four steps, the state carried from step to step"""
    check_gru_cell(student, rng, device, steps=4, B=4, I=7, H=6, O=5)


# ---------------------------------------------------------------- 4. a bidirectional GRU by hand
def bigru_state(rng, I, H):
    state = {}
    for cell in ("forward_cell", "backward_cell"):
        state.update(draw(rng, {f"{cell}.weight_ih": (3 * H, I), f"{cell}.weight_hh": (3 * H, H),
                                f"{cell}.bias_ih": (3 * H,), f"{cell}.bias_hh": (3 * H,)}))
    return state


def check_bigru(student, rng, device, T, B, I, H):
    state = bigru_state(rng, I, H)
    x, h0 = torch.randn(T, B, I, generator=rng), torch.randn(2, B, H, generator=rng) * 0.5
    module = build(student, device, "BiGRU", (I, H), state)
    got = student.method(module, "__call__", x, h0, device=device)
    weights = {f"{p}_l0{suffix}": state[f"{cell}.{p}"] for cell, suffix in (("forward_cell", ""),
                                                                              ("backward_cell", "_reverse"))
               for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    expected = on(device, nn_layer("GRU", I, H, weights, bidirectional=True), x, h0)
    wrong = module_mistakes("bidirectional_gru", "BiGRU", (I, H), state, lambda m: m(x, h0))
    expect_all(got, expected, device, ["Y", "h_n"], wrong)


@level("bidirectional_gru")
def test_bigru_matches_nn_gru_bidirectional(student, rng, device):
    """Y 与 h_n 等于 nn.GRU(bidirectional=True)（映射相同权重） / Y and h_n equal nn.GRU(bidirectional=True) with the same weights"""  # noqa: E501
    check_bigru(student, rng, device, T=5, B=3, I=4, H=6)


@level("bidirectional_gru")
def test_bigru_longer_sequence(student, rng, device):
    """更长的序列 / a longer sequence"""
    check_bigru(student, rng, device, T=12, B=2, I=5, H=3)


@level("bidirectional_gru")
def test_bigru_batch_of_one(student, rng, device):
    """批量为 1 / a batch of one"""
    check_bigru(student, rng, device, T=4, B=1, I=3, H=4)


# ---------------------------------------------------------------- 5. d2l's RNNModel and begin_state
def run_rnn_model(ns, kind, V, H, num_layers, bidirectional, state_dict, inputs, state, batch_size, seed, train):
    """Runs beside the student's code (self-contained): the student's RNNModel over a PyTorch layer
    built here, with the judge's weights, in eval (or train) mode, torch's random seeded by `seed`;
    returns its output, new state and begin_state."""
    layer = getattr(torch.nn, kind)(V, H, num_layers=num_layers, bidirectional=bidirectional)
    net = ns["RNNModel"](layer, V)
    net.load_state_dict(state_dict)
    net.to(inputs.device)
    net.train(train)
    torch.manual_seed(seed)
    with torch.no_grad():
        output, new_state = net(inputs, state)
    return output, new_state, net.begin_state(inputs.device, batch_size)


def rnn_model_weights(rng, kind, V, H, num_layers, bidirectional):
    """The judge's weights for RNNModel(nn.<kind>(V, H, ...), V): the layer's (as `rnn.`) and `linear`'s."""
    layer = getattr(nn, kind)(V, H, num_layers=num_layers, bidirectional=bidirectional)
    directions = 2 if bidirectional else 1
    state = {f"rnn.{k}": torch.randn(v.shape, generator=rng) * 0.4 for k, v in layer.state_dict().items()}
    state.update(draw(rng, {"linear.weight": (V, directions * H), "linear.bias": (V,)}, scale=0.4))
    return state


def oracle_rnn_model(kind, V, H, num_layers, bidirectional, state_dict, inputs, state, device):
    """One-hot (T, B, V) through the PyTorch layer, then the Linear head: (T*B, V), the layer's state."""
    layer = nn_layer(kind, V, H, {k[4:]: v for k, v in state_dict.items() if k.startswith("rnn.")},
                     num_layers, bidirectional)
    Y, new_state = on(device, layer, F.one_hot(inputs.T, V).float(), state)
    return Y.reshape(-1, Y.shape[-1]) @ state_dict["linear.weight"].T + state_dict["linear.bias"], new_state


def state_form(state):
    """A state's form: its shape, or the shapes of its tensors."""
    if isinstance(state, torch.Tensor):
        return tuple(state.shape)
    if isinstance(state, (tuple, list)):
        return tuple(state_form(s) for s in state)
    return type(state).__name__


def flat(state):
    return [state] if isinstance(state, torch.Tensor) else [s for part in state for s in flat(part)]


def check_rnn_model(student, rng, device, kind, num_layers, bidirectional, V=9, H=6, B=4, train=False):
    T = B  # square inputs: a model that mixes up (B, T) and (T, B) gives other values, not an error
    weights = rnn_model_weights(rng, kind, V, H, num_layers, bidirectional)
    inputs = torch.randint(0, V, (B, T), generator=rng)
    shape = ((2 if bidirectional else 1) * num_layers, B, H)
    state = tuple(torch.randn(shape, generator=rng) * 0.5 for _ in range(2 if kind == "LSTM" else 1))
    state = state if kind == "LSTM" else state[0]
    seed = int(torch.randint(0, 2 ** 31, (1,), generator=rng))
    got = student.run(run_rnn_model, kind, V, H, num_layers, bidirectional, weights, inputs, state, B, seed, train,
                      device=device)
    output, new_state = oracle_rnn_model(kind, V, H, num_layers, bidirectional, weights, inputs, state, device)
    begin = (torch.zeros(shape), torch.zeros(shape)) if kind == "LSTM" else torch.zeros(shape)

    def compute(ns):
        net = ns.RNNModel(getattr(nn, kind)(V, H, num_layers=num_layers, bidirectional=bidirectional), V)
        net.load_state_dict(weights)
        return (*seeded(seed, lambda: net.train(train)(inputs, state)), net.begin_state("cpu", B))
    wrong = list(mistakes(ref, WRONG.of("rnn_model"), compute))
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CheckFailed(t("RNNModel 的 forward 应返回 (output, state)",
                            "RNNModel's forward should return (output, state)"))
    expect_equal(state_form(got[2]), state_form(begin),
                 hints={state_form(w[2]): m for w, m in wrong if state_form(w[2]) != state_form(begin)})
    expect_close(flat(got[2])[0], flat(begin)[0], device=device, what="begin_state")
    expect_close(got[0], output, device=device, what="output", mistakes=[(w[0], m) for w, m in wrong])
    expect_equal(state_form(got[1]), state_form(new_state))
    for g, e in zip(flat(got[1]), flat(new_state)):
        expect_close(g, e, device=device, what="state")


@level("rnn_model")
def test_rnn_model_over_nn_rnn(student, rng, device):
    """nn.RNN，单向一层：output、state、begin_state / over nn.RNN, one direction, one layer"""
    check_rnn_model(student, rng, device, "RNN", 1, False)


@level("rnn_model")
def test_rnn_model_over_bidirectional_gru(student, rng, device):
    """nn.GRU，双向两层 / over nn.GRU, two directions, two layers"""
    check_rnn_model(student, rng, device, "GRU", 2, True)


@level("rnn_model")
def test_rnn_model_over_nn_lstm(student, rng, device):
    """nn.LSTM，单向两层：状态是 (H, C) / over nn.LSTM, one direction, two layers: the state is (H, C)"""
    check_rnn_model(student, rng, device, "LSTM", 2, False)


@level("rnn_model")
def test_rnn_model_over_bidirectional_lstm(student, rng, device):
    """nn.LSTM，双向一层 / over nn.LSTM, two directions, one layer"""
    check_rnn_model(student, rng, device, "LSTM", 1, True)


@level("rnn_model")
def test_rnn_model_is_the_same_in_train_mode(student, rng, device):
    """训练模式下输出不变：RNNModel 本身没有 dropout / the same output in train mode: RNNModel has no dropout of its own"""  # noqa: E501
    check_rnn_model(student, rng, device, "GRU", 1, False, train=True)


# ---------------------------------------------------------------- 6. training and predict
def run_predict(ns, state_dict, V, H, idx_to_char, prefix, num_preds):
    """Runs beside the student's code (self-contained): the student's predict on a d2l RNNModel over
    nn.GRU defined here (not the student's), with the judge's weights."""
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.linear = torch.nn.GRU(V, H), torch.nn.Linear(H, V)

        def forward(self, inputs, state):
            X = torch.nn.functional.one_hot(inputs.T.long(), V).float()
            Y, state = self.rnn(X, state)
            return self.linear(Y.reshape(-1, Y.shape[-1])), state

        def begin_state(self, device, batch_size=1):
            return torch.zeros((1, batch_size, H), device=device)
    net = Net()
    net.load_state_dict(state_dict)
    with torch.no_grad():
        return ns["predict"](prefix, num_preds, net, idx_to_char, "cpu")


def predict_with(namespace, state_dict, V, H, idx_to_char, prefix, num_preds):
    """`namespace.predict` on the reference RNNModel holding `state_dict`, in this process."""
    net = ref.RNNModel(nn.GRU(V, H), V)
    net.load_state_dict(state_dict)
    with torch.no_grad():
        return namespace.predict(prefix, num_preds, net, idx_to_char, "cpu")


def check_predict(student, rng, prefix, num_preds, H=8):
    idx_to_char = list(" abcdefghijklmnopqrstuvwxyz")
    V = len(idx_to_char)
    weights = rnn_model_weights(rng, "GRU", V, H, 1, False)
    weights = {k: v * 3 for k, v in weights.items()}  # a model whose choices depend on its state
    got = student.run(run_predict, weights, V, H, idx_to_char, prefix, num_preds)
    expected = predict_with(ref, weights, V, H, idx_to_char, prefix, num_preds)
    hints = {w: m for w, m in mistakes(
        ref, WRONG.of("rnn_model_training"), lambda ns: predict_with(ns, weights, V, H, idx_to_char, prefix,
                                                                     num_preds)) if w != expected}
    expect_equal(got, expected, hints=hints)


@level("rnn_model_training")
def test_predict_continues_a_prefix(student, rng, device):
    """predict：用前缀预热状态，再贪心续写 10 个字符 / predict: warm up on the prefix, then 10 greedy characters"""
    check_predict(student, rng, "the sea ", 10)


@level("rnn_model_training")
def test_predict_one_letter_prefix(student, rng, device):
    """只有一个字符的前缀 / a one-letter prefix"""
    check_predict(student, rng, "w", 12)


def train_rnn_model(ns, corpus, state_dict, num_hiddens, batch_size, num_steps, lr, num_epochs):
    """Runs beside the student's code (self-contained: it travels as source): the student's
    RNNModel over nn.GRU, from the judge's initial weights, trained with the course's loop
    (sequential minibatches, the state from begin_state carried and detached, clipping, Adam) on one
    thread. Returns the trained state_dict."""
    vocab_size = state_dict["linear.bias"].shape[0]
    net = ns["RNNModel"](torch.nn.GRU(vocab_size, num_hiddens), vocab_size)
    net.load_state_dict(state_dict)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    num_tokens = (len(corpus) - 1) // batch_size * batch_size
    Xs = corpus[:num_tokens].reshape(batch_size, -1)  # (B, L)
    Ys = corpus[1:num_tokens + 1].reshape(batch_size, -1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for epoch in range(num_epochs):
            state = net.begin_state(batch_size=batch_size, device="cpu")
            for i in range(0, Xs.shape[1] // num_steps * num_steps, num_steps):
                X, Y = Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]  # (B, T)
                state = state.detach()
                y_hat, state = net(X, state)  # (T*B, V)
                loss = torch.nn.functional.cross_entropy(y_hat, Y.T.reshape(-1))
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1)
                optimizer.step()
    finally:
        torch.set_num_threads(threads)
    return net.state_dict()


def hidden_corpus():
    """The hidden text as character ids (the notebook's load_corpus)."""
    _, idx_to_char, corpus = ref.load_corpus(HIDDEN_TEXT)
    return len(idx_to_char), corpus


def perplexity(state_dict, corpus, num_hiddens, batch_size, num_steps, **_):
    """exp(mean cross-entropy) over the corpus of the reference RNNModel holding `state_dict`, here."""
    vocab_size = state_dict["linear.bias"].shape[0]
    net = ref.RNNModel(nn.GRU(vocab_size, num_hiddens), vocab_size)
    net.load_state_dict(state_dict)
    total, count, state = 0.0, 0, net.begin_state("cpu", batch_size)
    with torch.no_grad():
        for X, Y in ref.seq_data_iter_sequential(corpus, batch_size, num_steps):
            y_hat, state = net(X, state)
            total += F.cross_entropy(y_hat, Y.T.reshape(-1), reduction="sum").item()
            count += Y.numel()
    return math.exp(total / count)


def initial_weights(rng, vocab_size, num_hiddens):
    """PyTorch's default initialisation, drawn from rng: U(-1/sqrt(H), 1/sqrt(H))."""
    net = ref.RNNModel(nn.GRU(vocab_size, num_hiddens), vocab_size)
    bound = 1 / math.sqrt(num_hiddens)
    return {k: (torch.rand(v.shape, generator=rng) * 2 - 1) * bound for k, v in net.state_dict().items()}


@level("rnn_model_training")
def test_rnn_model_learns_a_hidden_text(student, rng, device):
    """你的 RNNModel（nn.GRU）在隐藏文本上训练后困惑度低于阈值 / your RNNModel over nn.GRU, trained on a hidden text, gets below the perplexity threshold"""  # noqa: E501
    vocab_size, corpus = hidden_corpus()
    weights = initial_weights(rng, vocab_size, TRAINING["num_hiddens"])
    trained = student.run(train_rnn_model, corpus, weights, *TRAINING.values(), device="cpu")
    if not isinstance(trained, dict) or {k: tuple(v.shape) for k, v in trained.items()
                                         if isinstance(v, torch.Tensor)} != {k: tuple(v.shape) for k, v in
                                                                             weights.items()}:
        raise CheckFailed(t("训练后的 state_dict 的名字或形状不对",
                            "the trained state_dict has the wrong names or shapes"))
    # The perplexity is measured here, by the reference model: only weights that really learned pass.
    ppl = perplexity(trained, corpus, **TRAINING)
    expect_equal(f"perplexity {'<' if ppl < PERPLEXITY_THRESHOLD else '>='} {PERPLEXITY_THRESHOLD}",
                 f"perplexity < {PERPLEXITY_THRESHOLD}",
                 hints={f"perplexity >= {PERPLEXITY_THRESHOLD}": t(
                     f"训练后困惑度为 {ppl:.2f}，未低于 {PERPLEXITY_THRESHOLD}：检查 RNNModel 的 forward",
                     f"the perplexity after training is {ppl:.2f}, not below {PERPLEXITY_THRESHOLD}: "
                     "check RNNModel's forward")})
