"""The whole course on a real JupyterHub (`make hub`), in headless Chromium through Playwright.

One hub for the session: a copy of the course as the course `hubtest` (its own groups and services, never the
real class's), set up by the README's commands (tests/test_readme.py's way: the block as written): the course's
owner `grader-hubtest`, `make venv`, `make hub`, the instructor `hub-teacher` in formgrade-hubtest, and a roster
of `hub-student1` and `hub-student2`, whose passwords the roster made. Everyone logs in on the hub's login
page. The instructor generates and releases 01 in the formgrader (its own tab); each student fetches it in
Lab, writes answers in the notebook and submits (student1 every level, student2 level 1); the grading
service, a service of the hub, grades each on arrival and the student fetches the verdict with no instructor
action; the formgrader shows both submissions with their scores. A student is refused on everything that is
not theirs, beside an honest twin that works for its owner. After `make hub-stop` (no process of the hub
left, a kernel included) and `make hub`, sessions, groups, submissions and grades are still there.
Screenshots: artifacts/hub/{login,student_lab,verdict,formgrader}.png.

Needs root (accounts, PAM), Chromium (`make browser`), npm (`make hub` installs the proxy) and bubblewrap.
"""
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import course_config
from autograder.service import done_path
from autograder.tools import hub as hub_tool
from autograder.tools import hub_class
from autograder.tools.build import reference_sections
from tests.conftest import as_user, require_sandbox
from tests.intruder import intrude, listeners

pytestmark = pytest.mark.browser

if os.geteuid() != 0:
    pytest.skip("the hub test creates accounts and logs in through PAM: run it as root", allow_module_level=True)
if not shutil.which("npm") or not shutil.which("useradd"):
    pytest.skip("needs npm (`make hub` installs the proxy with it) and useradd", allow_module_level=True)
from test_browser import _SHOWN, CHROMIUM, CHROMIUM_FLAGS, _open_assignment_list, sync_api  # noqa: E402 (skips)

SHOTS = course_config.ROOT / "artifacts" / "hub"
SPEC = course_config.assignment("01_multihead_attention")
COURSE = "hubtest"
TEACHER, STUDENTS = "hub-teacher", ("hub-student1", "hub-student2")
ME, OTHER = STUDENTS
PASSWORD = "Hub-test-pw-7"  # the instructor's (the students' come from the roster)
TOTAL = sum(level.points for level in SPEC.levels)
ANSWERED = {ME: [lv.name for lv in SPEC.levels], OTHER: [SPEC.levels[0].name]}
SCORES = {ME: TOTAL, OTHER: SPEC.levels[0].points}
GRADER = f"grader-{COURSE}"


@pytest.fixture(scope="session")
def hub():
    """The scratch class set up and started by the README's commands (`make hub` in the course copy)."""
    require_sandbox()  # the grading service grades in it
    hub_class.remove_accounts((TEACHER, *STUDENTS), COURSE)  # fresh homes: nothing fetched before
    top = Path(tempfile.mkdtemp(prefix="hub-test-"))
    try:
        began = time.monotonic()
        scratch = hub_class.make_class(top, hub_class.free_port(), COURSE, TEACHER, PASSWORD, STUDENTS)
        print(f"\nthe README's commands took {time.monotonic() - began:.1f} s:\n{scratch.setup[0]}")
        yield scratch
    finally:
        hub_class.stop_hub(top / "course")
        hub_class.remove_accounts((TEACHER, *STUDENTS), COURSE)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def people(hub, chromium):
    """Each of the class logged in with their password on the hub's login page: a page in its own browser
    context (cookies), on their server's Lab (the three servers start at once)."""
    pages = {}
    for name in (TEACHER, *STUDENTS):
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(120_000)
        page = context.new_page()
        page.goto(f"{hub.url}/hub/login")
        page.wait_for_selector("#username_input")
        if name == ME:
            _shot(page, "login")
        page.fill("#username_input", name)
        page.fill("#password_input", hub.passwords[name])
        page.click("#login_submit")
        pages[name] = page
    for name, page in pages.items():
        page.wait_for_url(re.compile(rf"/user/{name}/lab"), timeout=180_000)
        page.wait_for_selector(".jp-LabShell")
    yield pages
    for page in pages.values():
        page.context.close()


@pytest.fixture(scope="session")
def graded(hub, people):
    """The class of the module docstring, up to the verdicts: {student: the verdict's text}."""
    formgrader = _open_formgrader(people[TEACHER], hub.url)
    for column in ("assign", "release"):  # nbgrader's generate, then release into the exchange
        _formgrader_action(formgrader, "manage_assignments", column)
    inbound = hub.exchange / COURSE / "inbound"
    for student in STUDENTS:
        page = people[student]
        _open_assignment_list(page)
        page.locator("#released_assignments_list button", has_text="Fetch").click()
        page.locator("#fetched_assignments_list", has_text=SPEC.folder).wait_for()
        notebook = Path(f"/home/{student}/{COURSE}/{SPEC.folder}/{SPEC.name}.ipynb")
        assert notebook.exists(), "fetched into ~/<course>/<assignment> (path_includes_course)"
        page.goto(f"{hub.url}/user/{student}/lab/tree/{notebook.relative_to(f'/home/{student}')}")
        _answer(page, ANSWERED[student])
        if student == ME:
            _shot(page, "student_lab")
        _open_assignment_list(page)  # Submit with the notebook unsaved: the course's extension saves it first
        page.locator("#fetched_assignments_list button", has_text="Submit").click()
        page.locator(".Toastify__toast", has_text="提交前已保存").wait_for()
        page.locator("#submitted_assignments_list", has_text=SPEC.folder).wait_for()
    names = {student: _inbound_name(inbound, student) for student in STUDENTS}
    _wait_recorded(hub, names.values())  # the service's own record: no instructor action
    return {student: _fetch_verdict(people[student], student) for student in STUDENTS}


def test_the_hub_was_set_up_by_the_readmes_commands(hub):
    """The commands the hub fixture ran are the README's block (course id and instructor replaced), and
    `make hub` said where the hub answers and how long it took."""
    commands = hub_class.readme_commands(COURSE, TEACHER)
    assert commands == [f"useradd --create-home {GRADER}", f"chown -R {GRADER}: .", "make venv",
                        "make hub", f"usermod -aG formgrade-{COURSE} {TEACHER}",
                        ".venv/bin/python -m autograder.tools.roster roster.csv"], commands
    started = re.search(rf"JupyterHub for {COURSE}: {re.escape(hub.url)} \(keeper pid \d+, up in ([\d.]+) s",
                        hub.setup[0])
    assert started, hub.setup[0]
    print(f"\nhub start (make hub until it answered): {started.group(1)} s")


def test_students_submit_in_lab_and_see_the_verdict_with_no_instructor_action(hub, people, graded):
    for student in STUDENTS:
        assert f"Score: {SCORES[student]:.1f} / {TOTAL:.1f}" in graded[student], graded[student][:2000]
        assert "masked_softmax" in graded[student] and "通过" in graded[student], graded[student][:2000]
    formgrader = _open_formgrader(people[TEACHER], hub.url, f"manage_submissions/{SPEC.folder}")
    shown = _scores(formgrader)
    _shot(formgrader, "formgrader")
    assert shown == SCORES, shown


def test_roster_homes_are_closed_and_the_hubs_state_was_closed_from_its_first_byte(hub):
    """The roster made 0700 homes; the hub's database, cookie secret and log are 0600 and the hub runs with
    umask 077 (so they were never open); the formgrader 007, the students' servers 022; the course root is
    passable, not listable, and everything in it but .venv and hub/ is closed to others."""
    for student in STUDENTS:
        assert stat.S_IMODE(os.stat(f"/home/{student}").st_mode) == 0o700, student
    state = hub.course / "hub"
    for name in ("jupyterhub.sqlite", "jupyterhub_cookie_secret", "jupyterhub.log", "hub.pid"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    umasks = {_command(pid): _umask(pid) for pid in _processes()}
    assert {umask for command, umask in umasks.items() if "/jupyterhub -f" in command} == {0o077}, umasks
    assert {umask for command, umask in umasks.items() if "autograder.tools.hub keep" in command} == {0o077}
    assert {_umask(pid) for pid in _processes(GRADER) if "jupyterhub-singleuser" in _command(pid)} == {0o007}
    assert {_umask(pid) for pid in _processes(GRADER) if "autograder.service" in _command(pid)} == {0o077}
    assert {_umask(pid) for pid in _processes(ME) if "jupyterhub-singleuser" in _command(pid)} == {0o022}
    assert stat.S_IMODE(hub.course.stat().st_mode) & 0o007 == 0o001
    open_entries = [p.name for p in hub.course.iterdir() if not p.is_symlink() and p.stat().st_mode & 0o007]
    assert sorted(open_entries) == ["hub"], open_entries


def test_the_course_root_stays_closed_whatever_the_instructors_umask(hub):
    """A folder the instructor makes with umask 022 while the hub runs is closed by the grading service's next
    listing (at most 5 s); one the course's owner cannot close (root's) makes the service's start refuse,
    with the path and the fix in Chinese and English."""
    made = hub.course / "notes-made-later"
    subprocess.run(as_user(["sh", "-c", f"umask 022 && mkdir {made} && echo secret > {made}/answer.txt"], GRADER),
                   check=True)
    assert _as(ME, ["cat", str(made / "answer.txt")]).returncode == 0  # open, for now: the control
    deadline = time.monotonic() + 30
    while stat.S_IMODE(made.stat().st_mode) & 0o007 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stat.S_IMODE(made.stat().st_mode) & 0o007 == 0, oct(made.stat().st_mode)
    assert _as(ME, ["cat", str(made / "answer.txt")]).returncode != 0
    rootowned = hub.course / "root-made-later"
    rootowned.mkdir(mode=0o755)
    try:
        refused = subprocess.run(as_user([sys.executable, "-m", "autograder.service", "--wait"], GRADER),
                                 cwd=hub.course, env=hub.env, capture_output=True, text=True, timeout=120)
    finally:
        rootowned.rmdir()
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"{rootowned}" in refused.stderr and "无法关闭" in refused.stderr and "could not be closed" in \
        refused.stderr and "chmod o-rwx" in refused.stderr, refused.stderr


def test_a_student_gets_nothing_that_is_not_theirs(hub, people, graded):
    """The red team: student1, with their browser session, their server's own token and a shell, tries
    student2's server (through the proxy and on its port), files, submission secret and feedback, the
    formgrader (through the proxy and on its port), the instructor's server, the hub's database and secrets,
    and the grading service's files and sockets; each try beside an honest twin that works for its owner."""
    me, other, teacher = people[ME], people[OTHER], people[TEACHER]
    # servers and the formgrader, through the proxy: the hub's 403 for me, 200 for their owners
    for path, owner in ((f"/user/{OTHER}/lab", other), (f"/user/{TEACHER}/lab", teacher),
                        (f"/services/{COURSE}/formgrader", teacher)):
        assert me.context.request.get(f"{hub.url}{path}").status == 403, path
        assert owner.context.request.get(f"{hub.url}{path}").status == 200, path
    assert me.context.request.get(f"{hub.url}/user/{ME}/formgrader").status == 404  # the student set-up's
    # on their ports directly (cookies are per host, not per port), and with my server's own token
    my_token = _environ(_server_pid(ME))["JUPYTERHUB_API_TOKEN"]
    for owner, base, path in ((other, _server_url(OTHER), "api/contents"),
                              (teacher, _server_url(GRADER, "jupyterhub-singleuser"), "formgrader/manage_assignments")):
        assert me.context.request.get(f"{base}{path}", max_redirects=0).status in (302, 403), base  # to log in
        assert _curl(ME, f"{base}{path}", my_token) == "403", base
        assert owner.context.request.get(f"{base}{path}", max_redirects=0).status == 200, base
    assert _curl(ME, f"{_server_url(ME)}api/contents", my_token) == "200"  # my token, my server: the twin
    # the hub's API beyond my own user
    assert _curl(ME, f"{hub.url}/hub/api/users", my_token) == "403"
    assert _curl(ME, f"{hub.url}/hub/api/users/{ME}", my_token) == "200"

    # files: the other's home (their nbgrader cache holds the secret naming their feedback page)
    secret = next(Path(f"/home/{OTHER}/.local/share/jupyter/nbgrader_cache").rglob("submission_secret.txt"))
    for path in (f"/home/{OTHER}", str(secret)):
        assert _as(ME, ["ls" if os.path.isdir(path) else "cat", path]).returncode != 0, path
        assert _as(OTHER, ["ls" if os.path.isdir(path) else "cat", path]).returncode == 0, path
    feedback = hub.exchange / COURSE / "feedback"
    assert _as(ME, ["ls", str(feedback)]).returncode != 0  # not listable: a page is found by its secret only
    assert _as(ME, ["ls", str(hub.exchange / COURSE / "inbound")]).returncode != 0
    page = _feedback_page(hub, OTHER, secret.read_text())
    assert _as(OTHER, ["cat", str(page)]).returncode == 0  # their page, by the name their secret gives
    # the course's copies of their submission, grading and feedback; the checks; the gradebook
    course = hub.course
    for path in (course / "submitted" / OTHER / SPEC.folder / "submission_secret.txt",
                 course / "autograded" / OTHER, course / "feedback" / OTHER, course / "gradebook.db",
                 course / "reference_solutions" / f"{SPEC.name}.py", course / "autograder" / "checks",
                 course / "grading_results", course / "roster.passwords.csv"):
        assert path.exists(), path
        assert _as(ME, ["ls" if path.is_dir() else "cat", str(path)]).returncode != 0, path
        assert _as(GRADER, ["ls" if path.is_dir() else "cat", str(path)]).returncode == 0 or \
            path.name == "roster.passwords.csv", path
    # the hub's database, cookie secret, log: root's alone (the hub itself reads them)
    for name in ("jupyterhub.sqlite", "jupyterhub_cookie_secret", "jupyterhub.log"):
        assert _as(ME, ["cat", str(course / "hub" / name)]).returncode != 0, name
    assert _as(ME, ["ls", str(course / "hub")]).returncode != 0
    assert _as(ME, ["cat", str(course / "hub" / "student" / "jupyter" / "nbgrader_config.py")]).returncode == 0
    # the grading service's sockets: its Dask scheduler, workers and nannies answer only mutual TLS
    service = next(pid for pid in _processes(GRADER) if "autograder.service" in _command(pid))
    found = [item for item in listeners(service) if item.kind == "tcp"]
    assert found, "the grading service's engine listens on its Dask ports"
    drop = Path(tempfile.mkdtemp(prefix="hub-drop-"))
    drop.chmod(0o1777)
    try:
        report = intrude(found, ME, drop / "intruder-was-here")
        assert not (drop / "intruder-was-here").exists()
    finally:
        shutil.rmtree(drop)
    assert report and all(not outcome.startswith(("CONNECTED", "ANSWERED"))
                          for outcomes in report.values() for outcome in outcomes), report
    assert "Score:" in graded[ME]  # the twin: the service graded through those sockets


def test_hub_stop_leaves_no_process_and_a_restart_keeps_everything(hub, people, graded):
    """A kernel running in student1's server; `make hub-stop` ends the hub, the proxy, both services, every
    server and that kernel (nothing of the hub's accounts is left); `make hub` again: student1's session
    still holds, their server starts, their submission is listed, the formgrader shows the same scores, and
    student1 is still refused on it (groups kept)."""
    page = people[ME]
    kernel = page.context.request.post(f"{hub.url}/user/{ME}/api/kernels", data="{}",
                                       headers={"X-XSRFToken": _xsrf(page)})
    assert kernel.status == 201, kernel.text()
    kernel_pid = _wait_for(lambda: next((pid for pid in _processes(ME) if "ipykernel" in _command(pid)), None))
    keeper = int((hub.course / "hub" / "hub.pid").read_text())
    began = time.monotonic()
    stopped = hub.make("hub-stop")
    stop_s = time.monotonic() - began
    assert "JupyterHub stopped" in stopped, stopped
    print("\n" + "\n".join(line for line in (hub.course / "hub" / "jupyterhub.log").read_text().splitlines()
                           if "[hub keeper]" in line or "Shutting down" in line or "Stopping" in line))
    left = {user: _processes(user) for user in (*STUDENTS, TEACHER, GRADER)}
    assert not any(left.values()), {user: [_command(pid) for pid in pids] for user, pids in left.items()}
    assert not hub_tool._alive(kernel_pid) and not hub_tool._alive(keeper)  # (a zombie is init's to reap)
    assert not _listening(hub.url), "the proxy still answers"
    started = hub.make("hub")
    print(f"\nrestart: hub-stop {stop_s:.1f} s; {started.strip()}")
    page.goto(f"{hub.url}/hub/home")  # the session cookie still holds: no login page
    assert "/hub/login" not in page.url, page.url
    page.goto(f"{hub.url}/hub/spawn/{ME}")
    page.wait_for_url(re.compile(rf"/user/{ME}/lab"), timeout=180_000)
    page.wait_for_selector(".jp-LabShell")
    _open_assignment_list(page)
    page.locator("#submitted_assignments_list", has_text=SPEC.folder).wait_for()
    formgrader = _open_formgrader(people[TEACHER], hub.url, f"manage_submissions/{SPEC.folder}")
    assert _scores(formgrader) == SCORES
    assert page.context.request.get(f"{hub.url}/services/{COURSE}/formgrader").status == 403  # groups kept


# ---------------------------------------------------------------------------------------------------------------

def _shot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    print(f"\nscreenshot: {SHOTS / f'{name}.png'}")


def _open_formgrader(teacher, url: str, where="manage_assignments"):
    """The formgrader in a tab of its own (never framed: the hub's CSP says frame-ancestors 'self')."""
    page = teacher.context.new_page()
    page.goto(f"{url}/services/{COURSE}/formgrader/{where}")
    page.wait_for_selector("table tbody tr")
    return page


def _formgrader_action(page, where: str, column: str, row=SPEC.folder):
    """Click the formgrader's button in `column` of the row of `row`, and its success dialog away."""
    base = page.url.split("/formgrader/")[0]
    if not page.url.endswith(where):
        page.goto(f"{base}/formgrader/{where}")
    page.locator("table tbody tr", has_text=row).first.locator(f"td.{column} a").click()
    dialog = page.locator(".modal.in")
    dialog.wait_for(timeout=300_000)
    text = dialog.inner_text()
    assert dialog.get_attribute("id") == "success-modal", text
    dialog.locator("button.btn-primary").click()  # OK
    dialog.wait_for(state="hidden")


def _answer(page, levels):
    """Type the reference's code into each level's solution cell (the cell above its 评测 cell); not saved."""
    page.wait_for_selector(f"{_SHOWN} .jp-Cell")
    sections = reference_sections(SPEC.name)
    cells = page.locator(f"{_SHOWN} .jp-Cell")
    for number, level in enumerate(SPEC.levels, 1):
        if level.name not in levels:
            continue
        check = page.wait_for_function("""text => {
            const cells = [...document.querySelectorAll('SHOWN .jp-Cell')];
            const i = cells.findIndex(c => c.innerText.includes(text));
            return i >= 0 ? i + 1 : false; }""".replace("SHOWN", _SHOWN), arg=f"Check: 第{number}关").json_value() - 1
        cells.nth(check - 1).locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(sections[level.name])
        page.keyboard.press("Escape")
    page.wait_for_selector(".jp-mod-dirty")


def _inbound_name(inbound: Path, student: str) -> str:
    names = _wait_for(lambda: [n for n in os.listdir(inbound) if n.startswith(f"{student}+{SPEC.folder}+")])
    assert len(names) == 1, names
    return names[0]


def _wait_recorded(hub, names, timeout=300):
    state = hub.course / "grading_results" / "service"
    _wait_for(lambda: all(done_path(state, name).exists() for name in names), timeout,
              lambda: (hub.course / "hub" / "jupyterhub.log").read_text()[-4000:])
    for name in names:
        done = json.loads(done_path(state, name).read_text())
        assert "score" in done, done


def _fetch_verdict(page, student: str) -> str:
    """Fetch Feedback in the Assignments tab, its "view feedback" link, the page in Lab: its text."""
    _open_assignment_list(page)
    page.locator("#submitted_assignments_list button", has_text="Fetch Feedback").first.click()
    link = page.locator("#submitted_assignments_list a", has_text="view feedback").first
    link.wait_for()
    link.click()  # the file browser goes to the fetched page; the student opens it
    page.locator(".jp-DirListing-item", has_text=f"{SPEC.name}.html").dblclick()
    verdict = page.frame_locator(".jp-HTMLViewer iframe")
    verdict.get_by_text("Score:").first.wait_for()
    if student == OTHER:
        _shot(page, "verdict")
    return verdict.locator("body").inner_text()


def _feedback_page(hub, student: str, secret: str) -> Path:
    from nbgrader.utils import notebook_hash
    return hub.exchange / COURSE / "feedback" / f"{notebook_hash(secret=secret, notebook_id=SPEC.name)}.html"


def _scores(formgrader) -> dict:
    """student id -> score, from the formgrader's submissions table ("10 / 10")."""
    formgrader.wait_for_selector("table tbody tr td.score")
    scores = {}
    for row in formgrader.locator("table tbody tr").all_inner_texts():
        found = re.search(r"([\d.]+) / ([\d.]+)", row)
        for student in STUDENTS:
            if student in row and found:
                scores[student] = float(found.group(1))
    return scores


def _as(user: str, command: list) -> subprocess.CompletedProcess:
    return subprocess.run(as_user(command, user), capture_output=True, check=False, cwd="/")


def _curl(user: str, url: str, token: str) -> str:
    """The HTTP status `user` gets for `url` with `token` (no redirects followed)."""
    run = _as(user, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", f"Authorization: token {token}",
                     url])
    return run.stdout.decode()


def _processes(user: str = "") -> list:
    """The pids of `user`'s processes (every process: "")."""
    uid = pwd.getpwnam(user).pw_uid if user else None
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (uid is None or proc.stat().st_uid == uid) and _command(int(proc.name)):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _umask(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Umask:\s+(\d+)", status, re.M).group(1), 8)


def _environ(pid: int) -> dict:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(pair.decode(errors="replace").split("=", 1) for pair in pairs if b"=" in pair)


def _server_pid(user: str, command="jupyterhub-singleuser") -> int:
    return next(pid for pid in _processes(user) if command in _command(pid) and "/bin/sh" not in _command(pid))


def _server_url(user: str, command="jupyterhub-singleuser") -> str:
    """Where `user`'s server (or service) listens itself, past the proxy: its JUPYTERHUB_SERVICE_URL + prefix."""
    env = _environ(_server_pid(user, command))
    url, prefix = env["JUPYTERHUB_SERVICE_URL"].rstrip("/"), env["JUPYTERHUB_SERVICE_PREFIX"]
    return url + "/" if url.endswith(prefix.rstrip("/")) else url + prefix


def _xsrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")


def _listening(url: str) -> bool:
    import urllib.request
    try:
        urllib.request.urlopen(f"{url}/hub/health", timeout=2)
        return True
    except OSError:
        return False


def _wait_for(found, timeout=120, why=lambda: ""):
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        assert time.monotonic() < deadline, why()
        time.sleep(0.2)
