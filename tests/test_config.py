"""course_config.py is the course in one place, and nbgrader refuses to run without it."""
import math

import pytest

import course_config
from autograder.tools import demo
from autograder.engine.result import Check, Level
from autograder.plugins.render import verdict_outputs


def test_a_broken_course_config_stops_nbgrader_loudly(tmp_path):
    course = demo.make_course(tmp_path / "course")
    with open(course / "course_config.py", "a") as f:
        f.write("\nraise RuntimeError('broken on purpose')\n")
    run = demo.nbgrader(course, "generate_assignment", "01_multihead_attention", check=False, capture=True)
    assert run.returncode == 2
    assert "broken on purpose" in run.stderr and "refusing to run" in run.stderr
    assert not (course / "release").exists()


def test_nbgrader_settings_come_from_course_config():
    from traitlets.config import Config
    c = Config()
    course_config.apply(c)
    assert c.Execute.timeout == course_config.LIMITS.cell_s
    assert c.OverwriteCells.add_missing_cells is True
    pps = [p if isinstance(p, str) else p.__name__ for p in c.Autograde.autograde_preprocessors]
    assert pps[0] == "autograder.plugins.judge_submission.JudgeSubmission" and "Execute" not in pps
    assert pps[-3:] == ["SaveAutoGrades", "AssignLatePenalties", "CheckCellMetadata"]
    sanitize = [p if isinstance(p, str) else p.__name__ for p in c.Autograde.sanitize_preprocessors]
    assert "autograder.plugins.restore_cells.RestoreCells" in sanitize and "DeduplicateIds" not in sanitize


@pytest.mark.parametrize("renamed", ["Execute", "DeduplicateIds"])
def test_a_renamed_nbgrader_preprocessor_stops_the_course_instead_of_grading_stock(monkeypatch, renamed):
    """A future nbgrader without Execute (or DeduplicateIds) would run check cells in the
    student's kernel if the swap silently did nothing: course_config.apply refuses instead."""
    from nbgrader.converters import Autograde
    from traitlets.config import Config
    traits = Autograde.class_traits()
    pipeline = "autograde_preprocessors" if renamed == "Execute" else "sanitize_preprocessors"
    renamed_class = type(f"{renamed}V2", (), {})
    defaults = [renamed_class if getattr(pp, "__name__", pp) == renamed else pp
                for pp in traits[pipeline].make_dynamic_default()]
    monkeypatch.setattr(Autograde, "class_traits",
                        lambda **kw: {**traits,
                                      pipeline: type("T", (), {"make_dynamic_default": lambda self: defaults})()})
    with pytest.raises(RuntimeError, match=f"has no {renamed} preprocessor"):
        course_config.apply(Config())


def test_the_renamed_preprocessor_stops_nbgrader_with_exit_2(tmp_path):
    course = demo.make_course(tmp_path / "course")
    with open(course / "course_config.py", "a") as f:
        f.write("\nimport nbgrader.preprocessors.execute as _e\n"
                "_e.Execute.__name__ = 'ExecuteV2'  # a future nbgrader\n")
    run = demo.nbgrader(course, "autograde", "01_multihead_attention", check=False, capture=True)
    assert run.returncode == 2
    assert "has no Execute preprocessor" in run.stderr and "refusing to run" in run.stderr


def test_every_assignment_has_a_reference_checks_and_source():
    root = course_config.ROOT
    for spec in course_config.ASSIGNMENTS:
        assert (root / "reference_solutions" / f"{spec.name}.py").exists()
        assert (root / "autograder" / "checks" / f"test_{spec.name}.py").exists()
        assert (root / "source" / spec.folder / f"{spec.name}.ipynb").exists()


@pytest.mark.parametrize("passed, total, points, expected", [
    (0, 3, 2, 0.0), (3, 3, 2, 2.0), (1, 3, 2, 0.66), (2, 3, 1.5, 1.0), (0, 0, 2, 0.0)])
def test_level_score_is_a_plain_float_within_the_points(passed, total, points, expected):
    result = Level("x", points, [Check("c", i < passed) for i in range(total)])
    assert result.score == expected and type(result.score) is float
    score = verdict_outputs(result)[-1]
    assert score.output_type == "execute_result"
    value = float(score.data["text/plain"])
    assert 0 <= value <= points and not math.isnan(value)


def test_a_level_that_could_not_be_checked_scores_zero():
    result = Level("x", 2, [Check("c", True)], problem="kernel died")
    assert result.score == 0.0


@pytest.mark.parametrize("language, expected", [("zh", "通过"), ("en", "passed"), ("zh+en", "通过 / passed")])
def test_student_text_follows_the_course_language(monkeypatch, language, expected):
    from autograder.messages import t
    monkeypatch.setattr(course_config, "LANGUAGE", language)
    assert t("通过", "passed") == expected


def test_a_check_that_trips_on_a_result_names_no_internal_path():
    from autograder.engine.judge import judge
    from autograder.engine.student import LocalStudent
    import reference_solutions.multihead_attention as ref
    # a tuple where a tensor is expected: the check's own code fails on it
    student = LocalStudent.from_module(ref, attention_weights_shape=None, masked_softmax=lambda X, v: (1, 2))
    result = judge("multihead_attention", student, levels=["masked_softmax"])["masked_softmax"]
    messages = " ".join(c.message for c in result.checks)
    assert result.score == 0 and "/" not in messages.replace(" / ", "")
