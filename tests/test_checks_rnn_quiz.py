"""The hidden checks of 03_rnn_quiz: the key is PyTorch's own answer, it scores full marks, exact
shapes and numbers are required, each wrong answer costs its own question, with its message."""
import pytest
import torch
from torch import nn

import course_config
import reference_solutions.rnn_quiz as ref
from autograder.engine.judge import judge
from autograder.engine.student import LocalStudent
from reference_solutions.known_wrong.rnn_quiz import WRONG

SPEC = course_config.assignment("rnn_quiz")
LEVELS = [lv.name for lv in SPEC.levels]


def scores(results):
    return {lv: r.score for lv, r in results.items()}


def test_the_key_is_what_pytorch_says():
    rnn, lstm, gru = nn.RNN(10, 20, num_layers=2), nn.LSTM(10, 20, num_layers=2), nn.GRU(10, 20)
    for name in ("rnn_weight_ih_l0", "rnn_weight_hh_l0", "rnn_weight_ih_l1", "rnn_bias_ih_l1",
                 "lstm_weight_ih_l0", "lstm_weight_hh_l1", "lstm_bias_hh_l0", "gru_weight_ih_l0"):
        module, attribute = name.split("_", 1)
        assert tuple(getattr({"rnn": rnn, "lstm": lstm, "gru": gru}[module], attribute).shape) == getattr(ref, name)
    def count(m):
        return sum(p.numel() for p in m.parameters())

    assert (count(nn.RNN(10, 20)), count(nn.LSTM(10, 20)), count(nn.GRU(10, 20))) == \
        (ref.rnn_params, ref.lstm_params, ref.gru_params)
    x, xb = torch.randn(10, 3, 100), torch.randn(3, 10, 100)
    out1, h1 = nn.RNN(100, 20)(x)
    out4, h4 = nn.RNN(100, 20, num_layers=4)(x)
    bi_out, bi_h = nn.RNN(100, 20, num_layers=2, bidirectional=True)(x)
    _, (_, lstm_c) = nn.LSTM(100, 20, num_layers=2)(x)
    bf_out, bf_h = nn.RNN(100, 20, batch_first=True)(xb)
    for name, tensor in dict(out1=out1, h1=h1, out4=out4, h4=h4, bi_out=bi_out, bi_h=bi_h, lstm_c=lstm_c,
                             bf_out=bf_out, bf_h=bf_h).items():
        assert tuple(tensor.shape) == getattr(ref, f"{name}_shape"), name


def test_lists_and_torch_size_are_accepted_as_shapes():
    student = LocalStudent.from_module(ref, rnn_weight_ih_l0=[20, 10], rnn_bias_ih_l1=torch.Size([20]),
                                       why_lstm_4x="b", rnn_params=640.0)
    assert scores(judge("rnn_quiz", student, levels=LEVELS[:2])) == {"rnn_parameter_shapes": 4.0,
                                                                      "rnn_parameter_counts": 2.0}


@pytest.mark.parametrize("bad", ["(20, 10)", (20.0, 10.0), 2, None])
def test_a_malformed_shape_gets_a_message_not_a_crash(bad):
    result = judge("rnn_quiz", LocalStudent.from_module(ref, rnn_weight_ih_l0=bad), levels=["rnn_parameter_shapes"])
    failed = [c for c in result["rnn_parameter_shapes"].checks if not c.passed]
    assert len(failed) == 1 and "wrong form" in failed[0].message


@pytest.mark.parametrize("wrong", WRONG, ids=lambda w: f"{w.level}-{w.name}")
def test_one_wrong_answer_costs_one_question_with_its_message(wrong):
    result = judge("rnn_quiz", LocalStudent.from_module(ref, **wrong.overrides), levels=[wrong.level])[wrong.level]
    failed = [c for c in result.checks if not c.passed]
    assert len(failed) == 1 and wrong.en in failed[0].message
    assert "(not shown)" in failed[0].expected
    assert result.score < result.points


