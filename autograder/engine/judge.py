"""Run an assignment's hidden checks against a `Student` and score every level.

The checks are pytest tests in `autograder/checks/test_<assignment>.py`, each marked with its
level. The judge runs them with pytest in this (trusted) process, passing the `student`, `rng`
and `device` fixtures through a plugin, and turns the outcomes into one `Level` per level:
score = points x (checks passed / checks run), never more than the points, never NaN.
"""
import hashlib
import re
from pathlib import Path

import pytest
import torch

import course_config
from autograder import checking
from autograder.checking import CheckFailed
from autograder.engine.result import Check, Level
from autograder.engine.student import Student, StudentError
from autograder.messages import t

CHECKS = Path(__file__).parents[1] / "checks"


def checks_file(assignment: str) -> Path:
    return CHECKS / f"test_{course_config.assignment(assignment).name}.py"


def judge(assignment: str, student: Student, device: str = "cpu", levels=None, student_id: str = "",
          seed: int = 0) -> dict:
    """{level: Level} for the assignment's levels (or only `levels`). student_id: whose
    submission it is (quiz variants: the order of each student's options); "" for the seed's order.
    seed: the hidden inputs' seed (0: the assignment's own)."""
    spec = course_config.assignment(assignment)
    wanted = [lv for lv in spec.levels if levels is None or lv.name in levels]
    results = {lv.name: Level(lv.name, lv.points) for lv in wanted}
    plugin = _JudgePlugin(student, device, seed or spec.seed, results, student_id)
    args = [str(checks_file(assignment)), "-p", "no:cacheprovider", "-p", "no:terminal",
            "-p", "no:warnings", "-p", "no:stepwise", "-p", "no:unraisableexception",
            "-p", "no:threadexception", "-p", "no:faulthandler", "--import-mode=importlib",
            "--capture=no",  # a worker's other threads keep their stdout and stderr
            "-o", "python_files=test_*.py", "--rootdir", str(CHECKS)]
    code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise RuntimeError(f"the hidden checks of {assignment} did not run (pytest exit {code})")
    return results


class _JudgePlugin:
    """Gives the checks their fixtures and records every outcome in its level."""

    def __init__(self, student, device, seed, results, student_id=""):
        self._student, self._device, self._seed, self.results = student, device, seed, results
        self._student_id = student_id

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "level(name): the level a hidden check belongs to")

    @pytest.fixture
    def student(self):
        return self._student

    @pytest.fixture
    def device(self):
        return self._device

    @pytest.fixture
    def student_id(self):
        return self._student_id

    @pytest.fixture
    def rng(self, request):
        """A generator seeded by the course seed and the check's name: reproducible grades."""
        digest = hashlib.sha256(f"{self._seed}:{request.node.name}".encode()).digest()
        return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))

    def pytest_collection_modifyitems(self, items):
        items[:] = [item for item in items if _level_of(item) in self.results]

    def pytest_runtest_setup(self, item):
        self._student.calls.clear()
        checking.new_trace()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        self.results[_level_of(item)].seconds += report.duration  # setup, call and teardown: the level's time
        if report.when == "call" or (report.when == "setup" and report.failed):
            self._record(item, call, report)  # a skipped check (no GPU) is not counted

    def _record(self, item, call, report):
        doc = (item.obj.__doc__ or item.name).strip().splitlines()[0]
        result = Check(doc, report.passed, "; ".join(self._student.calls)[:300],
                       checking.trace.expected, checking.trace.got)
        error = call.excinfo.value if call.excinfo else None
        result.answer_key = checking.trace.answer_key
        if isinstance(error, CheckFailed):
            result.message, result.message_without_answer = error.message, error.without_answer
        elif isinstance(error, StudentError):
            result.message = _explain_student_error(error)
        elif error is not None:  # the check itself failed on the result: say so, name no internals
            detail = re.sub(r"(/[\w.\-]+)+", "<path>", str(error))[:200]
            result.message = t("检查中出现异常（返回值的类型或结构不对？）：",
                               "the check could not use your result (wrong type or structure?): ") \
                + f"{type(error).__name__}: {detail}"
        self.results[_level_of(item)].checks.append(result)


def _level_of(item) -> str:
    marker = item.get_closest_marker("level")
    return marker.args[0] if marker else ""


def _explain_student_error(error: StudentError) -> str:
    if error.kind == "NotImplementedError":
        return t("尚未完成：代码区仍是 raise NotImplementedError()",
                 "not done yet: the region still raises NotImplementedError()")
    if error.kind == "NameError":
        return t(f"找不到定义：{error.message}（该单元格是否运行出错或被删除？）",
                 f"not defined: {error.message} (did its cell fail or get deleted?)")
    if error.kind == "Timeout":
        return t(f"超时：{error.message}", f"timed out: {error.message}")
    if error.kind == "KernelDied":
        return t(f"内核已退出：{error.message}", f"the kernel died: {error.message}")
    return t(f"你的代码抛出了异常 {error.kind}: {error.message}",
             f"your code raised {error.kind}: {error.message}")
