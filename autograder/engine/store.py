"""Results by key: what the engine computed for (assignment, student, run key), kept on disk.

    store = ResultStore(course / "grading_results")
    store.put(result)                      # <root>/by_key/<assignment>/<student>/<run key>.json (with outputs)
                                           # and <root>/<assignment>/<student>.json (the latest, for the report)
    store.get(assignment, student, key, grader)  # the Result, or None

The run key hashes exactly the code the kernel runs and the files it sees (submission.py), and the
grader version what judges it (the checks, references, limits: grader_version), so a hit is
the result nbgrader would get by grading again. Every write is atomic: a temporary file in
the same folder, fsync, os.replace, fsync of the folder. A process killed at any moment (kill -9)
leaves the old file or the new one, never half of one; a file that does not parse counts as none.
"""
import functools
import hashlib
import os
import re
import tempfile
from pathlib import Path

import course_config
from autograder.engine.result import Result

_NAME = re.compile(r"^[^/\0]{1,200}$")  # one path component: an nbgrader id, a sha256


class ResultStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def get(self, assignment: str, student: str, key: str, grader: str):
        """The stored Result of this code judged by this `grader` (grader_version), or None:
        absent, unreadable, another key inside, another grader's, or one that hit a time limit
        (it depended on the machine's load: measured again)."""
        path = self._path(assignment, student, key)
        try:
            result = Result.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, AttributeError):
            return None
        if result.key != key or not grader or result.grader != grader or result.timed_out:
            return None
        return result

    def put(self, result: Result) -> Path:
        """Keep `result` under its key, and as its student's latest (less the cells' outputs)."""
        path = self._path(result.assignment, result.student, result.key)
        write_atomic(path, result.to_json())
        write_atomic(self.root / result.assignment / f"{result.student}.json", result.to_json(outputs=False))
        return path

    def _path(self, assignment: str, student: str, key: str) -> Path:
        for name in (assignment, student, key):
            if not _NAME.match(name) or name in (".", ".."):
                raise ValueError(f"not a name for the result store: {name!r}")
        return self.root / "by_key" / assignment / student / f"{key}.json"  # apart: a student "x.json" is no folder


def write_atomic(path: Path, text: str):
    """`path` holds `text` entirely or keeps what it held: never a part of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)  # the rename itself survives a power cut
    finally:
        os.close(folder)


# What decides a verdict besides the student's code: the grader's own code, the hidden checks with
# their data, the references and the known mistakes (not the instructor's tools or 查重).
GRADER_FILES = [(course_config.ROOT / folder, pattern) for folder, pattern in (
    ("autograder", "*.py"), ("autograder/engine", "*.py"), ("autograder/checks", "**/*"),
    ("reference_solutions", "**/*.py"))]


@functools.cache
def grader_version(assignment: str) -> str:
    """sha256 of what grades `assignment` here: its declaration (levels, points, seed), the limits,
    and the GRADER_FILES, read once per process. A stored result of another version is graded
    again (store.py)."""
    digest = hashlib.sha256(repr((course_config.assignment(assignment), course_config.LIMITS)).encode())
    for folder, pattern in GRADER_FILES:
        for path in sorted(p for p in folder.glob(pattern) if p.is_file() and "__pycache__" not in p.parts):
            digest.update(b"\0" + f"{folder.name}/{path.relative_to(folder)}".encode() + b"\0"
                          + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
