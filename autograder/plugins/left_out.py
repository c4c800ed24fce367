"""Before nbgrader touches a submission: links and special files are taken out of its folder.

nbgrader's autograde copies a submission's files with `shutil.copy` and opens its notebooks by
name, following links and blocking on FIFOs, as whoever grades (often root). This pre-convert
hook (course_config.apply) removes every link, FIFO, socket and device from the submitted
folder first, without following any, and records what each was (a link's target as text) in
grading_results/left_out/<assignment>/<student>.json, where `notes` finds it for the verdict.
"""
import json
import os
import stat
from pathlib import Path

from autograder.engine import nofollow

FOLDER = "left_out"


def take_out_links(assignment=None, student=None, notebooks=(), **_):
    """nbgrader's pre_convert_hook: `notebooks` are this submission's (submitted/<student>/<assignment>/…)."""
    if not notebooks:
        return
    folder = Path(os.path.abspath(notebooks[0])).parent
    found = []
    top = nofollow._open_folder(folder)
    try:
        for where, dirs, names, dir_fd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
            for name in [*dirs, *names]:
                info = os.lstat(name, dir_fd=dir_fd)
                if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
                    continue
                shown = os.path.normpath(os.path.join(where, name))
                what = f"a link to {os.readlink(name, dir_fd=dir_fd)[:200]}" if stat.S_ISLNK(info.st_mode) \
                    else "not a regular file"
                os.unlink(name, dir_fd=dir_fd)
                found.append(nofollow.note(shown, nofollow.Refused(f"{shown}: {what}")))
            dirs[:] = [d for d in dirs if stat.S_ISDIR(os.lstat(d, dir_fd=dir_fd).st_mode)]
    finally:
        os.close(top)
    record = _record(folder)
    if found:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(found, ensure_ascii=False))
    else:
        record.unlink(missing_ok=True)


def notes(submitted_folder: Path) -> list:
    """What take_out_links took out of this submitted folder (its notes for the verdict)."""
    try:
        return json.loads(nofollow.read_file(_record(Path(submitted_folder)), 1 << 20))
    except (OSError, ValueError):
        return []


def _record(folder: Path) -> Path:
    """grading_results/left_out/<assignment>/<student>.json of the course that holds submitted/."""
    course = folder.parent.parent.parent
    return course / "grading_results" / FOLDER / folder.name / f"{folder.parent.name}.json"
