"""What the per-assignment check tests share (tests/test_checks_<name>.py): judging a reference,
a known-wrong version or a seed's code, and reading the verdict. The common contract of every
assignment is tests/test_checks_every_assignment.py; these helpers serve what is particular."""
import importlib

import course_config
from autograder.engine.judge import judge
from autograder.engine.student import LocalStudent


def reference(name: str):
    """reference_solutions.<name> (an assignment's name)."""
    return importlib.import_module(f"reference_solutions.{course_config.assignment(name).name}")


def known_wrong(name: str):
    """The Registry of reference_solutions/known_wrong/<name>.py."""
    return importlib.import_module(f"reference_solutions.known_wrong.{course_config.assignment(name).name}").WRONG


def wrong_named(name: str, wrong: str):
    """The known-wrong implementation `wrong` of assignment `name`."""
    return next(w for w in known_wrong(name) if w.name == wrong)


def not_full_marks(results) -> dict:
    """{level: (score, points)} of the levels that did not get full marks ({} when all did)."""
    return {lv: (r.score, r.points) for lv, r in results.items() if r.score != r.points}


def judge_reference(name: str, levels=None, device="cpu", **overrides) -> dict:
    """The assignment's reference judged, some of its names replaced by `overrides`."""
    return judge(name, LocalStudent.from_module(reference(name), **overrides), device, levels)


def judge_wrong(name: str, wrong: str, device="cpu"):
    """The Level (result) of the known-wrong `wrong` on its own level."""
    found = wrong_named(name, wrong)
    return judge_reference(name, [found.level], device, **found.overrides)[found.level]


def judge_source(name: str, source: str, levels=None, device="cpu") -> dict:
    """Code given as text (a seed's, as written) judged as a student's notebook would be."""
    return judge(name, LocalStudent.from_source(source), device, levels)
