"""The README's multi-host recipe on one machine: `dask scheduler` and `dask worker`s on 127.0.0.1 as
separate processes, over TLS with credentials from `python -m autograder.engine.channel` (or plain
TCP, to prove that the course refuses it)."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from autograder.engine.channel import write_credentials


class Cluster:
    """cluster = Cluster(course, workers); cluster.address, cluster.client, cluster.tls (the files,
    or None over plain TCP); cluster.close()"""

    def __init__(self, course: Path, workers: int, tls=True):
        self.file = course.parent / "scheduler.json"
        self.file.unlink(missing_ok=True)
        env = {**os.environ, "PYTHONPATH": str(course),  # the workers grade with this course's code
               "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES": "[]", "DASK_DISTRIBUTED__WORKER__HTTP__ROUTES": "[]"}
        dask = str(Path(sys.executable).parent / "dask")
        self.tls = write_credentials(course.parent / "tls") if tls else None
        flags = ["--tls-ca-file", str(self.tls["ca.pem"]), "--tls-cert", str(self.tls["cert.pem"]),
                 "--tls-key", str(self.tls["key.pem"])] if tls else []
        self.scheduler = subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--protocol", "tls" if tls else "tcp",
             *flags, "--no-dashboard", "--preload", "autograder.engine.channel", "--scheduler-file", str(self.file)],
            cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.address = json.loads(self.file.read_text())["address"]
        self.workers = [subprocess.Popen([dask, "worker", self.address, "--host", "127.0.0.1", "--nthreads", "1",
                                          "--no-nanny", *flags,
                                          "--worker-class", "autograder.engine.channel.WorkerWithoutHTTP",
                                          "--no-dashboard", "--name", f"w{i}"], cwd=course, env=env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                        for i in range(workers)]
        from distributed import Client, Security
        security = Security(tls_ca_file=str(self.tls["ca.pem"]), tls_client_cert=str(self.tls["cert.pem"]),
                            tls_client_key=str(self.tls["key.pem"]), require_encryption=True) if tls else None
        self.client = Client(self.address, timeout="60s", security=security)
        if workers:
            self.client.wait_for_workers(workers, timeout=120)

    def env(self) -> dict:
        """The environment of a grading command that uses this cluster (course_config's variables)."""
        if not self.tls:
            return {"COURSE_SCHEDULER": self.address}
        return {"COURSE_SCHEDULER": self.address, "COURSE_TLS_CA_FILE": str(self.tls["ca.pem"]),
                "COURSE_TLS_CERT": str(self.tls["cert.pem"]), "COURSE_TLS_KEY": str(self.tls["key.pem"])}

    def address_of(self, proc) -> str:
        """Where `proc` (the scheduler or a worker) listens: "127.0.0.1:PORT"."""
        if proc is self.scheduler:
            return self.address.split("://")[1]
        pids = self.client.run(os.getpid)
        return next(address for address, pid in pids.items() if pid == proc.pid).split("://")[1]

    def busy_worker(self, timeout=300):
        """The pid of a worker while it is grading a submission."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for address, keys in self.client.processing().items():
                if keys:
                    return self.client.run(os.getpid, workers=[address])[address]
            time.sleep(0.2)
        raise TimeoutError("no worker picked up a task")

    def close(self):
        self.client.close()
        for proc in [*self.workers, self.scheduler]:
            proc.kill()
            proc.wait()
