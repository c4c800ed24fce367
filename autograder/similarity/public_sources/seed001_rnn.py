# Seed 001 (../shared/seeds/001_38c3fc3ee3a07674.txt): the hand-written RNN module, verbatim (the
# page lost its indentation; restored here). As printed it does not run: `ouput` is assigned and
# `output` read (an UnboundLocalError), and its hidden state has no nonlinearity.
import torch
from torch import nn

class RNN(nn.Module):
    def __init__(self,input_size,hidden_size,output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size+hidden_size,hidden_size)
        self.i2o = nn.Linear(input_size+hidden_size,output_size)
        self.softmax = nn.LogSoftmax(dim=1)
    def forward(self,input,hidden):
        combined = torch.cat((input,hidden),1)
        hidden = self.i2h(combined)
        ouput = self.i2o(combined)
        output = self.softmax(output)
        return output,hidden
    def initHidden(self):
        return torch.zeros(1,self.hidden_size)
