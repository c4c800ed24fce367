"""cgroups (autograder/engine/cgroups.py): which kind this grader may use, and what it writes.

This machine has cgroup v1 memory and pids (used as root, and measured from inside a kernel in
test_sandbox.py) and a v2 tree without those controllers, so v2 is tested on a folder laid out
like a delegated cgroup2 subtree: what is found, refused with its reason, and written."""
import subprocess
from pathlib import Path


import course_config
from autograder.engine import cgroups

LIMITS = course_config.LIMITS
SCOPE = "user.slice/user-1000.slice/user@1000.service/app.slice/grading.scope"


def host(tmp_path: Path, controllers="cpu memory pids", own=SCOPE) -> Path:
    """A root folder with /proc/self/{mountinfo,cgroup} and a cgroup2 tree at /sys/fs/cgroup."""
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/mountinfo").write_text(
        "25 1 0:23 / / rw - ext4 /dev/vda rw\n30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n")
    (tmp_path / "proc/self/cgroup").write_text(f"0::/{own}\n")
    base = tmp_path / "sys/fs/cgroup" / own
    base.mkdir(parents=True)
    (base / "cgroup.controllers").write_text(controllers + "\n")
    (base / "cgroup.subtree_control").write_text("\n")
    (base / "cgroup.procs").write_text("4242\n")
    return base


def test_an_ordinary_users_delegated_cgroup_is_used(tmp_path, monkeypatch):
    base = host(tmp_path)
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 1000)
    found = cgroups.find({}, tmp_path)
    assert (found.kind, found.base) == ("v2", base)
    # its own processes moved into the leaf, memory and pids enabled for the submissions' groups
    assert (base / cgroups.LEAF / "cgroup.procs").read_text() == "4242"
    assert (base / "cgroup.subtree_control").read_text() == "+memory +pids"


def test_a_process_started_in_the_leaf_uses_the_same_subtree(tmp_path, monkeypatch):
    base = host(tmp_path, own=f"{SCOPE}/{cgroups.LEAF}")
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 1000)
    (base.parent / "cgroup.controllers").write_text("memory pids\n")
    (base.parent / "cgroup.subtree_control").write_text("memory pids\n")
    (base.parent / "cgroup.procs").write_text("")
    assert cgroups.find({}, tmp_path).base == base.parent


def test_as_root_only_a_named_subtree_is_used(tmp_path, monkeypatch):
    base = host(tmp_path)
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 0)
    refused = cgroups.find({}, tmp_path)
    assert refused.kind == "" and "COURSE_CGROUP" in refused.why
    named = cgroups.find({"COURSE_CGROUP": str(base)}, tmp_path)
    assert (named.kind, named.base) == ("v2", base)


def test_a_subtree_without_the_controllers_is_refused_with_the_reason(tmp_path, monkeypatch):
    host(tmp_path, controllers="cpu hugetlb")
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 1000)
    found = cgroups.find({}, tmp_path)
    assert found.kind == "" and "no memory/pids controller" in found.why


def test_a_submissions_v2_group_has_its_limits_and_kill_empties_it(tmp_path, monkeypatch):
    base = host(tmp_path)
    group = cgroups.Controller("v2", base).group(LIMITS)
    folder, = group.folders
    assert folder.parent == base
    assert (folder / "memory.max").read_text() == str(LIMITS.memory_mb << 20)
    assert (folder / "pids.max").read_text() == str(LIMITS.processes)
    assert (folder / "memory.swap.max").read_text() == "0"
    sleeper = subprocess.Popen(["sleep", "60"])
    group.add(sleeper.pid)
    assert (folder / "cgroup.procs").read_text() == str(sleeper.pid)
    group.kill()
    assert sleeper.wait(timeout=5) == -9 and (folder / "cgroup.kill").read_text() == "1"

