"""评测 on submit: the grading service. Run it in the course root, for as long as the course runs:

    python -m autograder.service [--polling] [--wait]

It holds a Dask client (a LocalCluster, or course_config.SCHEDULER), watches the exchange's inbound
folder (watchdog: inotify, or polling with --polling / COURSE_WATCH_POLLING for NFS) and, for each
new submission, in the order the service received them:

  1. admits it only if it is what `nbgrader submit` makes, from the student it names: a real folder
     (no link, FIFO or file) named <student>+<assignment>+..., owned, with everything in it, by the
     account of that student id (a valid id; on the roster when course_config.ROSTER exists).
     Anything else is refused with the reason in the log, and nothing is changed;
  2. counts it in its own records (grading_results/service/journal/): when it arrived (the folder's
     change time when first seen, which its owner can only push later), its attempt number, and the
     attempt's seed for the hidden inputs. Names and timestamp.txt, which the student writes, count
     for nothing. Over course_config.ON_SUBMIT.attempts_per_hour it is not graded: its feedback says so;
  3. grades it on the engine unless the store has the result of that code;
  4. under the gradebook lock (shared with `nbgrader autograde`): copies it into submitted/ as
     `nbgrader collect --update` would (timestamp.txt = the time it arrived), runs nbgrader's own
     autograde (which takes the stored result), generate_feedback and release_feedback for that
     student. The old copy is kept until all of it succeeded, and put back when a step fails;
  5. marks it done (grading_results/service/done/<its inbound name>).

A student then gets the verdict with `nbgrader fetch_feedback` or in Lab's Assignments tab.
SIGTERM (or Ctrl-C) stops it cleanly; a second instance in the same course refuses to start; after a
restart, or a kill -9, it takes every inbound submission not marked done, and grades none whose
result is stored. One entry never stops the service: its errors are caught, logged and, after
TRIES, recorded as its outcome. What it writes is closed to other accounts (umask 077), but for the
released feedback pages (0644, in a feedback folder no one else can list); the course root is checked
closed (autograder/course_access.py) at its start and at each listing. --wait: on the hub, it starts
with the course and waits for the first release_assignment.
"""
import argparse
import fcntl
import hashlib
import html
import json
import logging
import os
import pwd
import queue
import shutil
import signal
import stat
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import course_config
from autograder import course_access, inbound, late
from autograder.engine import nofollow
from autograder.engine.gradebook_lock import GradebookLock
from autograder.engine.store import ResultStore, grader_version, write_atomic
from autograder.engine.submission import MAX_FILE_BYTES, MAX_FILES_BYTES, Submission, read_notebook, run_key
from autograder.messages import t
from autograder.plugins.exporter import RESULTS, shared_engine

log = logging.getLogger("autograder.service")
RESCAN_S = 5.0  # the inbound folder is also listed this often (an event can be missed)
READY_FILE = "submission_secret.txt"  # nbgrader submit writes it last
TRIES = 3  # a submission whose recording keeps failing is marked done after this many tries, with why
HOUR_S = 3600.0


class Refused(Exception):
    """An inbound entry the service does not take (why, for the log)."""


@dataclass(frozen=True)
class Arrival:
    """One admitted inbound folder: <student>+<assignment>+<the student's timestamp>[+<random>]."""
    name: str
    student: str
    assignment: str  # the assignment's folder name
    uid: int  # the owner, the student's account
    received: float  # when it arrived (the service's record: epoch seconds)
    attempt: int = 0  # its number among the student's graded attempts (0: over the limit)


class GradingService:
    def __init__(self, course: Path, on_submit=course_config.ON_SUBMIT, *, scheduler=None, workers=None):
        self.course = Path(course).resolve()
        self.on_submit = on_submit
        self.inbound = Path(course_config.EXCHANGE_ROOT) / course_config.COURSE_ID / "inbound"
        self.state = self.course / RESULTS / "service"
        self.store = ResultStore(self.course / RESULTS)
        self.stopping = threading.Event()
        self.events = queue.Queue()  # inbound names the watcher saw
        self.taken = Counter()  # uid: entries taken since the last listing
        self.throttled = set()  # uids that had more (said once)
        self.queued = set()  # names given to the recorder, not yet done
        self.grading_keys = set()  # (assignment, student, run key) on the engine now
        self.failures = {}  # name: recordings that raised (taken again at the next scan, up to TRIES)
        self.recorder = queue.Queue()  # (Arrival, Submission or None), in arrival order
        self.journal_lock = threading.Lock()
        self.said = set()  # the course root's problems already logged
        self._instance = self._only_instance()
        self._scheduler, self._workers = scheduler, workers
        self.grading = None

    # -- the loop ------------------------------------------------------------------------------
    def run(self):
        from autograder.engine.classroom import ClassGrading
        self._close_course()
        workers = self._workers or course_config.WORKERS
        self.grading = ClassGrading([], scheduler=self._scheduler, workers=workers, log=log)
        log.info("grading service: %s; inbound %s (%s); on submit: %s", self.grading.where(), self.inbound,
                 "polling" if self.on_submit.polling else "inotify", self.on_submit.mode)
        self.nbgrader = Nbgrader(self.course, scores_only=self.on_submit.mode == "score")
        observer = self._watch()
        recorder = threading.Thread(target=self._record_loop, name="recorder", daemon=True)
        recorder.start()
        scanned = 0.0
        try:
            while not self.stopping.is_set():
                if time.monotonic() - scanned > RESCAN_S:
                    self._rescan()
                    scanned = time.monotonic()
                try:
                    name = self.events.get(timeout=max(0.05, RESCAN_S - (time.monotonic() - scanned)))
                except queue.Empty:
                    continue
                self._look_at({name, *_drain(self.events)} - {None})
        finally:
            observer.stop()
            self.recorder.put(None)
            recorder.join(timeout=120)
            observer.join(timeout=10)
            self.grading.close()
            log.info("grading service stopped")

    def stop(self, *_):
        self.stopping.set()
        # wake the loop now, not at the next listing; from a thread: a signal handler may run while
        # this thread holds the queue's lock
        threading.Thread(target=self.events.put, args=(None,), daemon=True).start()

    def _rescan(self):
        """List the inbound folder and look at everything not done; a new window for each account's takes."""
        self.taken.clear()
        self._close_course(strict=False)  # a folder made since with an open umask
        self._look_at(set(self._inbound_names()))

    def _look_at(self, names):
        """Take the ready ones of `names`, in the order they arrived, at most entries_per_account of
        one account between two listings (a burst of junk waits; the others' submissions do not).
        Nothing is kept of an entry that is not ready: the next event or listing finds it again."""
        ready = []
        for name in names:
            if name in self.queued or self._done(name).exists():
                continue
            try:
                info = os.lstat(self.inbound / name)
            except OSError:  # gone
                continue
            if not stat.S_ISDIR(info.st_mode) or self._is_ready(name):
                ready.append((min(info.st_ctime, time.time()), info.st_uid, name))
        for received, uid, name in sorted(ready):
            if self.taken[uid] >= self.on_submit.entries_per_account:
                if uid not in self.throttled:
                    self.throttled.add(uid)
                    log.warning("uid %d: more than %d entries at once: the others are taken at later listings",
                                uid, self.on_submit.entries_per_account)
                continue
            self.taken[uid] += 1
            self._take(name, received)

    def _take(self, name: str, received: float):
        """Admit one ready inbound entry and start grading it (or refuse it, or note it over the
        limit); whatever it holds, the service goes on."""
        try:
            arrival = self._admit(name, received)
        except Refused as why:
            log.warning("inbound %s: refused: %s", name, why)
            self._mark_done(name, {"refused": str(why)})
            return
        except OSError as error:  # gone or changed while looked at: found again if it is still there
            log.warning("inbound %s: %s", name, error)
            return
        try:
            self.queued.add(name)
            self._start(arrival)
        except Exception as error:
            self.queued.discard(name)
            self._failed(name, error)

    def _start(self, arrival: Arrival):
        attempt = self._attempt(arrival)
        if attempt is None:
            self.recorder.put((arrival, None))
            return
        arrival = replace(arrival, attempt=attempt)
        spec = course_config.assignment(arrival.assignment)
        submission = Submission.from_path(self.inbound / arrival.name / f"{spec.name}.ipynb", spec.folder,
                                          arrival.student, source=self.course / "source" / spec.folder,
                                          seed=attempt_seed(spec.seed, arrival.student, attempt))
        key = (spec.folder, arrival.student, run_key(read_notebook(submission.notebook)[0], submission.files))
        if key not in self.grading_keys and self.store.get(*key, grader_version(spec.folder)) is None:
            self.grading_keys.add(key)  # the same code is graded once
            self.grading.submit(submission)
        self.recorder.put((arrival, submission))

    def _admit(self, name: str, received: float) -> Arrival:
        """The entry as an Arrival, if it is a submission of this course from the student it names."""
        parts = name.split("+")
        if len(parts) < 3:
            raise Refused("not <student>+<assignment>+<time>")
        student, assignment = parts[0], parts[1]
        try:
            spec = course_config.assignment(assignment)
        except KeyError:
            raise Refused(f"no assignment {assignment!r} in this course") from None
        if assignment != spec.folder:
            raise Refused(f"{assignment!r} is not the assignment's id ({spec.folder})")
        why = inbound.refusal(self.inbound / name, student)
        if why:
            raise Refused(why)
        return Arrival(name, student, spec.folder, pwd.getpwnam(student).pw_uid, received)

    # -- the service's records -----------------------------------------------------------------
    def _attempt(self, arrival: Arrival):
        """This arrival's attempt number (kept: the same after a restart), or None when it is over
        the attempts per hour (counted from the arrival times of the attempts graded before)."""
        with self.journal_lock:
            journal = self._journal(arrival.assignment, arrival.student)
            for entry in journal:
                if entry["name"] == arrival.name:
                    return entry.get("attempt")
            recent = sum(arrival.received - e["received"] < HOUR_S for e in journal)
            if recent >= self.on_submit.attempts_per_hour:
                return None  # not kept: the journal grows by graded attempts only
            journal.append({"name": arrival.name, "received": arrival.received, "attempt": len(journal) + 1})
            self._keep_journal(arrival.assignment, arrival.student, journal)
            return len(journal)

    def _journal(self, assignment: str, student: str) -> list:
        try:
            return json.loads(self._journal_path(assignment, student).read_text())
        except (OSError, ValueError):
            return []

    def _keep_journal(self, assignment: str, student: str, journal: list):
        write_atomic(self._journal_path(assignment, student), json.dumps(journal))

    def _journal_path(self, assignment: str, student: str) -> Path:
        return self.state / "journal" / assignment / f"{student}.json"

    # -- recording -----------------------------------------------------------------------------
    def _record_loop(self):
        while True:
            item = self.recorder.get()
            if item is None:
                return
            arrival, submission = item
            try:
                if self.stopping.is_set():  # what is left is taken again at the next start
                    continue
                if submission is None:
                    self._refuse(arrival)
                else:
                    self._record(arrival, submission)
            except Exception as error:
                self._failed(arrival.name, error)
            finally:
                self.queued.discard(arrival.name)

    def _failed(self, name: str, error: Exception):
        """Taken again at the next listing, up to TRIES; then done, with why."""
        self.failures[name] = self.failures.get(name, 0) + 1
        log.error("%s: failed (%d of %d tries): %s: %s", name, self.failures[name], TRIES, type(error).__name__,
                  str(error)[:300], exc_info=error)
        if self.failures[name] >= TRIES:
            self._mark_done(name, {"failed": f"{type(error).__name__}: {str(error)[:300]}"})

    def _record(self, arrival: Arrival, submission: Submission):
        started = time.monotonic()
        key = run_key(read_notebook(submission.notebook)[0], submission.files)
        result = self.store.get(submission.assignment, submission.student, key, grader_version(submission.assignment))
        if result is None:
            result = self.grading.result(submission)
            self.store.put(result)
            log.info("graded %s / %s: %g/%g in %.1f s on %s", arrival.student, arrival.assignment, result.score,
                     result.max_score, result.timings.get("total_s", 0), result.worker)
        self.grading_keys.discard((submission.assignment, submission.student, key))
        graded = time.monotonic()
        with GradebookLock.of(self.course):
            if self._latest_recorded(arrival) > arrival.received:
                log.info("%s: a later submission is recorded already: this one is not", arrival.name)
            else:
                with Replacing(self.course, arrival, self.inbound / arrival.name), shared_engine(self.grading):
                    self.nbgrader.autograde(arrival.assignment, arrival.student)
                    self.nbgrader.feedback(arrival.assignment, arrival.student)
                self._note_recorded(arrival)
        self._mark_done(arrival.name, {"score": result.score, "max_score": result.max_score, "key": result.key,
                                       "attempt": arrival.attempt, "seed": submission.seed,
                                       "judged_with_seed": result.seed, "received": arrival.received,
                                       "grade_s": round(graded - started, 3),
                                       "record_s": round(time.monotonic() - graded, 3)})
        log.info("recorded %s / %s: %g/%g (result in %.1f s, recorded in %.1f s)", arrival.student,
                 arrival.assignment, result.score, result.max_score, graded - started, time.monotonic() - graded)

    def _latest_recorded(self, arrival: Arrival) -> float:
        """When the latest submission the service recorded for this student and assignment arrived (0: none)."""
        with self.journal_lock:
            journal = self._journal(arrival.assignment, arrival.student)
        return max((e["received"] for e in journal if e.get("recorded")), default=0.0)

    def _note_recorded(self, arrival: Arrival):
        with self.journal_lock:
            journal = self._journal(arrival.assignment, arrival.student)
            for entry in journal:
                if entry["name"] == arrival.name:
                    entry["recorded"] = True
            self._keep_journal(arrival.assignment, arrival.student, journal)

    def _refuse(self, arrival: Arrival):
        """Over the attempts limit: not graded; the feedback page says so (found by fetch_feedback)."""
        limit = self.on_submit.attempts_per_hour
        message = t(f"本作业每小时最多评测 {limit} 次：这次提交未评测。一小时内的提交已达上限；"
                    "请稍后再提交（最后一次提交仍由教师评分）",
                    f"at most {limit} checks per hour for this assignment: this submission was not checked. "
                    "You have reached the limit for the last hour; submit again later (your last submission is "
                    "still graded by the instructor)")
        self.nbgrader.release_note(self.inbound / arrival.name, course_config.assignment(arrival.assignment).name,
                                   message)
        self._mark_done(arrival.name, {"refused": "attempts_per_hour", "received": arrival.received})
        log.info("%s / %s: over %d attempts per hour: not graded", arrival.student, arrival.assignment, limit)

    # -- the service's own files ---------------------------------------------------------------
    def _inbound_names(self) -> list:
        try:
            return os.listdir(self.inbound)
        except OSError:
            return []

    def _is_ready(self, name: str) -> bool:
        try:
            return os.lstat(self.inbound / name / READY_FILE).st_size > 0
        except OSError:
            return False

    def _done(self, name: str) -> Path:
        return done_path(self.state, name)

    def _mark_done(self, name: str, what: dict):
        write_atomic(self._done(name), json.dumps({"name": name, "at": datetime.now(UTC).isoformat(), **what}))

    def _only_instance(self):
        """The service's lock (flock, dropped by the kernel when the process dies): one per course."""
        self.state.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state / "service.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = (self.state / "service.pid").read_text().strip() if (self.state / "service.pid").exists() \
                else "?"
            raise SystemExit(t(f"评分服务已在此课程中运行（进程 {holder}）：不启动第二个",
                               f"a grading service already runs in this course (pid {holder}): not starting a "
                               "second one")) from None
        write_atomic(self.state / "service.pid", str(os.getpid()))
        return fd

    def _close_course(self, strict=True):
        """The course root closed to other accounts (autograder/course_access.py: refused when it cannot
        be), its results and gradebook to the group too; the exchange's feedback folder traversable but
        not listable, as nbgrader makes it where it makes it (0711): a student reads their page by its
        secret name only. Strict at the start; at each listing what cannot be closed is logged."""
        feedback = self.inbound.parent / "feedback"
        if not feedback.exists():
            feedback.mkdir()
            os.chmod(feedback, 0o711)  # mkdir's mode passes through the umask
        (self.course / RESULTS).mkdir(mode=0o700, exist_ok=True)
        course_access.close(self.course, strict=strict, say=self._say_once)
        try:
            info = os.lstat(feedback)
        except FileNotFoundError:
            return
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o044 and not stat.S_ISLNK(info.st_mode):
            os.chmod(feedback, mode & ~0o044)
            log.warning("%s was mode %o: now %o", feedback, mode, mode & ~0o044)

    def _say_once(self, message: str):
        if message not in self.said:
            self.said.add(message)
            log.warning(message)

    def _watch(self):
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        service = self

        class Inbound(FileSystemEventHandler):
            def on_any_event(self, event):
                path = Path(os.fsdecode(event.src_path))
                try:
                    service.events.put(path.relative_to(service.inbound).parts[0])
                except (ValueError, IndexError):
                    pass

        observer = PollingObserver(timeout=1) if self.on_submit.polling else Observer()
        observer.schedule(Inbound(), str(self.inbound), recursive=True)
        observer.start()
        return observer


class Replacing:
    """One recording's changes to the course, all or nothing: the new submitted/ copy is complete
    (read from the inbound folder without following links, within budgets) before the old one moves
    aside; submitted/, autograded/ and feedback/ of that student and assignment and the gradebook
    come back as they were if nbgrader's steps fail. Used under the gradebook lock."""

    def __init__(self, course: Path, arrival: Arrival, inbound_folder: Path):
        self.arrival, self.inbound_folder = arrival, inbound_folder
        self.folders = [course / kind / arrival.student / arrival.assignment
                        for kind in ("submitted", "autograded", "feedback")]
        self.gradebook = course / "gradebook.db"
        self.saved_gradebook = course / RESULTS / "service" / "gradebook.before.db"

    def __enter__(self):
        submitted = self.folders[0]
        for folder in self.folders:  # a kill -9 between two renames of an earlier recording
            if _aside(folder).exists() and not folder.exists():
                os.replace(_aside(folder), folder)
        fresh = submitted.with_name(f".{submitted.name}.collecting")
        shutil.rmtree(fresh, ignore_errors=True)
        files, notes = nofollow.read_tree(self.inbound_folder, (), MAX_FILE_BYTES, 4 * MAX_FILES_BYTES)
        for said in notes:
            log.warning("%s: %s", self.arrival.name, said)
        for name, data in files:
            path = fresh / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        fresh.mkdir(parents=True, exist_ok=True)
        # the time that counts for the due date: when it arrived, or later if it was changed since
        arrived = min(max(self.arrival.received, late.arrival_time(self.inbound_folder)), time.time())
        (fresh / "timestamp.txt").write_text(late.timestamp_text(arrived))
        _copy_database(self.gradebook, self.saved_gradebook)
        for folder in self.folders:
            shutil.rmtree(_aside(folder), ignore_errors=True)
            if folder.exists():
                os.replace(folder, _aside(folder))
        os.replace(fresh, submitted)
        return self

    def __exit__(self, kind, error, traceback):
        for folder in self.folders:
            if kind is not None:  # put the old copies back
                shutil.rmtree(folder, ignore_errors=True)
                if _aside(folder).exists():
                    os.replace(_aside(folder), folder)
            shutil.rmtree(_aside(folder), ignore_errors=True)
        if kind is not None:
            _copy_database(self.saved_gradebook, self.gradebook)
        self.saved_gradebook.unlink(missing_ok=True)
        return False


class Nbgrader:
    """nbgrader's own autograde, generate_feedback and release_feedback, in this process, for one
    student (the course's nbgrader_config.py; inside `shared_engine`, a miss is graded on the
    service's engine)."""

    def __init__(self, course: Path, scores_only: bool):
        from traitlets.config.loader import PyFileConfigLoader
        self.course = course
        self.config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        if scores_only:
            self.config.CourseFeedback.scores_only = True
        self.config.NbGrader.logfile = ""

    def _coursedir(self, assignment: str, student: str):
        from nbgrader.coursedir import CourseDirectory
        return CourseDirectory(config=self.config, assignment_id=assignment, student_id=student)

    def autograde(self, assignment: str, student: str):
        from nbgrader.converters import Autograde
        app = Autograde(coursedir=self._coursedir(assignment, student), config=self.config)
        app.force, app.create_student = True, True
        app.start()

    def feedback(self, assignment: str, student: str):
        """generate_feedback and release_feedback; the released page readable by its student."""
        from nbgrader.auth import Authenticator
        from nbgrader.converters import GenerateFeedback
        from nbgrader.exchange.default import ExchangeReleaseFeedback
        coursedir = self._coursedir(assignment, student)
        app = GenerateFeedback(coursedir=coursedir, config=self.config)
        app.force = True
        app.start()
        ExchangeReleaseFeedback(coursedir=coursedir, authenticator=Authenticator(config=self.config),
                                config=self.config).start()
        secret = nofollow.read_file(self.course / "submitted" / student / assignment / READY_FILE, 4096).decode()
        _readable(_feedback_page(secret, course_config.assignment(assignment).name))

    def release_note(self, inbound_folder: Path, notebook: str, message: str):
        """A feedback page holding only `message`, where fetch_feedback looks for this submission's."""
        secret = nofollow.read_file(inbound_folder / READY_FILE, 4096).decode()
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(notebook)}</title></head>"
                f"<body><h2>{html.escape(notebook)}</h2><p>{html.escape(message)}</p></body></html>")
        target = _feedback_page(secret, notebook)
        write_atomic(target, page)
        _readable(target)


def _feedback_page(secret: str, notebook: str) -> Path:
    """Where nbgrader's fetch_feedback looks for the page of the submission holding `secret`."""
    from nbgrader.utils import notebook_hash
    return Path(course_config.EXCHANGE_ROOT) / course_config.COURSE_ID / "feedback" / \
        f"{notebook_hash(secret=secret, notebook_id=notebook)}.html"


def _readable(page: Path):
    """The student reads the page by its name (the folder is not listable): 0644, whatever the umask."""
    fd = os.open(page, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fchmod(fd, 0o644)
    finally:
        os.close(fd)


def done_path(state: Path, name: str) -> Path:
    """The service's mark that the inbound entry `name` is done (named by its hash: any entry name fits)."""
    return state / "done" / f"{hashlib.sha256(os.fsencode(name)).hexdigest()}.json"


def attempt_seed(seed: int, student: str, attempt: int) -> int:
    """The hidden inputs' seed of a student's n-th attempt: new for every attempt, reproducible."""
    digest = hashlib.sha256(f"{seed}:{student}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "little") | 1  # never 0 (0 means "the assignment's seed")


def _aside(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.before")


def _copy_database(source: Path, dest: Path):
    """A consistent copy of an SQLite file (its backup API); nothing when `source` does not exist."""
    import sqlite3
    if not source.exists():
        dest.unlink(missing_ok=True)
        return
    with sqlite3.connect(source) as old, sqlite3.connect(dest) as new:
        old.backup(new)


def _drain(events: queue.Queue) -> list:
    names = []
    while len(names) < 10_000:
        try:
            names.append(events.get_nowait())
        except queue.Empty:
            break
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.service", description=__doc__.split("\n\n")[0])
    parser.add_argument("--polling", action="store_true", help="poll the inbound folder (NFS: no inotify)")
    parser.add_argument("--wait", action="store_true", help="wait for the first release_assignment instead of "
                        "stopping (the hub starts the service with the course, before anything is released)")
    args = parser.parse_args(argv)
    os.umask(0o077)  # the gradebook, results and course copies: the instructor's alone
    logging.basicConfig(level=logging.INFO, format="[service %(asctime)s] %(message)s", stream=sys.stdout)
    logging.getLogger("traitlets").setLevel(logging.WARNING)  # nbgrader's steps: only what goes wrong
    on_submit = course_config.ON_SUBMIT
    if args.polling:
        on_submit = replace(on_submit, polling=True)
    if on_submit.mode == "off":
        raise SystemExit(t("course_config.ON_SUBMIT.mode 为 off：评分服务不启动",
                           "course_config.ON_SUBMIT.mode is off: the grading service does not start"))
    if on_submit.mode not in ("score", "full"):
        raise SystemExit(f"course_config.ON_SUBMIT.mode must be off, score or full, not {on_submit.mode!r}")
    inbound = Path(course_config.EXCHANGE_ROOT) / course_config.COURSE_ID / "inbound"
    course_access.close(course_config.ROOT, say=log.warning)  # refused (CourseOpen) when it cannot be
    if args.wait and not inbound.is_dir():
        log.info("waiting for %s (nbgrader release_assignment makes it)", inbound)
        waiting = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: waiting.set())
        while not inbound.is_dir() and not waiting.wait(1):
            pass
        if waiting.is_set():
            return
    if not inbound.is_dir():
        raise SystemExit(t(f"交换目录中没有 {inbound}：先运行 nbgrader release_assignment",
                           f"no {inbound} in the exchange: run nbgrader release_assignment first"))
    service = GradingService(course_config.ROOT, on_submit)
    signal.signal(signal.SIGTERM, service.stop)
    signal.signal(signal.SIGINT, service.stop)
    service.run()


if __name__ == "__main__":
    main()
