"""Warm kernels: sandboxed kernels started ahead of need, torch already importing.

Starting a kernel and importing torch is most of a submission's grading time. The pool starts
the next submission's kernel while the current one is graded (the kernel is another process,
so it runs on another core), and hands each kernel to exactly one submission: it is destroyed
with that submission's sandbox, so nothing can pass from one student to the next.

Everything runs on the calling thread's event loop (the one nbclient's sync API uses).
"""
import atexit
import os
import subprocess
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

import course_config
from autograder import sandbox as sandboxes

WARM_UP = "import torch, numpy"


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
class WarmKernel:
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


class KernelPool:
    def __init__(self, ahead: int):
        self.ahead, self.ready = ahead, deque()

    def take(self) -> WarmKernel:
        """A started kernel for one submission; the next ones start meanwhile."""
        kernel = self.ready.popleft() if self.ready else self._start()
        while len(self.ready) < self.ahead:
            self.ready.append(self._start())
        return kernel

    def close(self):
        while self.ready:
            self.ready.popleft().discard()

    @staticmethod
    def _start() -> WarmKernel:
        scratch = tempfile.TemporaryDirectory(prefix="judge-")
        os.chmod(scratch.name, 0o711)  # the kernel's user may pass through, not list
        workdir = Path(scratch.name) / "work"
        workdir.mkdir()
        box = sandboxes.for_submission(workdir)
        km, kc = launch(box)
        return WarmKernel(km, kc, box, scratch)


_pool = None


def pool() -> KernelPool:
    """This process's pool (one per `nbgrader autograde` run), emptied at exit."""
    global _pool
    if _pool is None:
        _pool = KernelPool(course_config.WARM_KERNELS)
        atexit.register(_pool.close)
    return _pool
