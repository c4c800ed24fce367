"""Quiz checks: one pytest check per question, answers read as plain data, the key kept secret.

Used by test_attention_quiz.py and test_rnn_quiz.py. Answers are accepted in forgiving forms
(choice letters in any case, order and separators; shapes as tuples, lists or torch.Size);
a missing or malformed answer fails its own question with a message, never the whole level.
"""
import course_config
from autograder.checking import CheckFailed, expect_equal, level
from autograder.coursekit import choice_letters, option_order
from autograder.engine.student import StudentError
from autograder.messages import t

CHOICES = ("single", "multiple", "order")  # the kinds whose options each student may see in their own order


def read_answer(student, name):
    try:
        return student.get(name)
    except StudentError:
        raise CheckFailed(t(f"没有找到 {name}：未作答，或它所在的单元格运行出错",
                            f"{name} is not defined: not answered, or its cell failed"))


def normalise(value, kind, options="ABCD"):
    """The answer in its canonical form for `kind`, or CheckFailed with what form was expected."""
    if kind in CHOICES:
        letters = choice_letters(value, options, order=kind == "order")
        if letters is None or (kind == "single" and len(letters) != 1) or \
                (kind == "order" and len(letters) != len(options)):
            form = {"single": (f"{options} 中的一个字母，如 \"B\"", f"one letter of {options}, e.g. \"B\""),
                    "multiple": (f"{options} 中的字母，如 \"AD\"", f"letters of {options}, e.g. \"AD\""),
                    "order": (f"{options} 每个字母各一次", f"each letter of {options} once")}[kind]
            raise CheckFailed(t(f"格式不对：应为{form[0]}，得到 {value!r}",
                                f"wrong form: expected {form[1]}, got {value!r}"))
        return letters
    if kind == "shape":
        if isinstance(value, (tuple, list)) and all(type(n) is int for n in value):
            return tuple(value)
        raise CheckFailed(t(f"格式不对：形状应写成整数元组，如 (3, 7)，得到 {value!r}",
                            f"wrong form: a shape is a tuple of ints, e.g. (3, 7), got {value!r}"))
    if kind == "number":
        if type(value) is int or (type(value) is float and value.is_integer()):
            return int(value)
        raise CheckFailed(t(f"格式不对：应为整数，得到 {value!r}", f"wrong form: expected an integer, got {value!r}"))
    raise ValueError(kind)


def in_seed_letters(letters, kind, order, options="ABCD"):
    """A student's letters read back into the seed's: their letter options[i] is the seed's order[i]."""
    seed = [order[options.index(letter)] for letter in letters]
    return "".join(seed if kind == "order" else sorted(seed))


def in_student_letters(letters, kind, order, options="ABCD"):
    """The seed's letters as `order`'s student writes them (the inverse of in_seed_letters)."""
    mine = [options[order.index(letter)] for letter in letters]
    return "".join(mine if kind == "order" else sorted(mine))


def student_key(questions: dict, reference, student_id: str, variants: str) -> dict:
    """{name: the key as `student_id` writes it}: the reference's answers, choice letters in that
    student's order (for a sample student who answers everything right: the demo, the tests)."""
    key = {}
    for name, (_, kind, options, _) in questions.items():
        key[name] = getattr(reference, name)
        if variants and kind in CHOICES and course_config.QUIZ_VARIANTS:
            letters = normalise(key[name], kind, options)
            key[name] = in_student_letters(letters, kind, option_order(student_id, variants, name, options), options)
    return key


def written_for(section: str, key: dict) -> str:
    """A reference section (`name = value` lines) with each answer of `key` written in its place."""
    import re
    return re.sub(r"^(\w+) = .*$", lambda m: f"{m[1]} = {key[m[1]]!r}" if m[1] in key else m[0], section,
                  flags=re.MULTILINE)


def question_check(level_name, name, kind, key, wrongs, doc, options="ABCD", variants=""):
    """A check for one question: `name` in the student's namespace must equal `key` (secret).
    variants: the assignment's folder where each student sees the options in their own order
    (coursekit.option_order), "" where every student sees the seed's."""
    @level(level_name)
    def test(student, student_id):
        got = normalise(read_answer(student, name), kind, options)
        if variants and kind in CHOICES and course_config.QUIZ_VARIANTS:
            got = in_seed_letters(got, kind, option_order(student_id, variants, name, options), options)
        hints = {normalise(w.overrides[name], kind, options): t(w.zh, w.en) for w in wrongs if name in w.overrides}
        expect_equal(got, key, hints=hints, secret=True)
    test.__doc__ = doc
    test.__name__ = f"test_{name}"
    return test


def register(questions: dict, reference, wrongs, namespace: dict, variants=""):
    """One check `test_<name>` per question in `namespace` (a checks module's globals()).

    questions: {name: (level, kind, options, doc)}; the key of question `name` is the reference
    module's `name` (the answer key is written once, there); wrongs: the assignment's Registry;
    variants: the assignment's folder if its notebook shows each student's own order (show_questions)."""
    for name, (level_name, kind, options, doc) in questions.items():
        key = normalise(getattr(reference, name), kind, options)
        namespace[f"test_{name}"] = question_check(level_name, name, kind, key, wrongs.of(level_name), doc, options,
                                                   variants)
