"""`make demo`: a course copy, three sample submissions, the stock `nbgrader autograde`, the gradebook.

The sample students: `reference` (every region filled with the reference), `stub` (the release
notebook untouched) and `half` (the first two levels done). The same helpers set up the round
trip in tests/.
"""
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

import course_config
from autograder.checks import quiz
from autograder.tools.build import reference_sections

ROOT = course_config.ROOT
COURSE_FILES = ("course_config.py", "nbgrader_config.py", "autograder", "reference_solutions", "source")


def make_course(dest: Path) -> Path:
    """A fresh course directory at `dest` (a copy of the course's files, no gradebook)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in COURSE_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / name)
    return dest


def nbgrader(course: Path, *args, check=True, capture=False, env=None):
    """Run the stock nbgrader command line in `course` (`env`: variables added to this one's)."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, **(env or {}), "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    return subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=course, env=env, check=check,
                          capture_output=capture, text=True)


def submit(course: Path, student: str, spec, filled_levels=(), edit=None) -> Path:
    """submitted/<student>/<folder>/<name>.ipynb: the release notebook with some levels filled."""
    nb = filled_notebook(course, spec, student, filled_levels, edit)
    folder = course / "submitted" / student / spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.name}.ipynb"
    nbformat.write(nb, path)
    return path


def filled_notebook(course: Path, spec, student: str, filled_levels=(), edit=None):
    """The course's release notebook with `filled_levels` answered as `student` writes them, then `edit`ed."""
    nb = nbformat.read(course / "release" / spec.folder / f"{spec.name}.ipynb", as_version=4)
    sections = {level: student_answers(spec, student, code) for level, code in reference_sections(spec.name).items()}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in filled_levels:
            cell.source = sections[grade_id]
    if edit:
        edit(nb)
    return nb


def student_answers(spec, student: str, section: str) -> str:
    """A reference section as `student` writes it: quiz letters in that student's order of the options."""
    checks = importlib.import_module(f"autograder.checks.test_{spec.name}")
    if not getattr(checks, "VARIANTS", ""):
        return section
    return quiz.written_for(section, quiz.student_key(checks.QUESTIONS, importlib.import_module(
        f"reference_solutions.{spec.name}"), student, checks.VARIANTS))


def gradebook_rows(course: Path, spec, course_id=course_config.COURSE_ID):
    """[(student, level, score, points)] read from the course's gradebook."""
    from nbgrader.api import Gradebook
    rows = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=course_id) as gb:
        for student in sorted(s.id for s in gb.students):
            notebook = gb.find_submission_notebook(spec.name, spec.folder, student)
            for level in spec.levels:
                grade = next(g for g in notebook.grades if g.name == f"check_{level.name}")
                rows.append((student, level.name, grade.score, grade.max_score))
    return rows


def print_gradebook(rows):
    students = sorted({r[0] for r in rows}, key=[r[0] for r in rows].index)
    levels = list(dict.fromkeys(r[1] for r in rows))
    score = {(r[0], r[1]): r[2] for r in rows}
    total_points = sum(r[3] for r in rows if r[0] == students[0])
    width = max(len(lv) for lv in levels)
    print(f"\n{'level':<{width}}  " + "  ".join(f"{s:>10}" for s in students))
    for lv in levels:
        print(f"{lv:<{width}}  " + "  ".join(f"{score[s, lv]:>10g}" for s in students))
    totals = [sum(score[s, lv] for lv in levels) for s in students]
    print(f"{'total':<{width}}  " + "  ".join(f"{f'{t:g}/{total_points:g}':>10}" for t in totals))


def main():
    course = make_course(ROOT / "demo")
    for spec in course_config.ASSIGNMENTS:
        nbgrader(course, "generate_assignment", spec.folder, "--force", "--log-level=WARN")
        levels = [lv.name for lv in spec.levels]
        submit(course, "reference", spec, levels)
        submit(course, "stub", spec)
        submit(course, "half", spec, levels[:2])
        nbgrader(course, "autograde", spec.folder, "--force", "--log-level=WARN")
        print(f"\n== {spec.folder}: gradebook (student x level x points), {course / 'gradebook.db'}")
        print_gradebook(gradebook_rows(course, spec))


if __name__ == "__main__":
    main()
