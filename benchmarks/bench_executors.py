"""Images/s of `eval --pycoco` inference on Ray (`--executor ray --workers 1`: one actor,
shards written to a run folder) vs the single-process inference (`Network` +
`evaluate.inference.batched_detections`, as `enet4y2 eval --pycoco` runs it), on the same
images in the same run, alternating. Goal: Ray at least 0.95 of the single-process rate.

Both include opening the model; both use `--threads` OpenMP threads (the actor reserves as
many CPUs). The Ray cluster is started once, before timing (a cluster outlives a run).
Same network (default enet4y2-coco at 416 with benchmarks/plausible_weights.py), same JPEGs
(generated scenes, 640x480).

`--scaling 1,2,4`: instead, Ray with each number of workers (`--threads` CPUs and OpenMP
threads each; `--gpus-per-worker` on a GPU machine), alternating; images/s per worker
against one worker's (goal: at least 0.9). Give no more workers than cores / threads.

    python -m benchmarks.bench_executors [--images 100] [--repeat 2] [--threads 1]
        [--scaling 1,2,4 [--gpus-per-worker 1]]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfg", type=Path, default=None)
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shard-size", type=int, default=64)
    ap.add_argument("--scaling", help="comma-separated worker counts for the scaling run")
    ap.add_argument("--gpus-per-worker", type=float, default=0.0)
    args = ap.parse_args()
    counts = [int(n) for n in args.scaling.split(",")] if args.scaling else []
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before darknet loads, here and in Ray
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")

    import ray

    from benchmarks.bench_eval_inference import make_images
    from benchmarks.plausible_weights import write_plausible_weights
    from enet4y2 import paths
    from enet4y2.cfg import load_cfg
    from enet4y2.darknet import Network
    from enet4y2.evaluate.inference import batched_detections
    from enet4y2.executors import Job, ModelSpec, engine_for, execute

    cfg = args.cfg or paths.REPO_ROOT / "cfg" / "enet4y2-coco.cfg"
    tmp = Path(tempfile.mkdtemp(prefix="bench-executors-"))
    images = make_images(tmp, args.images)
    weights = write_plausible_weights(load_cfg(cfg), tmp / "plausible.weights")
    job = Job("eval", ModelSpec(str(cfg), str(weights)),
              {"thresh": 0.005, "letterbox": False,
               "category_ids": list(range(1, load_cfg(cfg).classes + 1))})
    items = [[p, i] for i, p in enumerate(images)]
    ray.init(address="local", num_cpus=args.threads * max(counts or [1]),
             include_dashboard=False, log_to_driver=False)
    if counts:
        scaling(args, job, items, tmp, counts, engine_for, execute)
        ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
        return

    def single() -> None:
        with Network(cfg, weights) as net:
            for _ in batched_detections(net, images, thresh=0.005):
                pass

    def on_ray() -> None:
        out = tmp / "run"
        shutil.rmtree(out, ignore_errors=True)
        engine = engine_for(job, "ray", 1, cpus_per_worker=args.threads)
        execute(job, items, out, engine, shard_size=args.shard_size)

    rates: dict[str, list[float]] = {"single process": [], "ray, 1 worker": []}
    for _ in range(args.repeat):
        for name, fn in (("single process", single), ("ray, 1 worker", on_ray)):
            t0 = time.perf_counter()
            fn()
            rates[name].append(len(images) / (time.perf_counter() - t0))
    ray.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(rates["single process"])
    print(f"{len(images)} images, {args.threads} OpenMP thread(s), load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:16s} {median:7.2f} img/s  (runs: "
              f"{', '.join(f'{v:.2f}' for v in values)})  ratio {median / base:.3f}")


def scaling(args, job, items, tmp: Path, counts: list[int], engine_for, execute) -> None:
    """Ray with each worker count in `counts`, alternating; per-worker images/s."""
    rates: dict[int, list[float]] = {n: [] for n in counts}
    for _ in range(args.repeat):
        for n in counts:
            out = tmp / f"run-{n}"
            shutil.rmtree(out, ignore_errors=True)
            engine = engine_for(job, "ray", n, cpus_per_worker=args.threads,
                                gpus_per_worker=args.gpus_per_worker)
            t0 = time.perf_counter()
            execute(job, items, out, engine, shard_size=args.shard_size)
            rates[n].append(len(items) / (time.perf_counter() - t0))
    one = statistics.median(rates[counts[0]]) / counts[0]
    print(f"{len(items)} images, shards of {args.shard_size}, {args.threads} CPU(s) and "
          f"OpenMP thread(s) per worker, {args.gpus_per_worker:g} GPU per worker, load "
          f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for n, values in rates.items():
        median = statistics.median(values)
        print(f"ray, {n} worker(s) {median:7.2f} img/s, per worker {median / n:6.2f} "
              f"(runs: {', '.join(f'{v:.2f}' for v in values)})  per-worker ratio "
              f"{median / n / one:.3f}  (goal >= 0.9)")


if __name__ == "__main__":
    main()
