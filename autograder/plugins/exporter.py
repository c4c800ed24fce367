"""The exporter nbgrader's Autograde creates once per command: it reads each submission and gives
JudgeSubmission its result, from the result store (autograder/engine/store.py) when that code
was graded before, from the engine when not.

- An unreadable submitted notebook (bad JSON, not nbformat) becomes an empty notebook carrying
  the reason, so nbgrader restores the check cells and the submission scores 0 with that reason
  instead of stopping the command.
- The command's grading has an explicit start and end: it wraps nbgrader's `convert_notebooks`
  (the command's whole walk over submissions). At the start, the class's submissions whose key
  is not in the store go to the engine at once (one Dask task each): an optimisation only, read
  from nbgrader's public course-directory settings; nbgrader still decides what it grades, and a
  submission the prefetch did not foresee is simply graded when it comes. At the end the engine
  stops and the summary (with the submissions that had problems) is printed, whatever nbgrader
  skipped or failed.
- Inside the grading service, nbgrader's autograde runs in the service's process: `shared_engine`
  gives it the service's engine (a miss is graded there, not on a cluster started for it).
"""
import glob
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import nbformat
from nbconvert.exporters import NotebookExporter

import course_config
from autograder import late
from autograder.engine import nofollow
from autograder.engine.gradebook_lock import GradebookLock
from autograder.engine.result import Result
from autograder.engine.slurm import SlurmJobsGone
from autograder.engine.store import ResultStore, grader_version
from autograder.engine.submission import MAX_NOTEBOOK_BYTES, Submission, read_notebook, run_key
from autograder.messages import t
from autograder.plugins import left_out

PROBLEMS_KEY = "course_judge_problems"  # notebook metadata: problems found before grading
FALLBACK_KEY = "course_graded_as_empty"  # notebook metadata: nbgrader's steps failed on the submission
RESULTS = "grading_results"  # the course's folder of results (autograder/engine/store.py)
_SHARED = ContextVar("shared_engine", default=None)  # the grading service's ClassGrading


@contextmanager
def shared_engine(engine):
    """nbgrader commands run inside this block (in this thread) grade a miss on `engine`, and leave it running."""
    token = _SHARED.set(engine)
    try:
        yield
    finally:
        _SHARED.reset(token)


class _Stop(KeyboardInterrupt):
    """Stops nbgrader's walk as Ctrl-C does (the submission at hand leaves no autograded folder for
    the next run to skip; no other is graded); `grading` turns it into exit status 2."""


class GradingExporter(NotebookExporter):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.store = ResultStore(Path(self.parent.coursedir.root) / RESULTS)
        self.engine = None  # a ClassGrading, started on the first result the store does not have
        self.found = []  # the class's submissions at the start (for the progress line)
        self.given = {"graded": 0, "reused": 0}
        self.problems = []  # (student, assignment, [reasons]), printed at the end
        walk = self.parent.convert_notebooks

        def convert_notebooks():  # nbgrader's walk over the command's submissions, inside our start/end
            with self.grading():
                walk()
        self.parent.convert_notebooks = convert_notebooks

    @contextmanager
    def grading(self):
        """The command's grading: prefetch what the store lacks; at the end, stop and summarise."""
        try:
            try:  # due dates and extensions: a malformed extensions file stops the command, nothing changed
                late.apply_due_dates(self.parent.coursedir.db_url, [a.folder for a in course_config.ASSIGNMENTS])
            except late.BadExtensions as bad:
                self.log.error("%s", bad)
                raise SystemExit(2) from None
            self._prefetch()
            yield
        except _Stop:
            raise SystemExit(2) from None
        finally:
            self.finish()

    def from_file(self, file_stream, resources=None, **kw):
        try:  # not only UTF-8 text; never through a link, never more than the budget
            nb, problems = read_notebook(nofollow.read_file(Path(file_stream.name), MAX_NOTEBOOK_BYTES))
        except OSError as error:
            nb, problems = read_notebook(b"")[0], [nofollow.note(Path(file_stream.name).name, error)]
        if problems:
            nb.metadata[PROBLEMS_KEY] = problems
        return self.from_notebook_node(nb, resources, **kw)

    def from_notebook_node(self, nb, resources=None, **kw):
        """nbgrader's steps on `nb`; if one raises on what this submission holds, the submission
        is graded as an empty one with the reason (nbgrader would otherwise drop or stop the class)."""
        try:
            return super().from_notebook_node(nb, resources, **kw)
        except Exception as error:
            if nb.metadata.get(FALLBACK_KEY):
                raise
            self.log.error("%s: %s: %s", (resources or {}).get("nbgrader", {}).get("student"),
                           type(error).__name__, str(error)[:300])
            empty = read_notebook(b"")[0]
            empty.metadata[FALLBACK_KEY] = True
            empty.metadata[PROBLEMS_KEY] = nb.metadata.get(PROBLEMS_KEY, []) + [t(
                f"nbgrader 无法处理提交的笔记本（{type(error).__name__}），按空白提交评分",
                f"nbgrader could not process the submitted notebook ({type(error).__name__}: "
                f"{str(error)[:120]}); graded as an empty submission")]
            return super().from_notebook_node(empty, resources, **kw)

    def result(self, assignment: str, student: str, sanitised_nb, files) -> Result:
        """The result of the code nbgrader's sanitised notebook runs (with the `files` of its
        autograded folder): the store's when that key is there, else graded now (the submitted
        notebook where it runs the same code, else the sanitised one: a restored locked cell,
        a duplicated check cell made plain)."""
        key = run_key(sanitised_nb, files)
        result = self.store.get(assignment, student, key, grader_version(assignment))
        if result is not None:
            self.given["reused"] += 1
        else:
            submitted = self.submitted(assignment, student)
            submission = submitted.submission
            if submitted.key != key:
                self.log.info("%s: sanitising changed the code that runs: grading the sanitised notebook", student)
                submission = replace(submission, notebook=nbformat.writes(sanitised_nb).encode(), files=files)
            try:
                result = self._engine().result(submission)
            except SlurmJobsGone as gone:  # stop the command: what was graded is recorded, the rest is not
                self.log.error("%s", gone)
                raise _Stop() from None
            self.store.put(result)
            self.given["graded"] += 1
        if result.problems:
            self.problems.append((result.student, result.assignment, result.problems))
        return result

    def progress(self) -> str:
        """[ 7/40] ███░░░░░░░: results given by this command, of the class's submissions found."""
        total = max(len(self.found), sum(self.given.values()), 1)
        done = sum(self.given.values())
        bar = "█" * (20 * done // total) + "░" * (20 - 20 * done // total)
        return f"[{done:>{len(str(total))}}/{total}] {bar}"

    def finish(self):
        """Stop the engine (if it started here); let the gradebook lock go (a submission that failed
        skipped nbgrader's after-hook); say what this command did, and which submissions had problems."""
        if self.engine and self.engine is not _SHARED.get():
            self.engine.close()
        self.engine = None
        GradebookLock.of(course_config.ROOT).let_go()
        skipped = max(len(self.found) - sum(self.given.values()), 0)
        self.log.info(t(f"评分 {self.given['graded']} 份，{self.given['reused']} 份取自已有结果，"
                        f"{skipped} 份 nbgrader 未处理（已评分或被排除）",
                        f"graded {self.given['graded']}, {self.given['reused']} from stored results, "
                        f"{skipped} left by nbgrader (already graded or excluded)"))
        if _SHARED.get() is None:  # a command's summary (the grading service logs each submission itself)
            print(f"\n== {t('有问题的提交', 'Submissions with problems')} ({len(self.problems)})"
                  + (":" if self.problems else ""), flush=True)
            for student, assignment, problems in self.problems:
                print(f"  {student} / {assignment}: " + "; ".join(dict.fromkeys(problems)), flush=True)
        self.problems = []

    def _engine(self, prefetch=()):
        if self.engine is None and _SHARED.get() is not None:
            self.engine = _SHARED.get()
            for submission in prefetch:
                self.engine.submit(submission)
        if self.engine is None:
            from autograder.engine.channel import ChannelRefused  # the engine is loaded when it is needed:
            from autograder.engine.classroom import ClassGrading  # a class graded before starts fast
            from autograder.engine.sandbox import SandboxUnavailable
            from autograder.engine.slurm import SlurmJobsNotStarted
            try:
                self.engine = ClassGrading(list(prefetch), log=self.log)
            except (SandboxUnavailable, ChannelRefused, SlurmJobsNotStarted) as refusal:
                # stop the command: nothing graded or recorded
                self.log.error("%s", refusal)
                raise SystemExit(2)
            self.log.info(t(f"评分引擎：{self.engine.where()}", f"grading on {self.engine.where()}"))
        return self.engine

    def _prefetch(self):
        """The class's submissions (nbgrader's public course-directory settings) whose result the
        store lacks go to the engine now; nbgrader may still skip some (the results are kept)."""
        coursedir = self.parent.coursedir
        excluded = set((coursedir.student_id_exclude or "").split(","))
        pattern = coursedir.format_path(coursedir.submitted_directory, coursedir.student_id, coursedir.assignment_id)
        missing = []
        for folder in sorted(glob.glob(pattern)):
            student, assignment = Path(folder).parent.name, Path(folder).name
            try:
                name = course_config.assignment(assignment).name
            except KeyError:
                continue
            if student in excluded or not (Path(folder) / f"{name}.ipynb").exists():
                continue
            self.found.append((assignment, student))
            submitted = self.submitted(assignment, student)
            if self.store.get(assignment, student, submitted.key, grader_version(assignment)) is None:
                missing.append(submitted.submission)
        self.log.info(t(f"{len(self.found)} 份提交，{len(missing)} 份无已有结果", f"{len(self.found)} submissions, "
                        f"{len(missing)} without a stored result"))
        if missing:
            self._engine(missing)

    def submitted(self, assignment: str, student: str) -> "Submitted":
        """A student's submitted notebook, with its folder's files and the source's on top (as
        nbgrader's autograded/ folder will have them), and its run key."""
        coursedir = self.parent.coursedir
        notebook = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment)) / \
            f"{course_config.assignment(assignment).name}.ipynb"
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        submission = Submission.from_path(notebook, assignment, student, source, ignore=coursedir.ignore)
        submission = replace(submission, notes=tuple(left_out.notes(notebook.parent)) + submission.notes)
        return Submitted(submission, run_key(read_notebook(submission.notebook)[0], submission.files))


class Submitted(NamedTuple):
    submission: Submission
    key: str  # the run key of its code
