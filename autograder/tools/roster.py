"""The class roster: `python -m autograder.tools.roster roster.csv [--close-homes]` (as root), again when it changes.

roster.csv starts with the header `id,name,email` (or `id,name`), then one student a line; kept as the course
root's roster.csv it is also course_config.ROSTER, the ids the grading service admits. The id is the student's
Unix account, hub login and nbgrader student id. For each student it
  - adds or updates the student in nbgrader's gradebook (the course root's gradebook.db);
  - reuses the Unix account of that name, or creates it with a home of mode 0700 (no other student lists or
    reads it: the nbgrader cache there holds the submission secret that names their feedback page) and a
    random password, appended (id,password) to roster.passwords.csv beside the roster (mode 600);
  - warns about a reused account whose home others may enter, and closes it (0700 less) with --close-homes;
  - puts the account in the Unix group nbgrader-<course>, which the hub's login reads (autograder/hub).
A student no longer on the roster leaves the group (no login, no course on the hub); the account and home stay,
and so do their grades: such a student leaves the gradebook only if they never submitted anything.
Every row is checked first: one malformed row is refused with its line number and nothing changes.
"""
import argparse
import csv
import grp
import os
import pwd
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import course_config
from autograder.hub import STUDENTS, grader
from autograder.messages import t

GRADEBOOK = course_config.ROOT / "gradebook.db"
ACCOUNT = re.compile(r"[a-z_][a-z0-9_-]{0,31}")  # what useradd accepts everywhere
EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")
HEADER = ["id", "name", "email"]
FIRST_UID = 1000  # below: the system's accounts, never a student
HOME_MODE = 0o700  # a student's home: no other account lists or enters it


@dataclass(frozen=True)
class Student:
    id: str
    name: str
    email: str = ""

    @property
    def names(self) -> dict:
        """nbgrader's first and last name: "Ada Lovelace" splits at its last space, "张三" stays whole."""
        first, _, last = self.name.rpartition(" ")
        return {"first_name": first or None, "last_name": last, "email": self.email or None}


class RosterError(ValueError):
    pass


def read(path: Path) -> list:
    """The roster's students; RosterError naming every malformed line if there is one."""
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise RosterError(f"{path}: 无法读取名单 / cannot read the roster: {e}") from None
    errors, students, seen = [], [], {}
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if header not in (HEADER, HEADER[:2]):
        raise RosterError(f"{path}:1: 第一行应为表头 id,name,email / the first line must be the header id,name,email "
                          f"(or id,name) (got {','.join(rows[0]) if rows else 'an empty file'!r})\n"
                          "名单有误，未做任何更改 / the roster was refused, nothing changed")
    for number, row in enumerate(rows[1:], 2):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        problem = _problem(cells, seen)
        if problem:
            errors.append(f"{path}:{number}: {problem} (got {','.join(row)!r})")
            continue
        seen[cells[0]] = number
        students.append(Student(*cells))
    if errors:
        raise RosterError("\n".join(errors) + "\n名单有误，未做任何更改 / the roster was refused, nothing changed")
    return students


def _problem(cells: list, seen: dict) -> str:
    """What is wrong with one row ("" if nothing)."""
    if len(cells) not in (2, 3):
        return f"应为 id,name[,email] / expected id,name or id,name,email: {len(cells)} columns"
    sid, name, email = (cells + [""])[:3]
    if not ACCOUNT.fullmatch(sid):
        return (f"学号 {sid!r} 不能作为账户名 / id {sid!r} is not a Unix account name (lowercase letter or _ first, "
                f"then letters, digits, - or _, at most 32): a numeric id needs a letter first, e.g. s{sid}")
    if sid in seen:
        return f"学号重复 / id {sid!r} already on line {seen[sid]}"
    if _system_account(sid):
        return f"{sid!r} 是系统账户 / is a system account (uid below {FIRST_UID}), never a student"
    if not name:
        return f"缺少姓名 / no name for {sid!r}"
    if email and not EMAIL.fullmatch(email):
        return f"邮箱格式不对 / {email!r} is not an email address"
    return ""


def _system_account(name: str) -> bool:
    try:
        return pwd.getpwnam(name).pw_uid < FIRST_UID
    except KeyError:
        return False


def open_home(name: str) -> str:
    """The home of account `name` if other accounts may list or enter it ("" if closed, or none)."""
    home = pwd.getpwnam(name).pw_dir
    try:
        mode = os.stat(home).st_mode
    except OSError:
        return ""
    return home if mode & 0o077 else ""


def close_home(name: str) -> None:
    home = pwd.getpwnam(name).pw_dir
    os.chmod(home, os.stat(home).st_mode & 0o7700)


def apply(students: list, passwords: Path, close_homes: bool = False) -> dict:
    """Make the class the roster's: accounts, group, gradebook. What changed, by kind."""
    from nbgrader.api import Gradebook

    subprocess.run(["groupadd", "-f", STUDENTS], check=True)
    wanted = {s.id for s in students}
    members = set(grp.getgrnam(STUDENTS).gr_mem)
    changes = {"added": [], "updated": [], "new accounts": [], "removed": [], "kept for their grades": [],
               "homes closed": [], "open homes": []}
    with Gradebook(f"sqlite:///{GRADEBOOK}", course_id=course_config.COURSE_ID) as gradebook:
        enrolled = {s.id for s in gradebook.students}
        for student in students:
            if not _exists(student.id):
                _create_account(student.id, passwords)
                changes["new accounts"].append(student.id)
            elif open_home(student.id) and close_homes:
                close_home(student.id)
                changes["homes closed"].append(student.id)
            elif open_home(student.id):
                changes["open homes"].append(student.id)
            if student.id not in members:
                subprocess.run(["gpasswd", "-a", student.id, STUDENTS], check=True, capture_output=True)
            gradebook.update_or_create_student(student.id, **student.names)
            changes["updated" if student.id in enrolled else "added"].append(student.id)
        for sid in sorted((members | enrolled) - wanted):
            if sid in members:
                subprocess.run(["gpasswd", "-d", sid, STUDENTS], check=True, capture_output=True)
            if sid in enrolled and gradebook.find_student(sid).submissions:
                changes["kept for their grades"].append(sid)
            elif sid in enrolled:
                gradebook.remove_student(sid)
            changes["removed"].append(sid)
    _give_gradebook_to_grader()
    return changes


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _create_account(name: str, passwords: Path) -> None:
    """A new Unix account with a home closed from the start (HOME_MODE 0700, whatever login.defs says) and a
    random password, appended to `passwords` (mode 600)."""
    password = secrets.token_urlsafe(9)
    subprocess.run(["useradd", "--create-home", "-K", f"HOME_MODE={HOME_MODE:04o}", "--shell", "/bin/bash", name],
                   check=True, capture_output=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)
    fresh = not passwords.exists()
    with open(os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "w") as f:
        if fresh:
            f.write("id,password\n")
        f.write(f"{name},{password}\n")


def _give_gradebook_to_grader() -> None:
    """The gradebook stays the course owner's (the formgrader writes it), even when root created it, and
    closed to others (students on the hub's machine)."""
    owner = grader()
    if os.geteuid() == 0 and GRADEBOOK.exists():
        os.chown(GRADEBOOK, owner.pw_uid, owner.pw_gid)
        GRADEBOOK.chmod(0o600)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("roster", type=Path, help="id,name[,email] per line")
    parser.add_argument("--passwords", type=Path, help="where new accounts' passwords go "
                                                       "(default: <roster>.passwords.csv beside it)")
    parser.add_argument("--close-homes", action="store_true", help="close the homes of reused accounts that "
                        "other accounts may enter (mode 0700 less)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("roster: run it as root (it creates accounts and changes the group)")
    try:
        students = read(args.roster)
    except RosterError as e:
        print(e, file=sys.stderr)
        raise SystemExit(1)
    passwords = args.passwords or args.roster.with_suffix(".passwords.csv")
    os.environ["PATH"] = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"  # alembic
    os.umask(0o077)  # the gradebook, when this makes it: the course owner's alone
    changes = apply(students, passwords, args.close_homes)
    print(f"{len(students)} students on the roster of {course_config.COURSE_ID} (group {STUDENTS})")
    for kind, ids in changes.items():
        if ids and kind != "open homes":
            print(f"  {kind}: {', '.join(ids)}")
    for sid in changes["open homes"]:
        print(t(f"警告：{sid} 的主目录 {open_home(sid)} 对其他账户开放：其他学生可读取其提交密钥并找到其反馈；"
                "用 --close-homes 重新运行以关闭（0700）",
                f"warning: {sid}'s home {open_home(sid)} is open to other accounts: another student can read "
                "their submission secret and find their feedback; run again with --close-homes to close it (0700)"),
              file=sys.stderr)
    if changes["new accounts"]:
        print(f"  passwords of the new accounts: {passwords} (mode 600)")


if __name__ == "__main__":
    main()
