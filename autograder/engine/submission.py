"""A submission as plain values: what travels to a worker, and the key that names what was graded.

A `Submission` holds the notebook file's bytes as submitted and the other files its kernel sees
(the student's files with the assignment's source files on top, as nbgrader's autograded/
folder has them). Its `run_key` hashes exactly what the kernel runs: the code cells that are not
check cells, and those files. nbgrader's sanitised notebook has the same key unless sanitising
changed the code (a restored locked cell, a duplicated check cell made plain), and then it is
graded again.
"""
import hashlib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.engine import nofollow
from autograder.messages import t

# Never given to the kernel: notebooks, hidden files, caches, and nbgrader's own files of a
# submission (its time and secret: the same code is the same run key whenever it arrived).
IGNORED = ("*.ipynb", ".*", "__pycache__", "*.pyc", "feedback", "timestamp.txt", "submission_secret.txt")
MAX_NOTEBOOK_BYTES = 16 << 20  # the submitted notebook (nbgrader's submit accepts 100 MB)
MAX_FILE_BYTES = 16 << 20  # one other file beside it
MAX_FILES_BYTES = 64 << 20  # a submission folder's other files, together


def is_check_cell(cell) -> bool:
    """A graded cell that is not a solution: a level's 评测 cell, never run in the student's kernel."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def executed_cells(nb) -> list:
    """The cells the student's kernel runs, in order."""
    return [cell for cell in nb.cells if cell.cell_type == "code" and not is_check_cell(cell)]


def read_notebook(data: bytes) -> tuple:
    """(notebook, problems): an unreadable file becomes an empty notebook and a reason."""
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4), []
    except Exception as error:  # bad JSON, not UTF-8, not a notebook, wrong schema...
        return nbformat.v4.new_notebook(), [unreadable(error)]


def unreadable(error: Exception) -> str:
    return t(f"提交的笔记本无法读取（{type(error).__name__}），按空白提交评分",
             f"the submitted notebook could not be read ({type(error).__name__}: {str(error)[:120]}); "
             "graded as an empty submission")


def run_key(nb, files) -> str:
    """sha256 of the code the kernel runs and the files it sees."""
    digest = hashlib.sha256()
    for cell in executed_cells(nb):
        digest.update(b"cell\0" + cell.source.encode() + b"\0")
    for name, data in sorted(files):
        digest.update(b"file\0" + name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def folder_files(*folders: Path, ignore=()) -> tuple:
    """(((relative path, bytes), ...), notes) of the folders' files, later folders on top,
    notebooks and hidden or ignored files left out; read without following links, within
    MAX_FILE_BYTES each and MAX_FILES_BYTES together (what is over is left out, with a note)."""
    files, notes = {}, []
    for folder in folders:
        if folder:
            found, said = nofollow.read_tree(Path(folder), (*IGNORED, *ignore), MAX_FILE_BYTES, MAX_FILES_BYTES)
            files.update(found)
            notes += said
    while sum(len(data) for data in files.values()) > MAX_FILES_BYTES:  # the folders together
        name = max(files, key=lambda name: len(files[name]))
        notes.append(nofollow.note(name, nofollow.Refused(f"{name}: over the {MAX_FILES_BYTES >> 20} MB budget")))
        del files[name]
    return tuple(sorted(files.items())), notes


@dataclass(frozen=True)
class Submission:
    assignment: str  # the assignment's folder name (nbgrader's assignment id)
    student: str
    notebook: bytes  # the .ipynb file's bytes
    files: tuple = ()  # ((relative path, bytes), ...) the kernel's working folder holds
    attempt: int = 1  # 2 when graded again (alone, after a time limit; or after sanitising)
    notes: tuple = ()  # what was left out while reading it (links, special or oversized files)
    seed: int = 0  # the hidden inputs' seed: 0 for the assignment's; the grading service's per attempt

    @property
    def task_key(self) -> str:
        """The Dask key: one per student, assignment, attempt (and notebook content)."""
        digest = hashlib.sha256(self.notebook).hexdigest()[:8]
        return f"grade-{self.assignment}-{self.student}-{self.attempt}-{self.seed}-{digest}"

    @classmethod
    def from_path(cls, notebook: Path, assignment: str, student: str = "", source: Path = None,
                  ignore=(), attempt: int = 1, seed: int = 0) -> "Submission":
        """The notebook at `notebook`, its folder's files with `source`'s (the assignment's) on top."""
        notebook = Path(notebook)
        try:
            data, notes = nofollow.read_file(notebook, MAX_NOTEBOOK_BYTES), []
        except OSError as error:
            data, notes = b"", [nofollow.note(notebook.name, error)]
        files, said = folder_files(notebook.parent, source, ignore=ignore)
        return cls(assignment, student or notebook.parent.parent.name, data, files, attempt, tuple(notes + said), seed)
