"""CourseFeedback: the last step of `nbgrader generate_feedback`, on each graded notebook.

- Each check cell's verdict is rendered again from the level's result kept in its outputs, so
  course_config.SHOW_EXPECTED at feedback time decides whether answer keys are shown.
- Formulas in markdown cells become MathML (latex2mathml): the browser draws them with no
  script and no network (nbconvert's template would load MathJax from a CDN).
- scores_only (the grading service's "score" mode): each verdict is only the level's score.
- Where the assignment has a due date, a first cell says how late the submission was, the penalty
  and the score before and after it, or how long before the due date it came (autograder/late.py).
- nbgrader's automatic "No response." comment (an untouched solution cell) is dropped: the
  verdict already says so, and an empty comment row per level says nothing.
"""
import re

import nbformat
from latex2mathml.converter import convert
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

import course_config
from autograder import late
from autograder.engine.result import Level
from autograder.messages import t
from autograder.plugins.render import VERDICT_KEY, verdict_outputs

# $$display$$ first, then $inline$; code spans and fenced blocks are left as they are.
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


class CourseFeedback(NbGraderPreprocessor):
    scores_only = Bool(False, help="Show each level's score, not its checks.").tag(config=True)

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = math_as_mathml(cell.source)
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("comment") == "No response.":
                del meta["comment"]
            for output in cell.get("outputs", []):
                verdict = output.get("metadata", {}).get(VERDICT_KEY)
                if verdict:
                    level = Level.from_dict(verdict["level"])
                    cell.outputs = [_score_output(level)] if self.scores_only else verdict_outputs(
                        level, verdict["notes"], show_expected=course_config.SHOW_EXPECTED)
                    break
        said = deadline_said(resources.get("nbgrader", {}))
        if said:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(said))
        return nb, resources


def deadline_said(info: dict) -> str:
    """The feedback's line on the due date for the submission `info` describes (nbgrader's resources:
    db_url, assignment, student, score after the penalty, late_penalty); "" without a due date."""
    from nbgrader.api import Gradebook, MissingEntry
    try:
        with Gradebook(info["db_url"], course_id=course_config.COURSE_ID) as gradebook:
            submission = gradebook.find_submission(info["assignment"], info["student"])
            due, arrived, seconds_late = submission.duedate, submission.timestamp, submission.total_seconds_late
    except (KeyError, MissingEntry):
        return ""
    if due is None or arrived is None:
        return ""
    if seconds_late <= 0:
        early = late.duration((due - arrived).total_seconds())
        return t(f"**截止时间** {due:%Y-%m-%d %H:%M} UTC：提前 {early[0]} 提交，未迟交",
                 f"**Due** {due:%Y-%m-%d %H:%M} UTC: submitted {early[1]} before it, not late")
    penalty, after = info.get("late_penalty") or 0.0, info.get("score", 0.0)
    try:
        said = late.late_penalty(course_config.late_policy(info["assignment"]), after + penalty, seconds_late)
    except KeyError:  # not one of the course's assignments
        said = late.Late(penalty, 0.0, "迟交", "late")
    return t(f"**截止时间** {due:%Y-%m-%d %H:%M} UTC：{said.zh or '迟交'}；扣 {penalty:g} 分，"
             f"得分 {after + penalty:g} → {after:g}",
             f"**Due** {due:%Y-%m-%d %H:%M} UTC: {said.en or 'late'}; {penalty:g} points off, "
             f"score {after + penalty:g} -> {after:g}")


def _score_output(level: Level):
    passed = sum(check.passed for check in level.checks)
    return nbformat.v4.new_output("stream", name="stdout", text=t(
        f"{level.level}：得分 {level.score:g} / {level.points:g}（通过 {passed} / {len(level.checks)} 项检查）\n",
        f"{level.level}: score {level.score:g} / {level.points:g} ({passed} of {len(level.checks)} checks passed)\n"))


def math_as_mathml(markdown: str) -> str:
    """`markdown` with every $…$ and $$…$$ outside code replaced by MathML."""
    parts, position = [], 0
    for code in _CODE.finditer(markdown):
        parts += [_MATH.sub(_mathml, markdown[position:code.start()]), code.group()]
        position = code.end()
    return "".join(parts + [_MATH.sub(_mathml, markdown[position:])])


def _mathml(found) -> str:
    display, inline = found.groups()
    html = convert((display or inline).strip(), display="block" if display else "inline")
    html = html.replace("\\_", "_")  # latex2mathml keeps \text{valid\_len}'s backslash
    return html if inline else f"\n\n{html}\n\n"
