"""The published B0-4Y weights: where they are and the git blob SHA-1 that pins each file.

The files live in github.com/k5iogura/darknetB0-4Y under `backup4y2/` (COCO, backbone)
and `backup4y2VOC/` (Pascal VOC); GitHub serves them raw. A git blob SHA-1 identifies
the exact bytes, so they are verified by it. The VOC file's SHA-1 is the one the
repository's own tree records for it (`git ls-tree` of its master, commit b7038ed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from enet4y2.cfg.builders import BACKBONE_LAYERS, enet4y2_coco_cfg
from enet4y2.errors import UsageError
from enet4y2.fetch.download import Downloader, FetchResult, FileSpec, Observer
from enet4y2.weights.fit import cut_cached
from enet4y2.weights.format import conv_name

REPO_RAW = "https://raw.githubusercontent.com/k5iogura/darknetB0-4Y/master/"
RAW_BASE = REPO_RAW + "backup4y2/"


@dataclass(frozen=True)
class PublishedWeights:
    name: str
    file: str
    git_sha1: str
    about: str
    folder: str = "backup4y2"

    @property
    def url(self) -> str:
        return f"{REPO_RAW}{self.folder}/{self.file}"


CATALOGUE = {
    w.name: w
    for w in (
        PublishedWeights("enet4y2-coco", "enet4y2-coco_final.weights",
                         "c7401a3be3b3ae17172d4acf2fb060c782f43b45",
                         "B0-4Y detector trained on COCO (cfg/enet4y2-coco.cfg)"),
        PublishedWeights("enet-coco", "enetb0-coco_final.weights",
                         "9798eb2f67eeb6892560f65d5008259244430c48",
                         "upstream enet-coco detector (2 YOLO heads), the criterion"),
        PublishedWeights("backbone", "enetb0_final.weights",
                         "4bd1ccf852160daf05aec63e0af0ecfbf75a5b2e",
                         "EfficientNet-B0 ImageNet classifier (WongKinYiu/CSPNet)"),
        PublishedWeights("enet4y2-voc", "enet4y2-voc_best.weights",
                         "7377bfbc43618f272ed7c4979ee376a8ed7b5729",
                         "B0-4Y detector trained on Pascal VOC (enet4y2 cfg --voc)",
                         "backup4y2VOC"),
    )
}


def resolve_names(names: tuple[str, ...] | list[str]) -> list[PublishedWeights]:
    """Catalogue entries for `names` (`all` or none means every entry), in catalogue order."""
    wanted = set(names) or {"all"}
    unknown = wanted - set(CATALOGUE) - {"all"}
    if unknown:
        raise UsageError(f"unknown weights {', '.join(sorted(unknown))}; "
                           f"choose from {', '.join(CATALOGUE)} or all")
    return [w for n, w in CATALOGUE.items() if "all" in wanted or n in wanted]


def weight_specs(entries: list[PublishedWeights], mirror: str | None = None) -> list[FileSpec]:
    base = mirror.rstrip("/") + "/" if mirror else None
    return [FileSpec(w.file, base + w.file if base else w.url, git_sha1=w.git_sha1)
            for w in entries]


def fetch_weights(
    names: tuple[str, ...] | list[str],
    directory: Path,
    *,
    mirror: str | None = None,
    jobs: int = 3,
    observer: Observer | None = None,
    retries: int = 5,
    backoff: float = 1.0,
) -> list[FetchResult]:
    """Download (or verify what is there) the named published weights into `directory`."""
    entries = resolve_names(names)
    downloader = Downloader(directory, observer=observer or Observer(), retries=retries,
                            backoff=backoff)
    return downloader.fetch_all(weight_specs(entries, mirror), jobs)


def cut_backbone_to_shared_layers(backbone: Path) -> Path:
    """Cut the ImageNet backbone to the detectors' shared layers (0..131), beside it as
    `<stem>.conv.132` (reused when already there). Upstream's equivalent:
    `darknet partial efficientnet_b0.cfg enetb0_final.weights enetb0_final.conv.132 132`.
    The first 132 layers of efficientnet_b0 and of the detectors are the same, so the
    detector cfg from the builder describes them."""
    out = backbone.with_name(conv_name(backbone, BACKBONE_LAYERS))
    return cut_cached(backbone, enet4y2_coco_cfg(), BACKBONE_LAYERS, out)[0]
