"""Pascal VOC 2007 (trainval, test) and 2012 (trainval) in darknet's layout, with the
engine of fetch-coco: parallel resumable downloads verified by size and sha256, safe
extraction, a dry run. Then the labels and lists as upstream's scripts/voc_label.py
makes them (`enet4y2.data.voc`), voc.names, voc.data, and 2007_test_gt.json (COCO ground
truth of the test list, difficult objects as ignored regions) for `eval --gt`:

    ROOT/voc/VOCdevkit/VOC{2007,2012}/{Annotations,ImageSets,JPEGImages,labels}/
    ROOT/voc/{2007_train,2007_val,2007_test,2012_train,2012_val}.txt, train.txt
    ROOT/voc/voc.names, voc.data, 2007_test_gt.json
    ROOT/voc/downloads/    the tars and their manifest.json
    ROOT/backup/
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

from enet4y2.data import voc as voc_layout
from enet4y2.data.annotations import coco_ground_truth
from enet4y2.errors import DataError
from enet4y2.fetch import extract
from enet4y2.fetch.coco import (
    PJREDDIE_HOST,
    SUMS_NAME,
    CocoFile,
    PlanItem,
    Steps,
    _plan_item,
    _spec,
    resolve_mirror,
)
from enet4y2.fetch.download import Downloader, Observer
from enet4y2.fetch.http import fetch_text
from enet4y2.fetch.space import check_disk_space, free_bytes
from enet4y2.fetch.verify import parse_sha256sums
from enet4y2.fileio import atomic_write, json_text

LABELS_MARKER = ".enet4y2-voc-labels.done"

#: Sizes and sha256 as published in TensorFlow Datasets' url_checksums/voc.txt (for
#: these pjreddie.com URLs, the mirror upstream darknet's README uses).
VOC_FILES = (
    CocoFile("VOCtrainval_06-Nov-2007.tar", PJREDDIE_HOST + "VOCtrainval_06-Nov-2007.tar",
             460032000, "7d8cd951101b0957ddfd7a530bdc8a94f06121cfc1e511bb5937e973020c7508",
             ".", 1.0),
    CocoFile("VOCtest_06-Nov-2007.tar", PJREDDIE_HOST + "VOCtest_06-Nov-2007.tar",
             451020800, "6836888e2e01dca84577a849d339fa4f73e1e4f135d312430c4856b5609b4892",
             ".", 1.0),
    CocoFile("VOCtrainval_11-May-2012.tar", PJREDDIE_HOST + "VOCtrainval_11-May-2012.tar",
             1999639040, "e14f763270cf193d0b5f74b169f44157a4b0c6efa708f4dd0ff78ee691763bcb",
             ".", 1.0),
)


@dataclass
class VocReport:
    voc_dir: Path
    items: list[PlanItem]
    needed_bytes: int
    free_bytes: int
    fetched: dict[str, dict] | None = None
    images: dict[str, int] | None = None  # list name -> images

    def as_dict(self) -> dict:
        return {"voc_dir": str(self.voc_dir), "needed_bytes": self.needed_bytes,
                "free_bytes": self.free_bytes, "fetched": self.fetched or {},
                "images": self.images or {},
                "files": [{**asdict(i.file), "state": i.state, "to_download": i.to_download,
                           "extract_space": i.extract_space} for i in self.items]}


def plan_files(mirror: str | None, sums: dict[str, str] | None) -> list[CocoFile]:
    """The tars to fetch (pure); a mirror's SHA256SUMS win over the published hashes."""
    files = []
    for f in VOC_FILES:
        if mirror:
            f = replace(f, url=mirror + f.name)
        if sums and f.name in sums:
            f = replace(f, sha256=sums[f.name], size=None)
        files.append(f)
    return files


def fetch_voc(root: Path, *, mirror: str | None = None, jobs: int = 3, dry_run: bool = False,
              observer: Observer | None = None, steps: Steps | None = None,
              free_probe: Callable[[Path], int] | None = None, retries: int = 5,
              backoff: float = 1.0) -> VocReport:
    """Fetch VOC into `root/voc` (see the module doc); returns what was planned."""
    voc = root.resolve() / "voc"
    steps = steps or Steps()
    base = resolve_mirror(mirror)
    sums = None
    if base:
        text = fetch_text(base + SUMS_NAME)
        sums = parse_sha256sums(text) if text is not None else None
    files = plan_files(base, sums)
    downloader = Downloader(voc / "downloads", observer=observer or Observer(),
                            retries=retries, backoff=backoff)
    items = [_plan_item(f, voc, downloader) for f in files]
    needed = sum((i.to_download or 0) + i.extract_space for i in items)
    check = free_bytes if dry_run else partial(check_disk_space, needed=needed)
    report = VocReport(voc, items, needed, check(voc, free_probe=free_probe))
    if dry_run:
        return report
    todo = [i.file for i in items if i.state != "extracted"]
    by_name = {f.name: f for f in todo}

    def extract_when_fetched(result) -> None:
        f = by_name[result.name]
        steps.begin(f.name, f"extract {f.name}", extract.total_size(result.path))
        extract.extract(result.path, voc / f.extract_to, lambda n: steps.advance(f.name, n),
                        record={"sha256": result.sha256}, free_probe=free_probe)
        steps.end(f.name)

    results = downloader.fetch_all([_spec(f) for f in todo], jobs,
                                   on_done=extract_when_fetched)
    report.fetched = {r.name: {"status": r.status, "sha256": r.sha256, "size": r.size}
                      for r in results}
    report.images = write_labels_and_lists(voc, steps)
    (root.resolve() / "backup").mkdir(parents=True, exist_ok=True)
    atomic_write(voc / "voc.names", "".join(n + "\n" for n in voc_layout.VOC_NAMES))
    atomic_write(voc / "voc.data",
                 voc_layout.voc_data_text(str(voc), str(root.resolve() / "backup")))
    return report


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path} cannot be read ({exc.strerror}) — delete "
                        "voc/downloads/*.tar's extraction markers and run fetch-voc again") \
            from None


def write_labels_and_lists(voc: Path, steps: Steps) -> dict[str, int]:
    """Labels, the lists, train.txt and the 2007 test ground truth; labels skipped when
    an earlier run finished them (marker written last)."""
    devkit = voc / "VOCdevkit"
    marker = voc / LABELS_MARKER
    counts, lists, gt_entries = {}, {}, []
    for year, image_set in voc_layout.SETS:
        folder = devkit / f"VOC{year}"
        ids_file = folder / "ImageSets" / "Main" / f"{image_set}.txt"
        ids = voc_layout.image_ids(_read(ids_file).decode(errors="replace"), str(ids_file))
        name = f"{year}_{image_set}"
        key = f"labels {name}"
        steps.begin(key, f"labels {name}", len(ids))
        (folder / "labels").mkdir(parents=True, exist_ok=True)
        for image_id in ids:
            needed = not marker.exists() or name == voc_layout.VALID_LIST
            if needed:
                xml = folder / "Annotations" / f"{image_id}.xml"
                text, width, height, rows = voc_layout.convert(_read(xml), str(xml))
                if not marker.exists():
                    with open(folder / "labels" / f"{image_id}.txt", "w") as fh:
                        fh.write(text)
                if name == voc_layout.VALID_LIST:
                    gt_entries.append((f"{image_id}.jpg", width, height, rows))
            steps.advance(key, 1)
        steps.end(key)
        lists[name] = "".join(f"{folder}/JPEGImages/{i}.jpg\n" for i in ids)
        counts[name] = len(ids)
        atomic_write(voc / f"{name}.txt", lists[name])
    atomic_write(voc / "train.txt", "".join(lists[n] for n in voc_layout.TRAIN_LISTS))
    counts["train"] = sum(counts[n] for n in voc_layout.TRAIN_LISTS)
    atomic_write(voc / "2007_test_gt.json",
                 json_text(coco_ground_truth(gt_entries, list(voc_layout.VOC_NAMES))))
    atomic_write(marker, "labels made as scripts/voc_label.py does; difficult left out\n")
    return counts
