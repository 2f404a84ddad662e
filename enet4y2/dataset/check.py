"""`data check`: a report on a darknet dataset (a .data file, or a folder holding one):
what darknet would trip over (missing images and labels, bad label lines, duplicates)
and how the boxes meet the network (input size, heads' strides, anchors)."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from enet4y2.data.files import IMAGE_EXTENSIONS, label_path, read_data_file, read_list, read_names
from enet4y2.data.labels import parse_label_text
from enet4y2.dataset import survey
from enet4y2.errors import CfgError, DataError, MissingFileError

EXAMPLES = 5


@dataclass
class CheckReport:
    data: Path
    names: list[str]
    width: int
    height: int
    heads: list[survey.Head]
    anchors: list[tuple[float, float]]
    images: dict[str, int] = field(default_factory=dict)  # split -> listed
    missing_images: list[str] = field(default_factory=list)
    without_labels: list[str] = field(default_factory=list)
    empty_labels: int = 0
    labels_without_images: list[str] = field(default_factory=list)
    duplicates: list[list[str]] = field(default_factory=list)
    duplicates_across_splits: int = 0
    problems: Counter = field(default_factory=Counter)  # kind -> lines
    problem_examples: list[str] = field(default_factory=list)
    class_counts: dict[str, Counter] = field(default_factory=dict)  # split -> class -> boxes
    boxes: int = 0
    sizes: dict[str, int] = field(default_factory=dict)
    fit: survey.AnchorFit | None = None
    wh: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    classes_of_boxes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))

    def as_dict(self) -> dict:
        fit = self.fit
        return {
            "data": str(self.data), "names": self.names,
            "input": [self.width, self.height],
            "heads": [{"stride": h.stride, "mask": list(h.mask)} for h in self.heads],
            "anchors": [list(a) for a in self.anchors], "images": self.images,
            "missing_images": len(self.missing_images),
            "images_without_labels": len(self.without_labels),
            "empty_labels": self.empty_labels,
            "labels_without_images": len(self.labels_without_images),
            "duplicate_groups": len(self.duplicates),
            "duplicates_across_splits": self.duplicates_across_splits,
            "label_problems": dict(self.problems),
            "examples": {"missing_images": self.missing_images[:EXAMPLES],
                         "images_without_labels": self.without_labels[:EXAMPLES],
                         "labels_without_images": self.labels_without_images[:EXAMPLES],
                         "duplicates": self.duplicates[:EXAMPLES],
                         "label_problems": self.problem_examples[:EXAMPLES]},
            "class_counts": {s: {self.names[c] if c < len(self.names) else str(c): n
                                 for c, n in sorted(counts.items())}
                             for s, counts in self.class_counts.items()},
            "boxes": self.boxes, "box_sizes": self.sizes,
            "anchor_fit": None if fit is None else {
                "boxes_per_head": {str(k): v for k, v in fit.per_head.items()},
                "unassigned": fit.unassigned, "poor_fit": fit.poor_fit,
                "poor_fit_below": survey.POOR_FIT,
                "below_finest_stride": fit.below_finest_stride, "mean_iou": fit.mean_iou,
                "kmeans_mean_iou": fit.kmeans_iou, "kmeans_anchors": fit.kmeans_anchors,
                "suggest_anchors_from": fit.suggest_anchors},
        }


def find_data_file(path: Path) -> Path:
    """`path` itself, or the one .data file of a folder (obj.data first)."""
    if path.is_dir():
        if (path / "obj.data").is_file():
            return path / "obj.data"
        found = sorted(path.glob("*.data"))
        if len(found) != 1:
            raise MissingFileError(f"{path}: {len(found) or 'no'} .data files — name one")
        return found[0]
    return path


def network(cfg_path: Path | None, classes: int) -> tuple[int, int, list[survey.Head],
                                                            np.ndarray]:
    """(width, height, heads, anchors) of the cfg, or of B0-4Y at 416 without one."""
    from enet4y2.cfg import infer, load_cfg
    from enet4y2.cfg.builders import enet4y2_cfg

    cfg = load_cfg(cfg_path) if cfg_path else enet4y2_cfg(classes=max(classes, 1))
    model = infer(cfg, batch=1)
    grids = [layer for layer in model.layers if layer.type == "yolo"]
    sections = cfg.yolo_sections
    if not sections or len(grids) != len(sections):
        raise CfgError(f"{cfg_path}: no [yolo] layers — data check needs a YOLO detector cfg")
    heads, anchors = [], None
    for section, layer in zip(sections, grids, strict=True):
        values = [float(v) for v in (section.get("anchors") or "").split(",") if v.strip()]
        anchors = np.asarray(values, np.float64).reshape(-1, 2)
        mask = tuple(int(v) for v in (section.get("mask") or "").split(",") if v.strip())
        heads.append(survey.Head(max(1, round(cfg.width / max(layer.in_w, 1))),
                                 mask or tuple(range(len(anchors)))))
    return cfg.width, cfg.height, heads, anchors


def _resolve(value: str, base: Path) -> Path:
    p = Path(value)
    return p if p.is_absolute() or p.exists() else base / p


def check_dataset(data: Path, cfg: Path | None = None, hash_images: bool = True,
                  progress: Callable[[int, int], None] | None = None) -> CheckReport:
    """The report (see the module doc)."""
    data = find_data_file(data)
    options = read_data_file(data, "check DATA")
    base = data.parent
    names = read_names(_resolve(options["names"], base)) if "names" in options else []
    try:
        classes = int(options.get("classes", len(names)) or 0)
    except ValueError:
        raise DataError(f"{data}: classes={options['classes']!r} is not a number") from None
    width, height, heads, anchors = network(cfg, classes)
    report = CheckReport(data, names, width, height, heads, [tuple(a) for a in anchors])
    lists, own = {}, {data.resolve()}
    for split in ("train", "valid"):
        if split in options:
            list_file = _resolve(options[split], base)
            own.add(list_file.resolve())
            lists[split] = [_resolve(p, base) for p in read_list(list_file, f"check {split}=")]
    if not lists:
        raise DataError(f"{data}: no train= or valid= — not a darknet .data file")
    total = sum(len(v) for v in lists.values())
    digests: dict[str, str] = {}
    splits_of: dict[str, set[str]] = {}
    wh, cls_of_box, done = [], [], 0
    image_dirs: dict[Path, set[Path]] = {}  # label folder -> folders of its images
    seen: dict[str, np.ndarray | None] = {}  # an image listed again: its boxes, read once
    for split, images in lists.items():
        report.images[split] = len(images)
        counts = report.class_counts.setdefault(split, Counter())
        for image in images:
            done += 1
            if progress and (done % 500 == 0 or done == total):
                progress(done, total)
            key = str(image)
            splits_of.setdefault(key, set()).add(split)
            if key in seen:  # problems, sizes and anchors count each image once
                again = seen[key]
                counts.update([] if again is None else again[:, 0].astype(int).tolist())
                continue
            seen[key] = None
            if not image.is_file():
                report.missing_images.append(key)
                continue
            if hash_images:
                digests[key] = _digest(image)
            label = Path(label_path(key))
            image_dirs.setdefault(label.parent, set()).add(image.parent)
            try:
                text = label.read_text(errors="replace")
            except OSError:
                report.without_labels.append(key)
                continue
            rows, problems = parse_label_text(text, classes or None)
            for p in problems:
                report.problems[p.kind] += 1
                if len(report.problem_examples) < EXAMPLES:
                    report.problem_examples.append(f"{label}:{p}")
            if not len(rows):
                report.empty_labels += 1
                continue
            good = seen[key] = _good_rows(rows, classes) if problems else rows
            counts.update(good[:, 0].astype(int).tolist())
            wh.append(good[:, 3:5] * (width, height))
            cls_of_box.append(good[:, 0].astype(np.intp))
    report.labels_without_images = _orphans(image_dirs, own)
    report.duplicates = survey.duplicate_groups(digests)
    report.duplicates_across_splits = sum(
        1 for g in report.duplicates if len(set().union(*(splits_of[p] for p in g))) > 1)
    report.wh = np.concatenate(wh) if wh else np.zeros((0, 2))
    report.classes_of_boxes = np.concatenate(cls_of_box) if cls_of_box else np.zeros(0, np.intp)
    report.boxes = len(report.wh)
    report.sizes = survey.size_histogram(report.wh)
    if report.boxes:
        report.fit = survey.anchor_fit(report.wh, anchors, heads)
    return report


def _digest(path: Path) -> str:
    """SHA-1 of a file's bytes, read in chunks (hashlib.file_digest is Python 3.11+)."""
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _good_rows(rows: np.ndarray, classes: int) -> np.ndarray:
    """The rows darknet would train on: class in range, coordinates in (0, 1]."""
    coords = rows[:, 1:]
    ok = np.all(np.isfinite(coords) & (coords > 0) & (coords <= 1), axis=1)
    if classes:
        ok &= (rows[:, 0] >= 0) & (rows[:, 0] < classes)
    return rows[ok]


def _orphans(image_dirs: dict[Path, set[Path]], own: set[Path]) -> list[str]:
    """.txt files in the label folders that no image maps to by darknet's rule (beside
    the image, or labels/ for JPEGImages/ and COCO's images/): images looked for in the
    folders of the listed images, listed or not. The dataset's own files are left out."""
    out = []
    for folder, sources in sorted(image_dirs.items()):
        have = set()
        for source in sources:
            try:
                entries = os.listdir(source)
            except OSError:
                continue
            have.update(label_path(str(source / e)) for e in entries
                        if e.endswith(IMAGE_EXTENSIONS))
        try:
            labels = sorted(e for e in os.listdir(folder) if e.endswith(".txt"))
        except OSError:
            continue
        for entry in labels:
            path = folder / entry
            if str(path) not in have and path.resolve() not in own:
                out.append(str(path))
    return out
