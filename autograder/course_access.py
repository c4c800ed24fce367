"""The course root closed to other accounts (students with a shell on the grading host), whatever the
umask its files were made with. Checked at each start of the hub (autograder/tools/hub.py, as root)
and of the grading service (autograder/service.py, as the course's owner), and at each listing of
the service.

The rule: others never read or write the course root. Where the course runs on the hub (its hub/
folder exists), they may pass through it (x, no listing), because every student's server runs from
.venv and reads the student set-up in hub/student/; then every other top-level entry (the checks,
the references, the gradebook, submitted/, a folder the instructor made later with umask 022) is
closed to them. Elsewhere the root is closed to them entirely. The results and the gradebook are
closed to the group too (a group of TAs keeps the root).
"""
import os
import stat
from pathlib import Path

from autograder.messages import t

OPEN_ON_HUB = (".venv", "hub")  # what students' servers reach on the hub; hub/ keeps its state 0600
RESULTS = "grading_results"
CLOSED_TO_GROUP = (RESULTS, "gradebook.db")


class CourseOpen(SystemExit):
    """The course root is open to other accounts and could not be closed (the message: zh + en)."""


def on_hub(root: Path) -> bool:
    return (root / "hub").is_dir()


def close(root: Path, strict: bool = True, say=print) -> list:
    """Close what the rule says is open; one line per change (each also given to `say`).
    Where a path cannot be closed (not its owner): CourseOpen when `strict`, else said and left."""
    root = Path(root)
    passable = on_hub(root)
    wanted = [(root, 0o006 if passable else 0o007, 0o001 if passable else 0)]
    for entry in _entries(root):
        if passable and entry.name not in OPEN_ON_HUB:
            wanted.append((entry, 0o007, 0))
    for name in CLOSED_TO_GROUP:
        wanted.append((root / name, 0o077, 0))
    changes = []
    for path, closed, opened in wanted:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):  # its target is elsewhere: the link's own mode means nothing
            continue
        mode = stat.S_IMODE(info.st_mode)
        new = mode & ~closed | opened
        if new == mode:
            continue
        try:
            os.chmod(path, new, follow_symlinks=False)
        except OSError as error:
            message = t(f"课程目录中的 {path} 对其他账户开放（模式 {mode:o}），且无法关闭（{error.strerror}）："
                        f"请由其所有者运行 chmod {_mode_word(closed, opened)} {path}",
                        f"{path} in the course is open to other accounts (mode {mode:o}) and could not be "
                        f"closed ({error.strerror}): its owner should run chmod {_mode_word(closed, opened)} {path}")
            if strict:
                raise CourseOpen(message) from None
            say(message)
            continue
        line = t(f"{path}: 模式 {mode:o} → {new:o}（对其他账户关闭）", f"{path}: mode {mode:o} -> {new:o} "
                 "(closed to other accounts)")
        changes.append(line)
        say(line)
    return changes


def _entries(root: Path) -> list:
    try:
        return sorted(root.iterdir())
    except OSError:
        return []


def _mode_word(closed: int, opened: int) -> str:
    who = "o" if closed == 0o007 or closed == 0o006 else "go"
    what = "rw" if closed == 0o006 else "rwx"
    return f"{who}-{what}" + (",o+x" if opened else "")
