"""What darknet trains from: detector weights as they are, a cut backbone, classifier
weights cut once to the layers the detector shares (cached in backup/), or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from enet4y2.cfg import Cfg
from enet4y2.cfg.builders import classifier_cfg
from enet4y2.errors import MissingFileError, WeightsError
from enet4y2.weights.fit import (
    classifier_classes,
    cut_cached,
    match_size,
    read_header,
    shared_layers,
)
from enet4y2.weights.format import conv_name


@dataclass(frozen=True)
class WeightsChoice:
    """What darknet is given: `path` (None = from scratch), how it was recognised, and a
    sentence for the user."""

    path: Path | None
    kind: str  # "scratch", "full", "backbone", "classifier", "resume"
    note: str
    cut_from: Path | None = None  # the classifier weights a cut was made from


def select_weights(weights: str | Path | None, detector: Cfg, backup: Path,
                   classifier: Cfg | None = None) -> WeightsChoice:
    """Detector weights as they are; classifier weights cut once (cached in backup/) to
    the layers the detector shares with the classifier; none: from scratch."""
    if weights is None:
        return WeightsChoice(None, "scratch", "no --weights: training from scratch — pass "
                             "the EfficientNet-B0 backbone (enetb0_final.weights) for a "
                             "far better start")
    src = Path(weights)
    if not src.is_file():
        raise MissingFileError(f"{src}: no such weights file — check --weights")
    header, size = read_header(src), src.stat().st_size
    match = match_size(size, header, detector)
    if match.kind == "full":
        return WeightsChoice(src, "full", f"{src}: detector weights, all {match.layers} "
                             "layers")
    if match.kind == "backbone":
        return WeightsChoice(src, "backbone", f"{src}: first {match.layers} layers of the "
                             "detector (a cut backbone); darknet initializes the rest")
    if classifier is None and (size - header.header_size) % 4 == 0:
        classes = classifier_classes((size - header.header_size) // 4, detector.channels or 3)
        if classes:
            classifier = classifier_cfg(classes, detector.channels or 3)
    if classifier is None or match_size(size, header, classifier).kind != "full":
        raise WeightsError(f"{src}: {size:,} bytes fit neither {detector.path or 'the cfg'} "
                           f"({match.expected_size:,} bytes for the full detector) nor an "
                           "EfficientNet-B0 classifier — pass the classifier's cfg with "
                           "--weights-cfg, or weights trained with this cfg")
    layers = shared_layers(classifier, detector)
    if layers == 0:
        raise WeightsError(f"{src}: the classifier shares no layers with the detector — "
                           "pass weights trained for this backbone")
    cut, reused = cut_cached(src, classifier, layers, backup / conv_name(src, layers))
    note = (f"{src}: classifier weights; using the cached cut {cut}" if reused else
            f"{src}: classifier weights, cut to layers 0..{layers - 1} -> {cut}")
    return WeightsChoice(cut, "classifier", note, cut_from=src)
