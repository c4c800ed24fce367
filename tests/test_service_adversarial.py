"""The grading service attacked by students: ordinary accounts of the grading host who write into
the exchange's inbound folder by hand. Run with the service as root and as an ordinary user (the
instructor's account), each attack beside its honest twin: the attacker earns nothing over the twin,
the victim's grade, submission and feedback stay as they were, nothing is graded for an id that is
not a student's, and the service goes on.

One burst per grader (`attacked`): the victim submits honestly; then, from the attacker's account,
a folder named for the victim with a far-future timestamp.txt, ids that are no account or no id
("*", ".."), a FIFO and a link named for the victim, a folder holding the victim's file, and five
submissions of the attacker's own with backdated names (3 attempts an hour); then thousands of
never-finished folders while the victim resubmits and an honest twin submits three times.
"""
import json
import os
import pwd
import stat
import time
from datetime import UTC, datetime

import pytest

from autograder.service import attempt_seed
from autograder.tools import demo
from autograder.tools.service_world import SPEC
from tests.conftest import GRADERS, ordinary_user, student_account

LEVELS = [lv.name for lv in SPEC.levels]
TOTAL = sum(lv.points for lv in SPEC.levels)
JUNK = 2000  # never-finished folders of one account
READY_JUNK = 60  # finished folders of that account, named for an id that is none
VICTIM, ATTACKER, TWIN, ODD = "st-vic", "st-mal", "st-hon", "st-odd"


@pytest.fixture(scope="module", params=GRADERS)
def attacked(request, service_world):
    world = service_world(ordinary_user() if request.param == "ordinary user" else "")
    for name in (VICTIM, ATTACKER, TWIN, ODD):
        student_account(name)
    seen = _attack(world)
    print(f"\n{request.param}: honest submissions during the junk recorded in {seen['honest_during_junk_s']:.1f} s; "
          f"service CPU {seen['service_cpu_share']:.1%} of a core over 10 s with {JUNK} unfinished folders; "
          f"{seen['ready_junk_done_before_honest']} of {READY_JUNK} junk entries taken before them")
    return world, seen


def _attack(world) -> dict:
    seen = {}
    first = world.submit(VICTIM, LEVELS[:3])
    world.wait_done(first, timeout=240)
    seen["victim_before"] = _others(world)
    seen["victim_files"] = _files(world.course / "submitted" / VICTIM / SPEC.folder)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    names = {
        "classmate": world.submit(VICTIM, LEVELS, owner=ATTACKER, stamp="2099-01-01 00:00:00.000000 UTC"),
        "no_account": world.submit("st-nosuchstudent", LEVELS, owner=ATTACKER),
        "wildcard": world.submit("*", LEVELS, owner=ATTACKER),
        "dotdot": world.submit("..", LEVELS, owner=ATTACKER),
        "foreign_file": world.submit(ATTACKER, LEVELS, prepare=lambda folder: _give_file(folder, VICTIM)),
        "bad_time": world.submit(ODD, LEVELS[:1], name=f"{ODD}+{SPEC.folder}+not a time"),
        "fifo": f"{VICTIM}+{SPEC.folder}+{now}+fifo",
        "link": f"{VICTIM}+{SPEC.folder}+{now}+link",
    }
    os.mkfifo(world.inbound / names["fifo"])
    os.symlink(world.course / "submitted" / VICTIM / SPEC.folder, world.inbound / names["link"])
    for entry in ("fifo", "link"):
        os.lchown(world.inbound / names[entry], pwd.getpwnam(ATTACKER).pw_uid, -1)
    names["backdated"] = [world.submit(ATTACKER, LEVELS, stamp=f"2020-01-0{i + 1} 00:00:00.000000 UTC")
                          for i in range(5)]
    world.wait_done(*_flat(names), timeout=400)
    seen["victim_after_attacks"] = _others(world)
    seen["victim_files_after_attacks"] = _files(world.course / "submitted" / VICTIM / SPEC.folder)
    seen["alive_after_attacks"] = world.service.poll() is None

    # Thousands of never-finished folders and a burst of finished junk, then the victim resubmits
    # and the twin submits 3 times.
    junk, ready_junk = _junk(world, now, JUNK, ready=False), _junk(world, now, READY_JUNK, ready=True)
    started = time.monotonic()
    resubmitted = world.submit(VICTIM, LEVELS[:4])
    twin = [world.submit(TWIN, LEVELS) for _ in range(3)]
    world.wait_done(resubmitted, *twin, timeout=400)
    seen["honest_during_junk_s"] = time.monotonic() - started
    seen["ready_junk_done_before_honest"] = sum(world.done(name).exists() for name in ready_junk)
    world.wait_done(*ready_junk, timeout=120)
    seen["ready_junk_refused"] = sum("refused" in _done(world, name) for name in ready_junk)
    cpu_before, quiet = _cpu_seconds(world.service.pid), time.monotonic()
    time.sleep(10.5)  # two listings of the inbound folder, with the junk in it
    seen["service_cpu_share"] = (_cpu_seconds(world.service.pid) - cpu_before) / (time.monotonic() - quiet)
    seen["junk_done"] = sum(world.done(name).exists() for name in junk)
    for name in junk:
        (world.inbound / name).rmdir()
    seen.update(names=names, resubmitted=resubmitted, twin=twin, rows=_rows(world))
    return seen


def _junk(world, now: str, count: int, ready: bool) -> list:
    """`count` folders of the attacker's moved into inbound: empty (never finished), or finished
    and named for an id that is no account."""
    uid, names = pwd.getpwnam(ATTACKER).pw_uid, []
    for i in range(count):
        name = f"st-nosuchstudent+{SPEC.folder}+{now}+ready{i}" if ready else f"{ATTACKER}+{SPEC.folder}+{now}+junk{i}"
        folder = world.top / "junk" / name
        folder.mkdir(parents=True)
        if ready:
            (folder / "submission_secret.txt").write_text("junk")
            os.lchown(folder / "submission_secret.txt", uid, -1)
        os.lchown(folder, uid, -1)
        os.rename(folder, world.inbound / name)
        names.append(name)
    return names


def _flat(names: dict) -> list:
    return [n for value in names.values() for n in (value if isinstance(value, list) else [value])]


def _give_file(folder, owner: str):
    """One file of the folder handed to another account (as if `owner` had written it there)."""
    account = pwd.getpwnam(owner)
    os.lchown(folder / f"{SPEC.name}.ipynb", account.pw_uid, account.pw_gid)


def _rows(world) -> dict:
    return {(s, lv): score for s, lv, score, _ in demo.gradebook_rows(world.course, SPEC)}


def _others(world) -> dict:
    """Gradebook rows of everyone but the attackers."""
    return {k: v for k, v in _rows(world).items() if k[0] not in (ATTACKER, ODD)}


def _files(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()} if folder.is_dir() else {}


def _done(world, name) -> dict:
    return json.loads(world.done(name).read_text())


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _score(rows: dict, student: str) -> float:
    return sum(score for (s, _), score in rows.items() if s == student)


def test_a_folder_named_for_a_classmate_is_refused_and_their_resubmission_counts(attacked):
    world, seen = attacked
    done = _done(world, seen["names"]["classmate"])
    assert "refused" in done and "not by st-vic" in done["refused"], done
    assert seen["victim_after_attacks"] == seen["victim_before"]  # the victim's grade as it was: 6
    assert _score(seen["victim_before"], VICTIM) == 6.0
    assert _score(seen["rows"], VICTIM) == 8.0  # the real resubmission (levels 1-4) is recorded
    assert not world.feedback_page(seen["names"]["classmate"], owner=ATTACKER).exists()
    # the course's collect agrees (nbgrader's own would keep the forged folder as the victim's final
    # one), and a name whose time does not parse does not stop it
    collect = world.nbgrader("collect", "--update", SPEC.folder, check=False, log_level="INFO")
    assert collect.returncode == 0, collect.stderr[-2000:]
    assert f"{seen['names']['classmate']}: not collected: owned by uid" in collect.stderr, collect.stderr[-3000:]
    submitted = world.course / "submitted" / VICTIM / SPEC.folder
    resubmitted = world.inbound / seen["resubmitted"] / f"{SPEC.name}.ipynb"
    assert (submitted / f"{SPEC.name}.ipynb").read_bytes() == resubmitted.read_bytes()
    assert b"2099" not in (submitted / "timestamp.txt").read_bytes()


@pytest.mark.parametrize("case", ["no_account", "wildcard", "dotdot"])
def test_an_id_that_is_not_a_students_is_refused_and_adds_no_one(attacked, case):
    world, seen = attacked
    done = _done(world, seen["names"][case])
    assert "refused" in done, done
    assert {s for s, _ in seen["rows"]} <= {s for s, _ in seen["victim_before"]} | {ATTACKER, TWIN, ODD}
    assert seen["alive_after_attacks"]
    for kind in ("submitted", "autograded", "feedback"):
        assert not {"*", "st-nosuchstudent"} & set(os.listdir(world.course / kind)), kind


@pytest.mark.parametrize("case", ["fifo", "link"])
def test_an_entry_that_is_not_a_folder_changes_nothing_of_the_victims(attacked, case):
    world, seen = attacked
    assert "not a folder" in _done(world, seen["names"][case])["refused"]
    assert seen["victim_files_after_attacks"] == seen["victim_files"]
    assert seen["victim_after_attacks"] == seen["victim_before"]


def test_a_folder_holding_another_accounts_file_is_refused(attacked):
    world, seen = attacked
    assert "is not owned by st-mal" in _done(world, seen["names"]["foreign_file"])["refused"]


def test_backdated_names_pass_no_limit_and_replay_no_seed(attacked):
    """Five backdated submissions of the attacker's own: 3 graded (the limit, counted on the
    service's clock), their seeds those of attempts 1-3 in the order the service received them;
    the twin's three on-time ones: the same."""
    world, seen = attacked
    backdated = [_done(world, name) for name in seen["names"]["backdated"]]
    graded = [d for d in backdated if "score" in d]
    assert len(graded) == 3 and sum(d.get("refused") == "attempts_per_hour" for d in backdated) == 2, backdated
    graded.sort(key=lambda d: d["received"])
    assert [(d["attempt"], d["seed"]) for d in graded] == [(k, attempt_seed(SPEC.seed, ATTACKER, k)) for k in (1, 2, 3)]
    twin = [_done(world, name) for name in seen["twin"]]
    assert all("score" in d for d in twin)
    assert _score(seen["rows"], ATTACKER) == _score(seen["rows"], TWIN) == TOTAL  # nothing over the twin


def test_never_finished_folders_neither_starve_nor_spin_the_service(attacked):
    world, seen = attacked
    assert seen["junk_done"] == 0  # never ready: never taken
    assert seen["honest_during_junk_s"] < 120, seen["honest_during_junk_s"]
    assert seen["service_cpu_share"] < 0.2, seen["service_cpu_share"]  # of one core, waiting


def test_a_burst_of_junk_waits_while_the_others_are_graded(attacked):
    """60 finished folders of one account, named for an id that is none: at most 20 are taken
    between two listings, the others' submissions made after them are not kept waiting behind
    them; each ends refused."""
    world, seen = attacked
    assert seen["ready_junk_done_before_honest"] <= 2 * 20, seen["ready_junk_done_before_honest"]
    assert seen["ready_junk_refused"] == READY_JUNK
    assert f"uid {pwd.getpwnam(ATTACKER).pw_uid}: more than 20 entries at once" in world.log_text()


def test_what_the_service_writes_is_closed_to_other_accounts_but_the_released_page(attacked):
    """Started with umask 022, as a service often is."""
    world, seen = attacked
    course, results = world.course, world.course / "grading_results"
    assert stat.S_IMODE(course.stat().st_mode) & 0o007 == 0
    assert stat.S_IMODE((course / "gradebook.db").stat().st_mode) & 0o077 == 0
    for path in [results, *results.rglob("*"), *(course / "submitted" / TWIN).rglob("*")]:
        assert stat.S_IMODE(path.lstat().st_mode) & 0o077 == 0, path
    feedback = world.exchange / "rnn-attention" / "feedback"
    assert stat.S_IMODE(feedback.stat().st_mode) & 0o044 == 0  # no one lists the pages...
    assert stat.S_IMODE(feedback.stat().st_mode) & 0o011 == 0o011  # ...each student opens their own
    assert stat.S_IMODE(world.feedback_page(seen["twin"][-1]).stat().st_mode) == 0o644
