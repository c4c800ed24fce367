"""What is particular to 05_rnn_from_scratch's hidden checks (the common contract:
test_checks_every_assignment.py): the seeds' own code and other correct variants pass, diagnoses
name the mistake."""

import pytest
import torch
from torch import nn

import course_config
import reference_solutions.rnn_from_scratch as ref
from autograder.tools.build import reference_sections, scaffold_cells
from autograder.checks import test_rnn_from_scratch as checks
from autograder.engine.judge import judge
from autograder.engine.student import LocalStudent
from reference_solutions.known_wrong.rnn_from_scratch import WRONG
from tests.checks_helpers import judge_reference, judge_wrong, not_full_marks, wrong_named
from tests.conftest import devices
from tests.seed_code import read

SPEC = course_config.assignment("rnn_from_scratch")
LEVELS = [lv.name for lv in SPEC.levels]
WITHOUT_TRAINING = [lv for lv in LEVELS if lv != "lstm_training"]


def test_given_scaffold_alone_scores_zero():
    """The code given outside the regions (the language-model utilities, LSTMCell's frame) earns nothing."""
    scaffold = scaffold_cells("rnn_from_scratch")["language_model"]
    student = LocalStudent.from_source("from torch.nn import functional as F\n" + scaffold)
    assert all(r.score == 0 for r in judge("rnn_from_scratch", student).values())


def test_a_broken_lstm_fails_the_training_check():
    """The closest call (3.45-5.2 against the reference's 1.5-1.65): C not carried between steps.
    The perplexity is measured by the reference LSTM, so a model trained under wrong equations fails."""
    wrong = wrong_named("rnn_from_scratch", "cell_not_carried")  # a wrong `lstm`, trained by level lstm_training
    result = judge_reference("rnn_from_scratch", ["lstm_training"], **wrong.overrides)["lstm_training"]
    training = [c for c in result.checks if "perplexity" in c.name]
    assert len(training) == 1 and not training[0].passed
    assert "perplexity after training" in training[0].message


def test_seed_001_shared_gate_cell_scores_zero_with_its_diagnosis():
    result = judge_wrong("rnn_from_scratch", "shared_gate")
    assert result.score == 0
    assert all("self.gate" in c.message for c in result.checks)


def seed_004_source():
    """Seed 004 as written, plus what it takes from d2l (grad_clipping) and the course's LSTMCell."""
    sections = reference_sections("rnn_from_scratch")
    return "from torch.nn import functional as F\n" + read("seed004_lstm_gru.py") + "\n" + \
        sections["lstm_cell"] + "\n" + sections["lstm_training"]


def test_seed_004_code_is_accepted_as_written():
    assert not_full_marks(judge("rnn_from_scratch", LocalStudent.from_source(seed_004_source()))) == {}


def test_fused_gate_variants_are_accepted():
    namespace = {**vars(ref)}
    exec(compile(read("fused_gates.py"), "fused_gates.py", "exec"), namespace)
    assert not_full_marks(judge("rnn_from_scratch", LocalStudent(namespace))) == {}


def test_grading_is_reproducible():
    wrong = next(w for w in WRONG if w.name == "forget_input_swapped")
    scores = [judge("rnn_from_scratch", LocalStudent.from_module(ref, **wrong.overrides),
                    levels=["lstm"])["lstm"].score for _ in range(2)]
    assert scores[0] == scores[1] < 3


# ---------------------------------------------------------------- the oracles themselves
def test_nn_gru_is_not_an_oracle_for_d2l_gru():
    """nn.GRU applies the reset gate after the hidden matmul: with the same weights it differs from d2l."""
    rng = torch.Generator().manual_seed(0)
    V, H, T, B = 5, 4, 6, 3
    params = checks.gru_params(rng, V, H)
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    inputs, (H0,) = torch.randn(T, B, V, generator=rng), checks.random_state(rng, B, H, n=1)
    model = nn.GRU(V, H)
    with torch.no_grad():  # nn.GRU's gate order r, z, n; its update mixes as d2l: (1 - z) * n + z * h
        model.weight_ih_l0.copy_(torch.cat([W_xr, W_xz, W_xh], dim=1).T)
        model.weight_hh_l0.copy_(torch.cat([W_hr, W_hz, W_hh], dim=1).T)
        model.bias_ih_l0.copy_(torch.cat([b_r, b_z, b_h]))
        model.bias_hh_l0.zero_()
        Y, hn = model(inputs, H0[None])
        outputs, (H_d2l,) = ref.gru(inputs, (H0,), params)
        nn_outputs = Y.reshape(-1, H) @ W_hq + b_q
    assert not torch.allclose(hn[0], H_d2l, atol=1e-3)
    # ...and it is exactly the known-wrong "reset after matmul" form
    wrong = next(w for w in WRONG if w.name == "reset_after_matmul")
    wrong_outputs, (H_wrong,) = wrong.overrides["gru"](inputs, (H0,), params)
    torch.testing.assert_close(nn_outputs, wrong_outputs, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(outputs, nn_outputs, atol=1e-3)


@pytest.mark.parametrize("device", devices())
def test_nn_lstm_oracle_equals_the_reference(device):
    """The weight mapping into nn.LSTM (gates i, f, g, o; transposed) reproduces d2l's LSTM."""
    rng = torch.Generator().manual_seed(1)
    params, inputs = checks.lstm_params(rng, 6, 4, num_layers=2), torch.randn(5, 3, 6, generator=rng)
    state = [checks.random_state(rng, 3, 4) for _ in range(2)]
    outputs, new_state, _ = checks.oracle_lstm(inputs, state, params, device)
    expected, expected_state = ref.multi_lstm(inputs, state, params, 2)
    torch.testing.assert_close(outputs, expected, atol=1e-4, rtol=1e-3)
    torch.testing.assert_close(new_state, expected_state, atol=1e-4, rtol=1e-3)
