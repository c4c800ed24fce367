"""The course's JupyterHub, as nbgrader's JupyterHub documentation sets one up on one server.

Started by `make hub` (autograder/tools/hub.py, as root, from the course's .venv, umask 077). Local Unix
accounts log in with their passwords (PAM); each gets a Jupyter server as that account (the local-process
spawner), started with the course's student set-up. The instructors (Unix group formgrade-<course>) open the
formgrader, a service the hub starts as the course root's owner, in its own tab at /services/<course>/. The
grading service (评测 on submit) is a service of the hub too, as that owner. The hub's state (database, cookie
secret) lives in the course's hub/ folder, the gradebook in the course root.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import course_config  # noqa: E402
from autograder.hub import (  # noqa: E402
    FORMGRADER, GRADING, INSTRUCTORS, STATE, STUDENT_SETUP, STUDENTS, addresses, grader)
from autograder.tools.student_setup import shared_environment  # noqa: E402

c = get_config()  # noqa: F821 (provided by traitlets)
BIN = Path(sys.executable).parent  # the course's .venv: the hub, the servers and the services run from it
urls, owner = addresses(), grader()
course_env = {k: v for k, v in os.environ.items() if k.startswith("COURSE_")}  # the course's settings


def with_umask(mask: str, command: list) -> list:
    """`command` run with the file-creation mask `mask` (the hub's own, 077, is no one else's)."""
    return ["/bin/sh", "-c", f'umask {mask} && exec "$0" "$@"', *command]


# Where the class connects (COURSE_HUB_URL; https with c.JupyterHub.ssl_cert/ssl_key), and the hub's own ports.
c.JupyterHub.bind_url = urls.public
c.ConfigurableHTTPProxy.api_url = urls.proxy_api
c.JupyterHub.hub_bind_url = urls.hub
c.ConfigurableHTTPProxy.command = [str(course_config.ROOT / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")

# The state that survives a restart: users, groups, tokens, and the cookie secret (sessions stay logged in).
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")

# Login: the machine's accounts and passwords; only the course's two groups get in.
c.JupyterHub.authenticator_class = "autograder.hub.course_auth.CourseAuthenticator"
c.Authenticator.manage_groups = True  # the hub's groups follow the Unix groups (course_auth.py)
c.PAMAuthenticator.allowed_groups = {INSTRUCTORS, STUDENTS}

# Each user's server: the default local-process spawner, the student set-up written once by `make hub`
# (the exchange, the course id, no instructor tools, save before submit), JupyterLab first, the usual umask.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = with_umask("022", [str(BIN / "jupyterhub-singleuser")])
c.Spawner.default_url = "/lab"
# A server is sent SIGINT, then SIGTERM if it still runs after interrupt_timeout (10 s by default): 1 s here,
# so one stuck server cannot hold `make hub-stop` for long (the keeper ends whatever is left after).
c.Spawner.interrupt_timeout = 1
c.Spawner.environment = shared_environment(STUDENT_SETUP)
# nbgrader's JupyterHubAuthPlugin in the server reads its own user's groups (which courses it is in).
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", "read:users:groups!user"]

# The formgrader: a Jupyter server of the course root's owner, in the course root (its nbgrader_config.py),
# for the instructors' group only, opened on the formgrader. JupyterHub's own CSP (frame-ancestors) is kept:
# the formgrader is opened in its own tab, never framed. What it writes (gradebook, submitted/, autograded/,
# feedback/) is closed to others (umask 007).
services = [{
    "name": FORMGRADER,
    "url": urls.formgrader,
    "command": with_umask("007", [str(BIN / "jupyterhub-singleuser"), f"--ServerApp.root_dir={course_config.ROOT}"]),
    "user": owner.pw_name,
    "cwd": str(course_config.ROOT),
    "environment": {**course_env, "JUPYTERHUB_DEFAULT_URL": "/formgrader"},
    "oauth_no_confirm": True,
}]
# The grading service (评测 on submit): it grades each submission as it arrives, over the engine's mutual-TLS
# channel; it waits for the first release_assignment (umask 077: its own).
if course_config.ON_SUBMIT.mode != "off":
    services.append({"name": GRADING, "command": [sys.executable, "-m", "autograder.service", "--wait"],
                     "user": owner.pw_name, "cwd": str(course_config.ROOT), "environment": course_env})
c.JupyterHub.services = services
c.JupyterHub.load_roles = [
    {"name": INSTRUCTORS, "groups": [INSTRUCTORS], "scopes": [f"access:services!service={FORMGRADER}"]},
]
