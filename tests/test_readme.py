"""The README stays true: its set-up section names exactly `make demo` and `make test`, and its
instructor quick start, run as written in a copy of the course, ends with a gradebook CSV that
holds the class's scores."""
import csv
import os
import re
import shutil
import subprocess

import pytest

import course_config
from autograder.tools import demo

README = course_config.ROOT / "README.md"
SPEC = course_config.assignment("01_multihead_attention")


def fenced_block(heading: str, level: str = "##") -> str:
    """The first ``` block after the `## heading` line of the README (`level`: "###" for a subsection)."""
    text = README.read_text()
    section = text.split(f"\n{level} {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```\n(.*?)```", section, re.S).group(1)


def test_setup_section_is_make_demo_and_make_test():
    commands = [line.split("#")[0].strip() for line in fenced_block("Set up and run").splitlines()]
    assert [c for c in commands if c] == ["make demo", "make test"]


@pytest.fixture(scope="module")
def instructor_run(tmp_path_factory):
    """The instructor quick start, run by bash in a course copy with two submissions in place."""
    course = demo.make_course(tmp_path_factory.mktemp("readme") / "course")
    shutil.copytree(course_config.ROOT / "release", course / "release")
    for name in ("Makefile", "requirements.txt", "pyproject.toml"):
        shutil.copy2(course_config.ROOT / name, course / name)
    (course / ".venv").symlink_to(course_config.ROOT / ".venv")  # `make venv`: already made
    demo.submit(course, "alice", SPEC, [lv.name for lv in SPEC.levels])
    demo.submit(course, "bob", SPEC, [SPEC.levels[0].name])
    script = "set -euo pipefail\n" + fenced_block("Instructor quick start")
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    run = subprocess.run(["bash", "-c", script], cwd=course, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return course, run


def test_instructor_quick_start_ends_with_a_gradebook_csv(instructor_run):
    course, _ = instructor_run
    with open(course / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == SPEC.folder}
    total = sum(lv.points for lv in SPEC.levels)
    assert set(rows) == {"alice", "bob"}
    assert float(rows["alice"]["score"]) == total and float(rows["alice"]["max_score"]) == total
    assert float(rows["bob"]["score"]) == SPEC.levels[0].points


def test_instructor_quick_start_writes_feedback_and_the_report(instructor_run):
    course, run = instructor_run
    for student in ("alice", "bob"):
        assert (course / "feedback" / student / SPEC.folder / f"{SPEC.name}.html").exists()
    assert (course / "artifacts" / "report" / f"report_{SPEC.folder}.html").exists()
    assert "masked_softmax" in run.stdout and "100%" in run.stdout  # the report's table
