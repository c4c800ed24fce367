"""`make bench`: what grading on Slurm jobs costs before the first result. A class of 4 is graded by
`nbgrader autograde` on the local cluster (2 workers) and on a Slurm on this machine (slurm_local: 2
jobs of 1 worker), alternated, ROUNDS times each; printed: from the command's start to the engine
being up ("grading on ..."), to the first graded submission, and to the end."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import course_config
from autograder.tools import demo, slurm_local

SPEC = course_config.assignment("multihead_attention")
CLASS, ROUNDS = 4, 2
SLURM = {"COURSE_CLUSTER": "slurm", "COURSE_SLURM_JOBS": "2", "COURSE_SLURM_CORES": "1",
         "COURSE_SLURM_MEMORY": "2GB", "COURSE_SLURM_WALLTIME": "00:20:00"}


def timed_autograde(course: Path, env: dict) -> dict:
    """Seconds from `nbgrader autograde`'s start to the engine up, the first graded submission, the end."""
    begin = time.perf_counter()
    marks = {}
    grading = subprocess.Popen([str(Path(sys.executable).parent / "nbgrader"), "autograde", SPEC.folder], cwd=course,
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in grading.stderr:
        for mark, text in (("engine up", "grading on "), ("first graded", " points in ")):
            if text in line and mark not in marks:
                marks[mark] = time.perf_counter() - begin
    if grading.wait() != 0 or len(marks) != 2:
        raise SystemExit(f"bench_slurm: autograde failed ({grading.returncode}) in {course}")
    marks["class graded"] = time.perf_counter() - begin
    return marks


def main():
    if slurm_local.missing():
        print(f"\n== Slurm: skipped, not installed ({', '.join(slurm_local.missing())}; `make slurm` as root)")
        return
    top = Path(tempfile.mkdtemp(prefix="bench-slurm-"))
    slurm = slurm_local.LocalSlurm.start()
    try:
        course = demo.make_course(top / "class")
        demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
        for i in range(CLASS):
            demo.submit(course, f"s{i}", SPEC, [lv.name for lv in SPEC.levels])
        runs = {"local cluster, 2 workers": [], "Slurm, 2 jobs of 1 worker": []}
        for i in range(ROUNDS):
            for (name, marks), env in zip(runs.items(), ({"COURSE_WORKERS": "2"}, {**slurm.env, **SLURM})):
                copy = top / f"run{i}-{len(marks)}-{name.split(',')[0].replace(' ', '-')}"
                shutil.copytree(course, copy)
                marks.append(timed_autograde(copy, env))
    finally:
        slurm.stop()
        shutil.rmtree(top, ignore_errors=True)
    print(f"\n== Slurm: `nbgrader autograde` on a class of {CLASS}, seconds from its start (median of {ROUNDS}, "
          f"alternated; a Slurm on this machine)")
    print(f"  {'':<28}" + "".join(f"{mark:>16}" for mark in runs[next(iter(runs))][0]))
    for name, marks in runs.items():
        print(f"  {name:<28}" + "".join(f"{statistics.median(m[mark] for m in marks):16.1f}" for mark in marks[0]))
    local, on_slurm = (statistics.median(m["first graded"] for m in marks) for marks in runs.values())
    print(f"  first graded on Slurm: {on_slurm - local:+.1f} s ({on_slurm / local:.2f}x the local cluster's)")


if __name__ == "__main__":
    main()
