"""Run as root just before the kernel's user takes over (sandbox.py): in a private mount
namespace, make each of PATHS reachable for any user without exposing what lies beside it,
then become COMMAND. Each folder in BLOCKED (one the user may not pass, such as /root, mode 700)
is covered by an empty tmpfs, and PATHS are bound back at their own places.

    python -I reveal.py '["/root/.pyenv/versions/3.11.7"]' '["/root"]' -- COMMAND...
"""
import ctypes
import json
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE = 0x20000, 4096, 16384, 1 << 18


def mount(source, target, kind, flags, data=None):
    if libc.mount(source and source.encode(), target.encode(), kind and kind.encode(), flags,
                  data and data.encode()) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {target}: {os.strerror(error)}")


def main(paths: list, blocked: list, command: list):
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing of this reaches the host
    held = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in paths}  # before they are covered
    for folder in blocked:
        mount("tmpfs", folder, "tmpfs", 0, "mode=0755,size=1m")
    for path, fd in held.items():
        os.makedirs(path, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)
    os.execvp(command[0], command)


if __name__ == "__main__":
    separator = sys.argv.index("--")
    main(json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[separator + 1:])
