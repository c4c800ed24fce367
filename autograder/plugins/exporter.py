"""The exporter nbgrader's Autograde creates once per command: it reads each submission and
holds the command's class grading.

- An unreadable submitted notebook (bad JSON, not nbformat) becomes an empty notebook carrying
  the reason, so nbgrader restores the check cells and the submission scores 0 with that reason
  instead of stopping the command.
- On the first notebook, every submission this command will grade (nbgrader's own list, with
  its --student, --force and up-to-date rules) goes to the engine at once: one Dask task each.
  nbgrader then walks them in its order and JudgeSubmission takes each one's result.
"""
import json
import re
from dataclasses import replace
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter

import course_config
from autograder.engine.channel import ChannelRefused
from autograder.engine.classroom import ClassGrading
from autograder.engine.sandbox import SandboxUnavailable
from autograder.engine import nofollow
from autograder.engine.submission import MAX_NOTEBOOK_BYTES, Submission, read_notebook, run_key
from autograder.plugins import left_out
from autograder.messages import t

PROBLEMS_KEY = "course_judge_problems"  # notebook metadata: problems found before grading
FALLBACK_KEY = "course_graded_as_empty"  # notebook metadata: nbgrader's steps failed on the submission
RESULTS = "grading_results"  # the course's folder of results, one JSON per submission


class GradingExporter(NotebookExporter):
    _grading = None
    _total = _pending = 0  # this command's submissions; those whose result is not yet taken
    _problems = ()  # (student, assignment, [reasons]) of this command, printed at its end

    def from_file(self, file_stream, resources=None, **kw):
        if self._grading is None:  # the command's first notebook: nbgrader has decided nothing else yet
            self._start_grading()
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

    def result(self, submitted: Submission, sanitised_nb, files) -> dict:
        """The engine's result for `submitted`, a submission of this command, as nbgrader will
        record it: if nbgrader's sanitised notebook (with the `files` of its autograded folder) runs
        other code than the submitted one (a restored locked cell, a duplicated check cell made
        plain), the sanitised one is graded."""
        result = self._grading.result(submitted)
        if result["key"] != run_key(sanitised_nb, files):
            self.log.info("%s: sanitising changed the code that runs: grading the sanitised notebook",
                          submitted.student)
            sanitised = replace(submitted, notebook=nbformat.writes(sanitised_nb).encode(), files=files,
                                attempt=result["attempt"] + 1)
            result = self._grading.result(sanitised)
        self._pending -= 1
        self._save(result)
        if result["problems"]:
            self._problems.append((result["student"], result["assignment"], result["problems"]))
        if self._pending <= 0:
            self.finish()
        return result

    def _save(self, result: dict):
        """The result, less the cells' outputs, as grading_results/<assignment>/<student>.json in
        the course (for the report; beside the gradebook, never in a student's folder)."""
        path = Path(self.parent.coursedir.root) / RESULTS / result["assignment"] / f"{result['student']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({k: v for k, v in result.items() if k != "outputs"}, ensure_ascii=False, indent=1))

    def _start_grading(self):
        skipped = []
        class_ = list(self._class_submissions(skipped))
        # The progress line counts the submissions nbgrader skips (already graded) as done.
        self._total, self._pending = len(class_) + len(skipped), len(class_)
        try:
            self._grading, self._problems = ClassGrading(class_, log=self.log), []
        except (SandboxUnavailable, ChannelRefused) as refusal:  # stop the command: nothing graded or recorded
            self.log.error("%s", refusal)
            raise SystemExit(2)
        zh, en = ("", "")
        if skipped:
            zh, en = f"（跳过 {len(skipped)} 份已评分）", f" (skipped {len(skipped)} already graded)"
        self.log.info(t(f"评分 {len(class_)} 份提交{zh}：{self._grading.where()}",
                        f"grading {len(class_)} submissions{en} on {self._grading.where()}"))

    def progress(self) -> str:
        """[ 7/40] ███░░░░░░░ (this command's submissions; those it skips, already graded, count as done)"""
        total = self._total
        done = total - max(self._pending, 0)
        bar = "█" * (20 * done // total) + "░" * (20 - 20 * done // total)
        return f"[{done:>{len(str(total))}}/{total}] {bar}"

    def finish(self):
        """Stop the cluster; list the submissions that had problems."""
        if self._grading:
            self._grading.close()
        if self._problems:
            print(f"\n== {t('有问题的提交', 'Submissions with problems')} ({len(self._problems)}):", flush=True)
            for student, assignment, problems in self._problems:
                print(f"  {student} / {assignment}: " + "; ".join(dict.fromkeys(problems)), flush=True)

    def _class_submissions(self, skipped: list):
        """What this command will grade: nbgrader's submitted notebooks that it will not skip (those
        it will skip, already graded and unchanged, are appended to `skipped` as (assignment, student))."""
        converter = self.parent
        coursedir = converter.coursedir
        pattern = coursedir.format_path(coursedir.submitted_directory, "(?P<student_id>.*)", "(?P<assignment_id>.*)",
                                        escape=True)
        for folder in sorted(converter.assignments):
            ids = _match(pattern, folder)
            if ids is None or ids["student_id"] in (coursedir.student_id_exclude or "").split(","):
                continue
            if not _will_grade(converter, ids["assignment_id"], ids["student_id"], converter.assignments[folder]):
                skipped.append((ids["assignment_id"], ids["student_id"]))
                continue
            for notebook in sorted(converter.assignments[folder]):
                if Path(notebook).stem == course_config.assignment(ids["assignment_id"]).name:
                    yield self.submitted(ids["assignment_id"], ids["student_id"])

    def submitted(self, assignment: str, student: str) -> Submission:
        """A student's submitted notebook, with its folder's files and the source's on top (as
        nbgrader's autograded/ folder will have them)."""
        converter = self.parent
        coursedir = converter.coursedir
        notebook = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment)) / \
            f"{course_config.assignment(assignment).name}.ipynb"
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        submission = Submission.from_path(notebook, assignment, student, source, ignore=coursedir.ignore)
        return replace(submission, notes=tuple(left_out.notes(notebook.parent)) + submission.notes)


def _match(pattern, folder):
    found = re.match(pattern, folder)
    return found.groupdict() if found else None


def _will_grade(converter, assignment_id, student_id, notebooks) -> bool:
    """nbgrader's init_destination decision, without its side effects (it deletes on --force)."""
    coursedir = converter.coursedir
    if student_id in (coursedir.student_id_exclude or "").split(","):
        return False
    dest = Path(converter._format_dest(assignment_id, student_id))
    if converter.force or any(not (dest / Path(nb).name).exists() for nb in notebooks):
        return True
    new = coursedir.get_existing_timestamp(coursedir.format_path(coursedir.submitted_directory, student_id,
                                                                 assignment_id))
    old = coursedir.get_existing_timestamp(str(dest))
    return new is not None and old is not None and new > old

