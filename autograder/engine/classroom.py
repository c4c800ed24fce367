"""A class graded on Dask distributed: one task per submission, results back to the client.

    grading = ClassGrading(submissions, limits)   # starts (or joins) the cluster, submits every task
    result = grading.result(submission)           # waits for one result (in any order)
    grading.close()

Where (course_config.CLUSTER): a local cluster started here (course_config.WORKERS processes, one
thread each), the existing cluster at a scheduler address (`dask scheduler` + `dask worker` on other
hosts; the workers need the course's code and Python environment), or Slurm jobs submitted for the
class and cancelled when it ends, also on an error or Ctrl-C (slurm.py). Every connection is mutual TLS
(channel.py): other accounts on the grading host cannot join. Workers only run `grade_one`;
they never write the gradebook. A worker that dies mid-task (SIGKILL, out of memory) has its
tasks rescheduled by Dask on the others; a task that kills every worker it meets becomes a
zero with a reason, and the rest of the class is graded.

A grade must not depend on the grader's load: a submission that hit a time limit is graded
again once, after every other task of the class is done, with nothing beside it but the other
re-gradings (at most one per worker, each on its own core), and that second result counts.
"""
import logging
from dataclasses import replace

import dask
from distributed import Client, wait

import course_config
from autograder.engine import channel
from autograder.engine.grade_one import failed_result, grade_one
from autograder.engine.kernel_factory import KernelFactories
from autograder.engine.result import Result
from autograder.engine.sandbox import SandboxUnavailable
from autograder.engine.submission import Submission
from autograder.messages import t

log = logging.getLogger(__name__)


class ClassGrading:
    def __init__(self, submissions, limits=course_config.LIMITS, *, scheduler=None, workers=None,
                 tls=course_config.CLUSTER_TLS, log=log):
        self.limits, self.log = limits, log
        self.cluster, self.jobs, self.client, self.futures = None, None, None, {}  # Submission -> Future
        self.again = {}  # Submission (its first attempt timed out) -> Future of its second attempt
        where = course_config.CLUSTER if scheduler is None else (scheduler or "local")
        if where == "local":
            self.cluster = _local_cluster(workers or min(course_config.WORKERS, max(len(submissions), 1)))
            self.client = Client(self.cluster)
        elif where == "slurm":
            try:
                self._start_slurm_jobs(submissions)
            except BaseException:
                self.close()
                raise
        else:  # a scheduler address: refused (ChannelRefused) over plain TCP unless tls.allow_plain_tcp
            self.client = Client(where, timeout="30s", security=channel.remote_security(where, tls))
        _keep_ctrl_c()
        self._refuse_unsandboxed_workers()
        self.client.register_plugin(KernelFactories())  # each worker forks its kernels from a warm factory
        self._gpu = None
        for submission in submissions:
            self.futures[submission] = self._submit(submission)

    def _start_slurm_jobs(self, submissions):
        from autograder.engine.slurm import SlurmJobs
        gpu = any(course_config.assignment(s.assignment).device == "cuda" for s in submissions)
        self.jobs = SlurmJobs(len(submissions) or course_config.SLURM.jobs * course_config.SLURM.cores, gpu, QUIET)
        self.cluster = self.jobs.cluster
        self.client = Client(self.cluster)
        self.jobs.wait_for_a_worker(self.client)

    def _refuse_unsandboxed_workers(self):
        """Stop before grading anything where a worker cannot sandbox (course_config.ALLOW_UNISOLATED).
        A worker lost meanwhile (its Slurm job ended) is left out: Dask gives its tasks to the others."""
        answers = self.client.run(_refusal, course_config.ALLOW_UNISOLATED, on_error="return").values()
        for error in (a for a in answers if isinstance(a, Exception) and not isinstance(a, OSError)):
            raise error  # OSError: the connection closed (CommClosedError), the worker is gone
        refusals = {why for why in answers if isinstance(why, str) and why}
        if refusals:
            self.close()
            raise SandboxUnavailable(" / ".join(sorted(refusals)))

    def where(self) -> str:
        """One line for the log: which cluster, how many workers."""
        workers = len(self.client.scheduler_info()["workers"])
        kind = ("Slurm jobs " + ", ".join(self.jobs.job_ids()) + f" (TLS, {self.client.scheduler.address})"
                if self.jobs else "local cluster (TLS)" if self.cluster else self.client.scheduler.address)
        return f"{kind}, {workers} worker{'s' * (workers != 1)}"

    def submit(self, submission: Submission):
        """Start grading `submission` now (its result is taken with `result`)."""
        if submission not in self.futures:
            self.futures[submission] = self._submit(submission)

    def result(self, submission: Submission) -> Result:
        """The result of `submission` (submitted now if it was not among the class's)."""
        future = self.futures.pop(submission, None) or self._submit(submission)
        result = self._gather(submission, future)
        if result.timed_out and submission.attempt == 1:  # perhaps the load: once more, on an idle grader
            if submission not in self.again:
                self._grade_again_what_timed_out(submission)
            result = self._gather(submission, self.again.pop(submission))
            result.problems.append(t("评分时遇到时间限制：已在全班评分完成后单独重新评分一次，以第二次结果为准",
                                     "a time limit was hit: the submission was graded again, alone on a "
                                     "worker once the class was done, and this second result counts"))
        return result

    def _grade_again_what_timed_out(self, submission: Submission):
        """Once every first attempt is done: a second attempt of `submission` and of every other
        submission that hit a time limit, side by side (the class's load is gone; each worker,
        one thread, grades one at a time), so that k of them wait about k / workers limits, not k."""
        for future in self.futures.values():  # on Slurm: SlurmJobsGone when every job has ended
            if self.jobs:
                self.jobs.wait_for(future)
            else:
                wait(future)
        timed_out = [s for s, f in self.futures.items() if _timed_out(f)]
        for first in [submission, *timed_out]:
            if first not in self.again:
                self.again[first] = self._submit(replace(first, attempt=2))

    def close(self):
        for future in [*self.futures.values(), *self.again.values()]:
            future.cancel()
        self.futures, self.again = {}, {}
        if self.client:
            self.client.close()
        if self.jobs:  # every job cancelled and out of the queue
            self.jobs.release()
        elif self.cluster:
            self.cluster.close()

    def _submit(self, submission: Submission):
        spec = course_config.assignment(submission.assignment)
        device, resources = "cpu", None
        if spec.device == "cuda" and self._has_gpu_workers():
            device, resources = "cuda", {"GPU": 1}
        return self.client.submit(grade_one, submission, self.limits, device, key=submission.task_key,
                                  pure=False, resources=resources)

    def _has_gpu_workers(self) -> bool:
        """Whether any worker offers the GPU resource; said once when none does (its tasks then
        run on CPU instead of waiting forever for a GPU worker)."""
        if self._gpu is None:
            workers = self.client.scheduler_info()["workers"].values()
            self._gpu = any(w.get("resources", {}).get("GPU") for w in workers)
            if not self._gpu:
                self.log.warning(t("没有带 GPU 的评分节点：device=\"cuda\" 的作业在 CPU 上评分",
                                   "no grading worker has a GPU: assignments with device=\"cuda\" are graded on CPU"))
        return self._gpu

    def _gather(self, submission, future) -> Result:
        if self.jobs:  # SlurmJobsGone once every job of the class has ended
            self.jobs.wait_for(future)
        try:
            return future.result()
        except Exception as error:  # the worker kept dying, or the engine failed: a zero and why
            self.log.error("%s / %s: grading failed: %s: %s", submission.student, submission.assignment,
                           type(error).__name__, error)
            return failed_result(submission, t(
                f"评分失败（{type(error).__name__}），记 0 分；请联系教师重新评分",
                f"grading failed ({type(error).__name__}: {str(error)[:200]}); scored 0: ask the instructor "
                "to grade it again"))


# Dask's defaults suit long computations watched on a dashboard: a worker samples its threads'
# stacks every 10 ms and polls its memory every 100 ms, so an idle local cluster of two workers
# keeps 17 % of a core busy (3 % with these). On other clusters set them as DASK_* variables.
QUIET = {"distributed.worker.profile.enabled": False, "distributed.worker.memory.monitor-interval": "1s",
         "distributed.admin.system-monitor.interval": "2s", "distributed.admin.tick.interval": "1s"}


def _keep_ctrl_c():
    """A Ctrl-C that lands while a garbage collection's callback runs is printed and lost ("Exception
    ignored in ... KeyboardInterrupt"): the grading command went on to grade the whole class. The
    scheduler started in this process installs such a callback (Dask's GC diagnosis: a log line
    about the time full collections take); it goes."""
    from distributed.gc import disable_gc_diagnosis
    disable_gc_diagnosis(force=True)


def _timed_out(future) -> bool:
    try:
        return future.status == "finished" and future.result().timed_out
    except Exception:  # its worker and result are gone: it is gathered (and told) on its own turn
        return False


def _refusal(allow_unisolated: bool) -> str:
    """On a worker: why it must not grade ("" when it may)."""
    from autograder.engine import sandbox
    return sandbox.isolation().refusal(allow_unisolated)


def _local_cluster(workers: int):
    """Processes of one thread each on this machine, over TLS; with a GPU here, each worker offers it."""
    import torch
    resources = {"GPU": 1} if torch.cuda.is_available() else None
    with dask.config.set(QUIET):  # the worker processes start with this configuration
        return channel.local_cluster(workers, resources)


def grade_class(submissions, limits=course_config.LIMITS, **cluster) -> list:
    """Every submission's result, in the submissions' order (for tools and tests without nbgrader)."""
    grading = ClassGrading(submissions, limits, **cluster)
    try:
        return [grading.result(submission) for submission in submissions]
    finally:
        grading.close()
