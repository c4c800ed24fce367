"""A course with an exchange and a running grading service, for tests/test_service.py and the
service's bench.

    world = World.make(top, grader="")      # course copy, exchange (1777), 01 generated and released
    world.start_service(); world.wait_started()
    name = world.submit("st-alice", levels) # what `nbgrader submit` writes, owned by that account
    world.wait_done(name)                   # the service recorded it (or refused it)
    world.stop_service()

grader: the account the instructor's commands and the service run as ("": this process's). Student
ids are accounts of this host (the service admits a folder only from the account it names): `submit`
writes exactly what nbgrader 0.9.6's ExchangeSubmit.copy_files writes (the folder with
timestamp.txt and submission_secret.txt, and the cache copy in the student's home), hands both to
the student's account, and moves the folder into inbound/ at once, so that many students can
submit from one process, in a burst. Handing files to other accounts needs root.
"""
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import nbformat

import course_config
from autograder.service import done_path
from autograder.tools import demo

SPEC = course_config.assignment("01_multihead_attention")
BIN = Path(sys.executable).parent
CACHE = Path(".local/share/jupyter/nbgrader_cache")  # nbgrader's Exchange.cache, under a home


class World:
    def __init__(self, top: Path, env: dict, grader: str):
        self.top, self.env, self.grader = top, env, grader
        self.course, self.exchange, self.homes = top / "course", top / "exchange", top / "homes"
        self.inbound = self.exchange / course_config.COURSE_ID / "inbound"
        self.service = None
        self.log = top / "service.log"

    @classmethod
    def make(cls, top: Path, grader: str = "", **env) -> "World":
        top.mkdir(parents=True, exist_ok=True)
        (top / "exchange").mkdir(exist_ok=True)
        (top / "exchange").chmod(0o1777)
        (top / "homes").mkdir(exist_ok=True)
        home = top / "grader-home"
        home.mkdir(exist_ok=True)
        world = cls(top, {**os.environ, "COURSE_EXCHANGE_ROOT": str(top / "exchange"), "HOME": str(home),
                          "PATH": f"{BIN}:{os.environ.get('PATH', '')}", **{k: str(v) for k, v in env.items()}},
                    grader)
        demo.make_course(world.course)
        world.give(world.course, grader)
        world.give(home, grader)
        world.nbgrader("generate_assignment", SPEC.folder, "--force")
        world.nbgrader("release_assignment", SPEC.folder, "--force")
        return world

    def as_grader(self, command: list) -> list:
        if not self.grader:
            return command
        account = pwd.getpwnam(self.grader)
        return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups", *command]

    def nbgrader(self, *args, check=True, log_level="WARN"):
        run = subprocess.run(self.as_grader([str(BIN / "nbgrader"), *args, f"--log-level={log_level}"]),
                             cwd=self.course, env=self.env, capture_output=True, text=True, check=False, timeout=600)
        if check and run.returncode:
            raise RuntimeError(f"nbgrader {' '.join(args)}: {run.stdout[-2000:]}{run.stderr[-3000:]}")
        return run

    @staticmethod
    def account(name: str) -> str:
        """The account of student id `name`, made (no home, no login shell) when missing: needs root."""
        if subprocess.run(["id", name], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True,
                           capture_output=True)
        return name

    @staticmethod
    def give(path: Path, user: str):
        """`path` and everything under it owned by `user` (nothing when "")."""
        if user:
            account = pwd.getpwnam(user)
            for item in (path, *path.rglob("*")):
                os.lchown(item, account.pw_uid, account.pw_gid)

    # -- the service ---------------------------------------------------------------------------
    def start_service(self, **env):
        """The service, started (`env`: variables for this start only)."""
        with open(self.log, "a") as log:  # the child keeps its own copy of the descriptor
            self.service = subprocess.Popen(self.as_grader([sys.executable, "-m", "autograder.service"]),
                                            cwd=self.course, env={**self.env, **env}, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self.service

    def wait_started(self, timeout=180):
        self._wait(lambda: "grading service:" in self.log_text().rsplit("grading service stopped", 1)[-1],
                   timeout, "the service did not start")

    def stop_service(self, sig=signal.SIGTERM, timeout=120) -> int:
        """Stop it (SIGKILL: the whole session, its Dask workers too, as a crash would); its exit status."""
        if sig == signal.SIGKILL:
            os.killpg(self.service.pid, signal.SIGKILL)
        else:
            self.service.send_signal(sig)
        code = self.service.wait(timeout=timeout)
        self.service = None
        return code

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    # -- students ------------------------------------------------------------------------------
    def notebook(self, levels=(), edit=None, student=""):
        return demo.filled_notebook(self.course, SPEC, student, levels, edit)

    def home(self, student: str) -> Path:
        """The student's home (theirs) with the fetched assignment (as fetch_assignment copies it)."""
        home = self.homes / student
        folder = home / SPEC.folder
        if not folder.exists():
            shutil.copytree(self.course / "release" / SPEC.folder, folder)
            self.give(home, student)
        return home

    def submit(self, student: str, levels=(), edit=None, raw: bytes | None = None, name: str = "",
               stamp: str = "", owner: str = "", prepare=None) -> str:
        """`nbgrader submit` of `student` (the notebook with `levels` filled, or `raw` bytes): its inbound
        name. A hand-made entry: `name` (the inbound name), `stamp` (timestamp.txt), `owner` (the account
        that writes it, `student` by default), `prepare` (called with the folder before it moves in)."""
        owner = owner or student
        folder = self.home(owner) / SPEC.folder
        if raw is None:
            nbformat.write(self.notebook(levels, edit, student), folder / f"{SPEC.name}.ipynb")
        else:
            (folder / f"{SPEC.name}.ipynb").write_bytes(raw)
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        stamp = stamp or now
        name = name or f"{student}+{SPEC.folder}+{stamp}+{secrets.token_urlsafe(9)}"
        secret = secrets.token_hex(64)
        staging = self.top / "staging" / name
        cache = self.homes / owner / CACHE / course_config.COURSE_ID / name.rsplit("+", 1)[0]
        for dest in (staging, cache):
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(folder, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "feedback"))
            (dest / "timestamp.txt").write_text(stamp)
            (dest / "submission_secret.txt").write_text(secret)
            self.give(dest, owner)
        self.give(self.homes / owner, owner)
        if prepare:
            prepare(staging)
        os.rename(staging, self.inbound / name)  # at once, as the student's own files
        return name

    def feedback_page(self, name: str, owner: str = "") -> Path:
        """Where fetch_feedback looks for this submission's feedback in the exchange."""
        from nbgrader.utils import notebook_hash
        cache = self.homes / (owner or name.split("+")[0]) / CACHE / course_config.COURSE_ID / name.rsplit("+", 1)[0]
        secret = (cache / "submission_secret.txt").read_text()
        return self.exchange / course_config.COURSE_ID / "feedback" / \
            f"{notebook_hash(secret=secret, notebook_id=SPEC.name)}.html"

    def done(self, name: str) -> Path:
        return done_path(self.course / "grading_results" / "service", name)

    def wait_done(self, *names, timeout=300):
        self._wait(lambda: all(self.done(n).exists() for n in names), timeout,
                   f"not recorded: {[n for n in names if not self.done(n).exists()]}")

    def _wait(self, ready, timeout, what):
        deadline = time.monotonic() + timeout
        while not ready():
            if self.service is not None and self.service.poll() is not None:
                raise RuntimeError(f"the service exited ({self.service.returncode}): {self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}\n{self.log_text()[-3000:]}")
            time.sleep(0.1)
