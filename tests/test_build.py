"""One source of truth: source/ follows reference_solutions/, release/ follows source/, and
release/ holds no solution code and no hidden checks."""

import nbformat
import pytest

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


def _toy_course(tmp_path, cells):
    """A course root holding one assignment `99_toy` whose notebook is `cells` (code sources)."""
    (tmp_path / "reference_solutions").mkdir()
    (tmp_path / "reference_solutions" / "toy.py").write_text(
        "# <level: double>\ndef double(x):\n    ##########Begin##########\n    return 2 * x\n"
        "    ##########End##########\n# </level>\n")
    folder = tmp_path / "source" / "99_toy"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, folder / "toy.ipynb")
    return course_config.Assignment("99_toy", "toy", (course_config.Level("double", 3),))


def test_marker_cells_become_the_levels_cells_with_course_configs_points(tmp_path):
    """An author writes `# <level: NAME>` and `# <check: NAME>`; the build stamps grade ids, points
    and nbgrader's solution markers (the reference carries only the Begin/End region)."""
    spec = _toy_course(tmp_path, ["# <level: double>", "# <check: double>\n# 评测 / Check\nprint(double(2))"])
    solution, check = build.synced_notebook(spec, tmp_path).cells
    assert solution.metadata.nbgrader == build.nbgrader_metadata("level", spec.levels[0])
    assert solution.metadata.nbgrader["grade_id"] == "double" and solution.metadata.nbgrader["solution"]
    assert solution.source == ("def double(x):\n    ##########Begin##########\n    ### BEGIN SOLUTION\n"
                               "    return 2 * x\n    ### END SOLUTION\n    ##########End##########")
    assert check.metadata.nbgrader["grade_id"] == "check_double" and check.metadata.nbgrader["points"] == 3
    assert check.metadata.nbgrader["locked"] and check.source == "# 评测 / Check\nprint(double(2))"


def test_points_follow_course_config_on_every_build(tmp_path):
    spec = _toy_course(tmp_path, ["# <level: double>", "# <check: double>\nprint(double(2))"])
    stamped = build.synced_notebook(spec, tmp_path)
    nbformat.write(stamped, tmp_path / "source" / "99_toy" / "toy.ipynb")
    spec = course_config.Assignment("99_toy", "toy", (course_config.Level("double", 5),))
    assert build.synced_notebook(spec, tmp_path).cells[1].metadata.nbgrader["points"] == 5


@pytest.mark.parametrize("cells, problem", [
    (["# <level: double>"], "needs one `# <check: double>` cell, found 0"),
    (["# <level: double>", "# <check: double>\n1", "# <check: double>\n2"], "found 2"),
    (["# <level: double>", "# <check: double>\n1", "# <check: triple>\n2"], "not a level of 99_toy")])
def test_the_build_stops_on_a_missing_doubled_or_unknown_level_cell(tmp_path, cells, problem):
    spec = _toy_course(tmp_path, cells)
    with pytest.raises(SystemExit, match=problem.replace("(", r"\(").replace("`", ".")):
        build.synced_notebook(spec, tmp_path)


def test_given_cells_are_stamped_from_their_one_source():
    """Every locked cell of given code equals its reference scaffold with the stamps filled in: 05's
    and 06's corpus helpers are corpus.py's, 07's attention is 01's reference."""
    for spec in course_config.ASSIGNMENTS:
        nb = nbformat.read(ROOT / "source" / spec.folder / f"{spec.name}.ipynb", as_version=4)
        for name, code in build.scaffold_cells(spec.name).items():
            cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == name]
            assert [c.source for c in cells] == [code], f"{spec.folder}: {name} (run `make release`)"
            assert cells[0].metadata.nbgrader["locked"]
    corpus = build.scaffold_cells("corpus")["corpus"]
    for name in ("rnn_from_scratch", "rnn_models"):
        assert build.scaffold_cells(name)["language_model"].startswith(corpus + "\n")
    assert "class MultiHeadAttention" in build.scaffold_cells("transformer")["given_attention"]


def _toy_given(tmp_path, notebook_code):
    """The toy course with a given cell `helpers` stamped from another module's scaffold."""
    spec = _toy_course(tmp_path, ["# <level: double>", "# <check: double>\nprint(double(2))", notebook_code])
    (tmp_path / "reference_solutions" / "shared.py").write_text(
        "# <scaffold: half>\ndef half(x):\n    return x / 2\n# </scaffold>\n")
    with open(tmp_path / "reference_solutions" / "toy.py", "a") as f:
        f.write("\n\n# <scaffold: helpers>\n# given\n# <stamp: shared half>\n# </scaffold>\n")
    nb = nbformat.read(tmp_path / "source" / "99_toy" / "toy.ipynb", as_version=4)
    nb.cells[2].metadata["nbgrader"] = {"grade_id": "helpers", "locked": True, "grade": False, "solution": False,
                                        "schema_version": 3, "task": False}
    nbformat.write(nb, tmp_path / "source" / "99_toy" / "toy.ipynb")
    return spec


def test_a_hand_edited_given_cell_is_restamped_from_its_source(tmp_path):
    spec = _toy_given(tmp_path, "# given\ndef half(x):\n    return x // 2  # edited by hand")
    assert build.synced_notebook(spec, tmp_path).cells[2].source == "# given\ndef half(x):\n    return x / 2"


def test_a_stamp_of_a_missing_section_stops_the_build(tmp_path):
    spec = _toy_given(tmp_path, "")
    text = (tmp_path / "reference_solutions" / "toy.py").read_text()
    (tmp_path / "reference_solutions" / "toy.py").write_text(text.replace("shared half", "shared third"))
    with pytest.raises(SystemExit, match=r"shared.py has no section \['third'\]"):
        build.synced_notebook(spec, tmp_path)


def test_a_coursekit_setting_line_that_is_gone_stops_the_build():
    from autograder.tools.build import COURSEKIT, coursekit_text
    text = COURSEKIT.read_text()
    assert coursekit_text(text).count("QUIZ_VARIANTS = ") == 1
    for line in ('LANGUAGE = "zh+en"', "QUIZ_VARIANTS = True"):
        with pytest.raises(SystemExit, match="keep that line as it is"):
            coursekit_text(text.replace(line, line.replace(" = ", " =  ")))
