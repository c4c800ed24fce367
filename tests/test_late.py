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
    # and the class report agrees: the same penalties, the totals after them
    from autograder.tools import report
    written = report.write_report(course, SPEC, tmp_path / "report")
    assert written["penalties"] == {"an_hour": 1.0, "a_day": 5.0, "past_cutoff": 10.0}
    assert "late: 3 submissions, 16 points off in all; mean after the penalties 6.80" in written["text"]
    assert "<td>-5</td><td><b>5</b></td>" in written["paths"]["html"].read_text()


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


def test_the_readme_examples_are_a_valid_policy_extensions_file_and_commands(tmp_path, monkeypatch):
    import re
    from datetime import timedelta

    from autograder import late
    section = (course_config.ROOT / "README.md").read_text().split("## Deadlines and extensions\n", 1)[1] \
        .split("\n## ", 1)[0]
    policy_block, extensions_block, commands = re.findall(r"```\n(.*?)```", section, re.DOTALL)
    scope = {"LatePolicy": course_config.LatePolicy}
    exec(policy_block, scope)
    (folder, policy), = scope["LATE_BY_ASSIGNMENT"].items()
    assert course_config.assignment(folder).folder == folder
    assert late_penalty(policy, 10.0, 3 * HOUR).percent == 30  # 10% an hour, three started
    monkeypatch.setattr(course_config, "LATE_BY_ASSIGNMENT", scope["LATE_BY_ASSIGNMENT"])
    (tmp_path / "extensions.csv").write_text(extensions_block)
    assert late.extensions(tmp_path / "extensions.csv") == {
        ("st-alice", folder): timedelta(days=2), ("st-bob", folder): timedelta(days=2)}
    assert commands.splitlines() == [f"nbgrader autograde {folder} --force", "nbgrader export"]


def test_the_extensions_file_is_read_and_a_malformed_row_is_named_by_its_line(tmp_path, monkeypatch):
    from datetime import timedelta

    from autograder import late
    monkeypatch.setattr(course_config, "LATE_BY_ASSIGNMENT", {SPEC.folder: POLICY})
    good = tmp_path / "extensions.csv"
    good.write_text("student,assignment,extension\nalice,01_multihead_attention,+1d12h\n"
                    "bob,multihead_attention,2026-12-02 12:00\n\n")
    assert late.extensions(good) == {("alice", SPEC.folder): timedelta(hours=36),
                                     ("bob", SPEC.folder): timedelta(days=1)}
    assert late.extensions(tmp_path / "none.csv") == {}
    for rows, said in [("alice,01_multihead_attention,tomorrow", "line 2: 'tomorrow' is neither"),
                       ("alice,01_multihead_attention,+1d\nalice,01_multihead_attention,+2d", "line 3: a second row"),
                       ("alice,no_such_assignment,+1d", "line 2: no assignment"),
                       ("../x,01_multihead_attention,+1d", "is not a student id"),
                       ("alice,01_multihead_attention,2026-11-30 12:00", "is not after the due date"),
                       ("alice,01_multihead_attention", "3 cells expected")]:
        bad = tmp_path / "bad.csv"
        bad.write_text("student,assignment,extension\n" + rows + "\n")
        with pytest.raises(late.BadExtensions, match="nothing was changed") as raised:
            late.extensions(bad)
        assert said in str(raised.value), raised.value


def test_an_extension_given_before_and_after_grading_and_a_malformed_file(tmp_path):
    """Given before grading, the extension removes the penalty; given after, `nbgrader autograde
    --force` recomputes the penalty from the stored results (no code graded again); a malformed file
    stops autograde with the line, and the gradebook stays as it was."""
    course = demo.make_course(tmp_path / "course")
    due = datetime(2026, 12, 1, 12, 0)
    _with_policy(course, due, percent=10, per="hour")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    for student in ("extended", "later"):
        notebook = demo.submit(course, student, SPEC, LEVELS)
        (notebook.parent / "timestamp.txt").write_text((due + timedelta(minutes=30)).strftime(
            "%Y-%m-%d %H:%M:%S.%f UTC"))
    extensions = course / "extensions.csv"
    extensions.write_text(f"student,assignment,extension\nextended,{SPEC.folder},+1h\n")
    demo.nbgrader(course, "autograde", SPEC.folder, "--log-level=WARN", capture=True)
    penalties = {s: float(r["late_submission_penalty"]) for s, r in _export(course).items()}
    assert penalties == {"extended": 0.0, "later": 1.0}
    extensions.write_text(f"student,assignment,extension\nextended,{SPEC.folder},+1h\nlater,{SPEC.folder},"
                          "2026-12-01 13:00\n")
    run = demo.nbgrader(course, "autograde", SPEC.folder, "--force", capture=True)
    assert "graded 0, 2 from stored results" in run.stderr, run.stderr[-2000:]
    assert {s: float(r["late_submission_penalty"]) for s, r in _export(course).items()} == {"extended": 0.0,
                                                                                           "later": 0.0}
    extensions.write_text(f"student,assignment,extension\nlater,{SPEC.folder},+1h\nextended,{SPEC.folder},soon\n")
    run = demo.nbgrader(course, "autograde", SPEC.folder, "--force", check=False, capture=True)
    assert run.returncode != 0 and "extensions.csv line 3" in run.stderr, run.stderr[-2000:]
    assert {s: float(r["late_submission_penalty"]) for s, r in _export(course).items()} == {"extended": 0.0,
                                                                                           "later": 0.0}
