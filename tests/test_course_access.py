"""The course root closed to other accounts whatever the umask (autograder/course_access.py): without the hub
the root is closed entirely; on the hub others pass through it (to .venv and hub/) and every other top-level
entry is closed; what cannot be closed is refused, in Chinese and English, or said and left."""
import os
import pwd
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from autograder import course_access
from tests.conftest import ordinary_user


@pytest.fixture
def place():
    """A fresh folder every account may pass through (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="course-access-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _course(place, hub: bool):
    root = place / "course"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    for name in ("source", "autograded", "notes") + (("hub", ".venv") if hub else ()):
        (root / name).mkdir()
        os.chmod(root / name, 0o755)
    for name in ("gradebook.db", "roster.csv"):
        (root / name).write_text("")
        os.chmod(root / name, 0o664)
    (root / "linked").symlink_to(place)
    return root


def test_without_the_hub_the_root_is_closed_entirely(place):
    root = _course(place, hub=False)
    changes = course_access.close(root, say=lambda _: None)
    assert _mode(root) == 0o750 and _mode(root / "gradebook.db") == 0o600
    assert _mode(root / "notes") == 0o755, "unreachable behind the root: left as it is"
    assert len(changes) == 2 and all("/" in line and "→" in line and "->" in line for line in changes), changes
    assert course_access.close(root) == []  # closed: nothing to do


def test_on_the_hub_others_pass_through_to_venv_and_hub_and_nothing_else(place):
    root = _course(place, hub=True)
    linked = _mode(place)
    os.chmod(root, 0o700)  # an instructor who closed it too far: students' servers need to pass
    course_access.close(root, say=lambda _: None)
    assert _mode(root) == 0o701
    assert {name: _mode(root / name) for name in ("source", "autograded", "notes", "hub", ".venv")} == \
        {"source": 0o750, "autograded": 0o750, "notes": 0o750, "hub": 0o755, ".venv": 0o755}
    assert _mode(root / "roster.csv") == 0o660 and _mode(root / "gradebook.db") == 0o600
    assert _mode(place) == linked, "a link's target is not the course's: never changed"


def test_what_cannot_be_closed_is_refused_with_the_fix_or_said_and_left(place):
    user = ordinary_user()
    if not user:
        pytest.skip("needs root to make a path the course's owner cannot change")
    root = _course(place, hub=True)
    account = pwd.getpwnam(user)
    for path in (root, *root.iterdir()):
        os.lchown(path, account.pw_uid, account.pw_gid)
    os.chown(root / "notes", 0, 0)  # made by root: its owner (the grading service) cannot change it
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # as the course's owner, as the grading service runs
        os.close(read)
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)
        said = []
        try:
            course_access.close(root, say=said.append)
            outcome = "closed"
        except course_access.CourseOpen as refused:
            outcome = str(refused)
        course_access.close(root, strict=False, say=said.append)
        os.write(write, "\n".join([outcome, *said]).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as f:
        outcome, *said = f.read().split("\n")
    assert str(root / "notes") in outcome and "无法关闭" in outcome and "could not be closed" in outcome, outcome
    assert "chmod o-rwx" in outcome and outcome.index("无法关闭") < outcome.index("could not be closed")
    assert _mode(root / "source") == 0o750, "what could be closed was closed"
    assert any(str(root / "notes") in line for line in said) and _mode(root / "notes") == 0o755
