"""The judge against bad and cheating submissions, graded together by the stock `nbgrader autograde`,
as root and as an ordinary user (unprivileged bubblewrap, no cgroups, no judge user): two copies of
the class, graded at the same time.

Every student below does the first two levels honestly (4 points; `honest`) and then tries
something: a cheat must earn nothing more, a broken notebook must get an honest score and a
reason, and the rest of the class must be graded.

Limits are shortened in this course copy (LIMITS below) so that the cases that wait out a limit
wait seconds, not minutes; the floods are sized from the budgets ({reply}: one reply's bytes,
{output}: a cell's outputs), so each passes them by the same factor as it would the course's.
"""
import json
import os
import shutil
import socket
import stat
import sys
import tempfile
import threading
from pathlib import Path

import nbformat
import pytest

import course_config
from autograder.tools import demo
from tests.conftest import GRADERS, Started, give_to, nbgrader_as as nbgrader, ordinary_user, require_sandbox

SPEC = course_config.assignment("multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]
HONEST = LEVELS[:2]
HONEST_SCORE = sum(lv.points for lv in SPEC.levels[:2])
FULL = sum(lv.points for lv in SPEC.levels)
# honest cells and calls take well under a second; a submission that hits a limit under load is
# graded again alone (classroom.py), so short limits cost no honest point
LIMITS = course_config.Limits(cell_s=2, notebook_s=20, call_s=2, grace_s=1, output_grace_s=1, reply_mb=4,
                              output_kb=128, notebook_output_kb=256)
REPLY_BYTES = LIMITS.reply_mb << 20
FLOOD_CELLS = 2 * LIMITS.notebook_output_kb // LIMITS.output_kb  # each at its cell's budget: twice the notebook's


def add_cell(source, at=None):
    def edit(nb):
        cell = nbformat.v4.new_code_cell(source)
        nb.cells.insert(len(nb.cells) if at is None else at, cell)
    return edit


def check_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def full_marks_source():
    """An honest submission's cell that would give full marks if it could reach the references."""
    return ("exec(open(p).read()) if (p := __import__('glob').glob("
            "'/**/reference_solutions/multihead_attention.py', recursive=True)) else None")


CHEATS = {
    # name: (levels done honestly, notebook edit, expected total)
    "honest": (HONEST, None, HONEST_SCORE),
    "monkeypatch_allclose": (HONEST, add_cell("import torch\ntorch.allclose = lambda *a, **k: True\n"
                                              "torch.Tensor.__eq__ = lambda *a: True"), HONEST_SCORE),
    "ipython_hooks": (HONEST, add_cell(
        "ip = get_ipython()\n"
        "ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
        "ip.events.register('post_run_cell', lambda r: setattr(r, 'error_in_exec', None))"), HONEST_SCORE),
    "float_formatter": (HONEST, add_cell(
        "get_ipython().display_formatter.formatters['text/plain'].for_type(float, lambda x, p, c: p.text('2.0'))"),
        HONEST_SCORE),
    "result_store_forgery": (HONEST, add_cell(  # a full-marks result planted for a later autograde to reuse
        "import json, os\n"
        "for root in ['{course}/grading_results', '../../../grading_results']:\n"
        "    folder = os.path.join(root, 'by_key', '01_multihead_attention', 'result_store_forgery')\n"
        "    try:\n"
        "        os.makedirs(folder, exist_ok=True)\n"
        "        with open(os.path.join(folder, 'forged.json'), 'w') as f: json.dump({'score': 10}, f)\n"
        "    except OSError as e: print('blocked', root, e)"), HONEST_SCORE),
    "gradebook_write": (HONEST, add_cell(
        "import glob, sqlite3, subprocess\n"
        "for db in glob.glob('/**/gradebook.db', recursive=True) + "
        "['../../../gradebook.db', '{course}/gradebook.db']:\n"
        "    try:\n"
        "        con = sqlite3.connect(db); con.execute('update grade set manual_score = 100'); con.commit()\n"
        "    except Exception as e: print('blocked', db, e)\n"
        "subprocess.Popen(['sh', '-c', 'sleep 3; sqlite3 {course}/gradebook.db \"update grade set manual_score=100\"'],"
        " start_new_session=True)"), HONEST_SCORE),
    "read_hidden_checks": (HONEST, add_cell(
        full_marks_source() + "\n"
        "for p in ['{course}/autograder/checks/test_multihead_attention.py', "
        "'{course}/reference_solutions/multihead_attention.py']:\n"
        "    try: exec(open(p).read())\n"
        "    except Exception as e: print('blocked', e)"), HONEST_SCORE),
    "invalid_json": ((), "invalid_json", 0),
    "check_cell_deleted": (LEVELS, lambda nb: nb.cells.remove(check_cells(nb)[0]), FULL),
    "check_cell_duplicated": (LEVELS, lambda nb: nb.cells.insert(0, nbformat.from_dict(
        json.loads(json.dumps(check_cells(nb)[0])))), FULL),
    "check_cell_edited": (HONEST, lambda nb: [setattr(c, "source", "2.0") for c in check_cells(nb)], HONEST_SCORE),
    "check_cell_moved": (HONEST, lambda nb: nb.cells.insert(0, nb.cells.pop(nb.cells.index(check_cells(nb)[-1]))),
                         HONEST_SCORE),
    "check_metadata_stripped": (HONEST, lambda nb: [c.metadata.pop("nbgrader") for c in check_cells(nb)],
                                HONEST_SCORE),
    "extra_cells": (HONEST, lambda nb: nb.cells.extend([nbformat.v4.new_markdown_cell("# notes"),
                                                        nbformat.v4.new_code_cell("x = 1")]), HONEST_SCORE),
    "sys_exit": (HONEST, add_cell("import sys\nsys.exit(0)"), HONEST_SCORE),
    "os_exit": (HONEST, add_cell("import os\nos._exit(0)"), HONEST_SCORE),
    "infinite_loop": (HONEST, add_cell("while True:\n    pass"), HONEST_SCORE),
    "loop_ignoring_sigint": (HONEST, add_cell(
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"), HONEST_SCORE),
    "memory_hog": (HONEST, add_cell("hog = bytearray(64 << 30)"), HONEST_SCORE),
    "fork_bomb": (HONEST, add_cell(
        "import subprocess\nprocs = []\nfor _ in range(5000):\n"
        "    procs.append(subprocess.Popen(['sleep', '600']))"), HONEST_SCORE),
    "network": (HONEST, add_cell(
        "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=3)\ns.sendall(b'leak')"),
        HONEST_SCORE),
    "huge_output": (HONEST, add_cell("for i in range(200000):\n    print('x' * 100)"), HONEST_SCORE),
    # the trust boundary's edges: files the grader could be led to, replies and outputs built to
    # exhaust it, nbgrader metadata built to make it raise
    "run_dir_link": (HONEST, lambda nb: [add_cell(
        "import glob, os, ipykernel\nrun = os.path.dirname(ipykernel.get_connection_file())\n"
        "os.symlink('{secret}', os.path.join(run, 'planted'))\nos.symlink('/', os.path.join(run, 'root'))\n"
        "os._exit(0)")(nb), add_cell(
        "import glob\nfor p in glob.glob('../run*/planted') + glob.glob('../run*/root/etc/shadow'):\n"
        "    try: print('LEAK', open(p).read())\n    except OSError as e: print('blocked', p, e)")(nb)], HONEST_SCORE),
    "planted_files": (HONEST, add_cell(
        "import os\nfor name in ('data.txt', 'sub/inner.txt', 'pipe', 'big.bin'):\n"
        "    try: print('LEAK', name, open(name).read(100))\n    except OSError as e: print('absent', name, e)"),
        HONEST_SCORE),
    "schema_version": (HONEST, lambda nb: [c.metadata.nbgrader.update(schema_version=4) for c in check_cells(nb)[:1]]
                       + [c.metadata.nbgrader.update(schema_version=2) for c in check_cells(nb)[1:2]], HONEST_SCORE),
    "flipped_flags": (HONEST, lambda nb: [c.metadata.nbgrader.update(solution=True) for c in check_cells(nb)[:1]]
                      + [c.metadata.nbgrader.update(grade=False) for c in check_cells(nb)[1:2]]
                      + [c.metadata.nbgrader.update(grade=True, points=100) for c in nb.cells
                         if c.metadata.get("nbgrader", {}).get("solution")][:1], HONEST_SCORE),
    "reply_shared_references": (HONEST, add_cell(
        "def transpose_qkv(X, num_heads):\n    x = [1]\n    for _ in range(7):\n        x = [x] * 100\n    return x"),
        HONEST_SCORE),
    "reply_millions_of_ints": (HONEST, add_cell(  # pickled, twice the reply budget
        "def transpose_qkv(X, num_heads):\n    return list(range({reply} // 2))"), HONEST_SCORE),
    "reply_flood": (HONEST, add_cell(
        "from IPython.display import publish_display_data\n"
        "def transpose_qkv(X, num_heads):\n    for _ in range(8):\n"
        "        publish_display_data({'application/x-course-judge-reply': 'A' * ({reply} * 4)})\n"), HONEST_SCORE),
    "output_flood": (HONEST, lambda nb: [add_cell(
        "from IPython.display import display, HTML, update_display\nimport sys\n"
        "h = display(HTML('<b>' + 'x' * ({output} * 31 // 32) + '</b>'), display_id=True)\n"
        "update_display(HTML('y' * ({reply} * 2)), display_id=h.display_id)\n"
        "display({'application/x-course-judge-reply': 'z' * ({output} * 4 // 5)}, raw=True)\n"
        "raise ValueError('e' * ({output} * 4 // 5))")(nb) for _ in range(FLOOD_CELLS)], HONEST_SCORE),
}


class AdversarialClass:
    """One grader's copy of the class: built, then graded by `nbgrader autograde` in the background
    (`graded` waits for it), with a listener that counts connections from the sandbox."""

    def __init__(self, grader):
        self.user = ordinary_user() if grader == "ordinary user" else ""
        self.folder = Path(tempfile.mkdtemp(prefix="adversarial-"))
        os.chmod(self.folder, 0o755)
        self.course = course = demo.make_course(self.folder / "course")
        with open(course / "course_config.py", "a") as config:
            config.write(f"\nLIMITS = {LIMITS!r}\n")
        demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.listener.settimeout(0.5)
        self.connections, self.stop = [], threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

        self.secret = secret = self.folder / "secret.txt"  # the grader's own file, which no submission may read
        for student, (levels, edit, _) in CHEATS.items():
            if edit == "invalid_json":
                path = demo.submit(course, student, SPEC)
                path.write_text('{"cells": [ this is not json')
                continue
            if edit is not None and not callable(edit):
                raise AssertionError(edit)
            demo.submit(course, student, SPEC, levels, edit=self._formatted(edit))
        planted = course / "submitted" / "planted_files" / SPEC.folder
        (planted / "sub").mkdir()
        os.symlink(secret, planted / "data.txt")
        os.symlink(self.folder, planted / "sub" / "up")
        os.symlink(secret, planted / "sub" / "inner.txt")
        os.mkfifo(planted / "pipe")
        with open(planted / "big.bin", "wb") as big:
            big.truncate(65 << 20)  # over the per-file and per-submission budgets (sparse: no disk)

        give_to(self.folder, self.user)
        secret.write_text("SECRET-OF-THE-GRADER")
        os.chmod(secret, 0o600)
        os.chown(secret, 0, 0)
        self.process = Started(course, self.user, "python", "-c", PEAK, str(Path(sys.executable).parent / "nbgrader"),
                               "autograde", SPEC.folder)  # its stderr ends with the largest RSS of its processes
        self.graded = None

    def _accept(self):
        while not self.stop.is_set():
            try:
                self.connections.append(self.listener.accept())
            except OSError:
                pass

    def _formatted(self, edit):
        def formatted(nb):
            if edit:
                edit(nb)
            for cell in nb.cells:
                cell.source = cell.source.replace("{course}", str(self.course)).replace(
                    "{port}", str(self.listener.getsockname()[1])).replace("{secret}", str(self.secret)).replace(
                    "{reply}", str(REPLY_BYTES)).replace("{output}", str(LIMITS.output_kb << 10))
        return formatted

    def wait(self):
        """(course, the finished run, {student: total}, connections, user), once graded."""
        if self.graded is None:
            run = self.process.finished()
            self.stop.set()
            totals = {}
            for student, _, score, _ in demo.gradebook_rows(self.course, SPEC):
                totals[student] = totals.get(student, 0) + score
            self.graded = self.course, run, totals, self.connections, self.user
        return self.graded

    def close(self):
        self.process.stop()
        self.stop.set()
        self.listener.close()
        assert os.stat(self.secret).st_uid == 0 and self.secret.read_text() == "SECRET-OF-THE-GRADER"
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def classes():
    """Every grader's class, graded at the same time: their waits (the time limits the cheats run
    into) overlap, and twice the load is one more thing a grade must not depend on."""
    started = {}
    try:
        for grader in GRADERS:
            started[grader] = AdversarialClass(grader)
        yield started
    finally:
        for adversarial in started.values():
            adversarial.close()


@pytest.fixture(scope="module", params=GRADERS)
def graded(request, classes):
    return classes[request.param].wait()


NEED_SANDBOX = {"gradebook_write", "result_store_forgery", "read_hidden_checks", "network",
                "fork_bomb"}  # files, network, processes


PEAK = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(rc)")


def test_no_file_outside_a_submission_was_read_or_changed(graded):
    """The grader's file that links pointed at: still root's, mode 600, and in no notebook."""
    course, *_ = graded
    secret = course.parent / "secret.txt"
    assert (os.stat(secret).st_uid, stat.S_IMODE(os.stat(secret).st_mode)) == (0, 0o600)
    for notebook in (course / "autograded").rglob("*.ipynb"):
        assert "SECRET-OF-THE-GRADER" not in notebook.read_text(errors="replace"), notebook
    printed = autograded_text(course, "planted_files")
    assert "LEAK" not in printed, printed
    for name in ("data.txt", "sub/inner.txt", "pipe", "big.bin"):
        assert f"absent {name}" in printed, printed


def test_what_a_submission_held_that_was_left_out_is_named_in_its_verdict(graded):
    course, *_ = graded
    verdict = autograded_text(course, "planted_files")
    for name in ("data.txt: a link", "sub/up: a link", "pipe: not a regular file", "big.bin"):
        assert name in verdict, verdict[-3000:]


def test_budgets_keep_the_grader_small_and_the_notebooks_bounded(graded):
    """With replies and outputs built to exhaust it, no process of the grader passed 2 GB and
    each autograded notebook stayed within the notebook's output budget (plus its verdicts)."""
    _, run, *_ = graded
    course = graded[0]
    peak_kb = int(run.stderr.rsplit("PEAK_KB", 1)[1].split()[0])
    print(f"grader peak RSS: {peak_kb >> 10} MB")
    assert peak_kb < 2 << 20
    honest = (course / "autograded" / "honest" / SPEC.folder / f"{SPEC.name}.ipynb").stat().st_size
    for student in ("output_flood", "huge_output", "reply_flood"):
        path = course / "autograded" / student / SPEC.folder / f"{SPEC.name}.ipynb"
        # its sources and verdicts (as the honest twin's), and outputs within the notebook's budget
        assert path.stat().st_size < honest + (LIMITS.notebook_output_kb + 64 << 10), (student, path.stat().st_size)


def autograded_text(course, student) -> str:
    nb = nbformat.read(course / "autograded" / student / SPEC.folder / f"{SPEC.name}.ipynb", as_version=4)
    return "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                   for cell in nb.cells for o in cell.get("outputs", []))


@pytest.mark.parametrize("student", CHEATS)
def test_each_submission_gets_exactly_the_score_its_honest_work_deserves(graded, student):
    _, run, totals, *_ = graded
    if student in NEED_SANDBOX:
        require_sandbox()
    assert totals[student] == pytest.approx(CHEATS[student][2]), run.stdout[-3000:] + run.stderr[-3000:]


def test_the_whole_class_is_graded_and_the_run_lists_the_problems(graded):
    course, run, totals, *_ = graded
    assert set(totals) == set(CHEATS)
    out = run.stdout + run.stderr
    summary = out[out.index("Submissions with problems"):]
    for student in ("invalid_json", "os_exit", "infinite_loop", "loop_ignoring_sigint"):
        assert student in summary
    assert "honest /" not in summary


def test_broken_submissions_get_a_readable_reason_in_their_feedback(graded):
    course, *_, user = graded
    nbgrader(course, user, "generate_feedback", SPEC.folder, "--log-level=WARN")
    for student, reason in (("invalid_json", "could not be read"), ("os_exit", "killed the kernel"),
                            ("loop_ignoring_sigint", "killed the kernel"),
                            ("infinite_loop", "time limit")):
        html = (course / "feedback" / student / SPEC.folder / f"{SPEC.name}.html").read_text()
        assert reason in html, student


def test_no_connection_left_the_sandbox(graded):
    *_, connections, _ = graded
    require_sandbox()
    assert connections == []


def test_the_gradebook_was_not_written_by_students(graded):
    course, *_ = graded
    require_sandbox()
    import sqlite3
    con = sqlite3.connect(course / "gradebook.db")
    assert con.execute("select count(*) from grade where manual_score is not null").fetchone()[0] == 0


def test_no_student_wrote_into_the_result_store(graded):
    """Only the grader's results are there: one per (student, run key), none planted."""
    course, *_ = graded
    require_sandbox()
    assert not list((course / "grading_results").rglob("forged.json"))
    forger = course / "grading_results" / "by_key" / SPEC.folder / "result_store_forgery"
    assert [p.name for p in forger.iterdir()] == [p.name for p in forger.glob("*.json") if len(p.stem) == 64]


def test_no_student_process_outlives_grading(graded):
    """The background sleeps, the fork bomb's children, the kernels: none is left running."""
    course, *_ = graded
    require_sandbox()
    marker = f"COURSE_JUDGE_OF={course}".encode()
    survivors = []
    for proc in Path("/proc").iterdir():
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker in environ and state != "Z":  # this course's grading, not a zombie
            survivors.append((proc / "cmdline").read_bytes().replace(b"\0", b" ")[:120])
    assert survivors == []


def test_grading_twice_gives_the_same_scores(graded):
    """Graded again by the engine, not taken from the result store (its stored result removed)."""
    course, _, totals, _, user = graded
    shutil.rmtree(course / "grading_results" / "by_key" / SPEC.folder / "monkeypatch_allclose")
    run = nbgrader(course, user, "autograde", SPEC.folder, "--force", "--student=monkeypatch_allclose")
    assert "graded 1, 0 from stored results" in run.stdout + run.stderr, run.stderr[-2000:]
    again = sum(r[2] for r in demo.gradebook_rows(course, SPEC) if r[0] == "monkeypatch_allclose")
    assert again == totals["monkeypatch_allclose"]


def test_as_an_ordinary_user_the_layers_are_the_unprivileged_ones(graded):
    """What the ordinary user's run had: bubblewrap unprivileged, its own user, the per-sandbox
    process limit (the cgroups and the judge user need root)."""
    course, *_, user = graded
    require_sandbox()
    result = json.loads((course / "grading_results" / SPEC.folder / "honest.json").read_text())
    layers = result["isolation"]["layers"]
    if user or os.geteuid() != 0:
        assert "bwrap=on user=self" in layers and "processes=per-sandbox" in layers
    else:
        assert "bwrap=on user=coursejudge" in layers
