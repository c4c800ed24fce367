"""The stock nbgrader commands, end to end in a temporary course: generate_assignment, three
submissions, autograde (through the judge), the gradebook, generate_feedback."""
import math
import re

import pytest

import course_config
from autograder.tools import demo

SPEC = course_config.assignment("multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]
STUDENT_ERROR = "my heads do not fit 4242"


def _raising_answers(nb):
    """dave's mistakes: MultiHeadAttention.forward raises; transpose_qkv returns a string (the
    hidden check then fails on it, in the trusted process)."""
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "multihead_attention":
            cell.source = cell.source.replace("### BEGIN SOLUTION",
                                              f"raise RuntimeError({STUDENT_ERROR!r})\n        ### BEGIN SOLUTION")
        if grade_id == "transpose_qkv":
            cell.source = cell.source.replace("### BEGIN SOLUTION", "return 'oops'\n    ### BEGIN SOLUTION", 1)


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = demo.make_course(tmp_path_factory.mktemp("course") / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    demo.submit(course, "alice", SPEC, LEVELS)  # everything done
    demo.submit(course, "bob", SPEC)  # the untouched stub
    demo.submit(course, "carol", SPEC, LEVELS[:2])  # half done
    demo.submit(course, "dave", SPEC, LEVELS, edit=_raising_answers)  # errors inside hidden checks
    run = demo.nbgrader(course, "autograde", SPEC.folder, "--log-level=WARN", capture=True)
    return course, run


def test_gradebook_holds_full_zero_and_partial(graded_course):
    course, _ = graded_course
    scores = {}
    for student, level, score, points in demo.gradebook_rows(course, SPEC):
        scores.setdefault(student, {})[level] = score
        assert 0 <= score <= points and not math.isnan(score)
    assert scores["alice"] == {lv.name: lv.points for lv in SPEC.levels}
    assert scores["bob"] == {lv: 0 for lv in LEVELS}
    assert scores["carol"] == {lv.name: (lv.points if lv.name in LEVELS[:2] else 0) for lv in SPEC.levels}


def test_autograde_writes_nothing_to_stderr_in_check_cells(graded_course):
    import nbformat
    course, _ = graded_course
    for student in ("alice", "bob", "carol"):
        nb = nbformat.read(course / "autograded" / student / SPEC.folder / f"{SPEC.name}.ipynb", 4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                kinds = [o.output_type for o in cell.outputs]
                assert kinds == ["display_data", "execute_result"]
                float(cell.outputs[1].data["text/plain"])


def test_feedback_shows_scores_and_messages_but_no_hidden_checks(graded_course):
    course, _ = graded_course
    demo.nbgrader(course, "generate_feedback", SPEC.folder, "--log-level=WARN")
    html = (course / "feedback" / "carol" / SPEC.folder / f"{SPEC.name}.html").read_text()
    assert "check_transpose_qkv" in html or "transpose_qkv" in html
    assert "尚未完成" in html and "not done yet" in html  # the message of a failed level
    hidden = (course / "autograder" / "checks" / "test_multihead_attention.py").read_text()
    for line in hidden.splitlines():
        line = line.strip()
        if line.startswith(("def ", "expect_close(", "oracle", "return ")) and len(line) > 20:
            assert line not in html, line
    for leak in ("autograder/", "reference_solutions", "_pytest", "known_wrong"):
        assert leak not in html


def test_feedback_shows_the_students_error_but_no_trace_into_hidden_code(graded_course):
    course, _ = graded_course
    demo.nbgrader(course, "generate_feedback", SPEC.folder, "--log-level=WARN")
    html = (course / "feedback" / "dave" / SPEC.folder / f"{SPEC.name}.html").read_text()
    assert f"your code raised RuntimeError: {STUDENT_ERROR}" in html  # the student's own error, in the verdict
    assert "should return a tensor, got str" in html  # transpose_qkv's string, explained
    scores = {level: score for student, level, score, _ in demo.gradebook_rows(course, SPEC) if student == "dave"}
    assert scores["multihead_attention"] == 0 and scores["masked_softmax"] == 2
    page = re.sub(r"<style.*?</style>", "", html, flags=re.S)  # the stylesheet names "Generic.Traceback"
    for leak in ("autograder/", "autograder.", "reference_solutions", "site-packages", "_pytest",
                 "Traceback", 'File "', "checks/test_", str(course)):
        assert leak not in page, leak
