"""评测 on the student's own machine: the visible check of every level (public checks only).

Shipped beside each release notebook as coursekit.py (copied by `make release`; do not edit
the copies). It imports nothing of the course, so the release folder is all a student needs.
A check cell calls `check(...)`: it prints 头歌's table (test input, expected, actual, result)
and, if the answer differs, stops with a short message instead of a traceback.
"""
import warnings

LANGUAGE = "zh+en"
QUIZ_VARIANTS = True  # course_config.QUIZ_VARIANTS, stamped into the copies by `make release`


def t(zh, en):
    return zh if LANGUAGE == "zh" else en if LANGUAGE == "en" else f"{zh} / {en}"


class CheckFailed(Exception):
    """A failed visible check; Jupyter shows only its message (no traceback)."""

    def _render_traceback_(self):
        return [f"\x1b[0;31m✗ {self}\x1b[0m"]


def check(what, compute, expected, atol=1e-3):
    """Compare `compute()` with `expected` (a tensor, number, tuple...) and print the verdict."""
    with warnings.catch_warnings():  # a warning would land on stderr, which nbgrader scores as 0
        warnings.simplefilter("ignore")
        try:
            got, error = compute(), None
        except NotImplementedError:
            got, error = None, t("尚未完成（仍是 raise NotImplementedError()）",
                                 "not done yet (the region still raises NotImplementedError())")
        except Exception as e:  # show the student's own error in the table
            got, error = None, f"{type(e).__name__}: {e}"
        problem = error or _difference(got, expected, atol)
    _table(what, expected, error or got, problem)
    if problem:
        raise CheckFailed(problem)


def check_format(what, value, kind):
    """For answers checked only by the hidden checks: is the answer's form right?"""
    ok = isinstance(value, kind) or (kind is tuple and isinstance(value, (tuple, list))
                                     and all(isinstance(n, int) for n in value))
    expected = t(f"一个 {kind.__name__}（数值由隐藏检查评判）",
                 f"a {kind.__name__} (the hidden checks judge its value)")
    problem = "" if ok else t(f"格式不对：应为 {kind.__name__}", f"wrong form: expected a {kind.__name__}")
    _table(what, expected, value, problem)
    if problem:
        raise CheckFailed(problem)


SEPARATORS = " \t,，、;；/|+&"


def choice_letters(value, options="ABCD", order=False):
    """A choice answer in a forgiving form -> its letters: "cba", "A, B, C", ["a", "b"] -> "ABC".

    Upper case, separators dropped, sorted unless `order` (a question that asks for an order).
    None when it is not a choice answer: empty, a letter outside `options`, a letter twice."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        value = "".join(value)
    if not isinstance(value, str):
        return None
    letters = [c for c in value.upper() if c not in SEPARATORS]
    if not letters or len(set(letters)) != len(letters) or any(c not in options for c in letters):
        return None
    return "".join(letters if order else sorted(letters))


def check_choice(what, value, options="ABCD", single=False, order=False):
    """For choice answers checked only by the hidden checks: is the answer's form right?"""
    letters = choice_letters(value, options, order)
    if order:
        zh, en = f"{options} 的一个排列", f"an ordering of {options}"
        ok = letters is not None and len(letters) == len(options)
    elif single:
        zh, en = f"{options} 中的一个字母", f"one letter of {options}"
        ok = letters is not None and len(letters) == 1
    else:
        zh, en = f"{options} 中的一个或多个字母", f"one or more letters of {options}"
        ok = letters is not None
    expected = t(f"{zh}（对错由隐藏检查评判）", f"{en} (the hidden checks judge it)")
    problem = "" if ok else t(f"格式不对：应为{zh}", f"wrong form: expected {en}")
    _table(what, expected, value, problem)
    if problem:
        raise CheckFailed(problem)


def _difference(got, expected, atol):
    import torch
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return t(f"应返回张量，得到 {type(got).__name__}", f"expected a tensor, got {type(got).__name__}")
        if tuple(got.shape) != tuple(expected.shape):
            return t(f"形状应为 {tuple(expected.shape)}，得到 {tuple(got.shape)}",
                     f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}")
        if not torch.allclose(got.detach().cpu().float(), expected.float(), atol=atol):
            return t("形状正确，数值不对", "right shape, wrong values")
        return ""
    if isinstance(got, list):
        got = tuple(got)
    return "" if got == expected else t(f"应为 {expected!r}，得到 {got!r}", f"expected {expected!r}, got {got!r}")


def _table(what, expected, got, problem):
    result = t("✗ 未通过", "✗ failed") if problem else t("✓ 通过", "✓ passed")
    rows = [(t("测试输入", "test input"), what), (t("预期输出", "expected"), _show(expected)),
            (t("实际输出", "got"), _show(got)), (t("结果", "result"), result)]
    width = max(len(name) for name, _ in rows)
    indent = "\n" + " " * (width + 2)  # a tensor's later lines line up under its first
    print("\n".join(f"{name:<{width}}  {str(value).replace(chr(10), indent)}" for name, value in rows))


def _show(value):
    text = repr(value)
    return text if len(text) < 800 else text[:800] + " ..."


# ---------------------------------------------------------------- each student's order of the options
STUDENT_FILE = ".course_student"  # written into the kernel's folder by the grader: the submission's student id
QUESTIONS_FILE = "quiz_questions.json"  # beside the notebook: the choice questions, options in the seed's order


def student_id():
    """Whose notebook this is, or None for the instructor's copy (the seed's order).

    In order: the file the grader writes (the student id of the submission's folder,
    submitted/<student>/...); COURSE_STUDENT_ID (an instructor previewing a student's variant);
    none inside a course root (source/, release/: the instructor's copy); else nbgrader's own rule
    for the id `nbgrader submit` records (so the one `collect` files the submission under): the
    login name, or JUPYTERHUB_USER where the login is JupyterHub's container user `jovyan`."""
    import getpass
    import os
    from pathlib import Path
    try:
        return Path(STUDENT_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        pass
    if os.environ.get("COURSE_STUDENT_ID"):
        return os.environ["COURSE_STUDENT_ID"]
    if any((folder / "course_config.py").is_file() for folder in Path.cwd().parents):
        return None
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("JUPYTERHUB_USER") or None
    return os.environ.get("JUPYTERHUB_USER", login) if login == "jovyan" else login


def option_order(student, assignment, question, options="ABCD"):
    """The seed's letters in the order `student` sees them: their letter options[i] shows the
    seed's option order[i]. The seed's own order where no student is known. A Fisher-Yates
    shuffle driven by SHA-256 of (assignment, question, student): the same on every machine,
    run and resubmission."""
    import hashlib
    if not student:
        return options
    draw = int.from_bytes(hashlib.sha256(f"{assignment}/{question}/{student}".encode()).digest(), "big")
    order = list(options)
    for i in range(len(order) - 1, 0, -1):
        draw, j = divmod(draw, i + 1)
        order[i], order[j] = order[j], order[i]
    return "".join(order)


def show_questions(assignment, level, names=None):
    """The level's questions (QUESTIONS_FILE; only `names`, if given), the options in this student's order."""
    import json

    from IPython.display import Markdown, display
    with open(QUESTIONS_FILE, encoding="utf-8") as f:
        questions = [q for q in json.load(f) if q["level"] == level and (names is None or q["name"] in names)]
    student = student_id() if QUIZ_VARIANTS else None
    lines = [t(f"（选项的顺序是你自己的：{student}）", f"(the options' order is your own: {student})") if student
             else t("（选项按原题的顺序）", "(the options in the original order)")]
    for q in questions:
        letters = "ABCDEFGH"[:len(q["options"])]
        order = option_order(student, assignment, q["name"], letters)
        lines += ["", q["stem"]] + [f"- {mine}、{q['options'][letters.index(seed)]}"
                                    for mine, seed in zip(letters, order)]
    display(Markdown("\n".join(lines)))
