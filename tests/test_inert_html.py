"""Student HTML is inert in formgrader's submission view and in feedback (autograder/plugins/inert.py),
without a browser: the pages are rendered by nbgrader's own exporters with the course's settings, and
formgrader's view is asked over HTTP from a real `jupyter lab` in a temporary course.

A hostile submission's pages hold no script, handler, javascript: URL, frame or refresh beyond what
the same page of an empty notebook holds (nbgrader's own), while an honest twin's plot, table and
text still show. Controls: the stock exporter lets the payloads through, and the course's old setting
(the feedback template for all of nbgrader) makes formgrader answer 500.
"""
import collections
import copy
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

import hostile_html
import nbformat
import pytest
from lab_server import BIN, TOKEN, jupyter_lab
from nbconvert.exporters import HTMLExporter
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

import course_config
from autograder.plugins.inert import InertOutputs, clean

SPEC = course_config.assignment("multihead_attention")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
HONEST_OUTPUTS = [({"image/png": PNG, "text/plain": "<Figure>"}, {"image/png": {"width": 300}}),
                  ({"text/html": hostile_html.HONEST_TABLE, "text/plain": "table"}, {})]


def _release():
    return nbformat.read(course_config.ROOT / "release" / SPEC.folder / f"{SPEC.name}.ipynb", as_version=4)


def _with_outputs(nb, outputs, markdown):
    """`nb` with one code cell per (data, metadata) display output, a printed line and `markdown`."""
    for data, metadata in outputs:
        cell = nbformat.v4.new_code_cell("display(...)")
        cell.outputs = [nbformat.v4.new_output("display_data", data=copy.deepcopy(data), metadata=metadata)]
        nb.cells.append(cell)
    printed = nbformat.v4.new_code_cell("print(...)")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="honest text <b>not a tag</b>\n")]
    nb.cells += [printed, nbformat.v4.new_markdown_cell(markdown)]
    return nb


def hostile_notebook():
    nb = _with_outputs(_release(), hostile_html.HOSTILE_OUTPUTS, hostile_html.HOSTILE_MARKDOWN)
    nb.cells.append(nbformat.v4.new_markdown_cell("forged", metadata={"nbgrader": {
        "grade_id": hostile_html.FORGED_GRADE_ID, "grade": True, "solution": True, "points": 1}}))
    return nb


def honest_notebook():
    return _with_outputs(_release(), HONEST_OUTPUTS, hostile_html.HONEST_MARKDOWN)


def _config(stock=False) -> Config:
    c = Config()
    if not stock:
        course_config.apply(c)
    return c


def formgrader_page(nb, stock=False) -> str:
    """`nb` as formgrader's submission view renders it (nbgrader's SubmissionHandler)."""
    c = _config(stock)
    if stock:  # nbgrader's own formgrader settings (FormgradeExtension.build_extra_config)
        c.HTMLExporter.template_name = "formgrade"
        c.HTMLExporter.extra_template_basedirs = [course_config._nbgrader_templates()]
    resources = {"assignment_id": SPEC.folder, "notebook_id": SPEC.name, "submission_id": "abc", "index": 0,
                 "total": 1, "base_url": "", "student": "mallory", "last_name": None, "first_name": None,
                 "notebook_path": "autograded/mallory"}
    return HTMLExporter(config=c).from_notebook_node(nb, resources=resources)[0]


def feedback_page(nb) -> str:
    """`nb` as `nbgrader generate_feedback` renders it (its converter's exporter, and the course's
    feedback preprocessor; nbgrader's GetGrades needs a gradebook, so its scores are given here)."""
    from autograder.plugins.feedback import CourseFeedback
    c = _config()
    converter = GenerateFeedback(coursedir=CourseDirectory(config=c), config=c)
    exporter = HTMLExporter(parent=converter, config=converter.config)
    exporter.register_preprocessor(CourseFeedback)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader.score = cell.metadata.nbgrader.points
    resources = {"nbgrader": {"notebook": SPEC.name, "score": 10, "max_score": 10, "late_penalty": 0}}
    return exporter.from_notebook_node(nb, resources=resources)[0]


def _extra_live(page: str, skeleton: str) -> collections.Counter:
    """What in `page` could run script (or embed, or leave) beyond what its `skeleton` has."""
    return collections.Counter(hostile_html.live(page)) - collections.Counter(hostile_html.live(skeleton))


@pytest.fixture(scope="module")
def empty():
    nb = _release()
    nb.cells = []
    return nb


@pytest.mark.parametrize("render", [formgrader_page, feedback_page], ids=["formgrader", "feedback"])
def test_a_hostile_submissions_page_holds_only_the_pages_own_script(render, empty):
    page = render(hostile_notebook())
    assert not _extra_live(page, render(empty)), _extra_live(page, render(empty))
    assert 'http-equiv="Content-Security-Policy"' in page
    assert "<b>bold</b>" in page and ">click</a>" in page  # the harmless part of each output stays


def test_the_stock_formgrader_page_runs_the_payloads(empty):
    """Control: nbgrader's formgrader as it ships (sanitize_html off) lets the payloads through."""
    found = _extra_live(formgrader_page(hostile_notebook(), stock=True), formgrader_page(empty, stock=True))
    assert {"script", "iframe", "svg", "form"} <= {tag for tag, _, _ in found}, found
    assert {"onerror", "srcdoc", "href"} <= {name for _, name, _ in found}, found


@pytest.mark.parametrize("render", [formgrader_page, feedback_page], ids=["formgrader", "feedback"])
def test_an_honest_submissions_plot_table_and_text_still_show(render):
    page = render(honest_notebook())
    assert f'src="data:image/png;base64,{PNG}"' in page and 'width="300"' in page
    assert "<th>loss</th>" in page and "<td>0.125</td>" in page
    assert "honest text &lt;b&gt;not a tag&lt;/b&gt;" in page
    assert "<strong>falls</strong>" in page and "<em>plot</em>" in page


def test_the_feedback_page_runs_no_script_at_all(empty):
    """Feedback has no script of its own, and its CSP forbids any (default-src 'none')."""
    page = feedback_page(hostile_notebook())
    assert "<script" not in page.lower()
    assert "default-src 'none'" in page and "script-src" not in page


@pytest.mark.parametrize("fragment", [data.get("text/html") or data.get("text/markdown") or ""
                                      for data, _ in hostile_html.HOSTILE_OUTPUTS]
                         + [hostile_html.HOSTILE_MARKDOWN])
def test_clean_leaves_nothing_live(fragment):
    assert not hostile_html.live(clean(fragment)), clean(fragment)


def test_clean_keeps_what_honest_html_needs():
    honest = (f'<table class="dataframe"><thead><tr><th style="text-align:left;color:#c00">a</th></tr></thead>'
              f'<tbody><tr><td colspan="2">1</td></tr></tbody></table><img src="data:image/png;base64,{PNG}" '
              f'width="10"><a href="https://docs.python.org/">docs</a><math display="block"><mfrac><mi>a</mi>'
              f'<mn>2</mn></mfrac></math><pre><code>x = 1</code></pre>')
    kept = clean(honest)
    for part in ('<th style="text-align:left;color:#c00">a</th>', '<td colspan="2">1</td>', 'class="dataframe"',
                 f'src="data:image/png;base64,{PNG}"', 'href="https://docs.python.org/"',
                 '<math display="block"><mfrac><mi>a</mi><mn>2</mn></mfrac></math>', "<pre><code>x = 1</code></pre>"):
        assert part in kept, (part, kept)
    # What could cover or leave the page goes: positions, URLs in CSS, relative URLs, SVG as data.
    assert clean('<div style="position:fixed;background:url(https://x/)">t</div>') == '<div style="">t</div>'
    assert clean('<img src="/api/contents">') == "<img>"
    assert clean('<img src="data:image/svg+xml;base64,AAAA">') == "<img>"


def test_inert_outputs_drops_what_a_template_would_run_or_place_raw():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x", execution_count=1)
    cell.id = 'a"b'
    cell.metadata.tags = ["ok-tag", 'x" onmouseover="y']
    cell.metadata.nbgrader = {"grade_id": "check_masked_softmax"}
    js = nbformat.v4.new_output("display_data", data={"application/javascript": "1"})
    png = nbformat.v4.new_output("display_data", data={"image/png": PNG}, metadata={
        "image/png": {"width": "1 onerror=x", "height": 20, "isolated": True}, "filenames": {"image/png": "/x"},
        "course_verdict": {"level": "kept"}})
    png["svg_filename"] = "/etc/passwd"
    cell.outputs = [js, png]
    nb.cells = [cell, nbformat.v4.new_markdown_cell("m", metadata={"nbgrader": {"grade_id": 'x"><b'}})]
    nb.metadata.widgets = {"application/vnd.jupyter.widget-state+json": {}}
    nb, _ = InertOutputs().preprocess(nb, {})
    (kept,) = nb.cells[0].outputs
    assert kept.metadata == {"image/png": {"height": 20}, "course_verdict": {"level": "kept"}}
    assert "svg_filename" not in kept and "widgets" not in nb.metadata
    assert nb.cells[0].id == "cell-0" and nb.cells[0].metadata.tags == ["ok-tag"]
    assert nb.cells[0].metadata.nbgrader.grade_id == "check_masked_softmax"
    assert nb.cells[1].metadata.nbgrader.grade_id == "cell-1"


def test_inert_outputs_drops_what_is_not_of_nbformats_types():
    """A submission's notebook is read as it came: wrong types are dropped, not a crash of the page."""
    cell = nbformat.v4.new_code_cell("x")
    cell.metadata.tags = 5
    cell.metadata.nbgrader = "grade_id"
    cell.outputs = ["not an output", nbformat.from_dict({"output_type": "display_data", "data": ["x"],
                                                         "metadata": "m"}),
                   nbformat.v4.new_output("stream", name="stdout", text="kept")]
    nb = nbformat.from_dict({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})  # unchecked
    nb, _ = InertOutputs().preprocess(nb, {})
    assert nb.cells[0].metadata.tags == [] and nb.cells[0].metadata.nbgrader == "grade_id"
    assert [output.get("text") for output in nb.cells[0].outputs] == ["kept"]


# formgrader over HTTP: a course whose gradebook and autograded notebooks are written here (no kernel).
@pytest.fixture(scope="module")
def formgrader_course(tmp_path_factory):
    """A course with mallory's hostile and alice's honest notebooks autograded (as files and in the
    gradebook): (course, {student: submission id})."""
    from nbgrader.api import Gradebook

    from autograder.tools import demo
    course = demo.make_course(tmp_path_factory.mktemp("formgrader") / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN", capture=True)
    ids = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=course_config.COURSE_ID) as gb:
        for student, nb in (("mallory", hostile_notebook()), ("alice", honest_notebook())):
            gb.add_student(student)
            gb.add_submission(SPEC.folder, student)
            folder = course / "autograded" / student / SPEC.folder
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{SPEC.name}.ipynb")
            ids[student] = gb.find_submission_notebook(SPEC.name, SPEC.folder, student).id
    return course, ids


def _formgrader_views(course: Path, ids: dict) -> dict:
    """{student: (HTTP status, page)} of formgrader's submission view, from `jupyter lab` in `course`."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "JUPYTER_RUNTIME_DIR": str(course / ".runtime")}
    views = {}
    with jupyter_lab(course, env, course / "lab.log") as base:
        for student, submission in ids.items():
            try:
                with urllib.request.urlopen(f"{base}/formgrader/submissions/{submission}/?token={TOKEN}") as reply:
                    views[student] = reply.status, reply.read().decode()
            except urllib.error.HTTPError as error:
                views[student] = error.code, error.read().decode()
    return views


def test_formgrader_shows_each_submission_with_only_its_own_script(formgrader_course):
    course, ids = formgrader_course
    views = _formgrader_views(course, ids)
    assert {student: status for student, (status, _) in views.items()} == {"mallory": 200, "alice": 200}
    (_, hostile), (_, honest) = views["mallory"], views["alice"]
    assert not _extra_live(hostile, honest), _extra_live(hostile, honest)
    assert f'src="data:image/png;base64,{PNG}"' in honest and "<td>0.125</td>" in honest


def test_formgrader_answered_500_with_the_feedback_template_for_all_of_nbgrader(formgrader_course):
    """Control: the course's old setting (HTMLExporter.template_name = course_feedback) in the
    course's nbgrader_config.py breaks formgrader's view for every submission."""
    course, ids = formgrader_course
    config = course / "nbgrader_config.py"
    original = config.read_text()
    config.write_text(original + '\nc.HTMLExporter.template_name = "course_feedback"\n')
    try:
        views = _formgrader_views(course, ids)
    finally:
        config.write_text(original)
    assert {student: status for student, (status, _) in views.items()} == {"mallory": 500, "alice": 500}


def test_clean_keeps_every_formula_feedback_draws():
    """Every formula of every release notebook, as feedback's MathML, keeps its tags and attributes."""
    from autograder.plugins.feedback import math_as_mathml
    changed = []
    for spec in course_config.ASSIGNMENTS:
        nb = nbformat.read(course_config.ROOT / "release" / spec.folder / f"{spec.name}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                formulas = re.findall(r"<math.*?</math>", math_as_mathml(cell.source), re.DOTALL)
                changed += [f for f in formulas if _markup(clean(f)) != _markup(f)]
    assert not changed, changed[:3]


def _markup(html: str) -> list:
    """The tags and attribute names of `html`, in order."""
    return re.findall(r"<(\w+)|\s([\w:-]+)=", html)
