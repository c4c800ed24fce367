"""Reading what a student could have written, as the grader: no link is followed, nothing
but regular files is opened, and every read has a budget checked before the bytes are read.

Paths are opened one component at a time from a folder the grader trusts (O_NOFOLLOW on each),
so a link anywhere on the way is refused, not followed; a FIFO or device is never opened for
reading (O_NONBLOCK, then fstat), so it cannot block or feed the grader.
"""
import os
import stat
from fnmatch import fnmatch
from pathlib import Path

from autograder.messages import t

FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Refused(OSError):
    """A path that is a link, not a regular file, or over its budget: a reason for the student."""


def read_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file at `path` (absolute; no component may be a link)."""
    path = Path(path)
    fd = _open_folder(path.parent)
    try:
        return _read_at(fd, path.name, max_bytes, str(path))
    finally:
        os.close(fd)


def read_tree(folder: Path, ignored=(), max_file_bytes=16 << 20, max_total_bytes=64 << 20) -> tuple:
    """(((relative path, bytes), ...), notes): the regular files under `folder`, none through a
    link. Links, special files, files over `max_file_bytes` and files past `max_total_bytes` are
    left out, each with a note; names matching `ignored` (fnmatch, any component) are skipped."""
    files, notes, total = [], [], 0
    try:
        top = _open_folder(Path(folder))
    except FileNotFoundError:
        return (), []
    except OSError as error:
        return (), [note(str(folder), error)]
    try:
        for where, dirs, names, dir_fd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
            parts = Path(where).parts
            dirs[:] = sorted(d for d in dirs if not _ignored(d, ignored) and not _is_link(d, dir_fd, notes, where))
            for name in sorted(names):
                relative = "/".join((*parts, name))
                if _ignored(name, ignored):
                    continue
                try:
                    data = _read_at(dir_fd, name, min(max_file_bytes, max_total_bytes - total), relative)
                except OSError as error:
                    notes.append(note(relative, error))
                    continue
                total += len(data)
                files.append((relative, data))
    finally:
        os.close(top)
    return tuple(files), notes


def _open_folder(path: Path) -> int:
    fd = os.open("/", FOLDER)
    try:
        for part in Path(os.path.abspath(path)).parts[1:]:
            next_fd = os.open(part, FOLDER, dir_fd=fd)
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_at(dir_fd: int, name: str, max_bytes: int, shown: str) -> bytes:
    try:
        fd = os.open(name, FILE, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in (40, 20):  # ELOOP: a link; ENOTDIR
            raise Refused(f"{shown}: a link") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{shown}: not a regular file")
        if info.st_size > max_bytes:
            raise Refused(f"{shown}: {info.st_size >> 10} KB, over the {max_bytes >> 10} KB budget")
        os.set_blocking(fd, True)
        chunks, left = [], max_bytes + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:  # grew while being read
            raise Refused(f"{shown}: over the {max_bytes >> 10} KB budget")
        return data
    finally:
        os.close(fd)


def _is_link(name, dir_fd, notes, where) -> bool:
    if stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode):
        shown = os.path.normpath(os.path.join(where, name))
        notes.append(note(shown, Refused(f"{shown}: a link")))
        return True
    return False


def _ignored(name: str, patterns) -> bool:
    return any(fnmatch(name, pattern) for pattern in patterns)


def note(shown: str, error: OSError) -> str:
    why = str(error) if isinstance(error, Refused) else f"{shown}: {error.strerror or error}"
    return t(f"未读取提交中的文件（{why}）：按未提交处理",
             f"a file of the submission was not read ({why}): graded as if it were absent")
