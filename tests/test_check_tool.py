"""`make check A=...` runs one assignment's contract: its own cases only, every assignment has the
files it runs, and an unknown name is refused with the list of names."""
import subprocess
import sys

import course_config
from autograder.tools import check

ROOT = course_config.ROOT


def test_every_assignment_has_the_tests_make_check_runs():
    for spec in course_config.ASSIGNMENTS:
        for arg in check.pytest_command(spec):
            if arg.startswith("tests/"):
                assert (ROOT / arg).is_file(), arg


def test_an_unknown_assignment_is_refused_with_the_names():
    run = subprocess.run([sys.executable, "-m", "autograder.tools.check", "09_nothing"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 2 and "07_transformer" in run.stderr


def test_the_assignment_option_keeps_only_its_cases():
    spec = course_config.assignment("07_transformer")
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "--assignment", spec.folder,
                          "tests/test_checks_every_assignment.py"], cwd=ROOT, capture_output=True, text=True)
    ids = [line for line in run.stdout.splitlines() if "::" in line]
    assert run.returncode == 0 and ids, run.stdout[-2000:]
    assert all("[transformer" in i for i in ids if "[" in i), [i for i in ids if "transformer" not in i]
    assert any("test_known_wrong_implementation_is_rejected" in i for i in ids)
