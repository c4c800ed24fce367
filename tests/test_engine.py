"""The grading engine: grade_one (one submission → one plain result, nothing left behind) and a
class on Dask: the same gradebook whatever the worker count, and a class that survives a worker
killed mid-class on a real multi-process cluster (`dask scheduler` + two `dask worker`)."""
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import course_config
from autograder.engine import sandbox
from autograder.engine.grade_one import grade_one
from autograder.engine.result import Result
from autograder.engine.submission import Submission, read_notebook, run_key
from autograder.tools import demo
from tests.dask_cluster import Cluster
from tests.intruder import listeners

SPEC = course_config.assignment("multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]
SHORT = course_config.Limits(cell_s=10, notebook_s=60, call_s=15)


def children() -> set:
    """This process's live child processes (pids)."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat[1] == str(os.getpid()) and stat[0] != "Z":
            found.add(int(proc.name))
    return found


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = demo.make_course(tmp_path_factory.mktemp("engine") / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    return course


def class_of(course, n):
    """n submissions: full, untouched, half, and a syntax error in one region, in turn."""
    def broken(nb):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "transpose_qkv":
                cell.source = cell.source.replace("return", "retrun", 1)
    kinds = [(LEVELS, None), ((), None), (LEVELS[:2], None), (LEVELS, broken)]
    for i in range(n):
        levels, edit = kinds[i % len(kinds)]
        demo.submit(course, f"s{i:02d}", SPEC, levels, edit)


def test_grade_one_gives_a_plain_json_result_and_leaves_nothing_behind(course):
    path = demo.submit(course, "alice", SPEC, LEVELS[:3])
    submission = Submission.from_path(path, SPEC.folder, source=course / "source" / SPEC.folder)
    threads, kids = threading.active_count(), children()
    result = grade_one(submission, SHORT)
    assert Result.from_json(result.to_json()) == result  # plain data all the way down
    assert result.student == "alice" and result.assignment == SPEC.folder
    assert {name: level.score for name, level in result.levels.items()} == {
        lv.name: (lv.points if lv.name in LEVELS[:3] else 0.0) for lv in SPEC.levels}
    assert result.score == 6 and result.max_score == 10
    assert result.key == run_key(read_notebook(submission.notebook)[0], submission.files)
    assert {"kernel_start_s", "cells_s", "checks_s", "total_s", "cpu_s"} <= set(result.timings)
    seconds = [level.seconds for level in result.levels.values()]  # each level's checks timed (make bench)
    assert all(s > 0 for s in seconds) and sum(seconds) <= result.timings["checks_s"] + 0.01, seconds
    level = result.levels["multihead_attention"]
    assert level.checks and set(level.as_dict()["checks"][0]) == {
        "name", "passed", "input", "expected", "got", "message", "answer_key", "message_without_answer"}
    assert threading.active_count() == threads  # no thread outlives it
    assert children() <= kids  # nor any kernel or sandbox process


def test_grade_one_command_prints_the_result_as_json(course):
    path = demo.submit(course, "bob", SPEC, LEVELS[:1])
    run = subprocess.run([sys.executable, "-m", "autograder.engine.grade_one", str(path), "--json"],
                         cwd=course, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    result = Result.from_json(run.stdout)
    assert result.student == "bob" and result.score == 2


def gradebook(course) -> dict:
    return {(student, level): score for student, level, score, _ in demo.gradebook_rows(course, SPEC)}


def autograde(course, *args, env=None, **kw):
    return subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", SPEC.folder, *args],
                          cwd=course, capture_output=True, text=True, env={**os.environ, **(env or {})}, **kw)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """A class of 6 graded by `nbgrader autograde` on a LocalCluster of one worker."""
    course = demo.make_course(tmp_path_factory.mktemp("one_worker") / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    class_of(course, 6)
    run = autograde(course, env={"COURSE_WORKERS": "1"}, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "1 worker" in run.stderr
    return gradebook(course)


def test_the_same_class_gets_the_same_gradebook_with_1_or_many_workers(clean_run, tmp_path):
    course = demo.make_course(tmp_path / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    class_of(course, 6)
    workers = 2 * (os.cpu_count() or 1)
    run = autograde(course, env={"COURSE_WORKERS": str(workers)}, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"{min(workers, 6)} workers" in run.stderr
    assert gradebook(course) == clean_run
    assert {score for (student, _), score in clean_run.items() if student == "s00"} == {2.0}  # not all zeros


def test_student_option_grades_only_that_student_and_a_regrade_takes_the_stored_result(tmp_path):
    course = demo.make_course(tmp_path / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    class_of(course, 3)
    run = autograde(course, "--student=s02", timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "1 submissions, 1 without a stored result" in run.stderr and "[1/1]" in run.stderr
    assert {student for student, _ in gradebook(course)} == {"s02"}
    assert json.loads((course / "grading_results" / SPEC.folder / "s02.json").read_text())["score"] == 4
    first = gradebook(course)
    again = autograde(course, "--student=s02", "--force", timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "graded 0, 1 from stored results" in again.stderr, again.stderr[-2000:]
    assert "grading on" not in again.stderr  # no engine started: nothing to grade
    assert gradebook(course) == first
    assert "Submissions with problems" in again.stdout  # the summary, always
    with open(course / "autograder" / "checks" / f"test_{SPEC.name}.py", "a") as checks:
        checks.write("\n# the instructor edits a hidden check\n")
    edited = autograde(course, "--student=s02", "--force", timeout=600)
    assert edited.returncode == 0, edited.stderr[-3000:]
    assert "graded 1, 0 from stored results" in edited.stderr, edited.stderr[-2000:]  # not the old verdict
    assert gradebook(course) == first


def test_a_worker_killed_mid_class_loses_nothing(clean_run, tmp_path):
    """The README's multi-host recipe, over TLS: SIGKILL one of two workers while it grades: Dask
    moves its task to the other, every submission is graded exactly once, the gradebook equals the
    local cluster's, and no process of the recipe listens on anything but its one TLS port."""
    course = demo.make_course(tmp_path / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    class_of(course, 6)
    cluster = Cluster(course, workers=2)
    try:
        grading = subprocess.Popen([str(Path(sys.executable).parent / "nbgrader"), "autograde", SPEC.folder],
                                   cwd=course, env={**os.environ, **cluster.env()},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        victim = cluster.busy_worker()
        for proc in (cluster.scheduler, *cluster.workers):  # one TLS port each: no HTTP server (closed, or never open)
            found = listeners(proc.pid, tree=False)
            assert {(item.kind, item.address) for item in found} == {("tcp", cluster.address_of(proc))}, found
        os.kill(victim, signal.SIGKILL)
        out, err = grading.communicate(timeout=900)
    finally:
        cluster.close()
    assert grading.returncode == 0, err[-3000:]
    assert cluster.address.startswith("tls://") and cluster.address in err  # on that cluster, over TLS
    graded = [line for line in err.splitlines() if " points in " in line]
    assert sorted(line.split("] ", 1)[1].split(":")[0].split()[-1] for line in graded) == \
        [f"s{i:02d}" for i in range(6)]  # each exactly once
    assert gradebook(course) == clean_run
    results = [json.loads(p.read_text()) for p in (course / "grading_results" / SPEC.folder).glob("*.json")]
    assert all("channel=tls" in r["isolation"]["layers"] for r in results)
    if sandbox.isolation().forks:  # the workers forked their kernels from their factories
        assert all("kernel-namespaces=on" in r["isolation"]["layers"] for r in results)
    workers = {json.loads(p.read_text())["worker"] for p in (course / "grading_results" / SPEC.folder).glob("*.json")}
    assert len(workers) >= 1


def test_a_submission_that_hits_a_time_limit_is_graded_again_alone_and_told_so(course):
    """A grade must not depend on the grader's load: the slow submissions are graded a second time
    after the rest of the class is done, side by side (one per worker), and that result (attempt 2)
    counts, with a note."""
    from autograder.engine.classroom import grade_class
    slow = [demo.submit(course, name, SPEC, LEVELS[:1], edit=lambda nb: nb.cells.insert(
        1, __import__("nbformat").v4.new_code_cell("import time\nprint(time.time())\ntime.sleep(30)")))
        for name in ("slow", "slower")]
    quick = demo.submit(course, "quick", SPEC, LEVELS[:1])
    source = course / "source" / SPEC.folder
    limits = course_config.Limits(cell_s=2, notebook_s=30, call_s=10)
    results = grade_class([Submission.from_path(path, SPEC.folder, source=source) for path in (*slow, quick)],
                          limits, workers=2)
    *slow_results, quick_result = results
    for result in slow_results:
        assert result.attempt == 2 and result.timed_out
        assert any("graded again, alone" in p for p in result.problems)
        assert result.score == 2  # the work around the slow cell still counts
    assert quick_result.attempt == 1 and quick_result.score == 2
    # the second attempts ran together (one after the other, the second would start a limit later)
    started = [float(o["text"]) for r in slow_results for cell in r.outputs for o in cell
               if o.get("name") == "stdout" and o["text"].strip().replace(".", "").isdigit()]
    assert len(started) == 2 and abs(started[0] - started[1]) < limits.cell_s, started


def test_cuda_assignments_ask_for_a_gpu_worker_and_run_on_cpu_when_there_is_none(course, caplog):
    """With GPU workers, a device="cuda" assignment's task is restricted to them; with none, the
    grading says so once and the tasks run on CPU instead of waiting forever."""
    import time as clock
    from distributed import Client, LocalCluster
    from autograder.engine.classroom import ClassGrading
    rnn = course_config.assignment("rnn_from_scratch")
    assert rnn.device == "cuda"
    empty = Submission(rnn.folder, "gpu", b"{}")
    for resources, expected in (({"GPU": 1}, {"GPU": 1}), (None, None)):
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                          resources=resources) as cluster, Client(cluster) as client:
            client.submit(clock.sleep, 3, pure=False)  # holds the only thread: the grading task waits
            grading = ClassGrading([], scheduler=cluster.scheduler_address)  # inproc://: no socket
            with caplog.at_level("WARNING"):
                futures = [grading._submit(empty), grading._submit(Submission(rnn.folder, "gpu2", b"{}"))]
            def restrictions(dask_scheduler, keys=[f.key for f in futures]):
                tasks = [dask_scheduler.tasks.get(key) for key in keys]
                return [task.resource_restrictions for task in tasks] if all(tasks) else "not yet"
            deadline = clock.monotonic() + 30
            while (found := client.run_on_scheduler(restrictions)) == "not yet" and clock.monotonic() < deadline:
                clock.sleep(0.05)
            assert found == [expected, expected]
            warned = [r for r in caplog.records if "no grading worker has a GPU" in r.getMessage()]
            assert len(warned) == (0 if resources else 1)  # said once, not per task
            caplog.clear()
            for future in futures:
                future.cancel()
            grading.close()


def test_formgraders_single_autograde_grades_through_the_engine(tmp_path):
    """The formgrader calls NbGraderAPI.autograde inside the Jupyter server's running event loop."""
    course = demo.make_course(tmp_path / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    class_of(course, 3)
    script = (
        "import asyncio, json, sys\n"
        "sys.path.insert(0, '.')\n"
        "import course_config\n"
        "from traitlets.config import Config\n"
        "from nbgrader.apps.api import NbGraderAPI\n"
        "from nbgrader.coursedir import CourseDirectory\n"
        "c = Config(); course_config.apply(c)\n"
        "api = NbGraderAPI(CourseDirectory(config=c), config=c)\n"
        "async def handler():  # as a tornado handler: synchronous, on the loop's thread\n"
        f"    return api.autograde({SPEC.folder!r}, 's02')\n"
        "print(json.dumps(asyncio.run(handler())))\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=course, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    reply = json.loads(run.stdout.strip().splitlines()[-1])
    assert reply["success"], reply.get("error", "")[-3000:]
    assert "1 submissions, 1 without a stored result" in reply["log"]
    assert {student for student, _ in gradebook(course)} == {"s02"}
    assert gradebook(course)[("s02", LEVELS[0])] == 2


LEAVE = '''
import os
for folder in ["/tmp", "/var/tmp", "/dev/shm", "/dev", "/home", "/srv", "/root", "/opt", COURSE,
               os.path.dirname(os.path.dirname(os.getcwd()))]:
    try:
        with open(os.path.join(folder, "left-by-alice"), "w") as f:
            f.write("secret")
    except OSError:
        pass
'''
FIND = '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
# what hides the factory's folders and the first kernel's files cannot be taken away
unmounted = [folder for folder in ["/tmp", "/var/tmp", "/dev/shm", os.getcwd()]
             if libc.umount2(folder.encode(), 2) == 0 or libc.umount2(folder.encode(), 0) == 0]
print("UNMOUNTED", unmounted)
print("CAPS", [line.split()[1] for line in open("/proc/self/status") if line.startswith("Cap")])
found = []
for folder in ["/tmp", "/var/tmp", "/dev/shm", "/dev", "/home", "/srv", "/root", "/opt", COURSE]:
    for top, _, files in os.walk(folder):
        found += [os.path.join(top, name) for name in files if name == "left-by-alice"]
print("FOUND", found)
'''


def test_one_workers_kernels_share_nothing(course):
    """Kernels forked by the same worker's factory, one after another: what the first student
    writes anywhere it can, the next one cannot find."""
    from autograder.engine.classroom import grade_class
    import nbformat as nbf
    paths = []
    for student, code in (("alice", LEAVE), ("bob", FIND)):
        nb = nbf.v4.new_notebook()
        nb.cells = [nbf.v4.new_code_cell(code.replace("COURSE", repr(str(course_config.ROOT))))]
        path = course / "submitted" / student / SPEC.folder / f"{SPEC.name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbf.write(nb, path)
        paths.append(path)
    results = grade_class([Submission.from_path(p, SPEC.folder) for p in paths], SHORT, workers=1)
    assert results[0].worker == results[1].worker  # the same worker, so the same factory
    printed = "".join(o.get("text", "") for o in results[1].outputs[0])
    assert "UNMOUNTED []" in printed, printed
    assert "CAPS ['0000000000000000', '0000000000000000', '0000000000000000', '0000000000000000', "\
        "'0000000000000000']" in printed, printed  # inheritable, permitted, effective, bounding, ambient
    assert "FOUND []" in printed, printed


def test_no_garbage_collection_callback_can_swallow_a_ctrl_c():
    """A KeyboardInterrupt raised inside a gc callback is printed and lost: with Dask's GC diagnosis
    installed by the scheduler in the grading command's process, a Ctrl-C now and then graded the
    whole class instead of stopping it (tests/test_slurm.py's Ctrl-C test caught it)."""
    import gc
    from autograder.engine.classroom import ClassGrading
    before = list(gc.callbacks)
    grading = ClassGrading([], workers=1)
    try:
        assert [callback for callback in gc.callbacks if callback not in before] == []
    finally:
        grading.close()
