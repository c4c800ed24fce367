"""Kernels forked from a warm factory: a worker's kernels start in milliseconds, not seconds.

A fresh kernel costs 1.5-2 s of CPU, nearly all of it `import torch`. The factory
(zygote_main.py) runs once per worker inside the sandbox, imports torch and ipykernel, and forks
one kernel per submission, each in its own user, mount, PID, network and IPC namespaces with only
its own folder visible (see zygote_main). The factory never runs student code, and no kernel can
see it or another kernel, so nothing passes from one submission to the next.

Workers of a Dask cluster hold one as a worker plugin (`KernelFactories`); `grade_one` without a
worker (the command line, tests) starts its kernel the ordinary way.
"""
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.connect import write_connection_file

from autograder.engine import sandbox as sandboxes
from autograder.engine.kernel import budgeted_context

SOURCE = Path(__file__).with_name("zygote_main.py")
READY_TIMEOUT_S = 120


class KernelFactory:
    """factory = KernelFactory(limits, device); km, kc = factory.fork(box); ...; factory.close()
    (a "cuda" factory's sandbox lets its kernels reach the GPU)"""

    def __init__(self, limits, device="cpu"):
        self.limits = limits
        self.scratch_root = Path(tempfile.mkdtemp(prefix="judge-factory-"))
        os.chmod(self.scratch_root, 0o711)
        self.box = sandboxes.for_factory(self.scratch_root, limits, device)
        command = self.box.wrap(["python", "-c", SOURCE.read_text()], cgroups=False)
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=self.box.kernel_env(),
                                        cwd=str(self.scratch_root), text=True, start_new_session=True)
        if self.process.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError("the kernel factory did not start")

    def fork(self, box) -> tuple:
        """A kernel for sandbox `box` (whose folders are inside this factory's scratch root): (km, kc)."""
        run_dir = box.run_dir
        connection_file, _ = write_connection_file(str(run_dir / "kernel.json"), transport="ipc",
                                                   ip=str(run_dir / "ipc"))
        hello_path = run_dir / f"hello-{secrets.token_hex(4)}"
        hello = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        hello.bind(str(hello_path))
        hello.listen(1)
        hello.settimeout(READY_TIMEOUT_S)
        for made in (Path(connection_file), hello_path):  # made just now, in a folder no kernel has had
            box.own(made)
        try:
            isolation = self.box.isolation
            request = {"fresh": [*isolation.hidden, str(self.scratch_root)],
                       "keep": [*(inside for _, inside in isolation.python_folders), str(box.workdir.parent)],
                       "tmpfs_bytes": self.limits.file_mb << 20, "workdir": str(box.workdir),
                       "connection_file": connection_file, "hello": str(hello_path), "env": box.kernel_env(),
                       "nproc": self.limits.processes}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            connection, _ = hello.accept()
            pid, _, _ = _peer_credentials(connection)
            box.adopt(pid)  # into the submission's cgroups before it runs anything
            connection.sendall(b"1")
            connection.close()
        finally:
            hello.close()
            hello_path.unlink(missing_ok=True)
        kc = AsyncKernelClient(connection_file=connection_file, context=budgeted_context(self.limits))
        kc.load_connection_file()
        kc.start_channels()
        return ForkedKernelManager(pid, kc), kc

    def close(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        shutil.rmtree(self.scratch_root, ignore_errors=True)


def _peer_credentials(connection) -> tuple:
    """(pid, uid, gid) of the process at the other end, its pid as this process sees it."""
    data = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", data)


class ForkedKernelManager:
    """What nbclient and the session need of a kernel manager, for a forked kernel."""

    def __init__(self, pid: int, kc):
        self.pid, self.kc = pid, kc
        self.has_kernel = True

    async def is_alive(self) -> bool:
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")

    async def interrupt_kernel(self):
        self.kc.control_channel.send(self.kc.session.msg("interrupt_request", {}))

    async def shutdown_kernel(self, now=True):
        try:
            os.kill(self.pid, signal.SIGKILL)  # process 1 of its namespace: everything it started goes too
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 5
        while await self.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)


class KernelFactories(WorkerPlugin):
    """A Dask worker plugin: this worker's kernel factories (one per limits and device), closed with it."""

    name = "course-kernel-factories"

    def setup(self, worker=None):
        self.factories = {}

    def get(self, limits, device="cpu") -> KernelFactory:
        key = (limits, device)
        if key not in self.factories or self.factories[key].process.poll() is not None:
            self.factories[key] = KernelFactory(limits, device)
        return self.factories[key]

    def teardown(self, worker=None):
        for factory in self.factories.values():
            factory.close()
        self.factories = {}


def worker_factory(limits, device="cpu"):
    """The kernel factory of the Dask worker running this task, or None outside a worker (or
    where the sandbox cannot give each kernel its own namespaces)."""
    try:
        from distributed import get_worker
        plugin = get_worker().plugins.get(KernelFactories.name)
    except ValueError:  # not in a worker
        return None
    if plugin is None or not sandboxes.isolation().forks:
        return None
    return plugin.get(limits, device)
