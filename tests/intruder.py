"""What a grading run listens on, and another account on the host trying each of it.

`listeners(pid)` lists every listening socket of a process and its descendants (TCP in the host's
network namespace, Unix sockets by path, in whichever namespace their process is); `intrude(...)`
runs INTRUDER as another ordinary account against them: a Dask client over plain TCP, one over TLS
with credentials of its own, raw HTTP, and a connect() to each Unix socket. What it would run in a
worker or the scheduler (if it ever got in) writes a marker file that the test then looks for.
"""
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import as_user


@dataclass(frozen=True)
class Listener:
    kind: str  # "tcp" or "unix"
    address: str  # "127.0.0.1:PORT", or a Unix socket's path ("@name": abstract)
    pid: int
    command: str  # the process's command line, shortened
    netns: str  # its network namespace ("net:[4026531833]")


def process_tree(root: int) -> list:
    """`root` and every live process below it (pids)."""
    parents = {}
    for proc in Path("/proc").iterdir():
        try:
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (ValueError, OSError, IndexError):
            continue
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def _socket_inodes(pid: int) -> set:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = fd.readlink().as_posix()
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _tcp_address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    if len(host) == 8:  # IPv4, little-endian
        host = ".".join(str(int(host[i:i + 2], 16)) for i in (6, 4, 2, 0))
    else:
        host = f"[{host}]"
    return f"{host}:{int(port, 16)}"


def listeners(root: int, tree=True) -> list:
    """Every listening socket of `root`'s process tree (of `root` alone: tree=False)."""
    found = []
    for pid in process_tree(root) if tree else [root]:
        inodes = _socket_inodes(pid)
        if not inodes:
            continue
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:100]
            netns = os.readlink(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        for table in ("tcp", "tcp6"):
            try:
                rows = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                fields = row.split()
                if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                    found.append(Listener("tcp", _tcp_address(fields[1]), pid, command, netns))
        try:
            rows = Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]
        except OSError:
            rows = []
        for row in rows:
            fields = row.split()
            if len(fields) >= 8 and int(fields[3], 16) & 0x10000 and fields[6] in inodes:  # __SO_ACCEPTCON
                found.append(Listener("unix", fields[7], pid, command, netns))
    return found


def host_netns() -> str:
    """The network namespace other accounts share (this process's)."""
    return os.readlink("/proc/self/ns/net")


INTRUDER = r'''
import json, os, socket, sys
listeners, marker = json.loads(sys.argv[1])
report = {}
for kind, address in listeners:  # Unix sockets first: the kernels that hold them come and go
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect("\0" + address[1:] if address.startswith("@") else address)
            report[address] = ["CONNECTED"]
        except OSError as error:
            report[address] = [f"refused ({error.strerror})"]
        s.close()

from distributed import Client, Security

def plant():  # runs only where the intruder got in
    with open(marker, "a") as f:
        f.write(f"ran as uid {os.getuid()}\n")

def dask_client(address, security):
    try:
        client = Client(address, security=security, timeout="5s")
    except Exception as error:
        return f"refused ({type(error).__name__})"
    try:
        client.run(plant)
        client.run_on_scheduler(lambda dask_scheduler: plant())
    except Exception:
        pass
    client.close()
    return "CONNECTED"

def raw_http(host, port):
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
            reply = s.recv(64)
    except OSError as error:
        return f"refused ({error.strerror})"
    return f"ANSWERED {reply[:20]!r}" if reply else "closed without a reply"

theirs = Security.temporary()
for kind, address in listeners:
    if kind == "tcp":
        host, port = address.rsplit(":", 1)
        report[address] = [dask_client(f"tcp://{address}", None), dask_client(f"tls://{address}", theirs),
                           raw_http(host, int(port))]
print(json.dumps(report))
'''


def intrude(found: list, user: str, marker: Path) -> dict:
    """INTRUDER run as `user` against `found` listeners: {address: [outcome, ...]}."""
    argument = json.dumps([[[item.kind, item.address] for item in found], str(marker)])
    run = subprocess.run(as_user([sys.executable, "-c", INTRUDER, argument], user), capture_output=True,
                         text=True, timeout=300, cwd="/")
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])
