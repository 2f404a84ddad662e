"""`enet4y2 train` overhead and pre-flight speed.

1. Seconds per iteration through `enet4y2 train` vs bare `darknet detector train` on the
   same tiny setup (64x64 enet4y2, 2 heads, generated data), runs interleaved in this
   process: the median of darknet's own per-iteration `seconds` (iterations after the
   first few), and wall seconds per run. Goal: ratio <= 1.01. The box is shared, so the
   headline is the median over rounds of each round's back-to-back ratio.
2. Pre-flight on a synthetic 118,287-image list (COCO train2017's size; tiny JPEGs and
   labels in a temp dir): the default (stat every image, decode a sample) against the
   floor of stat'ing every image in a Python loop; `--check-all`'s rate on a slice.

    ENET4Y2_DARKNET_DIR=/work/darknet-build nice python benchmarks/bench_train.py
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from enet4y2 import paths
from enet4y2.cfg import write_cfg
from enet4y2.data import synthetic
from enet4y2.train import preflight

SECONDS = re.compile(rb"^ (\d+): \S+, \S+ avg loss, \S+ rate, (\S+) seconds", re.M)


def iteration_seconds(log: bytes, skip: int) -> list[float]:
    return [float(s) for i, s in SECONDS.findall(log) if int(i) > skip]


def bench_overhead(rounds: int, iterations: int, batch: int, skip: int) -> None:
    from tests.tiny import tiny_cfg

    exe = paths.darknet_executable()
    if not exe.is_file():
        print(f"skipping the train overhead benchmark: {exe} not built (make darknet)")
        return
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        root = Path(tmp)
        synthetic.make_dataset(root, train=32, valid=4, width=96, height=80)
        (root / "tiny.cfg").write_text(write_cfg(tiny_cfg(iterations, batch=batch)))
        runs: dict[str, list[tuple[float, list[float]]]] = {"darknet": [], "enet4y2": []}
        bare = [str(exe), "detector", "train", "synth.data", "tiny.cfg", "-dont_show", "-clear"]
        ours = [sys.executable, "-c", "from enet4y2.cli import main; main()", "train",
                "--data", "synth.data", "--cfg", "tiny.cfg", "--log", "enet4y2.log",
                "--", "-clear"]
        for r in range(rounds):
            for name, cmd in (("darknet", bare), ("enet4y2", ours))[:: 1 if r % 2 else -1]:
                log = root / f"{name}.log"
                log.unlink(missing_ok=True)
                start = time.perf_counter()
                if name == "darknet":
                    with open(log, "wb") as fh:
                        subprocess.run(cmd, cwd=root, stdout=fh, stderr=subprocess.STDOUT,
                                       check=True)
                else:
                    subprocess.run(cmd, cwd=root, check=True, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                wall = time.perf_counter() - start
                runs[name].append((wall, iteration_seconds(log.read_bytes(), skip)))
        print(f"train overhead: {rounds} interleaved runs each, {iterations} iterations, "
              f"batch {batch}, 64x64; per-iteration medians over iterations > {skip}")
        med, best = {}, {}
        for name, items in runs.items():
            per_iter = [statistics.median(s) for _, s in items]
            walls = [w for w, _ in items]
            med[name] = (statistics.median(per_iter), statistics.median(walls))
            best[name] = min(per_iter)
            print(f"  {name:8s} s/iteration (darknet's own) median {med[name][0]:.4f}, "
                  f"best run {best[name]:.4f} (runs: {', '.join(f'{v:.4f}' for v in per_iter)})"
                  f"; wall per run median {med[name][1]:.2f} s")
        ratio = med["enet4y2"][0] / med["darknet"][0]
        # Each round's two runs are back to back: their ratio cancels most of the load.
        paired = statistics.median(
            statistics.median(e) / statistics.median(d)
            for (_, d), (_, e) in zip(runs["darknet"], runs["enet4y2"], strict=True))
        print(f"  ratio enet4y2/darknet s/iteration: median of per-round ratios {paired:.3f}"
              f"; of medians {ratio:.3f}"
              f", best run {best['enet4y2'] / best['darknet']:.3f}  (goal <= 1.01); wall per run "
              f"{med['enet4y2'][1] / med['darknet'][1]:.3f} (includes Python start-up and "
              "pre-flight)")


def make_big_list(root: Path, count: int) -> Path:
    import cv2
    import numpy as np

    ok, jpg = cv2.imencode(".jpg", np.full((48, 64, 3), 127, np.uint8))
    assert ok
    data, label = jpg.tobytes(), b"0 0.5 0.5 0.25 0.25\n1 0.2 0.3 0.1 0.1\n"
    lines = []
    for i in range(count):
        folder = root / f"{i // 10000:02d}"
        if i % 10000 == 0:
            folder.mkdir()
        image = folder / f"{i:012d}.jpg"
        image.write_bytes(data)
        image.with_suffix(".txt").write_bytes(label)
        lines.append(f"{image}\n")
    out = root / "train.txt"
    out.write_text("".join(lines))
    return out


def bench_preflight(count: int, check_all_slice: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-preflight-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        listing = make_big_list(root, count)
        print(f"pre-flight: {count} images + labels generated in "
              f"{time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        for line in listing.read_text().splitlines():
            os.stat(line)
        floor = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = preflight.check_images(listing, 2, cwd=root)
        default = time.perf_counter() - t0
        assert not result.bad, result.bad[:3]
        print(f"  baseline: os.stat of every listed image in a loop: {floor:.2f} s")
        print(f"  enet4y2 pre-flight default (stat all, decode+labels for "
              f"{result.decoded}): {default:.2f} s  ratio {default / floor:.2f}")
        part = root / "slice.txt"
        part.write_text("".join(listing.read_text().splitlines(True)[:check_all_slice]))
        t0 = time.perf_counter()
        preflight.check_images(part, 2, sample_size=None, cwd=root)
        rate = check_all_slice / (time.perf_counter() - t0)
        print(f"  --check-all: {rate:.0f} images/s on {check_all_slice} (decode + label), "
              f"so ~{count / rate:.0f} s for all {count}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--skip", type=int, default=3, help="first iterations left out")
    ap.add_argument("--images", type=int, default=118287)
    ap.add_argument("--check-all-slice", type=int, default=5000)
    ap.add_argument("--only", choices=["overhead", "preflight"], default=None)
    args = ap.parse_args()
    if args.only != "preflight":
        bench_overhead(args.rounds, args.iterations, args.batch, args.skip)
    if args.only != "overhead":
        bench_preflight(args.images, args.check_all_slice)


if __name__ == "__main__":
    main()
