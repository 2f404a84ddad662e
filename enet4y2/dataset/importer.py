"""`data import`: an annotation source -> darknet's layout, built in a staging folder
beside the output and renamed into place when complete (an interrupted import leaves
only the staging folder, which the next run removes and rebuilds).

    OUT/images/<path as the annotations name it>   the image (symlink, hardlink or copy)
    OUT/images/<...>.txt                           its label file (darknet's label_path)
    OUT/train.txt, OUT/valid.txt                   absolute image paths
    OUT/obj.names, OUT/obj.data                    classes, train, valid, names, backup
    OUT/valid_gt.json                              COCO ground truth of valid.txt (eval --gt)
    OUT/import.json                                the summary (written last)
    OUT/backup/                                    darknet's backup folder
"""

from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2.data import annotations as ann
from enet4y2.data.files import data_file_text, label_path, read_names
from enet4y2.dataset.sources import fill_sizes, read_source
from enet4y2.errors import DataError, OutputError, UsageError
from enet4y2.fileio import atomic_write, json_text

LINKS = ("symlink", "hardlink", "copy")
REPORT_NAME = "import.json"


@dataclass
class ImportOptions:
    fmt: str
    src: Path
    out: Path
    images: Path | None = None
    names: Path | None = None  # a YOLO source's class names
    classes: Path | None = None  # the wanted classes, in darknet order
    drop_unknown: bool = False
    include_crowd: bool = False
    keep_difficult: bool = False
    val: float = 0.1
    seed: int = 0
    link: str = "symlink"
    force: bool = False


@dataclass
class ImportReport:
    out: Path
    names: list[str]
    source_classes: list[str]
    summary: ann.Summary
    train: int
    valid: int
    link: str
    sizes_read: int
    skipped_shapes: int
    missing_images: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"out": str(self.out), "names": self.names,
                "source_classes": self.source_classes, "train": self.train,
                "valid": self.valid, "link": self.link, "sizes_read": self.sizes_read,
                "skipped_shapes": self.skipped_shapes,
                "missing_images": len(self.missing_images),
                "missing_examples": self.missing_images[:10],
                **self.summary.as_dict(self.names),
                "files": {k: str(self.out / v) for k, v in (
                    ("data", "obj.data"), ("names", "obj.names"), ("train", "train.txt"),
                    ("valid", "valid.txt"), ("gt", "valid_gt.json"))}}


Progress = Callable[[str, int, int], None]


def output_name(file: str) -> str:
    """Where an image goes under OUT/images: its relative path, normalized; absolute
    paths and paths leaving the image folder keep only their file name."""
    rel = posixpath.normpath(file.replace("\\", "/"))
    if rel.startswith(("/", "../")) or rel in ("..", "."):
        return posixpath.basename(rel)
    return rel


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file — choose a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise OutputError(f"--out {out} is not empty — choose a new folder, or --force "
                              "to replace an earlier import")
        if not (out / REPORT_NAME).is_file():
            raise OutputError(f"--out {out} is not an earlier import (no {REPORT_NAME}); "
                              "refusing to replace it — choose a new folder")


def _place(source: str, target: str, link: str) -> None:
    try:
        if link == "symlink":
            os.symlink(source, target)
        elif link == "hardlink":
            os.link(source, target)
        else:
            shutil.copyfile(source, target)
    except OSError as exc:
        raise OutputError(f"cannot {link} {source} to {target}: {exc.strerror or exc}") \
            from None


def import_dataset(opts: ImportOptions, progress: Progress | None = None) -> ImportReport:
    """Run the import (see the module doc); DataError/OutputError on bad input."""
    if opts.link not in LINKS:
        raise UsageError(f"--link {opts.link}: choose from {', '.join(LINKS)}")
    out = opts.out.resolve()
    _check_out(out, opts.force)
    tell = progress or (lambda stage, done, total: None)
    tell("reading annotations", 0, 0)
    staging, old = out.parent / f".{out.name}.partial", out.parent / f".{out.name}.old"
    located = read_source(opts.fmt, opts.src, opts.images, opts.names,
                          skip=frozenset((out, staging, old)))
    source = located.source
    wanted = read_names(opts.classes, "check --classes") if opts.classes else None
    names, index = ann.class_mapping(source.classes, wanted, opts.drop_unknown)

    # Strings, not Paths, in the per-image loops: at 100k images pathlib's parsing costs
    # more than the file-system calls (benchmarks/bench_import.py).
    root = os.path.abspath(located.images_root)
    images, paths, names_out, missing = [], [], [], []
    seen: dict[str, str] = {}
    for image in source.images:
        path = os.path.join(root, image.file)  # an absolute image.file stays as it is
        if not os.path.isfile(path):
            missing.append(image.file)
            continue
        name = output_name(image.file)
        if name in seen:
            raise DataError(f"images {seen[name]!r} and {image.file!r} would both be "
                            f"{name!r} in the output — rename one")
        seen[name] = image.file
        images.append(image)
        paths.append(path)
        names_out.append(name)
    if not images:
        where = located.images_root
        raise DataError(f"none of the {len(source.images)} annotated images was found under "
                        f"{where} — pass --images DIR")
    sizes_read = source.sizes_read + fill_sizes(images, paths,
                                                lambda n: tell("reading image sizes", n, 0))
    rows, summary = ann.prepare(images, index, include_crowd=opts.include_crowd,
                                keep_difficult=opts.keep_difficult)
    train, valid = ann.split_indices(len(images), opts.val, opts.seed)

    try:
        report = _write(opts, out, staging, images, paths, names_out, rows, names, train,
                        valid, ImportReport(out, names, list(source.classes), summary,
                                            len(train), len(valid), opts.link, sizes_read,
                                            source.skipped_shapes, missing), tell)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        where = exc.filename or staging
        raise OutputError(f"--out {out}: cannot write {where}: {exc.strerror or exc}") \
            from None
    _swap(staging, out)
    return report


def _write(opts: ImportOptions, out: Path, staging: Path, images, paths, names_out, rows,
           names, train, valid, report: ImportReport, tell) -> ImportReport:
    """Images, labels, lists, obj.data, the GT and the report, into `staging`."""
    if staging.exists():
        shutil.rmtree(staging)  # an interrupted earlier run: start it again
    out_s, stage_s = str(out), str(staging)
    final_paths = [f"{out_s}/images/{n}" for n in names_out]
    made: set[str] = set()
    total = len(images)
    for i, image in enumerate(images):
        final = final_paths[i]
        label = label_path(final)
        if not label.startswith(out_s + "/"):  # darknet's rule rewrote part of --out itself
            raise OutputError(f"--out {out} holds a folder name darknet remaps for labels "
                              "(images/train2017, JPEGImages...) — choose another --out")
        for target in (stage_s + final[len(out_s):], stage_s + label[len(out_s):]):
            folder = os.path.dirname(target)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
        _place(paths[i], stage_s + final[len(out_s):], opts.link)
        with open(stage_s + label[len(out_s):], "w") as fh:
            fh.write(ann.label_text(rows[i], image.width, image.height))
        if i % 1000 == 0 or i + 1 == total:
            tell("writing images and labels", i + 1, total)
    valid_list = valid or train  # no validation split: darknet's valid= is the train list
    atomic_write(staging / "train.txt", "".join(final_paths[i] + "\n" for i in train))
    atomic_write(staging / "valid.txt", "".join(final_paths[i] + "\n" for i in valid_list))
    atomic_write(staging / "obj.names", "".join(n + "\n" for n in names))
    (staging / "backup").mkdir(exist_ok=True)
    atomic_write(staging / "obj.data", data_file_text({
        "classes": str(len(names)), "train": str(out / "train.txt"),
        "valid": str(out / "valid.txt"), "names": str(out / "obj.names"),
        "backup": str(out / "backup")}))
    gt = ann.coco_ground_truth([(posixpath.basename(names_out[i]), images[i].width,
                                 images[i].height, rows[i]) for i in valid_list], names)
    atomic_write(staging / "valid_gt.json", json_text(gt))
    atomic_write(staging / REPORT_NAME, json_text(report.as_dict(), indent=2))
    return report


def _swap(staging: Path, out: Path) -> None:
    """Put the finished staging folder at `out` (an earlier import there goes away)."""
    old = out.parent / f".{out.name}.old"  # as import_dataset names it
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    if old.exists():
        shutil.rmtree(old)
