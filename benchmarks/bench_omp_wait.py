"""`Network.detect` per 640x480 image with libgomp's default wait policy vs
`OMP_WAIT_POLICY=passive` (idle OpenMP threads sleep instead of spinning). The policy is
read once per process, so each measurement is a fresh process; the two alternate, and
each prints the median of its calls.

    python -m benchmarks.bench_omp_wait [--cfg cfg/enet4y2-coco.cfg] [--weights W]
        [--calls 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from enet4y2 import paths

CHILD = """
import statistics, sys, time
from pathlib import Path
import numpy as np
from enet4y2.darknet import Network
cfg, weights, calls = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), np.uint8)
with Network(cfg, weights) as net:
    net.detect(image)
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        net.detect(image)
        times.append(time.perf_counter() - t)
print(statistics.median(times) * 1000)
"""


def measure(cfg: Path, weights: Path, calls: int, policy: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    done = subprocess.run([sys.executable, "-c", CHILD, str(cfg), str(weights), str(calls)],
                          env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfg", type=Path, default=paths.REPO_ROOT / "cfg" / "enet4y2-coco.cfg")
    ap.add_argument("--weights", type=Path, help="default: plausible weights for the cfg")
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights
        if weights is None:
            from benchmarks.plausible_weights import write_plausible_weights
            from enet4y2.cfg import load_cfg

            weights = write_plausible_weights(load_cfg(args.cfg), Path(tmp) / "p.weights")
        runs: dict[str, list[float]] = {"default": [], "passive": []}
        for i in range(args.repeat):
            for name in runs:
                ms = measure(args.cfg, weights, args.calls, None if name == "default"
                             else name)
                runs[name].append(ms)
                print(f"  round {i + 1}: {name} {ms:.1f} ms", flush=True)
    d, p = (statistics.median(runs[k]) for k in ("default", "passive"))
    print(f"cfg {args.cfg.name}, {args.calls} calls per process, medians of "
          f"{args.repeat} alternations")
    print(f"  default wait policy   {d:8.1f} ms")
    print(f"  OMP_WAIT_POLICY=passive {p:6.1f} ms")
    print(f"passive / default = {p / d:.2f}")


if __name__ == "__main__":
    main()
