"""What a student wrote for an assignment, per level: the code to compare.

A level's code is the text inside its solution cell's `##########Begin##########` /
`##########End##########` regions (the cell whose nbgrader grade_id is the level's name); a cell
whose markers are gone counts whole (what the release scaffold holds is taken out later, as
boilerplate). Code cells the student added, or whose metadata is gone, make the part OTHER; check
cells and cells exactly as released are left out. Notebooks are read without following links and
within budgets (autograder/engine/nofollow.py): a file over them, a link or an unreadable notebook
gives that student a note, never a stop.
"""
import ast
import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder.engine import nofollow
from autograder.engine.submission import MAX_NOTEBOOK_BYTES, is_check_cell, read_notebook
from autograder.messages import t
from autograder.regions import STUDENT_REGION

OTHER = "other_cells"  # the part made of the cells that belong to no level
MAX_PART_CHARS = 64 << 10  # one level's code; beyond it is cut, with a note
MAX_CODE_CHARS = 512 << 10  # one submission's code, all parts together


@dataclass
class StudentCode:
    student: str
    parts: dict = field(default_factory=dict)  # {level or OTHER: code}
    notes: list = field(default_factory=list)  # what was left out, and why (zh / en)

    @property
    def all_code(self) -> str:
        return "\n".join(self.parts.values())


def answers_only(code: str) -> bool:
    """Whether `code` only assigns literals (a quiz's letters, a level's shapes): the same right
    answer is everyone's, so such a part is never compared."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return False
    for node in body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            return False
        try:
            ast.literal_eval(node.value)
        except ValueError:
            return False
    return True


def regions(source: str) -> str:
    """The text of every Begin/End region of a cell, joined; the whole cell when it has none."""
    found = STUDENT_REGION.findall(source)
    return "\n".join(found) if found else source


def notebook_code(nb, levels, released=frozenset()) -> tuple:
    """({part: code}, notes) of a notebook: each level's regions and OTHER (cells that belong to no
    level and are not exactly as `released`)."""
    parts, notes, total = {}, [], 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code" or is_check_cell(cell):
            continue
        source = cell.get("source") or ""
        source = "".join(source) if isinstance(source, list) else str(source)
        meta = cell.get("metadata", {}).get("nbgrader", {})
        level = meta.get("grade_id") if meta.get("solution") and meta.get("grade_id") in levels else None
        if level is None and source.strip() in released:
            continue
        code = regions(source) if level else source
        part = level or OTHER
        room = min(MAX_PART_CHARS - len(parts.get(part, "")), MAX_CODE_CHARS - total)
        if len(code) > room:
            notes.append(t(f"{part} 的代码超过 {MAX_PART_CHARS >> 10} KB（或整份超过 {MAX_CODE_CHARS >> 10} KB），"
                           "只比较前面部分",
                           f"{part}: code over {MAX_PART_CHARS >> 10} KB (or the submission over "
                           f"{MAX_CODE_CHARS >> 10} KB): only its beginning is compared"))
            code = code[:max(room, 0)]
        if code:
            parts[part] = parts[part] + "\n" + code if part in parts else code
            total += len(code)
    return parts, list(dict.fromkeys(notes))


def released_cells(release_notebook: Path) -> frozenset:
    """The code cells of the release notebook, stripped: a cell still exactly so is not the student's."""
    nb, _ = read_notebook(release_notebook.read_bytes())
    return frozenset(("".join(c.source) if isinstance(c.source, list) else c.source).strip()
                     for c in nb.cells if c.cell_type == "code")


def class_code(submitted: Path, spec, released=frozenset()) -> list:
    """[StudentCode] of every student folder in `submitted` with an entry for `spec`, by name:
    submitted/<student>/<assignment>/<notebook>.ipynb, read with no link followed on the way."""
    levels = {lv.name for lv in spec.levels}
    try:
        entries = sorted(os.scandir(submitted), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    students = []
    for entry in entries:
        path = Path(entry.path) / spec.folder / f"{spec.name}.ipynb"
        if not entry.is_dir(follow_symlinks=False) or not os.path.lexists(path.parent):
            continue
        code = StudentCode(entry.name)
        try:
            data = nofollow.read_file(path, MAX_NOTEBOOK_BYTES)
        except OSError as error:
            code.notes.append(unread(path.name, error))
        else:
            nb, problems = read_notebook(data)
            code.parts, notes = notebook_code(nb, levels, released)
            code.notes += problems + notes
        students.append(code)
    return students


def unread(name: str, error: OSError) -> str:
    why = str(error) if isinstance(error, nofollow.Refused) else f"{name}: {error.strerror or error}"
    return t(f"笔记本未读取（{why}），不参与比较", f"the notebook was not read ({why}): not compared")
