# Seed 004 (../shared/seeds/004_4f4a685628545f4e.txt): d2l's LSTM, GRU and multi-layer LSTM from
# scratch, verbatim (line numbers stripped) except the d2l lines, left out: `from d2l import torch
# as d2l`, the data loading (`d2l.load_data_time_machine`) and the training (`d2l.RNNModelScratch`,
# `d2l.try_gpu`, `d2l.train_ch8`, the hyperparameters and `model_fn`). The course provides its own
# RNNModelScratch and train_lm; the tests add the course's grad_clipping (d2l's) and LSTMCell.
# The page's non-breaking spaces (U+00A0, a SyntaxError in Python) are plain spaces here.

import torch
from torch import nn
def get_lstm_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size
    def normal(shape):
        return torch.randn(size=shape, device=device)*0.01
    def three():
        return (normal((num_inputs, num_hiddens)),
                normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens, device=device))
    W_xi, W_hi, b_i = three()  # 输入门参数
    W_xf, W_hf, b_f = three()  # 遗忘门参数
    W_xo, W_ho, b_o = three()  # 输出门参数
    W_xc, W_hc, b_c = three()  # 候选记忆元参数
    # 输出层参数
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    # 附加梯度
    params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc,
              b_c, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params
def init_lstm_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device),
            torch.zeros((batch_size, num_hiddens), device=device))
def lstm(inputs, state, params):
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c,
     W_hq, b_q] = params
    (H, C) = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid((X @ W_xi) + (H @ W_hi) + b_i)
        F = torch.sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = torch.sigmoid((X @ W_xo) + (H @ W_ho) + b_o)
        C_tilda = torch.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        C = F * C + I * C_tilda
        H = O * torch.tanh(C)
        Y = (H @ W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H, C)

import torch
from torch import nn
def get_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size
    def normal(shape):
        return torch.randn(size=shape, device=device)*0.01
    def three():
        return (normal((num_inputs, num_hiddens)),
                normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens, device=device))
    W_xz, W_hz, b_z = three()  # 更新门参数
    W_xr, W_hr, b_r = three()  # 重置门参数
    W_xh, W_hh, b_h = three()  # 候选隐状态参数
    # 输出层参数
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    # 附加梯度
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params
def init_gru_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device), )
def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)

import torch
from torch import nn
def get_multi_lstm_params(vocab_size, num_hiddens, num_layers, device):
    """初始化多层LSTM参数"""
    num_inputs = vocab_size
    num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    def three(in_size, out_size):
        """返回门控机制的三组参数"""
        return (normal((in_size, out_size)),
                normal((out_size, out_size)),
                torch.zeros(out_size, device=device))

    params = []
    # 初始化各层参数
    for i in range(num_layers):
        # 第一层输入为vocab_size,其他层输入为上一层的隐藏层大小
        in_size = num_inputs if i == 0 else num_hiddens

        # 输入门、遗忘门、输出门、候选记忆元参数
        W_xi, W_hi, b_i = three(in_size, num_hiddens)
        W_xf, W_hf, b_f = three(in_size, num_hiddens)
        W_xo, W_ho, b_o = three(in_size, num_hiddens)
        W_xc, W_hc, b_c = three(in_size, num_hiddens)

        params.extend([W_xi, W_hi, b_i, W_xf, W_hf, b_f,
                      W_xo, W_ho, b_o, W_xc, W_hc, b_c])

    # 输出层参数(连接最后一层隐藏层到输出)
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params.extend([W_hq, b_q])

    # 开启梯度计算
    for param in params:
        param.requires_grad_(True)

    return params
def init_multi_lstm_state(batch_size, num_hiddens, num_layers, device):
    """初始化多层LSTM的隐藏状态和记忆元"""
    return [(torch.zeros((batch_size, num_hiddens), device=device),
             torch.zeros((batch_size, num_hiddens), device=device))
            for _ in range(num_layers)]
def multi_lstm(inputs, state, params, num_layers):
    """多层LSTM前向传播"""
    # 解析状态:每层包含(H, C)
    layer_states = state
    outputs = []
    # 每层参数数量:12个参数(4个门×3组参数)
    per_layer_params = 12
    current_inputs = inputs

    # 逐层计算
    for layer in range(num_layers):
        layer_params = params[layer * per_layer_params : (layer + 1) * per_layer_params]
        H, C = layer_states[layer]
        layer_outputs = []

        # 时序步计算
        for X in current_inputs:
            # 输入门
            I = torch.sigmoid((X @ layer_params[0]) + (H @ layer_params[1]) + layer_params[2])
            # 遗忘门
            F = torch.sigmoid((X @ layer_params[3]) + (H @ layer_params[4]) + layer_params[5])
            # 输出门
            O = torch.sigmoid((X @ layer_params[6]) + (H @ layer_params[7]) + layer_params[8])
            # 候选记忆元
            C_tilda = torch.tanh((X @ layer_params[9]) + (H @ layer_params[10]) + layer_params[11])
            # 更新记忆元
            C = F * C + I * C_tilda
            # 更新隐藏状态
            H = O * torch.tanh(C)
            layer_outputs.append(H)

        # 当前层输出作为下一层输入
        current_inputs = layer_outputs
        # 更新该层状态
        layer_states[layer] = (H, C)

    # 输出层计算(使用最后一层的输出)
    W_hq, b_q = params[-2], params[-1]
    final_outputs = [(H @ W_hq) + b_q for H in current_inputs]

    return torch.cat(final_outputs, dim=0), layer_states
