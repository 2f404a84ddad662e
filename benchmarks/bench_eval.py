"""eval's non-inference path at COCO-like counts, against pycocotools alone.

Synthetic GT: N images (default 5000, COCO val 5k size), ~7.2 boxes each (36k), the 80
COCO category ids. Detections: ~65 per image (325k): jittered copies of the GT boxes
plus false positives, as per-image arrays the way the binding returns them.

  A. ours: arrays -> COCO results (clip, ids, categories) -> JSON written atomically ->
     COCOeval (pycocotools) via enet4y2.evaluate.evaluate
  B. baseline: pycocotools alone (loadRes + evaluate + accumulate + summarize) on the
     already-built results list
  C. faster-coco-eval (if installed) through our path's evaluate, stats compared with B.

Prints wall and CPU (process) times, the ratios A/B and C/B, and whether the 12 stats
agree. On a shared, loaded box compare the CPU ratios: wall time there measures the
neighbours as much as the code.

  nice python benchmarks/bench_eval.py [--images 5000] [--seed 0]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from enet4y2.evaluate import category_map, detections_to_results, evaluate
from enet4y2.fileio import atomic_write_json

COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


@dataclass
class Clock:
    """Wall and CPU seconds of a block."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu

    def __str__(self) -> str:
        return f"wall {self.wall:7.2f} s   cpu {self.cpu:7.2f} s"


def synth(num_images: int, seed: int):
    rng = np.random.default_rng(seed)
    images, annotations, per_image = [], [], []
    for index in range(num_images):
        image_id = 100000 + index
        width, height = int(rng.integers(320, 641)), int(rng.integers(240, 481))
        images.append({"id": image_id, "file_name": f"COCO_val2014_{image_id:012d}.jpg",
                       "width": width, "height": height})
        count = int(rng.poisson(7.2))
        classes = rng.integers(0, 80, count)
        w = rng.uniform(4, width * 0.6, count)
        h = rng.uniform(4, height * 0.6, count)
        x = rng.uniform(0, width - w)
        y = rng.uniform(0, height - h)
        for c, bx, by, bw, bh in zip(classes, x, y, w, h, strict=True):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": COCO_IDS[c], "bbox": [bx, by, bw, bh],
                                "area": bw * bh, "iscrowd": 0})
        # detections: each GT found 3 times with jitter, plus false positives to ~65
        true = np.repeat(np.stack([x, y, w, h], 1), 3, axis=0)
        true = true * rng.normal(1.0, 0.08, true.shape)
        true_classes = np.repeat(classes, 3)
        false_count = max(0, int(rng.poisson(65)) - len(true))
        fw, fh = rng.uniform(4, width * 0.5, false_count), rng.uniform(4, height * 0.5, false_count)
        false = np.stack([rng.uniform(-10, width, false_count),
                          rng.uniform(-10, height, false_count), fw, fh], 1)
        boxes = np.concatenate([true, false]).astype(np.float32)
        dets_classes = np.concatenate([true_classes, rng.integers(0, 80, false_count)])
        scores = np.concatenate([rng.uniform(0.2, 1.0, len(true)),
                                 rng.uniform(0.005, 0.6, false_count)]).astype(np.float32)
        per_image.append((image_id, width, height, dets_classes.astype(np.int32), scores,
                          boxes))
    categories = [{"id": c, "name": str(c)} for c in COCO_IDS]
    return {"images": images, "annotations": annotations, "categories": categories}, per_image


def pycocotools_alone(gt: dict, results: list[dict]) -> tuple[list[float], Clock]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with Clock() as clock, contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        evaluator = COCOeval(coco_gt, coco_gt.loadRes(results), "bbox")
        evaluator.params.imgIds = sorted(img["id"] for img in gt["images"])
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return [float(v) for v in evaluator.stats], clock


def ours(gt: dict, per_image, out: Path, backend: str) -> tuple[list[float], Clock, int]:
    with Clock() as clock:
        category_ids = category_map((c["id"] for c in gt["categories"]), 80)
        results: list[dict] = []
        for image_id, width, height, classes, scores, boxes in per_image:
            results.extend(detections_to_results(image_id, width, height, classes, scores,
                                                 boxes, category_ids))
        atomic_write_json(out, results)
        stats = evaluate(gt, results, (img["id"] for img in gt["images"]), backend=backend)
    return list(stats.values()), clock, len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    gt, per_image = synth(args.images, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        stats_a, time_a, count = ours(gt, per_image, Path(tmp) / "r.json", "pycocotools")
        # the baseline gets the very results list our path wrote (re-read: no shared state)
        import json

        results = json.loads((Path(tmp) / "r.json").read_text())
    print(f"{args.images} images, {len(gt['annotations'])} GT boxes, {count} detections")
    stats_b, time_b = pycocotools_alone(gt, results)
    print(f"A ours (convert + JSON + COCOeval, pycocotools): {time_a}")
    print(f"B pycocotools alone (loadRes + COCOeval):        {time_b}")
    print(f"A/B wall {time_a.wall / time_b.wall:.2f}  cpu {time_a.cpu / time_b.cpu:.2f}   "
          f"stats A == B: {stats_a == stats_b}")
    try:
        import faster_coco_eval  # noqa: F401
    except ImportError:
        print("C faster-coco-eval not installed (pip install 'enet4y2[fast]')")
        return
    with tempfile.TemporaryDirectory() as tmp:
        stats_c, time_c, _ = ours(gt, per_image, Path(tmp) / "r.json", "faster-coco-eval")
    print(f"C ours with faster-coco-eval:                    {time_c}")
    print(f"C/B wall {time_c.wall / time_b.wall:.2f}  cpu {time_c.cpu / time_b.cpu:.2f}   "
          f"stats C == B (to 1e-12): {np.allclose(stats_c, stats_b, rtol=0, atol=1e-12)}   "
          f"max |C-B| = {max(abs(c - b) for c, b in zip(stats_c, stats_b, strict=True)):.2e}")
    print("AP50-95 AP50 AP75 (B):", " ".join(f"{v:.3f}" for v in stats_b[:3]))


if __name__ == "__main__":
    main()
