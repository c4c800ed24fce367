"""The course on JupyterHub: where the hub keeps its state in the course, its names and addresses.

  course_auth         PAM login; a user's hub groups are the course's Unix groups they are in
  jupyterhub_config   the hub, as nbgrader's JupyterHub documentation sets one up on one server

`make hub` (autograder/tools/hub.py) starts JupyterHub with jupyterhub_config.py; both read the layout here.
"""
import os
import pwd
from dataclasses import dataclass
from urllib.parse import urlsplit

import course_config

STATE = course_config.ROOT / "hub"  # root's, 0711: the hub's database, cookie secret, pids, log (0600)
STUDENT_SETUP = STATE / "student"  # readable by all: the student set-up every student's server starts with
INSTRUCTORS = f"formgrade-{course_config.COURSE_ID}"  # the Unix and hub group of the course's instructors
STUDENTS = f"nbgrader-{course_config.COURSE_ID}"  # the Unix and hub group of its students (the roster's)
FORMGRADER = course_config.COURSE_ID  # the formgrader's service name: /services/<course id>/
GRADING = f"{course_config.COURSE_ID}-grading"  # the grading service's name (评测 on submit)


@dataclass(frozen=True)
class Addresses:
    """Where the class connects (COURSE_HUB_URL) and the hub's own ports, the next ones after it."""
    public: str
    proxy_api: str
    hub: str
    formgrader: str

    @property
    def api(self) -> str:
        return f"{self.hub}/hub/api"


def addresses() -> Addresses:
    public = os.environ.get("COURSE_HUB_URL", "http://127.0.0.1:8000").rstrip("/")
    port = urlsplit(public).port or (443 if public.startswith("https") else 80)
    local = "http://127.0.0.1:{}".format
    return Addresses(public, local(port + 1), local(port + 2), local(port + 3))


def grader() -> pwd.struct_passwd:
    """The account that runs the formgrader and the grading service: the course root's owner."""
    return pwd.getpwuid(course_config.ROOT.stat().st_uid)
