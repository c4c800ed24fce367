"""A generative adversarial network (seed 000): a generator that maps latent noise to samples, a
discriminator that scores how real a sample looks, their losses (binary cross-entropy, the
non-saturating generator loss), one training step of each, and a 1-D GAN trained to match a
Gaussian: the reference for `08_gan`.

Shapes: B batch, L latent features, H hidden units, D data features.
"""
import torch
from torch import nn
from torch.nn import functional as F


# <level: gan_modules>
class Generator(nn.Module):
    """G: latent noise (B, L) -> samples (B, D): Linear(L, H), ReLU, Linear(H, D)."""

    def __init__(self, latent_dim, num_hiddens, data_dim):
        super().__init__()
        ##########Begin##########
        self.net = nn.Sequential(nn.Linear(latent_dim, num_hiddens), nn.ReLU(), nn.Linear(num_hiddens, data_dim))
        ##########End##########

    def forward(self, Z):
        return self.net(Z)  # (B, D): 输出不加激活，样本可正可负 / no activation: samples of any sign


class Discriminator(nn.Module):
    """D: samples (B, D) -> logits (B, 1): Linear(D, H), LeakyReLU(0.2), Linear(H, 1).
    σ(logit) is the probability that the sample is real."""

    def __init__(self, data_dim, num_hiddens):
        super().__init__()
        ##########Begin##########
        self.net = nn.Sequential(nn.Linear(data_dim, num_hiddens), nn.LeakyReLU(0.2), nn.Linear(num_hiddens, 1))
        ##########End##########

    def forward(self, X):
        return self.net(X)  # (B, 1): logit，不是概率 / a logit, not a probability
# </level>


# <level: gan_losses>
def discriminator_loss(real_logits, fake_logits):
    """½ [BCE(σ(real_logits), 1) + BCE(σ(fake_logits), 0)], each BCE a mean over the batch."""
    ##########Begin##########
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))  # -log σ(d_r)
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # -log(1 - σ(d_f))
    return (real + fake) / 2
    ##########End##########


def generator_loss(fake_logits):
    """The non-saturating generator loss: BCE(σ(fake_logits), 1) = mean(-log σ(d_f))."""
    ##########Begin##########
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    ##########End##########
# </level>


# <level: gan_steps>
def update_D(X, Z, net_D, net_G, trainer_D):
    """One step of the discriminator on real X (B, D) and noise Z (B, L); G is not changed.
    Returns the loss (a float)."""
    ##########Begin##########
    trainer_D.zero_grad()
    fake_X = net_G(Z).detach()  # 不让梯度流进 G / no gradient into G
    loss_D = discriminator_loss(net_D(X), net_D(fake_X))
    loss_D.backward()
    trainer_D.step()
    ##########End##########
    return loss_D.item()


def update_G(Z, net_D, net_G, trainer_G):
    """One step of the generator on noise Z (B, L), through D (whose weights it does not change).
    Returns the loss (a float)."""
    ##########Begin##########
    trainer_G.zero_grad()
    loss_G = generator_loss(net_D(net_G(Z)))
    loss_G.backward()
    trainer_G.step()
    ##########End##########
    return loss_G.item()
# </level>


# <level: gan_training>
def train_gan(net_D, net_G, real_data, noise, batch_size, lr_D, lr_G):
    """Adam (betas 0.5, 0.999) for each network; for each minibatch i of real_data (N, D) and noise
    (N, L), in order: update_D on (X_i, Z_i), then update_G on Z_i. Returns the losses [(D, G)]."""
    ##########Begin##########
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=lr_D, betas=(0.5, 0.999))
    trainer_G = torch.optim.Adam(net_G.parameters(), lr=lr_G, betas=(0.5, 0.999))
    losses = []
    for start in range(0, len(real_data), batch_size):
        X, Z = real_data[start:start + batch_size], noise[start:start + batch_size]  # (B, D), (B, L)
        loss_D = update_D(X, Z, net_D, net_G, trainer_D)
        loss_G = update_G(Z, net_D, net_G, trainer_G)
        losses.append((loss_D, loss_G))
    ##########End##########
    return losses
# </level>
