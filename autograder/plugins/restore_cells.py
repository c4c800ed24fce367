"""RestoreCells: sanitising, in place of nbgrader's DeduplicateIds.

Duplicated or half-stripped nbgrader cells become plain cells, and missing check cells are added
back at the end (nbgrader's own add_missing_cells fails when the cell before a missing one is
missing too). OverwriteCells, which runs next, then restores every check cell's source and points
from the gradebook. What it changed is noted in the notebook's metadata, for the feedback.
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
