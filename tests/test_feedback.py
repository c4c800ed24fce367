"""Feedback a student can read: `nbgrader generate_feedback` in a temporary course, three students.

alice did everything; bob handed in the untouched notebook; erin wrote levels 2 and 3 wrong, level
4 right, and level 5's shapes wrong. The feedback HTML draws formulas as MathML (no script, no
network), keeps every literal `*`, `_` and `\\` of the task texts, has no empty "No response."
comments, says that erin's level 4 fails because of her levels 2-3, and shows level 5's answers
only once course_config.SHOW_EXPECTED says so. The browser side (network off, a screenshot):
tests/test_browser.py."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import course_config
import markdown_literals
from autograder.tools import demo

SPEC = course_config.assignment("multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]
ANSWER = "(10, 4, 20)"  # queries_after_transpose_qkv: the same for every student


def _erin(nb):
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "transpose_qkv":  # heads mixed up (no permute)
            cell.source = cell.source.replace(
                "### BEGIN SOLUTION",
                "return X.reshape(X.shape[0] * num_heads, X.shape[1], -1)\n    ### BEGIN SOLUTION", 1)
        if grade_id == "dot_product_attention":  # no 1/sqrt(d)
            cell.source = cell.source.replace("### BEGIN SOLUTION", (
                "self.attention_weights = masked_softmax(torch.bmm(queries, keys.transpose(1, 2)), valid_lens)\n"
                "        return torch.bmm(self.dropout(self.attention_weights), values)\n"
                "        ### BEGIN SOLUTION"), 1)
        if grade_id == "attention_shapes":
            cell.source = cell.source.replace(f"queries_after_transpose_qkv = {ANSWER}",
                                              "queries_after_transpose_qkv = (2, 4, 100)")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = demo.make_course(tmp_path_factory.mktemp("feedback") / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    demo.submit(course, "alice", SPEC, LEVELS)
    demo.submit(course, "bob", SPEC)
    demo.submit(course, "erin", SPEC, LEVELS, edit=_erin)
    demo.nbgrader(course, "autograde", SPEC.folder, "--log-level=WARN", capture=True)
    demo.nbgrader(course, "generate_feedback", SPEC.folder, "--log-level=WARN", capture=True)
    return course


def feedback(course, student) -> str:
    return (course / "feedback" / student / SPEC.folder / f"{SPEC.name}.html").read_text()


def test_formulas_are_mathml_and_nothing_loads_from_the_network(course):
    page = feedback(course, "alice")
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert page.count("<math") >= 5 and not re.search(r"\$[^$<]+\$", text), "a formula left as TeX"
    assert not re.search(r"<script[^>]+src=[\"']https?:", page), "a script from the network"
    assert not re.search(r"<link[^>]+href=[\"']https?:", page), "a stylesheet from the network"


def test_task_texts_keep_their_literal_marks(course):
    page = feedback(course, "alice")
    rendered = re.findall(r'<div class="text_cell_render border-box-sizing rendered_html">(.*?)</div>\s*</div>',
                          page, re.S)
    nb = json.loads((course / "release" / SPEC.folder / f"{SPEC.name}.ipynb").read_text())
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert len(rendered) == len(sources)
    for source, html in zip(sources, rendered):
        without_math = re.sub(r"<math.*?</math>", "", html, flags=re.S)
        assert markdown_literals.shown(without_math) == markdown_literals.intended(source, math_shown=False), html


def test_no_empty_comment_rows(course):
    for student in ("alice", "bob", "erin"):
        assert "No response." not in feedback(course, student)
        assert "Comments:" not in feedback(course, student)


def test_level_4_says_the_earlier_levels_are_the_cause(course):
    page = feedback(course, "erin")
    assert "your forward itself is right" in page
    assert "level 3&#x27;s transpose_qkv" in page or "level 3's transpose_qkv" in page


def test_answer_keys_only_when_the_instructor_says_so(course):
    hidden = feedback(course, "erin")
    level5 = hidden.split("check_attention_shapes", 1)[1]
    assert "shown after the deadline" in level5 and "wrong answer: got (2, 4, 100)" in level5
    assert ANSWER not in level5
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "COURSE_SHOW_EXPECTED": "1", "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    subprocess.run([str(bin_dir / "nbgrader"), "generate_feedback", SPEC.folder, "--force", "--log-level=WARN"],
                   cwd=course, env=env, check=True, capture_output=True)
    shown = feedback(course, "erin").split("check_attention_shapes", 1)[1]
    assert ANSWER in shown and "shown after the deadline" not in shown
