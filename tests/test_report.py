"""`python -m autograder.tools.report`: a class graded by the stock `nbgrader autograde` in a temporary
course, then the report. Its figures are the gradebook's, the submissions with problems are
listed with their reasons (from grading_results/, not from the autograded notebooks), the plot is
matplotlib's SVG and PNG, and nothing hidden reaches the page."""
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import matplotlib
import pytest

import course_config
from autograder.messages import t
from autograder.tools import demo, report

SPEC = course_config.assignment("multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]
OUT = course_config.ROOT / "artifacts" / "report"  # kept after the run: the plot an instructor would show


def _exit_in_first_cell(nb):
    nb.cells.insert(1, __import__("nbformat").v4.new_code_cell("import os\nos._exit(3)"))


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = demo.make_course(tmp_path_factory.mktemp("report") / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    demo.submit(course, "alice", SPEC, LEVELS)  # full marks
    demo.submit(course, "bob", SPEC)  # the untouched stub
    demo.submit(course, "carol", SPEC, LEVELS[:2])  # the first two levels
    demo.submit(course, "dave", SPEC, LEVELS, edit=_exit_in_first_cell)  # kills its kernel once
    broken = demo.submit(course, "erin", SPEC, LEVELS)
    broken.write_text(broken.read_text()[:-40])  # truncated: not JSON any more
    demo.nbgrader(course, "autograde", SPEC.folder, "--log-level=ERROR", check=False, capture=True)
    run = subprocess.run([sys.executable, "-m", "autograder.tools.report", SPEC.folder, "--out", str(OUT)],
                         cwd=course, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    return course, run.stdout, run.stderr


@pytest.fixture
def course_copy(graded_course, tmp_path):
    """A copy of the graded course, for a test that changes it."""
    return shutil.copytree(graded_course[0], tmp_path / "course")


def test_figures_equal_the_gradebook(graded_course):
    course, *_ = graded_course
    rows = demo.gradebook_rows(course, SPEC)
    stats = {s.name: s for s in report.level_stats(SPEC, report.class_scores(course, SPEC))}
    students = sorted({r[0] for r in rows})
    assert students == ["alice", "bob", "carol", "dave", "erin"]
    for level in SPEC.levels:
        scores = [score for _, name, score, _ in rows if name == level.name]
        full = sum(score == level.points for score in scores)
        assert stats[level.name].pass_rate == pytest.approx(full / len(scores))
        assert stats[level.name].mean == pytest.approx(sum(scores) / len(scores))
        assert sum(stats[level.name].distribution.values()) == len(scores)
    # dave's other cells re-ran in a new kernel; erin's unreadable notebook scores 0
    assert stats["masked_softmax"].pass_rate == pytest.approx(3 / 5)  # alice, carol, dave
    assert stats["attention_shapes"].pass_rate == pytest.approx(2 / 5)  # alice, dave


def test_terminal_table_and_page_show_the_figures(graded_course):
    _, printed, stderr = graded_course
    assert not stderr  # no font warnings either
    page = (OUT / f"report_{SPEC.folder}.html").read_text()
    for line in ("masked_softmax", "60%", "1.20", "attention_shapes", "40%", "0.80"):
        assert line in printed and line in page, line
    svg = (OUT / f"report_{SPEC.folder}.svg").read_text()
    root = ET.fromstring(svg.encode())  # well-formed XML, an <svg> root, made by matplotlib
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Matplotlib" in svg
    assert "<svg" in page and "</svg>" in page and "<?xml" not in page and "<!DOCTYPE svg" not in page  # inline
    png = OUT / f"report_{SPEC.folder}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"\nreport plot: {png}")


def test_problem_submissions_are_listed_with_their_reasons(graded_course):
    course, printed, _ = graded_course
    problems, _ = report.submission_problems(course, SPEC)
    assert set(problems) == {"dave", "erin"}
    assert any("内核退出" in r and "kernel" in r for r in problems["dave"])
    assert any("无法读取" in r and "could not be read" in r for r in problems["erin"])
    assert all(len(set(reasons)) == len(reasons) for reasons in problems.values())  # once each
    page = (OUT / f"report_{SPEC.folder}.html").read_text()
    for student in ("dave", "erin"):
        assert f"{student}: " in printed and f"<b>{student}</b>" in page


def test_problems_come_from_the_grading_results_not_the_notebooks(course_copy):
    shutil.rmtree(course_copy / "autograded")  # every verdict text gone; grading_results/ stays
    problems, _ = report.submission_problems(course_copy, SPEC)
    assert set(problems) == {"dave", "erin"}
    assert any("内核退出" in r and "kernel" in r for r in problems["dave"])
    assert any("无法读取" in r and "could not be read" in r for r in problems["erin"])
    result = report.write_report(course_copy, SPEC, course_copy / "out")
    assert result["problems"] == problems and result["paths"]["png"].exists()


def test_a_submission_neither_graded_nor_in_the_gradebook_is_listed_as_not_autograded(course_copy):
    folder = course_copy / "submitted" / "frank" / SPEC.folder
    shutil.copytree(course_copy / "submitted" / "alice" / SPEC.folder, folder)
    (course_copy / report.RESULTS / SPEC.folder / "bob.json").unlink()  # bob is still in the gradebook
    problems, _ = report.submission_problems(course_copy, SPEC)
    assert set(problems) == {"dave", "erin", "frank"}
    assert problems["frank"] == [t(*report.NOT_AUTOGRADED)]
    assert "frank" not in report.class_scores(course_copy, SPEC)  # the figures are the gradebook's


def test_plot_without_a_chinese_font_writes_english_labels_and_nothing_to_stderr(monkeypatch, tmp_path, capfd):
    monkeypatch.setattr(report, "available_fonts", lambda: ["DejaVu Sans"])
    monkeypatch.setitem(matplotlib.rcParams, "svg.fonttype", "none")  # text stays text: readable below
    scores = {"alice": {lv.name: float(lv.points) for lv in SPEC.levels}, "bob": {lv.name: 0.0 for lv in SPEC.levels}}
    stats = report.level_stats(SPEC, scores)
    svg, png = tmp_path / "plot.svg", tmp_path / "plot.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report.plot(SPEC, stats, scores, svg, png)
        monkeypatch.setattr(report, "label", lambda zh, en, cjk=True: zh)  # Chinese anyway: glyphs missing
        report.plot(SPEC, stats, scores, tmp_path / "zh.svg", tmp_path / "zh.png")
    assert not caught and capfd.readouterr().err == ""
    text = svg.read_text()
    assert "total scores" in text and "full marks" in text
    assert not any("\u4e00" <= c <= "\u9fff" for c in text)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_reveals_nothing_hidden(graded_course):
    course, printed, _ = graded_course
    page = (OUT / f"report_{SPEC.folder}.html").read_text()
    hidden = (course / "autograder" / "checks" / "test_multihead_attention.py").read_text()
    code_lines = [line.strip() for line in hidden.splitlines() if len(line.strip()) > 20]
    for text in (page, printed):
        for leak in ("autograder/", "reference_solutions", "known_wrong", "_pytest", "Traceback", str(course)):
            assert leak not in text, leak
        assert not [line for line in code_lines if line in text]
