"""`make hub` / `make hub-stop`: the course's JupyterHub (autograder/hub/jupyterhub_config.py) on this machine.

    python -m autograder.tools.hub start    (as root) the hub, under a keeper process whose pid is in hub/hub.pid
    python -m autograder.tools.hub stop     stops it: the hub, its proxy and services, every user's server and kernel

Before starting: the course's Unix groups (formgrade-<course>, nbgrader-<course>), the exchange (mode 1777),
the student set-up written once into hub/student/, and the course root checked closed to other accounts
(autograder/course_access.py): students reach only .venv (to run their servers) and hub/student/. The
formgrader and the grading service run as the course root's owner, who must not be root.

The keeper (`python -m autograder.tools.hub keep`) starts JupyterHub with umask 077, so the hub's database,
cookie secret and log are closed from their first byte. It is the child subreaper of everything the hub starts
(prctl PR_SET_CHILD_SUBREAPER): a server or kernel whose parent died, even one in a session of its own, becomes
its child. On SIGTERM it stops JupyterHub (which stops the servers and services), then ends whatever is left
of its descendants, so `make hub-stop` leaves no process of the hub behind.
"""
import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import course_config
from autograder import course_access
from autograder.hub import INSTRUCTORS, STATE, STUDENT_SETUP, STUDENTS, addresses, grader
from autograder.messages import t
from autograder.tools import student_setup

ROOT = course_config.ROOT
CONFIG = ROOT / "autograder" / "hub" / "jupyterhub_config.py"
PIDFILE, LOG = STATE / "hub.pid", STATE / "jupyterhub.log"
PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
START_S = 120  # until the hub answers
STOP_S = 60  # for JupyterHub to stop its servers; then the keeper ends what is left
LEFT_S = 10  # between SIGTERM and SIGKILL for what is left
PR_SET_CHILD_SUBREAPER = 36


def start() -> float:
    """Start the hub (unless it runs); the seconds until it answered on its public address."""
    os.umask(0o077)  # the hub's state, from its first byte (the student set-up is opened on purpose)
    if os.geteuid() != 0:
        raise SystemExit("make hub: run it as root (PAM reads the passwords; each server runs as its user)")
    if running():
        print(f"JupyterHub already running (keeper pid {running()}): {addresses().public}")
        return 0.0
    if not PROXY.exists():
        raise SystemExit(f"{PROXY} is missing: `make hub` installs configurable-http-proxy (npm ci)")
    owner = grader()
    if owner.pw_uid == 0:
        raise SystemExit(t(f"{ROOT} 属于 root：评分界面会给每位教师一个 root 终端。请先把课程交给评分账户，"
                           f"例如 `useradd -m grader-{course_config.COURSE_ID} && chown -R "
                           f"grader-{course_config.COURSE_ID}: {ROOT}`",
                           f"{ROOT} is owned by root: the formgrader would give every instructor a root shell. "
                           f"Give the course to its grading account first, e.g. `useradd -m "
                           f"grader-{course_config.COURSE_ID} && chown -R grader-{course_config.COURSE_ID}: {ROOT}`"))
    for group in (INSTRUCTORS, STUDENTS):
        subprocess.run(["groupadd", "-f", group], check=True)
    exchange = Path(course_config.EXCHANGE_ROOT)
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o1777)
    STATE.mkdir(mode=0o700, exist_ok=True)
    STATE.chmod(0o711)  # passable, not listable: students reach hub/student/ by its name
    student_setup.install_shared(STUDENT_SETUP, str(exchange), course_config.COURSE_ID)
    course_access.close(ROOT)  # refused (CourseOpen, zh + en) when it cannot be
    began = time.monotonic()
    log = os.open(LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    keeper = subprocess.Popen([sys.executable, "-m", "autograder.tools.hub", "keep"], cwd=ROOT, env=_environment(),
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    os.close(log)
    PIDFILE.write_text(f"{keeper.pid}\n")
    _wait_until_up(keeper)
    took = time.monotonic() - began
    print(f"JupyterHub for {course_config.COURSE_ID}: {addresses().public} (keeper pid {keeper.pid}, up in "
          f"{took:.1f} s; state in {STATE}, log {LOG})")
    return took


def keep() -> None:
    """The keeper: JupyterHub as its child, every orphan of the hub's as its child too; on SIGTERM all stop."""
    os.umask(0o077)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(time.monotonic()))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(time.monotonic()))
    hub = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)], cwd=STATE,
                           stdin=subprocess.DEVNULL)
    told = killed = False
    while True:
        if hub.pid in _reap():
            break
        if stopping and not told:
            os.kill(hub.pid, signal.SIGTERM)
            told = True
        if told and not killed and time.monotonic() - stopping[0] > STOP_S:
            os.kill(hub.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.1)
    hub_s = time.monotonic() - stopping[0] if stopping else 0.0
    left = _end_descendants()
    print(f"[hub keeper] JupyterHub exited ({hub_s:.1f} s after SIGTERM); the {len(left)} processes it left "
          f"ended in {time.monotonic() - stopping[0] - hub_s if stopping else 0:.1f} s: {left}", flush=True)


def stop() -> None:
    """Stop the hub: SIGTERM to the keeper, then wait until it and everything it kept are gone."""
    pid = running()
    if not pid:
        print("JupyterHub is not running")
        PIDFILE.unlink(missing_ok=True)
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except PermissionError:
        raise SystemExit(f"make hub-stop: JupyterHub (keeper pid {pid}) is root's: run it as root") from None
    deadline = time.monotonic() + STOP_S + 2 * LEFT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):  # the keeper is stuck: its own group at least (its orphans are then init's)
        os.killpg(pid, signal.SIGKILL)
    PIDFILE.unlink(missing_ok=True)
    print(f"JupyterHub stopped (keeper pid {pid})")


def running() -> int:
    """The keeper's pid (0 if none): the pidfile's process, if it still is this course's keeper."""
    try:
        pid = int(PIDFILE.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return 0
    return pid if b"autograder.tools.hub" in command and b"keep" in command and _alive(pid) else 0


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] != "Z"  # a zombie has exited
    except (OSError, IndexError):
        return False


def _reap() -> set:
    """Every child that has exited, reaped (the keeper inherits the hub's orphans): their pids."""
    done = set()
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return done
        if pid == 0:
            return done
        done.add(pid)


def _descendants(ancestor: int) -> list:
    """The living processes under `ancestor` (from /proc: pid -> parent)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [ancestor]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return [pid for pid in found if _alive(pid)]


def _end_descendants() -> list:
    """SIGTERM to every descendant left, SIGKILL after LEFT_S; all reaped. The pids there were."""
    left = _descendants(os.getpid())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _descendants(os.getpid()):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + LEFT_S
        while _descendants(os.getpid()) and time.monotonic() < deadline:
            _reap()
            time.sleep(0.1)
        _reap()
    return left


def _environment() -> dict:
    """The hub's environment: the .venv first on PATH (servers and services find jupyterhub-singleuser,
    nbgrader and alembic there)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


def _wait_until_up(keeper: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_S
    while True:
        try:
            urllib.request.urlopen(f"{addresses().public}/hub/health", timeout=2)
            return
        except OSError:
            if keeper.poll() is not None or time.monotonic() > deadline:
                if keeper.poll() is None:
                    stop()
                PIDFILE.unlink(missing_ok=True)
                raise SystemExit(f"JupyterHub did not start (see {LOG}):\n{LOG.read_text()[-4000:]}") from None
            time.sleep(0.1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("start", "stop", "keep"))
    args = parser.parse_args(argv)
    {"start": start, "stop": stop, "keep": keep}[args.action]()


if __name__ == "__main__":
    main()
