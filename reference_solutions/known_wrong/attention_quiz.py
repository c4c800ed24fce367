"""Known-wrong answer sets for the attention quiz: each one answer off from the key."""
from reference_solutions.known_wrong import Registry

WRONG = Registry()

WRONG.answers("educoder_quiz", "attention_for_gradients",
              "注意力机制不是用来防止梯度消失的：想想“资源分配”",
              "attention is not there to stop vanishing gradients: think of allocating resources",
              answer_1="C")
WRONG.answers("educoder_quiz", "missed_an_option",
              "多选题：还有正确的选项没有选", "multiple choice: a right option is missing",
              answer_2="AB")
WRONG.answers("educoder_quiz", "keys_and_values_swapped",
              "查询、键、值的角色弄反了：谁与谁算权重，又加权到谁？",
              "the roles of queries, keys and values are mixed up: which two give the weights, which one is weighted?",
              answer_5="B")

WRONG.answers("self_attention_quiz", "softmax_before_scaling",
              "顺序不对：缩放发生在 softmax 之前", "wrong order: the scaling comes before the softmax",
              answer_6="EBADC")
WRONG.answers("self_attention_quiz", "eight_heads",
              "8 与头数无关：它来自键向量的维度",
              "8 has nothing to do with the heads: it comes from the keys' dimension",
              answer_7="A")
WRONG.answers("self_attention_quiz", "divided_by_d_k",
              "缩放因子不是 d_k 本身", "the scale is not d_k itself",
              answer_8=256)

WRONG.answers("attention_variants_quiz", "hard_attention_differentiable",
              "Hard Attention 基于采样，不能直接反向传播",
              "hard attention samples: it cannot be trained by plain backpropagation",
              answer_10="ABC")
WRONG.answers("attention_variants_quiz", "more_heads_fewer_parameters",
              "头数与参数量没有这种关系：各头只是把 num_hiddens 切成几份",
              "the number of heads does not cut the parameters like that: the heads split num_hiddens",
              answer_11="ABCD")
WRONG.answers("attention_variants_quiz", "queries_from_encoder",
              "编码器的输出提供的是键和值，不是查询", "the encoder's output gives the keys and values, not the queries",
              answer_12="A")
