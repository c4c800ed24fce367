"""What is particular to 00_dl_basics's hidden checks (the common contract:
test_checks_every_assignment.py): seed 004's own code accepted as written, the oracles themselves,
the Cutout properties, and the training check's verdict made in the trusted process."""

import pytest
import torch
from PIL import Image
from torch import nn

import course_config
import reference_solutions.dl_basics as ref
from autograder.checks import test_dl_basics as checks
from tests.checks_helpers import judge_reference, judge_source, judge_wrong, not_full_marks
from tests.conftest import devices
from tests.seed_code import read

SPEC = course_config.assignment("dl_basics")
SEED = read("seed004_basics.py")


def test_seed_004_cutout_and_cnn_are_accepted_as_written():
    assert not_full_marks(judge_source("dl_basics", SEED, levels=["cutout", "cnn_training"])) == {}


def test_seed_004_gradient_descent_loop_passes_its_check():
    """The seed's loop is `gradient_descent`; with the reference's gradient and fit beside it, full marks."""
    namespace = {}
    exec(SEED, namespace)
    result = judge_reference("dl_basics", ["linear_regression"], gradient_descent=namespace["gradient_descent"])
    assert not_full_marks(result) == {}


def test_the_seed_schedule_misses_least_squares_with_its_message():
    result = judge_wrong("dl_basics", "seed_schedule")
    failed = [c for c in result.checks if not c.passed]
    assert len(failed) == 2 and all("lr 0.0001 and 10000 iterations" in c.message for c in failed)


class FrozenCNN(ref.CNNmodel):
    """Runs, but its weights never move: the graph is cut before the loss."""

    def forward(self, x):
        return super().forward(x).detach().requires_grad_()


def test_a_model_that_learns_nothing_fails_the_training_check():
    """The accuracy is measured in the trusted process, on images never sent, from the returned weights."""
    result = judge_reference("dl_basics", ["cnn_training"], CNNmodel=FrozenCNN)["cnn_training"]
    failed = [c for c in result.checks if not c.passed]
    assert len(failed) == 1 and "accuracy on new images after training" in failed[0].message


def test_grading_is_reproducible():
    scores = [judge_wrong("dl_basics", "one_mask").score for _ in range(2)]
    assert scores[0] == scores[1] < 2


# ---------------------------------------------------------------- the oracles themselves
def test_least_squares_on_the_seed_table_is_the_known_solution():
    X, y = checks.seed_table()
    A = torch.cat([torch.ones(7, 1, dtype=X.dtype), X], dim=1)
    torch.testing.assert_close(torch.linalg.lstsq(A, y[:, None]).solution.flatten(),
                               torch.tensor([94.6628, 3.0610, -22.9786], dtype=torch.float64), atol=1e-4, rtol=0)


@pytest.mark.parametrize("device", devices())
def test_gradient_oracle_equals_the_reference(device):
    rng = torch.Generator().manual_seed(1)
    X, y = checks.sales_table(rng, 8)
    w = torch.randn(3, generator=rng, dtype=torch.float64)
    torch.testing.assert_close(ref.mse_gradient(w.to(device), X.to(device), y.to(device)).cpu(),
                               checks.autograd_gradient(w, X, y))


def test_conv1x1_oracle_equals_the_reference():
    rng = torch.Generator().manual_seed(2)
    X, weight, bias = torch.randn(2, 3, 4, 5, generator=rng), torch.randn(6, 3, generator=rng), torch.randn(6)
    conv = nn.Conv2d(3, 6, 1)
    conv.load_state_dict({"weight": weight[:, :, None, None], "bias": bias})
    torch.testing.assert_close(ref.conv1x1(X, weight, bias), conv(X).detach(), atol=1e-5, rtol=1e-4)


def test_cutout_square_spans_are_clipped_at_both_ends():
    spans = checks.square_spans(20, 8)  # rows c - 4 .. c + 3
    assert spans[(0, 3)] == 0 and spans[(0, 6)] == 3 and spans[(6, 13)] == 10 and spans[(15, 19)] == 19
    assert (16, 19) not in spans and (5, 13) not in spans  # 4 rows at the bottom; 9 rows in the middle
    mask = torch.zeros(20, 30, dtype=torch.bool)
    mask[0:3, 22:30] = True  # centre (-1, 26): no such row
    assert checks.square_centre(mask, 8) is None
    mask[0:3] = False
    mask[0:4, 22:30] = True
    assert checks.square_centre(mask, 8) == (0, 26)
    mask[10:12, 0:2] = True  # a second region
    assert checks.square_centre(mask, 8) is None
    mask = torch.zeros(20, 20, dtype=torch.bool)
    mask[2:6, 2:6] = mask[10:14, 12:16] = True
    assert [box[4] for box in checks.components(mask)] == [16, 16]


@pytest.mark.parametrize("variant", ["numpy_random", "pil_draw"])
def test_correct_cutout_variants_get_full_marks(variant):
    """Centres drawn with NumPy instead of random, squares drawn with PIL: the properties, not the draws, decide."""
    result = judge_reference("dl_basics", ["cutout"], cutout_pil_multi=CORRECT_CUTOUTS[variant])["cutout"]
    assert result.score == result.points, [c.message for c in result.checks if not c.passed]


def cutout_numpy_random(image, mask_size=50, num_masks=3):
    import numpy as np
    image_np = np.array(image).copy()  # (H, W, 3)
    h, w = image_np.shape[:2]
    for y, x in zip(np.random.randint(0, h, num_masks), np.random.randint(0, w, num_masks)):
        image_np[max(0, y - mask_size // 2):y + mask_size // 2, max(0, x - mask_size // 2):x + mask_size // 2] = 0
    return Image.fromarray(image_np)


def cutout_pil_draw(image, mask_size=50, num_masks=3):
    import random

    from PIL import ImageDraw
    out = image.copy()
    draw, (w, h), half = ImageDraw.Draw(out), image.size, mask_size // 2
    for _ in range(num_masks):
        y, x = random.randint(0, h - 1), random.randint(0, w - 1)
        draw.rectangle([x - half, y - half, x + half - 1, y + half - 1], fill=(0, 0, 0))  # PIL clips it
    return out


CORRECT_CUTOUTS = {"numpy_random": cutout_numpy_random, "pil_draw": cutout_pil_draw}


def test_seed_cutout_leaves_its_input_untouched():
    namespace = {}
    exec(SEED, namespace)
    image = Image.new("RGB", (30, 20), (9, 9, 9))
    namespace["cutout_pil_multi"](image, mask_size=8, num_masks=3)
    assert image.getpixel((15, 10)) == (9, 9, 9) and len(set(image.getdata())) == 1
