"""JudgeSubmission, in place of nbgrader's Execute: the engine's result into the check cells.

The exporter gives this submission's result: the stored one of the code nbgrader's sanitised
notebook runs, or one graded now. The student's
cells get the outputs their run produced; each check cell gets its level's verdict table and
score as outputs, which nbgrader's SaveAutoGrades records.
"""
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.engine.result import Level
from autograder.engine.submission import executed_cells, folder_files, is_check_cell
from autograder.messages import t
from autograder.plugins.exporter import PROBLEMS_KEY
from autograder.plugins.render import verdict_outputs


class JudgeSubmission(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        exporter = self.parent  # the GradingExporter: one per command
        info = resources["nbgrader"]
        folder = Path(resources["metadata"]["path"])  # autograded/<student>/<assignment>, files copied
        files, _ = folder_files(folder, ignore=exporter.parent.coursedir.ignore)  # its notes: the submission's
        result = exporter.result(info["assignment"], info["student"], nb, files)
        for cell, outputs in zip(executed_cells(nb), result.outputs):
            cell.outputs = [nbformat.from_dict(output) for output in outputs]
        notes = list(dict.fromkeys(nb.metadata.get(PROBLEMS_KEY, []) + result.problems
                                   + result.isolation["warnings"]))
        total = 0.0
        for cell in nb.cells:
            if is_check_cell(cell):
                level = cell.metadata.nbgrader["grade_id"].removeprefix("check_")
                verdict = result.levels.get(level) or _unknown_level(level, cell)
                cell.outputs = verdict_outputs(verdict, notes)
                cell.execution_count = None
                total += verdict.score
        for message in notes:
            self.log.warning("%s: %s", info["student"], message)
        self.log.info("%s %s: %g/%g points in %.1f s [%s]", exporter.progress(), info["student"], total,
                      result.max_score, result.timings.get("total_s", 0), result.isolation["layers"])
        return nb, resources


def _unknown_level(level, cell) -> Level:
    points = float(cell.metadata.nbgrader.get("points", 0))
    return Level(level, points, problem=t(f"未知的检查单元格 {level}", f"unknown check cell {level}"))
