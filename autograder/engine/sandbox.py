"""How a submission's kernel is isolated on this machine.

The kernel command is wrapped, outermost first, by:
  cgroups                memory and process-count limits that bind root too (v1 as root, or a
                         delegated v2 subtree: cgroups.py); emptied (every process killed) when
                         the submission is done
  reveal (root only)     where the kernel's user may not reach the course's Python (a venv or
                         an interpreter under /root, mode 700), it is bound where it lives in a
                         private mount namespace (reveal.py)
  setpriv (root only)    a dedicated unprivileged user, no new privileges (never bwrap as root:
                         it keeps its capabilities and can remount read-only binds writable)
  prlimit                address space (not for a CUDA kernel: a CUDA context reserves far more
                         than it uses), CPU time, file size, open files; as root the judge
                         user's processes of every sandbox together
  bwrap                  no network (loopback only, in its own namespace), a private /tmp,
                         the course root, /root, /home, /srv, /opt hidden (the course's Python
                         bound back), the engine's TLS files empty (channel.credential_files),
                         /dev read-only with the GPU's nodes for a CUDA kernel; its
                         own PID namespace, so every process the kernel started dies with it;
                         inside it, the process limit counted in its own user namespace
Without bwrap, grading stops unless course_config.ALLOW_UNISOLATED; then every other layer
still applies, and every verdict and the command's output say what is off. The verdict never
depends on the sandbox: it is computed outside the kernel either way.
"""
import functools
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import course_config
from autograder.engine import cgroups as cgroup_kinds
from autograder.engine import channel

JUDGE_USER = "coursejudge"
VENV_INSIDE = "/opt/venv"  # where the course's virtual environment appears in the sandbox
HIDDEN = ("/tmp", "/var/tmp", "/root", "/home", "/srv", "/dev/shm", "/opt")
GPU_NODES = ("nvidia*", "nvidia-caps/*", "dri/*")  # under /dev
GPU_ENV = ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "LD_LIBRARY_PATH")  # passed to a CUDA kernel
REVEAL = Path(__file__).with_name("reveal.py")


class Sandbox:
    """One submission's isolation: `wrap(argv)` the kernel command, then `destroy()`.
    device "cuda": the GPU's device nodes and driver environment inside, no address-space limit."""

    def __init__(self, workdir: Path, isolation: "Isolation", limits, binds=None, device: str = "cpu"):
        self.workdir, self.isolation, self.limits = Path(workdir), isolation, limits
        self.gpu = device == "cuda"
        self.launches = 0
        self.new_run_dir()
        self._binds = binds  # the folders the kernel may write (default: its work and run folders)
        self.group = None  # the submission's cgroups, made on first use
        self.warnings = list(isolation.warnings)
        if self.gpu and not isolation.cgroups.kind:
            from autograder.messages import t
            self.warnings.append(t("警告：CUDA 内核没有内存上限（无地址空间限制，也无 cgroup）",
                                   "WARNING: the CUDA kernel's memory was unbounded (no address-space limit, "
                                   "no cgroup)"))
        self.own(self.workdir)

    @property
    def binds(self) -> tuple:
        return self._binds or (self.workdir, self.run_dir)

    def new_run_dir(self) -> Path:
        """A fresh folder for the next kernel's connection file and sockets (ipc: never TCP),
        made here and given to the kernel's user. Each launch gets its own: nothing the
        grader writes or binds lies in a folder a previous kernel could have written."""
        self.launches += 1
        self.run_dir = self.workdir.parent / f"run-{self.launches}"
        os.mkdir(self.run_dir, 0o700)  # fails if anything (a planted link) is there already
        self.own(self.run_dir)
        self.connection_file = self.run_dir / "kernel.json"
        return self.run_dir

    def own(self, path: Path):
        """Give `path` itself (a folder or file the grader has just made, never a tree the kernel
        could have written) to the kernel's user; a link is changed, not followed."""
        user = self.isolation.user
        if user:
            os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)

    def kernel_env(self) -> dict:
        threads = str(self.limits.kernel_threads)
        env = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "PYTHONDONTWRITEBYTECODE": "1",
               "HOME": str(self.workdir), "PYTHONWARNINGS": "ignore",
               "COURSE_JUDGE_OF": str(course_config.ROOT)}  # whose kernel this is (for ps)
        if self.gpu:
            env.update({key: os.environ[key] for key in GPU_ENV if key in os.environ})
        venv_bin = f"{VENV_INSIDE}/bin" if self.isolation.bwrap else str(Path(sys.executable).parent)
        return {"PATH": f"{venv_bin}:/usr/bin:/bin", "LANG": "C.UTF-8", **env}  # nothing of the grader's

    def describe(self) -> str:
        """The isolation line: which layers are on for this kernel."""
        if self.isolation.cgroups.kind:
            memory = "cgroup" if self.gpu else "address-space+cgroup"
        else:
            memory = "OFF(cuda)" if self.gpu else "address-space"
        return f"{self.isolation.describe()} memory={memory} device={'cuda' if self.gpu else 'cpu'}"

    def wrap(self, argv: list, cgroups=True) -> list:
        """The kernel command inside every layer this machine allows (outermost first): cgroups,
        reveal, the judge user, prlimit, bwrap."""
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
                self.own(self.connection_file)
            command = self._reveal() + command
        if self.isolation.cgroups.kind and cgroups:
            command = self._enter_cgroups() + command
        return command

    def adopt(self, pid: int):
        """Put process `pid` (the submission's forked kernel) into this submission's cgroups."""
        if self.isolation.cgroups.kind:
            self._cgroup().add(pid)

    def destroy(self):
        """Kill every process of this submission that is still alive, remove its cgroups."""
        if self.group:
            self.group.kill()
            self.group = None

    def _bwrap(self) -> list:
        for folder in self.binds:
            mount_point_is_safe(Path(folder))
        command = [self.isolation.bwrap_path, "--ro-bind", "/", "/", "--dev", "/dev"]
        if self.gpu:
            for host, inside in self.isolation.gpu_nodes:
                command += ["--dev-bind", host, inside]
        command += ["--remount-ro", "/dev", "--proc", "/proc"]  # /dev read-only: its nodes work, nothing new
        for hidden in self.isolation.hidden:  # an empty, small, private folder in its place
            command += ["--size", str(self.limits.file_mb << 20), "--tmpfs", hidden]
        # the engine's TLS files where no hidden folder covers them (found at each launch: a worker's
        # own files are known only inside its tasks): /dev/null in their place
        for hidden in channel.credential_files():
            if not _under(hidden, self.isolation.hidden):
                mount_point_is_safe(Path(hidden))
                command += ["--ro-bind", "/dev/null", hidden]
        for host, inside in self.isolation.python_folders:
            command += ["--ro-bind", host, inside]
        for folder in self.binds:
            command += ["--bind", str(folder), str(folder)]
        command += ["--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
                    "--chdir", str(self.workdir)]
        for key, value in self.kernel_env().items():
            command += ["--setenv", key, value]
        return command + ["--"]

    def _reveal(self) -> list:
        """As root: the course's Python made reachable for the judge user where it is not."""
        if not self.isolation.bwrap:
            return []
        user = self.isolation.user
        hosts = [host for host, _ in self.isolation.python_folders]
        blocked = sorted({_blocked_at(host, user) for host in hosts} - {None})
        if not blocked:
            return []
        return [sys.executable, "-I", str(REVEAL), json.dumps(hosts), json.dumps(blocked), "--"]

    def _prlimit(self) -> list:
        cpu = int(self.limits.notebook_s + self.limits.call_s * 20)
        limits = [f"--cpu={cpu}", f"--fsize={self.limits.file_mb << 20}", "--nofile=256"]
        if not self.gpu:  # a CUDA context reserves tens of GiB of address space: its cgroup bounds it
            limits.insert(0, f"--as={self.limits.memory_mb << 20}")
        if self.isolation.user:  # the judge user's processes of every sandbox together (a backstop)
            limits.append(f"--nproc={self.limits.processes * 8 * (os.cpu_count() or 1)}")
        elif not self.isolation.bwrap:  # an ordinary user without bwrap: counted over all its processes
            limits.append(f"--nproc={_tasks_of(os.getuid()) + self.limits.processes}")
        return ["prlimit", *limits, "--"]

    def _cgroup(self):
        if self.group is None:
            self.group = self.isolation.cgroups.group(self.limits)
        return self.group

    def _enter_cgroups(self) -> list:
        procs = " ".join(f'"{path}"' for path in self._cgroup().procs)
        # the shell puts itself into the cgroups, then becomes the kernel command
        return ["sh", "-c", f'for f in {procs}; do echo $$ > "$f"; done; exec "$@"', "sh"]


class SandboxUnsafe(RuntimeError):
    """A folder bwrap would mount lies where student code could have written (a link, or a
    parent it may write): bwrap is not launched over it."""


def mount_point_is_safe(folder: Path):
    """Raise SandboxUnsafe unless no component of `folder` is a link and every folder above it is
    the grader's (or root's) and writable by nobody else. bwrap creates its mount points under
    the new root by following paths (CVE-2026-87766, fixed in bubblewrap 0.12.0, follows a parent
    link onto the host): with such paths there is no link for it to follow."""
    path = Path("/")
    for part in folder.parts[1:]:
        path = path / part
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            raise SandboxUnsafe(f"refusing to mount {folder}: {path} is a link")
        if path != folder and path.parent != Path("/") and (
                info.st_uid not in (0, os.geteuid()) or (info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX)):
            raise SandboxUnsafe(f"refusing to mount {folder}: {path} may be written by others")


def _tasks_of(uid: int) -> int:
    """How many processes and threads `uid` runs now (what RLIMIT_NPROC counts)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count


def _under(path: str, folders) -> bool:
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


def _blocked_at(path: str, user):
    """The outermost folder on the way to `path` that `user` may not pass, or None."""
    parts = Path(path).parts
    for depth in range(2, len(parts)):  # its folders below /
        folder = Path(*parts[:depth])
        info = os.stat(folder)
        if info.st_uid == user.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == user.pw_gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return str(folder)
    return None


def python_folders(hidden: list) -> list:
    """(host folder, folder inside) of the course's Python: the venv, and its interpreter where
    the sandbox would hide it (uv, pyenv and conda keep theirs under /root, /home or /opt)."""
    folders = [(str(Path(sys.prefix)), VENV_INSIDE)]
    for base in {os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}:
        if _under(base, hidden) and not any(_under(course, [base]) for course in course_folders()):
            folders.append((base, base))
    return folders


def course_folders() -> tuple:
    """Where the course's code lives (hidden checks, references, settings): never visible inside."""
    import autograder
    import reference_solutions
    folders = {course_config.ROOT, Path(autograder.__file__).parent.parent,
               Path(reference_solutions.__file__).parent.parent}
    return tuple(str(folder) for folder in sorted(folders))


def gpu_device_nodes(dev: Path = Path("/dev")) -> list:
    """The GPU's device nodes on this host (NVIDIA's and DRM's), as present: [(host, inside)]."""
    nodes = sorted(str(node) for pattern in GPU_NODES for node in dev.glob(pattern) if node.is_char_device())
    return [(node, node) for node in nodes]


class SandboxUnavailable(RuntimeError):
    """Grading refused: the student's code could read the course's files (no bubblewrap)."""


class Isolation:
    """What this machine allows, found once per process."""

    def __init__(self):
        self.user = self._judge_user() if os.geteuid() == 0 else None
        # the folders bwrap covers with an empty tmpfs (writable inside), and what it binds back
        self.hidden = [hidden for hidden in HIDDEN + course_folders() if Path(hidden).exists()]
        self.python_folders = python_folders(self.hidden)
        self.cgroups = cgroup_kinds.find()
        self.gpu_nodes = gpu_device_nodes()
        self.bwrap_path = shutil.which(os.environ.get("COURSE_BWRAP", "bwrap"))
        self.bwrap, self.why_no_bwrap = False, "bubblewrap is not installed"
        if self.bwrap_path:
            self.bwrap, self.why_no_bwrap = self._bwrap_works()
        self.forks = self.bwrap and self._namespaces_inside()  # kernels may come from a factory
        self.warnings = [] if self.bwrap else [self._unisolated_warning()]

    def refusal(self, allow_unisolated: bool) -> str:
        """Why grading must not go on here ("" when it may)."""
        if self.bwrap or allow_unisolated:
            return ""
        return (f"grading refused: {self.why_no_bwrap}, so student code could read the course's files (hidden "
                "checks, references, gradebook). Install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`; "
                "Fedora: `sudo dnf install bubblewrap`), or set ALLOW_UNISOLATED = True in course_config.py "
                f"to grade without it (every verdict then says so). [{self.describe()}]")

    def describe(self) -> str:
        """Which layers are on (the isolation line)."""
        user = self.user.pw_name if self.user else ("self" if os.geteuid() else "ROOT")
        processes = "per-sandbox" if self.bwrap else "user"
        cgroups = self.cgroups.kind or "off"
        return (f"bwrap={'on' if self.bwrap else 'OFF'} user={user} prlimit=on processes={processes} "
                f"cgroups={cgroups} kernel-namespaces={'on' if self.forks else 'off'}")

    def _unisolated_warning(self) -> str:
        from autograder.messages import t
        off_zh = "文件隔离（课程文件可读）、网络隔离、进程命名空间"
        off_en = "file isolation (the course's files were readable), network isolation, PID namespace"
        return t(f"警告：沙箱不可用（{self.why_no_bwrap}），学生代码未经隔离运行；关闭的：{off_zh}；"
                 f"仍有：资源上限（prlimit）" + ("、评分专用用户" if self.user else "")
                 + ("、cgroup" if self.cgroups.kind else "") + "（评分仍在学生进程之外）",
                 f"WARNING: no sandbox ({self.why_no_bwrap}): student code ran unisolated; off: {off_en}; "
                 f"still on: prlimit" + (f", user {self.user.pw_name}" if self.user else "")
                 + (f", cgroups {self.cgroups.kind}" if self.cgroups.kind else "")
                 + " (the verdict was still computed outside it)")

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

    def _probe(self, source: str):
        """Run `source` in a sandbox like a kernel's (no cgroups): the finished process."""
        workdir = Path(tempfile.mkdtemp(prefix="judge-probe-")) / "work"
        os.chmod(workdir.parent, 0o711)  # the kernel's user may pass through
        workdir.mkdir()
        box = Sandbox(workdir, self, course_config.LIMITS)
        try:
            return subprocess.run(box.wrap(["python", "-c", source], cgroups=False), env=box.kernel_env(),
                                  capture_output=True, text=True, timeout=60)
        finally:
            shutil.rmtree(box.workdir.parent, ignore_errors=True)

    def _bwrap_works(self) -> tuple:
        """(works, why not): can the judge user start the course's Python with ipykernel inside bwrap?"""
        self.bwrap, self.forks, self.warnings = True, False, []
        try:
            run = self._probe("import ipykernel")
        except (OSError, subprocess.TimeoutExpired) as error:
            return False, f"bubblewrap could not start ({error})"
        if run.returncode == 0:
            return True, ""
        said = (run.stderr.strip().splitlines() or ["no message"])[-1][:200]
        if "namespace" in said or "uid map" in said:
            return False, f"bubblewrap cannot run here: user namespaces are refused ({said})"
        return False, f"bubblewrap cannot run here ({said})"

    def _namespaces_inside(self) -> bool:
        """Can a process inside the sandbox give a kernel namespaces of its own (a nested user
        namespace: some containers refuse it)? Then kernels fork from a warm factory."""
        probe = ("import ctypes, sys; sys.exit(ctypes.CDLL(None).unshare("
                 "0x10000000 | 0x20000 | 0x20000000 | 0x40000000 | 0x08000000))")
        try:
            return self._probe(probe).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


@functools.cache
def isolation() -> Isolation:
    return Isolation()


def for_submission(workdir: Path, limits, device: str = "cpu") -> Sandbox:
    """The submission's sandbox; SandboxUnavailable where grading must not go on (no bubblewrap)."""
    refusal = isolation().refusal(course_config.ALLOW_UNISOLATED)
    if refusal:
        raise SandboxUnavailable(refusal)
    return Sandbox(workdir, isolation(), limits, device=device)


def for_factory(scratch_root: Path, limits, device: str = "cpu") -> Sandbox:
    """The kernel factory's sandbox: the whole scratch root writable (each forked kernel then
    hides all of it but its own folder)."""
    workdir = scratch_root / "factory"
    workdir.mkdir()
    box = Sandbox(workdir, isolation(), limits, binds=(scratch_root,), device=device)
    box.own(scratch_root)  # the factory makes each kernel's folder in it; the folders it holds are the grader's
    return box
