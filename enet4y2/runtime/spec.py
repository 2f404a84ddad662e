"""What the shared post-processing needs to know of a model: input size, letterbox, the
[yolo] heads (anchors by mask, classes, new_coords, grid) and the NMS kind — read from a
darknet cfg exactly as darknet's parser reads it, or from an exported model's metadata."""

from __future__ import annotations

from dataclasses import dataclass

from enet4y2.cfg import Cfg, clib, infer
from enet4y2.errors import CfgError, DataError
from enet4y2.export.meta import Head, ModelMeta, raw_output_name

#: darknet's NMS_KIND values (include/darknet.h); the parser knows only the first three.
NMS_KINDS = {"default": 0, "greedynms": 1, "diounms": 2}


@dataclass(frozen=True)
class Spec:
    """A detector as the decoder sees it (sizes of the network input, not of images)."""

    width: int
    height: int
    channels: int
    letterbox: bool
    classes: int
    nms_kind: int            # 0 default (do_nms_sort), 1 greedynms, 2 diounms
    beta_nms: float
    heads: tuple[Head, ...]
    outputs: str = "raw"     # what the model's outputs are: "raw" heads or "boxes"

    @property
    def output_names(self) -> list[str]:
        if self.outputs == "boxes":
            return ["boxes", "objectness", "scores"]
        return [h.output for h in self.heads]


def nms_kind_value(name: str) -> int:
    """darknet's parse_yolo: anything but greedynms/diounms is the default kind."""
    return NMS_KINDS.get(name, 0)


def _floats(raw: str | None, count: int, default: float) -> list[float]:
    """A [yolo] float list as parse_yolo reads it: up to `count` values, the rest
    `default` (make_yolo_layer's 0.5)."""
    values = [default] * count
    if raw is None:
        return values
    n = clib.list_count(raw, stop_at_hash=True)
    items = clib.list_items(raw, min(n, count)) or []
    for i, text in enumerate(items):
        values[i] = clib.atof(text)
    return values


def spec_from_cfg(cfg: Cfg) -> Spec:
    """The decoder's view of a parsed cfg (CfgError when it has no [yolo] head or its
    heads disagree on classes)."""
    model = infer(cfg, batch=1)
    heads = []
    last = None
    for info in model.layers:
        if info.type != "yolo":
            continue
        sec = cfg.layers[info.index]
        last = sec
        total = clib.atoi(sec.get("num", "1"))
        raw_mask = sec.get("mask")
        if raw_mask is None:
            mask = list(range(total))
        else:
            count = clib.list_count(raw_mask, stop_at_hash=True)
            mask = [clib.atoi(t) for t in clib.list_items(raw_mask, count) or []]
        if any(not 0 <= m < total for m in mask):
            raise CfgError(f"{cfg.where(sec, 'mask')}: mask {mask} is not within num={total}")
        biases = _floats(sec.get("anchors"), 2 * total, 0.5)
        anchors = tuple((biases[2 * m], biases[2 * m + 1]) for m in mask)
        heads.append(Head(
            layer=info.index, line=sec.line, output=raw_output_name(info.index),
            mask=tuple(mask), anchors=anchors, classes=clib.atoi(sec.get("classes", "20")),
            scale_x_y=clib.atof(sec.get("scale_x_y", "1")),
            new_coords=clib.atoi(sec.get("new_coords", "0")), grid_w=info.out_w,
            grid_h=info.out_h, stride=(cfg.width // max(1, info.out_w),
                                       cfg.height // max(1, info.out_h))))
    if last is None:
        raise CfgError(f"{cfg.where()}: no [yolo] layer — only YOLO detectors are decoded")
    return Spec(cfg.width, cfg.height, cfg.channels,
                clib.atoi(cfg.net.get("letter_box", "0")) != 0,
                cfg.classes, nms_kind_value(last.get("nms_kind", "default")),
                clib.atof(last.get("beta_nms", "0.6")), tuple(heads))


def spec_from_meta(meta: ModelMeta, where: str = "<model>") -> Spec:
    """The decoder's view of an exported model's metadata."""
    if not meta.heads:
        raise DataError(f"{where}: the model has no [yolo] heads — only YOLO detectors are "
                        "decoded")
    if meta.outputs not in ("raw", "boxes"):
        raise DataError(f"{where}: unknown outputs kind {meta.outputs!r} — export it again")
    return Spec(meta.width, meta.height, meta.channels, meta.letterbox, meta.classes,
                nms_kind_value(meta.nms_kind), meta.beta_nms, meta.heads, meta.outputs)
