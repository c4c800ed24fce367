"""What every assignment's hidden checks must do: the reference passes them all
(on CPU, and on CUDA where present), the untouched release notebook scores 0 on every level,
and every known-wrong implementation beside the reference is rejected with its own message.
Each tests/test_checks_<name>.py adds what is particular to its assignment (tests/checks_helpers.py).
Every check here is parametrised by course_config.ASSIGNMENTS: a new assignment is under contract
as soon as it is declared there."""
import importlib
import json

import nbformat
import pytest

import course_config
from autograder import coursekit
from autograder.checks import quiz
from autograder.engine.judge import judge
from autograder.engine.student import LocalStudent
from autograder.engine.submission import is_check_cell
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


def pytest_generate_tests(metafunc):
    """(spec, wrong) for every known mistake, imported only for the assignment asked for (--assignment)."""
    if "wrong" in metafunc.fixturenames:
        only = metafunc.config.getoption("--assignment")
        specs = [spec for spec in SPECS if not only or only in (spec.folder, spec.name)]
        metafunc.parametrize("spec, wrong", [(spec, wrong) for spec in specs for wrong in known_wrong(spec)],
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


# ---------------------------------------------------------------- quiz variants (each student's order of the options)
def checks_module(spec):
    return importlib.import_module(f"autograder.checks.test_{spec.name}")


VARIANT_SPECS = [spec for spec in SPECS if getattr(checks_module(spec), "VARIANTS", "")]


@pytest.mark.parametrize("spec", VARIANT_SPECS, ids=lambda s: s.name)
def test_the_questions_file_shows_every_choice_question_with_its_options(spec):
    questions = checks_module(spec).QUESTIONS
    path = course_config.ROOT / "source" / spec.folder / coursekit.QUESTIONS_FILE
    shown = {q["name"]: q for q in json.loads(path.read_text(encoding="utf-8"))}
    assert {name for name, q in questions.items() if q[1] in quiz.CHOICES} <= shown.keys() <= questions.keys()
    for name, q in shown.items():
        assert q["level"] == questions[name][0] and len(q["options"]) == len(questions[name][2]), name


@pytest.mark.parametrize("spec", VARIANT_SPECS, ids=lambda s: s.name)
def test_the_same_quiz_answers_score_differently_for_two_students(spec):
    """The key in alice's order: full marks for alice, less for bob (whose order differs somewhere)."""
    checks = checks_module(spec)
    levels = sorted({q[0] for q in checks.QUESTIONS.values() if q[1] in quiz.CHOICES})
    answers = quiz.student_key(checks.QUESTIONS, reference(spec), "alice", checks.VARIANTS)
    alice, bob = (judge(spec.name, LocalStudent.from_module(reference(spec), **answers), levels=levels,
                        student_id=student) for student in ("alice", "bob"))
    assert all(r.score == r.points for r in alice.values())
    assert sum(r.score for r in bob.values()) < sum(r.score for r in alice.values())
