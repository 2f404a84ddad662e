"""The contract of an ONNX model exported by `enet4y2 export`: what goes in, what comes
out, and the JSON metadata stored under the model's `metadata_props` key `enet4y2`.

Input: one tensor named `images`, float32 (N, C, H, W) — exactly darknet's network input
buffer (RGB planar in [0, 1], as `enet4y2.darknet.preprocess.prepare` fills it). N is
fixed (`batch`) or the symbolic dimension `batch` (`batch` is None in the metadata).
With `--fp16` the model computes in float16 but its inputs and outputs stay float32.

`outputs == "raw"`: one output per [yolo] layer, named `yolo_<layer index>` (0-based
darknet layer index), shape (N, A*(5+classes), h, w), equal to darknet's yolo layer
`l.output`: per anchor a, channels a*(5+classes) + [x, y, w, h, objectness, classes...];
x, y after logistic (unless new_coords) and `x*scale_x_y - (scale_x_y-1)/2`; w, h as the
convolution gives them (exp applied by the decoder; with new_coords darknet applies no
activation here and the decoder squares them); objectness and classes after logistic
(unless new_coords). A cfg without [yolo] layers exports its last layer as `layer_<i>`.

`outputs == "boxes"`: three outputs, K = sum over heads of h*w*A, candidates in darknet's
order (head by head; inside a head cell by cell, row-major, then anchor by anchor, as
get_yolo_detections walks them):
- `boxes` (N, K, 4) float32: x_center, y_center, width, height in network-input pixels
  (darknet's get_yolo_box times the input width/height; undo the letterbox afterwards).
- `objectness` (N, K) float32: darknet keeps a candidate when objectness > thresh.
- `scores` (N, K, classes) float32: objectness * class probability (darknet zeroes those
  not above thresh).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from enet4y2.errors import DataError

FORMAT_VERSION = 1
META_KEY = "enet4y2"
INPUT_NAME = "images"
BOXES_OUTPUTS = ("boxes", "objectness", "scores")
OUTPUT_KINDS = ("raw", "boxes")


def raw_output_name(layer: int) -> str:
    """The raw output of the [yolo] layer at this 0-based index."""
    return f"yolo_{layer}"


@dataclass(frozen=True)
class Head:
    """One [yolo] layer as the export computes it."""

    layer: int                                  # 0-based darknet layer index
    line: int                                   # its [yolo] line in the cfg
    output: str                                 # raw output name (yolo_<layer>)
    mask: tuple[int, ...]
    anchors: tuple[tuple[float, float], ...]    # (w, h) in input pixels, one per mask entry
    classes: int
    scale_x_y: float
    new_coords: int
    grid_w: int
    grid_h: int
    stride: tuple[int, int]                     # input pixels per cell (x, y)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Head:
        return cls(layer=int(d["layer"]), line=int(d["line"]), output=str(d["output"]),
                   mask=tuple(int(m) for m in d["mask"]),
                   anchors=tuple((float(w), float(h)) for w, h in d["anchors"]),
                   classes=int(d["classes"]), scale_x_y=float(d["scale_x_y"]),
                   new_coords=int(d["new_coords"]), grid_w=int(d["grid_w"]),
                   grid_h=int(d["grid_h"]), stride=(int(d["stride"][0]), int(d["stride"][1])))


@dataclass(frozen=True)
class ModelMeta:
    """What an exported model says about itself (JSON under metadata key `enet4y2`)."""

    cfg_sha256: str
    weights_sha256: str
    darknet_commit: str
    width: int
    height: int
    channels: int
    batch: int | None                 # None: dynamic batch dimension
    letterbox: bool                   # the cfg's [net] letter_box
    outputs: str                      # "raw" or "boxes"
    classes: int
    names: tuple[str, ...] | None
    nms_kind: str                     # the last [yolo]'s nms_kind (darknet's string)
    beta_nms: float
    heads: tuple[Head, ...]
    output_names: tuple[str, ...]
    fp16: bool = False
    fused_bn: bool = True
    opset: int = 17
    format: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> str:
        d = asdict(self)
        d.pop("extra")
        d.update(self.extra)
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str = "<model>") -> ModelMeta:
        try:
            d = json.loads(text)
            if int(d.get("format", 0)) > FORMAT_VERSION:
                raise DataError(f"{where}: exported by a newer enet4y2 (metadata format "
                                f"{d['format']}, this one reads {FORMAT_VERSION}) — "
                                "upgrade enet4y2 or export again")
            known = set(cls.__dataclass_fields__) - {"extra"}
            names = d.get("names")
            return cls(
                cfg_sha256=str(d["cfg_sha256"]), weights_sha256=str(d["weights_sha256"]),
                darknet_commit=str(d["darknet_commit"]), width=int(d["width"]),
                height=int(d["height"]), channels=int(d["channels"]),
                batch=None if d["batch"] is None else int(d["batch"]),
                letterbox=bool(d["letterbox"]), outputs=str(d["outputs"]),
                classes=int(d["classes"]),
                names=None if names is None else tuple(str(n) for n in names),
                nms_kind=str(d["nms_kind"]), beta_nms=float(d["beta_nms"]),
                heads=tuple(Head.from_dict(h) for h in d["heads"]),
                output_names=tuple(str(n) for n in d["output_names"]),
                fp16=bool(d.get("fp16", False)), fused_bn=bool(d.get("fused_bn", True)),
                opset=int(d.get("opset", 17)), format=int(d.get("format", FORMAT_VERSION)),
                extra={k: v for k, v in d.items() if k not in known})
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"{where}: its enet4y2 metadata is damaged ({exc!r}) — export "
                            "it again with `enet4y2 export`") from None

    @classmethod
    def from_props(cls, props: dict[str, str], where: str = "<model>") -> ModelMeta:
        """From metadata props as a dict (onnxruntime's
        `session.get_modelmeta().custom_metadata_map`)."""
        if META_KEY not in props:
            raise DataError(f"{where}: not a model exported by enet4y2 (no '{META_KEY}' "
                            "metadata) — export it with `enet4y2 export`, or pass --cfg and "
                            "--weights instead of the .onnx")
        return cls.from_json(props[META_KEY], where)

    @classmethod
    def from_onnx(cls, model: Any) -> ModelMeta:
        """From an `onnx.ModelProto` or the path of an .onnx file."""
        where = "<model>"
        if isinstance(model, str | Path):
            from enet4y2.export.onnxlib import onnx
            where = str(model)
            try:
                model = onnx.load(str(model), load_external_data=False)
            except (OSError, ValueError) as exc:
                raise DataError(f"{where}: not a readable ONNX model ({exc})") from None
            except Exception as exc:  # protobuf's DecodeError is not an OSError
                raise DataError(f"{where}: not an ONNX model ({type(exc).__name__})") from None
        props = {p.key: p.value for p in model.metadata_props}
        return cls.from_props(props, where)
