"""The hidden checks of 02_attention_quiz: the key scores full marks, forgiving forms are accepted,
each wrong answer costs its own question, malformed answers get a message, the key never shows."""
import getpass
import json
import shutil

import nbformat
import pytest

import course_config
import reference_solutions.attention_quiz as ref
from autograder import coursekit
from autograder.checks import quiz
from autograder.checks import test_attention_quiz as checks
from autograder.coursekit import option_order
from autograder.engine.grade_one import grade_one
from autograder.engine.judge import judge
from autograder.engine.student import LocalStudent
from autograder.engine.submission import Submission
from autograder.tools import demo
from autograder.tools.build import reference_sections
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
    student = LocalStudent.from_module(ref, **wrong.overrides)
    result = judge("attention_quiz", student, levels=[wrong.level])[wrong.level]
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


# ---------------------------------------------------------------- each student's order of the options
CHOICE = {name: q for name, q in checks.QUESTIONS.items() if q[1] in quiz.CHOICES}
STUDENTS = ["alice", "bob", "course-student1", "2024010203"]


def graded(answers, student_id, levels=None):
    return judge("attention_quiz", LocalStudent.from_module(ref, **answers), levels=levels, student_id=student_id)


def passed(results):
    return {c.input for r in results.values() for c in r.checks if c.passed}


def order_of(student, name):
    return option_order(student, checks.VARIANTS, name, CHOICE[name][2])


def test_orders_are_stable_and_differ_between_students():
    orders = {s: [order_of(s, name) for name in CHOICE] for s in STUDENTS}
    assert orders == {s: [order_of(s, name) for name in CHOICE] for s in STUDENTS}  # every run, every resubmission
    assert len({tuple(o) for o in orders.values()}) == len(STUDENTS)
    assert all(sorted(order) == sorted(CHOICE[name][2]) for o in orders.values() for name, order in zip(CHOICE, o))
    assert option_order(None, checks.VARIANTS, "answer_1") == option_order("", checks.VARIANTS, "answer_1") == "ABCD"


@pytest.mark.parametrize("student", STUDENTS)
def test_each_student_scores_full_marks_with_the_key_in_their_own_order(student):
    results = graded(quiz.student_key(checks.QUESTIONS, ref, student, checks.VARIANTS), student)
    assert scores(results) == {lv.name: lv.points for lv in SPEC.levels}


def test_the_same_answers_score_differently_for_two_students():
    """alice's right answers are bob's wrong ones wherever their orders of a question differ."""
    answers = quiz.student_key(checks.QUESTIONS, ref, "alice", checks.VARIANTS)
    alice, bob = graded(answers, "alice"), graded(answers, "bob")
    differ = {name for name in CHOICE
              if quiz.in_seed_letters(quiz.normalise(answers[name], CHOICE[name][1], CHOICE[name][2]),
                                      CHOICE[name][1], order_of("bob", name), CHOICE[name][2]) != KEY[name]}
    assert differ and passed(bob) == set(KEY) - differ and passed(alice) == set(KEY)
    assert sum(scores(bob).values()) < sum(scores(alice).values())


@pytest.mark.parametrize("student", STUDENTS)
def test_the_seed_letters_typed_verbatim_score_like_a_guess(student):
    """The letters of the public page (seed 002: A, ABC, B, C, A) earn a question's point only where
    this student's order reads them back as the key; full marks only in the seed's own order."""
    results = graded(KEY, student)
    lucky = {name for name in CHOICE if quiz.in_seed_letters(
        quiz.normalise(KEY[name], CHOICE[name][1], CHOICE[name][2]), CHOICE[name][1], order_of(student, name),
        CHOICE[name][2]) == KEY[name]}
    assert passed(results) == lucky | {"answer_8"}  # the number question has no options
    assert sum(scores(results).values()) < sum(lv.points for lv in SPEC.levels)
    assert scores(graded(KEY, "")) == {lv.name: lv.points for lv in SPEC.levels}  # no id: the seed's order


def test_variants_off_every_student_sees_the_seed_order(monkeypatch):
    monkeypatch.setattr(course_config, "QUIZ_VARIANTS", False)
    assert scores(graded(KEY, "bob")) == {lv.name: lv.points for lv in SPEC.levels}


def test_known_wrong_answers_are_named_in_each_students_order():
    wrong = WRONG.of("educoder_quiz")[0]
    (name, seed_letters), = wrong.overrides.items()
    mine = quiz.in_student_letters(quiz.normalise(seed_letters, CHOICE[name][1]), CHOICE[name][1],
                                   order_of("bob", name))
    result = graded({name: mine}, "bob", levels=[wrong.level])[wrong.level]
    assert [c.message for c in result.checks if c.input == name and wrong.en in c.message]


# ---------------------------------------------------------------- the notebook's side: whose it is, what it shows
QUESTIONS_FILE = course_config.ROOT / "source" / SPEC.folder / coursekit.QUESTIONS_FILE


def test_the_questions_file_holds_every_question_with_its_options():
    questions = {q["name"]: q for q in json.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))}
    assert questions.keys() == checks.QUESTIONS.keys()
    for name, (level, kind, options, _) in checks.QUESTIONS.items():
        assert questions[name]["level"] == level and len(questions[name]["options"]) == len(options), name


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A student's folder outside any course root, no id in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("COURSE_STUDENT_ID", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_student_id_comes_from_the_grader_then_the_environment_then_the_login(elsewhere, monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "course-student1")
    assert coursekit.student_id() == "course-student1"  # nbgrader submit's id: the login
    monkeypatch.setattr(getpass, "getuser", lambda: "jovyan")
    monkeypatch.setenv("JUPYTERHUB_USER", "dee")
    assert coursekit.student_id() == "dee"  # JupyterHub's container user: the hub's name, as nbgrader reads it
    monkeypatch.setenv("COURSE_STUDENT_ID", "eve")
    assert coursekit.student_id() == "eve"
    (elsewhere / coursekit.STUDENT_FILE).write_text("alice\n")
    assert coursekit.student_id() == "alice"  # the grader's: the submission's folder name


def test_the_instructors_copy_shows_the_seed_order(monkeypatch):
    monkeypatch.chdir(course_config.ROOT / "release" / SPEC.folder)
    monkeypatch.delenv("COURSE_STUDENT_ID", raising=False)
    assert coursekit.student_id() is None


def shown(monkeypatch, level):
    """The Markdown that show_questions displays."""
    import IPython.display
    out = []
    monkeypatch.setattr(IPython.display, "display", out.append)
    coursekit.show_questions(SPEC.folder, level)
    (markdown,) = out
    return markdown.data


def test_each_student_is_shown_their_own_order(elsewhere, monkeypatch):
    shutil.copy(QUESTIONS_FILE, elsewhere)
    question = json.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))[0]  # answer_1, seed option A is the key
    for student in ("alice", "bob"):
        monkeypatch.setenv("COURSE_STUDENT_ID", student)
        text = shown(monkeypatch, "educoder_quiz")
        mine = "ABCD"[order_of(student, "answer_1").index("A")]
        assert f"- {mine}、{question['options'][0]}" in text and student in text
        assert text.count(question["options"][0]) == 1 and question["stem"] in text
    monkeypatch.delenv("COURSE_STUDENT_ID")
    monkeypatch.chdir(course_config.ROOT / "release" / SPEC.folder)  # the instructor's copy: the seed's order
    assert f"- A、{question['options'][0]}" in shown(monkeypatch, "educoder_quiz")


# ---------------------------------------------------------------- through the grading engine
def submitted(course, student, answers_of):
    """submitted/<student>/02_attention_quiz/attention_quiz.ipynb: the release notebook, its regions
    filled with the key as `answers_of` writes it."""
    nb = nbformat.read(course_config.ROOT / "release" / SPEC.folder / f"{SPEC.name}.ipynb", as_version=4)
    sections = reference_sections(SPEC.name)
    for cell in nb.cells:
        level = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = demo.student_answers(SPEC, answers_of, sections[level])
    folder = course / "submitted" / student / SPEC.folder
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{SPEC.name}.ipynb")
    return folder / f"{SPEC.name}.ipynb"


def test_the_engine_grades_each_student_in_their_own_order_and_shows_it(tmp_path):
    """alice's notebook with her own letters: full marks, her order in its outputs (what feedback
    shows); the same notebook submitted by bob: less; the seed's letters for alice: less."""
    source = course_config.ROOT / "source" / SPEC.folder
    results = {student: grade_one(Submission.from_path(submitted(tmp_path, student, answers), SPEC.folder,
                                                       source=source))
               for student, answers in (("alice", "alice"), ("bob", "alice"), ("carol", ""))}
    full = sum(lv.points for lv in SPEC.levels)
    assert results["alice"].score == full
    assert results["bob"].score < full and results["carol"].score < full
    shown = [o["data"]["text/markdown"] for cell in results["alice"].outputs for o in cell
             if o.get("output_type") == "display_data"]
    assert len(shown) == len(SPEC.levels) and all("alice" in text for text in shown)
    first = json.loads((source / coursekit.QUESTIONS_FILE).read_text(encoding="utf-8"))[0]["options"][0]
    assert f"- {'ABCD'[order_of('alice', 'answer_1').index('A')]}、{first}" in shown[0]
