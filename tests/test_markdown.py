"""Task texts render as written: every markdown cell of source/ and release/, rendered by
nbconvert's markdown renderer (the one feedback HTML uses), shows each `*`, `_` and `\\` that its
source meant literally (JupyterLab's renderer: tests/test_browser.py). A formula with `*` outside
a code span or math is eaten as emphasis: "(B*h, N, D/h) ... b*h + i" shows as "(Bh, N, D/h) ... bh + i"."""
import json

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

import course_config
import markdown_literals

CELLS = [pytest.param(source, id=f"{top}/{spec.folder}[{i}]")
         for top in ("source", "release") for spec in course_config.ASSIGNMENTS
         for i, source in enumerate(
             "".join(cell["source"]) for cell in json.loads(
                 (course_config.ROOT / top / spec.folder / f"{spec.name}.ipynb").read_text())["cells"]
             if cell["cell_type"] == "markdown")]


@pytest.mark.parametrize("source", CELLS)
def test_markdown_cell_shows_every_literal_mark(source):
    rendered = markdown2html_mistune(source)
    assert markdown_literals.shown(rendered) == markdown_literals.intended(source, math_shown=True), rendered


def test_the_check_catches_a_formula_eaten_as_emphasis():
    source = "得到 (B*h, N, D/h)；第 b*h + i 行"
    assert markdown_literals.shown(markdown2html_mistune(source)) != markdown_literals.intended(source, True)
    fixed = "得到 `(B*h, N, D/h)`；第 `b*h + i` 行"
    assert markdown_literals.shown(markdown2html_mistune(fixed)) == markdown_literals.intended(fixed, True)
