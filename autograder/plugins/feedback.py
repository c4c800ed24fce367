"""CourseFeedback: the last step of `nbgrader generate_feedback`, on each graded notebook.

- Each check cell's verdict is rendered again from the level's result kept in its outputs, so
  course_config.SHOW_EXPECTED at feedback time decides whether answer keys are shown.
- Formulas in markdown cells become MathML (latex2mathml): the browser draws them with no
  script and no network (nbconvert's template would load MathJax from a CDN).
- nbgrader's automatic "No response." comment (an untouched solution cell) is dropped: the
  verdict already says so, and an empty comment row per level says nothing.
"""
import re

from latex2mathml.converter import convert
from nbgrader.preprocessors import NbGraderPreprocessor

import course_config
from autograder.engine.result import Level
from autograder.plugins.render import VERDICT_KEY, verdict_outputs

# $$display$$ first, then $inline$; code spans and fenced blocks are left as they are.
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


class CourseFeedback(NbGraderPreprocessor):
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
                    cell.outputs = verdict_outputs(Level.from_dict(verdict["level"]), verdict["notes"],
                                                   show_expected=course_config.SHOW_EXPECTED)
                    break
        return nb, resources


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
