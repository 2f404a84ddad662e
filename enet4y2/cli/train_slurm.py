"""`enet4y2 train --slurm ...`: the Slurm options of `train`, and what they print (the
submitted jobs, the job script for --dry-run, the job chain for --slurm-status). The
work is done by `enet4y2.slurm`."""

from __future__ import annotations

import shlex
from collections.abc import Callable

import click

from enet4y2.cli.terminal import terminal

#: The options that only make sense with --slurm (the job itself gets some of them too).
SUBMIT_ONLY = ("partition", "account", "time_limit", "cpus_per_task", "mem", "sbatch_arg",
               "dry_run")


def slurm_options(command: Callable) -> Callable:
    """The `--slurm ...` options, applied to `train`."""
    options = [
        click.option("--slurm", is_flag=True, help="Submit the training to Slurm: pre-flight "
                     "here, a job script in backup/, sbatch; the job requeues itself at its "
                     "time limit and resumes until max_batches."),
        click.option("--partition", default=None, help="[--slurm] Slurm partition."),
        click.option("--account", default=None, help="[--slurm] Slurm account."),
        click.option("--time", "time_limit", default=None,
                     help="[--slurm] Time limit of each job, e.g. 24:00:00 or 2-00:00:00."),
        click.option("--cpus-per-task", type=click.IntRange(min=1), default=None,
                     help="[--slurm] CPUs per job (darknet's data loading uses them)."),
        click.option("--mem", default=None, help="[--slurm] Memory per node, e.g. 32G."),
        click.option("--sbatch-arg", multiple=True,
                     help="[--slurm] Another sbatch option, e.g. --sbatch-arg=--qos=long "
                          "(repeatable)."),
        click.option("--signal-margin", type=click.IntRange(min=1), default=300,
                     show_default=True, help="[--slurm] Seconds before the time limit when "
                     "Slurm sends USR1: the job saves, stops and requeues."),
        click.option("--chain", type=click.IntRange(min=0), default=0,
                     help="[--slurm] Submit N dependent jobs (afterany) instead of "
                          "requeueing, for clusters that forbid requeue."),
        click.option("--dry-run", is_flag=True, help="[--slurm] Print the job script; "
                     "submit nothing."),
        click.option("--slurm-status", is_flag=True, help="Show the Slurm job chain of the "
                     "backup folder: job ids, states, requeues, iterations per job."),
        click.option("--slurm-job", default=None, hidden=True,
                     help="Internal: run as job of this run id inside Slurm."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def slurm_train(opts, reporter, *, slurm: bool, partition, account, time_limit,
                cpus_per_task, mem, sbatch_arg, signal_margin: int, chain: int,
                dry_run: bool, slurm_status: bool, slurm_job: str | None) -> int | None:
    """Dispatch to submit, status or the in-job run; returns the exit status, or None
    when no Slurm option was given (train here)."""
    given = {"partition": partition, "account": account, "time_limit": time_limit,
             "cpus_per_task": cpus_per_task, "mem": mem, "sbatch_arg": sbatch_arg,
             "dry_run": dry_run}
    stray = [f"--{k.replace('_limit', '').replace('_', '-')}" for k in SUBMIT_ONLY
             if given[k]]
    if slurm_job is not None:
        from enet4y2.slurm.job import run_in_job

        return run_in_job(opts, slurm_job, reporter, margin=signal_margin,
                          requeue=not chain, summarise=reporter.summary)
    if slurm_status:
        if slurm or stray:
            raise click.UsageError("--slurm-status only reads the job chain: drop the "
                                   "--slurm options")
        return _status(opts)
    if not slurm:
        if stray or chain or signal_margin != 300:
            raise click.UsageError(f"{(stray or ['--chain/--signal-margin'])[0]} needs "
                                   "--slurm")
        return None
    from enet4y2.slurm.submit import SlurmOptions, submit

    options = SlurmOptions(partition=partition, account=account, time=time_limit,
                           cpus_per_task=cpus_per_task, mem=mem,
                           sbatch_args=tuple(sbatch_arg), signal_margin=signal_margin,
                           chain=chain, dry_run=dry_run)
    done = submit(opts, options, reporter)
    if dry_run:
        terminal.write(done.text)
        return 0
    jobs = ", ".join(done.jobs)
    kind = f"{len(done.jobs)} chained jobs" if len(done.jobs) > 1 else "job"
    terminal.line(f"submitted {kind} {jobs} (run {done.run_id})")
    terminal.line(f"job script: {done.script}")
    terminal.line(f"job output: {done.output}")
    terminal.line(f"darknet log: {done.log}")
    terminal.line(f"watch: {shlex.join(['enet4y2', 'watch', str(done.log)])}")
    status = ["enet4y2", "train", "--data", opts.data, "--cfg", opts.cfg, "--slurm-status"]
    terminal.line(f"status: {shlex.join(status)}")
    return 0


def _status(opts) -> int:
    from pathlib import Path

    from enet4y2.slurm.state import state_path
    from enet4y2.slurm.status import job_chain
    from enet4y2.train.preflight import check_data

    backup = check_data(opts.data, None, Path.cwd()).backup
    chain, rows = job_chain(backup)
    if chain.run is None:
        terminal.line(f"no Slurm run recorded in {state_path(backup)}")
        return 1
    terminal.line(f"run {chain.run} ({state_path(backup)})")
    for row in rows:
        spans = ", ".join(f"{'start' if a.from_iteration is None else a.from_iteration}"
                          f"→{'…' if a.iteration is None else a.iteration}"
                          for a in row.attempts) or "not started"
        ended = ", ".join(row.endings) or "-"
        state = row.state + (f" ({row.reason})" if row.reason else "")
        terminal.line(f"job {row.job}: {state}, {row.restarts} requeues, iterations "
                      f"{spans}; ended: {ended}")
    outcome = chain.outcome
    terminal.line(f"run: {outcome}" if outcome else "run: in progress")
    return 0
