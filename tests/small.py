"""The demo's small detector (`enet4y2 cfg --tiny`), really trained by darknet on the
synthetic data, for tests that need boxes in the right place (video alignment, tracking).

The demo's recipe (96x96, batch 16, lr 0.001, burn_in 50, 400 iterations, anchors by
k-means over the training boxes; AP50 about 0.96), trained on the demo's synthetic images
plus scenes drawn like the video tests' clips (their background, colours and sizes, at
random places), as a user trains on the footage the detector will see. Darknet seeds its
training with the clock, so a run can also end weaker: each model must find every object
of the scenes the video tests draw (`_good_enough`), or it is trained again (at most
`ATTEMPTS` times).
Cached under build/test-cache keyed by everything that affects the result, so only the
first run pays for the training.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from enet4y2 import modelfiles, paths
from enet4y2.build import record as build_record
from enet4y2.data import synthetic
from tests.video import clips

CACHE = paths.REPO_ROOT / "build" / "test-cache"
DATASET = {"train": 64, "valid": 16, "width": 96, "height": 80, "seed": 0}
CFG = {"tiny": True, "heads": 2, "width": 96, "height": 96, "batch": 16, "subdivisions": 1,
       "max_batches": 400, "learning_rate": 0.001, "burn_in": 50}
CLIP_SCENES = {"count": 96, "seed": 1}
ATTEMPTS = 4


@dataclass(frozen=True)
class SmallDetector:
    root: Path
    cfg: Path
    weights: Path
    names: Path
    width: int  # of the training images (the scenes it knows)
    height: int


def _make_data(root: Path) -> synthetic.Dataset:
    """The demo's dataset, then `CLIP_SCENES` clip-like images added to its train list."""
    ds = synthetic.make_dataset(root, **DATASET)
    width, height = DATASET["width"], DATASET["height"]
    rng = np.random.default_rng(CLIP_SCENES["seed"])
    paths_ = []
    for i in range(CLIP_SCENES["count"]):
        objects: list = []
        for class_id in rng.permutation(2)[:int(rng.integers(1, 3))]:
            size = int(rng.integers(20, 33))
            for _attempt in range(20):
                x, y = int(rng.integers(0, width - size)), int(rng.integers(0, height - size))
                if all(x + size <= o.x or o.x + o.size <= x or y + size <= o.y
                       or o.y + o.size <= y for o in objects):
                    objects.append(clips.Obj(0, int(class_id), x, y, size))
                    break
        bg = clips.background(width, height, seed=int(rng.integers(0, 4)))
        image = clips.render(bg, objects)
        path = ds.root / "train" / f"clip_{i:06d}.jpg"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        path.with_suffix(".txt").write_text(synthetic.label_lines(
            [synthetic.Box(o.class_id, o.x, o.y, o.size, o.size) for o in objects],
            width, height))
        paths_.append(f"{path}\n")
    with open(ds.train_list, "a") as listing:
        listing.writelines(paths_)
    return ds


def _generate_cfg(ds: synthetic.Dataset, out: Path) -> None:
    modelfiles.generate(output=out, names=str(ds.names), anchors_from=str(ds.data), **CFG)


def _scenes() -> list[tuple]:
    """Frames like the video tests' clips, with their true objects and the threshold the
    model must clear there: one square on the zigzag path (the alignment tests detect at
    0.1; one of its positions scores only 0.3-0.5 with most models), a square and a disc
    crossing (the tracking tests run at 0.25-0.3, where a stray box would start a track)."""
    bg = clips.background(DATASET["width"], DATASET["height"])
    return ([(clips.render(bg, [o]), [o], 0.2, False) for o in clips.zigzag(40)]
            + [(clips.render(bg, objs), objs, 0.3, True) for objs in clips.two_tracks(40)])


def _good_enough(cfg: Path, weights: Path) -> bool:
    """Every object of `_scenes` found with its class, with a margin over what the video
    tests ask (their threshold, IoU > 0.5), and no stray box where the tracking tests run."""
    from enet4y2.darknet import Network

    with Network(cfg, weights) as net:
        for image, objects, thresh, no_strays in _scenes():
            found = net.detect(image, thresh=thresh)
            if no_strays and len(found.classes) > len(objects):
                return False
            for o in objects:
                hits = [i for i, c in enumerate(found.classes) if c == o.class_id]
                if not any(_iou(found.boxes[i], o) > 0.55 for i in hits):
                    return False
    return True


def _iou(box, o) -> float:
    x1, y1 = max(box[0], o.x), max(box[1], o.y)
    x2, y2 = min(box[0] + box[2], o.x + o.size), min(box[1] + box[3], o.y + o.size)
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / (box[2] * box[3] + o.size * o.size - inter)


def _train(tmp: Path) -> Path:
    shutil.rmtree(tmp, ignore_errors=True)
    ds = _make_data(tmp)
    _generate_cfg(ds, tmp / "small.cfg")
    with open(tmp / "train.log", "wb") as log:
        subprocess.run([str(paths.darknet_executable()), "detector", "train", str(ds.data),
                        str(tmp / "small.cfg"), "-dont_show"], cwd=tmp, stdout=log,
                       stderr=subprocess.STDOUT, check=True, timeout=3600)
    weights = tmp / "backup" / "small_final.weights"
    if not weights.is_file():
        raise RuntimeError(f"darknet wrote no final weights; see {tmp / 'train.log'}")
    return weights


def build_small_detector() -> SmallDetector:
    record = build_record.read() or {}
    key_src = json.dumps([CFG, DATASET, CLIP_SCENES, record.get("commit"),
                          record.get("flags"), Path(synthetic.__file__).read_text(),
                          Path(clips.__file__).read_text()], sort_keys=True)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    root = CACHE / f"small-{key}"
    if not (root / "DONE").is_file():
        tmp = CACHE / f".small-{key}-{os.getpid()}"
        for _ in range(ATTEMPTS):
            weights = _train(tmp)
            if _good_enough(tmp / "small.cfg", weights):
                break
        else:
            raise RuntimeError(f"{ATTEMPTS} trainings of the small detector all missed "
                               f"objects of the test scenes; see {tmp / 'train.log'}")
        shutil.rmtree(root, ignore_errors=True)
        for stale in CACHE.glob("small-*"):  # models of older settings
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(tmp, root)
        _make_data(root)  # the lists hold absolute paths
        (root / "DONE").write_text(key)
    return SmallDetector(root, root / "small.cfg", root / "backup" / "small_final.weights",
                         root / "synth.names", DATASET["width"], DATASET["height"])
