"""How a submission's kernel is isolated on this machine.

The kernel command is wrapped, outermost first, by:
  cgroup v1 (root only)  memory and process-count limits that bind root too; the cgroup is
                         emptied (every process killed) when the submission is done
  setpriv (root only)    a dedicated unprivileged user, no new privileges (never bwrap as root:
                         it keeps its capabilities and can remount read-only binds writable)
  prlimit                address space, CPU time, file size, open files
  bwrap                  no network (loopback only, in its own namespace), a private /tmp,
                         the course root, /root, /home, /srv hidden; its own PID namespace, so
                         every process the kernel started dies with it (setsid does not help)
Where bwrap cannot run, grading still works, unisolated, and says so in every verdict and in
the command's output (`Sandbox.warnings`). The verdict never depends on the sandbox: it is
computed outside the kernel either way.
"""
import functools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import course_config

JUDGE_USER = "coursejudge"
VENV_INSIDE = "/opt/venv"  # where the course's virtual environment appears in the sandbox
CGROUP_V1 = Path("/sys/fs/cgroup")
HIDDEN = ("/tmp", "/var/tmp", "/root", "/home", "/srv", "/dev/shm", "/opt")


class Sandbox:
    """One submission's isolation: `wrap(argv)` the kernel command, then `destroy()`."""

    def __init__(self, workdir: Path, isolation: "Isolation", limits, binds=None):
        self.workdir, self.isolation, self.limits = Path(workdir), isolation, limits
        self.run_dir = self.workdir.parent / "run"  # the kernel's connection file and sockets
        self.run_dir.mkdir(exist_ok=True)
        self.binds = binds or (self.workdir, self.run_dir)  # the folders the kernel may write
        self.connection_file = self.run_dir / "kernel.json"  # ipc sockets beside it: never TCP
        self.cgroups = []
        self.warnings = list(isolation.warnings)
        self.own(self.workdir)
        self.own(self.run_dir)

    def own(self, folder: Path):
        """Give `folder` and everything in it to the kernel's user."""
        user = self.isolation.user
        if user:
            for path in (folder, *folder.rglob("*")):
                os.chown(path, user.pw_uid, user.pw_gid)

    def kernel_env(self) -> dict:
        threads = str(self.limits.kernel_threads)
        env = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "PYTHONDONTWRITEBYTECODE": "1",
               "HOME": str(self.workdir), "PYTHONWARNINGS": "ignore",
               "COURSE_JUDGE_OF": str(course_config.ROOT)}  # whose kernel this is (for ps)
        venv_bin = f"{VENV_INSIDE}/bin" if self.isolation.bwrap else str(Path(sys.executable).parent)
        return {"PATH": f"{venv_bin}:/usr/bin:/bin", "LANG": "C.UTF-8", **env}  # nothing of the grader's

    def wrap(self, argv: list, cgroups=True) -> list:
        """The kernel command inside every layer this machine allows (outermost first): cgroups,
        the judge user, prlimit, bwrap."""
        if self.isolation.bwrap:  # the process limit inside: counted in the sandbox's own user namespace
            command = self._bwrap() + ["prlimit", f"--nproc={self.limits.processes}", "--",
                                       f"{VENV_INSIDE}/bin/python", *argv[1:]]
        else:
            command = [sys.executable if argv[0] in ("python", "python3") else argv[0], *argv[1:]]
        command = self._prlimit() + command
        if self.isolation.user:
            user = self.isolation.user
            command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                       "--no-new-privs", "--"] + command
            if self.connection_file.exists():
                os.chown(self.connection_file, user.pw_uid, user.pw_gid)
        if self.isolation.cgroups and cgroups:
            command = self._enter_cgroups() + command
        return command

    def adopt(self, pid: int):
        """Put process `pid` (the submission's forked kernel) into this submission's cgroups."""
        if self.isolation.cgroups:
            for group in self._make_cgroups():
                (group / "cgroup.procs").write_text(str(pid))

    def destroy(self):
        """Kill every process of this submission that is still alive, remove its cgroups."""
        for group in self.cgroups:
            _kill_cgroup(group)
        self.cgroups = []

    def _bwrap(self) -> list:
        venv = str(Path(sys.prefix))
        command = [self.isolation.bwrap_path, "--ro-bind", "/", "/", "--dev", "/dev", "--remount-ro", "/dev",
                   "--proc", "/proc"]  # /dev read-only: its nodes work, nothing new can be left there
        for hidden in self.writable_tmpfs():  # an empty, small, private folder in its place
            command += ["--size", str(self.limits.file_mb << 20), "--tmpfs", hidden]
        command += ["--ro-bind", venv, VENV_INSIDE]
        for folder in self.binds:
            command += ["--bind", str(folder), str(folder)]
        command += ["--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
                    "--chdir", str(self.workdir)]
        for key, value in self.kernel_env().items():
            command += ["--setenv", key, value]
        return command + ["--"]

    def writable_tmpfs(self) -> list:
        """The folders bwrap covers with an empty tmpfs (writable inside)."""
        return [hidden for hidden in HIDDEN + course_folders() if Path(hidden).exists()]

    def _prlimit(self) -> list:
        cpu = int(self.limits.notebook_s + self.limits.call_s * 20)
        limits = [f"--as={self.limits.memory_mb << 20}", f"--cpu={cpu}",
                  f"--fsize={self.limits.file_mb << 20}", "--nofile=256"]
        if self.isolation.user:  # the judge user's processes of every sandbox together (a backstop)
            limits.append(f"--nproc={self.limits.processes * 8 * (os.cpu_count() or 1)}")
        return ["prlimit", *limits, "--"]

    def _make_cgroups(self) -> list:
        if not self.cgroups:
            name = f"course-judge/{uuid.uuid4().hex[:12]}"
            for controller, settings in (("memory", {"memory.limit_in_bytes": self.limits.memory_mb << 20}),
                                         ("pids", {"pids.max": self.limits.processes})):
                group = CGROUP_V1 / controller / name
                group.mkdir(parents=True, exist_ok=True)
                for key, value in settings.items():
                    (group / key).write_text(str(value))
                self.cgroups.append(group)
        return self.cgroups

    def _enter_cgroups(self) -> list:
        self._make_cgroups()
        procs = " ".join(str(g / "cgroup.procs") for g in self.cgroups)
        # the shell puts itself into the cgroups, then becomes the kernel command
        return ["sh", "-c", f'for f in {procs}; do echo $$ > "$f"; done; exec "$@"', "sh"]


def _kill_cgroup(group: Path):
    """SIGKILL everything in `group` until it is empty (a fork loop refills it), then remove it."""
    for _ in range(200):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        except OSError:
            break
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
    try:
        group.rmdir()
    except OSError:
        pass


def course_folders() -> tuple:
    """Where the course's code lives (hidden checks, references, settings): never visible inside."""
    import autograder
    import reference_solutions
    folders = {course_config.ROOT, Path(autograder.__file__).parent.parent,
               Path(reference_solutions.__file__).parent.parent}
    return tuple(str(folder) for folder in sorted(folders))


class SandboxUnavailable(RuntimeError):
    """Grading refused: the student's code could read the course's files (no bubblewrap)."""


class Isolation:
    """What this machine allows, found once per process."""

    def __init__(self):
        self.warnings = []
        self.user = self._judge_user() if os.geteuid() == 0 else None
        self.bwrap_path = shutil.which(os.environ.get("COURSE_BWRAP", "bwrap"))
        self.bwrap = self.bwrap_path is not None and self._bwrap_works()
        self.cgroups = os.geteuid() == 0 and os.access(CGROUP_V1 / "pids", os.W_OK) and \
            os.access(CGROUP_V1 / "memory", os.W_OK)
        self.forks = self.bwrap and self._namespaces_inside()  # kernels may come from a factory
        if not self.bwrap:
            from autograder.messages import t
            self.warnings.append(t(
                "警告：本机没有可用的沙箱（bubblewrap），学生代码未经隔离运行（评分仍在学生进程之外）",
                "WARNING: no sandbox (bubblewrap) on this machine: student code ran unisolated "
                "(the verdict was still computed outside it)"))

    def refusal(self, allow_unisolated: bool) -> str:
        """Why grading must not go on here ("" when it may)."""
        if self.bwrap or allow_unisolated:
            return ""
        why = ("bubblewrap is not installed" if not self.bwrap_path else
               "bubblewrap cannot run here (are user namespaces refused?)")
        return (f"grading refused: {why}, so student code could read the course's files (hidden checks, "
                "references, gradebook). Install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`; "
                "Fedora: `sudo dnf install bubblewrap`), or set ALLOW_UNISOLATED = True in course_config.py "
                "to grade without it (every verdict then says so).")

    def describe(self) -> str:
        parts = [f"bwrap={'on' if self.bwrap else 'OFF'}",
                 f"user={self.user.pw_name if self.user else ('self' if os.geteuid() else 'ROOT')}",
                 "prlimit=on", f"processes={'per-sandbox' if self.bwrap else ('user' if self.user else 'OFF')}",
                 f"cgroups={'v1' if self.cgroups else 'off'}", f"kernel-namespaces={'on' if self.forks else 'off'}"]
        return " ".join(parts)

    @staticmethod
    def _judge_user():
        try:
            return pwd.getpwnam(JUDGE_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                            JUDGE_USER], check=False, capture_output=True)
        try:
            return pwd.getpwnam(JUDGE_USER)
        except KeyError:
            return None

    def _namespaces_inside(self) -> bool:
        """Can a process inside the sandbox give a kernel namespaces of its own (a nested user
        namespace: some containers refuse it)? Then kernels fork from a warm factory."""
        probe = ("import ctypes, sys; sys.exit(ctypes.CDLL(None).unshare("
                 "0x10000000 | 0x20000 | 0x20000000 | 0x40000000 | 0x08000000))")
        workdir = Path(tempfile.mkdtemp(prefix="judge-probe-")) / "work"
        os.chmod(workdir.parent, 0o711)  # the kernel's user may pass through
        workdir.mkdir()
        box = Sandbox(workdir, self, course_config.LIMITS)
        try:
            return subprocess.run(box.wrap(["python", "-c", probe], cgroups=False), env=box.kernel_env(),
                                  capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False
        finally:
            shutil.rmtree(box.workdir.parent, ignore_errors=True)

    def _bwrap_works(self) -> bool:
        """Can the judge user start the course's Python inside bwrap? (the venv must be reachable)"""
        command = [self.bwrap_path, "--ro-bind", "/", "/", "--tmpfs", "/opt", "--ro-bind", sys.prefix, VENV_INSIDE,
                   "--unshare-all", "--die-with-parent", "--", f"{VENV_INSIDE}/bin/python", "-c", "import ipykernel"]
        if self.user:
            command = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                       "--clear-groups", "--no-new-privs", "--"] + command
        try:
            return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


@functools.cache
def isolation() -> Isolation:
    return Isolation()


def for_submission(workdir: Path, limits) -> Sandbox:
    """The submission's sandbox; SandboxUnavailable where grading must not go on (no bubblewrap)."""
    refusal = isolation().refusal(course_config.ALLOW_UNISOLATED)
    if refusal:
        raise SandboxUnavailable(refusal)
    return Sandbox(workdir, isolation(), limits)


def for_factory(scratch_root: Path, limits) -> Sandbox:
    """The kernel factory's sandbox: the whole scratch root writable (each forked kernel then
    hides all of it but its own folder)."""
    workdir = scratch_root / "factory"
    workdir.mkdir()
    box = Sandbox(workdir, isolation(), limits, binds=(scratch_root,))
    box.own(scratch_root)
    return box
