"""What an entry of the exchange's inbound folder must be to count as its student's submission:
a real folder (no link, FIFO or file) named <student>+<assignment>+..., owned, with everything in
it, by the account of that student id; the id a valid one (letters, digits, _ . -: no path, no
wildcard, no "+"), and on the roster when course_config.ROSTER exists. nbgrader's own collect only
warns when the owner differs; the grading service (autograder/service.py) and the course's collect
(plugins/collect.py) refuse.
"""
import csv
import os
import pwd
import re
import stat
from pathlib import Path

import course_config
from autograder.engine import nofollow

STUDENT_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def refusal(entry: Path, student: str) -> str:
    """Why `entry` is not a submission of `student` ("" when it is one)."""
    if not STUDENT_ID.fullmatch(student):
        return f"{student!r} is not a student id (letters, digits, _ . -)"
    listed = roster()
    if listed is not None and student not in listed:
        return f"{student!r} is not on the roster ({course_config.ROSTER.name})"
    try:
        account = pwd.getpwnam(student)
    except KeyError:
        return f"no account {student!r} on this host"
    try:
        info = os.lstat(entry)
        if not stat.S_ISDIR(info.st_mode):
            return "not a folder (a link, a FIFO or a file)"
        if info.st_uid != account.pw_uid:
            return f"owned by uid {info.st_uid}, not by {student} (uid {account.pw_uid})"
        stranger = _owned_by_another(entry, account.pw_uid)
    except OSError as error:
        return f"could not be read: {error.strerror}"
    return f"{stranger} is not owned by {student}" if stranger else ""


def roster():
    """The ids of course_config.ROSTER (nbgrader's `db student import` CSV: an `id` column), or None
    without one."""
    try:
        text = nofollow.read_file(course_config.ROSTER, 4 << 20).decode("utf-8-sig")
    except FileNotFoundError:
        return None
    return {row.get("id", "").strip() for row in csv.DictReader(text.splitlines())}


def _owned_by_another(folder: Path, uid: int) -> str:
    """The first entry under `folder` (links not followed) that `uid` does not own ("" when none)."""
    for where, dirs, names, dir_fd in os.fwalk(folder, follow_symlinks=False):
        for name in dirs + names:
            if os.lstat(name, dir_fd=dir_fd).st_uid != uid:
                return os.path.relpath(os.path.join(where, name), folder)
    return ""
