"""`make bench`'s control is stock nbgrader (its own config, TCP kernels) and grades at the speed of
a raw nbclient run; and every kernel the course's nbgrader settings start (the instructor's, the
student's set-up) reaches its client over ipc when the kernel's folder is not the client's."""
import atexit
import os
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets.config import Config, PyFileConfigLoader

import course_config
from autograder.tools import bench, demo, student_setup

CLASS = 4  # correct, partial, stub, broken


def test_the_stock_control_applies_nothing_of_the_course(monkeypatch):
    monkeypatch.setenv("COURSE_STOCK_AUTOGRADE", "1")
    c = Config()
    course_config.apply(c)
    assert c == Config()


@pytest.fixture(scope="module")
def control(tmp_path_factory):
    """(stock seconds, raw nbclient seconds, course) for the same class of CLASS submissions."""
    course = bench.stock_course(tmp_path_factory.mktemp("stock") / "course", CLASS)
    t_stock, _ = bench.timed_autograde(course, stock=True)
    t_raw = bench.raw_execution(course)
    print(f"\nstock control {t_stock / CLASS:.2f} s/submission, raw nbclient {t_raw / CLASS:.2f} s/submission, "
          f"ratio {t_stock / t_raw:.2f}x")
    return t_stock, t_raw, course


def test_the_stock_control_grades_with_nbgrader_own_execute(control):
    """Stock nbgrader runs the visible checks in the student's kernel: the correct submission gets
    every point, the stub none (a kernel that never answered would give the correct one 0 too)."""
    *_, course = control
    totals = {}
    for student, _, score, _ in demo.gradebook_rows(course, bench.SPEC, course_id=""):
        totals[student] = totals.get(student, 0) + score
    assert totals["correct00"] == sum(lv.points for lv in bench.SPEC.levels)
    assert totals["stub02"] == 0


def test_the_stock_control_is_within_3x_a_raw_nbclient_run(control):
    t_stock, t_raw, _ = control
    assert t_stock / CLASS <= 3 * t_raw / CLASS, f"stock {t_stock:.1f} s vs raw {t_raw:.1f} s for {CLASS} notebooks"


def run_in_other_folder(config: Config, folder, startup_s: float = 30) -> float:
    """Seconds to run a one-cell notebook in a kernel started in `folder` by a client elsewhere."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    client = NotebookClient(nb, config=config, timeout=20, startup_timeout=startup_s, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    try:
        client.execute(stderr=subprocess.DEVNULL)
    finally:  # nbclient leaves its exit hook behind when the kernel never answered
        atexit.unregister(client._cleanup_kernel)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    return time.perf_counter() - start


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """The notebook's folder, and a client working in another one."""
    (tmp_path / "client").mkdir()
    (tmp_path / "notebook").mkdir()
    monkeypatch.chdir(tmp_path / "client")
    return tmp_path / "notebook"


def test_the_course_kernels_use_an_absolute_private_ipc_path(elsewhere):
    c = Config()
    course_config.apply(c)
    assert c.KernelManager.transport == "ipc" and os.path.isabs(c.KernelManager.ip)
    assert os.stat(os.path.dirname(c.KernelManager.ip)).st_mode & 0o077 == 0
    run_in_other_folder(c, elsewhere)


def test_where_no_runtime_folder_can_be_made_the_course_kernels_use_tcp(monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", "/proc/course-no-such-folder")  # not even root makes it
    c = Config()
    course_config.apply(c)
    assert "transport" not in c.KernelManager and "ip" not in c.KernelManager


def student_config(home, monkeypatch) -> Config:
    """The nbgrader config the student's set-up writes, as nbgrader loads it in `home`."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("JUPYTER_RUNTIME_DIR", raising=False)
    student_setup.install(home, "/srv/nbgrader/exchange", course_config.COURSE_ID)
    return PyFileConfigLoader("nbgrader_config.py", path=str(home / ".jupyter")).load_config()


def test_the_student_setup_kernels_use_an_absolute_ipc_path(elsewhere, monkeypatch):
    with tempfile.TemporaryDirectory(dir="/tmp") as home:  # a short home, like /home/alice
        c = student_config(Path(home), monkeypatch)
        assert c.KernelManager.transport == "ipc" and str(c.KernelManager.ip).startswith(home)
        run_in_other_folder(c, elsewhere)


def test_a_home_too_deep_for_a_socket_path_gets_tcp_kernels(elsewhere, tmp_path, monkeypatch):
    home = tmp_path / ("deep" * 20)
    home.mkdir()
    c = student_config(home, monkeypatch)
    assert "transport" not in c.KernelManager and "ip" not in c.KernelManager
    run_in_other_folder(c, elsewhere)


def test_a_relative_ipc_path_fails_when_the_kernel_works_elsewhere(elsewhere):
    """The mistake the tests above guard against: jupyter_client's default ipc path is relative."""
    c = Config()
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = "kernel-ipc"
    with pytest.raises((RuntimeError, TimeoutError, CellTimeoutError, DeadKernelError)):
        run_in_other_folder(c, elsewhere, startup_s=3)
