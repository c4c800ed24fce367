"""The README's exchange quick starts, run as written by real ordinary users: `course-instructor`
releases, collects, grades and releases feedback; `course-student1` and `course-student2` fetch,
save, validate, submit and fetch feedback through a shared exchange root (mode 1777) in a
temporary folder; course-student2 then resubmits and `collect --update` has it regraded.

The commands come from the README's code blocks (split at their comment lines into steps), so
the README stays true. Needs root to create the accounts (useradd); skipped otherwise.
"""
import csv
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

import course_config
from autograder.tools import demo, student_setup
from autograder.tools.build import reference_sections

README = course_config.ROOT / "README.md"
SPEC = course_config.assignment("01_multihead_attention")
INSTRUCTOR, STUDENTS = "course-instructor", ("course-student1", "course-student2")
BIN = Path(sys.executable).parent

if os.geteuid() != 0:
    pytest.skip("the exchange test creates ordinary-user accounts (useradd): run it as root",
                allow_module_level=True)
if not shutil.which("useradd") or not shutil.which("runuser"):
    pytest.skip("no useradd/runuser on this machine", allow_module_level=True)


def steps(heading: str) -> list:
    """The commands of the ``` block under `### heading`, as steps: runs of command lines between
    comment lines."""
    block = re.search(rf"\n### {re.escape(heading)}[^\n]*\n[^`]*```\n(.*?)```", README.read_text(), re.S).group(1)
    groups = [[]]
    for line in block.splitlines():
        if line.startswith("#"):
            if groups[-1]:
                groups.append([])
        elif line.strip():
            groups[-1].append(line.strip())
    return [g for g in groups if g]


def test_readme_blocks_are_the_commands_the_course_documents():
    """The steps this test runs are the exchange's: pins the README's blocks to what the issue asks."""
    instructor, student = steps("Instructor, in the course root"), steps("Student, in your home folder")
    assert [len(s) for s in instructor] == [2, 5] and [len(s) for s in student] == [1, 2, 1]
    assert instructor[1][0] == f"nbgrader collect --update {SPEC.folder}"
    assert [c.split()[1] for c in sum(student, [])] == ["fetch_assignment", "validate", "submit", "fetch_feedback"]


def _account(name: str, home: Path):
    """An ordinary user `name` whose home (for this run) is `home`."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", "--home-dir", str(home), name],
                       check=True)
    home.mkdir(parents=True, exist_ok=True)
    user = pwd.getpwnam(name)
    shutil.chown(home, user.pw_uid, user.pw_gid)
    home.chmod(0o755)


def _as(user: str, home: Path, cwd: Path, commands, env=()):
    """`commands` run by bash as `user` (a clean environment: its own HOME, USER, the course's venv)."""
    script = "set -euo pipefail\n" + "\n".join(commands)
    variables = [f"HOME={home}", f"USER={user}", f"LOGNAME={user}", f"PATH={BIN}:/usr/bin:/bin", "LANG=C.UTF-8",
                 *(f"{k}={v}" for k, v in env)]
    run = subprocess.run(["runuser", "-u", user, "--", "env", "-i", *variables, "bash", "-c", script], cwd=cwd,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"{user}: {commands}\n{run.stdout[-3000:]}\n{run.stderr[-4000:]}"
    return run.stdout + run.stderr


def _answer(notebook: Path, levels, owner: str):
    """What the student typed and saved in JupyterLab: `levels` filled with the reference's code,
    and the checkpoint JupyterLab keeps beside it."""
    nb = nbformat.read(notebook, as_version=4)
    sections = reference_sections(SPEC.name)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in levels:
            cell.source = sections[cell.metadata["nbgrader"]["grade_id"]]
    nbformat.write(nb, notebook)
    checkpoints = notebook.parent / ".ipynb_checkpoints"
    checkpoints.mkdir(exist_ok=True)
    shutil.copy(notebook, checkpoints / f"{notebook.stem}-checkpoint.ipynb")
    for path in (notebook, checkpoints, *checkpoints.iterdir()):
        shutil.chown(path, owner, owner)


def _grades(course: Path) -> dict:
    with open(course / "grades.csv", newline="") as f:
        return {(r["assignment"], r["student_id"]): float(r["score"]) for r in csv.DictReader(f)}


def _fetched_feedback(home: Path) -> list:
    return sorted((home / SPEC.folder / "feedback").glob(f"*/{SPEC.name}.html"))


@pytest.fixture(scope="module")
def world():
    """A shared temporary folder (readable by the accounts): the exchange (mode 1777), the
    instructor's course copy, the students' homes with the course's student set-up."""
    top = Path(tempfile.mkdtemp(prefix="exchange-test-"))
    top.chmod(0o755)
    exchange = top / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)
    homes = {name: top / "home" / name for name in (INSTRUCTOR, *STUDENTS)}
    for name, home in homes.items():
        _account(name, home)
    course = demo.make_course(homes[INSTRUCTOR] / "course")
    subprocess.run(["chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(course)], check=True)
    for student in STUDENTS:
        student_setup.install(homes[student], str(exchange), course_config.COURSE_ID)
    try:
        yield exchange, course, homes
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_a_class_through_the_exchange(world):
    exchange, course, homes = world
    release, grading = steps("Instructor, in the course root")
    fetch, submit, fetch_feedback = steps("Student, in your home folder")
    instructor = dict(user=INSTRUCTOR, home=homes[INSTRUCTOR], cwd=course, env=[("COURSE_EXCHANGE_ROOT", exchange)])
    first, second = STUDENTS

    _as(commands=release, **instructor)
    submitted = {}
    for student, levels in ((first, [lv.name for lv in SPEC.levels]), (second, [SPEC.levels[0].name])):
        home = homes[student]
        _as(student, home, home, fetch)
        _answer(home / SPEC.folder / f"{SPEC.name}.ipynb", levels, student)
        submitted[student] = _as(student, home, home, submit)
    graded = _as(commands=grading, **instructor)
    for student in STUDENTS:
        _as(student, homes[student], homes[student], fetch_feedback)

    total = sum(lv.points for lv in SPEC.levels)
    grades = _grades(course)
    assert grades[(SPEC.folder, first)] == total, grades
    assert grades[(SPEC.folder, second)] == SPEC.levels[0].points, grades
    # The checkpoint folder is neither sent, nor reported as an EXTRA notebook, nor collected.
    assert all("EXTRA" not in out and "checkpoint" not in out for out in submitted.values()), submitted
    assert not list((course / "submitted").rglob(".ipynb_checkpoints")), "checkpoints collected"
    assert not list(exchange.rglob(".ipynb_checkpoints")), "checkpoints in the exchange"
    assert "[2/2]" in graded, graded
    for student in STUDENTS:
        (page,) = _fetched_feedback(homes[student])
        assert "第1关" in page.read_text() or "masked_softmax" in page.read_text()
    first_feedback = _fetched_feedback(homes[second])[0].read_text()

    # course-student2 finishes the work and submits again: collect --update takes the new one, and
    # autograde regrades it (nbgrader skips course-student1; the summary says so).
    home = homes[second]
    _answer(home / SPEC.folder / f"{SPEC.name}.ipynb", [lv.name for lv in SPEC.levels], second)
    _as(second, home, home, submit)
    regraded = _as(commands=grading, **instructor)
    _as(second, home, home, fetch_feedback)
    grades = _grades(course)
    assert grades[(SPEC.folder, second)] == total, grades
    assert grades[(SPEC.folder, first)] == total, grades
    assert "[1/2]" in regraded and "graded 1, 0 from stored results, 1 left by nbgrader" in regraded, regraded
    pages = _fetched_feedback(home)
    assert len(pages) == 2 and pages[-1].read_text() != first_feedback, pages
