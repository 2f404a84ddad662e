"""`enet4y2 export --check`: run libdarknet and an exported model on the same images
(prepared by the binding's bit-exact preprocessing) and compare: the largest absolute
difference of every raw [yolo] tensor, and the detections (same classes, boxes within
1 px, confidence within 0.01). The only module of this package that loads darknet."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from enet4y2 import images as imageio
from enet4y2.darknet import Detections, Network, preprocess
from enet4y2.errors import MissingDependencyError
from enet4y2.export.api import build_model, load_inputs
from enet4y2.export.decode import detect
from enet4y2.export.graph import Options
from enet4y2.export.meta import INPUT_NAME, ModelMeta

RAW_TOLERANCE = 1e-4
BOX_TOLERANCE_PX = 1.0
CONFIDENCE_TOLERANCE = 0.01


@dataclass(frozen=True)
class ImageCheck:
    image: str
    darknet: int                 # detections darknet found
    export: int                  # detections the export found
    unmatched: int               # in either list without a partner within tolerance
    worst_box_px: float          # largest box-coordinate difference among matches
    worst_confidence: float      # largest confidence difference among matches


@dataclass(frozen=True)
class CheckReport:
    heads: dict[str, float]      # raw output -> largest absolute difference
    images: list[ImageCheck] = field(default_factory=list)
    raw_from: str = "model"      # "model", or "raw twin" when the file outputs boxes
    fp16: bool = False

    @property
    def raw_ok(self) -> bool:
        return all(d <= RAW_TOLERANCE for d in self.heads.values())

    @property
    def detections_ok(self) -> bool:
        return all(i.unmatched == 0 for i in self.images)

    @property
    def ok(self) -> bool:
        return self.detections_ok and self.raw_ok

    def to_dict(self) -> dict:
        return {"ok": self.ok, "raw_ok": self.raw_ok, "detections_ok": self.detections_ok,
                "raw_from": self.raw_from, "fp16": self.fp16, "heads": self.heads,
                "raw_tolerance": RAW_TOLERANCE, "images": [asdict(i) for i in self.images]}


def _session(model: bytes | str):
    try:
        import onnxruntime
    except ImportError:
        raise MissingDependencyError("onnxruntime", "onnx", "--check") from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def check_export(model_path: str | os.PathLike, cfg: str | os.PathLike,
                 weights: str | os.PathLike, image_paths: Sequence[str | os.PathLike], *,
                 thresh: float = 0.25, nms: float = 0.45) -> CheckReport:
    """Compare the export at `model_path` with libdarknet loading `cfg` + `weights`."""
    meta = ModelMeta.from_onnx(model_path)
    batch = meta.batch or min(4, max(1, len(image_paths)))
    session = _session(str(model_path))
    raw_session, raw_from = session, "model"
    if meta.outputs != "raw":
        parsed, floats = load_inputs(cfg, weights, batch)
        twin, _ = build_model(parsed, floats, Options(
            batch=meta.batch, fuse_bn=meta.fused_bn, fp16=meta.fp16, outputs="raw",
            opset=meta.opset))
        raw_session, raw_from = _session(twin.SerializeToString()), "raw twin"
    decoded = [(str(p), imageio.decode(p)) for p in image_paths]
    heads: dict[str, float] = {}
    checks: list[ImageCheck] = []
    layers = [h.layer for h in meta.heads]
    with Network(cfg, weights, batch=batch) as net:
        for start in range(0, len(decoded), batch):
            chunk = decoded[start:start + batch]
            x = np.empty((batch, meta.channels, meta.height, meta.width), np.float32)
            for i in range(batch):
                preprocess.prepare(chunk[min(i, len(chunk) - 1)][1], x[i],
                                   letterbox=meta.letterbox)
            want = net.forward(x, layers) if layers else []
            have = raw_session.run(None, {INPUT_NAME: x})
            for head, w, h in zip(meta.heads, want, have, strict=False):
                diff = float(np.abs(w[:len(chunk)] - h[:len(chunk)]).max())
                heads[head.output] = max(heads.get(head.output, 0.0), diff)
            ours = session.run(None, {INPUT_NAME: x}) if session is not raw_session else have
            theirs = net.detect_batch([img for _, img in chunk], thresh, 0.5, nms,
                                      letterbox=meta.letterbox)
            for i, (name, image) in enumerate(chunk):
                rows = detect(meta, ours, i, thresh, nms)
                checks.append(_compare(name, theirs[i], rows, image, meta))
    return CheckReport(heads, checks, raw_from, meta.fp16)


def _compare(name: str, theirs: Detections, rows: np.ndarray, image: np.ndarray,
             meta: ModelMeta) -> ImageCheck:
    src_h, src_w = image.shape[:2]
    boxes = preprocess.boxes_to_pixels(rows[:, :4], src_w, src_h, meta.width, meta.height,
                                       meta.letterbox)
    classes, scores = rows[:, 4].astype(np.int32), rows[:, 5]
    free = np.ones(len(rows), bool)
    worst_box = worst_conf = 0.0
    unmatched = 0
    for c, s, b in zip(theirs.classes, theirs.scores, theirs.boxes, strict=True):
        box_diff = np.abs(boxes - b).max(axis=1) if len(rows) else np.zeros(0)
        ok = free & (classes == c) & (box_diff <= BOX_TOLERANCE_PX) & (
            np.abs(scores - s) <= CONFIDENCE_TOLERANCE)
        if not ok.any():
            unmatched += 1
            continue
        best = int(np.argmin(np.where(ok, box_diff, np.inf)))
        free[best] = False
        worst_box = max(worst_box, float(box_diff[best]))
        worst_conf = max(worst_conf, float(abs(scores[best] - s)))
    unmatched += int(free.sum())
    return ImageCheck(Path(name).name, len(theirs), len(rows), unmatched, worst_box,
                      worst_conf)
