"""A scratch class on the course's JupyterHub, for tests/test_hub.py and bench_hub: a copy of the course under its
own course id, set up by the README's commands (the course's owner, `make hub`, an instructor, the roster), with
`make hub` / `make hub-stop` run in the copy.

Needs root (accounts, PAM). The accounts are the caller's to remove (`remove_accounts`).
"""
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import course_config
from autograder.tools import demo

ROOT = course_config.ROOT
README, README_SECTION = ROOT / "README.md", "## Run the course on JupyterHub"
MAKE_FILES = ("Makefile", "requirements.txt", "pyproject.toml", "package.json", "package-lock.json")


@dataclass(frozen=True)
class ScratchClass:
    course: Path
    course_id: str
    exchange: Path
    url: str
    instructor: str
    passwords: dict  # account -> password: the instructor's, and the students' from the roster
    setup: list  # what the README's commands printed

    @property
    def env(self) -> dict:
        """The environment of `make hub` for this class (its address and exchange)."""
        return {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
                "COURSE_HUB_URL": self.url, "COURSE_EXCHANGE_ROOT": str(self.exchange)}

    def make(self, target: str) -> str:
        """`make <target>` in the course copy; its output (fails with it on an error)."""
        run = subprocess.run(["make", "--no-print-directory", target], cwd=self.course, env=self.env,
                             capture_output=True, text=True, timeout=300, check=False)
        if run.returncode:
            raise RuntimeError(f"make {target} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        return run.stdout


def make_class(top: Path, port: int, course_id: str, instructor: str, password: str, students: tuple) -> ScratchClass:
    """The course copied into top/course as `course_id`, set up and started on the hub by the README's commands
    (`readme_commands`): `instructor` an account with `password` given to the course's instructors, `students`
    on top/course/roster.csv with the passwords the roster made. The README's commands' output: scratch.setup."""
    top.mkdir(parents=True, exist_ok=True)
    top.chmod(0o755)
    subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "node_modules/.installed"], check=True,
                   capture_output=True)
    course = copy_course(top / "course", course_id)
    account(instructor, password)
    (course / "roster.csv").write_text("id,name,email\n" + "".join(f"{s},Student {s[-1]},{s}@example.edu\n"
                                                                   for s in students))
    scratch = ScratchClass(course, course_id, top / "exchange", f"http://127.0.0.1:{port}", instructor, {}, [])
    script = "set -euo pipefail\n" + "\n".join(readme_commands(course_id, instructor))
    run = subprocess.run(["bash", "-c", script], cwd=course, env=scratch.env, capture_output=True, text=True,
                         timeout=600, check=False)
    if run.returncode:
        raise RuntimeError(f"the README's commands failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    rows = (course / "roster.passwords.csv").read_text().splitlines()[1:]
    scratch.passwords.update({instructor: password, **dict(row.split(",") for row in rows)})
    scratch.setup.append(run.stdout)
    return scratch


def readme_commands(course_id: str, instructor: str) -> list:
    """The README's "Run the course on JupyterHub" block for `course_id` and its instructor `instructor`
    (the README's are rnn-attention and teacher)."""
    text = README.read_text().split(f"\n{README_SECTION}\n", 1)[1]
    block = text.split("```\n", 2)[1]
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    lines = [line.replace(course_config.COURSE_ID, course_id) for line in lines if line]
    lines = [re.sub(r" teacher$", f" {instructor}", line) for line in lines]
    return lines


def free_port() -> int:
    """A port p with p+1..p+3 free too (the hub's proxy API, the hub, the formgrader)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and all(_free(port + i) for i in range(1, 4)):
            return port


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def copy_course(dest: Path, course_id: str) -> Path:
    """The course at `dest` as `course_id` (its own hub groups and service: a test never touches the real
    class's), with what `make` needs; the .venv and node_modules are the course's own."""
    course = demo.make_course(dest)
    config = course / "course_config.py"
    config.write_text(config.read_text().replace(f'COURSE_ID = "{course_config.COURSE_ID}"',
                                                 f'COURSE_ID = "{course_id}"'))
    shutil.copytree(ROOT / "release", course / "release")
    made = (ROOT / ".venv" / ".installed").stat().st_mtime  # `make venv` made the course's own .venv
    for name in MAKE_FILES:
        shutil.copy2(ROOT / name, course / name)
        if name not in ("package.json", "package-lock.json"):  # make sees the .venv it links to up to date
            os.utime(course / name, (made, made))
    for name in (".venv", "node_modules"):
        (course / name).symlink_to(ROOT / name)
    return course


def account(name: str, password: str) -> None:
    """The Unix account `name` (made with a home if missing) with `password`."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)


def stop_hub(course: Path) -> None:
    """`make hub-stop` in the course copy, if there is one (after a set-up that failed half-way too)."""
    if (course / "Makefile").exists():
        subprocess.run(["make", "--no-print-directory", "hub-stop"], cwd=course, capture_output=True, check=False)


def remove_accounts(names, course_id: str) -> None:
    """The accounts and their homes gone (a later run starts from fresh homes), with the course's owner
    (grader-<course id>) and groups."""
    for name in (*names, f"grader-{course_id}"):
        subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)
    for group in (f"formgrade-{course_id}", f"nbgrader-{course_id}"):
        subprocess.run(["groupdel", group], capture_output=True, check=False)


def pss_kib(uid: int) -> dict:
    """The proportional set size (KiB) of every process of `uid`, by pid and command."""
    sizes = {}
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or proc.stat().st_uid != uid:
                continue
            rollup = (proc / "smaps_rollup").read_text()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
        except OSError:
            continue
        pss = next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
        sizes[(int(proc.name), command)] = pss
    return sizes


if __name__ == "__main__":
    sys.exit("a helper of tests/test_hub.py and autograder/tools/bench_hub.py")
