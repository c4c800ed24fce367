"""评测 on submit: the grading service, run as `python -m autograder.service` in a course copy with
an exchange (its attempts limit set to 3 per hour). Students are accounts of this host, as the
service admits a submission only from the account it names: the tests make them, as root.

Honest and fault cases (the service run as root): each student's submission ends graded once (the
service's "graded" lines say so), recorded in the gradebook and the autograded notebook through
nbgrader, with feedback where `nbgrader fetch_feedback` finds it, with no instructor command; and so
when a worker is killed mid-grade, the service is killed (kill -9) during a burst and restarted, a
submission is malformed, the same notebook comes twice, the instructor runs `collect` or `autograde`
meanwhile. A second instance refuses; SIGTERM stops it.

Adversarial cases (tests/test_service_adversarial.py): the same service attacked by students.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import nbformat
import pytest

import course_config
from autograder.engine.store import ResultStore
from autograder.service import attempt_seed
from autograder.tools import demo
from autograder.tools.service_world import SPEC
from tests.conftest import as_user, student_account

LEVELS = [lv.name for lv in SPEC.levels]
TOTAL = sum(lv.points for lv in SPEC.levels)


def readme_commands() -> tuple:
    """(the instructor's command, [the student's commands]) of the README's "评测 on submit" block."""
    section = (course_config.ROOT / "README.md").read_text().split("## 评测 on submit\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.DOTALL).group(1)
    lines = [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return lines[0], lines[1:]


def test_the_readme_block_is_the_service_and_the_students_own_commands():
    service, student = readme_commands()
    assert service == ".venv/bin/python -m autograder.service"  # what the fixture runs (this venv's python)
    assert student == [f"nbgrader submit {SPEC.folder}", f"nbgrader fetch_feedback {SPEC.folder}"]


@pytest.fixture(scope="module")
def world(service_world):
    return service_world("")


def student(name: str) -> str:
    """The account of student `name` (made once)."""
    return student_account(f"st-{name}")


def graded_lines(world, who) -> list:
    """The service's log lines of results it computed (not taken from the store) for `who`."""
    return [line for line in world.log_text().splitlines() if f"graded {who} / " in line]


def scores(world, who) -> float:
    return sum(score for s, _, score, _ in demo.gradebook_rows(world.course, SPEC) if s == who)


def test_a_submission_gets_its_verdict_without_any_instructor_command(world):
    alice = student("alice")
    name = world.submit(alice, LEVELS[:2])
    world.wait_done(name, timeout=240)
    page = world.feedback_page(name).read_text()
    assert "Score: 4.0 / 10.0" in page and '<table class="course-verdict"' in page  # each check
    assert scores(world, alice) == 4.0
    assert (world.course / "autograded" / alice / SPEC.folder / f"{SPEC.name}.ipynb").exists()
    assert len(graded_lines(world, alice)) == 1
    done = json.loads(world.done(name).read_text())
    assert done["score"] == 4.0 and done["seed"] == attempt_seed(SPEC.seed, alice, 1)


def test_nbgrader_submit_then_fetch_feedback_gives_the_verdict(world):
    """The student's own command lines, as the student's account: submit, then fetch_feedback has the page."""
    carl = student("carl")
    home = world.home(carl)
    nbformat.write(world.notebook(LEVELS), home / SPEC.folder / f"{SPEC.name}.ipynb")
    (home / ".jupyter").mkdir(exist_ok=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {course_config.COURSE_ID!r}\n"
        f"c.Exchange.root = {str(world.exchange)!r}\n")
    world.give(home, carl)
    before = set(os.listdir(world.inbound))
    submit, fetch_feedback = readme_commands()[1]  # as the README writes them
    _as_student(world, carl, submit, home)
    (name,) = set(os.listdir(world.inbound)) - before
    world.wait_done(name, timeout=240)
    _as_student(world, carl, fetch_feedback, home)
    (page,) = (home / SPEC.folder / "feedback").glob(f"*/{SPEC.name}.html")
    assert "Score: 10.0 / 10.0" in page.read_text()


def _as_student(world, account: str, command: str, home):
    run = subprocess.run(as_user(["bash", "-c", command], account), cwd=home, capture_output=True, text=True,
                         env={**world.env, "HOME": str(home)}, timeout=300, check=False)
    assert run.returncode == 0, f"{command}: {run.stdout[-2000:]}{run.stderr[-2000:]}"


def test_the_same_notebook_twice_is_graded_once_and_both_get_feedback(world):
    bob = student("bob")
    first = world.submit(bob, LEVELS[:1])
    second = world.submit(bob, LEVELS[:1])
    world.wait_done(first, second, timeout=240)
    assert len(graded_lines(world, bob)) == 1, graded_lines(world, bob)
    assert world.feedback_page(first).exists() and world.feedback_page(second).exists()
    assert scores(world, bob) == 2.0


def test_a_malformed_submission_scores_zero_with_the_reason(world):
    dora = student("dora")
    name = world.submit(dora, raw=b"{not json")
    world.wait_done(name, timeout=240)
    assert "could not be read" in world.feedback_page(name).read_text()
    assert scores(world, dora) == 0.0


def test_over_the_attempts_limit_a_submission_is_not_graded_and_its_feedback_says_why(world):
    gina = student("gina")
    names = [world.submit(gina, LEVELS[:k]) for k in (1, 2, 3, 4)]
    world.wait_done(*names, timeout=300)
    page = world.feedback_page(names[-1]).read_text()
    assert "3" in page and "per hour" in page and "每小时" in page
    assert len(graded_lines(world, gina)) == 3
    seeds = [json.loads(world.done(n).read_text()).get("seed") for n in names[:3]]
    assert seeds == [attempt_seed(SPEC.seed, gina, k) for k in (1, 2, 3)]  # drawn afresh for every attempt
    assert scores(world, gina) == 6.0  # the third (levels 1-3) is what the gradebook holds


def test_a_failed_recording_leaves_the_previous_submission_and_grade_then_is_taken_again(world):
    """nbgrader's generate_feedback fails (feedback/<student> is a file) after autograde wrote the
    new grade: the previous submitted/ copy and grade come back; once the cause is gone, the next
    listing records the submission."""
    from autograder.engine.gradebook_lock import GradebookLock
    ivan = student("ivan")
    first = world.submit(ivan, LEVELS[:2])
    world.wait_done(first, timeout=240)
    submitted = world.course / "submitted" / ivan / SPEC.folder / f"{SPEC.name}.ipynb"
    before = submitted.read_bytes()
    feedback = world.course / "feedback" / ivan
    feedback.rename(feedback.with_name(".saved"))
    feedback.write_text("in the way")
    second = world.submit(ivan, LEVELS[:4])
    world._wait(lambda: f"{second}: failed (1 of 3 tries)" in world.log_text(), 120, "no failed recording")
    with GradebookLock.of(world.course):  # the service is not recording meanwhile
        assert scores(world, ivan) == 4.0
        assert submitted.read_bytes() == before
        assert not world.done(second).exists()
        feedback.unlink()
        feedback.with_name(".saved").rename(feedback)
    world.wait_done(second, timeout=120)
    assert scores(world, ivan) == 8.0 and submitted.read_bytes() != before
    assert world.feedback_page(second).exists()


def test_with_a_roster_only_its_students_are_graded(world):
    listed, unlisted = student("listed"), student("unlisted")
    roster = world.course / "roster.csv"
    roster.write_text(f"id,first_name,last_name,email\n{listed},L,S,\n")
    try:
        names = world.submit(listed, LEVELS[:1]), world.submit(unlisted, LEVELS[:1])
        world.wait_done(*names, timeout=240)
    finally:
        roster.unlink()
    assert scores(world, listed) == 2.0
    assert "not on the roster" in json.loads(world.done(names[1]).read_text())["refused"]
    assert unlisted not in {s for s, *_ in demo.gradebook_rows(world.course, SPEC)}


def test_a_worker_killed_mid_grade_loses_nothing(world):
    dave = student("dave")
    name = world.submit(dave, LEVELS)
    deadline = time.monotonic() + 60
    while not _busy_workers(world) and time.monotonic() < deadline:
        time.sleep(0.05)
    busy = _busy_workers(world)
    assert busy, "no worker was grading: the test proved nothing"
    os.kill(busy[0], signal.SIGKILL)
    world.wait_done(name, timeout=300)
    assert f"graded {dave} / " in world.log_text()
    assert scores(world, dave) == TOTAL
    assert world.feedback_page(name).exists()


def _busy_workers(world) -> list:
    """The service's Dask worker processes (its children) with a sandbox under them now."""
    found = subprocess.run(["pgrep", "bwrap"], capture_output=True, text=True, check=False)
    workers = []
    for pid in map(int, found.stdout.split()):
        while pid > 1 and (parent := _parent(pid)) not in (world.service.pid, 0):
            pid = parent
        if _parent(pid) == world.service.pid and pid not in workers:
            workers.append(pid)
    return workers


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def test_a_second_instance_refuses(world):
    run = subprocess.run([sys.executable, "-m", "autograder.service"], cwd=world.course,
                         env=world.env, capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode != 0 and "already runs" in run.stderr, run.stderr[-2000:]


def test_instructor_autograde_while_the_service_runs_corrupts_nothing_and_regrades_nothing(world):
    erin = student("erin")
    before = {(s, lv): score for s, lv, score, _ in demo.gradebook_rows(world.course, SPEC)}
    name = world.submit(erin, LEVELS[:3])
    run = world.nbgrader("autograde", SPEC.folder, "--force", check=False, log_level="INFO")
    world.wait_done(name, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    after = {(s, lv): score for s, lv, score, _ in demo.gradebook_rows(world.course, SPEC)}
    assert {k: v for k, v in after.items() if k[0] != erin} == before
    assert scores(world, erin) == 6.0
    assert len(graded_lines(world, erin)) <= 1
    # every submission in submitted/ was recorded by the service after its result was stored:
    # autograde took each from the store and graded none
    assert "graded 0, " in run.stderr and "from stored results" in run.stderr, run.stderr[-3000:]


def test_a_submission_during_collect_is_graded_once_with_feedback(world):
    fred = student("fred")
    name = world.submit(fred, LEVELS[:1])
    collect = world.nbgrader("collect", "--update", SPEC.folder, check=False)
    world.wait_done(name, timeout=240)
    assert collect.returncode == 0, collect.stderr[-2000:]
    assert scores(world, fred) == 2.0 and world.feedback_page(name).exists()
    assert len(graded_lines(world, fred)) == 1


def test_killed_in_a_burst_and_restarted_every_submission_ends_graded_once(world):
    students = [student(f"burst{i}") for i in range(6)]
    names = [world.submit(s, LEVELS[: i % 3]) for i, s in enumerate(students)]
    world.wait_done(names[0], timeout=240)
    assert world.stop_service(signal.SIGKILL) == -signal.SIGKILL
    world.start_service()
    world.wait_started()
    world.wait_done(*names, timeout=400)
    store = ResultStore(world.course / "grading_results")
    for i, (who, name) in enumerate(zip(students, names)):
        assert len(graded_lines(world, who)) == 1, (who, graded_lines(world, who))
        assert scores(world, who) == 2.0 * (i % 3)
        assert world.feedback_page(name).exists()
        assert len(list((store.root / "by_key" / SPEC.folder / who).glob("*.json"))) == 1


def test_sigterm_stops_the_service_cleanly_then_score_mode_shows_only_scores(world):
    assert world.stop_service(signal.SIGTERM) == 0
    assert "grading service stopped" in world.log_text()
    left = subprocess.run(["pgrep", "-f", str(world.course)], capture_output=True, text=True, check=False)
    assert not left.stdout.split(), left.stdout
    # course_config.ON_SUBMIT.mode "score": each level's score, no check; polling the inbound folder (NFS)
    hana = student("hana")
    world.start_service(COURSE_ON_SUBMIT="score", COURSE_WATCH_POLLING="1")
    world.wait_started()
    assert "(polling); on submit: score" in world.log_text()
    name = world.submit(hana, LEVELS[:1])
    world.wait_done(name, timeout=240)
    page = world.feedback_page(name).read_text()
    assert "masked_softmax: score 2 / 2" in page and "dot_product_attention: score 0 / 2" in page, page[-3000:]
    assert '<table class="course-verdict"' not in page  # no check: neither its input nor what came
    assert world.stop_service(signal.SIGTERM) == 0
    world.start_service()  # as it was, for the tests after this one
    world.wait_started()
