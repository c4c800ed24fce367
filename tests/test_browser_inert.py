"""Student HTML and script in a real browser: a hostile submission (tests/hostile_html.py), graded by
`nbgrader autograde` beside its honest twin, opened in formgrader's submission view (served by
`jupyter lab` in the course) and in its feedback page (from disk) in headless Chromium.

No payload runs: `window.__pwned` stays unset, the title stays, no /pwned/ URL is asked for, even
after every link in the student's outputs and markdown is clicked; formgrader's own script still
runs (its score boxes fill in from the gradebook). The honest twin's plot (PNG), table and text
show in both pages, and the hostile submission's levels score what the honest one's do.
"""
import os

import hostile_html
import pytest
from lab_server import BIN, TOKEN, jupyter_lab
from test_browser import _chromium  # and its skip where there is no Chromium or Playwright

import course_config
from autograder.tools import demo

pytestmark = pytest.mark.browser

SPEC = course_config.assignment("multihead_attention")
STUDENTS = {"alice": hostile_html.honest, "mallory": hostile_html.hostile}
# What a payload would have left; formgrader's own script (jQuery, its handlers, the scores it loads).
_STATE = """() => ({pwned: window.__pwned || null, title: document.title,
                   jquery: typeof window.jQuery, toggle: typeof window.toggle_name,
                   scores: [...document.querySelectorAll('input.score')].map(i => i.placeholder)})"""
# Every link in the student's outputs and markdown that would not leave the page, clicked.
_CLICK_LINKS = """() => document.querySelectorAll('.output_area a, .text_cell_render a').forEach(a => {
    if (!/^https?:/.test(a.getAttribute('href') || '')) a.click(); })"""
_SCORES_LOADED = "() => [...document.querySelectorAll('input.score')].some(i => i.placeholder)"
_HONEST = """() => ({plots: [...document.querySelectorAll('.output_png img')].map(i => i.naturalWidth),
                    table: [...document.querySelectorAll('table.honest-table td')].map(td => td.innerText),
                    bold: (document.querySelector('b.honest-bold') || {}).innerText || '',
                    text: [...document.querySelectorAll('.output_stdout')].map(o => o.innerText).join(''),
                    verdicts: document.querySelectorAll('table.course-verdict').length})"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """alice (honest) and mallory (hostile), every level filled, autograded and given feedback:
    (course, {student: submission id})."""
    from nbgrader.api import Gradebook
    course = demo.make_course(tmp_path_factory.mktemp("inert") / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN", capture=True)
    for student, edit in STUDENTS.items():
        demo.submit(course, student, SPEC, [level.name for level in SPEC.levels], edit=edit)
    demo.nbgrader(course, "autograde", SPEC.folder, "--log-level=WARN", capture=True)
    demo.nbgrader(course, "generate_feedback", SPEC.folder, "--log-level=WARN", capture=True)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=course_config.COURSE_ID) as gb:
        ids = {student: gb.find_submission_notebook(SPEC.name, SPEC.folder, student).id for student in STUDENTS}
    return course, ids


@pytest.fixture(scope="module")
def formgrader(graded):
    """The base url of `jupyter lab` (with nbgrader's formgrader) in the graded course."""
    course, _ = graded
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "JUPYTER_RUNTIME_DIR": str(course / ".runtime")}
    with jupyter_lab(course, env, course / "lab.log") as base:
        yield base


def _visit(url: str, honest: bool, ready="() => true"):
    """Open `url`, wait until `ready`, click the student's links, wait a moment: (page state,
    /pwned/ URLs asked for, what the honest outputs show or None)."""
    asked, errors = [], []
    with _chromium() as page:
        page.set_extra_http_headers({"Authorization": f"token {TOKEN}"})  # formgrader's API calls
        page.on("request", lambda request: asked.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: (asked.append(f"dialog:{dialog.message}"), dialog.dismiss()))
        page.goto(url, wait_until="load")
        page.wait_for_function(ready)
        page.wait_for_timeout(1000)  # timers, onload and refreshes
        page.evaluate(_CLICK_LINKS)
        page.wait_for_timeout(500)
        state = {**page.evaluate(_STATE), "errors": errors}
        shown = page.evaluate(_HONEST) if honest else None
    return state, [url for url in asked if "pwned" in url], shown


def _assert_honest_shown(shown):
    assert shown["plots"] and all(width > 100 for width in shown["plots"]), shown  # the PNG decoded
    assert shown["table"] == ["42", "0.125"], shown
    assert shown["bold"] == "bold and honest" and "honest text <b>not a tag</b>" in shown["text"], shown
    assert shown["verdicts"] == len(SPEC.levels), shown


def test_formgrader_runs_no_script_of_a_hostile_submission(graded, formgrader):
    _, ids = graded
    state, asked, _ = _visit(f"{formgrader}/formgrader/submissions/{ids['mallory']}/?token={TOKEN}", False,
                             ready=_SCORES_LOADED)
    assert state["pwned"] is None and state["title"] != "pwned" and not asked, (state, asked)
    # formgrader itself works: its script ran and showed each level's score from the gradebook.
    assert state["jquery"] == "function" and state["toggle"] == "function" and not state["errors"], state
    assert state["scores"][:len(SPEC.levels)] == ["2"] * len(SPEC.levels), state


def test_formgrader_shows_an_honest_submissions_plot_table_and_text(graded, formgrader):
    _, ids = graded
    state, asked, shown = _visit(f"{formgrader}/formgrader/submissions/{ids['alice']}/?token={TOKEN}", True)
    assert state["pwned"] is None and not asked, (state, asked)
    _assert_honest_shown(shown)


@pytest.mark.parametrize("student", STUDENTS)
def test_feedback_runs_no_script_and_shows_the_honest_outputs(graded, student):
    course, _ = graded
    page = course / "feedback" / student / SPEC.folder / f"{SPEC.name}.html"
    state, asked, shown = _visit(page.as_uri(), student == "alice")
    assert state["pwned"] is None and state["title"] != "pwned" and not asked, (state, asked)
    if shown:
        _assert_honest_shown(shown)


def test_control_the_stock_formgrader_page_runs_the_payloads(graded, tmp_path):
    """Control: mallory's autograded notebook through formgrader's page as nbgrader ships it (nothing
    cleaned, no CSP), opened in the same browser, runs the payloads, and this test sees them."""
    from nbconvert.exporters import HTMLExporter
    course, ids = graded
    exporter = HTMLExporter(template_name="formgrade", extra_template_basedirs=[course_config._nbgrader_templates()])
    resources = {"assignment_id": SPEC.folder, "notebook_id": SPEC.name, "submission_id": ids["mallory"],
                 "index": 0, "total": 2, "base_url": "", "student": "mallory", "notebook_path": ""}
    notebook = course / "autograded" / "mallory" / SPEC.folder / f"{SPEC.name}.ipynb"
    page = tmp_path / "stock.html"
    page.write_text(exporter.from_filename(str(notebook), resources=resources)[0])
    _, asked, _ = _visit(page.as_uri(), False)  # the page's refresh leaves it: what ran is in the requests
    ran = {url.rsplit("/", 1)[-1] for url in asked}
    assert {"html-script", "img-onerror", "inline-svg", "markdown-script", "markdown-img"} <= ran, asked


def test_the_hostile_submission_scores_what_its_honest_twin_does(graded):
    course, _ = graded
    scores = {}
    for student, level, score, _ in demo.gradebook_rows(course, SPEC):
        scores.setdefault(level, {})[student] = score
    assert all(scores[level.name] == {"alice": level.points, "mallory": level.points} for level in SPEC.levels), scores
