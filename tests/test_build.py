"""One source of truth: source/ follows reference_solutions/, release/ follows source/, and
release/ holds no solution code and no hidden checks."""

import nbformat

import course_config
from autograder.tools import build

ROOT = course_config.ROOT


def test_source_and_release_match_a_fresh_build():
    assert build.differences() == []


def test_solution_cells_equal_the_reference_sections():
    for spec in course_config.ASSIGNMENTS:
        nb = nbformat.read(ROOT / "source" / spec.folder / f"{spec.name}.ipynb", as_version=4)
        sections = build.reference_sections(spec.name)
        solutions = {c.metadata.nbgrader["grade_id"]: c.source for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("solution")}
        assert solutions == {lv.name: sections[lv.name] for lv in spec.levels}


def test_every_level_has_a_solution_cell_and_a_check_cell_with_its_points():
    for spec in course_config.ASSIGNMENTS:
        nb = nbformat.read(ROOT / "release" / spec.folder / f"{spec.name}.ipynb", as_version=4)
        meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
        checks = {m["grade_id"]: m["points"] for m in meta if m.get("grade")}
        assert checks == {f"check_{lv.name}": lv.points for lv in spec.levels}
        solutions = [m["grade_id"] for m in meta if m.get("solution")]
        assert solutions == [lv.name for lv in spec.levels]


def test_release_holds_no_solution_and_no_hidden_material():
    for path in (ROOT / "release").rglob("*"):
        if path.is_file():
            text = path.read_text()
            for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "reference_solutions",
                           "autograder", "known_wrong"):
                assert marker not in text, f"{marker!r} in {path}"


def test_release_regions_are_stubs():
    for spec in course_config.ASSIGNMENTS:
        nb = nbformat.read(ROOT / "release" / spec.folder / f"{spec.name}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                region = cell.source.split("##########Begin##########")[1].split("##########End##########")[0]
                assert "raise NotImplementedError()" in region
                lines = [ln.strip() for ln in region.splitlines() if ln.strip()]
                assert lines == ["# YOUR CODE HERE", "raise NotImplementedError()"]


def test_coursekit_copies_are_generated():
    for spec in course_config.ASSIGNMENTS:
        copy = (ROOT / "source" / spec.folder / "coursekit.py").read_text()
        assert copy == build.coursekit_text()
