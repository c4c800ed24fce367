"""No expected value within the student's reach. A student's code may read its
callers' frames, scan `gc.get_objects()` or patch torch in the kernel before the judge's helpers
run: each cheat below earns nothing over its honest twin, graded by `nbgrader autograde` on
04_seq2seq_translation (whose checks train models beside the student's code), as root and as an
ordinary user (two copies of the class, graded at the same time).

The twin's Seq2Seq learns nothing (its decoder ignores the encoder); each cheat is the twin plus
one way of finding the expected output while the judge runs the student's code."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import course_config
from autograder.tools import demo
from tests.conftest import GRADERS, Started, give_to, ordinary_user

SPEC = course_config.assignment("seq2seq_translation")
HONEST = ["make_batch", "seq2seq_model", "translated"]

TWIN_FORWARD = '''
class Seq2Seq(nn.Module):
    def __init__(self):
        super(Seq2Seq, self).__init__()
        self.encoder = nn.RNN(input_size=n_class, hidden_size=n_hidden)
        self.decoder = nn.RNN(input_size=n_class, hidden_size=n_hidden)
        self.fc = nn.Linear(n_hidden, n_class)

    def forward(self, enc_input, enc_hidden, dec_input):
        found = peek(dec_input.shape[0], dec_input.shape[1])
        if found is not None:  # (B, T+1) class indices: the answer, as confident logits (T+1, B, C)
            return (torch.nn.functional.one_hot(found.long(), n_class).float() * 30).transpose(0, 1).requires_grad_()
        outputs, _ = self.decoder(dec_input.transpose(0, 1), enc_hidden)  # ignores the encoder
        return self.fc(outputs)
'''

PEEKS = {
    "honest_twin": "def peek(B, T1):\n    return None\n",
    "frame_peek": '''def peek(B, T1):
    import sys
    frame = sys._getframe(2)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, torch.Tensor) and value.dtype == torch.long and tuple(value.shape) == (B, T1):
                return value
        frame = frame.f_back
    return None
''',
    "gc_scan": '''def peek(B, T1):
    import gc
    for value in gc.get_objects():
        if isinstance(value, torch.Tensor) and value.dtype == torch.long and tuple(value.shape) == (B, T1):
            return value
    return None
''',
    "monkeypatch": '''import torch.nn.functional as _F
_F.cross_entropy = lambda *a, **k: (a[0] * 0).sum()
torch.equal = lambda *a, **k: True
torch.Tensor.argmax = lambda self, *a, **k: torch.zeros(self.shape[:-1], dtype=torch.long)
def peek(B, T1):
    return None
''',
}


def with_peek(peek):
    def edit(nb):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "seq2seq_model":
                cell.source = peek + TWIN_FORWARD
    return edit


@pytest.fixture(scope="module")
def runs():
    """Every grader's class, graded at the same time (the cheats that scan memory keep one worker
    busy long after the other is done): {grader: (course, started nbgrader autograde)}."""
    started = {}
    try:
        for grader in GRADERS:
            user = ordinary_user() if grader == "ordinary user" else ""
            folder = Path(tempfile.mkdtemp(prefix="expected-values-"))
            os.chmod(folder, 0o755)
            course = demo.make_course(folder / "course")
            demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
            for student, peek in PEEKS.items():
                demo.submit(course, student, SPEC, HONEST, edit=with_peek(peek))
            give_to(folder, user)
            started[grader] = course, Started(course, user, "nbgrader", "autograde", SPEC.folder)
        yield started
    finally:
        for course, run in started.values():
            run.stop()
            shutil.rmtree(course.parent, ignore_errors=True)


@pytest.fixture(scope="module", params=GRADERS)
def totals(request, runs):
    course, started = runs[request.param]
    run = started.finished()
    assert run.returncode == 0, run.stderr[-3000:]
    scores = {}
    for student, level, score, _ in demo.gradebook_rows(course, SPEC):
        scores.setdefault(student, {})[level] = score
    return scores


@pytest.mark.parametrize("cheat", [name for name in PEEKS if name != "honest_twin"])
def test_finding_the_expected_output_earns_nothing(totals, cheat):
    twin = totals["honest_twin"]
    assert sum(totals[cheat].values()) <= sum(twin.values()), (totals[cheat], twin)


def test_the_honest_twin_scores_what_its_work_deserves(totals):
    """make_batch and translated are right, the model is not: partial credit, not zero, not full."""
    twin = totals["honest_twin"]
    assert twin["make_batch"] == 2 and twin["translated"] == 2
    assert twin["seq2seq_model"] < 3 and twin["training"] == 0
