"""Late work: what a submission loses for arriving after its due date (course_config.LatePolicy).

    late_penalty(policy, score, seconds_late) -> Late(points, percent, why)

nbgrader computes `seconds_late` from the submission's time and the gradebook's due date plus the
student's extension; plugins/late.py hands it here. The due date itself comes from the policy
(`apply_due_dates`, at the start of `nbgrader autograde`). The time that counts is one the student
cannot write: `arrival_time` of an inbound folder (the latest change time in it), which the course's
collect and the grading service write into submitted/'s timestamp.txt.
"""
import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import course_config
from autograder.engine import nofollow
from autograder.messages import t

UNITS = {"hour": 3600.0, "day": 86400.0}
NBGRADER_TIME = "%Y-%m-%d %H:%M:%S.%f %Z"  # timestamp.txt, as nbgrader writes it


@dataclass(frozen=True)
class Late:
    points: float  # taken off the score
    percent: float  # of the score
    zh: str = ""  # why, for the student ("" when on time)
    en: str = ""

    @property
    def why(self) -> str:
        return t(self.zh, self.en) if self.en else ""


def late_penalty(policy, score: float, seconds_late: float) -> Late:
    """What a submission `seconds_late` past its due date (extension included) loses of `score`."""
    if seconds_late <= 0 or not (policy.due or policy.percent or policy.cutoff_hours is not None):
        return Late(0.0, 0.0)
    late = duration(seconds_late)
    if policy.cutoff_hours is not None and seconds_late > policy.cutoff_hours * 3600:
        return Late(score, 100.0, f"迟交 {late[0]}，超过截止时间（截止日期后 {policy.cutoff_hours:g} 小时）：记 0 分",
                    f"{late[1]} late, past the cutoff ({policy.cutoff_hours:g} hours after the due date): scored 0")
    if seconds_late <= policy.grace_minutes * 60:
        return Late(0.0, 0.0, f"迟交 {late[0]}，在 {policy.grace_minutes:g} 分钟宽限期内：不扣分",
                    f"{late[1]} late, within the {policy.grace_minutes:g}-minute grace period: no penalty")
    started = math.ceil(seconds_late / UNITS[policy.per])
    percent = min(policy.cap_percent, policy.percent * started)
    unit_zh = {"hour": "小时", "day": "天"}[policy.per]
    return Late(score * percent / 100, percent,
                f"迟交 {late[0]}：每{unit_zh}扣 {policy.percent:g}%（最多 {policy.cap_percent:g}%），扣 {percent:g}%",
                f"{late[1]} late: {policy.percent:g}% per {policy.per} started (at most {policy.cap_percent:g}%), "
                f"{percent:g}% off")


def duration(seconds: float) -> tuple:
    """(zh, en) of a duration, to the minute."""
    minutes = max(1, round(seconds / 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    zh = "".join(f"{n}{u}" for n, u in ((days, "天"), (hours, "小时"), (minutes, "分钟")) if n)
    en = " ".join(f"{n} {u}{'s' * (n != 1)}" for n, u in ((days, "day"), (hours, "hour"), (minutes, "minute")) if n)
    return zh, en


def due_date(assignment: str):
    """The policy's due date of `assignment` as a naive UTC datetime (nbgrader's), or None."""
    due = course_config.late_policy(assignment).due
    return datetime.strptime(due, "%Y-%m-%d %H:%M") if due else None


def apply_due_dates(db_url: str, assignments):
    """The gradebook's due date of each of `assignments` set from its policy (where it has one), and
    each existing submission's extension from the extensions file (BadExtensions, before anything
    is changed, where a row is malformed)."""
    from nbgrader.api import Gradebook
    granted = extensions()
    with Gradebook(db_url, course_id=course_config.COURSE_ID) as gradebook:
        for name in assignments:
            try:
                due = due_date(name)
            except KeyError:  # not one of the course's assignments
                continue
            if due is not None:
                gradebook.update_or_create_assignment(name, duedate=due)
        apply_extensions(gradebook, granted, assignments)


def arrival_time(folder: Path) -> float:
    """When `folder` (an inbound submission) last changed: the latest change time (ctime) of the
    folder and everything in it, links not followed. Its owner can move it later, never earlier
    (ctime is the kernel's clock), and editing a file after the due date moves it too."""
    latest = os.lstat(folder).st_ctime
    for _, dirs, names, dir_fd in os.fwalk(folder, follow_symlinks=False):
        for name in dirs + names:
            latest = max(latest, os.lstat(name, dir_fd=dir_fd).st_ctime)
    return latest


def timestamp_text(epoch: float) -> str:
    """timestamp.txt's text for `epoch`, as nbgrader writes it."""
    return datetime.fromtimestamp(epoch, UTC).strftime(NBGRADER_TIME)


class BadExtensions(ValueError):
    """course_config.EXTENSIONS has a malformed row (the message names its line)."""


_ADDED = re.compile(r"\+(?:\d+(?:\.\d+)?[dhm])+")


def extensions(path: Path = None) -> dict:
    """{(student, assignment folder): timedelta} of the extensions file (course_config.EXTENSIONS;
    {} without one). Raises BadExtensions, naming the line, for any malformed row."""
    import csv

    from autograder.inbound import STUDENT_ID
    path = Path(path or course_config.EXTENSIONS)
    try:
        text = nofollow.read_file(path, 4 << 20).decode("utf-8-sig")
    except FileNotFoundError:
        return {}
    rows = csv.reader(text.splitlines())
    header = [cell.strip() for cell in next(rows, [])]
    if header != ["student", "assignment", "extension"]:
        raise BadExtensions(t(f"{path.name} 第 1 行：表头应为 student,assignment,extension，得到 {','.join(header)}",
                              f"{path.name} line 1: the header must be student,assignment,extension, not "
                              f"{','.join(header)}"))
    found = {}
    for line, row in enumerate(rows, 2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            found.update([_extension(row, found, STUDENT_ID)])
        except (ValueError, KeyError) as error:
            raise BadExtensions(t(f"{path.name} 第 {line} 行：{error}；未做任何更改",
                                  f"{path.name} line {line}: {error}; nothing was changed")) from None
    return found


def _extension(row, found, student_id):
    from datetime import timedelta
    if len(row) != 3:
        raise ValueError(f"3 cells expected (student,assignment,extension), got {len(row)}")
    student, assignment, extension = (cell.strip() for cell in row)
    if not student_id.fullmatch(student):
        raise ValueError(f"{student!r} is not a student id")
    try:
        folder = course_config.assignment(assignment).folder
    except KeyError:
        raise ValueError(f"no assignment {assignment!r} in the course") from None
    if (student, folder) in found:
        raise ValueError(f"a second row for {student} / {folder}")
    if _ADDED.fullmatch(extension):
        units = {"d": 86400, "h": 3600, "m": 60}
        seconds = sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([dhm])", extension))
        return (student, folder), timedelta(seconds=seconds)
    try:
        new_due = datetime.strptime(extension, "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"{extension!r} is neither a due date (YYYY-MM-DD HH:MM, UTC) nor added time "
                         "(+2d, +36h, +1d12h, +90m)") from None
    due = due_date(folder)
    if due is None:
        raise ValueError(f"{folder} has no due date in course_config: give added time (+2d) instead")
    if new_due <= due:
        raise ValueError(f"{extension} is not after the due date {due:%Y-%m-%d %H:%M}")
    return (student, folder), new_due - due


def apply_extensions(gradebook, granted: dict, assignments):
    """Each existing submission of `assignments` gets its extension from `granted` (none when absent)."""
    for name in assignments:
        try:
            submissions = gradebook.find_assignment(name).submissions
        except Exception:  # not in this gradebook
            continue
        for submission in submissions:
            extension = granted.get((submission.student.id, name))
            if submission.extension != extension:
                submission.extension = extension
    gradebook.db.commit()
