"""Lint in CI: `.ci/run` runs `make lint` beside the README's test command, the code passes the
pinned ruff, and that ruff really holds the project's rules (a line over 120 columns fails)."""
import subprocess
import sys
from pathlib import Path

import course_config

ROOT = course_config.ROOT
RUFF = Path(sys.executable).with_name("ruff")


def test_ci_runs_make_lint_beside_make_test():
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make lint" in commands and "make test" in commands


def test_the_code_passes_make_lint():
    run = subprocess.run(["make", "--no-print-directory", "lint"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def test_the_project_rules_reject_a_long_line(tmp_path):
    bad = tmp_path / "long.py"
    bad.write_text(f"x = {'1 + ' * 40}1\n")  # 127 columns
    run = subprocess.run([str(RUFF), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(bad)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "E501" in run.stdout, run.stdout + run.stderr
