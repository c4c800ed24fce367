"""What is particular to 00_dl_basics's hidden checks (the common contract:
test_checks_every_assignment.py): seed 004's own code accepted as written, the oracles themselves,
the Cutout properties, and the training check's verdict made in the trusted process."""
import re

import nbformat
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


def test_cutout_square_test_recognises_clipped_squares():
    assert checks.is_clipped_square((0, 3, 10, 17, 32), 50, 50, 8)  # cut at the top: 4 x 8
    assert not checks.is_clipped_square((5, 8, 10, 17, 32), 50, 50, 8)  # 4 x 8 in the middle
    mask = torch.zeros(20, 20, dtype=torch.bool)
    mask[2:6, 2:6] = mask[10:14, 12:16] = True
    assert [box[4] for box in checks.components(mask)] == [16, 16]


def test_seed_cutout_leaves_its_input_untouched():
    namespace = {}
    exec(SEED, namespace)
    image = Image.new("RGB", (30, 20), (9, 9, 9))
    namespace["cutout_pil_multi"](image, mask_size=8, num_masks=3)
    assert image.getpixel((15, 10)) == (9, 9, 9) and len(set(image.getdata())) == 1


def test_notebook_scaffold_equals_the_reference():
    text = (course_config.ROOT / "reference_solutions" / "dl_basics.py").read_text()
    scaffold = re.search(r"^# <scaffold: images>\n(.*?)^# </scaffold>\n", text, re.S | re.M).group(1)
    nb = nbformat.read(course_config.ROOT / "source" / SPEC.folder / f"{SPEC.name}.ipynb", as_version=4)
    cells = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "images"]
    assert cells == [scaffold.strip("\n")]
