"""`make bench`: grading speed, measured side by side in one run (these machines are noisy).

Prints, on one generated class of 40 submissions of 01_multihead_attention (correct, partial,
untouched stubs, broken):
  - the stock serial `nbgrader autograde` (nbgrader's Execute, the visible checks) vs ours (the
    sandboxed judge, course_config.PARALLEL_SUBMISSIONS submissions running at once): wall time
    and ratio;
  - ours per submission vs a raw nbclient execution of the same notebooks (ratio);
  - each level's self-check (评测) latency in a running kernel;
  - the time of the training checks (seq2seq, LSTM) where those assignments exist.
"""
import os
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import course_config
from autograder.engine import sandbox
from autograder.tools import demo
from autograder.tools.build import reference_sections

SPEC = course_config.assignment("multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]
CLASS_SIZE = 40


def broken(nb):
    """A plausible broken submission: a wrong mask value and a syntax error in one region."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "masked_softmax":
            cell.source = cell.source.replace("-1e6", "0")
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "transpose_qkv":
            cell.source = cell.source.replace("return", "retrun", 1)


def make_class(course: Path):
    """40 submissions: a quarter each of correct, partial, stub and broken."""
    kinds = [("correct", LEVELS, None), ("partial", LEVELS[:3], None), ("stub", (), None),
             ("broken", LEVELS, broken)]
    for i in range(CLASS_SIZE):
        name, levels, edit = kinds[i % 4]
        demo.submit(course, f"{name}{i:02d}", SPEC, levels, edit)


def timed_autograde(course: Path, stock: bool) -> float:
    env_flag = {"COURSE_STOCK_AUTOGRADE": "1"} if stock else {}
    old = {k: os.environ.get(k) for k in env_flag}
    os.environ.update(env_flag)
    try:
        start = time.perf_counter()
        demo.nbgrader(course, "autograde", SPEC.folder, "--log-level=ERROR", capture=True)
        return time.perf_counter() - start
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def raw_execution(course: Path) -> float:
    """Seconds to execute every submitted notebook with plain nbclient (a fresh kernel each)."""
    start = time.perf_counter()
    for path in sorted((course / "submitted").glob(f"*/{SPEC.folder}/{SPEC.name}.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=course_config.CELL_TIMEOUT_S, allow_errors=True, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute(stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def self_check_latency(course: Path) -> dict:
    """{level: seconds} of each check cell, run in a kernel with the reference filled in."""
    folder = course / "release" / SPEC.folder
    nb = nbformat.read(folder / f"{SPEC.name}.ipynb", as_version=4)
    sections = reference_sections(SPEC.name)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = sections[cell.metadata.nbgrader["grade_id"]]
    NotebookClient(nb, timeout=120, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(folder)}}).execute(stderr=subprocess.DEVNULL)
    latency = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.startswith("check_"):
            timing = cell.metadata["execution"]
            busy = datetime.fromisoformat(timing["iopub.status.busy"].replace("Z", "+00:00"))
            idle = datetime.fromisoformat(timing["iopub.status.idle"].replace("Z", "+00:00"))
            latency[grade_id.removeprefix("check_")] = (idle - busy).total_seconds()
    return latency


def training_checks() -> dict:
    """{assignment/level: seconds} of the hidden training checks against the reference."""
    import importlib
    from autograder.engine.judge import judge
    from autograder.engine.student import LocalStudent
    times = {}
    for spec in course_config.ASSIGNMENTS:
        for level in spec.levels:
            if "train" in level.name:
                reference = importlib.import_module(f"reference_solutions.{spec.name}")
                start = time.perf_counter()
                judge(spec.name, LocalStudent.from_module(reference), levels=[level.name])
                times[f"{spec.name}/{level.name}"] = time.perf_counter() - start
    return times


def main():
    print(f"isolation: {sandbox.isolation().describe()}; cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        stock, ours = (demo.make_course(Path(tmp) / name) for name in ("stock", "ours"))
        for course in (stock, ours):
            demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=ERROR")
            make_class(course)
        t_stock = timed_autograde(stock, stock=True)
        t_ours = timed_autograde(ours, stock=False)
        t_raw = raw_execution(ours)
        scores = {}
        for student, _, score, _ in demo.gradebook_rows(ours, SPEC):
            scores.setdefault(student.rstrip("0123456789"), []).append(score)
        latency = self_check_latency(ours)
    n = CLASS_SIZE
    print(f"\nclass of {n} ({', '.join(f'{k}: {sum(v) / (n // 4):.1f} pts avg' for k, v in scores.items())}"
          f" over {n // 4} students each, levels summed)")
    print(f"{'stock nbgrader autograde (serial)':<44} {t_stock:7.1f} s  {t_stock / n:5.2f} s/submission")
    print(f"{'ours: sandboxed judge, submissions run ahead':<44} {t_ours:7.1f} s  {t_ours / n:5.2f} s/submission")
    print(f"{'speed-up, stock / ours':<44} {t_stock / t_ours:7.2f}x")
    print(f"{'raw nbclient execution of the same notebooks':<44} {t_raw:7.1f} s  {t_raw / n:5.2f} s/submission")
    print(f"{'ours per submission / raw execution':<44} {t_ours / t_raw:7.2f}x")
    print("\nself-check (评测) latency per level, reference code, running kernel:")
    for level, seconds in latency.items():
        print(f"  {level:<28} {seconds * 1000:7.0f} ms")
    print(f"  {'median':<28} {statistics.median(latency.values()) * 1000:7.0f} ms")
    times = training_checks()
    if times:
        print("\nhidden training checks (reference, in-process):")
        for name, seconds in times.items():
            print(f"  {name:<40} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
