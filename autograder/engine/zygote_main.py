"""The kernel factory's process: runs inside the sandbox, never runs student code itself.

It imports torch, numpy and ipykernel once, then forks one kernel per request read from stdin
(a JSON line). This file is sent as the process's source (`python -c`): inside the sandbox the
course's folders are hidden, so it imports nothing of the course.

Each fork gets namespaces of its own: user, mount, PID, network and IPC. In its mount namespace
every folder the factory's sandbox could write (/tmp with the scratch root, /dev/shm, the hidden
folders) is covered by a fresh empty tmpfs with only its own submission folder bound back, and
/proc is its own: nothing of another submission (files, processes, sockets) is visible, nor this
factory. The kernel is process 1 of its PID namespace, so every process it starts dies with it.
Then it locks those mounts and gives up every capability (give_up_privileges): it cannot
unmount what hides the factory and the other submissions.
Before the kernel starts it says hello on the worker's socket, where the worker reads its pid
(SO_PEERCRED) and puts it into the submission's cgroups.
"""
import ctypes
import json
import os
import resource
import signal
import socket
import sys

import IPython  # noqa: F401  (imported here once, so each kernel starts without importing)
import ipykernel.kernelapp  # noqa: F401
import numpy  # noqa: F401
import torch  # noqa: F401

libc = ctypes.CDLL(None, use_errno=True)
NEWNS, NEWUSER, NEWPID, NEWNET, NEWIPC = 0x20000, 0x10000000, 0x20000000, 0x40000000, 0x08000000
MS_BIND, MS_REC, MS_PRIVATE, MS_NOSUID, MS_NODEV, MS_NOEXEC = 4096, 16384, 1 << 18, 2, 4, 8
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4


def check(result, what):
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def mount(source, target, kind, flags, data=None):
    check(libc.mount(source and source.encode(), target.encode(), kind and kind.encode(), flags,
                     data and data.encode()), f"mount {target}")


def isolate(request):
    """In the forked child: own namespaces; fresh empty folders wherever the factory's sandbox
    could be written (its tmpfs are shared by all its kernels), only the submission's folder and
    the course's Python environment put back."""
    uid, gid = os.getuid(), os.getgid()
    check(libc.unshare(NEWUSER | NEWNS | NEWPID | NEWNET | NEWIPC), "unshare")
    # counted in this user namespace alone: the kernel's processes, not the factory's or the user's
    resource.setrlimit(resource.RLIMIT_NPROC, (request["nproc"], request["nproc"]))
    map_user(uid, gid)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    keep = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in request["keep"]}
    for folder in request["fresh"]:
        if os.path.isdir(folder):
            mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={request['tmpfs_bytes']},mode=0755")
    for path, fd in keep.items():
        os.makedirs(path, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)


def map_user(uid, gid):
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def give_up_privileges():
    """Lock the mounts, then hold no capability at all. A nested user and mount namespace makes
    every mount above locked (MNT_LOCKED: no umount2 can uncover the factory's folders under the
    fresh ones); the bounding set, the ambient, inheritable, permitted and effective sets are
    emptied, and no exec can gain any back (no_new_privs)."""
    uid, gid = os.getuid(), os.getgid()
    check(libc.unshare(NEWUSER | NEWNS), "unshare (lock)")
    map_user(uid, gid)
    cap = 0
    while libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (two words each): none
    check(libc.capset(header, data), "capset")
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def kernel(request):
    """In the new PID namespace's process 1: say hello, wait for the go-ahead, become the kernel."""
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    give_up_privileges()
    hello = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hello.connect(request["hello"])
    if hello.recv(1) != b"1":
        os._exit(1)
    hello.close()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.setsid()
    os.chdir(request["workdir"])
    os.environ.clear()
    os.environ.update(request["env"])
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()
    app.initialize(["-f", request["connection_file"], "--HistoryManager.hist_file=:memory:"])
    app.start()


def serve():
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the system
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if os.fork() == 0:
            try:
                isolate(request)
                if os.fork() == 0:
                    kernel(request)
                os._exit(0)  # the kernel's parent leaves: the kernel stays process 1 of its namespace
            except BaseException as error:
                print(f"fork failed: {error}", file=sys.stderr, flush=True)
            finally:
                os._exit(1)


serve()
