"""The grading engine's own channel: every Dask connection is mutual TLS, and no Dask server listens
without it. Other accounts on the grading host are hostile: a student with a shell can connect to any
local port, and a Dask scheduler that accepts them runs their code in the workers as the grader.

  local cluster   credentials made for the run (`Security.temporary()`: a key and a self-signed
                  certificate in this process's memory, handed to the worker processes through their
                  spawn pipe, never written to disk); the scheduler, the nannies and the workers
                  listen on tls://127.0.0.1 and refuse a peer without that certificate in the TLS
                  handshake, before any Dask message is read
  remote cluster  a tls:// scheduler address and the instructor's files (course_config.CLUSTER_TLS,
                  written by `python -m autograder.engine.channel DIR`); a plain tcp:// address is
                  refused, unless the instructor allows it (a private network), and then every
                  verdict's isolation line says so (`describe`)
  HTTP            Dask starts an HTTP server (health, metrics, info, a proxy) on every scheduler and
                  worker, even with no dashboard, and it is neither authenticated nor encrypted: the
                  course's servers never let it listen (SchedulerWithoutHTTP, WorkerWithoutHTTP, the
                  latter also for a hand-started `dask worker --worker-class ...`); a hand-started
                  `dask scheduler --preload autograder.engine.channel` closes it once it is up (with
                  the routes emptied by DASK_DISTRIBUTED__*__HTTP__ROUTES='[]', as the README's recipe
                  sets them, it serves nothing meanwhile)
  credentials     the TLS files read as empty inside every sandbox (`credential_files`)
"""
import logging
import os
import stat
import sys
from pathlib import Path

from distributed import Nanny, Scheduler, Security, SpecCluster, Worker
from distributed.http.routing import RoutingApplication
from distributed.worker_memory import parse_memory_limit
from tornado.httpserver import HTTPServer

import course_config
from autograder.messages import t

class ChannelRefused(RuntimeError):
    """Grading refused: the scheduler would be reached over a channel other accounts can use."""


class _WithoutHTTP:
    """A Dask server whose HTTP server is made but never listens."""

    def start_http_server(self, routes, dashboard_address, default_port=0, ssl_options=None):
        self.http_application = RoutingApplication(routes)
        self.http_server = HTTPServer(self.http_application)  # Dask stops it on close; no socket


class SchedulerWithoutHTTP(_WithoutHTTP, Scheduler):
    pass


class WorkerWithoutHTTP(_WithoutHTTP, Worker):
    pass


class NannyOfWorkerWithoutHTTP(Nanny):
    """A nanny (it has no HTTP server of its own) whose worker process is a WorkerWithoutHTTP."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, worker_class=WorkerWithoutHTTP, **kwargs)


def dask_setup(server):
    """The preload of a `dask scheduler` or `dask worker` started by hand: its HTTP server stops."""
    server.http_server.stop()
    server.services.pop("dashboard", None)


def local_cluster(workers: int, resources=None) -> SpecCluster:
    """`workers` processes of one thread each on this machine, every connection mutual TLS with
    credentials made now; `resources` (e.g. {"GPU": 1}) offered by each worker."""
    security = Security.temporary()
    common = {"host": "127.0.0.1", "protocol": "tls://", "security": security}
    memory = parse_memory_limit("auto", 1, workers, logger=logging.getLogger(__name__))  # the machine's, shared
    worker = {"cls": NannyOfWorkerWithoutHTTP,
              "options": {**common, "nthreads": 1, "resources": resources, "silence_logs": logging.ERROR,
                          "memory_limit": memory, "dashboard": False}}
    return SpecCluster(scheduler={"cls": SchedulerWithoutHTTP, "options": {**common, "dashboard": False}},
                       workers={i: worker for i in range(workers)}, security=security,
                       silence_logs=logging.ERROR, name="course-grading")


def remote_security(address: str, tls=course_config.CLUSTER_TLS) -> Security | None:
    """The credentials for the scheduler at `address` (None: plain TCP, allowed by `tls`, or a
    scheduler in this process), or ChannelRefused with what to do."""
    if address.startswith("inproc://"):  # this process's own: no socket at all
        return None
    if address.startswith("tls://"):
        for name in ("ca_file", "cert", "key"):
            _check_file(name, getattr(tls, name))
        return Security(tls_ca_file=tls.ca_file, tls_client_cert=tls.cert, tls_client_key=tls.key,
                        require_encryption=True)
    if tls.allow_plain_tcp:
        return None
    raise ChannelRefused(t(
        f"拒绝连接调度器 {address}：明文 TCP 上任何能连到该端口的账户都能以评分者身份在 worker 中运行代码、"
        "读取隐藏检查和成绩册。请用 tls:// 地址，并在 course_config.CLUSTER_TLS（或 COURSE_TLS_CA_FILE、"
        "COURSE_TLS_CERT、COURSE_TLS_KEY）中给出证书文件（python -m autograder.engine.channel DIR 可生成）；"
        "仅在专用网络上才可设 allow_plain_tcp=True（或 COURSE_ALLOW_PLAIN_TCP=1）",
        f"refusing the scheduler at {address}: over plain TCP any account that can reach its port can run "
        "code in the workers as the grader and read the hidden checks and the gradebook. Use a tls:// address "
        "with the certificate files in course_config.CLUSTER_TLS (or COURSE_TLS_CA_FILE, COURSE_TLS_CERT, "
        "COURSE_TLS_KEY; `python -m autograder.engine.channel DIR` writes a set), as in the README's "
        "multi-host recipe; only on a private network set allow_plain_tcp=True (or COURSE_ALLOW_PLAIN_TCP=1)"))


def _check_file(name: str, path: str):
    """A credential file that exists, is a regular file and, for the key, only its owner reads."""
    setting = f"course_config.CLUSTER_TLS.{name}"
    if not path:
        raise ChannelRefused(t(f"tls:// 调度器需要 {setting}（证书文件路径）",
                               f"a tls:// scheduler needs {setting} (the path of a PEM file)"))
    try:
        info = os.stat(path)
    except OSError as error:
        raise ChannelRefused(t(f"{setting} = {path}：无法读取（{error.strerror}）",
                               f"{setting} = {path}: cannot be read ({error.strerror})")) from None
    if not stat.S_ISREG(info.st_mode):
        raise ChannelRefused(t(f"{setting} = {path}：不是普通文件", f"{setting} = {path}: not a regular file"))
    if name == "key" and info.st_mode & 0o077:
        raise ChannelRefused(t(
            f"{setting} = {path}：私钥对其他账户可读（权限 {info.st_mode & 0o777:o}），任何读到它的人都能加入集群；"
            f"请 chmod 600 {path}",
            f"{setting} = {path}: the key is readable by other accounts (mode {info.st_mode & 0o777:o}), and "
            f"whoever reads it can join the cluster: chmod 600 {path}"))


def credential_files(tls=course_config.CLUSTER_TLS) -> list:
    """The TLS files this process knows of (course_config's, Dask's configuration's, this worker's
    own): the sandbox hides each, since a kernel that runs as the grader's own user could read them,
    print them into its outputs, and join the cluster with them from a shell."""
    import dask
    found = [tls.ca_file, tls.cert, tls.key]
    config = [dask.config.get("distributed.comm.tls", {})]
    while config:  # every string of the (nested) distributed.comm.tls settings
        for value in config.pop().values():
            config += [value] if isinstance(value, dict) else []
            found += [value] if isinstance(value, str) else []
    try:
        from distributed import get_worker
        security = get_worker().security
        found += [getattr(security, name, None) for name in (
            "tls_ca_file", "tls_client_cert", "tls_client_key", "tls_worker_cert", "tls_worker_key",
            "tls_scheduler_cert", "tls_scheduler_key")]
    except ValueError:  # not in a worker
        pass
    paths = {os.path.realpath(path) for path in found if path and "\n" not in path}  # not PEM text itself
    return sorted(path for path in paths if os.path.isfile(path))


def describe() -> tuple:
    """On a worker, for the isolation line: ("channel=tls" or "channel=tcp(UNENCRYPTED)", warnings);
    ("", []) outside a worker (grade_one as a command: no channel)."""
    try:
        from distributed import get_worker
        address = get_worker().address
    except ValueError:
        return "", []
    if address.startswith("tls://"):
        return "channel=tls", []
    protocol = address.split("://", 1)[0]
    return f"channel={protocol}(UNENCRYPTED)", [t(
        f"警告：评分引擎的 Dask 通道未加密（{protocol}://，course_config.CLUSTER_TLS.allow_plain_tcp）："
        "能连到它的账户可以改动成绩",
        f"WARNING: the grading engine's Dask channel was not encrypted ({protocol}://, allowed by "
        "course_config.CLUSTER_TLS.allow_plain_tcp): any account that reached it could change grades")]


def write_credentials(folder: Path) -> dict:
    """A CA certificate, a certificate and its key for every process of a cluster (one self-signed
    pair, as Dask's own temporary credentials), written into `folder` (made 0700; files 0600)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    security = Security.temporary()
    contents = {"ca.pem": security.tls_ca_file, "cert.pem": security.tls_client_cert,
                "key.pem": security.tls_client_key}
    for name, text in contents.items():
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(text)
    return {name: folder / name for name in contents}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m autograder.engine.channel DIR  (writes DIR/ca.pem, cert.pem, key.pem)")
    for path in write_credentials(Path(sys.argv[1])).values():
        print(path)
