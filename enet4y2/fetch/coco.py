"""COCO 2014 the way darknet users expect it, fetched right the first time.

The plan (which files, from which hosts, with which known sizes and hashes) is data;
`fetch_coco` runs it: verify-or-download in parallel, extract safely, labels (labels.tgz,
or from the instances JSON), the lists with absolute paths, `coco.names` and `coco.data`.
The layout is the seed's:

    ROOT/coco/images/{train2014,val2014}/*.jpg
    ROOT/coco/labels/{train2014,val2014}/*.txt
    ROOT/coco/annotations/instances_{train,val}2014.json
    ROOT/coco/{5k,trainvalno5k}.txt, coco.names, coco.data
    ROOT/coco/downloads/   the archives, their manifest.json (computed sha256)
    ROOT/backup/           darknet's backup directory named in coco.data

Progress goes through `Steps` (extraction, labels) and `download.Observer` (bytes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

from enet4y2.data import coco as coco_labels
from enet4y2.errors import DataError, DownloadError
from enet4y2.fetch import extract, sniff
from enet4y2.fetch.download import (
    Downloader,
    FileSpec,
    Observer,
    part_path,
)
from enet4y2.fetch.http import fetch_text, remote_size
from enet4y2.fetch.space import check_disk_space, free_bytes
from enet4y2.fetch.verify import parse_sha256sums
from enet4y2.fileio import atomic_write

COCO_IMAGE_HOST = "http://images.cocodataset.org/zips/"
PJREDDIE_HOST = "https://pjreddie.com/media/files/"
MIRROR_ENV = "ENET4Y2_COCO_MIRROR"
SUMS_NAME = "SHA256SUMS"
LABELS_MARKER = ".enet4y2-labels-from-json.done"
#: label files are tiny: what one costs on disk (a file-system block)
LABEL_FILE_BYTES = 4096


@dataclass(frozen=True)
class CocoFile:
    """One file of the dataset: where it comes from and what becomes of it."""

    name: str
    url: str
    size: int | None = None
    sha256: str | None = None
    #: directory under coco/ it is extracted into; None for plain files
    extract_to: str | None = None
    #: estimated extracted bytes per downloaded byte (disk-space check)
    extract_factor: float = 0.0

    @property
    def content_check(self) -> Callable[[Path], str | None]:
        """What the bytes must look like (no hash vouches for pjreddie's files: an HTML
        error page served with 200 must not pass for them)."""
        return sniff.archive_problem if self.extract_to is not None else sniff.list_problem


#: COCO 2014 as the seed fetches it. Sizes/sha256: TensorFlow Datasets' coco2014
#: checksums (also in torchvision); the pjreddie files have no published hashes.
COCO2014 = (
    CocoFile("train2014.zip", COCO_IMAGE_HOST + "train2014.zip", 13510573713,
             "ede4087e640bddba550e090eae701092534b554b42b05ac33f0300b984b31775", "images", 1.0),
    CocoFile("val2014.zip", COCO_IMAGE_HOST + "val2014.zip", 6645013297,
             "fe9be816052049c34717e077d9e34aa60814a55679f804cd043e3cbee3b9fde0", "images", 1.0),
    CocoFile("instances_train-val2014.zip", PJREDDIE_HOST + "instances_train-val2014.zip",
             extract_to=".", extract_factor=5.0),
    CocoFile("5k.part", PJREDDIE_HOST + "coco/5k.part"),
    CocoFile("trainvalno5k.part", PJREDDIE_HOST + "coco/trainvalno5k.part"),
    CocoFile("labels.tgz", PJREDDIE_HOST + "coco/labels.tgz", extract_to=".",
             extract_factor=30.0),
)
LISTS = {"5k.part": "5k.txt", "trainvalno5k.part": "trainvalno5k.txt"}
INSTANCES = {"train2014": "instances_train2014.json", "val2014": "instances_val2014.json"}


class Steps:
    """Progress of the steps besides downloads (extractions, labels), keyed because
    archives are extracted in the download workers, several at a time. Default: silent."""

    def begin(self, key: str, description: str, total: int | None) -> None: ...
    def advance(self, key: str, n: int) -> None: ...
    def end(self, key: str) -> None: ...


@dataclass
class PlanItem:
    file: CocoFile
    #: "extracted", "verified", "partial", "missing", "corrupt" (fetched again)
    state: str
    to_download: int | None
    extract_space: int


@dataclass
class CocoReport:
    coco_dir: Path
    items: list[PlanItem]
    needed_bytes: int
    free_bytes: int
    labels_source: str = ""
    warnings: list[str] | None = None
    #: after a real run: name -> {"status": downloaded|cached, "sha256", "size"}
    fetched: dict[str, dict] | None = None

    def as_dict(self) -> dict:
        return {
            "coco_dir": str(self.coco_dir),
            "needed_bytes": self.needed_bytes,
            "free_bytes": self.free_bytes,
            "labels_source": self.labels_source,
            "warnings": self.warnings or [],
            "fetched": self.fetched or {},
            "files": [{**asdict(i.file), "state": i.state, "to_download": i.to_download,
                       "extract_space": i.extract_space} for i in self.items],
        }


def resolve_mirror(mirror: str | None) -> str | None:
    """The mirror base URL: the option, else `$ENET4Y2_COCO_MIRROR`, always ending in '/'."""
    base = mirror or os.environ.get(MIRROR_ENV) or None
    return base.rstrip("/") + "/" if base else None


def plan_files(
    mirror: str | None, mirror_sums: dict[str, str] | None, labels_from_json: bool
) -> list[CocoFile]:
    """The files to fetch (pure). A mirror serves every file under one base URL; hashes
    in its SHA256SUMS win over the built-in ones (and drop the built-in size: a mirror
    may serve different bytes as long as they verify against its own sums)."""
    files = []
    for f in COCO2014:
        if labels_from_json and f.name == "labels.tgz":
            continue
        if mirror:
            f = replace(f, url=mirror + f.name)
        if mirror_sums and f.name in mirror_sums:
            f = replace(f, sha256=mirror_sums[f.name], size=None)
        files.append(f)
    return files


def fetch_coco(
    root: Path,
    *,
    mirror: str | None = None,
    jobs: int = 4,
    labels_from_json: bool = False,
    dry_run: bool = False,
    observer: Observer | None = None,
    steps: Steps | None = None,
    warn: Callable[[str], None] | None = None,
    free_probe: Callable[[Path], int] | None = None,
    retries: int = 5,
    backoff: float = 1.0,
) -> CocoReport:
    """Fetch COCO 2014 into `root/coco` (see the module doc); returns what was planned."""
    coco = root.resolve() / "coco"
    steps = steps or Steps()
    warnings: list[str] = []

    def warned(message: str) -> None:
        warnings.append(message)
        if warn:
            warn(message)

    base = resolve_mirror(mirror)
    sums = None
    if base:
        text = fetch_text(base + SUMS_NAME)
        sums = parse_sha256sums(text) if text is not None else None
    files = plan_files(base, sums, labels_from_json)
    downloader = Downloader(coco / "downloads", observer=observer or Observer(),
                            retries=retries, backoff=backoff)
    items = [_plan_item(f, coco, downloader) for f in files]
    needed = sum((i.to_download or 0) + i.extract_space for i in items)
    if labels_from_json or not any(f.name == "labels.tgz" for f in files):
        needed += 0 if (coco / "labels" / LABELS_MARKER).exists() else 125_000 * LABEL_FILE_BYTES
    check = free_bytes if dry_run else partial(check_disk_space, needed=needed)
    free = check(coco, free_probe=free_probe)
    report = CocoReport(coco, items, needed, free, warnings=warnings)
    if dry_run:
        return report

    todo = [i.file for i in items if i.state != "extracted"]
    by_name = {f.name: f for f in todo}

    def extract_when_fetched(result) -> None:
        # Runs in the download worker: val2014.zip is extracted while train2014.zip
        # is still downloading.
        f = by_name[result.name]
        if f.extract_to is None:
            return
        steps.begin(f.name, f"extract {f.name}", extract.total_size(result.path))
        extract.extract(result.path, coco / f.extract_to,
                        lambda n: steps.advance(f.name, n), record={"sha256": result.sha256},
                        free_probe=free_probe)
        steps.end(f.name)

    specs = [_spec(f) for f in todo]
    results = downloader.fetch_all(specs, jobs, optional={"labels.tgz"},
                                   on_done=extract_when_fetched)
    report.fetched = {r.name: {"status": r.status, "sha256": r.sha256, "size": r.size}
                      for r in results}
    if "labels.tgz" in downloader.failures:
        warned(f"labels.tgz unavailable ({downloader.failures['labels.tgz']}); "
               "making labels from the instances JSON instead")

    labels_tgz_done = extract.is_extracted(coco / "downloads" / "labels.tgz", coco)
    if labels_tgz_done and not labels_from_json:
        report.labels_source = "labels.tgz"
    else:
        report.labels_source = "instances JSON"
        write_labels_from_json(coco, steps)
    write_lists(coco)
    write_names_and_data(coco, root.resolve() / "backup")
    return report


def _spec(f: CocoFile) -> FileSpec:
    return FileSpec(f.name, f.url, f.size, f.sha256, check=f.content_check)


def _plan_item(f: CocoFile, coco: Path, downloader: Downloader) -> PlanItem:
    archive = coco / "downloads" / f.name
    if f.extract_to is not None:
        marker = extract.read_marker(archive, coco / f.extract_to)
        if marker is not None and (f.sha256 is None or marker.get("sha256") == f.sha256):
            return PlanItem(f, "extracted", 0, 0)
    size = f.size if f.size is not None else remote_size(f.url)
    part = part_path(archive)
    if archive.exists():
        good = downloader.is_verified(_spec(f))
        state, pending = ("verified", 0) if good else ("corrupt", size)
    elif part.exists():
        state = "partial"
        pending = None if size is None else max(0, size - part.stat().st_size)
    else:
        state, pending = "missing", size
    space = int((size or 0) * f.extract_factor) if f.extract_to is not None else 0
    return PlanItem(f, state, pending, space)


def write_labels_from_json(coco: Path, steps: Steps) -> None:
    """labels/<split>/*.txt from annotations/instances_<split>.json (marker written last)."""
    labels_dir = coco / "labels"
    marker = labels_dir / LABELS_MARKER
    if marker.exists():
        return
    for split, json_name in INSTANCES.items():
        path = coco / "annotations" / json_name
        if not path.is_file():
            raise DataError(f"{path} is missing; fetch instances_train-val2014.zip again "
                            "(delete its .enet4y2-extracted marker) or pass --mirror")
        key = f"labels {split}"
        # Progress in bytes throughout (JSON read, then label text written), one unit
        # for every bar of the shared display.
        steps.begin(key, f"labels {split} (reading JSON)", path.stat().st_size)
        instances = json.loads(path.read_bytes())
        texts = coco_labels.labels_from_instances(instances)
        del instances
        steps.end(key)
        out_dir = labels_dir / split
        out_dir.mkdir(parents=True, exist_ok=True)
        steps.begin(key, f"labels {split}", sum(map(len, texts.values())))
        for image_name, text in texts.items():
            with open(out_dir / coco_labels.label_file_name(image_name), "w") as fh:
                fh.write(text)
            steps.advance(key, len(text))
        steps.end(key)
    atomic_write(marker, "labels made from the instances JSON; crowd boxes left out\n")


def write_lists(coco: Path) -> None:
    """5k.txt and trainvalno5k.txt: the .part lists with the dataset's absolute path;
    a .part holding anything but image paths is refused, never copied into a list."""
    for part, txt in LISTS.items():
        path = coco / "downloads" / part
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{path} is not UTF-8 text; delete it and run fetch-coco "
                            "again") from None
        try:
            lines = coco_labels.list_lines(text, str(coco), source=str(path))
        except DataError as exc:
            raise DataError(f"{exc}; delete it and run fetch-coco again") from None
        atomic_write(coco / txt, lines)


def write_names_and_data(coco: Path, backup: Path) -> None:
    """coco.names (from the instances JSON's categories) and coco.data."""
    names = read_category_names(coco / "annotations" / INSTANCES["val2014"])
    atomic_write(coco / "coco.names", "".join(n + "\n" for n in names))
    backup.mkdir(parents=True, exist_ok=True)
    atomic_write(coco / "coco.data",
                      coco_labels.coco_data_text(str(coco), str(backup), len(names)))


def read_category_names(path: Path) -> list[str]:
    """Category names in class order. COCO's JSON ends with "categories", so the tail of
    the file usually suffices; otherwise the whole file is parsed."""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - (1 << 18)))
            tail = fh.read().decode("utf-8", "replace")
        at = tail.rfind('"categories"')
        if at >= 0:
            start = tail.index("[", at)
            categories, _ = json.JSONDecoder().raw_decode(tail[start:])
            return coco_labels.category_names({"categories": categories})
    except (OSError, ValueError):
        pass
    try:
        return coco_labels.category_names(json.loads(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise DownloadError(f"cannot read categories from {path} ({exc}); "
                            "delete it and run fetch-coco again") from exc
