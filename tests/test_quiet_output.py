"""Output that tells the truth, without noise:
- `nbgrader autograde`'s progress line counts the submissions it skips (already graded);
- a student's `.ipynb_checkpoints` is never reported as an EXTRA submitted notebook (nor sent);
- `nbgrader export` writes no rows for assignments never released (nor submitted)."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

import course_config
from autograder.tools import demo, student_setup

A, B = course_config.assignment("01_multihead_attention"), course_config.assignment("02_attention_quiz")
BIN = Path(sys.executable).parent


def run(cwd: Path, *args, env=()):
    """A command with the course's venv first on PATH; (exit status, stdout + stderr)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    environ.update({"PATH": f"{BIN}:{os.environ['PATH']}", **dict(env)})
    done = subprocess.run(args, cwd=cwd, env=environ, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with 01 and 02 generated, only 01 released through an exchange in the temp folder."""
    top = tmp_path_factory.mktemp("quiet")
    exchange = top / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)  # as nbgrader's docs ask (mkdir's mode is cut by the umask)
    course = demo.make_course(top / "course")
    env = [("COURSE_EXCHANGE_ROOT", str(exchange))]
    for spec in (A, B):
        assert run(course, "nbgrader", "generate_assignment", spec.folder, "--force", env=env)[0] == 0
    status, out = run(course, "nbgrader", "release_assignment", A.folder, env=env)
    assert status == 0, out
    return course, exchange, env


def test_autograde_counts_the_class_and_says_what_nbgrader_left(course):
    course, _, env = course
    demo.submit(course, "ann", A, [A.levels[0].name])
    demo.submit(course, "ben", A)
    status, out = run(course, "nbgrader", "autograde", A.folder, env=env)
    assert status == 0 and "[2/2]" in out, out
    demo.submit(course, "cat", A, [lv.name for lv in A.levels])
    status, out = run(course, "nbgrader", "autograde", A.folder, env=env)
    assert status == 0, out
    assert "3 submissions, 1 without a stored result" in out, out
    assert "[1/3]" in out and "[1/1]" not in out, out  # of the class found, not only of what is graded
    assert "graded 1, 0 from stored results, 2 left by nbgrader (already graded or excluded)" in out, out


@pytest.mark.parametrize("course_submit", [True, False], ids=["course", "stock"])
def test_checkpoints_are_not_extra_submitted_notebooks(course, tmp_path, course_submit):
    """A student fetches 01, JupyterLab keeps a checkpoint beside the notebook, the student submits:
    with the course's set-up, no EXTRA warning; with stock nbgrader's submit (the control), there is one."""
    _, exchange, _ = course
    home = tmp_path / "home"
    home.mkdir()
    student_setup.install(home, str(exchange), course_config.COURSE_ID)
    if not course_submit:
        config = home / ".jupyter" / "nbgrader_config.py"
        config.write_text(config.read_text().replace("course_exchange.CourseSubmit",
                                                     "nbgrader.exchange.default.submit.ExchangeSubmit"))
    student = [("HOME", str(home)), ("USER", "dee"), ("LOGNAME", "dee")]
    assert run(home, "nbgrader", "fetch_assignment", A.folder, env=student)[0] == 0
    checkpoints = home / A.folder / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / f"{A.name}-checkpoint.ipynb").write_bytes((home / A.folder / f"{A.name}.ipynb").read_bytes())
    status, out = run(home, "nbgrader", "submit", A.folder, env=student)
    assert status == 0, out
    assert ("EXTRA" in out) is not course_submit, out
    inbound = exchange / course_config.COURSE_ID / "inbound"
    assert not list(inbound.rglob(".ipynb_checkpoints")), "a checkpoint was sent"


def test_export_leaves_out_assignments_never_released(course):
    course, _, env = course
    demo.submit(course, "eve", A, [A.levels[0].name])
    status, out = run(course, "nbgrader", "autograde", A.folder, "--student=eve", env=env)
    assert status == 0, out
    status, out = run(course, "nbgrader", "export", env=env)
    assert status == 0, out
    with open(course / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["assignment"] for r in rows} == {A.folder}, rows  # 02: generated, never released
    assert {r["student_id"]: float(r["score"]) for r in rows}["eve"] == A.levels[0].points
