"""Shared fixtures: a CUDA skip with a reason, an ordinary user to grade as. (The course is an
installed package: `make venv`.)"""
import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

CUDA = torch.cuda.is_available()


def pytest_addoption(parser):
    parser.addoption("--assignment", default="", help="only this assignment's cases of the tests parametrised "
                                                      "by assignment (its folder or name; `make check A=...`)")


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="no CUDA device here (CI is CPU-only); run on a GPU machine")
    for item in items:
        if "gpu" in item.keywords and not CUDA:
            item.add_marker(skip)
    only = config.getoption("--assignment")
    if only:
        kept, dropped = [], []
        for item in items:
            spec = getattr(item, "callspec", None) and item.callspec.params.get("spec")
            (dropped if spec is not None and only not in (spec.folder, spec.name) else kept).append(item)
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def devices():
    """The devices the checks run on: CPU always, CUDA (marked gpu) too."""
    return ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def require_sandbox():
    """Skip (with the reason) where bubblewrap is not installed; fail where it is installed but
    the sandbox does not work: CI must never silently grade unisolated."""
    import shutil
    from autograder.engine import sandbox
    if sandbox.isolation().bwrap:
        return
    if shutil.which("bwrap"):
        pytest.fail(f"bubblewrap is installed but the sandbox does not work here [{sandbox.isolation().describe()}]")
    pytest.skip("bubblewrap is not installed (`make sandbox` installs it as root): grading ran unisolated")


ORDINARY_USER = "coursegrader"  # made when the tests run as root
INTRUDER_USER = "courseintruder"  # another account on the grading host (a student with a shell)
GRADERS = ["root", "ordinary user"] if os.geteuid() == 0 else ["ordinary user"]  # who grades, in the suites


def ordinary_user(name=ORDINARY_USER) -> str:
    """An ordinary (non-root) account to grade as: "" when the tests already run as one."""
    if os.geteuid() != 0:
        return ""
    if subprocess.run(["id", name], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", name], check=True, capture_output=True)
    return name


def intruder_user() -> str:
    """Another ordinary account, neither the grader nor the judge (skips where we cannot make one)."""
    if os.geteuid() != 0:
        pytest.skip("another account is needed to play the intruder: run the tests as root")
    return ordinary_user(INTRUDER_USER)


def as_user(command: list, user: str) -> list:
    """`command` run as `user` ("": as we are)."""
    if not user:
        return command
    account = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups", *command]


def give_to(folder, user: str):
    """`folder` and everything in it owned by `user` (nothing when "")."""
    if user:
        account = pwd.getpwnam(user)
        for path in (folder, *folder.rglob("*")):
            os.lchown(path, account.pw_uid, account.pw_gid)


def nbgrader_as(course: Path, user: str, *args):
    """The stock nbgrader command line in `course`, as `user` ("": as we are); the finished run."""
    return Started(course, user, "nbgrader", *args).finished()


class Started:
    """A command of the venv (nbgrader, or python with its arguments) started in `course` as `user`,
    in the background: the suites grade each grader's class at the same time, so that their waits
    (time limits, kernel starts) overlap. Its outputs go to temporary files, not pipes."""

    def __init__(self, course: Path, user: str, program: str, *args):
        command = as_user([str(Path(sys.executable).parent / program), *args], user)
        self.outputs = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, cwd=course, stdout=self.outputs[0], stderr=self.outputs[1],
                                        env={**os.environ, "HOME": str(course.parent)})

    def finished(self, timeout=900) -> subprocess.CompletedProcess:
        self.process.wait(timeout=timeout)
        stdout, stderr = (self._read(out) for out in self.outputs)
        return subprocess.CompletedProcess(self.process.args, self.process.returncode, stdout, stderr)

    @staticmethod
    def _read(out) -> str:
        out.seek(0)
        return out.read().decode(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()



def student_account(name: str) -> str:
    """An account for student id `name` (the grading service admits a submission only from the
    account it names); skips where we cannot make one."""
    if os.geteuid() != 0:
        pytest.skip("students are accounts of this host: run the tests as root to make them")
    from autograder.tools.service_world import World
    return World.account(name)


@pytest.fixture(scope="session")
def service_world():
    """service_world(grader): a course with an exchange and its grading service running as `grader`
    ("": as we are), made on first use and shared by the session (2 workers, 3 attempts an hour)."""
    import shutil
    import signal
    import tempfile

    from autograder.tools.service_world import World
    worlds = {}

    def started(grader: str) -> World:
        if grader not in worlds:
            require_sandbox()
            student_account("st-nobody")  # skips where students cannot be made
            top = Path(tempfile.mkdtemp(prefix="service-"))
            os.chmod(top, 0o755)
            worlds[grader] = World.make(top, grader, COURSE_WORKERS=2, COURSE_ATTEMPTS_PER_HOUR=3)
            worlds[grader].start_service()
            worlds[grader].wait_started()
        return worlds[grader]

    yield started
    for world in worlds.values():
        if world.service is not None:
            world.stop_service(signal.SIGKILL)
        shutil.rmtree(world.top, ignore_errors=True)


@pytest.fixture(scope="session")
def local_slurm():
    """One Slurm for the whole run (autograder/tools/slurm_local.py): munged, slurmctld and slurmd on
    this host, started on first use and stopped by pid at the end. Installed by `make slurm` as root
    where it is missing; skipped with the reason only where it cannot be installed."""
    from autograder.tools import slurm_local
    if slurm_local.missing() and os.geteuid() == 0:
        subprocess.run(["make", "--no-print-directory", "slurm"], cwd=Path(__file__).parent.parent,
                       capture_output=True, timeout=900)
    if slurm_local.missing():
        pytest.skip(f"Slurm is not installed ({', '.join(slurm_local.missing())}): `make slurm` installs "
                    "slurm-wlm and munge as root on Debian")
    slurm = slurm_local.LocalSlurm.start()
    yield slurm
    slurm.stop()
