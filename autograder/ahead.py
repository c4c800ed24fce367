"""Grade a class in parallel inside the stock `nbgrader autograde`: submissions run ahead.

nbgrader hands the judge one submission at a time. While it does, the next submissions (in
nbgrader's order: sorted submitted/<student>/<assignment> paths) are already running in threads
of their own, each in its own sandboxed kernel (a separate process: another core). When
nbgrader reaches a submission, the judge reuses its run if nbgrader's sanitised notebook runs
the same code on the same files (it almost always does); if not, the sanitised notebook is run
afresh. So the gradebook and the feedback are exactly nbgrader's, and one slow submission no
longer holds the next ones: they run meanwhile.
"""
import hashlib
import queue
import shutil
import threading
from concurrent.futures import Future
from pathlib import Path

import nbformat

import course_config
from autograder.kernel import KernelSession, start_kernel
from autograder.student import Student, StudentError


def executed_cells(nb, is_check_cell) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code" and not is_check_cell(cell)]


IGNORED = shutil.ignore_patterns("*.ipynb", ".*", "__pycache__", "*.pyc")  # not for the kernel


def files_digest(folder: Path) -> str:
    """What the kernel sees of a submission folder besides notebooks."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not IGNORED(str(path.parent), parts[-1:]) and \
                not any(p.startswith(".") or p == "__pycache__" for p in parts):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_key(nb, folder: Path, is_check_cell) -> tuple:
    """Two runs are the same if they run the same code on the same files."""
    return tuple(cell.source for cell in executed_cells(nb, is_check_cell)), files_digest(folder)


class Run:
    """A submission running in a thread of its own: its kernel starts, its cells run, then it
    answers the judge's calls until closed. Everything touching the kernel happens there."""

    def __init__(self, load, is_check_cell, name):
        self.is_check_cell = is_check_cell
        self.ready = threading.Event()
        self.jobs = queue.Queue()
        self.key = self.nb = self.session = self.error = self.kernel = None
        self.thread = threading.Thread(target=self._main, args=(load,), name=f"judge {name}", daemon=True)
        self.thread.start()

    def _main(self, load):
        try:
            nb, folders = load()
            kernel = self.kernel = start_kernel()
            with KernelSession(nb, kernel) as session:  # the kernel is discarded however this ends
                for folder in folders:  # later ones on top
                    shutil.copytree(folder, kernel.workdir, ignore=IGNORED, dirs_exist_ok=True)
                kernel.sandbox.own(kernel.workdir)
                self.key = run_key(nb, kernel.workdir, self.is_check_cell)
                session.run_cells(skip=self.is_check_cell)
                self.nb, self.session = nb, session
                self.ready.set()
                while (job := self.jobs.get()) is not None:
                    function, future = job
                    try:
                        future.set_result(function())
                    except BaseException as error:
                        future.set_exception(error)
        except BaseException as error:  # e.g. an unreadable notebook: the sanitised one runs
            self.error = error
        finally:
            self.ready.set()

    def call(self, function):
        """`function()` on this run's thread (where its kernel lives)."""
        if not self.thread.is_alive():
            raise StudentError("KernelDied", "the submission's run has ended")
        future = Future()
        self.jobs.put((function, future))
        return future.result()

    def close(self):
        self.jobs.put(None)
        self.thread.join(timeout=120)
        if self.thread.is_alive() and self.kernel:  # stuck: end its processes from here
            self.kernel.sandbox.destroy()


class RunStudent(Student):
    """The judge's view of a Run: each request is carried out on the run's thread."""

    def __init__(self, run: Run):
        super().__init__()
        self.run_ = run

    def _request(self, request):
        return self.run_.call(lambda: self.run_.session.request(request))


class Ahead:
    """The runs of one assignment's class, started `course_config.PARALLEL_SUBMISSIONS` at a time."""

    def __init__(self, course: Path, spec, is_check_cell):
        self.spec, self.is_check_cell = spec, is_check_cell
        self.paths = sorted(course.glob(f"submitted/*/{spec.folder}/{spec.name}.ipynb"))
        self.runs = {}  # path -> Run

    def take(self, submitted: Path) -> Run:
        """The run of `submitted`; the next submissions start meanwhile."""
        for path in [p for p in self.runs if p < submitted]:  # nbgrader skipped them
            self.runs.pop(path).close()
        upcoming = [p for p in self.paths if p >= submitted] or [submitted]
        for path in upcoming[:course_config.PARALLEL_SUBMISSIONS]:
            if path not in self.runs:
                self.runs[path] = Run(self._loader(path), self.is_check_cell, path.parent.parent.name)
        return self.runs.pop(submitted, None) or Run(self._loader(submitted), self.is_check_cell, "")

    def _loader(self, path: Path):
        """The submitted notebook, and its folder with the assignment's source files on top (as
        nbgrader copies them into autograded/)."""
        def load():
            return nbformat.read(path, as_version=4), [path.parent, path.parents[3] / "source" / self.spec.folder]
        return load

    def close(self):
        while self.runs:
            self.runs.popitem()[1].close()

