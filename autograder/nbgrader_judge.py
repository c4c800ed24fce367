"""nbgrader's side of the judge: what `nbgrader autograde` runs, set by course_config.apply.

- `SubmissionExporter` reads a submitted notebook; one that is not a readable notebook (bad
  JSON, not nbformat) becomes an empty notebook carrying the reason, so nbgrader restores the
  check cells and the submission scores 0 with that reason instead of stopping.
- `JudgeSubmission` takes the place of nbgrader's `Execute`: the student's cells run once in a
  sandboxed kernel, check cells never run there; the hidden checks run here, in nbgrader's own
  process, and each check cell gets the verdict table and its score as outputs, which nbgrader's
  SaveAutoGrades records. Every submission's problems are logged, and listed again when the
  command ends.
"""
import atexit
import time
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

import course_config
from autograder import sandbox
from autograder.judge import LevelResult, judge
from autograder.ahead import Ahead, Run, RunStudent, executed_cells, run_key
from autograder.messages import t
from autograder.render import verdict_outputs

PROBLEMS_KEY = "course_judge_problems"  # notebook metadata: problems found before grading
CLASS_PROBLEMS = []  # (student, assignment, [reasons]) of this command, printed at exit


def is_check_cell(cell) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


class SubmissionExporter(NotebookExporter):
    def from_file(self, file_stream, resources=None, **kw):
        try:
            nb = nbformat.read(file_stream, as_version=4)
        except Exception as error:  # bad JSON, not a notebook, wrong schema...
            nb = nbformat.v4.new_notebook()
            nb.metadata[PROBLEMS_KEY] = [t(f"提交的笔记本无法读取（{type(error).__name__}），按空白提交评分",
                                           f"the submitted notebook could not be read ({type(error).__name__}: "
                                           f"{str(error)[:120]}); graded as an empty submission")]
        return self.from_notebook_node(nb, resources, **kw)


class RestoreCells(NbGraderPreprocessor):
    """Sanitising, in place of nbgrader's DeduplicateIds: duplicated or half-stripped nbgrader
    cells become plain cells, and missing check cells are added back at the end (nbgrader's own
    add_missing_cells fails when the cell before a missing one is missing too). OverwriteCells,
    which runs next, then restores every check cell's source and points from the gradebook."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook
        seen, notes = set(), []
        unreadable = PROBLEMS_KEY in nb.metadata  # already explained; restored cells are expected
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is not None and (not meta.get("grade_id") or meta["grade_id"] in seen):
                del cell.metadata["nbgrader"]  # a copy (or a stripped cell) counts as the student's own
                notes.append(t("有重复或元数据不全的评分单元格，按普通单元格处理",
                               "a duplicated or half-stripped graded cell was treated as a plain cell"))
            elif meta is not None:
                seen.add(meta["grade_id"])
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            source = gb.find_notebook(info["notebook"], info["assignment"])
            sources = {cell.name: cell.source for cell in source.source_cells}
            for cell in source.grade_cells:
                if cell.name not in seen and cell.cell_type == "code":
                    restored = nbformat.v4.new_code_cell(sources[cell.name])
                    restored.metadata["nbgrader"] = {
                        "grade": True, "solution": False, "locked": True, "task": False,
                        "grade_id": cell.name, "points": cell.max_score, "schema_version": 3}
                    nb.cells.append(restored)
                    notes.append(t(f"评测单元格 {cell.name} 缺失，已恢复", f"check cell {cell.name} was missing; restored"))
        if notes and not unreadable:
            nb.metadata[PROBLEMS_KEY] = nb.metadata.get(PROBLEMS_KEY, []) + notes
        return nb, resources


class JudgeSubmission(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        started = time.monotonic()
        student = resources["nbgrader"].get("student", "?")
        spec = course_config.assignment(resources["nbgrader"]["assignment"])
        problems = list(nb.metadata.get(PROBLEMS_KEY, []))
        submission_dir = Path(resources.get("metadata", {}).get("path") or ".")
        run = _ahead(submission_dir, spec).take(_submitted_path(submission_dir, spec))
        run.ready.wait()
        if run.error or run.key != run_key(nb, submission_dir, is_check_cell):
            run.close()  # nbgrader's sanitised notebook differs from the submitted one: run it
            self.log.info("%s: running the sanitised notebook (it differs from the one run ahead)", student)
            run = Run(lambda: (nb, [submission_dir]), is_check_cell, student)
            run.ready.wait()
        try:
            if run.error:
                raise run.error
            for cell, ran in zip(executed_cells(nb, is_check_cell), executed_cells(run.nb, is_check_cell)):
                cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
            results = judge(spec.name, RunStudent(run), _device(spec))
            problems += run.session.problems
        finally:
            run.close()
        notes = problems + sandbox.isolation().warnings
        total = 0.0
        for cell in nb.cells:
            if is_check_cell(cell):
                level = cell.metadata.nbgrader["grade_id"].removeprefix("check_")
                result = results.get(level) or _unknown_level(level, cell)
                cell.outputs = verdict_outputs(result, notes)
                cell.execution_count = None
                total += result.score
        for message in notes:
            self.log.warning("%s: %s", student, message)
        if problems:
            CLASS_PROBLEMS.append((student, spec.folder, problems))
        self.log.info("%s %s: %g/%g points in %.1f s [%s]", _progress(submission_dir, spec), student, total,
                      sum(lv.points for lv in spec.levels), time.monotonic() - started,
                      sandbox.isolation().describe())
        return nb, resources


GRADED = []  # submissions graded by this command, for the progress bar


def _progress(submission_dir: Path, spec) -> str:
    """[ 7/40] ███░░░░░░░  (the class: every submission of this assignment in submitted/)"""
    GRADED.append(submission_dir)
    course = submission_dir.parents[2]  # autograded/<student>/<assignment>
    total = max(len(list(course.glob(f"submitted/*/{spec.folder}/{spec.name}.ipynb"))), len(GRADED))
    done = len(GRADED)
    bar = "█" * (20 * done // total) + "░" * (20 - 20 * done // total)
    return f"[{done:>{len(str(total))}}/{total}] {bar}"


@atexit.register
def _print_class_problems():
    if CLASS_PROBLEMS:
        print(f"\n== {t('有问题的提交', 'Submissions with problems')} ({len(CLASS_PROBLEMS)}):")
        for student, assignment, problems in CLASS_PROBLEMS:
            print(f"  {student} / {assignment}: " + "; ".join(problems))


def _device(spec) -> str:
    import torch
    return "cuda" if spec.device == "cuda" and torch.cuda.is_available() else "cpu"


def _unknown_level(level, cell):
    points = float(cell.metadata.nbgrader.get("points", 0))
    return LevelResult(level, points, problem=t(f"未知的检查单元格 {level}", f"unknown check cell {level}"))


_AHEAD = {}  # (course, assignment) -> Ahead: this command's runs


def _ahead(submission_dir: Path, spec) -> Ahead:
    course = submission_dir.parents[2]  # autograded/<student>/<assignment>
    key = (course, spec.folder)
    if key not in _AHEAD:
        _AHEAD[key] = Ahead(course, spec, is_check_cell)
        atexit.register(_AHEAD[key].close)
    return _AHEAD[key]


def _submitted_path(submission_dir: Path, spec) -> Path:
    return submission_dir.parents[2] / "submitted" / submission_dir.parent.name / spec.folder / f"{spec.name}.ipynb"
