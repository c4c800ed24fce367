"""A Slurm on this machine, for the tests and `make bench`: munged, slurmctld and slurmd started as
plain processes (no systemd) in a fresh folder, on free ports, and stopped by their pids.

    slurm = LocalSlurm.start()       # the node is idle when this returns
    env = slurm.env                  # SLURM_CONF for sbatch, squeue, scancel (and dask-jobqueue)
    slurm.stop()

The configuration is the smallest that runs jobs here (see `CONF`): munge authentication with a key
made now, process tracking by parent pid (proctrack/linuxproc: the container's cgroups are not
delegated to Slurm), no task plugin, no accounting, and one GPU for Slurm to count (bound to
/dev/null: a GPU assignment's jobs get their --gres=gpu:1, their kernels no CUDA). Debian's
`slurm-wlm` and `munge` packages (`make slurm` installs them as root).
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "sinfo")

CONF = """ClusterName=course
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={dir}/munge.sock
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=2
MinJobAge=60
GresTypes=gpu
SchedulerParameters=sched_interval=1
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} Gres=gpu:1 State=UNKNOWN
PartitionName=grading Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""

# A GPU for Slurm to count and hand out (--gres=gpu:1), bound to no device: the jobs' workers
# offer it to Dask; a kernel finds no CUDA and the checks run on CPU (and say so).
GRES = "AutoDetect=off\nName=gpu File=/dev/null\n"


def binary(name: str) -> str:
    """The program's path ("" when missing): /usr/sbin may be off an ordinary user's PATH."""
    return shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else "")


def missing() -> list:
    """The programs of a local Slurm that are not installed."""
    return [name for name in (*DAEMONS, *CLIENTS, "munge") if not binary(name)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    with open("/proc/meminfo") as f:
        total_kb = int(next(line for line in f if line.startswith("MemTotal:")).split()[1])
    return total_kb // 1024 - 512  # Slurm refuses a node that reports less than it declares


class SlurmNotStarted(RuntimeError):
    """A daemon of the local Slurm exited or the node never became idle (with the logs' tails)."""


class LocalSlurm:
    def __init__(self, folder: Path, cpus: int):
        self.dir, self.procs = folder, {}  # daemon name -> Popen
        self.conf = folder / "slurm.conf"
        self.node = socket.gethostname().split(".")[0]
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.cpus = cpus

    @classmethod
    def start(cls, cpus: int = 0, timeout: float = 60) -> "LocalSlurm":
        """A fresh Slurm of one node (`cpus`: what it declares, default this machine's), idle."""
        if missing():
            raise SlurmNotStarted(f"not installed: {', '.join(missing())} (`make slurm`: slurm-wlm and munge)")
        # a short path: munge's and Slurm's socket paths must fit in 107 bytes
        slurm = cls(Path(tempfile.mkdtemp(prefix="course-slurm-", dir="/tmp")), cpus or os.cpu_count() or 1)
        try:
            slurm._start(timeout)
        except BaseException:
            slurm.stop()
            raise
        return slurm

    def _start(self, timeout: float):
        folder = self.dir
        folder.chmod(0o755)  # munged refuses a socket folder that others may write
        for sub in ("state", "spool"):
            (folder / sub).mkdir(mode=0o700)
        key = folder / "munge.key"
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(1024))
        (folder / "gres.conf").write_text(GRES)
        self.conf.write_text(CONF.format(node=self.node, dir=folder, ctld_port=_free_port(), d_port=_free_port(),
                                         cpus=self.cpus, memory_mb=_memory_mb()))
        self._spawn("munged", "-F", f"--socket={folder}/munge.sock", f"--key-file={key}",
                    f"--pid-file={folder}/munged.pid", f"--seed-file={folder}/munged.seed",
                    f"--log-file={folder}/munged.log")
        self._wait(lambda: (folder / "munge.sock").exists(), "munged's socket", timeout)
        self._spawn("slurmctld", "-D", "-f", str(self.conf))  # -D: in the foreground, our child
        self._spawn("slurmd", "-D", "-f", str(self.conf), "-N", self.node)
        self._wait(lambda: self.run("sinfo", "-h", "-o", "%T", check=False).stdout.strip() == "idle",
                   "an idle node", timeout)

    def _spawn(self, name: str, *args):
        with open(self.dir / f"{name}.out", "w") as log:
            self.procs[name] = subprocess.Popen([binary(name), *args], env=self.env, stdin=subprocess.DEVNULL,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _wait(self, ready, what: str, timeout: float):
        deadline = time.monotonic() + timeout
        while not ready():
            exited = [name for name, proc in self.procs.items() if proc.poll() is not None]
            if exited or time.monotonic() > deadline:
                raise SlurmNotStarted(f"local Slurm: no {what} within {timeout:.0f} s (exited: {exited})\n"
                                      + self.logs())
            time.sleep(0.2)

    def logs(self, tail: int = 1500) -> str:
        """The tails of the daemons' logs."""
        found = sorted(self.dir.glob("*.log")) + sorted(self.dir.glob("*.out"))
        return "".join(f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}\n" for path in found)

    def run(self, *argv, check=True) -> subprocess.CompletedProcess:
        """A Slurm client command (squeue, scancel, ...) against this Slurm."""
        return subprocess.run([binary(argv[0]), *argv[1:]], env=self.env, capture_output=True, text=True,
                              check=check, timeout=60)

    def jobs(self) -> list:
        """[(job id, state, name)] of every job this Slurm still lists (pending, running, completing)."""
        out = self.run("squeue", "-h", "-o", "%i %T %j").stdout
        return [tuple(line.split(None, 2)) for line in out.splitlines()]

    def stop(self):
        """Stop the daemons (slurmd, slurmctld, munged) by pid; their folder goes with them."""
        if self.procs.get("slurmctld") and self.procs["slurmctld"].poll() is None:
            self.run("scancel", "--full", "--user", str(os.getuid()), check=False)
            deadline = time.monotonic() + 15  # a job's slurmstepd outlives a slurmd stopped under it
            while self.run("squeue", "-h", check=False).stdout.strip() and time.monotonic() < deadline:
                time.sleep(0.2)
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = {}
        shutil.rmtree(self.dir, ignore_errors=True)
