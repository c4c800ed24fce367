"""Per-submission control groups: memory and process-count limits that bind whoever runs the
kernel (root too), and a way to kill every process of a submission at once.

  v1  as root: /sys/fs/cgroup/{memory,pids}/course-judge/<id> (memory.limit_in_bytes, pids.max)
  v2  a subtree delegated to the grader: `COURSE_CGROUP` names one (a cgroup2 folder this user
      may write, with the memory and pids controllers available), else the grader's own cgroup
      when it is delegated: an ordinary user's writable cgroup (e.g. in `systemd-run --user
      --scope -p Delegate=yes ...`), or a container's own cgroup namespace as root. A cgroup with
      children may hold no process, so the subtree's own processes move into a leaf
      (`course-grader`) and each submission gets a child with memory.max and pids.max.

`controller()` finds what this process may use, once; `Controller.group(limits)` makes one
submission's group.
"""
import os
import time
import uuid
from pathlib import Path

V1 = Path("/sys/fs/cgroup")
LEAF = "course-grader"  # where the v2 subtree's own processes live
NEEDED = ("memory", "pids")


class Group:
    """One submission's cgroup(s): `procs` are the files a pid is written to; `kill()` empties
    and removes them."""

    def __init__(self, folders: list):
        self.folders = folders

    @property
    def procs(self) -> list:
        return [folder / "cgroup.procs" for folder in self.folders]

    def add(self, pid: int):
        for procs in self.procs:
            procs.write_text(str(pid))

    def kill(self):
        """SIGKILL everything in the group until it is empty (a fork loop refills it), then remove it."""
        for folder in self.folders:
            try:
                (folder / "cgroup.kill").write_text("1")  # v2 (Linux 5.14+): the kernel does it at once
            except OSError:
                pass
            for _ in range(200):
                try:
                    pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
                except (OSError, ValueError):
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
                folder.rmdir()
            except OSError:
                pass


class Controller:
    """What this process may use: kind "v1", "v2" or "" (none; `why` says why)."""

    def __init__(self, kind: str, base: Path = None, why: str = ""):
        self.kind, self.base, self.why = kind, base, why

    def group(self, limits) -> Group:
        name = f"judge-{uuid.uuid4().hex[:12]}"
        if self.kind == "v1":
            settings = {"memory": {"memory.limit_in_bytes": limits.memory_mb << 20},
                        "pids": {"pids.max": limits.processes}}
            folders = [self.base / controller / "course-judge" / name for controller in settings]
            values = list(settings.values())
        else:
            folders = [self.base / name]
            values = [{"memory.max": limits.memory_mb << 20, "memory.swap.max": 0, "pids.max": limits.processes}]
        for folder, settings in zip(folders, values):
            folder.mkdir(parents=True, exist_ok=True)
            for key, value in settings.items():
                try:
                    (folder / key).write_text(str(value))
                except OSError:
                    if key != "memory.swap.max":  # absent where the kernel has no swap accounting
                        raise
        return Group(folders)


def find(environ=os.environ, root: Path = Path("/")) -> Controller:
    """The cgroups this process may use (`root` moves /proc and /sys, for tests)."""
    v2 = _v2(environ, root)
    if v2.kind:
        return v2
    if os.geteuid() == 0 and all(os.access(root / V1.relative_to("/") / c, os.W_OK) for c in NEEDED) \
            and all((root / V1.relative_to("/") / c / "tasks").exists() for c in NEEDED):
        return Controller("v1", root / V1.relative_to("/"))
    return Controller("", why=v2.why)


def _v2(environ, root: Path) -> Controller:
    base = environ.get("COURSE_CGROUP")
    if not base:
        mount, own = _v2_mount(root), _own_v2_path(root)
        if mount is None or own is None:
            return Controller("", why="no cgroup v2 hierarchy")
        if os.geteuid() == 0 and own != "/":  # root may write any cgroup: only a delegated one is ours
            return Controller("", why="cgroup v2: as root, name a delegated subtree in COURSE_CGROUP")
        base = mount / own.lstrip("/")
    base = Path(base)
    if base.name == LEAF:  # a process started after the move: the subtree is the leaf's parent
        base = base.parent
    try:
        available = (base / "cgroup.controllers").read_text().split()
    except OSError:
        return Controller("", why=f"cgroup v2: {base} cannot be read")
    missing = [c for c in NEEDED if c not in available]
    if missing:
        return Controller("", why=f"cgroup v2: {base} has no {'/'.join(missing)} controller")
    if not (os.access(base / "cgroup.procs", os.W_OK) and os.access(base / "cgroup.subtree_control", os.W_OK)):
        return Controller("", why=f"cgroup v2: {base} is not delegated to this user")
    try:
        _enable_for_children(base)
    except OSError as error:
        return Controller("", why=f"cgroup v2: cannot enable memory and pids under {base} ({error})")
    return Controller("v2", base)


def _enable_for_children(base: Path):
    """Move the subtree's own processes into its leaf, then enable memory and pids for children."""
    for attempt in range(20):
        if set(NEEDED) <= set((base / "cgroup.subtree_control").read_text().split()):
            return
        leaf = base / LEAF
        leaf.mkdir(exist_ok=True)
        for pid in (base / "cgroup.procs").read_text().split():
            try:
                (leaf / "cgroup.procs").write_text(pid)
            except OSError:  # gone, or not ours
                pass
        try:
            (base / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in NEEDED))
            return
        except OSError:
            if attempt == 19:
                raise
            time.sleep(0.05)  # a process started meanwhile: move it too


def _v2_mount(root: Path):
    try:
        lines = (root / "proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(" - ")
        if len(fields) == 2 and fields[1].split()[0] == "cgroup2":
            return root / fields[0].split()[4].lstrip("/")
    return None


def _own_v2_path(root: Path):
    try:
        lines = (root / "proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            return line[3:]
    return None
