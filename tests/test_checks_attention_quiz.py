"""The hidden checks of 02_attention_quiz: the key scores full marks, forgiving forms are accepted,
each wrong answer costs its own question, malformed answers get a message, the key never shows."""
import pytest

import course_config
import reference_solutions.attention_quiz as ref
from autograder.engine.judge import judge
from autograder.engine.student import LocalStudent
from reference_solutions.known_wrong.attention_quiz import WRONG

SPEC = course_config.assignment("attention_quiz")
LEVELS = [lv.name for lv in SPEC.levels]
KEY = {name: getattr(ref, name) for name in dir(ref) if name.startswith("answer_")}


def scores(results):
    return {lv: r.score for lv, r in results.items()}


def test_the_key_scores_full_marks():
    results = judge("attention_quiz", LocalStudent.from_module(ref))
    assert scores(results) == {lv.name: lv.points for lv in SPEC.levels}
    assert len(KEY) == 12


def test_seed_002_answers_are_the_key_of_level_1():
    """The answers 头歌 gives for its five questions: 1 A, 2 ABC, 3 B, 4 C, 5 A."""
    assert [KEY[f"answer_{i}"] for i in range(1, 6)] == ["A", "ABC", "B", "C", "A"]


def test_untouched_stub_scores_zero_everywhere():
    results = judge("attention_quiz", LocalStudent.from_source(""))
    assert scores(results) == {lv: 0.0 for lv in LEVELS}
    assert all("not defined" in c.message for r in results.values() for c in r.checks)


def test_forgiving_forms_are_accepted():
    answers = dict(KEY, answer_1="a", answer_2="c, b,A", answer_3=" b ", answer_6="e b d a c",
                   answer_8=16.0, answer_10=["c", "B"], answer_11="D/B/A")
    results = judge("attention_quiz", LocalStudent.from_module(ref, **answers))
    assert scores(results) == {lv.name: lv.points for lv in SPEC.levels}


def test_order_matters_for_the_ordering_question():
    results = judge("attention_quiz", LocalStudent.from_module(ref, answer_6="ABCDE"), levels=["self_attention_quiz"])
    assert results["self_attention_quiz"].score == 3.0


@pytest.mark.parametrize("wrong", WRONG, ids=lambda w: f"{w.level}-{w.name}")
def test_one_wrong_answer_costs_one_question_with_its_message(wrong):
    result = judge("attention_quiz", LocalStudent.from_module(ref, **wrong.overrides), levels=[wrong.level])[wrong.level]
    failed = [c for c in result.checks if not c.passed]
    assert len(failed) == 1 and wrong.en in failed[0].message
    assert result.score == pytest.approx(result.points * (1 - 1 / len(result.checks)), abs=0.01)


@pytest.mark.parametrize("bad", ["E", "", "AB", None, 1, "A B B", ["A", 2]])
def test_a_malformed_answer_gets_a_message_not_a_crash(bad):
    result = judge("attention_quiz", LocalStudent.from_module(ref, answer_1=bad), levels=["educoder_quiz"])
    failed = [c for c in result["educoder_quiz"].checks if not c.passed]
    assert len(failed) == 1 and "wrong form" in failed[0].message
    assert result["educoder_quiz"].score == 4.0


def test_the_key_never_shows_in_feedback():
    answers = {name: "D" if value != "D" else "A" for name, value in KEY.items() if isinstance(value, str)}
    answers.update(answer_6="ABCDE", answer_8=15)
    results = judge("attention_quiz", LocalStudent.from_module(ref, **answers))
    for result in results.values():
        for check in result.checks:
            assert not check.passed
            assert check.expected == "（不公开） / (not shown)"
            assert repr(KEY[check.input]) not in check.message


def test_grading_is_reproducible():
    student = LocalStudent.from_module(ref, answer_2="AB", answer_7="A")
    assert scores(judge("attention_quiz", student)) == scores(judge("attention_quiz", student))
