"""Images/s of eval's inference (decode in a thread pool, overlapped with the network)
vs `Network.detect` in a plain loop (decode, then detect, one after the other).

Same network (default enet4y2-coco at 416 with benchmarks/plausible_weights.py), same
JPEGs (generated scenes, 640x480), same process, alternating runs.

    python -m benchmarks.bench_eval_inference [--images 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.plausible_weights import write_plausible_weights
from enet4y2 import paths
from enet4y2.cfg import load_cfg
from enet4y2.darknet import Network
from enet4y2.data import synthetic
from enet4y2.evaluate.inference import batched_detections


def make_images(folder: Path, count: int) -> list[str]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(count):
        image, _ = synthetic.draw_scene(rng, 640, 480)
        path = folder / f"img_{i:012d}.jpg"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        out.append(str(path))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfg", type=Path, default=paths.REPO_ROOT / "cfg" / "enet4y2-coco.cfg")
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    images = make_images(Path(tempfile.mkdtemp()), args.images)
    weights = write_plausible_weights(load_cfg(args.cfg),
                                      Path(tempfile.mkdtemp()) / "plausible.weights")
    net = Network(args.cfg, weights)
    net.detect(cv2.imread(images[0]), thresh=0.005)  # warm-up

    def loop() -> None:
        for p in images:
            net.detect(cv2.imread(p), thresh=0.005)

    def pipelined() -> None:
        for _ in batched_detections(net, images, thresh=0.005):
            pass

    rates: dict[str, list[float]] = {"Network.detect loop": [], "eval inference": []}
    for _ in range(args.repeat):
        for name, fn in (("Network.detect loop", loop), ("eval inference", pipelined)):
            t0 = time.perf_counter()
            fn()
            rates[name].append(len(images) / (time.perf_counter() - t0))
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"{args.images} JPEGs 640x480, cfg {args.cfg.name} {net.width}x{net.height}, "
          f"{args.repeat} alternating runs, median images/s")
    for name, rate in med.items():
        print(f"  {name:22s} {rate:7.2f} images/s")
    print(f"eval inference / Network.detect loop = "
          f"{med['eval inference'] / med['Network.detect loop']:.3f}  (goal >= 1.0)")


if __name__ == "__main__":
    main()
