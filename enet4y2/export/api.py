"""`export_onnx`: a darknet cfg + weights to an ONNX model with enet4y2 metadata, every
input checked in Python first (supported layers, the cfg as darknet would load it, the
weights' size against the cfg), the graph checked by onnx.checker with full shape
inference, the file written atomically."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from enet4y2 import DARKNET_PINNED_COMMIT
from enet4y2.cfg import Cfg, infer, load_cfg, validate
from enet4y2.cfg.keys import canonical
from enet4y2.data.files import read_names
from enet4y2.errors import DataError, UsageError, WeightsError
from enet4y2.export.graph import (
    MIN_OPSET,
    Builder,
    Floats,
    Options,
    Opts,
    Unsupported,
    dims_of,
)
from enet4y2.export.layers import EMITTERS
from enet4y2.export.meta import (
    BOXES_OUTPUTS,
    INPUT_NAME,
    META_KEY,
    OUTPUT_KINDS,
    ModelMeta,
)
from enet4y2.export.yolo import decode, yolo
from enet4y2.fileio import atomic_write, refuse_overwrite, regular_file
from enet4y2.weights.fit import match_weights, read_header

ALL_EMITTERS = {**EMITTERS, "yolo": yolo}
#: darknet's nms_kind strings as parse_yolo reads them (anything else is "default").
NMS_KINDS = ("default", "greedynms", "diounms", "cornersnms")


@dataclass(frozen=True)
class ExportSummary:
    """What `export_onnx` wrote."""

    path: Path
    bytes: int
    nodes: int
    parameters: int
    meta: ModelMeta
    #: layers darknet's CPU build computes differently from its GPU and training code
    cpu_differs: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        import json
        return {"path": str(self.path), "bytes": self.bytes, "nodes": self.nodes,
                "parameters": self.parameters, "cpu_differs": list(self.cpu_differs),
                "metadata": json.loads(self.meta.to_json())}


def cpu_differences(cfg: Cfg) -> tuple[str, ...]:
    """`file:line: why` for each layer where libdarknet's CPU forward pass differs from
    darknet's CUDA kernels and training path, which the export follows (see
    tests/export/test_darknet_quirks.py)."""
    found = []
    for sec, info in zip(cfg.layers, infer(cfg, batch=1).layers, strict=True):
        kind, o = canonical(sec.type), Opts(cfg, sec)
        if kind == "convolutional" and o.s("activation", "logistic") == "relu6":
            found.append(f"{cfg.where(sec, 'activation')}: relu6 is 0 in darknet's CPU "
                         "build (its activate() lacks it)")
        if kind == "maxpool":
            stride = o.i("stride", 1)
            size = o.i("size", stride)
            sx, sy = o.i("stride_x", stride), o.i("stride_y", stride)
            if sx == sy == 1 and o.i("padding", size - 1) >= 2 and info.out_w > 7 + size:
                found.append(f"{cfg.where(sec)}: darknet's CPU (AVX) stride-1 maxpool drops "
                             "the left tap of the first 8 columns of each row")
    return tuple(found)


def supported_types() -> frozenset[str]:
    return frozenset(ALL_EMITTERS)


def refuse_unsupported(cfg: Cfg) -> None:
    """`file:line: layer type X is not supported` for the first layer the export lacks."""
    for sec in cfg.layers:
        if (canonical(sec.type) or sec.type) not in ALL_EMITTERS:
            raise Unsupported(f"{cfg.where(sec)}: layer type {sec.type} is not supported "
                              f"by enet4y2 export (supported: {', '.join(sorted(ALL_EMITTERS))})")


def sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_inputs(cfg_path: str | os.PathLike, weights_path: str | os.PathLike,
                batch: int) -> tuple[Cfg, np.ndarray]:
    """The cfg (supported, loadable by darknet at this batch) and the weights' floats."""
    cfg = load_cfg(regular_file(cfg_path, "cfg", "check --cfg"))
    refuse_unsupported(cfg)
    validate(cfg, batch=batch, memory=1 << 62)
    weights = regular_file(weights_path, "weights", "check --weights")
    match = match_weights(weights, cfg)
    if match.kind != "full":
        hint = (f"it holds only the first {match.layers} layers (a backbone)"
                if match.kind == "backbone" else "it belongs to another cfg")
        raise WeightsError(f"{weights} has {match.actual_size} bytes but {cfg_path} needs "
                           f"{match.expected_size}: {hint} — pass the weights trained with "
                           "this cfg")
    header = read_header(weights)
    with open(weights, "rb") as fh:
        fh.seek(header.header_size)
        floats = np.frombuffer(fh.read(), np.dtype("<f4"))
    return cfg, floats


def build_model(cfg: Cfg, floats: np.ndarray, options: Options, *, cfg_sha256: str = "",
                weights_sha256: str = "", names: tuple[str, ...] | None = None):
    """The ModelProto (pure: no files), with its metadata."""
    from enet4y2.export.onnxlib import TensorProto, helper, onnx
    if options.outputs not in OUTPUT_KINDS:
        raise UsageError(f"outputs must be one of {', '.join(OUTPUT_KINDS)}")
    if not MIN_OPSET <= options.opset <= onnx.defs.onnx_opset_version():
        raise UsageError(f"opset {options.opset} is not supported: use "
                         f"{MIN_OPSET}..{onnx.defs.onnx_opset_version()}")
    refuse_unsupported(cfg)
    model = infer(cfg, batch=options.batch or 1)
    b = Builder(cfg, model, Floats(floats), options)
    b.build(ALL_EMITTERS)
    b._prefix = "output/"
    if options.outputs == "boxes" and not b.heads:
        raise Unsupported(f"{cfg.where(cfg.net)}: --outputs boxes needs [yolo] layers, and "
                          "this cfg has none (export --outputs raw)")
    batch_dim: int | str = options.batch if options.batch else "batch"
    outputs = []

    def output(tensor: str, name: str, dims: list[int]) -> None:
        if options.fp16:
            tensor = b.node("Cast", [tensor], to=TensorProto.FLOAT)
        b.nodes.append(helper.make_node("Identity", [tensor], [name], name=f"output/{name}"))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                     [batch_dim, *dims]))

    if options.outputs == "raw" and b.heads:
        for head, tensor in zip(b.heads, b.head_tensors, strict=True):
            output(tensor, head.output, [len(head.mask) * (5 + head.classes), head.grid_h,
                                         head.grid_w])
        output_names = tuple(h.output for h in b.heads)
    elif options.outputs == "raw":
        last = model.layers[-1]
        name = f"layer_{last.index}"
        output(b.outputs[-1], name, dims_of(last))
        output_names = (name,)
    else:
        parts = [decode(b, h, t) for h, t in zip(b.heads, b.head_tensors, strict=True)]
        k = sum(h.grid_w * h.grid_h * len(h.mask) for h in b.heads)
        classes = b.heads[0].classes
        for i, (name, dims) in enumerate(zip(BOXES_OUTPUTS, ([k, 4], [k], [k, classes]),
                                             strict=True)):
            tensors = [p[i] for p in parts]
            output(tensors[0] if len(tensors) == 1 else b.node("Concat", tensors, axis=1),
                   name, dims)
        output_names = BOXES_OUTPUTS
    if b.floats.at != len(floats):
        raise WeightsError(f"the weights hold {len(floats)} floats, the cfg uses {b.floats.at}")
    image = helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT,
                                          [batch_dim, cfg.channels, cfg.height, cfg.width])
    graph = helper.make_graph(b.nodes, Path(cfg.path or "darknet").stem, [image], outputs,
                              initializer=b.initializers)
    opsets = [helper.make_opsetid("", options.opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="enet4y2")
    # the oldest IR that carries this opset, so older runtimes load the model too
    proto.ir_version = helper.find_min_ir_version_for(opsets, ignore_unknown=True)
    classes = b.heads[0].classes if b.heads else dims_of(model.layers[-1])[0]
    if names is not None and len(names) < classes:
        raise DataError(f"{len(names)} names for {classes} classes — the names file must "
                        "list every class of the cfg")
    last = b.heads[-1] if b.heads else None
    nms_kind = "default"
    beta_nms = 0.6
    if last is not None:
        sec = cfg.layers[last.layer]
        nms_kind = sec.options.get("nms_kind", "default")
        nms_kind = nms_kind if nms_kind in NMS_KINDS else "default"
        beta_nms = float(np.float32(sec.options.get("beta_nms", "0.6")))
    meta = ModelMeta(
        cfg_sha256=cfg_sha256, weights_sha256=weights_sha256,
        darknet_commit=DARKNET_PINNED_COMMIT, width=cfg.width, height=cfg.height,
        channels=cfg.channels, batch=options.batch, letterbox=cfg.net_int("letter_box", 0) != 0,
        outputs=options.outputs, classes=classes, names=names, nms_kind=nms_kind,
        beta_nms=beta_nms, heads=tuple(b.heads), output_names=output_names,
        fp16=options.fp16, fused_bn=options.fuse_bn, opset=options.opset)
    helper.set_model_props(proto, {META_KEY: meta.to_json()})
    onnx.checker.check_model(proto, full_check=True)
    return proto, meta


def export_onnx(cfg: str | os.PathLike, weights: str | os.PathLike, out: str | os.PathLike, *,
                batch: int | None = 1, fp16: bool = False, opset: int | None = None,
                fuse_bn: bool = True, outputs: str = "raw",
                names: str | os.PathLike | None = None) -> ExportSummary:
    """Export `cfg` + `weights` to `out` (.onnx). `batch` None: a dynamic batch dimension."""
    from enet4y2.export.graph import DEFAULT_OPSET
    if batch is not None and batch < 1:
        raise UsageError(f"batch must be >= 1, got {batch}")
    refuse_overwrite(out, [cfg, weights, names])
    options = Options(batch=batch, fuse_bn=fuse_bn, fp16=fp16, outputs=outputs,
                      opset=opset or DEFAULT_OPSET)
    parsed, floats = load_inputs(cfg, weights, batch or 1)
    name_list = tuple(read_names(names)) if names is not None else None
    proto, meta = build_model(parsed, floats, options, cfg_sha256=sha256(cfg),
                              weights_sha256=sha256(weights), names=name_list)
    data = proto.SerializeToString()
    atomic_write(out, data)
    params = sum(int(np.prod(t.dims)) for t in proto.graph.initializer)
    return ExportSummary(Path(out), len(data), len(proto.graph.node), params, meta,
                         cpu_differences(parsed))
