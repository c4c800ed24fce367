"""Hidden checks of 03_rnn_quiz (seeds 001 and 003): one check per question, exact shapes and
numbers, the answer key never shown. tests/test_checks_rnn_quiz.py proves the key against PyTorch.
"""
import course_config
import reference_solutions.rnn_quiz as ref
from autograder.checks import quiz
from reference_solutions.known_wrong.rnn_quiz import WRONG

# name: (level, kind, options, the check's name in the verdict table); the key is the
# reference's value of `name` (reference_solutions/rnn_quiz.py, the one place it is written)
QUESTIONS = {
    "rnn_weight_ih_l0": ("rnn_parameter_shapes", "shape", "", "rnn.weight_ih_l0"),
    "rnn_weight_hh_l0": ("rnn_parameter_shapes", "shape", "", "rnn.weight_hh_l0"),
    "rnn_weight_ih_l1": ("rnn_parameter_shapes", "shape", "", "rnn.weight_ih_l1"),
    "rnn_bias_ih_l1": ("rnn_parameter_shapes", "shape", "", "rnn.bias_ih_l1"),
    "lstm_weight_ih_l0": ("rnn_parameter_shapes", "shape", "", "lstm.weight_ih_l0"),
    "lstm_weight_hh_l1": ("rnn_parameter_shapes", "shape", "", "lstm.weight_hh_l1"),
    "lstm_bias_hh_l0": ("rnn_parameter_shapes", "shape", "", "lstm.bias_hh_l0"),
    "gru_weight_ih_l0": ("rnn_parameter_shapes", "shape", "", "gru.weight_ih_l0"),
    "rnn_params": ("rnn_parameter_counts", "number", "", "nn.RNN(10, 20) 的参数个数 / parameters of nn.RNN(10, 20)"),
    "lstm_params": ("rnn_parameter_counts", "number", "", "nn.LSTM(10, 20) 的参数个数 / parameters of nn.LSTM(10, 20)"),
    "gru_params": ("rnn_parameter_counts", "number", "", "nn.GRU(10, 20) 的参数个数 / parameters of nn.GRU(10, 20)"),
    "why_lstm_4x": ("rnn_parameter_counts", "single", "ABCD", "LSTM 为什么是 4 倍 / why 4x for an LSTM"),
    "why_gru_3x": ("rnn_parameter_counts", "single", "ABCD", "GRU 为什么是 3 倍 / why 3x for a GRU"),
    "out1_shape": ("rnn_io_shapes", "shape", "", "单层 output / one layer: output"),
    "h1_shape": ("rnn_io_shapes", "shape", "", "单层 h_n / one layer: h_n"),
    "out4_shape": ("rnn_io_shapes", "shape", "", "四层 output / four layers: output"),
    "h4_shape": ("rnn_io_shapes", "shape", "", "四层 h_n / four layers: h_n"),
    "bi_out_shape": ("rnn_io_shapes", "shape", "", "双向两层 output / bidirectional, two layers: output"),
    "bi_h_shape": ("rnn_io_shapes", "shape", "", "双向两层 h_n / bidirectional, two layers: h_n"),
    "lstm_c_shape": ("rnn_io_shapes", "shape", "", "两层 LSTM 的 c_n / two-layer LSTM: c_n"),
    "bf_out_shape": ("rnn_io_shapes", "shape", "", "batch_first: output"),
    "bf_h_shape": ("rnn_io_shapes", "shape", "", "batch_first: h_n"),
    "grad_1": ("gradient_quiz", "single", "ABCD", "特征值大于 1 时 / eigenvalues above 1"),
    "grad_2": ("gradient_quiz", "multiple", "ABCD", "缓解梯度消失（多选） / against vanishing gradients"),
    "grad_3": ("gradient_quiz", "single", "ABCD", "梯度爆炸的对策 / against exploding gradients"),
    "grad_4": ("gradient_quiz", "single", "ABCD", "为什么 RNN 更明显 / why RNNs suffer more"),
}

VARIANTS = course_config.assignment("rnn_quiz").folder  # each student's own order (show_questions cells)

quiz.register(QUESTIONS, ref, WRONG, globals(), variants=VARIANTS)
