"""What a student's code can reach, measured from inside a graded kernel: memory, processes, the
grader's loopback, the course's files and the user it runs as, as root, as an ordinary user, and
as root without bubblewrap (refused by default; graded with what is left when allowed)."""
import copy
import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

import course_config
from autograder.engine.result import Result
from autograder.tools import demo
from tests.conftest import GRADERS, as_user, give_to, ordinary_user, require_sandbox

SPEC = course_config.assignment("multihead_attention")

PROBE = '''
import json, os, socket, subprocess, sys
report = {"uid": os.getuid(), "python": sys.base_prefix}
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
# beside a venv's interpreter that the sandbox had to bind back (its home): nothing else of it
report["beside_python_visible"] = os.path.exists(os.path.join(sys.base_prefix, "../../../answers.txt"))
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


def grade(notebook: Path, user: str = "", python: str = sys.executable, **env):
    """`python -m autograder.engine.grade_one NOTEBOOK --json` (as `user` when given): the run."""
    command = [python, "-m", "autograder.engine.grade_one", str(notebook), "--json"]
    home = Path(tempfile.mkdtemp(prefix="grader-home-"))
    give_to(home, user)
    try:
        return subprocess.run(as_user(command, user), cwd=course_config.ROOT, capture_output=True, text=True,
                              timeout=300, env={**os.environ, "HOME": str(home), **env})
    finally:
        shutil.rmtree(home, ignore_errors=True)


def probe_report(run) -> tuple:
    assert run.returncode == 0, run.stderr[-3000:]
    result = Result.from_json(run.stdout)
    text = "".join(o.get("text", "") for cell in result.outputs for o in cell)
    report = json.loads(text.split("PROBE ", 1)[1].splitlines()[0])
    print(f"PROBE {report} [{result.isolation['layers']}]")  # shown with pytest -s
    return report, result


def test_as_root_everything_is_bounded(probe_notebook):
    if os.geteuid() != 0:
        pytest.skip("not running as root")
    require_sandbox()
    report, result = probe_report(grade(probe_notebook))
    assert (report["allocated_6_gib"], report["reached_grader_port"], report["course_root_visible"]) == \
        (False, False, False)
    assert report["uid"] != 0 and report["processes_started"] < 100
    assert "bwrap=on" in result.isolation["layers"] and "user=coursejudge" in result.isolation["layers"]


def test_as_an_ordinary_user_everything_is_bounded(probe_notebook):
    require_sandbox()
    user = ordinary_user()
    report, result = probe_report(grade(probe_notebook, user))
    assert report["uid"] == (pwd.getpwnam(user).pw_uid if user else os.getuid())
    assert report["allocated_6_gib"] is False
    assert report["processes_started"] < 100  # counted in the sandbox's own user namespace
    assert report["reached_grader_port"] is False and report["course_root_visible"] is False
    assert "user=self" in result.isolation["layers"] and "processes=per-sandbox" in result.isolation["layers"]


def test_without_bubblewrap_grading_is_refused_by_default(probe_notebook):
    run = grade(probe_notebook, COURSE_BWRAP="no-such-bwrap")
    assert run.returncode != 0 and run.stdout == ""
    assert "grading refused: bubblewrap is not installed" in run.stderr
    assert "apt-get install bubblewrap" in run.stderr and "ALLOW_UNISOLATED" in run.stderr


@pytest.mark.parametrize("who", GRADERS)
def test_without_bubblewrap_when_allowed_what_is_left_still_binds_and_it_says_so(probe_notebook, who):
    user = ordinary_user() if who == "ordinary user" else ""
    report, result = probe_report(grade(probe_notebook, user, COURSE_BWRAP="no-such-bwrap",
                                        COURSE_ALLOW_UNISOLATED="1"))
    assert result.isolation["warnings"] and "unisolated" in result.isolation["warnings"][0]
    assert "bwrap=OFF" in result.isolation["layers"]
    assert report["allocated_6_gib"] is False  # prlimit still binds
    assert report["processes_started"] < 100  # the judge user's limit (root), or this user's own
    assert report["uid"] != 0
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


FAKE_BWRAP = """#!/bin/sh
echo 'bwrap: setting up uid map: Permission denied' >&2
exit 1
"""


def test_where_user_namespaces_are_refused_the_verdict_says_exactly_what_is_off(probe_notebook):
    """Some containers refuse user namespaces: bubblewrap is there but cannot run (simulated by a
    bwrap that fails as it does there)."""
    bwrap = probe_notebook.parent.parent / "bwrap"  # where the judge user may run it
    bwrap.write_text(FAKE_BWRAP)
    bwrap.chmod(0o755)
    refused = grade(probe_notebook, COURSE_BWRAP=str(bwrap))
    assert refused.returncode != 0 and "user namespaces are refused" in refused.stderr
    assert "uid map: Permission denied" in refused.stderr and "bwrap=OFF" in refused.stderr

    report, result = probe_report(grade(probe_notebook, COURSE_BWRAP=str(bwrap), COURSE_ALLOW_UNISOLATED="1"))
    warning = result.isolation["warnings"][0]
    assert "user namespaces are refused" in warning
    assert "off: file isolation (the course's files were readable), network isolation, PID namespace" in warning
    assert "still on: prlimit" in warning and report["allocated_6_gib"] is False


def hidden_interpreter_venv(owner: str) -> Path:
    """A venv like one from uv or pyenv: its interpreter and the venv itself in a folder that only
    `owner` may enter (root's: under /root, mode 700), with the course's packages (hard links)."""
    base_python = Path(os.path.realpath(sys.executable))
    if not str(base_python).startswith("/usr/"):
        pytest.skip(f"the course's Python ({base_python}) is not a system one to build the layout from")
    account = pwd.getpwnam(owner)
    home = Path(tempfile.mkdtemp(prefix="hidden-python-", dir=account.pw_dir))
    os.chmod(home, 0o700)
    (home / "answers.txt").write_text("what only the folder's owner may read")
    base = home / ".pyenv" / "versions" / "3.11-course"
    (base / "bin").mkdir(parents=True)
    (base / "lib").mkdir()
    shutil.copy2(base_python, base / "bin" / "python3.11")
    lib = Path(os.path.realpath(sys.base_prefix)) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    (base / "lib" / lib.name).symlink_to(lib)
    venv = home / "venv"
    subprocess.run([base / "bin" / "python3.11", "-m", "venv", "--without-pip", venv], check=True)
    site = Path(sys.prefix) / "lib" / lib.name / "site-packages"
    shutil.rmtree(venv / "lib" / lib.name / "site-packages")
    shutil.copytree(site, venv / "lib" / lib.name / "site-packages", symlinks=True, copy_function=_link)
    for path in (home, *home.rglob("*")):
        os.lchown(path, account.pw_uid, account.pw_gid)
    return venv


def _link(source, target):
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


@pytest.mark.parametrize("who", ["root", "ordinary user"])
def test_a_venv_from_an_interpreter_the_sandbox_hides_works_inside_it(probe_notebook, who):
    """uv, pyenv and conda keep their interpreters under /root, /home or /opt, which the sandbox
    hides: it binds the venv and its interpreter back, and nothing beside them."""
    require_sandbox()
    if who == "root" and os.geteuid() != 0:
        pytest.skip("not running as root")
    user = ordinary_user() if who == "ordinary user" else ""
    venv = hidden_interpreter_venv(user or pwd.getpwuid(os.geteuid()).pw_name)
    python = str(venv / "bin" / "python")
    try:
        fresh = probe_report(grade(probe_notebook, user, python=python))  # a kernel started afresh
        forked = probe_report(grade_on_a_worker(probe_notebook, user, python))  # forked by a worker's factory
    finally:
        shutil.rmtree(venv.parent, ignore_errors=True)
    for report, result in (fresh, forked):
        assert "bwrap=on" in result.isolation["layers"], result.isolation
        assert report["python"] == str(venv.parent / ".pyenv" / "versions" / "3.11-course")
        assert report["course_root_visible"] is False and report["allocated_6_gib"] is False
        assert report["beside_python_visible"] is False  # only the interpreter and the venv were bound
    assert forked[1].timings["kernel_start_s"] < fresh[1].timings["kernel_start_s"]


ON_A_WORKER = """
import json, sys
from pathlib import Path
import course_config
from autograder.engine.classroom import grade_class
from autograder.engine.submission import Submission
spec = course_config.assignment(sys.argv[2])
first, second = (Submission.from_path(Path(sys.argv[1]), spec.folder, name) for name in ("warm-up", "probe"))
print(grade_class([first, second], workers=1)[1].to_json())
"""


def grade_on_a_worker(notebook: Path, user: str, python: str):
    """The probe graded on a Dask worker (its second submission: a kernel forked by the factory)."""
    command = as_user([python, "-c", ON_A_WORKER, str(notebook), SPEC.folder], user)
    return subprocess.run(command, cwd=course_config.ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HOME": str(notebook.parent)})


GPU_PROBE = '''
import json, os
limit = next(line.split()[3:5] for line in open("/proc/self/limits") if line.startswith("Max address space"))
try:
    with open("/dev/nvidia0", "wb") as node:
        node.write(b"x")
    node_usable = True
except OSError:
    node_usable = False
print(json.dumps({"nodes": sorted(n for n in os.listdir("/dev") if n.startswith("nvidia")),
                  "node_usable": node_usable, "address_space": " ".join(limit),
                  "cuda_visible": os.environ.get("CUDA_VISIBLE_DEVICES")}))
'''


@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_the_sandbox_command_on_a_host_with_gpu_device_nodes(monkeypatch, device):
    """CI has no GPU: a host's GPU nodes are stood in for by character devices bound where
    NVIDIA's live. A CUDA kernel's sandbox has them (usable), the driver's environment and no
    address-space limit; a CPU kernel's has neither."""
    from autograder.engine import sandbox
    require_sandbox()
    isolation = copy.copy(sandbox.isolation())
    isolation.gpu_nodes = [("/dev/null", "/dev/nvidia0"), ("/dev/zero", "/dev/nvidiactl")]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    folder = Path(tempfile.mkdtemp(prefix="gpu-sandbox-"))  # where the judge user may pass
    os.chmod(folder, 0o711)
    (folder / "work").mkdir()
    box = sandbox.Sandbox(folder / "work", isolation, course_config.LIMITS, device=device)
    try:
        run = subprocess.run(box.wrap(["python", "-c", GPU_PROBE]), env=box.kernel_env(), capture_output=True,
                             text=True, timeout=60)
    finally:
        box.destroy()
        shutil.rmtree(folder, ignore_errors=True)
    assert run.returncode == 0, run.stderr
    inside = json.loads(run.stdout)
    if device == "cuda":
        assert inside == {"nodes": ["nvidia0", "nvidiactl"], "node_usable": True,
                          "address_space": "unlimited unlimited", "cuda_visible": "0"}
        assert "memory=cgroup" in box.describe() or "memory=OFF(cuda)" in box.describe()
    else:
        limit = str(course_config.LIMITS.memory_mb << 20)
        assert inside == {"nodes": [], "node_usable": False, "address_space": f"{limit} {limit}",
                          "cuda_visible": None}


def test_the_gpu_nodes_found_on_a_host_are_its_nvidia_and_dri_character_devices(tmp_path):
    from autograder.engine import sandbox
    if os.geteuid() != 0:
        pytest.skip("making character devices needs root")
    (tmp_path / "dri").mkdir()
    for name in ("nvidia0", "nvidiactl", "nvidia-uvm", "dri/renderD128"):
        os.mknod(tmp_path / name, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    (tmp_path / "nvidia-readme.txt").write_text("not a device")
    found = [host for host, _ in sandbox.gpu_device_nodes(tmp_path)]
    assert found == sorted(str(tmp_path / n) for n in ("nvidia0", "nvidiactl", "nvidia-uvm", "dri/renderD128"))
