"""What is particular to 08_gan's hidden checks (the common contract:
test_checks_every_assignment.py): the oracles themselves, the training check's verdict made in the
trusted process, and its tolerance: the reference passes on each of 20 seeds, the versions that do
cannot learn fail on every one."""
import pytest
import torch
from torch.nn import functional as F

import reference_solutions.gan as ref
from autograder.checks import test_gan as checks
from autograder.tools.bench_gan import notebook_student
from tests.checks_helpers import judge_reference, judge_wrong, wrong_named
from tests.conftest import devices

SEEDS = range(20)


def passes(student, seed):
    """The training check's verdict for `student` with seed `seed`'s draws, as the judge makes it."""
    rng = torch.Generator().manual_seed(seed)
    g_state, d_state, mu, sigma, real, noise = checks.gan_case(rng)
    trained = student.run(checks.train_student_gan, g_state, d_state, real, noise, *checks.TRAINING.values())
    return checks.gan_verdict(trained[0], mu, sigma, rng)[0]


def test_reference_passes_the_gan_check_on_each_of_20_seeds():
    student = notebook_student()
    assert [seed for seed in SEEDS if not passes(student, seed)] == []


@pytest.mark.parametrize("wrong", ["generator_never_updated", "trainer_G_on_D", "real_and_noise_swapped",
                                   "labels_swapped", "no_zero_grad_D", "generator_step_on_real_labels_zero"])
def test_a_version_that_cannot_learn_fails_the_gan_check_on_each_of_20_seeds(wrong):
    """Every gan_training mistake, and the earlier levels' mistakes that stop a GAN from learning (the
    others, e.g. a loss twice as large under Adam, learn as well as the reference: their own levels'
    checks reject them; `python -m autograder.tools.bench_gan` prints every version's pass rate)."""
    student = notebook_student(**wrong_named("gan", wrong).overrides)
    assert [seed for seed in SEEDS if passes(student, seed)] == []


class FrozenGenerator(ref.Generator):
    """Runs, but its weights never move: the graph is cut after the generator."""

    def forward(self, Z):
        return super().forward(Z).detach()


def test_the_generator_is_sampled_in_the_trusted_process():
    """A generator whose weights never move fails, whatever the student's side could report."""
    result = judge_reference("gan", ["gan_training"], Generator=FrozenGenerator)["gan_training"]
    assert result.score == 0


def test_grading_is_reproducible():
    scores = [judge_wrong("gan", "no_zero_grad_G").score for _ in range(2)]
    assert scores[0] == scores[1] < 2


# ---------------------------------------------------------------- the oracles themselves
@pytest.mark.parametrize("device", devices())
def test_loss_oracles_equal_bce_with_logits(device):
    rng = torch.Generator().manual_seed(5)
    real, fake = (torch.randn(9, 1, generator=rng) * 3).to(device), (torch.randn(9, 1, generator=rng) * 3).to(device)
    expected_d = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                  + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))) / 2
    torch.testing.assert_close(checks.oracle_discriminator_loss(real, fake), expected_d)
    torch.testing.assert_close(ref.discriminator_loss(real, fake), expected_d)
    torch.testing.assert_close(checks.oracle_generator_loss(fake), ref.generator_loss(fake))


def test_module_oracles_equal_the_reference():
    rng = torch.Generator().manual_seed(6)
    g_state, d_state = checks.generator_weights(rng, 3, 5, 2), checks.discriminator_weights(rng, 2, 4)
    G, D = ref.Generator(3, 5, 2), ref.Discriminator(2, 4)
    G.load_state_dict(g_state)
    D.load_state_dict(d_state)
    Z, X = torch.randn(7, 3, generator=rng), torch.randn(7, 2, generator=rng)
    torch.testing.assert_close(checks.oracle_G(g_state, Z), G(Z).detach())
    torch.testing.assert_close(checks.oracle_D(d_state, X), D(X).detach())


def test_step_oracle_equals_the_reference_steps():
    case = checks.step_case(torch.Generator().manual_seed(7))
    losses, after_D, after_G, g_grads = checks.run_steps(vars(ref), *case)
    expected_losses, expected_after_D, expected_after_G = checks.oracle_steps(*case)
    torch.testing.assert_close(torch.tensor(losses), torch.tensor(expected_losses))
    for got, expected in zip((*after_D, *after_G), (*expected_after_D, *expected_after_G)):
        for name in expected:
            torch.testing.assert_close(got[name], expected[name])
    assert all(g is None for g in g_grads)
