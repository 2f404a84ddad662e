"""A small detector really trained by darknet, shared by the darknet-marked tests.

The synthetic dataset and a 64x64 enet4y2 (2 heads) from the cfg builder; trained by the
darknet executable for a short schedule. Cached under build/test-cache keyed by everything
that affects the result, so only the first run pays for the training (~3 min on 2 cores).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from enet4y2 import cfg as cfgmod
from enet4y2 import paths
from enet4y2.build import record as build_record
from enet4y2.cfg import builders as models
from enet4y2.data import synthetic

CACHE = paths.REPO_ROOT / "build" / "test-cache"
ANCHORS = [8, 8, 12, 12, 16, 16, 22, 22, 28, 28, 36, 36]
ATTEMPTS = 3
DATASET = {"train": 64, "valid": 16, "width": 96, "height": 80, "seed": 0}


@dataclass(frozen=True)
class TinyDetector:
    root: Path
    cfg: Path
    weights: Path
    data: Path
    train_list: Path
    valid_list: Path
    names: Path
    classes: int
    width: int
    height: int
    log: Path


def tiny_cfg(max_batches: int = 300, **overrides) -> cfgmod.Cfg:
    """The small cfg: enet4y2 with 2 heads at 64x64, 2 classes, a gentle schedule."""
    args = dict(classes=len(synthetic.NAMES), width=64, height=64, heads=2, batch=8,
                subdivisions=1, max_batches=max_batches, learning_rate=0.0005, burn_in=30,
                anchors=ANCHORS)
    return models.enet4y2_cfg(**{**args, **overrides})


def _train(tmp: Path, cfg_text: str) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
    ds = synthetic.make_dataset(tmp, **DATASET)
    (tmp / "tiny.cfg").write_text(cfg_text)
    with open(tmp / "train.log", "wb") as log:
        subprocess.run([str(paths.darknet_executable()), "detector", "train", str(ds.data),
                        str(tmp / "tiny.cfg"), "-dont_show"], cwd=tmp, stdout=log,
                       stderr=subprocess.STDOUT, check=True, timeout=1800)
    if not (tmp / "backup" / "tiny_final.weights").is_file():
        raise RuntimeError(f"darknet wrote no final weights; see {tmp / 'train.log'}")


def _finite_images(root: Path) -> dict[str, list[str]] | None:
    """The training and validation images on which darknet's heads stay finite (None:
    NaN weights). Darknet seeds its training with the clock; a run can diverge to NaN,
    and most runs end with a few images whose last logits are so large that darknet's
    yolo layer gives NaN there (an image with NaN heads has no boxes at threshold 0.005)
    while ONNX Runtime stays finite. Those are darknet's numerics, not what the tests
    are about, so the lists keep only the finite images."""
    import cv2
    import numpy as np

    from enet4y2.darknet import Network
    from enet4y2.weights.fit import read_header

    weights = root / "backup" / "tiny_final.weights"
    offset = read_header(weights).header_size
    if not np.isfinite(np.fromfile(weights, dtype=np.float32, offset=offset)).all():
        return None
    out = {}
    with Network(root / "tiny.cfg", weights) as net:
        for split in ("train", "valid"):
            listed = (root / f"{split}.txt").read_text().split()
            out[split] = [p for p in listed
                          if len(net.detect(cv2.imread(p), thresh=0.005)) >= 2]
    return out


def _keep_finite(root: Path) -> bool:
    """Rewrite the lists to their finite images; False when too few are left (at least
    3/4 of each split)."""
    kept = _finite_images(root)
    if kept is None or len(kept["train"]) < DATASET["train"] * 3 // 4 \
            or len(kept["valid"]) < DATASET["valid"] * 3 // 4:
        return False
    for split, paths_ in kept.items():
        (root / f"{split}.txt").write_text("".join(f"{p}\n" for p in paths_))
    return True


def build_tiny_detector() -> TinyDetector:
    cfg_text = cfgmod.write_cfg(tiny_cfg())
    record = build_record.read() or {}
    key_src = json.dumps([cfg_text, DATASET, record.get("commit"), record.get("flags"),
                          Path(synthetic.__file__).read_text()], sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    root = CACHE / f"tiny-{key}"
    done = root / "DONE"
    if not done.is_file():
        tmp = CACHE / f".tiny-{key}-{os.getpid()}"
        for _ in range(ATTEMPTS):
            _train(tmp, cfg_text)
            if _keep_finite(tmp):
                break
        else:
            raise RuntimeError(f"{ATTEMPTS} trainings of the tiny detector all ended with "
                               f"NaN weights or NaN on many images; see {tmp / 'train.log'}")
        # The dataset's files hold absolute paths: regenerate them at the final location.
        shutil.rmtree(root, ignore_errors=True)
        for stale in CACHE.glob("tiny-*"):  # models of older settings
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(tmp, root)
        synthetic.make_dataset(root, **DATASET)
        if not _keep_finite(root):
            raise RuntimeError(f"the tiny detector's images changed at {root}")
        done.write_text(key)
    return TinyDetector(root, root / "tiny.cfg", root / "backup" / "tiny_final.weights",
                        root / "synth.data", root / "train.txt", root / "valid.txt",
                        root / "synth.names", len(synthetic.NAMES), 64, 64, root / "train.log")
