"""One gradebook writer at a time: a file lock (flock) shared by the grading service and
`nbgrader autograde` in the same course (grading_results/gradebook.lock).

    lock = GradebookLock.of(course)
    with lock:                 # the service: one submission's recording
        ...
    lock.hold(); lock.let_go() # nbgrader's pre/post convert hooks around one submission

Holding is counted per process (a `with` inside a hold, or the other way round, is fine); the
kernel drops the lock when the process dies, kill -9 included, so a dead holder never blocks.
"""
import fcntl
import os
import threading
from pathlib import Path
from typing import ClassVar

FILE = "gradebook.lock"


class GradebookLock:
    _of: ClassVar[dict] = {}  # one per course and process: flock is per open file

    def __init__(self, path: Path):
        self.path = Path(path)
        self._depth, self._hooked, self._fd = 0, False, None
        self._mutex = threading.RLock()  # threads of one process take turns too

    @classmethod
    def of(cls, course: Path) -> "GradebookLock":
        path = Path(course).resolve() / "grading_results" / FILE
        return cls._of.setdefault(path, cls(path))

    def __enter__(self):
        self._mutex.acquire()
        if self._depth == 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # waits for the other writer
        self._depth += 1
        return self

    def __exit__(self, *_):
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._mutex.release()

    def hold(self):
        """Taken once until let_go (a second hold without let_go, after a failed submission, keeps it)."""
        if not self._hooked:
            self.__enter__()
            self._hooked = True

    def let_go(self):
        if self._hooked:
            self._hooked = False
            self.__exit__()
