"""A real single-node Slurm on loopback for the tests: munged, slurmctld and slurmd
started from Debian's `slurm-wlm` and `munge` with a minimal slurm.conf in a temp folder,
stopped afterwards. Clients find it through `SLURM_CONF` (see `Cluster.env`)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "sinfo", "scancel")
PARTITION = "debug"
#: A partition whose jobs preempt (requeue) the debug partition's: real preemption.
URGENT = "urgent"


def missing_binaries() -> list[str]:
    """The Slurm/munge programs not found on PATH (or in /usr/sbin)."""
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
    return [b for b in (*DAEMONS, *CLIENTS) if shutil.which(b, path=path) is None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slurm_conf(root: Path, cpus: int, ctl_port: int, d_port: int, munge_socket: Path) -> str:
    """The minimal slurm.conf: one node `localhost`, the default partition, requeue
    allowed, and a higher tier partition whose jobs preempt (requeue) the default's."""
    return "\n".join([
        "ClusterName=enet4y2test",
        "SlurmctldHost=localhost(127.0.0.1)",
        f"SlurmctldPort={ctl_port}",
        f"SlurmdPort={d_port}",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        # cred_expire also sets how long a requeued job waits before it may start again
        # (default 120 s): short here so the tests do not wait.
        f"AuthInfo=socket={munge_socket},cred_expire=10",
        f"StateSaveLocation={root / 'state'}",
        f"SlurmdSpoolDir={root / 'spool'}",
        f"SlurmctldPidFile={root / 'slurmctld.pid'}",
        f"SlurmdPidFile={root / 'slurmd.pid'}",
        f"SlurmctldLogFile={root / 'slurmctld.log'}",
        f"SlurmdLogFile={root / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "SchedulerType=sched/backfill",
        "SchedulerParameters=sched_interval=5,bf_interval=5",  # requeued jobs start soon
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "JobRequeue=1",
        # jobs of the higher tier partition requeue running debug jobs (their SIGTERM,
        # KillWait, requeue): what a preempting cluster does to a training
        "PreemptType=preempt/partition_prio",
        "PreemptMode=REQUEUE",
        "ReturnToService=2",
        "MpiDefault=none",
        "SlurmctldTimeout=30",
        "SlurmdTimeout=30",
        "InactiveLimit=0",
        "KillWait=10",
        "MinJobAge=600",
        "SlurmctldDebug=info",
        "SlurmdDebug=info",
        f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN",
        f"PartitionName={PARTITION} Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
        f"PartitionName={URGENT} Nodes=localhost MaxTime=INFINITE State=UP PriorityTier=10 "
        "PreemptMode=OFF",
        "",
    ])


@dataclass
class Cluster:
    root: Path
    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """The environment clients (sbatch, squeue, ...) need to find this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def start(self, timeout: float = 60) -> None:
        for sub in ("state", "spool", "munge"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "munge", 0o700)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        os.chmod(key, 0o400)
        sock = self.root / "munge" / "munge.socket"
        self.conf.write_text(slurm_conf(self.root, self.cpus, _free_port(), _free_port(), sock))
        self._spawn(["munged", "--foreground", "--force", f"--socket={sock}",
                     f"--key-file={key}", f"--pid-file={self.root / 'munge' / 'munged.pid'}",
                     f"--log-file={self.root / 'munge' / 'munged.log'}",
                     f"--seed-file={self.root / 'munge' / 'munged.seed'}"], "munged.out")
        self._wait(lambda: sock.exists(), timeout, "munged did not create its socket")
        self._spawn(["slurmctld", "-D", "-i", "-f", str(self.conf)], "slurmctld.out")
        self._spawn(["slurmd", "-D", "-N", "localhost", "-f", str(self.conf)], "slurmd.out")
        self._wait(self._node_idle, timeout, "the node did not become idle")

    def stop(self) -> None:
        """Cancel every job, then stop the daemons (slurmd first) and wait for them."""
        subprocess.run(["scancel", "--full", "--user=root"], env=self.env,
                       capture_output=True, timeout=30, check=False)
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()

    def logs(self) -> str:
        """The daemons' logs, for a failure message."""
        out = []
        for name in ("slurmctld.log", "slurmd.log", "slurmctld.out", "slurmd.out"):
            path = self.root / name
            if path.is_file():
                out.append(f"--- {name}\n" + "\n".join(path.read_text().splitlines()[-40:]))
        return "\n".join(out)

    def query(self, *argv: str) -> str:
        done = subprocess.run(list(argv), env=self.env, capture_output=True, text=True,
                              timeout=30, check=False)
        return done.stdout

    def _spawn(self, argv: list[str], out: str) -> None:
        path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"
        exe = shutil.which(argv[0], path=path)
        assert exe is not None, argv[0]
        with open(self.root / out, "wb") as fh:
            self.procs.append(subprocess.Popen([exe, *argv[1:]], stdout=fh,
                                               stderr=subprocess.STDOUT, env=self.env,
                                               stdin=subprocess.DEVNULL))

    def _node_idle(self) -> bool:
        for proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}\n"
                                   + self.logs())
        state = self.query("sinfo", "--noheader", "--format=%T", "--nodes=localhost")
        return state.strip() == "idle"

    def _wait(self, ready, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"{what} within {timeout:g} s\n" + self.logs())
