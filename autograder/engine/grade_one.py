"""grade_one: one submission in, one result out. What a worker runs for each task.

    python -m autograder.engine.grade_one submitted/alice/01_multihead_attention/multihead_attention.ipynb
        [--assignment 01_multihead_attention] [--json]

The student's cells run once in a fresh sandboxed kernel (never the check cells); the
assignment's hidden checks run here, beside it, reaching the student's code through plain data
only; then the kernel, its sandbox and its folders are destroyed. Nothing survives from one call
to the next. The result is a `Result` (autograder/engine/result.py: typed, JSON in and out).
"""
import argparse
import hashlib
import json
import os
import resource
import socket
import time
from pathlib import Path

import course_config
from autograder.coursekit import STUDENT_FILE
from autograder.engine import channel
from autograder.engine.judge import judge
from autograder.engine.store import grader_version
from autograder.engine.kernel import SubmissionKernel
from autograder.engine.kernel_factory import worker_factory
from autograder.engine.result import Level, Result
from autograder.engine.sandbox import SandboxUnavailable
from autograder.engine.session import KernelSession, KernelStudent
from autograder.engine.submission import Submission, executed_cells, is_check_cell, read_notebook, run_key
from autograder.messages import t


def grade_one(submission: Submission, limits=course_config.LIMITS, device: str = "cpu") -> Result:
    """The result of grading `submission` (see the module's docstring). device: "cpu" or "cuda"
    (the checks' device; "cuda" falls back to CPU, with a note, where this worker has none).
    On a Dask worker its kernel is forked from the worker's kernel factory."""
    started, cpu_started = time.monotonic(), _cpu_seconds()
    spec = course_config.assignment(submission.assignment)
    nb, problems = read_notebook(submission.notebook)
    problems = list(submission.notes) + problems
    device, device_note = _device(device)
    timings = {}
    files = (*submission.files, (STUDENT_FILE, submission.student.encode()))  # whose notebook: coursekit.student_id
    with SubmissionKernel.start(limits, files, worker_factory(limits, device), device) as kernel:
        session = KernelSession(nb, kernel, limits)  # waits for the kernel's warm-up import
        timings["kernel_start_s"] = time.monotonic() - started
        session.run_cells(skip=is_check_cell)
        timings["cells_s"] = time.monotonic() - started - timings["kernel_start_s"]
        checks_started = time.monotonic()
        levels = judge(spec.name, KernelStudent(session), device, student_id=submission.student,
                       seed=submission.seed)
        timings["checks_s"] = time.monotonic() - checks_started
        problems += session.problems
        timed_out = session.timed_out
        channel_layer, channel_warnings = channel.describe()  # the Dask channel this task came over
        isolation = {"layers": f"{kernel.sandbox.describe()} {channel_layer}".strip(),
                     "warnings": kernel.sandbox.warnings + channel_warnings}
    timings["total_s"] = time.monotonic() - started
    timings["cpu_s"] = _cpu_seconds() - cpu_started
    return _result(submission, nb, device=device, score=sum(result.score for result in levels.values()),
                   levels=levels, grader=grader_version(spec.name),
                   outputs=[cell.get("outputs", []) for cell in executed_cells(nb)],
                   problems=problems + device_note, timed_out=timed_out,
                   isolation=isolation,
                   timings={name: round(seconds, 3) for name, seconds in timings.items()},
                   worker=f"{socket.gethostname()}:{os.getpid()}")


def failed_result(submission: Submission, reason: str) -> Result:
    """The result of a submission that could not be graded at all (its worker kept dying...):
    every level 0, with the reason."""
    nb, problems = read_notebook(submission.notebook)
    problems = list(submission.notes) + problems
    levels = course_config.assignment(submission.assignment).levels
    return _result(submission, nb, device="", score=0.0,
                   levels={lv.name: Level(lv.name, lv.points, problem=reason) for lv in levels},
                   outputs=[], problems=problems + [reason], timed_out=False,
                   isolation={"layers": "", "warnings": []}, timings={}, worker="")


def _result(submission: Submission, nb, **fields) -> Result:
    """A result: what names the submission and the code that ran, then `fields`."""
    spec = course_config.assignment(submission.assignment)
    return Result(spec.folder, submission.student, run_key(nb, submission.files),
                  float(sum(level.points for level in spec.levels)), attempt=submission.attempt,
                  seed=submission.seed or spec.seed,
                  notebook_sha256=hashlib.sha256(submission.notebook).hexdigest(),
                  **fields)


def _device(requested: str) -> tuple:
    if requested != "cuda":
        return "cpu", []
    import torch
    if torch.cuda.is_available():
        return "cuda", []
    return "cpu", [t("此评分节点没有 GPU：检查在 CPU 上运行", "this grading worker has no GPU: the checks ran on CPU")]


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the kernels and their sandboxes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.engine.grade_one",
                                     description="Grade one submitted notebook; print its result.")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--assignment", help="folder or name (default: the notebook's name)")
    parser.add_argument("--student", default="", help="default: the folder above the notebook's")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = parser.parse_args(argv)
    spec = course_config.assignment(args.assignment or args.notebook.stem)
    submission = Submission.from_path(args.notebook, spec.folder, args.student,
                                      source=course_config.ROOT / "source" / spec.folder)
    try:
        result = grade_one(submission, course_config.LIMITS, spec.device)
    except SandboxUnavailable as refusal:
        raise SystemExit(str(refusal))
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
        return
    print(f"{result.student} / {result.assignment}: {result.score:g}/{result.max_score:g} "
          f"[{result.isolation['layers']}] {result.timings['total_s']:.1f} s")
    for name, level in result.levels.items():
        passed = sum(check.passed for check in level.checks)
        print(f"  {name:<28} {level.score:>5g}/{level.points:g}  {passed}/{len(level.checks)} checks"
              + (f"  ! {level.problem}" if level.problem else ""))
    for problem in result.problems:
        print(f"  ! {problem}")


if __name__ == "__main__":
    main()
