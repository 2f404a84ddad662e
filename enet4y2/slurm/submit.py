"""Submitting a training to Slurm: the usual pre-flight here, the job script written into
the backup folder, `sbatch --parsable` (one job that requeues itself, or `--chain N`
dependent jobs), and the run recorded in the state file."""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2 import proc
from enet4y2.errors import MissingFileError, SlurmError, UsageError
from enet4y2.fileio import atomic_write
from enet4y2.slurm import state as runstate
from enet4y2.slurm.script import (
    DEFAULT_MARGIN,
    OUTPUT_NAME,
    SCRIPT_NAME,
    JobSpec,
    check_spec,
    gpu_count,
    parse_job_id,
    render_script,
    sbatch_argv,
)
from enet4y2.train.session import Reporter, TrainOptions, check_only, train_argv
from enet4y2.weights.format import cfg_stem

#: Folders that are usually private to one machine: a job elsewhere would not see them.
NODE_LOCAL = ("/tmp", "/var/tmp", "/dev/shm", "/run", "/scratch/local")
_LOCAL_FS = {"tmpfs", "ramfs", "overlay"}


@dataclass(frozen=True)
class SlurmOptions:
    partition: str | None = None
    account: str | None = None
    time: str | None = None
    cpus_per_task: int | None = None
    mem: str | None = None
    sbatch_args: tuple[str, ...] = ()
    signal_margin: int = DEFAULT_MARGIN
    chain: int = 0  # N > 0: N dependent jobs (afterany), no requeue
    dry_run: bool = False


@dataclass
class Submitted:
    text: str  # the job script
    script: Path | None  # where it was written (None for --dry-run)
    jobs: list[str] = field(default_factory=list)
    log: Path | None = None
    output: Path | None = None
    run_id: str = ""


def job_args(opts: TrainOptions, slurm: SlurmOptions) -> list[str]:
    """The `enet4y2 train` options each job runs with (pure)."""
    args = train_argv(opts)
    extra: list[str] = []
    if "--" in args:
        at = args.index("--")
        args, extra = args[:at], args[at:]
    if opts.resume:
        args.append("--resume")
    if opts.on_nan != "stop":
        args += ["--on-nan", opts.on_nan]
    args += ["--signal-margin", str(slurm.signal_margin)]
    if slurm.chain:
        args += ["--chain", str(slurm.chain)]
    return [*args, *extra]


def node_local(path: Path, mounts: str | None = None) -> str | None:
    """Why `path` is probably private to this machine, or None (pure given /proc/mounts)."""
    resolved = str(path.resolve())
    for root in NODE_LOCAL:
        if resolved == root or resolved.startswith(root + "/"):
            return f"it is under {root}"
    best = ("", "")
    for line in (mounts or "").splitlines():
        parts = line.split()
        if len(parts) >= 3 and (resolved == parts[1] or resolved.startswith(
                parts[1].rstrip("/") + "/")) and len(parts[1]) > len(best[0]):
            best = (parts[1], parts[2])
    if best[1] in _LOCAL_FS and best[0] != "/":
        return f"it is on a {best[1]} filesystem ({best[0]})"
    return None


def _mounts() -> str | None:
    try:
        return Path("/proc/mounts").read_text()
    except OSError:
        return None


def check_partition(partition: str) -> None:
    """SlurmError when the cluster has no such partition."""
    done = proc.run(["scontrol", "show", "partition", partition], timeout=30)
    if done.ok:
        return
    if "not found" in (done.err + done.out).lower():
        raise SlurmError(f"--partition {partition}: no such partition on this cluster — "
                         "`sinfo -s` lists them")
    raise SlurmError(f"cannot ask Slurm about partition {partition}: {done.reason()}")


def submit(opts: TrainOptions, slurm: SlurmOptions, reporter: Reporter | None = None,
           cwd: Path | None = None, python: str | None = None) -> Submitted:
    """Pre-flight, write the job script, submit it (or only render it: dry_run)."""
    rep = reporter or Reporter()
    cwd = cwd or Path.cwd()
    if slurm.chain < 0:
        raise UsageError("--chain N: give the number of jobs (1 or more)")
    if not slurm.dry_run and shutil.which("sbatch") is None:
        raise MissingFileError("sbatch not found on PATH — run this on a Slurm login node "
                               "(or `module load slurm`), or use --dry-run for the script")
    if slurm.partition and not slurm.dry_run:
        check_partition(slurm.partition)
    check = check_only(opts, rep, cwd)
    backup = check.backup.resolve()
    why = node_local(backup, _mounts())
    if why:
        rep.warn(f"backup folder {backup}: {why}, which a job on another node may not see — "
                 "point the .data's backup= at a shared filesystem")
    run_id = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    spec = JobSpec(tuple(job_args(opts, slurm)), python or sys.executable, cwd.resolve(),
                   backup, run_id, name=f"enet4y2-{cfg_stem(opts.cfg)}",
                   partition=slurm.partition, account=slurm.account, time=slurm.time,
                   gpus=gpu_count(opts.gpus), cpus_per_task=slurm.cpus_per_task,
                   mem=slurm.mem, signal_margin=slurm.signal_margin,
                   requeue=not slurm.chain, sbatch_args=slurm.sbatch_args)
    check_spec(spec)
    text = render_script(spec)
    log = Path(opts.log) if opts.log else backup / "train.log"
    out = Submitted(text, None, log=log, output=backup / OUTPUT_NAME, run_id=run_id)
    if slurm.dry_run:
        return out
    out.script = atomic_write(backup / SCRIPT_NAME, text)
    out.script.chmod(0o755)
    runstate.append_event(backup, {"event": "submit", "run": run_id,
                                   "script": str(out.script)})
    previous = None
    for index in range(max(slurm.chain, 1)):
        done = proc.run(sbatch_argv(out.script, previous), cwd=cwd, timeout=120)
        job = parse_job_id(done.out) if done.ok else None
        if job is None:
            earlier = f" (jobs {', '.join(out.jobs)} were submitted)" if out.jobs else ""
            raise SlurmError(f"sbatch refused the job: {done.reason()}{earlier} — "
                             f"the script is {out.script}")
        out.jobs.append(job)
        runstate.append_event(backup, {"event": "submitted", "run": run_id, "job": job,
                                       "index": index})
        previous = job
    return out

