"""A submission's cells run once in its kernel; then the kernel answers the judge's requests.

The kernel is untrusted: every cell runs under a time limit, the whole notebook under a budget,
outputs capped. If a cell kills the kernel (or hangs it past an interrupt), the notebook is run
again in a fresh kernel without that cell, so the work before it still counts; such cells are
named in the problems. The judge reaches the kernel only through `request`, whose requests
travel as code and whose replies come back as base64 plain data in a display message, read
with `torch.load(weights_only=True)`.
"""
import base64
import io
import queue
import secrets
import time
from collections import defaultdict
from pathlib import Path

import nbformat
import torch
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from autograder.engine import agent
from autograder.engine import replies
from autograder.engine.student import Student, StudentError
from autograder.messages import t

MAX_RESTARTS = 3  # fresh runs without a kernel-killing cell
TIMEOUT_ERROR = {"ename": "CellTimeoutError", "evalue": "",
                 "traceback": ["CellTimeoutError: cell time limit reached / 单元格超时"]}


class CappedClient(NotebookClient):
    """nbclient with a budget on outputs, of every type (streams, displays and their updates,
    results, errors, anything carrying the judge's MIME type): `output_limit_kb` per cell and
    `notebook_limit_kb` for the whole notebook. Comm (widget) messages are dropped. It also tells
    whether the last cell hit its time limit."""

    timed_out = False
    # The reply came but the end of the outputs never did: a message over the reply budget cut
    # the output connection (KernelSession reopens it).
    raise_on_iopub_timeout = True
    iopub_timeout = 2  # Limits.output_grace_s
    output_limit_kb = 512
    notebook_limit_kb = 4096
    COUNTED = ("stream", "display_data", "update_display_data", "execute_result", "error")

    async def _async_handle_timeout(self, timeout, cell=None):
        self.timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def reset_execution_trackers(self):
        super().reset_execution_trackers()
        self.output_bytes = defaultdict(int)
        self.notebook_bytes = 0

    def process_message(self, msg, cell, cell_index):
        kind = msg.get("msg_type", "")
        if kind.startswith("comm"):
            return None  # no widget state in a graded notebook
        if kind in self.COUNTED and not self._within_budget(msg, cell.outputs, cell_index):
            return None
        return super().process_message(msg, cell, cell_index)

    def _within_budget(self, msg, outs, cell_index) -> bool:
        content = msg.get("content", {})
        size = sum(len(str(content.get(key, ""))) for key in ("text", "data", "metadata", "traceback", "evalue"))
        cell_before, notebook_before = self.output_bytes[cell_index], self.notebook_bytes
        self.output_bytes[cell_index] += size
        self.notebook_bytes += size
        cell_limit, notebook_limit = self.output_limit_kb << 10, self.notebook_limit_kb << 10
        if self.output_bytes[cell_index] <= cell_limit and self.notebook_bytes <= notebook_limit:
            return True
        if cell_before <= cell_limit and notebook_before <= notebook_limit:  # the notice, once
            limit = self.output_limit_kb if self.output_bytes[cell_index] > cell_limit else self.notebook_limit_kb
            where = ("单元格", "cell") if self.output_bytes[cell_index] > cell_limit else ("笔记本", "notebook")
            outs.append(nbformat.v4.new_output("stream", name="stdout", text=t(
                f"\n[{where[0]}输出超过 {limit} KB，其余已丢弃]\n",
                f"\n[{where[1]} output over {limit} KB; the rest was dropped]\n")))
        return False


class KernelSession:
    """session = KernelSession(nb, kernel, limits); session.run_cells(skip); session.request(...)

    `kernel` is a SubmissionKernel, used by this submission only and discarded by its owner."""

    def __init__(self, nb, kernel, limits):
        self.nb, self.kernel, self.limits = nb, kernel, limits
        self.dead = ""  # why the kernel is gone, once it is
        self.timed_out = False  # whether any cell or call hit its time limit
        self.call_timed_out = False  # whether the last judge call did
        self.problems = []  # readable reasons, for the feedback and the class summary
        self.client = CappedClient(
            nb, km=kernel.km, timeout=limits.cell_s, allow_errors=True,
            interrupt_on_timeout=True, error_on_timeout=TIMEOUT_ERROR, record_timing=False,
            resources={"metadata": {"path": str(kernel.workdir)}})
        self.client.output_limit_kb = limits.output_kb
        self.client.notebook_limit_kb = limits.notebook_output_kb
        self.client.iopub_timeout = limits.output_grace_s
        self._adopt()

    def _adopt(self):
        """Use the kernel's client; wait until it is ready (its warm-up import done)."""
        self.client.km, self.client.kc = self.kernel.km, self.kernel.kc
        self.dead = ""
        try:
            run_sync(self.kernel.kc.wait_for_ready)(timeout=self.limits.call_s * 4)
        except RuntimeError as error:
            self._kernel_gone("内核无法启动", f"the kernel could not start ({error})")
        self.kernel.kc.allow_stdin = False

    def run_cells(self, skip=lambda cell: False):
        """Run the code cells in order (not the `skip`ped ones) within the notebook budget;
        a cell that kills the kernel is left out of a fresh run."""
        deadline = time.monotonic() + self.limits.notebook_s
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
        self.client.reset_execution_trackers()  # a fresh run: a fresh output budget
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or skip(cell) or index in fatal:
                continue
            cell.outputs = []
            left = deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                self._problem("整个笔记本超出时间限制，其余单元格未运行",
                              "the notebook time limit was reached; later cells were not run")
                return None
            self._execute(cell, index, min(self.limits.cell_s, left))
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
        except CellTimeoutError:  # the reply came (or was given up on), the outputs' end did not
            if not self.client.timed_out:
                self._output_lost(f"第 {index + 1} 个单元格", f"cell {index + 1}")
                return
        if self.client.timed_out:
            self.timed_out = True
            self._problem(f"单元格超时（{timeout:.0f} 秒）", f"a cell hit its time limit ({timeout:.0f} s)")
            if not self._responsive():
                self._kill("超时后内核无响应（忽略了中断），已终止",
                           "the kernel ignored the interrupt after a timeout and was killed")

    def _output_lost(self, where_zh, where_en):
        self._problem(f"{where_zh}的输出未能收全（单条消息超过 {self.limits.reply_mb} MB？），其余输出已丢弃",
                      f"{where_en}'s outputs did not all arrive (a message over {self.limits.reply_mb} MB?); "
                      "the rest were dropped")
        self.kernel.reopen_output()

    def _responsive(self) -> bool:
        cell = nbformat.v4.new_code_cell("pass")
        self.nb.cells.append(cell)
        self.client.timeout = max(1, int(self.limits.grace_s))
        self.client.timed_out = False
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
        except (DeadKernelError, CellTimeoutError):
            return False
        finally:
            self.nb.cells.pop()
        return not self.client.timed_out and not any(o.output_type == "error" for o in cell.outputs)

    def _start_agent(self):
        self.agent_name = "_judge_agent_" + secrets.token_hex(4)
        source = (f"exec({Path(agent.__file__).read_text()!r}, _s := {{}})\n"
                  f"{self.agent_name} = _s['Agent'](globals()); del _s")
        _, error = run_sync(self._call)(source, self.limits.call_s)
        if error and not self.dead:
            self._kill("评测代理无法在内核中启动", f"the judge could not start in the kernel: {error}")

    def request(self, request: dict) -> dict:
        """One agent round trip; raises StudentError when the kernel cannot answer."""
        if self.dead:
            raise StudentError("KernelDied", self.dead)
        buffer = io.BytesIO()
        torch.save(request, buffer)
        nonce = secrets.token_hex(8)
        code = f"{self.agent_name}.serve_b64({base64.b64encode(buffer.getvalue()).decode()!r}, {nonce!r})"
        published, error = run_sync(self._call)(code, self.limits.call_s)
        if self.dead:
            raise StudentError("KernelDied", self.dead)
        if error == "OutputLost":
            raise StudentError("ReplyRefused", f"the reply was over {self.limits.reply_mb} MB")
        for data in published:  # at most one: the first the call published
            try:
                reply = replies.decode(data, self.limits.reply_mb << 20)
            except replies.ReplyRefused as refused:
                raise StudentError("ReplyRefused", str(refused)) from None
            if isinstance(reply, dict) and reply.get("nonce") == nonce:
                return reply
        if self.call_timed_out:
            raise StudentError("Timeout", f"{self.limits.call_s:g} s")
        raise StudentError("NoReply", "the kernel gave no answer")

    async def _call(self, code: str, timeout: float) -> tuple:
        """Run judge code in the kernel, straight on the kernel's channels (a round trip of a few
        ms, where a notebook cell through nbclient costs tens): ([reply payloads], error name or
        None). Other outputs (the student's prints) are dropped as they come."""
        kc, km = self.kernel.kc, self.kernel.km
        msg_id = kc.execute(code, silent=False, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout
        published, error, replied_at = [], None, None
        self.call_timed_out = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                await self._on_call_timeout()
                return published, "Timeout"
            replied_at = replied_at or await self._replied(msg_id)
            if replied_at and time.monotonic() - replied_at > self.limits.output_grace_s:
                self._output_lost("评测调用", "a check's call")
                return published, "OutputLost"
            try:
                msg = await kc.get_iopub_msg(timeout=min(left, 0.5))
            except queue.Empty:
                if not await km.is_alive():
                    self._kernel_gone("内核退出（sys.exit / os._exit / 崩溃 / 内存超限？）",
                                      "the kernel died (os._exit / a crash / out of memory?)")
                    return published, "KernelDied"
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            data = content.get("data", {}).get(agent.MIME) if kind == "display_data" else None
            if data is not None and not published:  # one reply per call: the rest are dropped unread
                published.append(data)
            elif kind == "error":
                error = content.get("ename", "error")
            elif kind == "status" and content.get("execution_state") == "idle":
                return published, error

    async def _replied(self, msg_id):
        """When the kernel's reply to `msg_id` came (now), or None: the replies of earlier calls
        and cells waiting on the shell channel are read and dropped."""
        while await self.kernel.kc.shell_channel.msg_ready():
            if (await self.kernel.kc.get_shell_msg())["parent_header"].get("msg_id") == msg_id:
                return time.monotonic()
        return None

    async def _on_call_timeout(self):
        """Interrupt the call; a kernel that does not come back is killed."""
        self.timed_out = self.call_timed_out = True
        self._problem(f"评测调用超时（{self.limits.call_s:g} 秒）", f"a check's call hit its time limit "
                      f"({self.limits.call_s:g} s)")
        try:
            await self.kernel.km.interrupt_kernel()
            msg_id = self.kernel.kc.execute("pass", silent=False, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + self.limits.grace_s
            while time.monotonic() < deadline:
                msg = await self.kernel.kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" and \
                        msg["content"].get("execution_state") == "idle":
                    return
        except Exception:
            pass
        self._kill("超时后内核无响应（忽略了中断），已终止",
                   "the kernel ignored the interrupt after a timeout and was killed")

    def _kernel_gone(self, zh, en):
        self.dead = en
        self._problem(zh, en)

    def _kill(self, zh, en):
        self._kernel_gone(zh, en)
        self.kernel.stop()

    def _problem(self, zh, en):
        self.problems.append(t(zh, en))


class KernelStudent(Student):
    """The judge's view of a submission's kernel: each request is one agent round trip."""

    def __init__(self, session: KernelSession):
        super().__init__()
        self.session = session

    def _request(self, request):
        return self.session.request(request)
