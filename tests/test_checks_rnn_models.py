"""What is particular to 06_rnn_models's hidden checks (the common contract:
test_checks_every_assignment.py): the seeds' own code as written, diagnoses that name the mistake,
the oracles themselves, the training check's verdict made in the trusted process."""

import pytest
import torch
from torch import nn

import course_config
import reference_solutions.rnn_models as ref
from autograder.checks import test_rnn_models as checks
from autograder.tools.build import reference_sections
from tests.checks_helpers import judge_reference, judge_source, judge_wrong, not_full_marks
from tests.conftest import devices
from tests.seed_code import read

SPEC = course_config.assignment("rnn_models")


def test_seed_000_rnn_model_is_accepted_as_written():
    assert not_full_marks(judge_source("rnn_models", read("seed000_rnn_model.py"), levels=["rnn_model"])) == {}


def test_seed_003_stack_is_accepted():
    assert not_full_marks(judge_source("rnn_models", read("seed003_rnn_cells.py"), levels=["rnn_cell_stack"])) == {}


def test_seed_001_rnn_as_printed_scores_zero():
    """It does not run (`ouput` assigned, `output` read): every check says the code raised."""
    result = judge_source("rnn_models", read("seed001_rnn.py"), levels=["rnn_module"])["rnn_module"]
    assert result.score == 0
    assert all("UnboundLocalError" in c.message for c in result.checks)


def test_seed_001_shared_gate_gru_cell_scores_zero_naming_the_shared_weight():
    result = judge_wrong("rnn_models", "shared_gate")
    assert result.score == 0
    assert all("self.gate" in c.message for c in result.checks)


class FrozenRNNModel(ref.RNNModel):
    """Runs, but its weights never move: the graph is cut before the loss."""

    def forward(self, inputs, state):
        output, state = super().forward(inputs, state)
        return output.detach().requires_grad_(), state


def test_a_model_that_learns_nothing_fails_the_training_check():
    """The perplexity is measured in the trusted process from the weights that came back."""
    result = judge_reference("rnn_models", ["rnn_model_training"], RNNModel=FrozenRNNModel)["rnn_model_training"]
    failed = [c for c in result.checks if not c.passed]
    assert len(failed) == 1 and "perplexity after training" in failed[0].message


def test_grading_is_reproducible():
    scores = [judge_wrong("rnn_models", "update_mix_swapped").score for _ in range(2)]
    assert scores[0] == scores[1] < 2


# ---------------------------------------------------------------- the oracles themselves
@pytest.mark.parametrize("device", devices())
def test_gru_cell_oracle_equals_the_reference(device):
    rng = torch.Generator().manual_seed(3)
    state = checks.gru_cell_state(rng, 4, 3, 5)
    module = ref.GRUCell(4, 3, 5)
    module.load_state_dict(state)
    x, h = torch.randn(2, 4, generator=rng), torch.randn(2, 3, generator=rng)
    torch.testing.assert_close(checks.on(device, checks.oracle_gru_cell(state, 4), x, h), module(x, h)[1].detach(),
                               atol=1e-4, rtol=1e-3)


def test_nn_rnn_model_oracle_equals_seed_000():
    rng = torch.Generator().manual_seed(4)
    weights = checks.rnn_model_weights(rng, "LSTM", 6, 4, 2, True)
    namespace = {}
    exec(read("seed000_rnn_model.py"), namespace)
    net = namespace["RNNModel"](nn.LSTM(6, 4, num_layers=2, bidirectional=True), 6)
    net.load_state_dict(weights)
    inputs = torch.randint(0, 6, (3, 5), generator=rng)
    state = (torch.randn(4, 3, 4, generator=rng), torch.randn(4, 3, 4, generator=rng))
    output, _ = checks.oracle_rnn_model("LSTM", 6, 4, 2, True, weights, inputs, state, "cpu")
    torch.testing.assert_close(output, net(inputs, state)[0].detach(), atol=1e-5, rtol=1e-4)


def test_every_level_has_a_reference_section():
    assert set(reference_sections("rnn_models")) == {lv.name for lv in SPEC.levels}
