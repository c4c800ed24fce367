"""The nbgrader preprocessor that grades a submission with the judge.

It takes the place of nbgrader's `Execute` in `Autograde.autograde_preprocessors`
(course_config.apply): the student's cells run once in a sandboxed kernel, check cells are
never run there; the hidden checks run here, in nbgrader's own process, and each check cell
gets the verdict table and its score as outputs, which nbgrader's SaveAutoGrades records.
"""
import os
import shutil
import tempfile
from pathlib import Path

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

import course_config
from autograder import sandbox
from autograder.judge import LevelResult, judge
from autograder.kernel import KernelSession
from autograder.messages import t
from autograder.render import verdict_outputs


def is_check_cell(cell) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


class JudgeSubmission(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        assignment_id = resources["nbgrader"]["assignment"]
        spec = course_config.assignment(assignment_id)
        submission_dir = Path(resources.get("metadata", {}).get("path") or ".")
        with tempfile.TemporaryDirectory(prefix="judge-") as scratch:
            os.chmod(scratch, 0o711)  # the kernel's user may pass through, not list
            workdir = _copy_files(submission_dir, Path(scratch) / "work")
            box = sandbox.for_submission(workdir)
            with KernelSession(nb, workdir, box) as kernel:
                kernel.run_cells(skip=is_check_cell)
                results = judge(spec.name, kernel.student, _device(spec))
                problems = kernel.problems
        for message in problems + box.warnings:
            self.log.warning("%s: %s", resources["nbgrader"].get("student", "?"), message)
        resources["nbgrader"]["judge_problems"] = problems
        for cell in nb.cells:
            if is_check_cell(cell):
                level = cell.metadata.nbgrader["grade_id"].removeprefix("check_")
                result = results.get(level) or _unknown_level(level, cell)
                cell.outputs = verdict_outputs(result, problems + box.warnings)
                cell.execution_count = None
        return nb, resources


def _device(spec) -> str:
    import torch
    return "cuda" if spec.device == "cuda" and torch.cuda.is_available() else "cpu"


def _unknown_level(level, cell):
    points = float(cell.metadata.nbgrader.get("points", 0))
    return LevelResult(level, points, problem=t(f"未知的检查单元格 {level}", f"unknown check cell {level}"))


def _copy_files(submission_dir: Path, workdir: Path) -> Path:
    """The submission's data files (not notebooks) in a fresh folder the kernel may use."""
    shutil.copytree(submission_dir, workdir, ignore=shutil.ignore_patterns("*.ipynb", ".*"))
    return workdir
