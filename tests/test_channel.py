"""The grading engine's own channel against the other accounts on the grading host.

While `nbgrader autograde` grades a class (as root, and as an ordinary user), another ordinary
account finds every socket the grading process tree listens on and tries each: a Dask client over
plain TCP, one over TLS with credentials of its own, raw HTTP, a connect() to each Unix socket.
Every try is refused and no code of theirs runs; the class is graded as if they had not tried.
A remote scheduler over plain TCP is refused with the reason, and runs only when the instructor
allows it, with every verdict saying so.
"""
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import course_config
from autograder.engine import channel
from autograder.engine.classroom import grade_class
from autograder.engine.submission import Submission
from autograder.tools import demo
from tests.conftest import GRADERS, INTRUDER_USER, as_user, give_to, intruder_user, ordinary_user
from tests.dask_cluster import Cluster
from tests.intruder import host_netns, intrude, listeners

SPEC = course_config.assignment("multihead_attention")
LEVELS = [lv.name for lv in SPEC.levels]
HONEST = sum(lv.points for lv in SPEC.levels[:2])
WORKERS = 2
SLOW = "import time\ntime.sleep(8)"  # keeps the class grading while the intruder tries


def slow(nb):
    nb.cells.insert(1, nbformat.v4.new_code_cell(SLOW))


@pytest.fixture(scope="module", params=GRADERS)
def intruded(request):
    """A class of 4 graded by `nbgrader autograde` on 2 workers as root or an ordinary user, and
    what another account got from every listening socket of the grading process tree meanwhile."""
    grader = ordinary_user() if request.param == "ordinary user" else ""
    intruder = intruder_user()
    folder = Path(tempfile.mkdtemp(prefix="channel-"))
    os.chmod(folder, 0o755)
    course = demo.make_course(folder / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    for i in range(4):
        demo.submit(course, f"s{i}", SPEC, LEVELS[:2], edit=slow)
    give_to(folder, grader)
    drop = folder / "drop"  # where the intruder's code writes, if it ever runs (every account may write here)
    drop.mkdir()
    os.chmod(drop, 0o1777)
    marker = drop / "intruder-was-here"
    grading = subprocess.Popen(as_user([str(Path(sys.executable).parent / "nbgrader"), "autograde", SPEC.folder],
                                       grader), cwd=course, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HOME": str(folder), "COURSE_WORKERS": str(WORKERS)})
    found, deadline = [], time.monotonic() + 300
    while time.monotonic() < deadline and grading.poll() is None:
        found = listeners(grading.pid)
        kernels = [item for item in found if item.kind == "unix" and "/run-" in item.address]
        if len([item for item in found if item.kind == "tcp"]) >= 1 + 2 * WORKERS and kernels:
            break  # the cluster is up and a kernel is running a submission
        time.sleep(0.2)
    folders = {}  # each Unix socket's folder, as it was then: (mode, owner, its connection file's mode)
    for item in (item for item in found if item.kind == "unix"):
        folder = Path(item.address).parent
        connection = folder / "kernel.json"
        folders[item.address] = (folder.name, stat.S_IMODE(folder.stat().st_mode), folder.stat().st_uid,
                                 stat.S_IMODE(connection.stat().st_mode) if connection.exists() else None)
    reachable = [item for item in found if item.kind == "unix" or item.netns == host_netns()]
    report = intrude(reachable, intruder, marker)
    still_grading = grading.poll() is None
    out, err = grading.communicate(timeout=900)
    yield {"course": course, "found": found, "folders": folders, "report": report, "still_grading": still_grading,
           "marker": marker, "returncode": grading.returncode, "log": out + err}
    shutil.rmtree(folder, ignore_errors=True)


def test_the_intruder_tried_while_the_class_was_graded(intruded):
    print("\nlisteners of the grading run:\n" + "\n".join(f"  {item.kind:4} {item.address:<60} {item.command[:60]}"
                                                         for item in intruded["found"]))
    assert intruded["still_grading"], intruded["log"][-3000:]
    assert any(item.kind == "tcp" for item in intruded["found"])
    assert any(item.kind == "unix" for item in intruded["found"])  # the kernels' channels were there too


def test_every_listening_socket_refuses_another_account_and_runs_none_of_its_code(intruded):
    report = intruded["report"]
    print(json.dumps(report, indent=1))
    assert set(report) == {item.address for item in intruded["found"] if item.kind == "unix" or
                           item.netns == host_netns()}
    for address, outcomes in report.items():
        for outcome in outcomes:
            assert outcome.startswith("refused") or outcome == "closed without a reply", (address, outcome)
    assert not intruded["marker"].exists(), intruded["marker"].read_text()


def test_the_grading_run_listens_only_on_its_dask_tls_ports_and_its_kernels_private_folders(intruded):
    """No HTTP server, nothing beyond loopback: the scheduler, and a nanny and a worker per worker
    process, each on 127.0.0.1; inside a kernel's own network namespace, what the kernel opens there
    (ipykernel's output pipe) is out of every other account's reach; Unix sockets only in kernel
    run folders no other account may enter, beside connection files that only their owner reads."""
    found = intruded["found"]
    tcp = [item for item in found if item.kind == "tcp" and item.netns == host_netns()]
    assert len(tcp) == 1 + 2 * WORKERS, tcp
    assert all(item.address.startswith("127.0.0.1:") for item in tcp), tcp
    assert all("kernel factory" in item.command for item in found if item.kind == "tcp" and item not in tcp)
    intruder = pwd.getpwnam(INTRUDER_USER).pw_uid
    for address, (name, mode, owner, connection_mode) in intruded["folders"].items():
        assert name.startswith("run-") and mode & 0o777 == 0o700 and owner != intruder, (address, oct(mode), owner)
        assert connection_mode in (0o600, None), (address, oct(connection_mode))
    assert any(mode == 0o600 for *_, mode in intruded["folders"].values())  # a connection file was seen


def test_the_class_is_graded_as_if_nobody_had_tried(intruded):
    assert intruded["returncode"] == 0, intruded["log"][-3000:]
    totals = {}
    for student, _, score, _ in demo.gradebook_rows(intruded["course"], SPEC):
        totals[student] = totals.get(student, 0) + score
    assert totals == {f"s{i}": HONEST for i in range(4)}
    results = [json.loads(path.read_text())
               for path in (intruded["course"] / "grading_results" / SPEC.folder).glob("*.json")]
    assert len(results) == 4 and all("channel=tls" in r["isolation"]["layers"] for r in results)


# ---- a remote scheduler: TLS files from course_config, plain TCP refused unless allowed

def test_a_plain_tcp_scheduler_is_refused_with_the_reason_and_nothing_is_graded(tmp_path):
    course = demo.make_course(tmp_path / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    demo.submit(course, "alice", SPEC, LEVELS[:1])
    cluster = Cluster(course, workers=0, tls=False)
    try:
        run = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", SPEC.folder], cwd=course,
                             env={**os.environ, **cluster.env()}, capture_output=True, text=True, timeout=300)
    finally:
        cluster.close()
    assert run.returncode == 2, run.stderr[-3000:]
    assert f"refusing the scheduler at {cluster.address}" in run.stderr and "tls://" in run.stderr
    assert "CLUSTER_TLS" in run.stderr and "allow_plain_tcp" in run.stderr
    assert not (course / "grading_results" / SPEC.folder / "alice.json").exists()
    assert not list((course / "autograded").rglob("*.ipynb"))


def test_plain_tcp_allowed_by_the_instructor_grades_and_every_verdict_says_so(tmp_path):
    course = demo.make_course(tmp_path / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    path = demo.submit(course, "alice", SPEC, LEVELS[:1])
    cluster = Cluster(course, workers=1, tls=False)
    try:
        [result] = grade_class([Submission.from_path(path, SPEC.folder)], scheduler=cluster.address,
                               tls=course_config.ClusterTLS(allow_plain_tcp=True))
    finally:
        cluster.close()
    assert result.score == 2
    assert "channel=tcp(UNENCRYPTED)" in result.isolation["layers"]
    assert any("not encrypted" in warning for warning in result.isolation["warnings"])


def credentials(folder: Path) -> course_config.ClusterTLS:
    files = channel.write_credentials(folder)
    return course_config.ClusterTLS(ca_file=str(files["ca.pem"]), cert=str(files["cert.pem"]),
                                    key=str(files["key.pem"]))


def test_the_written_credentials_are_private(tmp_path):
    tls = credentials(tmp_path / "tls")
    assert stat.S_IMODE(os.stat(tmp_path / "tls").st_mode) == 0o700
    for path in (tls.ca_file, tls.cert, tls.key):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert channel.remote_security("tls://grader01:8786", tls).require_encryption


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786", "ws://grader01:8786"])
def test_an_address_other_than_tls_is_refused(address):
    with pytest.raises(channel.ChannelRefused, match="refusing the scheduler"):
        channel.remote_security(address, course_config.ClusterTLS())
    assert channel.remote_security(address, course_config.ClusterTLS(allow_plain_tcp=True)) is None


def test_tls_files_that_are_missing_open_or_not_files_are_refused_with_what_to_do(tmp_path):
    tls = credentials(tmp_path / "tls")
    refusals = {
        "no key set": (tls.__class__(tls.ca_file, tls.cert, ""), "CLUSTER_TLS.key"),
        "missing CA": (tls.__class__(str(tmp_path / "absent.pem"), tls.cert, tls.key), "cannot be read"),
        "a folder": (tls.__class__(str(tmp_path), tls.cert, tls.key), "not a regular file"),
    }
    open_key = tmp_path / "open-key.pem"
    shutil.copy(tls.key, open_key)
    os.chmod(open_key, 0o644)
    refusals["a key others read"] = (tls.__class__(tls.ca_file, tls.cert, str(open_key)), f"chmod 600 {open_key}")
    for settings, message in refusals.values():
        with pytest.raises(channel.ChannelRefused, match=message.replace(".", r"\.")):
            channel.remote_security("tls://127.0.0.1:8786", settings)


# ---- the engine's credentials are out of the kernels' reach

LEAK = '''
import glob
for path in sorted(glob.glob("{folder}/*")):
    try:
        print("READ", path, open(path).read().replace("\\n", " ")[:80])
    except OSError as error:
        print("BLOCKED", path, error)
'''


@pytest.fixture
def visible_folder():
    """A folder that no hidden folder of the sandbox covers (kernels see it read-only)."""
    for parent in ("/run", "/var/lib"):
        try:
            folder = Path(tempfile.mkdtemp(prefix="course-tls-", dir=parent))
        except OSError:
            continue
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
        return
    pytest.skip("no folder outside the sandbox's hidden ones is writable here (/run, /var/lib)")


@pytest.fixture
def open_folder():
    """A fresh temporary folder that an ordinary user may enter (pytest's tmp_path lies in a 700 one)."""
    folder = Path(tempfile.mkdtemp(prefix="channel-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_kernel_running_as_the_grader_cannot_read_the_clusters_tls_files(open_folder, visible_folder):
    """Graded as an ordinary user, whose kernels run as that same user: the TLS files named in
    course_config (mode 600, the grader's) read as empty inside the sandbox, while a file beside them
    reads as it is; so a student cannot print the key into the feedback and join the cluster."""
    grader = ordinary_user()
    tls = credentials(visible_folder)
    (visible_folder / "public.txt").write_text("PUBLIC-NOTE")
    give_to(visible_folder, grader)
    course = demo.make_course(open_folder / "course")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    for student, edit in (("honest", None), ("leak", lambda nb: nb.cells.insert(1, nbformat.v4.new_code_cell(
            LEAK.replace("{folder}", str(visible_folder)))))):
        demo.submit(course, student, SPEC, LEVELS[:1], edit=edit)
    give_to(open_folder, grader)
    env = {**os.environ, "HOME": str(open_folder), "COURSE_WORKERS": "1", "COURSE_TLS_CA_FILE": tls.ca_file,
           "COURSE_TLS_CERT": tls.cert, "COURSE_TLS_KEY": tls.key}
    run = subprocess.run(as_user([str(Path(sys.executable).parent / "nbgrader"), "autograde", SPEC.folder], grader),
                         cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    notebook = (course / "autograded" / "leak" / SPEC.folder / f"{SPEC.name}.ipynb").read_text()
    printed = "\n".join(line for line in json.loads(notebook)["cells"][1]["outputs"][0]["text"]
                         if line.startswith(("READ", "BLOCKED")))
    assert "PUBLIC-NOTE" in printed, printed  # the folder itself is visible: the files are hidden one by one
    key = Path(tls.key).read_text().splitlines()[1]
    assert key not in printed and "PRIVATE KEY" not in printed, printed
    assert "BEGIN CERTIFICATE" not in printed, printed
    totals = {}
    for student, _, score, _ in demo.gradebook_rows(course, SPEC):
        totals[student] = totals.get(student, 0) + score
    assert totals == {"honest": 2, "leak": 2}


def test_a_workers_own_tls_files_are_found_inside_its_tasks(tmp_path):
    """A hand-started `dask worker --tls-*` knows files that course_config does not name: a grading
    task (where the sandbox's command is built) finds them too."""
    from distributed import Client, LocalCluster, Security
    tls = credentials(tmp_path / "tls")
    security = Security(tls_ca_file=tls.ca_file, tls_worker_cert=tls.cert, tls_worker_key=tls.key,
                        tls_scheduler_cert=tls.cert, tls_scheduler_key=tls.key, tls_client_cert=tls.cert,
                        tls_client_key=tls.key, require_encryption=True)
    with LocalCluster(n_workers=1, processes=False, protocol="tls://", security=security, dashboard_address=None) \
            as cluster, Client(cluster, security=security) as client:
        found = client.submit(channel.credential_files, course_config.ClusterTLS(), pure=False).result()
    assert set(found) == {os.path.realpath(path) for path in (tls.ca_file, tls.cert, tls.key)}
    assert channel.credential_files(course_config.ClusterTLS()) == []  # outside a task: none known here
