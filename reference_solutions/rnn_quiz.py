"""The RNN quiz (seeds 001 and 003): the answer key, checkable with PyTorch itself (see the tests).

Instructor-side only: the build copies these sections into the source notebook's solution cells,
and nbgrader strips them from release/. The hidden checks read their key from here
(the one place it is written).
"""

# <level: rnn_parameter_shapes>
# rnn = nn.RNN(10, 20, num_layers=2); lstm = nn.LSTM(10, 20, num_layers=2); gru = nn.GRU(10, 20)
##########Begin##########
rnn_weight_ih_l0 = (20, 10)
rnn_weight_hh_l0 = (20, 20)
rnn_weight_ih_l1 = (20, 20)
rnn_bias_ih_l1 = (20,)
lstm_weight_ih_l0 = (80, 10)
lstm_weight_hh_l1 = (80, 20)
lstm_bias_hh_l0 = (80,)
gru_weight_ih_l0 = (60, 10)
##########End##########
# </level>


# <level: rnn_parameter_counts>
# nn.RNN(10, 20), nn.LSTM(10, 20), nn.GRU(10, 20): one layer each
##########Begin##########
rnn_params = 640
lstm_params = 2560
gru_params = 1920
why_lstm_4x = "B"
why_gru_3x = "D"
##########End##########
# </level>


# <level: rnn_io_shapes>
# x = torch.randn(10, 3, 100): [seq_len, batch, feature]; xb = torch.randn(3, 10, 100) for batch_first
##########Begin##########
out1_shape = (10, 3, 20)
h1_shape = (1, 3, 20)
out4_shape = (10, 3, 20)
h4_shape = (4, 3, 20)
bi_out_shape = (10, 3, 40)
bi_h_shape = (4, 3, 20)
lstm_c_shape = (2, 3, 20)
bf_out_shape = (3, 10, 20)
bf_h_shape = (1, 3, 20)
##########End##########
# </level>


# <level: gradient_quiz>
# 梯度消失与梯度爆炸 / vanishing and exploding gradients
##########Begin##########
grad_1 = "C"
grad_2 = "BCD"
grad_3 = "B"
grad_4 = "A"
##########End##########
# </level>
