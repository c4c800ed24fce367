"""The roster (`python -m autograder.tools.roster roster.csv`), run as written in a copy of the course (course id
`rostertest`: its own group, never the real class's). It enrols students in the gradebook, creates their
accounts (homes 0700; or reuses one, warning when its home is open, closing it with --close-homes) with a
password that logs in through PAM, and puts them in nbgrader-<course>; run again with a changed roster it adds
and removes students and keeps every grade; a malformed roster is refused with its line numbers and changes
nothing. Needs root (accounts); skipped otherwise."""
import grp
import os
import pwd
import shutil
import stat
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from autograder.tools import hub_class

COURSE = "rostertest"
GROUP = f"nbgrader-{COURSE}"
ADA, BO, CY, DEE = "roster-ada", "roster-bo", "roster-cy", "roster-dee"
ASSIGNMENT = "01_multihead_attention"
# nbgrader 0.9.6's own SQLAlchemy warning when a submission is added (as in nbgrader_config.py)
pytestmark = pytest.mark.filterwarnings("ignore:Object of type .* not in session")

if os.geteuid() != 0 or not shutil.which("useradd"):
    pytest.skip("the roster creates accounts (useradd): run it as root", allow_module_level=True)
pamela = pytest.importorskip("pamela", reason="jupyterhub (requirements.txt) brings pamela: `make venv`")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    hub_class.remove_accounts((ADA, BO, CY, DEE), COURSE)
    course = hub_class.copy_course(tmp_path_factory.mktemp("roster") / "course", COURSE)
    hub_class.account(BO, "bo-had-this-password")  # an account the machine already has, its home open
    os.chmod(pwd.getpwnam(BO).pw_dir, 0o755)
    yield course
    hub_class.remove_accounts((ADA, BO, CY, DEE), COURSE)


def _roster(course, text: str, *options):
    (course / "roster.csv").write_text(text)
    return subprocess.run([sys.executable, "-m", "autograder.tools.roster", "roster.csv", *options], cwd=course,
                          capture_output=True, text=True, timeout=300, check=False)


def _gradebook(course) -> dict:
    """student id -> (first name, last name, email, score in ASSIGNMENT or None), read with nbgrader's API."""
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        return {s.id: (s.first_name, s.last_name, s.email,
                       next((sub.score for sub in s.submissions if sub.assignment.name == ASSIGNMENT), None))
                for s in gb.students}


def _grade(course, student: str, points: float):
    """`student` submitted ASSIGNMENT and got `points` on its one graded cell (as autograde would record)."""
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        if ASSIGNMENT not in [a.name for a in gb.assignments]:
            gb.add_assignment(ASSIGNMENT)
            gb.add_notebook("nb", ASSIGNMENT)
            gb.add_grade_cell("check_masked_softmax", "nb", ASSIGNMENT, max_score=2, cell_type="code")
        gb.add_submission(ASSIGNMENT, student)
        gb.find_grade("check_masked_softmax", "nb", ASSIGNMENT, student).auto_score = points
        gb.db.commit()


def _members() -> set:
    return set(grp.getgrnam(GROUP).gr_mem)


def test_roster_enrols_creates_accounts_and_groups(course):
    run = _roster(course, f"id,name,email\n{ADA},Ada Lovelace,ada@example.edu\n{BO},张博\n"
                          f"{CY},Cy Young,cy@example.edu\n")
    assert run.returncode == 0, run.stderr
    assert _gradebook(course) == {ADA: ("Ada", "Lovelace", "ada@example.edu", None),
                                  BO: (None, "张博", None, None), CY: ("Cy", "Young", "cy@example.edu", None)}
    assert _members() == {ADA, BO, CY}
    passwords = course / "roster.passwords.csv"
    assert oct(passwords.stat().st_mode & 0o777) == "0o600"
    rows = dict(line.split(",") for line in passwords.read_text().splitlines()[1:])
    assert set(rows) == {ADA, CY}, "the existing account keeps its password and is not listed"
    for student, password in rows.items():
        pamela.authenticate(student, password)  # raises PAMError if the password does not log in
        assert pwd.getpwnam(student).pw_dir == f"/home/{student}" and os.path.isdir(f"/home/{student}")
    pamela.authenticate(BO, "bo-had-this-password")
    with pytest.raises(pamela.PAMError):
        pamela.authenticate(ADA, "not-the-password")
    assert {sid: _home_mode(sid) for sid in (ADA, CY, BO)} == {ADA: 0o700, CY: 0o700, BO: 0o755}
    assert f"{BO}" in run.stderr and "--close-homes" in run.stderr and "警告" in run.stderr, run.stderr
    assert ADA not in run.stderr and CY not in run.stderr


def _home_mode(sid: str) -> int:
    return stat.S_IMODE(os.stat(pwd.getpwnam(sid).pw_dir).st_mode)


def test_a_changed_roster_adds_and_removes_and_keeps_grades(course):
    _grade(course, ADA, 2)
    _grade(course, BO, 1.5)
    # BO (graded) and CY (never submitted) leave; DEE joins; ADA's name is corrected
    run = _roster(course, f"id,name,email\n{ADA},Ada King,ada@example.edu\n{DEE},Dee Dee\n")
    assert run.returncode == 0, run.stderr
    book = _gradebook(course)
    assert book[ADA] == ("Ada", "King", "ada@example.edu", 2.0)
    assert book[BO][3] == 1.5, "a student who leaves keeps their grades"
    assert CY not in book and DEE in book
    assert _members() == {ADA, DEE}
    assert "kept for their grades: roster-bo" in run.stdout, run.stdout
    assert pwd.getpwnam(BO) and pwd.getpwnam(CY), "accounts (and homes, with their work) stay"
    # back on the roster: in the group again, grades where they were; told to, its open home closed
    run = _roster(course, f"id,name\n{ADA},Ada King\n{BO},张博\n{DEE},Dee Dee\n", "--close-homes")
    assert run.returncode == 0, run.stderr
    assert _members() == {ADA, BO, DEE} and _gradebook(course)[BO][3] == 1.5
    assert f"homes closed: {BO}" in run.stdout and _home_mode(BO) == 0o700, run.stdout
    assert "--close-homes" not in run.stderr, run.stderr


def test_a_malformed_roster_is_refused_and_nothing_changes(course):
    before, members = _gradebook(course), _members()
    run = _roster(course, f"id,name,email\n{ADA},Ada King\nroster-new,New Student\nBad Id,Someone\n{DEE}\n"
                          f"{ADA},Again\nroster-x,X,not-an-email\nroot,Root\n")
    assert run.returncode == 1
    for line in ("roster.csv:4:", "roster.csv:5:", "roster.csv:6:", "roster.csv:7:", "roster.csv:8:"):
        assert line in run.stderr, run.stderr
    assert "roster.csv:2:" not in run.stderr and "roster.csv:3:" not in run.stderr
    assert "already on line 2" in run.stderr and "system account" in run.stderr and "nothing changed" in run.stderr
    headless = _roster(course, f"{ADA},Ada King\nroster-new,New Student\n")  # the service reads the `id` column
    assert headless.returncode == 1 and "roster.csv:1:" in headless.stderr and "id,name,email" in headless.stderr
    assert _gradebook(course) == before and _members() == members
    with pytest.raises(KeyError):
        pwd.getpwnam("roster-new")  # the good row's account was not made either
