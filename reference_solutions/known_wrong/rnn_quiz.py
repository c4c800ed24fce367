"""Known-wrong answer sets for the RNN quiz: the classic slips, one answer each."""
from reference_solutions.known_wrong import Registry

WRONG = Registry()

WRONG.answers("rnn_parameter_shapes", "transposed_weight",
              "PyTorch 的权重形状是 (输出, 输入)，即 (hidden_size, input_size)",
              "PyTorch stores weights as (out, in): (hidden_size, input_size)",
              rnn_weight_ih_l0=(10, 20))
WRONG.answers("rnn_parameter_shapes", "second_layer_reads_input",
              "第二层的输入是第一层的输出（hidden_size 维），不是 x",
              "the second layer reads the first layer's output (hidden_size features), not x",
              rnn_weight_ih_l1=(20, 10))
WRONG.answers("rnn_parameter_shapes", "lstm_gates_not_stacked",
              "LSTM 把各门的权重按行叠在一起：行数是 hidden_size 的若干倍",
              "LSTM stacks its gates' weights by rows: a multiple of hidden_size",
              lstm_weight_ih_l0=(20, 10))
WRONG.answers("rnn_parameter_shapes", "gru_as_lstm",
              "GRU 的门比 LSTM 少", "a GRU has fewer gates than an LSTM",
              gru_weight_ih_l0=(80, 10))

WRONG.answers("rnn_parameter_counts", "one_bias",
              "nn.RNN 有两个偏置向量：bias_ih 和 bias_hh", "nn.RNN has two bias vectors: bias_ih and bias_hh",
              rnn_params=620)
WRONG.answers("rnn_parameter_counts", "no_bias",
              "别忘了偏置（bias=True 是默认值）", "do not forget the biases (bias=True is the default)",
              rnn_params=600)
WRONG.answers("rnn_parameter_counts", "lstm_three_groups",
              "LSTM 除了三个门，还有候选单元状态也有一组权重",
              "besides its three gates, the LSTM's candidate cell has weights too",
              lstm_params=1920)
WRONG.answers("rnn_parameter_counts", "lstm_wider_state",
              "LSTM 的隐藏状态并不比 RNN 宽", "the LSTM's hidden state is no wider than the RNN's",
              why_lstm_4x="A")

WRONG.answers("rnn_io_shapes", "h_n_last_layer_only",
              "h_n 含每一层最后时刻的状态：第一维是 num_layers * num_directions",
              "h_n holds every layer's final state: its first axis is num_layers * num_directions",
              h4_shape=(1, 3, 20))
WRONG.answers("rnn_io_shapes", "directions_not_concatenated",
              "双向 RNN 的输出把两个方向拼接在特征维上",
              "a bidirectional RNN concatenates both directions on the feature axis",
              bi_out_shape=(10, 3, 20))
WRONG.answers("rnn_io_shapes", "bidirectional_h_n",
              "双向时 h_n 的第一维要乘以方向数 2",
              "for a bidirectional RNN, h_n's first axis is multiplied by 2 directions",
              bi_h_shape=(2, 3, 20))
WRONG.answers("rnn_io_shapes", "h_n_batch_first",
              "batch_first 只影响 input 和 output，h_n 的形状不变",
              "batch_first changes input and output only, never h_n",
              bf_h_shape=(3, 1, 20))

WRONG.answers("gradient_quiz", "exploding_is_vanishing",
              "特征值大于 1 时连乘不会趋于 0", "a product of factors above 1 does not go to 0",
              grad_1="A")
WRONG.answers("gradient_quiz", "missed_gated_cells",
              "多选题：还有正确的选项没有选", "multiple choice: a right option is missing",
              grad_2="BC")
WRONG.answers("gradient_quiz", "larger_learning_rate",
              "增大学习率只会让爆炸更严重", "a larger learning rate makes an explosion worse",
              grad_3="A")
