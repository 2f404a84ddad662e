"""`--executor/--workers/--address/--gpus-per-worker`: `detect` and `eval --pycoco` cut
into shards on a local process pool or Ray actors (`enet4y2.executors`), with progress."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from enet4y2.cli.terminal import terminal

F = TypeVar("F", bound=Callable[..., Any])
EXECUTORS = ("local", "ray")  # tests check it matches enet4y2.executors.EXECUTORS


def executor_options(f: F) -> F:
    """The options that choose where inference runs."""
    for decorator in reversed((
        click.option("--executor", type=click.Choice(EXECUTORS), default="local",
                     show_default=True,
                     help="local: this process (or a process pool with --workers); ray: "
                          "Ray actors (extra 'ray'). Sharded runs keep their state in the "
                          "run folder and resume when run again."),
        click.option("--workers", type=click.IntRange(1), default=None,
                     help="Worker processes (each opens the model once). Default: 1 for "
                          "ray; with local, giving it runs a process pool."),
        click.option("--address", default=None, metavar="ADDR",
                     help="ray: the cluster to join (auto, HOST:PORT, ray://HOST:10001); "
                          "default: a cluster started for this run."),
        click.option("--gpus-per-worker", type=click.FloatRange(0), default=0.0,
                     help="ray: GPUs each actor reserves (0.5: two actors per GPU)."),
        click.option("--cpus-per-worker", type=click.IntRange(1), default=1,
                     help="ray: CPUs (and OpenMP threads) each actor reserves."),
        click.option("--shard-size", type=click.IntRange(1), default=64, show_default=True,
                     help="Images per shard (the unit of resuming)."),
    )):
        f = decorator(f)
    return f


EXECUTOR_KEYS = ("executor", "workers", "address", "gpus_per_worker", "cpus_per_worker",
                 "shard_size")


def sharded(opts: dict) -> bool:
    """Whether the options ask for a sharded run (ray, or local with --workers)."""
    if opts["executor"] == "local" and opts["workers"] is None:
        for key, flag in (("address", "--address"), ("gpus_per_worker", "--gpus-per-worker"),
                          ("cpus_per_worker", "--cpus-per-worker")):
            if opts[key] and (key != "cpus_per_worker" or opts[key] != 1):
                raise click.UsageError(f"{flag} is for --executor ray")
        if opts["shard_size"] != 64:
            raise click.UsageError("--shard-size is for a sharded run (--executor ray or "
                                   "--workers N)")
        return False
    return True


def _describe(p) -> str:
    per = " ".join(f"{name.rsplit(':', 1)[-1]}:{rate:.1f}" for name, rate in p.workers.items())
    return (f"shards {p.shards_done}/{p.shards_total} · {p.rate:.1f} img/s"
            + (f" · per worker {per}" if per else ""))


def run(job, items: list, out: Path, opts: dict,
        on_images: Callable[[int, int], None] | None = None):
    """Run `job` sharded; progress on stderr (or through `on_images(done, total)`)."""
    from enet4y2.errors import UsageError
    from enet4y2.executors import engine_for, execute

    try:
        engine = engine_for(job, opts["executor"], opts["workers"] or 1,
                            address=opts["address"], gpus_per_worker=opts["gpus_per_worker"],
                            cpus_per_worker=opts["cpus_per_worker"])
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    if opts["executor"] == "ray":
        from enet4y2.executors.engines import import_ray

        import_ray()  # a missing extra is said before any work
    show = on_images is None and terminal.err.is_terminal
    progress = terminal.progress(transient=True) if show else None
    task = progress.add_task("starting workers", total=len(items)) if progress else None

    def on_progress(p) -> None:
        if on_images:
            on_images(p.images_done, p.images_total)
        if progress:
            progress.update(task, completed=p.images_done, description=_describe(p))

    if progress:
        progress.start()
    try:
        report = execute(job, items, out, engine, shard_size=opts["shard_size"],
                         on_progress=on_progress)
    finally:
        if progress:
            progress.stop()
    resumed = f", {report.resumed} resumed" if report.resumed else ""
    rates = ", ".join(f"{rate:.1f}" for rate in report.workers.values())
    terminal.info(f"{len(items)} images in {report.shards} shards{resumed}"
                  + (f"; images/s per worker: {rates}" if rates else ""))
    return report


def errors_in(lines: list[str]) -> list[str]:
    """'path: reason' for every image recorded as failed."""
    out = []
    for text in lines:
        if '"error":' in text:
            record = json.loads(text)
            if "error" in record:
                out.append(f"{record['image']}: {record['error']}")
    return out


def eval_inference(options: dict, opts: dict):
    """`run_eval`'s `sharded`: the model over the list's images on workers, the run folder
    OUT/run; images that could not be read are warned about (they score as empty)."""
    from enet4y2.executors import Job, ModelSpec

    if not options.get("pycoco") or options.get("results"):
        raise click.UsageError("a sharded eval (--executor ray or --workers) runs the model "
                               "for --pycoco")
    if options.get("out") is None:
        raise click.UsageError("a sharded eval needs --out DIR: its run folder is DIR/run")
    model = options.get("model")
    spec = ModelSpec(*(None if p is None else str(p)
                       for p in (options.get("cfg"), options.get("weights"), model)),
                     backend=options.get("engine") or ("darknet" if model is None
                                                       else "onnxruntime"),
                     device=options.get("device"), batch=options.get("batch") or 1)

    def infer(setup, progress) -> tuple[list[dict], list[str]]:
        job = Job("eval", spec, {"thresh": options["thresh"],
                                 "letterbox": bool(options["letterbox"]),
                                 "category_ids": [int(c["id"])
                                                  for c in setup.gt["categories"]]})
        items = [[str(p), int(i)] for p, i in zip(setup.image_paths, setup.image_ids,
                                                  strict=True)]
        report = run(job, items, Path(options["out"]) / "run", opts, on_images=progress)
        results: list[dict] = []
        for text in report.lines:
            record = json.loads(text)
            results.extend(record.get("results", ()))
        failed = errors_in(report.lines)
        warnings = [f"{len(failed)} images could not be read and were scored as images "
                    f"without detections; first: {failed[0]}"] if failed else []
        return results, warnings

    return infer
