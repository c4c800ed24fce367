"""The course's JupyterHub, measured (as root): `python -m autograder.tools.bench_hub`.

A scratch class (autograder/tools/hub_class.py: the README's commands in a course copy, one student) on a free
port; prints, side by side over ROUNDS: the hub's start (`make hub` until it answers), its restart
(`make hub-stop`, checked to leave no process of the student, + `make hub`), one student's server start
(login to an answering Lab), and the memory of that server once idle (PSS of every process of the student:
the server alone, no kernel), then with one idle kernel.
"""
import pwd
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import requests

from autograder.tools import hub_class

COURSE, TEACHER, STUDENT = "hubbench", "bench-teacher", "bench-student"
ROUNDS, IDLE_S = 2, 10


def main():
    hub_class.remove_accounts((TEACHER, STUDENT), COURSE)
    top = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    try:
        scratch = hub_class.make_class(top, hub_class.free_port(), COURSE, TEACHER, "bench-Pw-1", (STUDENT,))
        figures = {"hub start (s)": [], "hub stop (s)": [], "hub restart (s)": [], "student server start (s)": [],
                   "idle student server PSS (MiB)": [], "with one idle kernel (MiB)": []}
        for _ in range(ROUNDS):
            scratch.make("hub-stop")
            began = time.monotonic()
            scratch.make("hub")
            figures["hub start (s)"].append(time.monotonic() - began)
            began = time.monotonic()
            session = _login(scratch.url, STUDENT, scratch.passwords[STUDENT])
            figures["student server start (s)"].append(time.monotonic() - began)
            time.sleep(IDLE_S)
            figures["idle student server PSS (MiB)"].append(_pss_mib(STUDENT))
            _start_kernel(scratch.url, session, STUDENT)
            time.sleep(IDLE_S)
            figures["with one idle kernel (MiB)"].append(_pss_mib(STUDENT))
            began = time.monotonic()
            scratch.make("hub-stop")
            figures["hub stop (s)"].append(time.monotonic() - began)
            left = hub_class.pss_kib(pwd.getpwnam(STUDENT).pw_uid)
            assert not left, f"make hub-stop left the student's {list(left)}"
            scratch.make("hub")
            figures["hub restart (s)"].append(time.monotonic() - began)
        print(f"JupyterHub {COURSE} on this machine, {ROUNDS} rounds (median, min-max):")
        for name, values in figures.items():
            print(f"  {name:32s} {statistics.median(values):7.1f}   ({min(values):.1f}-{max(values):.1f})")
    finally:
        hub_class.stop_hub(top / "course")
        hub_class.remove_accounts((TEACHER, STUDENT), COURSE)
        shutil.rmtree(top, ignore_errors=True)


def _login(url: str, name: str, password: str) -> requests.Session:
    """Log in on the hub's login page and wait until the user's Lab answers (the hub spawns it)."""
    session = requests.Session()
    session.get(f"{url}/hub/login")
    session.post(f"{url}/hub/login", data={"username": name, "password": password,
                                           "_xsrf": session.cookies.get("_xsrf")})
    deadline = time.monotonic() + 180
    while not _lab_answers(session.get(f"{url}/user/{name}/lab"), name):  # through the hub's OAuth redirects
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}'s server did not start")
        time.sleep(0.2)
    return session


def _lab_answers(reply, name: str) -> bool:
    return reply.status_code == 200 and f"/user/{name}/lab" in reply.url


def _start_kernel(url: str, session: requests.Session, name: str):
    xsrf = session.cookies.get("_xsrf", path=f"/user/{name}/") or session.cookies.get("_xsrf")
    reply = session.post(f"{url}/user/{name}/api/kernels", json={"name": "python3"}, headers={"X-XSRFToken": xsrf})
    reply.raise_for_status()


def _pss_mib(name: str) -> float:
    return sum(hub_class.pss_kib(pwd.getpwnam(name).pw_uid).values()) / 1024


if __name__ == "__main__":
    main()
