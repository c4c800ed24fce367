"""What every assignment's hidden checks must do (DESIGN rule 4): the reference passes them all
(on CPU, and on CUDA where present), the untouched release notebook scores 0 on every level,
and every known-wrong implementation beside the reference is rejected with its own message.
Each tests/test_checks_<name>.py adds what is particular to its assignment (tests/checks_helpers.py).
Every check here is parametrised by course_config.ASSIGNMENTS: a new assignment is under contract
as soon as it is declared there."""
import nbformat
import pytest

import course_config
from autograder.engine.judge import judge
from autograder.engine.submission import is_check_cell
from autograder.engine.student import LocalStudent
from tests import checks_helpers
from tests.conftest import devices

SPECS = course_config.ASSIGNMENTS


def reference(spec):
    return checks_helpers.reference(spec.name)


def known_wrong(spec):
    return checks_helpers.known_wrong(spec.name)


def release_as_submitted(spec) -> LocalStudent:
    """The release notebook's code cells run as the grading kernel would: in order, each cell's
    error (the stubs' NotImplementedError) stopping only that cell."""
    nb = nbformat.read(course_config.ROOT / "release" / spec.folder / f"{spec.name}.ipynb", as_version=4)
    student = LocalStudent.from_source("")
    for cell in nb.cells:
        if cell.cell_type == "code" and not is_check_cell(cell):
            try:
                exec(compile(cell.source, "<cell>", "exec"), student.agent.namespace)
            except Exception:
                pass
    return student


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_reference_passes_every_check(spec, device):
    results = judge(spec.name, LocalStudent.from_module(reference(spec)), device)
    assert {lv: (r.score, r.points) for lv, r in results.items() if r.score != r.points} == {}
    assert all(len(r.checks) >= 3 for r in results.values()), "every level has at least 3 checks"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_untouched_release_notebook_scores_zero_everywhere(spec):
    results = judge(spec.name, release_as_submitted(spec))
    assert {lv: r.score for lv, r in results.items()} == {lv.name: 0.0 for lv in spec.levels}


@pytest.mark.parametrize("spec, wrong", [(spec, wrong) for spec in SPECS for wrong in known_wrong(spec)],
                         ids=lambda x: getattr(x, "name", "") if not hasattr(x, "levels") else x.name)
def test_known_wrong_implementation_is_rejected_with_its_message(spec, wrong):
    student = LocalStudent.from_module(reference(spec), **wrong.overrides)
    result = judge(spec.name, student, levels=[wrong.level])[wrong.level]
    assert result.score < result.points
    assert any(wrong.en in c.message for c in result.checks if not c.passed)  # the likely cause, named


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_at_least_three_known_wrong_per_level(spec):
    for level in spec.levels:
        assert len(known_wrong(spec).of(level.name)) >= 3, level.name
