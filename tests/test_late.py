"""Late work (#31, first slice): course_config's LatePolicy through nbgrader's own late-submission
plugin and the gradebook's due date; `nbgrader export` shows the raw score, the penalty and the
score; the time that counts is when the submission arrived, not the timestamp.txt a student writes."""
import csv
from datetime import UTC, datetime, timedelta

import pytest

import course_config
from autograder.late import late_penalty
from autograder.tools import demo

SPEC = course_config.assignment("01_multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]
POLICY = course_config.LatePolicy(due="2026-12-01 12:00", grace_minutes=15, percent=10, per="hour", cap_percent=50,
                                  cutoff_hours=48)
HOUR = 3600.0


@pytest.mark.parametrize("seconds_late, percent, said", [
    (0, 0, ""),
    (10 * 60, 0, "within the 15-minute grace period"),
    (HOUR, 10, "1 hour late: 10% per hour started (at most 50%), 10% off"),
    (HOUR + 1, 20, "1 hour late: 10% per hour started"),  # the second hour has started
    (24 * HOUR, 50, "1 day late: 10% per hour started (at most 50%), 50% off"),  # past the cap
    (49 * HOUR, 100, "past the cutoff (48 hours after the due date): scored 0"),
])
def test_the_penalty_on_time_in_grace_late_by_an_hour_a_day_past_the_cap_and_the_cutoff(seconds_late, percent, said):
    late = late_penalty(POLICY, 8.0, seconds_late)
    assert late.percent == percent and late.points == pytest.approx(8.0 * percent / 100)
    assert said in late.why and (not said or "迟交" in late.why)


def test_per_day_and_the_default_that_keeps_todays_behaviour():
    daily = course_config.LatePolicy(due="2026-12-01 12:00", percent=5, per="day")
    assert late_penalty(daily, 10.0, 25 * HOUR).percent == 10  # the second day started
    assert late_penalty(course_config.LATE, 10.0, 1000 * HOUR).points == 0  # no deadline: nothing is late


def _with_policy(course, due: datetime, **policy):
    """The course copy's course_config with a LatePolicy for 01 due at `due` (UTC)."""
    with open(course / "course_config.py", "a") as config:
        config.write(f"\nLATE_BY_ASSIGNMENT = {{{SPEC.folder!r}: LatePolicy(due={due.strftime('%Y-%m-%d %H:%M')!r}, "
                     + ", ".join(f"{k}={v!r}" for k, v in policy.items()) + ")}\n")


def _export(course) -> dict:
    demo.nbgrader(course, "export", "--log-level=WARN", capture=True)
    with open(course / "grades.csv") as grades:
        return {row["student_id"]: row for row in csv.DictReader(grades)}


def test_autograde_applies_the_policy_and_export_shows_raw_penalty_and_score(tmp_path):
    course = demo.make_course(tmp_path / "course")
    due = datetime(2026, 12, 1, 12, 0)
    _with_policy(course, due, grace_minutes=15, percent=10, per="hour", cap_percent=50, cutoff_hours=48)
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    times = {"on_time": -HOUR, "in_grace": 10 * 60, "an_hour": HOUR, "a_day": 24 * HOUR, "past_cutoff": 49 * HOUR}
    for student, offset in times.items():
        notebook = demo.submit(course, student, SPEC, LEVELS)
        stamp = (due + timedelta(seconds=offset)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        (notebook.parent / "timestamp.txt").write_text(stamp)
    demo.nbgrader(course, "autograde", SPEC.folder, "--log-level=WARN", capture=True)
    rows = _export(course)
    got = {s: (float(r["raw_score"]), float(r["late_submission_penalty"]), float(r["score"])) for s, r in rows.items()}
    assert got == {"on_time": (10.0, 0.0, 10.0), "in_grace": (10.0, 0.0, 10.0), "an_hour": (10.0, 1.0, 9.0),
                   "a_day": (10.0, 5.0, 5.0), "past_cutoff": (10.0, 10.0, 0.0)}, got
    assert rows["an_hour"]["duedate"].startswith("2026-12-01 12:00")
    # the feedback says it, in Chinese and English
    demo.nbgrader(course, "generate_feedback", SPEC.folder, "--log-level=WARN", capture=True)

    def page(student):
        return (course / "feedback" / student / SPEC.folder / f"{SPEC.name}.html").read_text()
    assert "1 hour late: 10% per hour started (at most 50%), 10% off; 1 points off, score 10 -&gt; 9" in page("an_hour")
    assert "迟交 1小时" in page("an_hour") and "扣 1 分，得分 10 → 9" in page("an_hour")
    assert "past the cutoff (48 hours after the due date): scored 0; 10 points off, score 10 -&gt; 0" \
        in page("past_cutoff")
    assert "within the 15-minute grace period: no penalty; 0 points off" in page("in_grace")
    assert "submitted 1 hour before it, not late" in page("on_time") and "提前 1小时 提交" in page("on_time")


def test_a_forged_timestamp_earns_nothing_through_collect(tmp_path):
    """A student writes their folder into the exchange by hand with timestamp.txt (and name) from
    2020; the course's collect writes when the folder arrived: the penalty is their honest twin's."""
    from autograder.tools.service_world import World
    from tests.conftest import require_sandbox, student_account
    require_sandbox()
    forger, twin = student_account("st-forger"), student_account("st-ontwin")
    top = tmp_path / "late"
    world = World.make(top)
    due = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=90)  # arriving now: 2 hours started
    _with_policy(world.course, due, percent=10, per="hour")
    forged = "2020-01-01 00:00:00.000000 UTC"
    world.submit(forger, LEVELS, stamp=forged)
    world.submit(twin, LEVELS)
    world.nbgrader("collect", SPEC.folder)
    assert "2020" not in (world.course / "submitted" / forger / SPEC.folder / "timestamp.txt").read_text()
    world.nbgrader("autograde", SPEC.folder)
    rows = _export(world.course)
    assert float(rows[forger]["late_submission_penalty"]) == float(rows[twin]["late_submission_penalty"]) == 2.0
    assert float(rows[forger]["score"]) == float(rows[twin]["score"]) == 8.0


def test_the_readme_example_is_a_valid_policy():
    import re
    section = (course_config.ROOT / "README.md").read_text().split("## Deadlines\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.DOTALL).group(1)
    scope = {"LatePolicy": course_config.LatePolicy}
    exec(block, scope)
    (folder, policy), = scope["LATE_BY_ASSIGNMENT"].items()
    assert course_config.assignment(folder).folder == folder
    assert late_penalty(policy, 10.0, 3 * HOUR).percent == 30  # 10% an hour, three started
