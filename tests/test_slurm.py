"""Slurm as a cluster kind, on a real Slurm: the session's `local_slurm` (munged, slurmctld and slurmd
on this host, conftest.py). One small class is graded by the local cluster and, through the README's
Slurm block, by two Slurm jobs, one of them cancelled with `scancel` mid-class: the same gradebook,
every submission graded exactly once, the same isolation inside each kernel. A copy is interrupted
with Ctrl-C mid-class (no job left in the queue); a full queue makes the command say so instead of
waiting; what Slurm refuses stops it at once."""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

import course_config
from autograder.engine import slurm
from autograder.engine.classroom import QUIET
from autograder.tools import demo
from tests.conftest import require_sandbox
from tests.test_engine import LEVELS, SPEC, class_of, gradebook
from tests.test_readme import fenced_block

NBGRADER = str(Path(sys.executable).parent / "nbgrader")
# the class's jobs on this 2-core node: 2 jobs of 1 worker each (the README's variables)
SIZE = {"COURSE_SLURM_JOBS": "2", "COURSE_SLURM_CORES": "1", "COURSE_SLURM_MEMORY": "2GB",
        "COURSE_SLURM_WALLTIME": "00:10:00", "COURSE_SLURM_START_S": "120"}

# From inside the kernel: who it runs as, what it sees of the host, and whether it finds the TLS
# folder of a Slurm run (grading_results/slurm/tls-* in a course copy beside its own).
PROBE = """import glob, os
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
print("PROBE uid", os.getuid(), "| copies' folder seen", os.path.isdir({top!r}),
      "| TLS folders seen", len(glob.glob({top!r} + "/*/grading_results/slurm/tls-*")), "| /home", os.listdir("/home"),
      "| /tmp", len(os.listdir("/tmp")), "| few processes", len([p for p in os.listdir("/proc") if p.isdigit()]) < 10,
      "| NoNewPrivs", status["NoNewPrivs"].strip(), "| CapEff", status["CapEff"].strip(),
      "| engine variables", sorted(k for k in os.environ if k.startswith(("SLURM", "DASK", "COURSE"))))"""


def probe(top: Path):
    return lambda nb: nb.cells.insert(1, nbformat.v4.new_code_cell(PROBE.format(top=str(top))))


@pytest.fixture(scope="module")
def top(tmp_path_factory):
    """The folder of the course copies: one the sandbox does not hide (/var/lib) where we may write,
    so that only the course root's own hiding keeps a Slurm run's TLS folder from its kernels."""
    try:
        folder = Path(tempfile.mkdtemp(prefix="course-slurm-", dir="/var/lib"))
        folder.chmod(0o755)  # the kernels' user may look in
    except OSError:  # then /tmp, hidden as a whole: the TLS folder is out of sight either way
        folder = tmp_path_factory.mktemp("slurm")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def slowed(course: Path, seconds: float):
    """Every submission of `course` waits `seconds` in a cell of its own (its score unchanged)."""
    for path in (course / "submitted").glob(f"*/{SPEC.folder}/{SPEC.name}.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(1, nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})"))
        nbformat.write(nb, path)


@pytest.fixture(scope="module")
def class_course(top):
    """A class of 4 (full, untouched, half, full with the probe), to be copied for each run."""
    require_sandbox()
    course = demo.make_course(top / "class")
    demo.nbgrader(course, "generate_assignment", SPEC.folder, "--log-level=WARN")
    class_of(course, 3)
    demo.submit(course, "s03", SPEC, LEVELS, probe(top))
    return course


def copy_of(course: Path, name: str) -> Path:
    copy = course.parent / name
    shutil.copytree(course, copy, symlinks=True)
    return copy


def graded_once(err: str) -> list:
    """The students of the command's per-submission lines, sorted (each once when nothing was lost)."""
    lines = [line for line in err.splitlines() if " points in " in line]
    return sorted(line.split("] ", 1)[1].split(":")[0].split()[-1] for line in lines)


def kernels_view(course: Path) -> tuple:
    """(the isolation lines of the class's results, the probe's line from inside its kernel)."""
    results = [json.loads(p.read_text()) for p in (course / "grading_results" / SPEC.folder).glob("*.json")]
    nb = nbformat.read(course / "autograded" / "s03" / SPEC.folder / f"{SPEC.name}.ipynb", as_version=4)
    line = next(o["text"] for c in nb.cells for o in c.get("outputs", []) if "PROBE" in o.get("text", ""))
    return {r["isolation"]["layers"] for r in results}, line


def credentials_left(course: Path) -> list:
    return list((course / "grading_results" / "slurm").glob("tls-*"))


class Command:
    """A grading command started now in `course` (`nbgrader autograde` on Slurm jobs by default);
    its output read as it comes."""

    def __init__(self, course: Path, local_slurm, argv=(NBGRADER, "autograde", SPEC.folder), **env):
        self.proc = subprocess.Popen(list(argv), cwd=course, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**local_slurm.env, **SIZE, "COURSE_CLUSTER": "slurm", **env})
        self.err, self.out = [], []
        self._readers = [threading.Thread(target=self._read, args=(pipe, into), daemon=True)
                         for pipe, into in ((self.proc.stderr, self.err), (self.proc.stdout, self.out))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(pipe, into):
        for line in pipe:
            into.append(line)

    def wait_for(self, ready, what: str, timeout: float = 180):
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.proc.poll() is None and time.monotonic() < deadline, \
                f"no {what}; exit {self.proc.poll()}:\n" + "".join(self.err)[-3000:]
            time.sleep(0.1)

    def finish(self, timeout: float = 600) -> tuple:
        """(exit status, stdout, stderr) once the command has ended."""
        self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return self.proc.returncode, "".join(self.out), "".join(self.err)


def running_jobs(local_slurm) -> list:
    return [job for job, state, _ in local_slurm.jobs() if state == "RUNNING"]


@pytest.fixture(scope="module")
def local_run(class_course):
    """(gradebook, kernels' view) of the class graded on the local cluster."""
    course = copy_of(class_course, "local")
    started = time.monotonic()
    run = subprocess.run([NBGRADER, "autograde", SPEC.folder], cwd=course, capture_output=True, text=True,
                         env={**os.environ, "COURSE_WORKERS": "2"}, timeout=600)
    print(f"\nthe class of 4 graded on the local cluster in {time.monotonic() - started:.1f} s")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "local cluster (TLS)" in run.stderr
    return gradebook(course), kernels_view(course)


@pytest.fixture(scope="module")
def readme_run(class_course, local_slurm):
    """The class graded by the README's Slurm block, run as written by bash in the course root; once
    the first submission is graded, and a moment more (3 of 4 left for 2 workers: each is grading
    one), one of the class's two jobs is cancelled with scancel."""
    course = copy_of(class_course, "readme")
    slowed(course, 2)  # each submission takes seconds more: the cancelled job is surely grading one
    (course / ".venv").symlink_to(course_config.ROOT / ".venv")  # `make venv`: already made
    script = "set -euo pipefail\n" + fenced_block("On Slurm", "###")
    started = time.monotonic()
    grading = Command(course, local_slurm, ["bash", "-c", script], COURSE_CLUSTER="")  # the block sets it
    grading.wait_for(lambda: graded_once("".join(grading.err)), "a graded submission")
    time.sleep(1)
    running = running_jobs(local_slurm)
    [folder] = credentials_left(course)  # the run's TLS files, while the jobs use them
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in (folder, *folder.iterdir())}
    local_slurm.run("scancel", running[0])
    returncode, out, err = grading.finish()
    print(f"\nthe class of 4 graded on Slurm in {time.monotonic() - started:.1f} s, job {running[0]} cancelled")
    assert returncode == 0, out[-3000:] + err[-3000:]
    return {"course": course, "out": out, "err": err, "running": running, "cancelled": running[0], "modes": modes}


def test_the_readmes_block_grades_the_class_on_slurm_jobs_as_the_local_cluster_does(local_run, readme_run,
                                                                                     local_slurm):
    course, err = readme_run["course"], readme_run["err"]
    assert "grading on Slurm jobs" in err and "channel=tls" in err
    book = gradebook(course)
    assert book == local_run[0]
    assert sum(score for (student, _), score in book.items() if student == "s00") == 10  # not all zeros
    assert sum(score for (student, _), score in book.items() if student == "s01") == 0
    logs = list((course / "grading_results" / "slurm").glob("course-grading-*.err"))
    assert len(logs) == 2, logs  # the class's two jobs, one worker each
    assert "course-grading" not in readme_run["out"]  # the block's squeue: none of its jobs left
    assert local_slurm.jobs() == [] and credentials_left(course) == []


def test_a_job_cancelled_mid_class_leaves_every_submission_graded_exactly_once(readme_run):
    course, err = readme_run["course"], readme_run["err"]
    assert len(readme_run["running"]) == 2  # both jobs were grading when one was cancelled
    log = next((course / "grading_results" / "slurm").glob(f"*-{readme_run['cancelled']}.err")).read_text()
    assert "CANCELLED" in log
    assert graded_once(err) == ["s00", "s01", "s02", "s03"]
    results = list((course / "grading_results" / SPEC.folder).glob("*.json"))
    assert sorted(p.stem for p in results) == ["s00", "s01", "s02", "s03"]
    assert "grading failed" not in err


def test_the_runs_tls_files_are_the_graders_alone_and_gone_after(readme_run):
    modes = readme_run["modes"]
    assert len(modes) == 4 and all(mode == (0o700 if name.startswith("tls-") else 0o600)
                                   for name, mode in modes.items()), modes
    assert {name.split(".")[3] for name in modes if not name.startswith("tls-")} == {"ca_file", "cert", "key"}


def test_a_kernel_on_a_slurm_job_sees_what_a_kernel_sees_locally(local_run, readme_run, top):
    (local_layers, local_probe), (layers, line) = local_run[1], kernels_view(readme_run["course"])
    assert layers == local_layers and len(layers) == 1, (layers, local_layers)
    assert "bwrap=on" in next(iter(layers)) and "channel=tls" in next(iter(layers))
    assert line == local_probe, (line, local_probe)
    visible = not str(top).startswith("/tmp/")
    assert f"copies' folder seen {visible} | TLS folders seen 0 | /home [] | /tmp 1 | few processes True | " \
           "NoNewPrivs 1 | CapEff 0000000000000000 | engine variables ['COURSE_JUDGE_OF']" in line, line
    # (the job's SLURM_* variables stay outside; the run's TLS folder, made before its kernels, too)


def test_ctrl_c_mid_class_leaves_no_job_in_the_queue(class_course, local_slurm):
    course = copy_of(class_course, "interrupted")
    slowed(course, 60)  # the class cannot end before the Ctrl-C, however quiet the machine
    grading = Command(course, local_slurm)
    grading.wait_for(lambda: "grading on Slurm jobs" in "".join(grading.err), "the class's jobs")
    assert len(running_jobs(local_slurm)) == 2  # the class's tasks are on their workers
    grading.proc.send_signal(signal.SIGINT)
    returncode, _, err = grading.finish()
    assert returncode not in (0, 2) and "Canceled" in err, err[-3000:]  # interrupted, not finished or refused
    assert not graded_once(err)
    assert local_slurm.jobs() == [], err[-3000:]  # gone from the queue by the time the command ended
    assert credentials_left(course) == []


def test_a_full_queue_makes_the_command_say_so_and_what_to_change(class_course, local_slurm):
    blocker = local_slurm.run("sbatch", "--parsable", "-c", str(local_slurm.cpus), "-o", "/dev/null",
                              "--wrap", "sleep 300").stdout.strip()
    try:
        deadline = time.monotonic() + 30
        while running_jobs(local_slurm) != [blocker]:  # the node is full
            assert time.monotonic() < deadline, local_slurm.jobs()
            time.sleep(0.1)
        course = copy_of(class_course, "queued")
        returncode, _, err = Command(course, local_slurm, COURSE_SLURM_START_S="1").finish()
        left = local_slurm.jobs()
    finally:
        local_slurm.run("scancel", blocker)
    assert returncode == 2, err[-3000:]
    assert "no Slurm job of this class started within 1 s" in err and "Resources" in err, err[-3000:]
    assert "评分的 Slurm 作业仍未开始" in err and "COURSE_SLURM_PARTITION" in err and "COURSE_SLURM_START_S" in err
    assert [job for job, *_ in left] == [blocker]  # its own jobs cancelled
    assert not list((course / "autograded").rglob("*.ipynb")) and credentials_left(course) == []


def test_what_slurm_refuses_stops_at_once_with_slurms_reason(tmp_path, local_slurm, monkeypatch):
    """A partition this Slurm does not have: sbatch --test-only says so, nothing is queued."""
    monkeypatch.setenv("SLURM_CONF", local_slurm.env["SLURM_CONF"])
    with pytest.raises(slurm.SlurmJobsNotStarted, match="COURSE_SLURM_") as refused:
        slurm.SlurmJobs(2, False, QUIET, course_config.Slurm(jobs=1, cores=1, memory="1GB", partition="nosuch"),
                        root=tmp_path)
    assert "Slurm refused the grading jobs" in str(refused.value) and "invalid partition" in str(refused.value)
    assert "Slurm 拒绝了评分作业" in str(refused.value)
    assert local_slurm.jobs() == [] and credentials_left(tmp_path) == []


def test_slurm_asked_for_where_there_is_none_says_where_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch, squeue, scancel
    with pytest.raises(slurm.SlurmJobsNotStarted, match="sbatch, squeue, scancel is not on PATH") as refused:
        slurm.SlurmJobs(2, False, QUIET, root=tmp_path)
    assert "登录节点" in str(refused.value) and not (tmp_path / "grading_results").exists()


@pytest.fixture(scope="module")
def gpu_jobs(tmp_path_factory, local_slurm):
    """The Slurm jobs of a GPU assignment's class of 1 (this Slurm counts one GPU), a worker joined."""
    from distributed import Client
    os.environ["SLURM_CONF"] = local_slurm.env["SLURM_CONF"]
    try:
        jobs = slurm.SlurmJobs(1, True, QUIET, course_config.Slurm(jobs=1, cores=1, memory="1GB"),
                               root=tmp_path_factory.mktemp("gpu"))
        with Client(jobs.cluster) as client:
            jobs.wait_for_a_worker(client)
            yield jobs, client
            jobs.release()
    finally:
        del os.environ["SLURM_CONF"]


def test_a_gpu_assignments_job_holds_a_slurm_gpu_and_its_worker_offers_it(gpu_jobs, local_slurm):
    jobs, client = gpu_jobs
    [job] = jobs.job_ids()
    assert "gres:gpu:1" in local_slurm.run("squeue", "-h", "-j", job, "-o", "%b").stdout
    assert [w["resources"] for w in client.scheduler_info()["workers"].values()] == [{"GPU": 1}]


def test_a_jobs_worker_names_the_runs_tls_files_for_the_sandbox_to_hide(gpu_jobs):
    """Where a job's kernels could reach them (a course root not hidden), the sandbox binds /dev/null
    over each file channel.credential_files names on the worker: the run's three."""
    from autograder.engine import channel
    jobs, client = gpu_jobs
    found = client.submit(channel.credential_files, course_config.ClusterTLS(), pure=False).result(timeout=60)
    assert len(found) == 3 and all(Path(path).parent == jobs.credentials.resolve() for path in found), found


def test_a_class_whose_jobs_have_all_ended_stops_waiting_and_says_what_to_change(gpu_jobs, local_slurm):
    """Every job gone (walltime, scancel) with a task left: its worker will never come, and the
    grading says so instead of waiting for one."""
    jobs, client = gpu_jobs
    task = client.submit(time.sleep, 300, pure=False, resources={"GPU": 1})
    local_slurm.run("scancel", *jobs.job_ids())
    with pytest.raises(slurm.SlurmJobsGone, match="COURSE_SLURM_WALLTIME") as gone:
        jobs.wait_for(task, every=0.5)
    assert "作业都已结束" in str(gone.value) and not task.done()
    jobs.release()
    assert local_slurm.jobs() == [] and credentials_left(jobs.logs.parent.parent) == []


def job_script(gpu: bool, folder: Path) -> str:
    from dask_jobqueue import SLURMCluster
    from distributed import Security
    options = slurm.job_options(4, gpu, QUIET, course_config.Slurm(jobs=2, cores=2, memory="3GB"),
                                security=Security.temporary(), credentials=folder / "tls", root=folder)
    with SLURMCluster(**options) as cluster:
        return cluster.job_script()


def test_the_job_script_asks_for_the_class_its_gpu_and_the_engines_channel(tmp_path):
    (tmp_path / "tls").mkdir(mode=0o700)
    gpu, plain = job_script(True, tmp_path), job_script(False, tmp_path)
    assert "#SBATCH --gres=gpu:1" in gpu and "--resources GPU=1" in gpu
    assert "gres" not in plain and "GPU" not in plain
    for script in (gpu, plain):
        assert "#SBATCH --cpus-per-task=2" in script and "#SBATCH --mem=6G" in script  # 4 submissions, 2 jobs
        assert "--worker-class autograder.engine.channel.WorkerWithoutHTTP" in script and "--protocol tls://" in script
        assert f"--tls-key {tmp_path}/tls/" in script and "PRIVATE KEY" not in script  # a file's path, not the key
        assert f"cd {tmp_path}" in script and "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in script


@pytest.mark.parametrize("class_size, jobs, workers", [(1, 1, 1), (4, 1, 4), (16, 1, 16), (17, 2, 9), (1000, 4, 16)])
def test_the_jobs_are_sized_to_the_class(class_size, jobs, workers):
    sizes = course_config.Slurm(jobs=4, cores=16)
    assert (slurm.job_count(class_size, sizes), slurm.workers_per_job(class_size, sizes)) == (jobs, workers)
