"""What a student's code can reach, measured from inside a graded kernel: memory, processes, the
grader's loopback, the course's files and the user it runs as, as root, as an ordinary user, and
as root without bubblewrap (refused by default; graded with what is left when allowed)."""
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

import course_config
from autograder.tools import demo
from tests.conftest import require_sandbox

SPEC = course_config.assignment("multihead_attention")
ORDINARY_USER = "coursegrader"  # made when the tests run as root

PROBE = '''
import json, os, socket, subprocess
report = {"uid": os.getuid()}
try:
    hog = bytearray(6 << 30)
    report["allocated_6_gib"] = True
    del hog
except MemoryError:
    report["allocated_6_gib"] = False
procs = []
try:
    for _ in range(400):
        procs.append(subprocess.Popen(["sleep", "30"]))
except Exception:
    pass
report["processes_started"] = len(procs)
for p in procs:
    p.kill()
    p.wait()
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    report["reached_grader_port"] = True
except OSError:
    report["reached_grader_port"] = False
report["course_root_visible"] = os.path.exists(ROOT)
print("PROBE " + json.dumps(report))
'''


@pytest.fixture(scope="module")
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    yield server.getsockname()[1]
    server.close()


@pytest.fixture(scope="module")
def probe_notebook(listener):
    folder = Path(tempfile.mkdtemp(prefix="probe-"))  # readable by the ordinary user too
    os.chmod(folder, 0o755)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE.replace("PORT", str(listener))
                                          .replace("ROOT", repr(str(course_config.ROOT / "autograder"))))]
    path = folder / "alice" / SPEC.folder / f"{SPEC.name}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    for p in (path.parent.parent, path.parent, path):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


def grade(notebook: Path, user: str = "", **env):
    """`python -m autograder.engine.grade_one NOTEBOOK --json` (as `user` when given): the run."""
    command = [sys.executable, "-m", "autograder.engine.grade_one", str(notebook), "--json"]
    home = Path(tempfile.mkdtemp(prefix="grader-home-"))
    if user:
        account = pwd.getpwnam(user)
        os.chown(home, account.pw_uid, account.pw_gid)
        command = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups", *command]
    try:
        return subprocess.run(command, cwd=course_config.ROOT, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "HOME": str(home), **env})
    finally:
        shutil.rmtree(home, ignore_errors=True)


def probe_report(run) -> tuple:
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    text = "".join(o.get("text", "") for cell in result["outputs"] for o in cell)
    return json.loads(text.split("PROBE ", 1)[1].splitlines()[0]), result


def ordinary_user() -> str:
    if os.geteuid() != 0:
        return ""  # we are one
    if subprocess.run(["id", ORDINARY_USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", ORDINARY_USER], check=True, capture_output=True)
    return ORDINARY_USER


def test_as_root_everything_is_bounded(probe_notebook):
    if os.geteuid() != 0:
        pytest.skip("not running as root")
    require_sandbox()
    report, result = probe_report(grade(probe_notebook))
    assert report == {"uid": report["uid"], "allocated_6_gib": False, "processes_started": report["processes_started"],
                      "reached_grader_port": False, "course_root_visible": False}
    assert report["uid"] != 0 and report["processes_started"] < 100
    assert "bwrap=on" in result["isolation"]["layers"] and "user=coursejudge" in result["isolation"]["layers"]


def test_as_an_ordinary_user_everything_is_bounded(probe_notebook):
    require_sandbox()
    user = ordinary_user()
    report, result = probe_report(grade(probe_notebook, user))
    assert report["uid"] == (pwd.getpwnam(user).pw_uid if user else os.getuid())
    assert report["allocated_6_gib"] is False
    assert report["processes_started"] < 100  # counted in the sandbox's own user namespace
    assert report["reached_grader_port"] is False and report["course_root_visible"] is False
    assert "user=self" in result["isolation"]["layers"] and "processes=per-sandbox" in result["isolation"]["layers"]


def test_without_bubblewrap_grading_is_refused_by_default(probe_notebook):
    run = grade(probe_notebook, COURSE_BWRAP="no-such-bwrap")
    assert run.returncode != 0 and run.stdout == ""
    assert "grading refused: bubblewrap is not installed" in run.stderr
    assert "apt-get install bubblewrap" in run.stderr and "ALLOW_UNISOLATED" in run.stderr


def test_without_bubblewrap_when_allowed_what_is_left_still_binds_and_it_says_so(probe_notebook):
    report, result = probe_report(grade(probe_notebook, COURSE_BWRAP="no-such-bwrap", COURSE_ALLOW_UNISOLATED="1"))
    assert result["isolation"]["warnings"] and "unisolated" in result["isolation"]["warnings"][0]
    assert "bwrap=OFF" in result["isolation"]["layers"]
    assert report["allocated_6_gib"] is False  # prlimit still binds
    if os.geteuid() == 0:  # the judge user and cgroups still apply
        assert report["uid"] != 0 and report["processes_started"] < 100
    # what only bubblewrap gives is gone, and the verdict said so above
    assert report["course_root_visible"] is True and report["reached_grader_port"] is True


def test_nbgrader_autograde_stops_without_bubblewrap(tmp_path):
    course = demo.make_course(tmp_path / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    demo.submit(course, "alice", SPEC)
    run = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", SPEC.folder], cwd=course,
                         capture_output=True, text=True, env={**os.environ, "COURSE_BWRAP": "no-such-bwrap"},
                         timeout=300)
    assert run.returncode != 0
    assert "grading refused: bubblewrap is not installed" in run.stderr
    assert not (course / "grading_results").exists()
