"""The [yolo] layer: its raw output exactly as darknet's forward_yolo_layer leaves it
(src/yolo_layer.c), and the decode of get_yolo_box / get_yolo_detections into boxes in
network-input pixels, objectness and per-class scores (`--outputs boxes`)."""

from __future__ import annotations

import numpy as np

from enet4y2.export.graph import Builder, Layer
from enet4y2.export.meta import Head, raw_output_name


def yolo(b: Builder, layer: Layer) -> str:
    o, info = layer.opts, layer.info
    classes, total = o.i("classes", 20), o.i("num", 1)
    mask = o.ints("mask")
    mask = list(range(total)) if mask is None else mask
    biases = [0.5] * (2 * total)                  # make_yolo_layer's default
    for k, value in enumerate((o.floats("anchors") or [])[:2 * total]):
        biases[k] = value
    if any(not 0 <= m < total for m in mask):
        raise o.refuse(f"mask entries outside num={total}", "mask")
    if o.has("embedding_layer"):
        raise o.refuse("[yolo] embedding_layer", "embedding_layer")
    a, per = len(mask), 5 + classes
    if info.in_c != a * per:
        raise o.refuse(f"[yolo] input of {info.in_c} channels for {a} anchors and "
                       f"{classes} classes")
    scale, new_coords = o.f("scale_x_y", 1), o.i("new_coords", 0)
    h, w = info.out_h, info.out_w
    y = b.reshape(layer.input, [a, per, h, w])
    xy = _channels(b, y, 0, 2)
    wh = _channels(b, y, 2, 4)
    rest = _channels(b, y, 4, per)
    if not new_coords:
        xy = b.node("Sigmoid", [xy])
        rest = b.node("Sigmoid", [rest])
    if scale != 1:
        # scal_add_cpu(x, scale_x_y, -0.5*(scale_x_y - 1)): beta in double, passed as float
        beta = np.float32(-0.5 * (np.float64(scale) - 1))
        xy = b.node("Add", [b.node("Mul", [xy, b.const(scale)]), b.const(beta)])
    y = b.node("Concat", [xy, wh, rest], axis=2)
    raw = b.reshape(y, [a * per, h, w])
    net_w, net_h = b.cfg.width, b.cfg.height
    head = Head(layer=layer.index, line=o.sec.line, output=raw_output_name(layer.index),
                mask=tuple(mask),
                anchors=tuple((biases[2 * m], biases[2 * m + 1]) for m in mask),
                classes=classes, scale_x_y=float(scale), new_coords=new_coords,
                grid_w=w, grid_h=h, stride=(net_w // w, net_h // h))
    b.heads.append(head)
    b.head_tensors.append(raw)
    return raw


def _channels(b: Builder, y: str, start: int, stop: int) -> str:
    return b.node("Slice", [y, b.ints([start]), b.ints([stop]), b.ints([2])])


def decode(b: Builder, head: Head, raw: str) -> tuple[str, str, str]:
    """Candidates of one head as get_yolo_detections walks them (cell by cell, then
    anchor by anchor): boxes (N, K, 4) center x, y, w, h in input pixels, objectness
    (N, K) and scores (N, K, classes) = objectness * class probability."""
    a, per = len(head.mask), 5 + head.classes
    h, w = head.grid_h, head.grid_w
    k = h * w * a
    y = b.reshape(raw, [a, per, h, w])
    y = b.node("Transpose", [y], perm=[0, 3, 4, 1, 2])       # N, h, w, A, per
    y = b.reshape(y, [k, per])
    txy, twh = _last(b, y, 0, 2), _last(b, y, 2, 4)
    obj, cls = _last(b, y, 4, 5), _last(b, y, 5, per)
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    cells = np.stack([cols, rows], axis=-1).reshape(h * w, 1, 2).repeat(a, axis=1)
    net_w, net_h = b.cfg.width, b.cfg.height
    # darknet: x = (col + tx) / lw, relative to the input; here times the input width
    cell_size = np.array([net_w / w, net_h / h], np.float32)
    xy = b.node("Mul", [b.node("Add", [txy, b.const(cells.reshape(k, 2))]),
                        b.const(cell_size)])
    anchors = np.tile(np.array(head.anchors, np.float32), (h * w, 1))
    if head.new_coords:
        grow = b.node("Mul", [b.node("Mul", [twh, twh]), b.const(4.0)])
    else:
        grow = b.node("Exp", [twh])
    boxes = b.node("Concat", [xy, b.node("Mul", [grow, b.const(anchors)])], axis=2)
    scores = b.node("Mul", [obj, cls])
    objectness = b.reshape(obj, [k])
    return boxes, objectness, scores


def _last(b: Builder, y: str, start: int, stop: int) -> str:
    return b.node("Slice", [y, b.ints([start]), b.ints([stop]), b.ints([2])])
