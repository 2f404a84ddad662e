"""`data import` of a COCO-style JSON at 100k images, against globox (the library its
tests use as the oracle) doing the same conversion.

Generated: N images (default 100,000) of 320..640 px, ~7 boxes each (COCO's density),
80 categories, 1 % crowd boxes and 1 % boxes running off the image. The image files
are empty (only their existence is checked; sizes come from the JSON), made once.

  A. ours: `import_dataset` end to end: read the JSON, map classes, clip, split, write
     every label file, symlink every image, train/valid lists, obj.data, the COCO GT of
     valid.txt, all in a staging folder renamed at the end.
  B. globox: `AnnotationSet.from_coco` + `save_yolo_darknet` (labels only: no image
     links, lists, split or GT; no clipping, crowd boxes kept).

Prints wall and CPU seconds and the ratio A/B of each, interleaved rounds, medians.

  nice python -m benchmarks.bench_import [--images 100000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from enet4y2.dataset.importer import ImportOptions, import_dataset


def make_coco(root: Path, n: int, seed: int = 0) -> Path:
    """The JSON and n empty image files under root/images."""
    rng = np.random.default_rng(seed)
    images_dir = root / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    widths = rng.integers(320, 641, n)
    heights = rng.integers(320, 641, n)
    images = []
    for i in range(n):
        name = f"{i:012d}.jpg"
        (images_dir / name).touch()
        images.append({"id": i + 1, "file_name": name, "width": int(widths[i]),
                       "height": int(heights[i])})
    counts = rng.poisson(7, n)
    owner = np.repeat(np.arange(n), counts)
    m = len(owner)
    w = rng.uniform(0.02, 0.6, m) * widths[owner]
    h = rng.uniform(0.02, 0.6, m) * heights[owner]
    x = rng.uniform(0, 1, m) * (widths[owner] - w * 0.99)
    y = rng.uniform(0, 1, m) * (heights[owner] - h * 0.99)
    off = rng.random(m) < 0.01
    x[off] += w[off]  # runs off the right edge: clipped
    crowd = (rng.random(m) < 0.01).astype(int)
    cats = rng.integers(1, 81, m)
    anns = [{"id": j + 1, "image_id": int(owner[j]) + 1, "category_id": int(cats[j]),
             "bbox": [round(float(x[j]), 2), round(float(y[j]), 2), round(float(w[j]), 2),
                      round(float(h[j]), 2)], "area": float(w[j] * h[j]),
             "iscrowd": int(crowd[j])} for j in range(m)]
    doc = {"images": images, "annotations": anns,
           "categories": [{"id": c, "name": f"class{c:02d}"} for c in range(1, 81)]}
    path = root / "instances.json"
    path.write_text(json.dumps(doc))
    return path


def clock(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def ours(src: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    import_dataset(ImportOptions("coco", src, out, images=src.parent / "images"))


def globox_run(src: Path, out: Path) -> None:
    import globox

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    aset = globox.AnnotationSet.from_coco(src)
    names = sorted({b.label for a in aset for b in a.boxes})
    aset.save_yolo_darknet(out, label_to_id={n: i for i, n in enumerate(names)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        src = make_coco(root, args.images)
        boxes = len(json.loads(src.read_bytes())["annotations"])
        print(f"generated {args.images} images, {boxes} boxes, {src.stat().st_size / 1e6:.0f} "
              f"MB JSON in {time.perf_counter() - t:.1f} s")
        results: dict[str, list[tuple[float, float]]] = {"ours": [], "globox": []}
        for r in range(args.rounds):
            results["ours"].append(clock(lambda: ours(src, root / "out")))
            results["globox"].append(clock(lambda: globox_run(src, root / "gb")))
            print(f"round {r + 1}: ours {results['ours'][-1][0]:.1f} s wall, globox "
                  f"{results['globox'][-1][0]:.1f} s wall")
        med = {k: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v))
               for k, v in results.items()}
        print(f"{'':8} {'wall s':>8} {'cpu s':>8}")
        for k, (wall, cpu) in med.items():
            print(f"{k:8} {wall:8.1f} {cpu:8.1f}")
        print(f"ratio ours/globox: wall {med['ours'][0] / med['globox'][0]:.2f}, "
              f"cpu {med['ours'][1] / med['globox'][1]:.2f}")
        print(f"goal: ours under 60 s wall for {args.images} images: "
              f"{'met' if med['ours'][0] < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
