"""One submission's kernel: started fresh, runs the student's cells, answers the judge.

Each kernel has its own sandbox and scratch folder, serves one submission only and is destroyed
with it, so nothing can pass from one student to the next. `launch` sends the kernel its
warm-up import and returns at once: the import runs in the kernel's own process meanwhile.
Everything touching a kernel runs on one thread's event loop (nbclient's sync API).

The kernel is untrusted: it runs inside the sandbox (autograder.sandbox), every cell under a
time limit, the whole notebook under a budget, outputs capped. If a cell kills the kernel (or
hangs it past an interrupt), the notebook is run again in a fresh kernel without that cell, so
the work before it still counts; such cells are named in the problems. The judge reaches the
kernel only through `request` (ahead.RunStudent), whose requests travel as code and whose replies
come back as base64 plain data in a display message, read with `torch.load(weights_only=True)`.
"""
import base64
import io
import os
import secrets
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import nbformat
import torch
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

import course_config
from autograder import agent
from autograder import sandbox as sandboxes
from autograder.messages import t
from autograder.student import StudentError

WARM_UP = "import torch, numpy"  # sent first: the slow import runs while we go on
MAX_REPLY_BYTES = 256 << 20
MAX_RESTARTS = 3  # fresh runs without a kernel-killing cell
TIMEOUT_ERROR = {"ename": "CellTimeoutError", "evalue": "",
                 "traceback": ["CellTimeoutError: cell time limit reached / 单元格超时"]}


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped by the sandbox."""

    sandbox = None

    def format_kernel_cmd(self, extra_arguments=None):
        return self.sandbox.wrap(super().format_kernel_cmd(extra_arguments))


def launch(box) -> tuple:
    """Start a kernel in sandbox `box` and send it the warm-up; returns (km, kc) at once."""
    km = SandboxedKernelManager(kernel_name="python3")
    km.sandbox = box
    # A signal would reach the sandbox's wrapper (the kernel has its own session), not the
    # kernel: interrupt over the control channel instead.
    km.kernel_spec.interrupt_mode = "message"
    if box.connection_file:
        km.transport = "ipc"  # the sandbox has no network, not even loopback
        km.ip = str(box.run_dir / "ipc")
        km.connection_file = str(box.connection_file)
    run_sync(km.start_kernel)(env=box.kernel_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=str(box.workdir), extra_arguments=["--HistoryManager.hist_file=:memory:"])
    kc = km.client()
    kc.start_channels()
    kc.execute(WARM_UP, store_history=False)  # runs in the kernel's process while we go on
    return km, kc


@dataclass
class SubmissionKernel:
    km: object
    kc: object
    sandbox: object
    scratch: tempfile.TemporaryDirectory

    @property
    def workdir(self) -> Path:
        return self.sandbox.workdir

    def stop(self):
        """Stop the kernel and every process of its sandbox (the folders stay)."""
        try:
            self.kc.stop_channels()
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:
            pass
        self.sandbox.destroy()

    def restart(self):
        """A fresh kernel in the same sandbox and folders."""
        self.stop()
        self.km, self.kc = launch(self.sandbox)

    def discard(self):
        self.stop()
        self.scratch.cleanup()


def start_kernel() -> SubmissionKernel:
    """A kernel in a fresh sandbox and scratch folder, started on this thread's event loop."""
    scratch = tempfile.TemporaryDirectory(prefix="judge-")
    os.chmod(scratch.name, 0o711)  # the kernel's user may pass through, not list
    workdir = Path(scratch.name) / "work"
    workdir.mkdir()
    box = sandboxes.for_submission(workdir)
    km, kc = launch(box)
    return SubmissionKernel(km, kc, box, scratch)


class CappedClient(NotebookClient):
    """nbclient with a cap on each cell's outputs (a print loop cannot fill the grader's memory)
    that also tells whether the last cell hit its time limit."""

    timed_out = False

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def reset_execution_trackers(self):
        super().reset_execution_trackers()
        self.output_bytes = defaultdict(int)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        if agent.MIME in content.get("data", {}):
            return super().output(outs, msg, display_id, cell_index)  # a judge reply
        size = len(str(content.get("text", ""))) + len(str(content.get("data", "")))
        before = self.output_bytes[cell_index]
        self.output_bytes[cell_index] += size
        limit = course_config.OUTPUT_LIMIT_KB << 10
        if before + size <= limit:
            return super().output(outs, msg, display_id, cell_index)
        if before <= limit:
            outs.append(nbformat.v4.new_output("stream", name="stdout", text=t(
                f"\n[输出超过 {course_config.OUTPUT_LIMIT_KB} KB，其余已丢弃]\n",
                f"\n[output over {course_config.OUTPUT_LIMIT_KB} KB; the rest was dropped]\n")))
        return None


class KernelSession:
    """with KernelSession(nb, kernel) as session: session.run_cells(skip); session.request(...)

    `kernel` is a SubmissionKernel, used by this submission only and discarded at the end."""

    def __init__(self, nb, kernel):
        self.nb, self.kernel = nb, kernel
        self.dead = ""  # why the kernel is gone, once it is
        self.problems = []  # readable reasons, for the feedback and the class summary
        self.client = CappedClient(
            nb, km=kernel.km, timeout=course_config.CELL_TIMEOUT_S, allow_errors=True,
            interrupt_on_timeout=True, error_on_timeout=TIMEOUT_ERROR, record_timing=False,
            resources={"metadata": {"path": str(kernel.workdir)}})

    def __enter__(self):
        self._adopt()
        return self

    def __exit__(self, *exc):
        self.kernel.discard()  # the kernel and every process the submission started, gone

    def _adopt(self):
        """Use the kernel's client; wait until it is ready (its warm-up import done)."""
        self.client.km, self.client.kc = self.kernel.km, self.kernel.kc
        self.dead = ""
        try:
            run_sync(self.kernel.kc.wait_for_ready)(timeout=course_config.CALL_TIMEOUT_S * 4)
        except RuntimeError as error:
            self._kernel_gone("内核无法启动", f"the kernel could not start ({error})")
        self.kernel.kc.allow_stdin = False

    def run_cells(self, skip=lambda cell: False):
        """Run the code cells in order (not the `skip`ped ones) within the notebook budget;
        a cell that kills the kernel is left out of a fresh run."""
        deadline = time.monotonic() + course_config.NOTEBOOK_TIMEOUT_S
        fatal = set()
        for attempt in range(MAX_RESTARTS + 1):
            died_at = self._run_all(skip, fatal, deadline)
            if died_at is None or attempt == MAX_RESTARTS or time.monotonic() > deadline:
                break
            fatal.add(died_at)
            self._problem(f"第 {died_at + 1} 个单元格使内核退出：已在新内核中重新运行其余单元格",
                          f"cell {died_at + 1} killed the kernel: the other cells were run again "
                          "in a fresh kernel without it")
            self.kernel.restart()
            self._adopt()
        if not self.dead:
            self._start_agent()

    def _run_all(self, skip, fatal, deadline):
        """The index of the cell that killed the kernel, or None."""
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or skip(cell) or index in fatal:
                continue
            cell.outputs = []
            left = deadline - time.monotonic()
            if left <= 0:
                self._problem("整个笔记本超出时间限制，其余单元格未运行",
                              "the notebook time limit was reached; later cells were not run")
                return None
            self._execute(cell, index, min(course_config.CELL_TIMEOUT_S, left))
            if self.dead:
                return index
        return None

    def _execute(self, cell, index, timeout):
        self.client.timeout = max(1, int(timeout))
        self.client.timed_out = False
        try:
            self.client.execute_cell(cell, index, store_history=False)
        except DeadKernelError:
            self._kernel_gone("内核退出（sys.exit / os._exit / 崩溃 / 内存超限？）",
                              "the kernel died (os._exit / a crash / out of memory?)")
            return
        if self.client.timed_out:
            self._problem(f"单元格超时（{timeout:.0f} 秒）", f"a cell hit its time limit ({timeout:.0f} s)")
            if not self._responsive():
                self._kill("超时后内核无响应（忽略了中断），已终止",
                           "the kernel ignored the interrupt after a timeout and was killed")

    def _run_code(self, code: str, timeout: float):
        """Run judge code (not a notebook cell) in the kernel; its outputs, as a cell's."""
        cell = nbformat.v4.new_code_cell(code)
        self.nb.cells.append(cell)  # nbclient writes the executed cell back by index
        try:
            self._execute(cell, len(self.nb.cells) - 1, timeout)
        finally:
            self.nb.cells.pop()
        return cell.outputs

    def _responsive(self) -> bool:
        cell = nbformat.v4.new_code_cell("pass")
        self.nb.cells.append(cell)
        self.client.timeout = 5
        self.client.timed_out = False
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
        except DeadKernelError:
            return False
        finally:
            self.nb.cells.pop()
        return not self.client.timed_out and not any(o.output_type == "error" for o in cell.outputs)

    def _start_agent(self):
        self.agent_name = "_judge_agent_" + secrets.token_hex(4)
        source = (f"exec({Path(agent.__file__).read_text()!r}, _s := {{}})\n"
                  f"{self.agent_name} = _s['Agent'](globals()); del _s")
        outputs = self._run_code(source, course_config.CALL_TIMEOUT_S)
        errors = [o for o in outputs if o.output_type == "error"]
        if errors and not self.dead:
            self._kill("评测代理无法在内核中启动", "the judge could not start in the kernel: "
                       + errors[0].get("ename", ""))

    def request(self, request: dict) -> dict:
        """One agent round trip; raises StudentError when the kernel cannot answer."""
        if self.dead:
            raise StudentError("KernelDied", self.dead)
        buffer = io.BytesIO()
        torch.save(request, buffer)
        nonce = secrets.token_hex(8)
        code = f"{self.agent_name}.serve_b64({base64.b64encode(buffer.getvalue()).decode()!r}, {nonce!r})"
        outputs = self._run_code(code, course_config.CALL_TIMEOUT_S)
        if self.dead:
            raise StudentError("KernelDied", self.dead)
        for output in reversed(outputs):
            data = output.get("data", {}).get(agent.MIME) if output.output_type == "display_data" else None
            if isinstance(data, str) and len(data) <= MAX_REPLY_BYTES * 4 // 3 + 4:
                try:
                    reply = torch.load(io.BytesIO(base64.b64decode(data)), weights_only=True)
                except Exception:
                    continue
                if isinstance(reply, dict) and reply.get("nonce") == nonce:
                    return reply
        if self.client.timed_out:
            raise StudentError("Timeout", f"{course_config.CALL_TIMEOUT_S} s")
        raise StudentError("NoReply", "the kernel gave no answer")

    def _kernel_gone(self, zh, en):
        self.dead = en
        self._problem(zh, en)

    def _kill(self, zh, en):
        self._kernel_gone(zh, en)
        self.kernel.stop()

    def _problem(self, zh, en):
        self.problems.append(t(zh, en))

