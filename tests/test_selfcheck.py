"""The visible checks (评测) run on a student's machine from the release folder alone: they pass
with the reference's code and fail, with a message and no traceback, on the untouched stub."""
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

import course_config
from autograder.tools.build import reference_sections
from autograder.engine.submission import is_check_cell

ROOT = course_config.ROOT


def run_release(tmp_path, spec, fill: bool, cells=is_check_cell):
    folder = tmp_path / spec.folder
    shutil.copytree(ROOT / "release" / spec.folder, folder)  # the release files only
    nb = nbformat.read(folder / f"{spec.name}.ipynb", as_version=4)
    if fill:
        sections = reference_sections(spec.name)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = sections[cell.metadata.nbgrader["grade_id"]]
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return [c for c in nb.cells if cells(c)]


@pytest.mark.parametrize("spec", course_config.ASSIGNMENTS, ids=lambda s: s.name)
def test_visible_checks_pass_with_the_reference(tmp_path, spec):
    for cell in run_release(tmp_path, spec, fill=True):
        text = "".join(o.get("text", "") for o in cell.outputs)
        # stdout only (a busy kernel may send it in several messages); stderr would score 0 in nbgrader
        assert {(o.output_type, o.get("name")) for o in cell.outputs} == {("stream", "stdout")}, cell.outputs
        assert "✓" in text and "✗" not in text


@pytest.mark.parametrize("spec", course_config.ASSIGNMENTS, ids=lambda s: s.name)
def test_visible_checks_fail_on_the_stub_with_a_message(tmp_path, spec):
    for cell in run_release(tmp_path, spec, fill=False):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors and errors[0].ename == "CheckFailed"
        assert len(errors[0].traceback) == 1  # the message only, not a traceback
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "✗" in text


@pytest.mark.parametrize("spec", [s for s in course_config.ASSIGNMENTS
                                  if (ROOT / "release" / s.folder / "quiz_questions.json").exists()],
                         ids=lambda s: s.name)
def test_the_quiz_questions_show_in_the_students_own_order(tmp_path, monkeypatch, spec):
    """The question cells, run from the release folder alone, show the questions (Markdown) in alice's order."""
    monkeypatch.setenv("COURSE_STUDENT_ID", "alice")
    shown = run_release(tmp_path, spec, fill=False, cells=lambda c: "show_questions(" in c.source)
    assert shown
    for cell in shown:
        assert [o.output_type for o in cell.outputs] == ["display_data"], cell.outputs
        assert "alice" in cell.outputs[0].data["text/markdown"] and "- D、" in cell.outputs[0].data["text/markdown"]
