"""The course in one place: assignments, levels, points, limits, device policy, language.

`apply(c)` turns it into nbgrader settings; nbgrader_config.py (the name nbgrader auto-loads)
calls it. Keep this module free of side effects: nbgrader loads its config several times.
"""
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
COURSE_ID = "rnn-attention"
LANGUAGE = "zh+en"  # student-facing text: "zh", "en" or "zh+en"

# Limits for one submission's kernel.
CELL_TIMEOUT_S = 60  # one notebook cell
NOTEBOOK_TIMEOUT_S = 300  # all of a submission's cells together
CALL_TIMEOUT_S = 30  # one call of a hidden check into the student's code
MEMORY_LIMIT_MB = 4096  # address space per process, and the cgroup's memory (as root)
FILE_LIMIT_MB = 100  # the largest file a kernel may write
PROCESS_LIMIT = 64  # processes and threads of one submission (cgroup pids, as root)
OUTPUT_LIMIT_KB = 512  # a cell's outputs beyond this are dropped, with a notice
KERNEL_THREADS = 1  # torch threads in a grading kernel (small tensors are launch-bound)
PARALLEL_SUBMISSIONS = 3  # submissions running at once while a class is graded (cores + 1)


@dataclass(frozen=True)
class Level:
    name: str  # joins the solution cell's grade_id, `check_<name>`, the reference and the checks
    points: float


@dataclass(frozen=True)
class Assignment:
    folder: str  # nbgrader's assignment id: source/<folder>/<name>.ipynb
    name: str  # notebook, reference module and checks module name
    levels: tuple
    seed: int = 2024  # seeds every hidden check's inputs: the same submission, the same grade
    device: str = "cpu"  # "cpu", or "cuda" to run the checks on a GPU when one is present


ASSIGNMENTS = (
    Assignment("01_multihead_attention", "multihead_attention", (
        Level("masked_softmax", 2),
        Level("dot_product_attention", 2),
        Level("transpose_qkv", 2),
        Level("multihead_attention", 2),
        Level("attention_shapes", 2),
    )),
    Assignment("02_attention_quiz", "attention_quiz", (
        Level("educoder_quiz", 5),
        Level("self_attention_quiz", 4),
        Level("attention_variants_quiz", 3),
    )),
    Assignment("03_rnn_quiz", "rnn_quiz", (
        Level("rnn_parameter_shapes", 4),
        Level("rnn_parameter_counts", 2),
        Level("rnn_io_shapes", 3),
        Level("gradient_quiz", 2),
    )),
    Assignment("04_seq2seq_translation", "seq2seq_translation", (
        Level("make_batch", 2),
        Level("seq2seq_model", 3),
        Level("training", 3),
        Level("translated", 2),
    )),
    Assignment("05_rnn_from_scratch", "rnn_from_scratch", (
        Level("lstm", 3),
        Level("gru", 2),
        Level("multi_lstm", 2),
        Level("lstm_cell", 2),
        Level("lstm_training", 2),
    ), device="cuda"),
)


def assignment(key: str) -> Assignment:
    """An assignment by its folder ("01_multihead_attention") or name ("multihead_attention")."""
    for spec in ASSIGNMENTS:
        if key in (spec.folder, spec.name):
            return spec
    raise KeyError(f"no assignment {key!r} in course_config.ASSIGNMENTS")


def apply(c) -> None:
    """nbgrader settings for this course (c: the traitlets config of nbgrader_config.py)."""
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.root = str(ROOT)
    # The stock kernel (nbgrader validate) gets the same cell limit as grading.
    c.Execute.timeout = CELL_TIMEOUT_S
    c.ExecutePreprocessor.timeout = CELL_TIMEOUT_S
    # A deleted check cell is restored from the gradebook and scores 0 (not manual grading).
    c.OverwriteCells.add_missing_cells = True
    # Grading: the judge replaces nbgrader's Execute (student code in a sandboxed kernel, the
    # verdict computed outside it); the rest of nbgrader's pipeline stays as it is.
    # (COURSE_STOCK_AUTOGRADE=1 keeps stock nbgrader, for the benchmark's side-by-side run only.)
    if os.environ.get("COURSE_STOCK_AUTOGRADE"):
        return
    c.Autograde.exporter_class = "autograder.nbgrader_judge.SubmissionExporter"
    c.Autograde.sanitize_preprocessors = [
        "autograder.nbgrader_judge.RestoreCells" if _name(pp) == "DeduplicateIds" else pp
        for pp in _default("sanitize_preprocessors")
    ]
    c.Autograde.autograde_preprocessors = [
        "autograder.nbgrader_judge.JudgeSubmission" if _name(pp) == "Execute" else pp
        for pp in _default("autograde_preprocessors")
    ]
    # Feedback needs no setting: check cells hold only the verdict the judge wrote, and the
    # hidden checks never enter the notebook (autograder/checks), so there is nothing to hide.


def _default(preprocessors: str) -> list:
    from nbgrader.converters import Autograde
    return Autograde.class_traits()[preprocessors].make_dynamic_default()


def _name(preprocessor) -> str:
    return preprocessor if isinstance(preprocessor, str) else preprocessor.__name__
