"""RestoreCells: sanitising, in place of nbgrader's DeduplicateIds.

Every nbgrader cell's metadata is rebuilt from the gradebook (grade, solution, locked, task,
points, schema version, checksum as generate_assignment recorded them): a flipped flag, another
schema version or a forged checksum in a submission can neither raise in nbgrader's later steps
(which would stop the whole class) nor change how the cell is graded. A grade_id the gradebook
does not know makes a plain cell. Duplicated or half-stripped nbgrader cells become plain cells,
and missing check cells are added back at the end (nbgrader's own add_missing_cells fails when
the cell before a missing one is missing too). OverwriteCells, which runs next, then restores
every check cell's source and points from the gradebook. What it changed is noted in the
notebook's metadata, for the feedback.
"""
import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.messages import t
from autograder.plugins.exporter import PROBLEMS_KEY


class RestoreCells(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook
        seen, notes = set(), []
        unreadable = PROBLEMS_KEY in nb.metadata  # already explained; restored cells are expected
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            source = gb.find_notebook(info["notebook"], info["assignment"])
            recorded = recorded_metadata(source)
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader")
                if meta is None:
                    continue
                grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
                if grade_id not in recorded or grade_id in seen or cell.cell_type != recorded[grade_id][0]:
                    del cell.metadata["nbgrader"]  # a copy (or a stripped cell) counts as the student's own
                    notes.append(t("有重复或元数据不全的评分单元格，按普通单元格处理",
                                   "a duplicated or half-stripped graded cell was treated as a plain cell"))
                    continue
                seen.add(grade_id)
                if not _same(meta, recorded[grade_id][1]):
                    cell.metadata["nbgrader"] = dict(recorded[grade_id][1])
                    notes.append(t(f"单元格 {grade_id} 的 nbgrader 元数据被改动，已按原样恢复",
                                   f"cell {grade_id}'s nbgrader metadata was changed; restored as released"))
            sources = {cell.name: cell.source for cell in source.source_cells}
            for cell in source.grade_cells:
                if cell.name not in seen and cell.cell_type == "code":
                    restored = nbformat.v4.new_code_cell(sources[cell.name])
                    restored.metadata["nbgrader"] = {
                        "grade": True, "solution": False, "locked": True, "task": False,
                        "grade_id": cell.name, "points": cell.max_score, "schema_version": 3}
                    nb.cells.append(restored)
                    notes.append(t(f"评测单元格 {cell.name} 缺失，已恢复",
                                   f"check cell {cell.name} was missing; restored"))
        if notes and not unreadable:
            nb.metadata[PROBLEMS_KEY] = nb.metadata.get(PROBLEMS_KEY, []) + notes
        return nb, resources


def recorded_metadata(notebook) -> dict:
    """{grade_id: (cell type, nbgrader metadata)} as generate_assignment recorded the notebook."""
    grades = {cell.name: cell for cell in notebook.grade_cells}
    solutions = {cell.name for cell in notebook.solution_cells}
    tasks = {cell.name for cell in notebook.task_cells}
    recorded = {}
    for cell in notebook.source_cells:
        meta = {"cell_type": cell.cell_type, "grade": cell.name in grades, "grade_id": cell.name,
                "locked": bool(cell.locked),
                "schema_version": 3, "solution": cell.name in solutions, "task": cell.name in tasks}
        if cell.name in grades:
            meta["points"] = float(grades[cell.name].max_score)
        if cell.checksum:
            meta["checksum"] = cell.checksum
        recorded[cell.name] = (cell.cell_type, meta)
    return recorded


def _same(meta: dict, recorded: dict) -> bool:
    try:
        points_same = float(meta.get("points", 0)) == float(recorded.get("points", 0))
    except (TypeError, ValueError):
        return False
    return points_same and set(meta) == set(recorded) and all(
        meta[key] == value for key, value in recorded.items() if key != "points")
