"""`make bench`: 评测 on submit, measured in one run (figures printed side by side).

In a course copy with an exchange and a running grading service (2 workers on this machine);
students are accounts of this host (the service admits a folder only from the account it names),
made by the bench as root (st-bench, st-b00...st-b39):
  1. one student's `nbgrader submit` (the command line, as that account, 20 times, each a new
     version of the notebook so each is graded): from the moment submit returns until the feedback
     page is in the exchange, and until `nbgrader fetch_feedback` has fetched it: p50 and p95;
  2. a burst: 40 students submit within 10 s (what `nbgrader submit` writes, owned by each
     student's account, from one process): seconds until every verdict is fetchable;
  3. `nbgrader autograde A --force` on that class, already graded by the service (results from the
     store) vs the same class graded afresh (no stored results): wall time, ratio, same gradebook.
Each figure comes with the costs that bound it (the service's own timings per submission).
"""
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.tools import demo
from autograder.tools.service_world import BIN, SPEC, World

CLI = "st-bench"

LEVELS = [lv.name for lv in SPEC.levels]
ONE, BURST, BURST_S = 20, 40, 10.0


def percentile(values, q) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def one_student(world: World) -> dict:
    """`nbgrader submit` ONE times (a new version each time); seconds to the page, and to fetch_feedback."""
    home = world.home(World.account(CLI))
    (home / ".jupyter").mkdir(exist_ok=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'rnn-attention'\nc.Exchange.root = {str(world.exchange)!r}\n")
    world.give(home, CLI)
    inbound = world.inbound
    ready, fetched, submit_s, fetch_s, grade_s, record_s = [], [], [], [], [], []
    for attempt in range(ONE):
        def version(nb, attempt=attempt):
            cell = next(c for c in nb.cells if c.cell_type == "code")  # the imports: a cell the kernel runs
            cell.source += f"\n# version {attempt}"  # another run key: graded, not taken from the store
        notebook = home / SPEC.folder / f"{SPEC.name}.ipynb"
        nbformat.write(world.notebook(LEVELS[: 1 + attempt % 5], version), notebook)
        world.give(notebook, CLI)
        before = set(os.listdir(inbound))
        started = time.monotonic()
        _as_student(world, home, "submit")
        returned = time.monotonic()
        (name,) = set(os.listdir(inbound)) - before
        world.wait_done(name, timeout=300)
        page = _feedback_of(world, home, name)
        while not page.exists():
            time.sleep(0.02)
        ready.append(time.monotonic() - returned)
        _as_student(world, home, "fetch_feedback")
        fetched.append(time.monotonic() - returned)
        submit_s.append(returned - started)
        fetch_s.append(fetched[-1] - ready[-1])
        record = json.loads(world.done(name).read_text())
        grade_s.append(record["grade_s"])
        record_s.append(record["record_s"])
    return {"ready": ready, "fetched": fetched, "submit_s": submit_s, "fetch_s": fetch_s, "grade_s": grade_s,
            "record_s": record_s}


def _as_student(world, home: Path, command: str):
    """`nbgrader <command> 01_multihead_attention` as the student's account, in their home."""
    account = pwd.getpwnam(World.account(CLI))
    run = subprocess.run(["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups",
                          str(BIN / "nbgrader"), command, SPEC.folder, "--log-level=WARN"], cwd=home,
                         capture_output=True, text=True, env={**world.env, "HOME": str(home)}, timeout=300,
                         check=False)
    if run.returncode:
        raise SystemExit(f"nbgrader {command}: {run.stderr[-3000:]}")


def _feedback_of(world, home, name) -> Path:
    from nbgrader.utils import notebook_hash
    cache = home / ".local/share/jupyter/nbgrader_cache/rnn-attention" / name.rsplit("+", 1)[0]
    secret = (cache / "submission_secret.txt").read_text()
    return world.exchange / "rnn-attention" / "feedback" / f"{notebook_hash(secret=secret, notebook_id=SPEC.name)}.html"


def burst(world: World) -> dict:
    """BURST students submit, one every BURST_S / BURST seconds: until every page is in the exchange."""
    started, names = time.monotonic(), []
    for i in range(BURST):
        names.append(world.submit(World.account(f"st-b{i:02d}"), LEVELS[: i % 6]))
        time.sleep(max(0.0, started + (i + 1) * BURST_S / BURST - time.monotonic()))
    submitted = time.monotonic()
    world.wait_done(*names, timeout=900)
    while not all(world.feedback_page(n).exists() for n in names):
        time.sleep(0.05)
    done = time.monotonic()
    records = [json.loads(world.done(n).read_text()) for n in names]
    return {"from_first_s": done - started, "from_last_s": done - submitted, "submit_s": submitted - started,
            "grade_s": [r["grade_s"] for r in records], "record_s": [r["record_s"] for r in records]}


def autograde_twice(world: World) -> dict:
    """`nbgrader autograde A` on the service's class (as the instructor types it: nbgrader skips what
    the service recorded), the same with --force (every submission through nbgrader again, each
    result from the store), and on a copy without the service's work (graded afresh)."""
    fresh = world.top / "fresh"
    shutil.copytree(world.course, fresh, ignore=shutil.ignore_patterns("grading_results", "autograded", "feedback"))
    runs = {}
    for label, course, force in (("stored", world.course, ()), ("stored_force", world.course, ("--force",)),
                                 ("fresh", fresh, ())):
        started = time.monotonic()
        run = subprocess.run([str(BIN / "nbgrader"), "autograde", SPEC.folder, *force, "--log-level=WARN"],
                             cwd=course, env=world.env, capture_output=True, text=True, check=False, timeout=1800)
        if run.returncode:
            raise SystemExit(run.stderr[-3000:])
        runs[label] = time.monotonic() - started
        runs[f"{label}_gradebook"] = {(s, lv): score for s, lv, score, _ in demo.gradebook_rows(course, SPEC)}
    return runs


def main():
    if os.geteuid() != 0:
        raise SystemExit("bench_service: students are accounts of this host: run it as root to make them")
    top = Path(tempfile.mkdtemp(prefix="bench-service-"))
    os.chmod(top, 0o755)
    world = World.make(top, COURSE_WORKERS=2, COURSE_ATTEMPTS_PER_HOUR=1000)
    world.start_service()
    try:
        world.wait_started()
        one = one_student(world)
        many = burst(world)
        world.stop_service()
        twice = autograde_twice(world)
    finally:
        if world.service is not None:
            world.stop_service()
        shutil.rmtree(top, ignore_errors=True)
    med = statistics.median
    print(f"\n== 评测 on submit: {SPEC.folder}, service on a LocalCluster of 2 workers, {os.cpu_count()} cores")
    print(f"one submission ({ONE}x `nbgrader submit`):  verdict in the exchange p50 {med(one['ready']):.2f} s, "
          f"p95 {percentile(one['ready'], 0.95):.2f} s;  fetched by `nbgrader fetch_feedback` p50 "
          f"{med(one['fetched']):.2f} s, p95 {percentile(one['fetched'], 0.95):.2f} s")
    print(f"   bounded by: the result (grading, p50 {med(one['grade_s']):.2f} s), its recording through nbgrader "
          f"(p50 {med(one['record_s']):.2f} s); the commands' own start: "
          f"`nbgrader submit` {med(one['submit_s']):.2f} s, "
          f"`nbgrader fetch_feedback` {med(one['fetch_s']):.2f} s (p50)")
    print(f"burst of {BURST} within {many['submit_s']:.1f} s:  every verdict fetchable {many['from_first_s']:.1f} s "
          f"after the first submit ({many['from_last_s']:.1f} s after the last)")
    print(f"   per submission (p50): the recorder waited {med(many['grade_s']):.2f} s for its result (grading on 2 "
          f"workers keeps ahead), "
          f"recording through nbgrader {med(many['record_s']):.2f} s (serial: one gradebook writer), "
          f"{BURST} x recording = {BURST * med(many['record_s']):.1f} s")
    same = twice["stored_gradebook"] == twice["stored_force_gradebook"] == twice["fresh_gradebook"]
    students = len({s for s, _ in twice["fresh_gradebook"]})
    print(f"`nbgrader autograde {SPEC.folder}` on the class the service graded ({students} students): "
          f"{twice['stored']:.1f} s  vs  graded afresh {twice['fresh']:.1f} s  "
          f"= {twice['fresh'] / twice['stored']:.1f}x;  same gradebook: {'yes' if same else 'NO'}")
    print(f"   bounded by: nbgrader's start (the service recorded every submission: nothing left to grade); with "
          f"--force, every submission through nbgrader again, results from the store: {twice['stored_force']:.1f} s "
          f"({twice['stored_force'] / students:.2f} s each: nbgrader's copy, sanitising and gradebook writes) "
          f"= {twice['fresh'] / twice['stored_force']:.1f}x")
    if not same:
        diff = {k: (v, twice["fresh_gradebook"].get(k)) for k, v in twice["stored_gradebook"].items()
                if twice["fresh_gradebook"].get(k) != v}
        print(f"   differences (stored, fresh): {dict(list(diff.items())[:10])}")
        sys.exit(1)


if __name__ == "__main__":
    main()
