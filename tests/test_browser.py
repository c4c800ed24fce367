"""A student's 评测 in a real browser: JupyterLab from the course's virtual environment, served on
localhost, driven by headless Chromium (Debian's /usr/bin/chromium) through Playwright.

The student opens the release notebook, writes level 1 (masked_softmax), runs it and its check
cell, and sees the passed verdict; nbgrader's JupyterLab extension is there, and its Validate
button (`nbgrader validate` on the server) names the levels still to do. Screenshots are kept in
artifacts/browser/. `make test` installs chromium first (`make browser`).
"""
import contextlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import markdown_literals
import pytest
from lab_server import BIN, TOKEN
from lab_server import jupyter_lab as _jupyter_lab

import course_config
from autograder.tools.build import reference_sections

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SPEC = course_config.assignment("multihead_attention")
SCREENSHOT = course_config.ROOT / "artifacts" / "browser" / "masked_softmax_passed.png"
LEVEL3_SHOT = SCREENSHOT.with_name("level3_text.png")
# Settings that make the page predictable: every cell in the DOM, no news pop-up.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}

if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium: `make browser` installs it (apt-get install chromium, as root)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements.txt: `make venv`")


@pytest.fixture(scope="module")
def lab():
    """`jupyter lab` in a temporary copy of release/ (every assignment's folder): (base url, the folder)."""
    home = Path(tempfile.mkdtemp(prefix="lab-"))
    work = home / "release"
    shutil.copytree(course_config.ROOT / "release", work)
    settings = home / "settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    try:
        with _jupyter_lab(work, env, home / "lab.log", f"--LabApp.user_settings_dir={settings}",
                          f"--LabApp.workspaces_dir={home / 'workspaces'}") as base:
            yield base, work
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_nbgrader_labextension_is_enabled():
    listed = subprocess.run([str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert re.search(r"@jupyter/nbgrader v\S+ enabled\s+OK", text), text


@pytest.fixture
def busy_machine():
    """Two processes that keep both cores busy while the student works (CI machines are loaded)."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for hog in hogs:
        hog.kill()
        hog.wait()


def test_student_fills_a_level_and_sees_the_passed_verdict(lab, busy_machine):
    base, _ = lab
    code = reference_sections(SPEC.name)["masked_softmax"]
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True,
            viewport={"width": 1400, "height": 1000})
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{base}/lab/tree/{SPEC.folder}/{SPEC.name}.ipynb?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            # nbgrader's extension adds its Validate button to the notebook's toolbar.
            page.wait_for_selector(".jp-NotebookPanel-toolbar .validate-button")

            cells = page.locator(".jp-Notebook .jp-Cell")
            solution = _cell_index(page, "def masked_softmax")
            check = _cell_index(page, "Check: 第1关")
            imports = _cell_index(page, "import torch")
            assert imports < solution < check

            # The student replaces the scaffold with their answer...
            editor = cells.nth(solution).locator(".cm-content")
            editor.click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(code)  # verbatim: no auto-indent or auto-closed brackets
            page.keyboard.press("Escape")
            # ...and runs the imports, the answer and the check cell, one Shift+Enter each.
            # Each press waits until the cell it runs is the one shown selected, as a student's eye
            # does: on a loaded machine a click or a key can take a while to land.
            cells.nth(imports).locator(".jp-InputArea-prompt").click()
            for index in range(imports, check + 1):
                _wait_until_active(page, index)
                page.keyboard.press("Shift+Enter")
            _wait_until_run(page, check)  # on the kernel's state, not a fixed time: a busy machine is slow
            ran = _prompts(page)[imports:check + 1]
            assert all(re.fullmatch(r"\[\d+\]:?", p) for p in ran if p is not None), \
                f"prompts from the imports to the check: {ran}"
            verdict = cells.nth(check).locator(".jp-OutputArea-output")
            text = verdict.all_inner_texts()
            cells.nth(check).scroll_into_view_if_needed()
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            print(f"\nscreenshot: {SCREENSHOT}")
            # nbgrader's Validate (server side, `nbgrader validate`): levels 2-5 are still stubs.
            page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
            dialog = page.locator(".jp-Dialog")
            dialog.wait_for(timeout=120_000)
            validated = dialog.inner_text()
            page.screenshot(path=str(SCREENSHOT.with_name("validate.png")))
        finally:
            browser.close()
    shown = "\n".join(text)
    assert "✓ 通过" in shown and "passed" in shown, shown
    assert "未通过" not in shown and "Error" not in shown, shown
    # Validate names the levels still to do, and not the one just done.
    assert "The following cell failed" in validated and "第2关" in validated, validated
    assert "第1关" not in validated, validated


def _wait_until_run(page, index: int, timeout_ms=600_000):
    """Until cell `index` has run (its prompt shows a number, not `*`) and the kernel is idle."""
    page.wait_for_function("""i => {
        const prompt = document.querySelectorAll('.jp-Notebook .jp-Cell')[i].querySelector('.jp-InputPrompt');
        const idle = document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
        return prompt && /\\[\\d+\\]/.test(prompt.innerText) && idle !== null;
    }""", arg=index, timeout=timeout_ms, polling=500)


def _wait_until_active(page, index: int):
    """Until cell `index` is the notebook's active (selected) cell."""
    page.wait_for_function("""i => document.querySelectorAll('.jp-Notebook .jp-Cell')[i]
        .classList.contains('jp-mod-active')""", arg=index, polling=100)


def _prompts(page) -> list[str]:
    """Every cell's input prompt as shown: `[3]:` for a code cell that ran, `[*]:` while it runs,
    `[ ]:` before; None for a markdown cell."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(
        c => c.classList.contains('jp-CodeCell') ? c.querySelector('.jp-InputPrompt').innerText.trim() : null)""")


def _cell_index(page, text: str) -> int:
    """The index of the first notebook cell whose source contains `text`, once it is rendered."""
    found = page.wait_for_function("""text => {
        const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
        const i = cells.findIndex(c => (c.querySelector('.jp-InputArea-editor') || c).innerText.includes(text));
        return i >= 0 ? i + 1 : false;
    }""", arg=text)
    return found.json_value() - 1


def test_task_texts_render_as_written_in_lab(lab):
    """Every release notebook's markdown cells, as JupyterLab renders them (marked + MathJax), show
    each `*`, `_` and `\\` their source meant literally: a formula such as (B*h, N, D/h) is not
    eaten as emphasis. Keeps a screenshot of 01's level 3 text."""
    base, work = lab
    differences = {}
    with _chromium() as page:
        for spec in course_config.ASSIGNMENTS:
            nb = json.loads((work / spec.folder / f"{spec.name}.ipynb").read_text())
            sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
            page.goto(f"{base}/lab/tree/{spec.folder}/{spec.name}.ipynb?reset&token={TOKEN}")
            page.wait_for_selector(f"{_SHOWN} .jp-Cell")
            deadline = time.monotonic() + 60
            while True:  # marked renders, then MathJax typesets: until the texts settle
                texts = page.evaluate(_RENDERED_MARKDOWN)
                wrong = {i: (dict(want), dict(got)) for i, (source, text) in enumerate(zip(sources, texts))
                         if (want := markdown_literals.intended(source, math_shown=False))
                         != (got := markdown_literals.shown(html.escape(text)))}
                if len(texts) == len(sources) and not wrong or time.monotonic() > deadline:
                    break
                time.sleep(1)
            if len(texts) != len(sources) or wrong:
                differences[spec.folder] = (len(texts), len(sources), wrong)
            if spec.folder == SPEC.folder:
                level3 = page.locator(f"{_SHOWN} .jp-MarkdownCell", has_text="Level 3").first
                level3.scroll_into_view_if_needed()
                LEVEL3_SHOT.parent.mkdir(parents=True, exist_ok=True)
                level3.screenshot(path=str(LEVEL3_SHOT))
                print(f"\nscreenshot: {LEVEL3_SHOT}")
    assert not differences, f"marks lost or added (cell: (intended, shown)): {differences}"


_SHOWN = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"  # the notebook in front
_RENDERED_MARKDOWN = """() => [...document.querySelectorAll('SHOWN .jp-MarkdownCell')].map(cell => {
    const rendered = cell.querySelector('.jp-RenderedMarkdown');
    if (!rendered) return '';
    const copy = rendered.cloneNode(true);
    copy.querySelectorAll('mjx-container, .MathJax, .MathJax_Preview, script').forEach(e => e.remove());
    return copy.textContent;
})""".replace("SHOWN", _SHOWN)


@contextlib.contextmanager
def _chromium(offline=False):
    """A page of headless Chromium (a fresh profile); offline: every network request but
    127.0.0.1's fails."""
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True,
            viewport={"width": 1400, "height": 1000})
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


FEEDBACK_SHOT = SCREENSHOT.with_name("feedback_offline.png")


def test_feedback_reads_offline(tmp_path):
    """erin's feedback (levels 2-3 wrong, 4 right: tests/test_feedback.py) opened from disk with every
    network request refused: the formulas are drawn (MathML boxes with height), and the verdict
    table's expected/got columns keep a readable width even beside a long input."""
    course = _graded_course(tmp_path)
    page_file = course / "feedback" / "erin" / SPEC.folder / f"{SPEC.name}.html"
    refused = []
    with _chromium() as page:
        page.route("**/*", lambda route: (route.continue_() if route.request.url.startswith("file:")
                                          else (refused.append(route.request.url), route.abort())))
        page.goto(page_file.as_uri())
        formulas = page.evaluate("""() => [...document.querySelectorAll('math')].map(m => {
            const r = m.getBoundingClientRect(); return [r.width, r.height]; })""")
        columns = page.evaluate("""() => [...document.querySelectorAll('table.course-verdict')].map(t =>
            [...t.querySelectorAll('thead th')].map(th => th.getBoundingClientRect().width))""")
        long_input = page.locator("table.course-verdict", has_text="MultiHeadAttention").first
        long_input.scroll_into_view_if_needed()
        FEEDBACK_SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FEEDBACK_SHOT))
        print(f"\nscreenshot: {FEEDBACK_SHOT}")
    assert not refused, f"the feedback page asked the network for {refused}"
    assert len(formulas) >= 5 and all(w > 5 and h > 5 for w, h in formulas), formulas
    assert columns and all(expected > 80 and got > 80 for _, _, expected, got, _ in columns), columns


def _graded_course(tmp_path):
    """erin of tests/test_feedback.py, graded and given feedback in a temporary course."""
    import test_feedback

    from autograder.tools import demo
    course = demo.make_course(tmp_path / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    demo.submit(course, "erin", SPEC, [lv.name for lv in SPEC.levels], edit=test_feedback._erin)
    demo.nbgrader(course, "autograde", SPEC.folder, "--log-level=WARN", capture=True)
    demo.nbgrader(course, "generate_feedback", SPEC.folder, "--log-level=WARN", capture=True)
    return course


# The student's environment (autograder.tools.student_setup): a Lab in the student's home, with the
# course's exchange in the temporary folder and assignment 01 released through it.
@pytest.fixture(scope="module")
def student_lab(tmp_path_factory):
    """(base url, home, exchange): `jupyter lab` as a student whose home has the course's set-up, 01
    released by `nbgrader release_assignment` and fetched by `nbgrader fetch_assignment`."""
    from autograder.tools import demo, student_setup
    top = tmp_path_factory.mktemp("student_lab")
    exchange, home = top / "exchange", top / "home"
    exchange.mkdir()
    exchange.chmod(0o1777)  # as nbgrader's docs ask (mkdir's mode is cut by the umask)
    home.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")},
           "PATH": f"{BIN}:{os.environ['PATH']}", "COURSE_EXCHANGE_ROOT": str(exchange)}
    course = demo.make_course(top / "course")
    for command in (["generate_assignment", SPEC.folder], ["release_assignment", SPEC.folder]):
        subprocess.run([str(BIN / "nbgrader"), *command, "--log-level=WARN"], cwd=course, env=env, check=True)
    student_setup.install(home, str(exchange), course_config.COURSE_ID)
    student = {**env, "HOME": str(home), "USER": "stu", "LOGNAME": "stu"}
    subprocess.run([str(BIN / "nbgrader"), "fetch_assignment", SPEC.folder], cwd=home, env=student, check=True)
    with _jupyter_lab(home, student, top / "lab.log") as base:
        yield base, home, exchange


def _nbgrader_menu(page) -> list:
    """The labels of JupyterLab's Nbgrader menu."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    items = page.locator(".lm-Menu-content .lm-Menu-itemLabel")
    items.first.wait_for()
    labels = [label.strip() for label in items.all_inner_texts()]
    page.keyboard.press("Escape")
    return labels


def _open_assignment_list(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-content .lm-Menu-item", has_text="Assignment List").click()


STUDENT_LAB_SHOT = SCREENSHOT.with_name("student_lab.png")


def test_students_lab_has_assignments_but_no_instructor_tools(student_lab):
    """With the course's student set-up, JupyterLab's Nbgrader menu offers the Assignment List (with 01
    to submit) and no Formgrader, Course List or Create Assignment; the formgrader's pages are not
    served; the Create Assignment sidebar is absent."""
    base, _, _ = student_lab
    with _chromium() as page:
        page.goto(f"{base}/lab/tree/{SPEC.folder}/{SPEC.name}.ipynb?reset&token={TOKEN}")
        page.wait_for_selector(f"{_SHOWN} .jp-Cell")
        labels = _nbgrader_menu(page)
        sidebars = page.evaluate("() => [...document.querySelectorAll('.lm-TabBar-tab')].map(t => t.title || '')")
        _open_assignment_list(page)
        page.locator("#fetched_assignments_list", has_text=SPEC.folder).wait_for()
        page.screenshot(path=str(STUDENT_LAB_SHOT))
        print(f"\nscreenshot: {STUDENT_LAB_SHOT}")
        formgrader = page.request.get(f"{base}/formgrader?token={TOKEN}").status
    assert "Assignment List" in labels, labels
    assert not any(word in label for label in labels for word in ("Formgrader", "Course", "Create")), labels
    assert not any("Create Assignment" in title for title in sidebars), sidebars
    assert formgrader == 404, formgrader


SAVE_SHOT = SCREENSHOT.with_name("submit_saves_first.png")


@pytest.mark.parametrize("hook", [True, False], ids=["course", "stock"])
def test_submit_saves_the_open_notebook_first(student_lab, hook):
    """The student types an answer and clicks Submit in the Assignments tab without saving: the
    course's hook saves the notebook first and says so, and the exchange receives the typed answer.
    The control (the hook disabled in page_config.json: stock nbgrader) submits the stale notebook."""
    base, home, exchange = student_lab
    page_config = home / ".jupyter" / "labconfig" / "page_config.json"
    original = page_config.read_text()
    if not hook:
        config = json.loads(original)
        config["disabledExtensions"]["course-save-before-submit:plugin"] = True
        page_config.write_text(json.dumps(config))
    inbound = exchange / course_config.COURSE_ID / "inbound"
    before = set(inbound.glob(f"*+{SPEC.folder}+*"))
    answer = "# typed in the browser, not saved: " + str(time.time_ns())
    try:
        with _chromium() as page:
            page.goto(f"{base}/lab/tree/{SPEC.folder}/{SPEC.name}.ipynb?reset&token={TOKEN}")
            page.wait_for_selector(f"{_SHOWN} .jp-Cell")
            solution = _cell_index(page, "def masked_softmax")
            editor = page.locator(f"{_SHOWN} .jp-Cell").nth(solution).locator(".cm-content")
            editor.click()
            page.keyboard.press("Control+Home")
            page.keyboard.insert_text(answer + "\n")
            page.keyboard.press("Escape")
            page.wait_for_selector(".jp-mod-dirty")  # the notebook's tab shows unsaved changes
            assert answer not in (home / SPEC.folder / f"{SPEC.name}.ipynb").read_text()
            _open_assignment_list(page)
            page.locator("#fetched_assignments_list button", has_text="Submit").click()
            deadline = time.monotonic() + 60
            while not set(inbound.glob(f"*+{SPEC.folder}+*")) - before and time.monotonic() < deadline:
                time.sleep(0.5)
            notices = page.locator(".Toastify__toast", has_text="Saved before submitting")
            if hook:
                notices.wait_for()
                page.screenshot(path=str(SAVE_SHOT))
                print(f"\nscreenshot: {SAVE_SHOT}")
            shown = notices.all_inner_texts()
    finally:
        page_config.write_text(original)
    (new,) = set(inbound.glob(f"*+{SPEC.folder}+*")) - before
    sent = (new / f"{SPEC.name}.ipynb").read_text()
    if hook:
        assert answer in sent, "the typed answer was not submitted"
        assert any("提交前已保存" in n and f"{SPEC.folder}/{SPEC.name}.ipynb" in n for n in shown), shown
    else:  # stock nbgrader: what is on disk, silently
        assert answer not in sent and not shown, shown


SUBMIT_VERDICT_SHOT = SCREENSHOT.with_name("submit_verdict.png")


def test_submit_in_lab_and_the_verdict_comes_with_no_instructor_command(service_world):
    """评测 on submit: a student (an account of this host, in their own JupyterLab with the course's
    set-up) clicks Submit in the Assignments tab with level 1 answered; the grading service grades it,
    and with no instructor command the tab's Fetch Feedback gives a "view feedback" link whose page
    has the score and level 1's verdict."""
    from autograder.tools import student_setup
    from autograder.tools.service_world import SPEC as SERVICE_SPEC
    from autograder.tools.service_world import World
    from tests.conftest import as_user, student_account
    world = service_world("")
    account = student_account("st-lab")
    home = world.home(account)
    (home / SERVICE_SPEC.folder / f"{SERVICE_SPEC.name}.ipynb").write_text(
        json.dumps(world.notebook([SERVICE_SPEC.levels[0].name], student=account)))
    student_setup.install(home, str(world.exchange), course_config.COURSE_ID)
    World.give(home, account)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")},
           "PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(home), "USER": account, "LOGNAME": account}
    before = set(os.listdir(world.inbound))
    with _jupyter_lab(home, env, world.top / "student-lab.log", prefix=as_user([], account)) as base, \
            _chromium() as page:
        page.goto(f"{base}/lab/tree/{SERVICE_SPEC.folder}/{SERVICE_SPEC.name}.ipynb?reset&token={TOKEN}")
        page.wait_for_selector(f"{_SHOWN} .jp-Cell")
        _open_assignment_list(page)
        page.locator("#fetched_assignments_list button", has_text="Submit").click()
        deadline = time.monotonic() + 60
        while not set(os.listdir(world.inbound)) - before and time.monotonic() < deadline:
            time.sleep(0.2)
        (name,) = set(os.listdir(world.inbound)) - before
        world.wait_done(name, timeout=240)  # the service's own record: no instructor command ran
        page.locator("#submitted_assignments_list button", has_text="Fetch Feedback").first.click()
        link = page.locator("#submitted_assignments_list a", has_text="view feedback").first
        link.wait_for()
        link.click()  # the file browser goes to the fetched page; the student opens it
        page.locator(".jp-DirListing-item", has_text=f"{SERVICE_SPEC.name}.html").dblclick()
        verdict = page.frame_locator(".jp-HTMLViewer iframe")
        verdict.get_by_text("Score: 2.0 / 10.0").first.wait_for()
        shown = verdict.locator("body").inner_text()
        page.screenshot(path=str(SUBMIT_VERDICT_SHOT))
        print(f"\nscreenshot: {SUBMIT_VERDICT_SHOT}")
    assert "masked_softmax" in shown and "通过" in shown, shown[:3000]
