"""A class graded on Slurm: dask-jobqueue's SLURMCluster, sized to the class (course_config.SLURM).

    jobs = SlurmJobs(class_size, gpu, dask_settings)   # jobs submitted; the scheduler runs here
    jobs.wait_for_a_worker(client)                      # or SlurmJobsNotStarted, with what to change
    jobs.release()                                      # every job cancelled and gone from the queue

- The scheduler runs in the grading command's process; each job is one `dask worker` of up to
  SLURM.cores single-threaded processes, started in the course root with the grading command's
  Python: every node needs this checkout and its environment at the same path (a shared file system).
- The channel is the engine's own (channel.py): mutual TLS with credentials made for the run, no HTTP
  server on the scheduler or the workers. dask-jobqueue hands the credentials to the jobs as files:
  they are written into a folder of the course root that only the grader may enter (0700, files
  0600; the nodes see it through the shared file system, no kernel sees the course root), and
  removed when the jobs are released.
- A GPU assignment's jobs ask for SLURM.gpu_gres (--gres=gpu:1) and their workers offer the GPU resource.
- Every job carries the run's own name: releasing cancels by that name too, so a job whose id was
  never read back (Ctrl-C during sbatch) is not left behind either. A job that ends mid-class
  (scancel, walltime) has its tasks rescheduled by Dask on the other jobs. If the grading command
  is killed outright, its workers stop by themselves once the scheduler is gone (within seconds).
"""
import math
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import course_config
from autograder.messages import t

WORKER_CLASS = "autograder.engine.channel.WorkerWithoutHTTP"
DEATH_TIMEOUT_S = 60  # a worker that cannot reach its scheduler for this long stops, and its job ends


class SlurmJobsNotStarted(RuntimeError):
    """Slurm refused the class's jobs, or none started in time: nothing was graded."""


class SlurmJobsGone(RuntimeError):
    """Every job of the class ended (walltime, scancel) with submissions left to grade."""


def job_count(class_size: int, slurm=course_config.SLURM) -> int:
    """Jobs for a class: one worker per submission, at most slurm.cores per job and slurm.jobs jobs."""
    return max(1, min(slurm.jobs, math.ceil(class_size / slurm.cores)))


def workers_per_job(class_size: int, slurm=course_config.SLURM) -> int:
    """Workers (cores) of each job: no more than the class needs."""
    return max(1, min(slurm.cores, math.ceil(class_size / job_count(class_size, slurm))))


def job_options(class_size: int, gpu: bool, dask_settings: dict, slurm=course_config.SLURM, *, security=None,
                credentials=None, name="course-grading", root=course_config.ROOT) -> dict:
    """SLURMCluster's arguments for a class (`dask_settings`: Dask configuration the workers start with)."""
    from dask.utils import format_bytes, parse_bytes

    from autograder.engine.channel import SchedulerWithoutHTTP
    workers = workers_per_job(class_size, slurm)
    exports = [f"export DASK_{key.upper().replace('.', '__').replace('-', '_')}={shlex.quote(str(value))}"
               for key, value in dask_settings.items()]
    resources = ["--resources", "GPU=1"] if gpu else []
    return dict(
        cores=workers, processes=workers, memory=format_bytes(parse_bytes(slurm.memory) * workers).replace(" ", ""),
        walltime=slurm.walltime, queue=slurm.partition or None, account=slurm.account or None, job_name=name,
        interface=slurm.interface or None, python=sys.executable, death_timeout=DEATH_TIMEOUT_S,
        protocol="tls://", security=security, shared_temp_directory=str(credentials) if credentials else None,
        scheduler_cls=SchedulerWithoutHTTP, scheduler_options={"dashboard": False, "dashboard_address": None},
        log_directory=str(root / "grading_results" / "slurm"),
        job_script_prologue=[f"cd {shlex.quote(str(root))}", f"export PYTHONPATH={shlex.quote(str(root))}", *exports],
        job_extra_directives=[f"--gres={slurm.gpu_gres}"] if gpu else [],
        worker_extra_args=["--worker-class", WORKER_CLASS, "--no-dashboard", *resources])


class SlurmJobs:
    def __init__(self, class_size: int, gpu: bool, dask_settings: dict, slurm=course_config.SLURM,
                 root=course_config.ROOT):
        from distributed import Security
        missing = [command for command in ("sbatch", "squeue", "scancel") if not shutil.which(command)]
        if missing:
            raise SlurmJobsNotStarted(t(
                f"course_config.CLUSTER 为 slurm，但这里找不到 {', '.join(missing)}：请在集群的登录节点上运行，"
                "或把 COURSE_CLUSTER 设为 local；未评分。",
                f"course_config.CLUSTER is slurm but {', '.join(missing)} is not on PATH here: run the command on "
                "the cluster's login node, or set COURSE_CLUSTER=local; nothing was graded."))
        SLURMCluster = _slurm_cluster_class()
        self.slurm, self.cluster = slurm, None
        self.name = f"course-grading-{secrets.token_hex(4)}"  # this run's jobs, by name
        self.logs = root / "grading_results" / "slurm"  # the jobs' output (dask-jobqueue's log_directory)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.credentials = Path(tempfile.mkdtemp(prefix="tls-", dir=self.logs))  # 0700
        try:
            options = job_options(class_size, gpu, dask_settings, slurm, security=Security.temporary(),
                                  credentials=self.credentials, name=self.name, root=root)
            self.cluster = SLURMCluster(**options)
            self._test_only()
            self.cluster.scale(jobs=job_count(class_size, slurm))
        except BaseException:
            self.release()
            raise

    def _test_only(self):
        """sbatch --test-only on the job script: a refusal (partition, account, gres, memory, walltime)
        stops the command now, with Slurm's reason, rather than leaving it waiting."""
        with tempfile.NamedTemporaryFile("w", suffix=".sh") as script:
            script.write(self.cluster.job_script())
            script.flush()
            run = subprocess.run(["sbatch", "--test-only", script.name], capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            raise SlurmJobsNotStarted(t(
                f"Slurm 拒绝了评分作业：{run.stderr.strip()}。请修改 course_config.SLURM（分区 partition、"
                "账户 account、每个 worker 的内存 memory、cores、walltime、GPU 的 gpu_gres）或对应的 COURSE_SLURM_* "
                "变量；未评分。",
                f"Slurm refused the grading jobs: {run.stderr.strip()}. Change course_config.SLURM (partition, "
                "account, memory per worker, cores, walltime, gpu_gres for a GPU) or its COURSE_SLURM_* variable; "
                "nothing was graded."))

    def job_ids(self) -> list:
        """The ids of the jobs submitted so far."""
        return [job.job_id for job in list(self.cluster.workers.values()) if getattr(job, "job_id", None)]

    def queued(self) -> list:
        """[(id, state, reason)] of this run's jobs that Slurm still lists."""
        run = subprocess.run(["squeue", "-h", "--name", self.name, "-o", "%i %T %r"], capture_output=True,
                             text=True, timeout=60)
        return [tuple(line.split(None, 2)) for line in run.stdout.splitlines()]

    def wait_for_a_worker(self, client):
        """Until a job's worker has joined; SlurmJobsNotStarted after slurm.start_s, or once every job
        has ended without one (the jobs' log says why)."""
        deadline = time.monotonic() + self.slurm.start_s
        while not client.scheduler_info()["workers"]:
            queued = self.queued()
            if self.job_ids() and not queued:
                raise SlurmJobsNotStarted(t(
                    f"评分作业 {', '.join(self.job_ids())} 在 worker 连上之前就结束了，见 {self._logs()}；未评分。",
                    f"the grading jobs {', '.join(self.job_ids())} ended before any worker joined: see "
                    f"{self._logs()}; nothing was graded.") + self._log_tail())
            if time.monotonic() > deadline:
                states = "; ".join(f"{job} {state} ({reason})" for job, state, reason in queued) or "-"
                raise SlurmJobsNotStarted(t(
                    f"等待 {self.slurm.start_s:.0f} 秒后，评分的 Slurm 作业仍未开始（{states}）：队列已满，"
                    "或请求超出分区此刻能给的。可以减少 course_config.SLURM 的 cores / memory / walltime"
                    "（COURSE_SLURM_CORES、COURSE_SLURM_MEMORY、COURSE_SLURM_WALLTIME），换一个分区"
                    "（COURSE_SLURM_PARTITION），或加长等待（COURSE_SLURM_START_S）；作业已取消，未评分。",
                    f"no Slurm job of this class started within {self.slurm.start_s:.0f} s ({states}): the queue "
                    "is full, or the request is more than the partition gives now. Ask for less (course_config.SLURM "
                    "cores, memory, walltime: COURSE_SLURM_CORES, COURSE_SLURM_MEMORY, COURSE_SLURM_WALLTIME), use "
                    "another partition (COURSE_SLURM_PARTITION), or wait longer (COURSE_SLURM_START_S); the jobs were "
                    "cancelled and nothing was graded."))
            time.sleep(0.5)

    def wait_for(self, future, every: float = 5):
        """Until `future` is done; SlurmJobsGone once Slurm lists none of the class's jobs (their
        tasks would otherwise wait for a worker forever)."""
        from distributed import wait
        while not future.done():
            try:
                wait(future, timeout=every)
            except TimeoutError:
                if not self.queued():
                    raise SlurmJobsGone(t(
                        "本次评分的 Slurm 作业都已结束（walltime 到期或被取消），还有提交没有评分。已评分的已记录；"
                        "请加大 course_config.SLURM 的 walltime 或 jobs（COURSE_SLURM_WALLTIME、COURSE_SLURM_JOBS）"
                        "后再次运行 nbgrader autograde，其余的提交会接着评分。",
                        "every Slurm job of this class has ended (its walltime reached, or cancelled) with submissions "
                        "left to grade. Those graded so far are recorded: give the jobs more time or more jobs "
                        "(course_config.SLURM walltime, jobs: COURSE_SLURM_WALLTIME, COURSE_SLURM_JOBS) and run "
                        "nbgrader autograde again to grade the rest.")) from None

    def _logs(self) -> str:
        return str(self.logs / f"{self.name}-*.err")

    def _log_tail(self) -> str:
        logs = sorted(self.logs.glob(f"{self.name}-*.err"))
        return "".join(f"\n--- {path.name}\n{path.read_text(errors='replace')[-1500:]}" for path in logs)

    def release(self, timeout: float = 60):
        """Cancel every job of this run and wait until Slurm lists none; the credentials go."""
        with _no_interrupt():  # a second Ctrl-C must not leave jobs behind
            try:
                if self.cluster is not None:
                    self.cluster.close(timeout=timeout)
            finally:
                subprocess.run(["scancel", "--name", self.name, "--user", str(os.getuid())], capture_output=True,
                               timeout=60)
                deadline = time.monotonic() + timeout
                while self.queued() and time.monotonic() < deadline:
                    time.sleep(0.2)
                self._remove_credentials()

    def _remove_credentials(self):
        for key in ("ca_file", "cert", "key"):  # dask-jobqueue's open temporary files: closing removes each
            handle = getattr(self.cluster, f"_job_{key}", None)
            if handle is not None:
                handle.close()
        shutil.rmtree(self.credentials, ignore_errors=True)


def _slurm_cluster_class():
    """dask-jobqueue's SLURMCluster, with Ctrl-C left as it was: importing dask-jobqueue (its runner
    module) turns SIGINT into sys.exit(), so an interrupted command would exit 0 as if it had finished."""
    if threading.current_thread() is not threading.main_thread():
        from dask_jobqueue import SLURMCluster
        return SLURMCluster
    previous = signal.getsignal(signal.SIGINT)
    try:
        from dask_jobqueue import SLURMCluster
    finally:
        signal.signal(signal.SIGINT, previous)
    return SLURMCluster


@contextmanager
def _no_interrupt():
    """SIGINT ignored meanwhile (in the main thread, where Python handles it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
