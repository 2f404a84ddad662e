"""The end-to-end demo on data enet4y2 makes itself: dataset, cfg (anchors by k-means),
a short real darknet training, darknet's mAP and pycocotools' AP, the watch summary and
annotated detections. Each step is the CLI command a user would type, printed first."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from enet4y2.data import synthetic

#: The AP50 (pycocotools, held-out images) below which the demo says it fell short.
AP50_TARGET = 0.5


@dataclass(frozen=True)
class DemoPlan:
    root: Path
    dataset: synthetic.Dataset
    cfg: Path
    log: Path
    weights: Path
    steps: list[list[str]]


def plan(root: Path, iterations: int = 400, *, train_images: int = 64,
         valid_images: int = 16) -> DemoPlan:
    """Generate the dataset under `root` and return the commands that follow."""
    root = root.resolve()
    ds = synthetic.make_dataset(root / "data", train=train_images, valid=valid_images,
                                width=96, height=80)
    cfg = root / "demo.cfg"
    log = root / "train.log"
    weights = ds.root / "backup" / "demo_final.weights"
    samples = ds.valid_list.read_text().split()[:3]
    steps = [
        ["cfg", "--tiny", "--names", str(ds.names), "--width", "96", "--height", "96",
         "--batch", "16", "--subdivisions", "1", "--max-batches", str(iterations),
         "--learning-rate", "0.001", "--burn-in", "50", "--anchors-from", str(ds.data),
         "-o", str(cfg)],
        ["train", "--data", str(ds.data), "--cfg", str(cfg), "--log", str(log)],
        ["watch", str(log), "--once", "--cfg", str(cfg), "--plot", str(root / "chart.png"),
         "--csv", str(root / "loss.csv")],
        ["eval", "--weights", str(weights), "--cfg", str(cfg), "--data", str(ds.data),
         "--pycoco", "--darknet-map", "--stats-out", str(root / "stats.json"),
         "--json-out", str(root / "results.json"), "--map-out", str(root / "map.json")],
        ["detect", *samples, "--cfg", str(cfg), "--weights", str(weights), "--names",
         str(ds.names), "--thresh", "0.2", "--save-dir", str(root / "detections")],
    ]
    return DemoPlan(root, ds, cfg, log, weights, steps)


def run(demo: DemoPlan, invoke: Callable[[list[str]], None],
        announce: Callable[[str], None]) -> None:
    """Run each step through `invoke` (the CLI), announcing it as a shell line first."""
    for argv in demo.steps:
        announce("$ enet4y2 " + " ".join(shlex.quote(a) for a in argv))
        invoke(argv)


def ap50(demo: DemoPlan) -> float:
    """pycocotools' AP50 on the held-out images, from the stats file the eval step wrote
    (`{"stats": {"AP50": ...}, ...}`; read here, not through `evaluate`: the demo sits
    beside the services and imports only `data`)."""
    return float(json.loads((demo.root / "stats.json").read_text())["stats"]["AP50"])


def verdict(ap: float) -> tuple[str, str | None]:
    """The closing line, and a one-line warning when the detector fell short."""
    line = f"AP50 (pycocotools, held-out images): {ap:.3f}"
    if ap >= AP50_TARGET:
        return line, None
    return line, (f"AP50 {ap:.3f} is below {AP50_TARGET}: this short training from scratch "
                  "has not learned to detect; the steps above ran, the model is not useful")
