"""The demo's small detector (`enet4y2 cfg --tiny`), really trained by darknet on the
synthetic data, for tests that need boxes in the right place (video alignment, tracking).

The demo's recipe (96x96, batch 16, lr 0.001, burn_in 50, 400 iterations, anchors by
k-means over the training boxes): AP50 about 0.96. Cached under build/test-cache keyed
by everything that affects the result, so only the first run pays for the training.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from enet4y2 import modelfiles, paths
from enet4y2.build import record as build_record
from enet4y2.data import synthetic

CACHE = paths.REPO_ROOT / "build" / "test-cache"
DATASET = {"train": 64, "valid": 16, "width": 96, "height": 80, "seed": 0}
CFG = {"tiny": True, "heads": 2, "width": 96, "height": 96, "batch": 16, "subdivisions": 1,
       "max_batches": 400, "learning_rate": 0.001, "burn_in": 50}


@dataclass(frozen=True)
class SmallDetector:
    root: Path
    cfg: Path
    weights: Path
    names: Path
    width: int  # of the training images (the scenes it knows)
    height: int


def _generate_cfg(ds: synthetic.Dataset, out: Path) -> None:
    modelfiles.generate(output=out, names=str(ds.names), anchors_from=str(ds.data), **CFG)


def build_small_detector() -> SmallDetector:
    record = build_record.read() or {}
    key_src = json.dumps([CFG, DATASET, record.get("commit"), record.get("flags"),
                          Path(synthetic.__file__).read_text()], sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    root = CACHE / f"small-{key}"
    if not (root / "DONE").is_file():
        tmp = CACHE / f".small-{key}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        ds = synthetic.make_dataset(tmp, **DATASET)
        _generate_cfg(ds, tmp / "small.cfg")
        with open(tmp / "train.log", "wb") as log:
            subprocess.run([str(paths.darknet_executable()), "detector", "train", str(ds.data),
                            str(tmp / "small.cfg"), "-dont_show"], cwd=tmp, stdout=log,
                           stderr=subprocess.STDOUT, check=True, timeout=3600)
        if not (tmp / "backup" / "small_final.weights").is_file():
            raise RuntimeError(f"darknet wrote no final weights; see {tmp / 'train.log'}")
        shutil.rmtree(root, ignore_errors=True)
        for stale in CACHE.glob("small-*"):  # models of older settings
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(tmp, root)
        synthetic.make_dataset(root, **DATASET)  # the lists hold absolute paths
        (root / "DONE").write_text(key)
    return SmallDetector(root, root / "small.cfg", root / "backup" / "small_final.weights",
                         root / "synth.names", DATASET["width"], DATASET["height"])
