"""Hidden checks of 08_gan: the generator and discriminator (seed 000), their losses, one training
step of each, and a 1-D GAN trained beside the student's code whose generator is sampled here.

The expected values come from oracles written out here (the layers as F.linear chains, the losses
with F.logsigmoid, SGD steps from torch.autograd.grad) and from the reference.
Shapes: B batch, L latent features, H hidden units, D data features.
"""
import torch
from torch.nn import functional as F

import reference_solutions.gan as ref
from autograder.checking import CheckFailed, expect_close, level, mistakes, trace
from autograder.messages import t
from reference_solutions.known_wrong.gan import WRONG

# The training check: 500 minibatches of 256, 0.5-1 s on one CPU thread (`make bench`; bench_gan over seeds).
TRAINING = dict(batch_size=256, lr_D=0.01, lr_G=0.01)
NUM_BATCHES, LATENT, HIDDEN = 500, 4, 16
# Over 20 seeds the reference's samples have |mean - μ| ≤ 0.22 σ and std / σ in 0.61-1.61; every version
# that cannot learn misses on all 20 (tests/test_checks_gan.py, autograder/tools/bench_gan.py).
MEAN_TOLERANCE, STD_RATIO = 0.5, (0.5, 2.0)  # |mean - μ| ≤ 0.5 σ; 0.5 ≤ std / σ ≤ 2.0


def draw(rng, shapes: dict, scale=0.5) -> dict:
    return {name: torch.randn(shape, generator=rng) * scale for name, shape in shapes.items()}


def generator_weights(rng, L, H, D, scale=0.5):
    return draw(rng, {"net.0.weight": (H, L), "net.0.bias": (H,), "net.2.weight": (D, H), "net.2.bias": (D,)}, scale)


def discriminator_weights(rng, D, H, scale=0.5):
    return draw(rng, {"net.0.weight": (H, D), "net.0.bias": (H,), "net.2.weight": (1, H), "net.2.bias": (1,)}, scale)


def oracle_G(w, Z):
    """Linear, ReLU, Linear, written out."""
    return F.linear(F.relu(F.linear(Z, w["net.0.weight"], w["net.0.bias"])), w["net.2.weight"], w["net.2.bias"])


def oracle_D(w, X):
    """Linear, LeakyReLU(0.2), Linear, written out: a logit."""
    return F.linear(F.leaky_relu(F.linear(X, w["net.0.weight"], w["net.0.bias"]), 0.2), w["net.2.weight"],
                    w["net.2.bias"])


# ---------------------------------------------------------------- 1. the modules
def check_module(student, device, name, args, state, X, expected):
    module = student.call(name, *args)
    keys = student.method(module, "state_dict")
    if not isinstance(keys, dict) or {k: tuple(v.shape) for k, v in keys.items()} != \
            {k: tuple(v.shape) for k, v in state.items()}:
        raise CheckFailed(t(f"{name} 的参数名或形状不对：应为 "
                            f"{{{', '.join(f'{k}: {tuple(v.shape)}' for k, v in state.items())}}}",
                            f"{name}'s parameter names or shapes are wrong: "
                            f"{{{', '.join(f'{k}: {tuple(v.shape)}' for k, v in state.items())}}} expected"))
    student.method(module, "load_state_dict", state)
    student.method(module, "to", device)
    got = student.method(module, "__call__", X, device=device)

    def compute(ns):
        net = getattr(ns, name)(*args)
        net.load_state_dict(state)
        return net(X)
    wrong = mistakes(ref, [w for w in WRONG.of("gan_modules") if name in w.overrides], compute)
    expect_close(got, expected, device=device, what=name, mistakes=wrong)


@level("gan_modules")
def test_generator_is_linear_relu_linear(student, rng, device):
    """Generator(4, 16, 1)：Linear、ReLU、Linear，输出可正可负 / Linear, ReLU, Linear, outputs of either sign"""
    state = generator_weights(rng, 4, 16, 1)
    Z = torch.randn(32, 4, generator=rng)
    check_module(student, device, "Generator", (4, 16, 1), state, Z, oracle_G(state, Z))


@level("gan_modules")
def test_discriminator_returns_logits(student, rng, device):
    """Discriminator(1, 16)：Linear、LeakyReLU(0.2)、Linear，返回 logit / returns a logit"""
    state = discriminator_weights(rng, 1, 16, scale=1.0)
    X = torch.randn(32, 1, generator=rng) * 3
    check_module(student, device, "Discriminator", (1, 16), state, X, oracle_D(state, X))


@level("gan_modules")
def test_modules_with_other_sizes(student, rng, device):
    """其他尺寸：Generator(5, 7, 3)、Discriminator(3, 9) / other sizes"""
    g_state, d_state = generator_weights(rng, 5, 7, 3), discriminator_weights(rng, 3, 9, scale=1.0)
    Z, X = torch.randn(6, 5, generator=rng), torch.randn(6, 3, generator=rng) * 2
    check_module(student, device, "Generator", (5, 7, 3), g_state, Z, oracle_G(g_state, Z))
    check_module(student, device, "Discriminator", (3, 9), d_state, X, oracle_D(d_state, X))


# ---------------------------------------------------------------- 2. the losses
def oracle_discriminator_loss(real, fake):
    """½ [mean(-log σ(r)) + mean(-log(1 - σ(f)))], with 1 - σ(f) = σ(-f)."""
    return -(F.logsigmoid(real).mean() + F.logsigmoid(-fake).mean()) / 2


def oracle_generator_loss(fake):
    return -F.logsigmoid(fake).mean()


def check_discriminator_loss(student, device, real, fake):
    wrong = mistakes(ref, [w for w in WRONG.of("gan_losses") if "discriminator_loss" in w.overrides],
                     lambda ns: ns.discriminator_loss(real, fake))
    expect_close(student.call("discriminator_loss", real, fake, device=device), oracle_discriminator_loss(real, fake),
                 device=device, what="discriminator_loss", mistakes=wrong)


def check_generator_loss(student, device, fake):
    wrong = mistakes(ref, [w for w in WRONG.of("gan_losses") if "generator_loss" in w.overrides],
                     lambda ns: ns.generator_loss(fake))
    expect_close(student.call("generator_loss", fake, device=device), oracle_generator_loss(fake), device=device,
                 what="generator_loss", mistakes=wrong)


@level("gan_losses")
def test_discriminator_loss_on_given_logits(student, rng, device):
    """判别器损失等于 ½[BCE(真, 1) + BCE(假, 0)] / the discriminator's loss equals ½[BCE(real, 1) + BCE(fake, 0)]"""
    check_discriminator_loss(student, device, torch.randn(16, 1, generator=rng) * 2,
                             torch.randn(16, 1, generator=rng) * 2)


@level("gan_losses")
def test_generator_loss_is_non_saturating(student, rng, device):
    """生成器损失是非饱和的 -log σ(d_f) 的平均 / the generator's loss is the non-saturating mean -log σ(d_f)"""
    # D mostly winning: where the saturating and non-saturating losses differ most
    check_generator_loss(student, device, torch.randn(16, 1, generator=rng) * 2 - 2)


@level("gan_losses")
def test_losses_stay_finite_for_large_logits(student, rng, device):
    """logit 很大（±40）时两个损失仍是有限的正确值 / both losses stay finite and right for large logits (±40)"""
    signs = torch.randint(0, 2, (12, 1), generator=rng) * 2 - 1
    real = signs * (30 + 10 * torch.rand(12, 1, generator=rng))
    fake = -real.flip(0)
    check_discriminator_loss(student, device, real, fake)
    check_generator_loss(student, device, fake)


# ---------------------------------------------------------------- 3. one step of each
def run_steps(ns, g_state, d_state, X, Z, lr):
    """Runs beside the student's code (self-contained): G and D built here (Linear-ReLU-Linear,
    Linear-LeakyReLU(0.2)-Linear) with the judge's weights, plain SGD; update_D on (X[0], Z[0]) and
    (X[1], Z[1]), then update_G on Z[2] and Z[3]. Returns the losses, both networks' weights after
    the D steps and after the G steps, and G's gradients after the D steps."""
    L, H = g_state["net.0.weight"].shape[1], g_state["net.0.weight"].shape[0]
    net_G = torch.nn.Sequential(torch.nn.Linear(L, H), torch.nn.ReLU(), torch.nn.Linear(H, X.shape[2]))
    net_D = torch.nn.Sequential(torch.nn.Linear(X.shape[2], H), torch.nn.LeakyReLU(0.2), torch.nn.Linear(H, 1))
    net_G.load_state_dict({k[4:]: v for k, v in g_state.items()})
    net_D.load_state_dict({k[4:]: v for k, v in d_state.items()})
    net_G.to(X.device)
    net_D.to(X.device)
    trainer_D = torch.optim.SGD(net_D.parameters(), lr=lr)
    trainer_G = torch.optim.SGD(net_G.parameters(), lr=lr)
    losses = [ns["update_D"](X[k], Z[k], net_D, net_G, trainer_D) for k in (0, 1)]
    g_grads = [None if p.grad is None else p.grad.detach().clone() for p in net_G.parameters()]
    after_D = ({f"net.{k}": v.detach().clone() for k, v in net_D.state_dict().items()},
               {f"net.{k}": v.detach().clone() for k, v in net_G.state_dict().items()})
    losses += [ns["update_G"](Z[k], net_D, net_G, trainer_G) for k in (2, 3)]
    after_G = ({f"net.{k}": v.detach().clone() for k, v in net_D.state_dict().items()},
               {f"net.{k}": v.detach().clone() for k, v in net_G.state_dict().items()})
    return losses, after_D, after_G, g_grads


def oracle_steps(g_state, d_state, X, Z, lr):
    """The same four steps by autograd and w <- w - lr * grad, with the oracle losses."""
    g = {k: v.clone() for k, v in g_state.items()}
    d = {k: v.clone() for k, v in d_state.items()}
    losses = []
    for k in (0, 1):
        params = [v.requires_grad_(True) for v in d.values()]
        loss = oracle_discriminator_loss(oracle_D(d, X[k]), oracle_D(d, oracle_G(g, Z[k]).detach()))
        grads = torch.autograd.grad(loss, params)
        d = {name: (v - lr * gr).detach() for (name, v), gr in zip(d.items(), grads)}
        losses.append(loss.item())
    after_D = ({name: v.clone() for name, v in d.items()}, {name: v.clone() for name, v in g.items()})
    for k in (2, 3):
        params = [v.requires_grad_(True) for v in g.values()]
        loss = oracle_generator_loss(oracle_D(d, oracle_G(g, Z[k])))
        grads = torch.autograd.grad(loss, params)
        g = {name: (v - lr * gr).detach() for (name, v), gr in zip(g.items(), grads)}
        losses.append(loss.item())
    return losses, after_D, (d, g)


def step_case(rng, B=16, L=3, H=8, D=1):
    g_state, d_state = generator_weights(rng, L, H, D), discriminator_weights(rng, D, H)
    X = 2 + torch.randn(4, B, D, generator=rng)  # real samples around 2
    Z = torch.randn(4, B, L, generator=rng)
    return g_state, d_state, X, Z, 0.1


def student_steps(student, device, case):
    got = student.run(run_steps, *case, device=device)
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        raise CheckFailed(t("update_D / update_G 的运行结果不完整", "update_D / update_G did not run through"))
    return got


def step_mistakes(case, pick):
    def compute(ns):
        with torch.enable_grad():  # `mistakes` computes under no_grad; these take gradient steps
            return pick(run_steps(vars(ns), *case))
    return mistakes(ref, WRONG.of("gan_steps"), compute)


def expect_state(got, expected, device, what, wrong):
    for name in expected:
        expect_close(got.get(name) if isinstance(got, dict) else None, expected[name], device=device,
                     what=f"{what} {name}", mistakes=[(w[name], m) for w, m in wrong])


@level("gan_steps")
def test_update_D_takes_one_sgd_step(student, rng, device):
    """两次 update_D 之后 D 的权重等于手算的 SGD 步，G 不变 / after two update_D calls, D's weights equal SGD steps by hand, G unchanged"""  # noqa: E501
    case = step_case(rng)
    losses, after_D, _, _ = student_steps(student, device, case)
    expected_losses, expected_after_D, _ = oracle_steps(*case)
    wrong = list(step_mistakes(case, lambda r: r[1]))
    expect_state(after_D[0], expected_after_D[0], device, "D", [(w[0], m) for w, m in wrong])
    expect_state(after_D[1], expected_after_D[1], device, "G", [(w[1], m) for w, m in wrong])
    expect_close(torch.tensor([float(v) for v in losses[:2]]), torch.tensor(expected_losses[:2]), device=device,
                 what="update_D 的返回值 / update_D's return value")


@level("gan_steps")
def test_update_D_sends_no_gradient_into_G(student, rng, device):
    """update_D 之后 G 的 .grad 仍为空（生成的样本要 detach） / after update_D, G's .grad is still empty (detach the samples)"""  # noqa: E501
    case = step_case(rng)
    _, _, _, g_grads = student_steps(student, device, case)
    trace.expected, trace.got = "[None, None, None, None]", str([None if g is None else "tensor" for g in g_grads])
    if any(g is not None and bool(torch.as_tensor(g).abs().sum() > 0) for g in g_grads):
        raise CheckFailed(next(t(w.zh, w.en) for w in WRONG if w.name == "fake_not_detached"))


@level("gan_steps")
def test_update_G_takes_one_sgd_step_through_D(student, rng, device):
    """两次 update_G 之后 G 的权重等于手算的 SGD 步，D 不变 / after two update_G calls, G's weights equal SGD steps by hand, D unchanged"""  # noqa: E501
    case = step_case(rng, B=12, L=4, H=6)
    losses, _, after_G, _ = student_steps(student, device, case)
    expected_losses, _, expected_after_G = oracle_steps(*case)
    wrong = list(step_mistakes(case, lambda r: r[2]))
    expect_state(after_G[1], expected_after_G[1], device, "G", [(w[1], m) for w, m in wrong])
    expect_state(after_G[0], expected_after_G[0], device, "D", [(w[0], m) for w, m in wrong])
    expect_close(torch.tensor([float(v) for v in losses[2:]]), torch.tensor(expected_losses[2:]), device=device,
                 what="update_G 的返回值 / update_G's return value")


# ---------------------------------------------------------------- 4. training a 1-D GAN
def train_student_gan(ns, g_state, d_state, real_data, noise, batch_size, lr_D, lr_G):
    """Runs beside the student's code (self-contained: it travels as source): the student's
    Generator and Discriminator with the judge's initial weights, trained by the student's train_gan
    (and so their losses and steps) on one thread. Returns both trained state_dicts."""
    L, H = g_state["net.0.weight"].shape[1], g_state["net.0.weight"].shape[0]
    net_G = ns["Generator"](L, H, real_data.shape[1])
    net_D = ns["Discriminator"](real_data.shape[1], H)
    net_G.load_state_dict(g_state)
    net_D.load_state_dict(d_state)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ns["train_gan"](net_D, net_G, real_data, noise, batch_size, lr_D, lr_G)
    finally:
        torch.set_num_threads(threads)
    return net_G.state_dict(), net_D.state_dict()


def initial_weights(rng, L, H, D=1):
    """PyTorch's default initialisation of both networks, drawn from rng: U(-1/sqrt(fan_in), ...)."""
    def uniform(shapes):
        return {k: (torch.rand(s, generator=rng) * 2 - 1) / s_in ** 0.5 for k, (s, s_in) in shapes.items()}
    g = uniform({"net.0.weight": ((H, L), L), "net.0.bias": ((H,), L), "net.2.weight": ((D, H), H),
                 "net.2.bias": ((D,), H)})
    d = uniform({"net.0.weight": ((H, D), D), "net.0.bias": ((H,), D), "net.2.weight": ((1, H), H),
                 "net.2.bias": ((1,), H)})
    return g, d


def target(rng):
    """The Gaussian N(μ, σ²) to learn, drawn at grading time."""
    return 1 + 3 * float(torch.rand((), generator=rng)), 0.5 + float(torch.rand((), generator=rng))


def check_short_run(student, rng, batch_size, lr_D, lr_G, num_batches=3, L=3, H=8):
    g_state, d_state = initial_weights(rng, L, H)
    mu, sigma = target(rng)
    real = mu + sigma * torch.randn(num_batches * batch_size, 1, generator=rng)
    noise = torch.randn(num_batches * batch_size, L, generator=rng)
    args = (g_state, d_state, real, noise, batch_size, lr_D, lr_G)
    got = student.run(train_student_gan, *args)
    expected = train_student_gan(vars(ref), *args)
    def compute(ns):
        with torch.enable_grad():  # `mistakes` computes under no_grad; this trains
            return train_student_gan(vars(ns), *args)
    wrong = list(mistakes(ref, WRONG.of("gan_training"), compute))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(t("训练没有返回两个网络的权重", "training did not give back both networks' weights"))
    expect_state(got[1], expected[1], "cpu", "D", [(w[1], m) for w, m in wrong])  # D first: it tells G-only
    expect_state(got[0], expected[0], "cpu", "G", [(w[0], m) for w, m in wrong])  # mistakes apart


@level("gan_training")
def test_train_gan_matches_the_reference_on_three_minibatches(student, rng, device):
    """三个小批量之后 G、D 的权重等于参考实现（同样的初始权重、数据和噪声） / after three minibatches G and D equal the reference's (same weights, data, noise)"""  # noqa: E501
    check_short_run(student, rng, batch_size=8, lr_D=0.01, lr_G=0.01)


@level("gan_training")
def test_train_gan_uses_each_learning_rate(student, rng, device):
    """lr_D ≠ lr_G：各自的优化器用各自的学习率 / lr_D ≠ lr_G: each optimiser has its own rate"""
    check_short_run(student, rng, batch_size=5, lr_D=0.05, lr_G=0.002, num_batches=4)


def sample_statistics(g_state, rng, n=20000):
    """The mean and standard deviation of n samples of the reference Generator holding g_state, here."""
    L, H = g_state["net.0.weight"].shape[1], g_state["net.0.weight"].shape[0]
    net = ref.Generator(L, H, 1)
    net.load_state_dict(g_state)
    with torch.no_grad():
        samples = net(torch.randn(n, L, generator=rng))
    return float(samples.mean()), float(samples.std())


def gan_verdict(g_state, mu, sigma, rng):
    """(passed, mean, std) of the trained generator's samples against N(μ, σ²)."""
    mean, std = sample_statistics(g_state, rng)
    passed = abs(mean - mu) <= MEAN_TOLERANCE * sigma and STD_RATIO[0] <= std / sigma <= STD_RATIO[1]
    return passed, mean, std


def gan_case(rng):
    g_state, d_state = initial_weights(rng, LATENT, HIDDEN)
    mu, sigma = target(rng)
    n = NUM_BATCHES * TRAINING["batch_size"]
    return g_state, d_state, mu, sigma, mu + sigma * torch.randn(n, 1, generator=rng), torch.randn(n, LATENT,
                                                                                                  generator=rng)


@level("gan_training")
def test_gan_learns_a_gaussian(student, rng, device):
    """你的 GAN 训练后，生成器的样本均值、标准差接近目标高斯（评测方采样） / after training, the generator's samples (drawn by the grader) have the target's mean and std"""  # noqa: E501
    g_state, d_state, mu, sigma, real, noise = gan_case(rng)
    trained = student.run(train_student_gan, g_state, d_state, real, noise, *TRAINING.values())
    if not isinstance(trained, (tuple, list)) or not isinstance(trained[0], dict) or \
            {k: tuple(v.shape) for k, v in trained[0].items()} != {k: tuple(v.shape) for k, v in g_state.items()}:
        raise CheckFailed(t("训练后生成器的 state_dict 的名字或形状不对",
                            "the trained generator's state_dict has the wrong names or shapes"))
    # Sampled here, by the reference Generator, from noise the student's code never saw.
    passed, mean, std = gan_verdict(trained[0], mu, sigma, rng)
    trace.expected = t(f"均值 {mu:.3f} ± {MEAN_TOLERANCE * sigma:.3f}，标准差在 [{STD_RATIO[0] * sigma:.3f}, "
                       f"{STD_RATIO[1] * sigma:.3f}]", f"mean {mu:.3f} ± {MEAN_TOLERANCE * sigma:.3f}, std in "
                       f"[{STD_RATIO[0] * sigma:.3f}, {STD_RATIO[1] * sigma:.3f}]")
    trace.got = t(f"均值 {mean:.3f}，标准差 {std:.3f}", f"mean {mean:.3f}, std {std:.3f}")
    if not passed:
        raise CheckFailed(t(f"训练后生成器样本的均值 {mean:.3f}、标准差 {std:.3f}，"
                            f"目标是 N({mu:.3f}, {sigma:.3f}²)：检查训练循环",
                            f"after training the generator's samples have mean {mean:.3f} and std {std:.3f}, the "
                            f"target is N({mu:.3f}, {sigma:.3f}²): check the training loop"))
