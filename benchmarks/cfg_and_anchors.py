"""Speed of the cfg model and of anchor k-means, against baselines measured in the same run.

1. parse + validate + shape inference of enet4y2-coco (cfg/enet4y2-coco.cfg), median of
   --repeat runs; baseline: upstream darknet loading the same cfg (`darknet partial` with
   a header-only weights file: parse, allocate, print BFLOPs), when darknet is built.
2. k-means anchors (IoU distance) on --boxes synthetic boxes (6 clusters with log-normal
   spread); baseline A: the same Lloyd iterations written the obvious numpy way (an N x k
   IoU matrix per round); baseline B (--darknet): `darknet detector calc_anchors` on the
   same boxes written as label files (its time includes reading them).

    nice .venv/bin/python benchmarks/cfg_and_anchors.py [--boxes 860000] [--darknet]
"""

from __future__ import annotations

import argparse
import statistics
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from enet4y2 import paths
from enet4y2.cfg import infer, parse_cfg, validate
from enet4y2.cfg.anchors import iou_wh, kmeans_anchors

TRUE = np.array([[10, 14], [23, 27], [37, 58], [81, 82], [135, 169], [344, 319]], float)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_cfg(repeat: int) -> None:
    cfg_path = paths.REPO_ROOT / "cfg" / "enet4y2-coco.cfg"
    text = cfg_path.read_text()

    def ours():
        cfg = parse_cfg(text, str(cfg_path))
        validate(cfg)
        return infer(cfg).total_bflops

    t_ours = median_time(ours, repeat)
    print(f"cfg: parse+validate+infer enet4y2-coco: {t_ours * 1e3:.1f} ms (median of {repeat})")
    exe = paths.darknet_executable()
    if not exe.is_file():
        print("cfg: baseline skipped: darknet not built (make darknet)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        header = Path(tmp) / "h.weights"
        header.write_bytes(struct.pack("<iiiQ", 0, 2, 5, 0))

        def darknet():
            subprocess.run([str(exe), "partial", str(cfg_path), str(header),
                            str(Path(tmp) / "o.weights"), "0"], cwd=tmp,
                           capture_output=True, check=True)

        t_dn = median_time(darknet, max(3, repeat // 4))
    print(f"cfg: baseline darknet partial (load cfg): {t_dn * 1e3:.1f} ms -> "
          f"ours is {t_dn / t_ours:.1f}x faster")


def naive_kmeans(boxes: np.ndarray, centers: np.ndarray, max_iter: int) -> int:
    """The obvious vectorization: a full N x k IoU matrix, argmax, mean per cluster."""
    centers = centers.copy()
    labels = np.full(len(boxes), -1)
    for iteration in range(1, max_iter + 1):
        new = iou_wh(boxes, centers).argmax(axis=1)
        if np.array_equal(new, labels):
            return iteration
        labels = new
        for j in range(len(centers)):
            members = boxes[labels == j]
            if len(members):
                centers[j] = members.mean(axis=0)
    return max_iter


def bench_anchors(n: int, use_darknet: bool) -> None:
    rng = np.random.default_rng(0)
    boxes = (TRUE[rng.integers(0, len(TRUE), n)]
             * np.exp(rng.normal(0, 0.25, (n, 2)))).clip(1, 416).astype(np.float32)
    start = time.perf_counter()
    result = kmeans_anchors(boxes, 6, seed=0, tol=0.0)
    t_ours = time.perf_counter() - start
    per_ours = t_ours / result.iterations
    print(f"anchors: {n} boxes, k=6: {t_ours:.2f} s, {result.iterations} rounds, "
          f"mean IoU {result.mean_iou:.4f}, anchors {result.as_cfg_value()}")
    start = time.perf_counter()
    rounds = naive_kmeans(boxes, result.anchors.astype(np.float32), 10)
    per_naive = (time.perf_counter() - start) / rounds
    print(f"anchors: per round ours {per_ours * 1e3:.0f} ms vs baseline naive numpy "
          f"{per_naive * 1e3:.0f} ms -> {per_naive / per_ours:.1f}x")
    if not use_darknet:
        return
    exe = paths.darknet_executable()
    if not exe.is_file():
        print("anchors: darknet baseline skipped: darknet not built (make darknet)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "labels").mkdir()
        per_file = 100
        images = []
        for i, start_row in enumerate(range(0, n, per_file)):
            chunk = boxes[start_row:start_row + per_file] / 416.0
            lines = "".join(f"0 0.5 0.5 {w:.6f} {h:.6f}\n" for w, h in chunk)
            (root / "labels" / f"{i}.txt").write_text(lines)
            images.append(str(root / "JPEGImages" / f"{i}.jpg"))
        (root / "train.txt").write_text("\n".join(images) + "\n")
        (root / "b.data").write_text(f"classes=1\ntrain={root / 'train.txt'}\n")
        start = time.perf_counter()
        subprocess.run([str(exe), "detector", "calc_anchors", str(root / "b.data"),
                        "-num_of_clusters", "6", "-width", "416", "-height", "416"],
                       cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        t_dn = time.perf_counter() - start
        found = (root / "anchors.txt").read_text().strip()
    print(f"anchors: baseline darknet calc_anchors: {t_dn:.2f} s ({found}) -> ours is "
          f"{t_dn / t_ours:.1f}x faster (darknet's time includes reading label files)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=860_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--darknet", action="store_true",
                        help="also time darknet's calc_anchors (writes label files)")
    args = parser.parse_args()
    bench_cfg(args.repeat)
    bench_anchors(args.boxes, args.darknet)


if __name__ == "__main__":
    main()
