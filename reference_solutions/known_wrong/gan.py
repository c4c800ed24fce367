"""Known-wrong versions of reference_solutions/gan.py (same names and shapes, wrong values)."""
import torch
from torch import nn
from torch.nn import functional as F

from reference_solutions import gan as ref
from reference_solutions.known_wrong import Registry

WRONG = Registry()


# ---------------------------------------------------------------- the modules
@WRONG.wrong("gan_modules", "generator_output_relu",
             "生成器的输出层后加了 ReLU：样本不能为负，输出层不加激活",
             "the generator's output went through a ReLU: samples cannot be negative; no activation on the output")
class Generator(ref.Generator):
    def __init__(self, latent_dim, num_hiddens, data_dim):
        nn.Module.__init__(self)
        self.net = nn.Sequential(nn.Linear(latent_dim, num_hiddens), nn.ReLU(), nn.Linear(num_hiddens, data_dim),
                                 nn.ReLU())


@WRONG.wrong("gan_modules", "generator_tanh",
             "生成器的隐藏层用了 Tanh：任务要求 ReLU",
             "the generator's hidden layer uses Tanh: the task asks for ReLU")
class Generator(ref.Generator):  # noqa: F811
    def __init__(self, latent_dim, num_hiddens, data_dim):
        nn.Module.__init__(self)
        self.net = nn.Sequential(nn.Linear(latent_dim, num_hiddens), nn.Tanh(), nn.Linear(num_hiddens, data_dim))


@WRONG.wrong("gan_modules", "discriminator_sigmoid",
             "判别器最后加了 Sigmoid：它应返回 logit，σ 在损失里（BCE with logits）再算",
             "the discriminator ends with a Sigmoid: it returns a logit, the σ is taken in the loss (BCE with logits)")
class Discriminator(ref.Discriminator):
    def __init__(self, data_dim, num_hiddens):
        nn.Module.__init__(self)
        self.net = nn.Sequential(nn.Linear(data_dim, num_hiddens), nn.LeakyReLU(0.2), nn.Linear(num_hiddens, 1),
                                 nn.Sigmoid())


@WRONG.wrong("gan_modules", "leaky_slope_default",
             "LeakyReLU 用了默认斜率 0.01：应为 nn.LeakyReLU(0.2)",
             "LeakyReLU with its default slope 0.01: use nn.LeakyReLU(0.2)")
class Discriminator(ref.Discriminator):  # noqa: F811
    def __init__(self, data_dim, num_hiddens):
        nn.Module.__init__(self)
        self.net = nn.Sequential(nn.Linear(data_dim, num_hiddens), nn.LeakyReLU(), nn.Linear(num_hiddens, 1))


# ---------------------------------------------------------------- the losses
@WRONG.wrong("gan_losses", "labels_swapped",
             "判别器的标签反了：真样本的标签是 1，生成的样本是 0",
             "the discriminator's labels are swapped: real samples are labelled 1, generated ones 0")
def discriminator_loss(real_logits, fake_logits):
    return ref.discriminator_loss(fake_logits, real_logits)


@WRONG.wrong("gan_losses", "no_half",
             "判别器损失少了 ½：两项 BCE 的平均，而不是和",
             "the discriminator's loss lacks the ½: the mean of the two BCE terms, not their sum")
def discriminator_loss(real_logits, fake_logits):  # noqa: F811
    return ref.discriminator_loss(real_logits, fake_logits) * 2


@WRONG.wrong("gan_losses", "saturating_generator_loss",
             "生成器用了饱和的损失 log(1 - σ(d_f))：判别器占上风时梯度消失；用非饱和的 -log σ(d_f)",
             "the generator uses the saturating loss log(1 - σ(d_f)), whose gradient vanishes when the "
             "discriminator wins: use the non-saturating -log σ(d_f)")
def generator_loss(fake_logits):
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


@WRONG.wrong("gan_losses", "log_of_sigmoid",
             "log(σ(x)) 分开算，logit 很大时得到 inf：用 F.binary_cross_entropy_with_logits（或 F.logsigmoid）",
             "log(σ(x)) computed in two steps gives inf for large logits: use F.binary_cross_entropy_with_logits "
             "(or F.logsigmoid)")
def discriminator_loss(real_logits, fake_logits):  # noqa: F811
    return (-torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()) / 2


# ---------------------------------------------------------------- one step of each
@WRONG.wrong("gan_steps", "fake_not_detached",
             "更新 D 时生成的样本没有 detach：梯度流进了 G（G 的 .grad 不应被改动）",
             "the generated samples were not detached when updating D: gradients flowed into G (G's .grad "
             "must stay untouched)")
def update_D(X, Z, net_D, net_G, trainer_D):
    trainer_D.zero_grad()
    loss_D = ref.discriminator_loss(net_D(X), net_D(net_G(Z)))
    loss_D.backward()
    trainer_D.step()
    return loss_D.item()


@WRONG.wrong("gan_steps", "no_zero_grad_D",
             "更新 D 前没有清零梯度（trainer_D.zero_grad()）：上一步的梯度累加了进来",
             "D's gradients were not zeroed before the step (trainer_D.zero_grad()): the previous step's "
             "gradients were added in")
def update_D(X, Z, net_D, net_G, trainer_D):  # noqa: F811
    loss_D = ref.discriminator_loss(net_D(X), net_D(net_G(Z).detach()))
    loss_D.backward()
    trainer_D.step()
    return loss_D.item()


@WRONG.wrong("gan_steps", "no_zero_grad_G",
             "更新 G 前没有清零梯度（trainer_G.zero_grad()）：上一步的梯度累加了进来",
             "G's gradients were not zeroed before the step (trainer_G.zero_grad()): the previous step's "
             "gradients were added in")
def update_G(Z, net_D, net_G, trainer_G):
    loss_G = ref.generator_loss(net_D(net_G(Z)))
    loss_G.backward()
    trainer_G.step()
    return loss_G.item()


@WRONG.wrong("gan_steps", "generator_step_on_real_labels_zero",
             "更新 G 时用了判别器的损失（把生成的样本标成 0）：G 应让 D 把它的样本判为真（标签 1）",
             "G was updated with the discriminator's view (its samples labelled 0): G wants D to call its samples "
             "real (label 1)")
def update_G(Z, net_D, net_G, trainer_G):  # noqa: F811
    trainer_G.zero_grad()
    fake = net_D(net_G(Z))
    loss_G = F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    loss_G.backward()
    trainer_G.step()
    return loss_G.item()


# ---------------------------------------------------------------- training
@WRONG.wrong("gan_training", "generator_never_updated",
             "只更新了判别器：每个小批量在 update_D 之后还要 update_G",
             "only the discriminator was updated: after update_D, every minibatch also calls update_G")
def train_gan(net_D, net_G, real_data, noise, batch_size, lr_D, lr_G):
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=lr_D, betas=(0.5, 0.999))
    losses = []
    for start in range(0, len(real_data), batch_size):
        X, Z = real_data[start:start + batch_size], noise[start:start + batch_size]
        losses.append((ref.update_D(X, Z, net_D, net_G, trainer_D), 0.0))
    return losses


@WRONG.wrong("gan_training", "trainer_G_on_D",
             "trainer_G 优化的是判别器的参数：应为 Adam(net_G.parameters())",
             "trainer_G optimises the discriminator's parameters: use Adam(net_G.parameters())")
def train_gan(net_D, net_G, real_data, noise, batch_size, lr_D, lr_G):  # noqa: F811
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=lr_D, betas=(0.5, 0.999))
    trainer_G = torch.optim.Adam(net_D.parameters(), lr=lr_G, betas=(0.5, 0.999))
    losses = []
    for start in range(0, len(real_data), batch_size):
        X, Z = real_data[start:start + batch_size], noise[start:start + batch_size]
        losses.append((ref.update_D(X, Z, net_D, net_G, trainer_D), ref.update_G(Z, net_D, net_G, trainer_G)))
    return losses


@WRONG.wrong("gan_training", "real_and_noise_swapped",
             "把噪声当成真样本送进了 update_D：真样本是 real_data，噪声是 G 的输入",
             "the noise was passed to update_D as the real samples: the real samples are real_data, the noise is "
             "G's input")
def train_gan(net_D, net_G, real_data, noise, batch_size, lr_D, lr_G):  # noqa: F811
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=lr_D, betas=(0.5, 0.999))
    trainer_G = torch.optim.Adam(net_G.parameters(), lr=lr_G, betas=(0.5, 0.999))
    losses = []
    for start in range(0, len(real_data), batch_size):
        X, Z = real_data[start:start + batch_size], noise[start:start + batch_size]
        fake_real = Z[:, :X.shape[1]]  # the first latent feature, shaped as the data
        losses.append((ref.update_D(fake_real, Z, net_D, net_G, trainer_D),
                       ref.update_G(Z, net_D, net_G, trainer_G)))
    return losses
