"""Per-image detection time on CPU: `Network.detect` vs the raw forward pass vs upstream's
own darknet.py pipeline (darknet_images.image_detection: cvtColor + cv2.resize +
make_image + copy_image_from_bytes + detect_image + free_image, per call).

Same cfg (default enet4y2-coco at 416), same weights (benchmarks/plausible_weights.py:
finite activations, a handful of boxes over the threshold, like a trained model), same
image, same process; the three are interleaved round by round so load hits them alike.
Upstream's darknet.py is imported from the built darknet tree (third_party/darknet).

    python -m benchmarks.bench_detect [--cfg cfg/enet4y2-coco.cfg] [--rounds 30]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

from benchmarks.plausible_weights import write_plausible_weights
from enet4y2 import paths
from enet4y2.cfg import load_cfg
from enet4y2.darknet import Network, preprocess


def upstream_pipeline(cfg: Path, names: Path, weights: Path):
    """Upstream darknet.py, loaded from the built tree, and a per-call pipeline like its
    darknet_images.image_detection (decoding excluded, as for the other two)."""
    sys.path.insert(0, str(paths.darknet_dir()))
    darknet = importlib.import_module("darknet")
    data = Path(tempfile.mkdtemp()) / "bench.data"
    data.write_text(f"classes = {len(names.read_text().splitlines())}\nnames = {names}\n")
    network, class_names, _ = darknet.load_network(str(cfg), str(data), str(weights),
                                                   batch_size=1)
    width, height = darknet.network_width(network), darknet.network_height(network)

    def detect(image):
        darknet_image = darknet.make_image(width, height, 3)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        resized = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)
        darknet.copy_image_from_bytes(darknet_image, resized.tobytes())
        detections = darknet.detect_image(network, class_names, darknet_image, thresh=0.25)
        darknet.free_image(darknet_image)
        return detections

    return detect


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfg", type=Path, default=paths.REPO_ROOT / "cfg" / "enet4y2-coco.cfg")
    ap.add_argument("--names", type=Path, default=paths.REPO_ROOT / "data" / "coco.names")
    ap.add_argument("--image", type=Path, default=paths.reference_dir() / "data" / "dog.jpg")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()

    image = cv2.imread(str(args.image))
    weights = write_plausible_weights(load_cfg(args.cfg),
                                      Path(tempfile.mkdtemp()) / "plausible.weights")
    net = Network(args.cfg, weights, names=args.names)
    upstream = upstream_pipeline(args.cfg, args.names, weights)
    preprocess.prepare(image, net.input_buffer[0])

    def raw():
        net.predict_raw()

    def ours():
        net.detect(image)

    def theirs():
        upstream(image)

    runs = {"raw forward (network_predict_ptr)": raw, "Network.detect": ours,
            "upstream darknet.py pipeline": theirs}
    for fn in runs.values():  # warm-up: first-call allocations, page faults
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"cfg {args.cfg.name} {net.width}x{net.height}, image {args.image.name} "
          f"{image.shape[1]}x{image.shape[0]}, {args.rounds} interleaved rounds, median ms")
    for name, ms in med.items():
        print(f"  {name:36s} {ms:8.1f} ms")
    print(f"  detections on the image: ours {len(net.detect(image))}, "
          f"upstream {len(upstream(image))}")
    raw_ms, ours_ms, theirs_ms = med.values()
    print(f"Network.detect / raw forward           = {ours_ms / raw_ms:.3f}  (goal <= 1.05)")
    print(f"Network.detect / upstream darknet.py   = {ours_ms / theirs_ms:.3f}  (goal < 1)")
    print(f"upstream darknet.py / raw forward      = {theirs_ms / raw_ms:.3f}")


if __name__ == "__main__":
    main()
