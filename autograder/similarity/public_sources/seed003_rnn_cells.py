# Seed 003 (../shared/seeds/003_ad159f5bc271a160.txt) describes, without printing it, a 2-layer
# RNNCell stack (100 -> 20 -> 15): "the first RNNCell's input is this step's word and the previous
# state h0; the second's is the first RNNCell's output and its previous state h1". Written here
# the way the blog's series writes it (the cells built in __init__, a loop over the time steps).
import torch
from torch import nn

class StackedRNNCells(nn.Module):
    def __init__(self, input_size=100, hidden1=20, hidden2=15):
        super().__init__()
        self.cell1 = nn.RNNCell(input_size, hidden1)
        self.cell2 = nn.RNNCell(hidden1, hidden2)

    def forward(self, x, h1, h2):
        outputs = []
        for xt in x:
            h1 = self.cell1(xt, h1)
            h2 = self.cell2(h1, h2)
            outputs.append(h2)
        return torch.stack(outputs), (h1, h2)
