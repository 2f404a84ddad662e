"""Benchmark: `enet4y2 watch` on a big darknet log against the seed's avgout algorithm.

Generates a darknet-format training log of --size-mb (default 1024) once (kept in --dir),
then measures, in the same run:
  * baseline: the seed's avgout.py algorithm (tests/seed_avgout.py) on the whole log;
  * first render: a fresh `Watcher` reading the whole log and building one frame;
  * refresh: 1 MB of log appended, then `refresh()` + one frame (median of --repeat).
Goals (issue 5): first render >= 20x faster than the baseline; refresh < 100 ms.

    nice .venv/bin/python -m benchmarks.watch_log --size-mb 1024 --format combined
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from enet4y2.cli.watch_view import ViewOptions, Watcher
from tests.seed_avgout import SEED_STOP_ITER, seed_avgout

CLEAR = "\x1b[H\x1b[J"
REGION = ("v3 (iou loss, Normalizer: (iou: 0.07, obj: 1.00, cls: 1.00) Region {layer} Avg "
          "(IOU: 0.{iou:06d}), count: {count}, class_loss = {a:f}, iou_loss = {b:f}, "
          "total_loss = {c:f} \n")
MAP_LINES = "".join(f"class_id = {c}, name = cls{c}, ap = 45.{c:02d}%   \t (TP = 10, FP = 5) \n"
                    for c in range(80))


MAX_BATCHES = 50_000_000  # beyond any generated log, so "hours left" stays positive


def log_chunk(first: int, count: int, combined: bool, map_every: int = 2000) -> str:
    """darknet's output for `count` iterations from `first` (stdout; `combined` adds the
    stderr lines of `2>&1`: four heads' loss lines and the bbox count)."""
    out = []
    for it in range(first, first + count):
        loss = 2.0 + 50.0 / (1 + it / 500) + (it % 7) * 0.01
        avg = loss + 0.1
        out.append("Loaded: 0.000031 seconds\n")
        out.append(f"\n (next mAP calculation at {(it // map_every + 1) * map_every} "
                   f"iterations) ")
        if it > map_every:
            out.append("\n Last accuracy mAP@0.50 = 45.20 %, best = 45.20 % ")
        hours = (MAX_BATCHES - it) * 3.5 / 3600
        out.append(f"{CLEAR}{it}/{MAX_BATCHES}: loss={loss:0.1f} hours left={hours:0.1f}"
                   f"\x07\n {it}: {loss:f}, {avg:f} avg loss, 0.002610 rate, 3.503875 seconds, "
                   f"{it * 64} images, {hours:f} hours left\n")
        if combined:
            for layer in (139, 150, 161, 172):
                out.append(REGION.format(layer=layer, iou=it % 999999, count=it % 50,
                                         a=loss / 4, b=loss / 3, c=loss))
            out.append(f" total_bbox = {it * 40}, rewritten_bbox = 0.{it % 1000:03d} % \n")
        if it % map_every == 0:
            out.append("\n calculation mAP (mean average precision)...\n Detection layer: 139 "
                       "- type = 28 \n\r4952\r5000\n detections_count = 1234567, "
                       "unique_truth_count = 36335  \n" + MAP_LINES +
                       " mean average precision (mAP@0.50) = 0.452000, or 45.20 % \n"
                       "\n mean_average_precision (mAP@0.50) = 0.452000 \nNew best mAP!\n")
    return "".join(out)


def make_log(path: Path, size: int, combined: bool) -> int:
    """Write the log (temp file, then rename); return the next iteration number."""
    tmp = path.with_suffix(".tmp")
    it, written = 1, 0
    with open(tmp, "w") as f:
        while written < size:
            text = log_chunk(it, 2000, combined)
            f.write(text)
            written += len(text)
            it += 2000
    os.replace(tmp, path)
    return it


def _timed(work) -> tuple[float, float]:
    """(wall, cpu) seconds of `work()`: cpu time (this process's) is what varies least on
    a box shared with other jobs."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def _read_and_split(path: Path) -> int:
    """What any numpy parser does at least: read every block, find every line."""
    lines = 0
    with open(path, "rb") as f:
        while block := f.read(4 * 1024 * 1024):
            lines += len(np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10))
    return lines


def render(watcher: Watcher) -> str:
    console = Console(width=160, file=io.StringIO(), force_terminal=False)
    console.print(watcher.frame())
    return console.file.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--format", choices=["combined", "stdout"], default="combined",
                    help="combined: stdout+stderr (2>&1, the usual `> log 2>&1`)")
    ap.add_argument("--dir", default="/tmp/enet4y2-bench")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--floor", action="store_true",
                    help="also time only reading the log and finding its lines with numpy")
    ap.add_argument("--whole-baseline", action=argparse.BooleanOptionalAction, default=True,
                    help="also time the seed with -s past the last iteration (whole log)")
    args = ap.parse_args()
    combined = args.format == "combined"
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"train-{args.format}-{args.size_mb}mb.log"
    if not path.exists():
        t = time.perf_counter()
        make_log(path, args.size_mb * 1024 * 1024, combined)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s")
    size = path.stat().st_size
    print(f"log: {path} ({size / 1e6:.0f} MB, format {args.format})")

    base = whole = None
    if not args.skip_baseline:
        base = _timed(lambda: seed_avgout(str(path)))
        print(f"baseline (seed avgout algorithm, its default -s {SEED_STOP_ITER}): "
              f"{base[0]:.2f} s (cpu {base[1]:.2f} s)")
        if args.whole_baseline:
            # The seed stops reading after iteration -s; watch always reads the whole log.
            # With -s past the last iteration the seed reads it all too (the same rows).
            whole = _timed(lambda: seed_avgout(str(path), stop_iter=sys.maxsize))
            print(f"baseline (seed avgout algorithm, -s past the last iteration: whole "
                  f"log): {whole[0]:.2f} s (cpu {whole[1]:.2f} s)")

    if args.floor:
        floor = _timed(lambda: _read_and_split(path))
        print(f"floor (read in 4 MB blocks + numpy newline search, no parsing): "
              f"{floor[0]:.2f} s (cpu {floor[1]:.2f} s)")

    firsts = []
    for _ in range(3):
        watcher = Watcher(str(path), ViewOptions(), host="bench")
        firsts.append(_timed(lambda w=watcher: (w.refresh(), render(w))))
    first = (statistics.median(f[0] for f in firsts), statistics.median(f[1] for f in firsts))
    rows = watcher.state.rows
    print(f"first render (enet4y2 watch, {rows} iterations): median {first[0]:.2f} s of "
          f"{[round(x[0], 2) for x in firsts]} (cpu {first[1]:.2f} s)")
    for name, baseline in (("the baseline (goal >= 20x)", base),
                           ("the seed reading the whole log", whole)):
        if baseline:
            print(f"  -> {baseline[0] / first[0]:.1f}x faster than {name}; "
                  f"cpu time {baseline[1] / first[1]:.1f}x")

    # Refresh after 1 MB appended (each time new iterations; removed again afterwards).
    nxt = int(watcher.state.last.iteration) + 1
    times = []
    appended = 0
    try:
        for _ in range(args.repeat):
            block = log_chunk(nxt, 4000, combined)
            block = block[: block.rfind("\n", 0, 1024 * 1024) + 1]
            nxt += 4000
            with open(path, "a") as f:
                f.write(block)
            appended = len(block)
            t = time.perf_counter()
            watcher.refresh()
            render(watcher)
            times.append(time.perf_counter() - t)
    finally:
        os.truncate(path, size)
    print(f"refresh after {appended / 1e6:.2f} MB appended: median "
          f"{1000 * statistics.median(times):.0f} ms of {[round(1000 * x) for x in times]} "
          "(goal < 100 ms)")


if __name__ == "__main__":
    main()
