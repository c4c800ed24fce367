"""One submission's kernel: started fresh in its own sandbox and scratch folder, destroyed after.

`SubmissionKernel.start(limits)` starts a kernel and sends it its warm-up import, returning at
once (the import runs in the kernel's process meanwhile); `with` destroys the kernel, every
process of its sandbox and its folders, however grading ends. Everything touching a kernel
runs on one thread's event loop (nbclient's sync API).
"""
import os
import subprocess
import tempfile
import time
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from autograder.engine import sandbox as sandboxes

WARM_UP = "import torch, numpy"  # sent first: the slow import runs while we go on


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped by the sandbox."""

    sandbox = None

    def format_kernel_cmd(self, extra_arguments=None):
        return self.sandbox.wrap(super().format_kernel_cmd(extra_arguments))


def budgeted_context(limits) -> zmq.asyncio.Context:
    """The zmq context of a kernel's client: a message frame over what one reply may be is
    refused by zmq before this process holds it (the kernel's connection is dropped instead)."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, (limits.reply_mb << 20) * 4 // 3 + (1 << 20))
    return context


def launch(box) -> tuple:
    """Start a kernel in sandbox `box` and send it the warm-up; returns (km, kc) at once."""
    km = SandboxedKernelManager(kernel_name="python3")
    km.sandbox = box
    # A signal would reach the sandbox's wrapper (the kernel has its own session), not the
    # kernel: interrupt over the control channel instead.
    km.kernel_spec.interrupt_mode = "message"
    km.transport = "ipc"  # the sandbox has no network, not even loopback; and no other user may connect
    km.ip = str(box.run_dir / "ipc")
    km.connection_file = str(box.connection_file)
    run_sync(km.start_kernel)(env=box.kernel_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=str(box.workdir), extra_arguments=["--HistoryManager.hist_file=:memory:"])
    kc = km.client(context=budgeted_context(box.limits))
    kc.start_channels()
    kc.execute(WARM_UP, store_history=False)  # runs in the kernel's process while we go on
    return km, kc


class SubmissionKernel:
    """with SubmissionKernel.start(limits) as kernel: kernel.km, kernel.kc, kernel.workdir"""

    def __init__(self, box, scratch: tempfile.TemporaryDirectory, factory=None):
        self.sandbox, self.scratch, self.factory = box, scratch, factory
        self.km = self.kc = None

    @classmethod
    def start(cls, limits, files=(), factory=None, device="cpu") -> "SubmissionKernel":
        """A kernel in a fresh sandbox whose working folder holds `files` ((path, bytes), ...);
        forked by `factory` (kernel_factory.KernelFactory) when given, else started afresh.
        device "cuda": the sandbox lets the kernel reach the GPU."""
        scratch = tempfile.TemporaryDirectory(prefix="judge-", dir=factory and factory.scratch_root)
        os.chmod(scratch.name, 0o711)  # the kernel's user may pass through, not list
        workdir = Path(scratch.name) / "work"
        workdir.mkdir()
        box = sandboxes.for_submission(workdir, limits, device)
        for name, data in files:  # into the fresh folder, before any student code runs
            path = (workdir / name).resolve()
            if workdir.resolve() in path.parents:  # no "../" escapes
                for folder in reversed(path.relative_to(workdir).parents[:-1]):
                    if not (workdir / folder).is_dir():
                        (workdir / folder).mkdir()
                        box.own(workdir / folder)
                path.write_bytes(data)
                box.own(path)
        kernel = cls(box, scratch, factory)
        try:
            kernel.km, kernel.kc = kernel._launch()
        except BaseException:
            kernel.discard()
            raise
        return kernel

    @property
    def workdir(self) -> Path:
        return self.sandbox.workdir

    def stop(self):
        """Stop the kernel and every process of its sandbox (the folders stay)."""
        try:
            self.kc.stop_channels()
            run_sync(self.km.shutdown_kernel)(now=True)
            self.kc.context.destroy(linger=0)
        except Exception:
            pass
        self.sandbox.destroy()

    def reopen_output(self):
        """Connect a fresh iopub socket: zmq drops a connection on which a frame over the reply
        budget arrived (budgeted_context) and does not bring it back. The kernel and its state
        stay; what was published in between is lost."""
        self.kc.iopub_channel.close()
        self.kc._iopub_channel = None
        self.kc.iopub_channel.start()
        time.sleep(0.05)  # the kernel hears the new subscription before it publishes again

    def restart(self):
        """A fresh kernel in the same sandbox and working folder, with a new run folder (the old
        one holds whatever the dead kernel left there: the grader never reads or binds it)."""
        self.stop()
        self.sandbox.new_run_dir()
        self.km, self.kc = self._launch()

    def _launch(self) -> tuple:
        if self.factory:
            km, kc = self.factory.fork(self.sandbox)
            kc.execute(WARM_UP, store_history=False)  # as a fresh kernel's: imports already done
            return km, kc
        return launch(self.sandbox)

    def discard(self):
        if self.km:
            self.stop()
        self.sandbox.destroy()
        self.scratch.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.discard()
