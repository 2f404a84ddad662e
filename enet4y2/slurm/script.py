"""The job script, pure: options in, the text of a readable, rerunnable batch script out,
plus the small parsers around `sbatch` (time limits, its `--parsable` answer)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from enet4y2.errors import UsageError

#: Seconds before the time limit Slurm sends USR1 by default: time to stop darknet,
#: wait for its next save when it is near, and requeue.
DEFAULT_MARGIN = 300
SCRIPT_NAME = "slurm-job.sh"
OUTPUT_NAME = "slurm.out"
_TIME = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


@dataclass(frozen=True)
class JobSpec:
    """What the batch script asks Slurm for and what it runs."""

    train_args: tuple[str, ...]  # `enet4y2 train` options the job runs with
    python: str  # the interpreter that has enet4y2 (seen from the node)
    cwd: Path  # the job runs here, so relative paths mean what they meant
    backup: Path  # the .data's backup folder: script, output and state go there
    run_id: str
    name: str = "enet4y2"
    partition: str | None = None
    account: str | None = None
    time: str | None = None
    gpus: int = 0
    cpus_per_task: int | None = None
    mem: str | None = None
    signal_margin: int = DEFAULT_MARGIN
    requeue: bool = True  # False for --chain: each job ends, the next one goes on
    sbatch_args: tuple[str, ...] = ()


def time_seconds(text: str) -> int:
    """A Slurm time limit in seconds: `minutes`, `M:S`, `H:M:S`, `D-H`, `D-H:M`,
    `D-H:M:S` (sbatch's forms); UsageError otherwise."""
    match = _TIME.match(text.strip())
    if not match or text.strip() in ("", "0"):
        raise UsageError(f"--time {text!r}: use minutes, HH:MM:SS or D-HH:MM:SS "
                         "(e.g. 24:00:00, 2-00:00:00)")
    days, a, b, c = match.groups()
    if days is not None:  # D-H, D-H:M, D-H:M:S
        hours, minutes, seconds = int(a), int(b or 0), int(c or 0)
        return ((int(days) * 24 + hours) * 60 + minutes) * 60 + seconds
    if c is not None:
        return (int(a) * 60 + int(b)) * 60 + int(c)
    if b is not None:
        return int(a) * 60 + int(b)
    return int(a) * 60


def check_spec(spec: JobSpec) -> None:
    """Combinations that cannot work, as a UsageError."""
    if spec.signal_margin < 10:
        raise UsageError(f"--signal-margin {spec.signal_margin}: give darknet at least 10 s "
                         "to stop and the job time to requeue")
    if spec.time is not None and time_seconds(spec.time) <= spec.signal_margin:
        raise UsageError(f"--time {spec.time} is not longer than --signal-margin "
                         f"{spec.signal_margin} s: the job would stop before it trains")
    if spec.gpus < 0:
        raise UsageError("--gpus: a job needs zero or more GPUs")


def sbatch_lines(spec: JobSpec) -> list[str]:
    """The `#SBATCH` options, one per line."""
    opts = [f"--job-name={spec.name}", f"--chdir={spec.cwd}",
            f"--output={spec.backup / OUTPUT_NAME}", "--open-mode=append",
            f"--signal=B:USR1@{spec.signal_margin}",
            "--requeue" if spec.requeue else "--no-requeue"]
    for flag, value in (("--partition", spec.partition), ("--account", spec.account),
                        ("--time", spec.time), ("--cpus-per-task", spec.cpus_per_task),
                        ("--mem", spec.mem)):
        if value is not None:
            opts.append(f"{flag}={value}")
    if spec.gpus:
        opts.append(f"--gres=gpu:{spec.gpus}")
    return [f"#SBATCH {shlex.quote(o) if ' ' in o else o}"
            for o in (*opts, *spec.sbatch_args)]


def render_script(spec: JobSpec, when: datetime | None = None) -> str:
    """The batch script: readable, and rerunnable with `sbatch <file>` (a rerun goes on
    from the newest weights the run saved)."""
    check_spec(spec)
    when = when or datetime.now(timezone.utc)
    command = [spec.python, "-m", "enet4y2", "train", *spec.train_args,
               "--slurm-job", spec.run_id, "--quiet"]
    chain = ("requeues itself (scontrol requeue);\n# the requeued job resumes, until "
             "darknet reaches max_batches." if spec.requeue else
             "ends;\n# the next job of the --chain resumes, until darknet reaches max_batches.")
    return "\n".join([
        "#!/bin/bash",
        f"# enet4y2 training on Slurm, written by `enet4y2 train --slurm` "
        f"{when.strftime('%Y-%m-%dT%H:%M:%SZ')}.",
        f"# Slurm sends USR1 {spec.signal_margin} s before the time limit: the job stops "
        "darknet after",
        f"# its next save when that is near (else at once), then {chain}",
        "# Submit again by hand: sbatch <this file> (it resumes from the newest weights;",
        "# a run that finished or failed stays so: then use enet4y2 train --slurm --resume).",
        "# Stop for good: scancel <job id>.",
        *sbatch_lines(spec),
        "",
        "# A USR1 before the supervisor is up must not kill it (it keeps its own timer too)",
        "trap '' USR1",
        "# exec: the Python supervisor becomes the batch shell and gets Slurm's signals itself",
        "exec " + shlex.join(command),
        "",
    ])


def sbatch_argv(script: Path, dependency: str | None = None) -> list[str]:
    """`sbatch --parsable [--dependency=afterany:<id>] <script>`."""
    argv = ["sbatch", "--parsable"]
    if dependency:
        argv.append(f"--dependency=afterany:{dependency}")
    return [*argv, str(script)]


def parse_job_id(text: str) -> str | None:
    """The job id from `sbatch --parsable` (`123` or `123;cluster`), None if absent."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    job = first.split(";")[0].strip()
    return job if job.isdigit() else None


def gpu_count(gpus: str | None) -> int:
    """How many GPUs darknet's `--gpus 0,1` asks for (the job requests as many)."""
    return len([g for g in (gpus or "").split(",") if g.strip()])
