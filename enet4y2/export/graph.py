"""The ONNX graph of a darknet network, built layer by layer from the parsed cfg, the
shapes darknet infers at load time (`enet4y2.cfg.infer`) and the weights file's floats in
darknet's load order. Pure: takes a Cfg, a Model and a float32 array, returns a
ModelProto. Every node's name says which cfg layer and line it came from.

The per-type emitters live in `layers` and `yolo`; this module holds the builder they
share (names, constants, node creation) and the walk over the layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from enet4y2.cfg import Cfg, LayerInfo, Model, clib
from enet4y2.cfg.keys import canonical
from enet4y2.cfg.model import Section
from enet4y2.errors import CfgError, WeightsError
from enet4y2.export.meta import INPUT_NAME, Head

DEFAULT_OPSET = 17
MIN_OPSET = 13


class Unsupported(CfgError):
    """A layer type or option the export does not translate (never skipped)."""


@dataclass
class Options:
    """How to build: batch (None = symbolic), BN folded, float16 inside, outputs kind."""

    batch: int | None = 1
    fuse_bn: bool = True
    fp16: bool = False
    outputs: str = "raw"
    opset: int = DEFAULT_OPSET


class Opts:
    """One section's options read as darknet's option_find_* reads them."""

    def __init__(self, cfg: Cfg, sec: Section) -> None:
        self.cfg, self.sec = cfg, sec

    def has(self, key: str) -> bool:
        return key in self.sec.options

    def i(self, key: str, default: int) -> int:
        value = self.sec.options.get(key)
        return default if value is None else clib.atoi(value)

    def f(self, key: str, default: float) -> np.float32:
        value = self.sec.options.get(key)
        return np.float32(default if value is None else clib.atof(value))

    def s(self, key: str, default: str) -> str:
        return self.sec.options.get(key, default)

    def ints(self, key: str) -> list[int] | None:
        raw = self.sec.options.get(key)
        if raw is None:
            return None
        n = clib.list_count(raw, stop_at_hash=True)
        return [clib.atoi(t) for t in clib.list_items(raw, n) or []]

    def floats(self, key: str) -> list[float] | None:
        raw = self.sec.options.get(key)
        if raw is None:
            return None
        n = clib.list_count(raw, stop_at_hash=True)
        return [float(np.float32(clib.atof(t))) for t in clib.list_items(raw, n) or []]

    def where(self, key: str | None = None) -> str:
        return self.cfg.where(self.sec, key)

    def refuse(self, what: str, key: str | None = None) -> Unsupported:
        return Unsupported(f"{self.where(key)}: {what} is not supported by enet4y2 export")


class Floats:
    """The weights file's parameters, consumed in darknet's load order."""

    def __init__(self, values: np.ndarray) -> None:
        self.values, self.at = values, 0

    def take(self, count: int) -> np.ndarray:
        if self.at + count > len(self.values):
            raise WeightsError(f"the weights end after {len(self.values)} floats; the cfg "
                               f"needs more (at float {self.at}, {count} more)")
        out = self.values[self.at:self.at + count]
        self.at += count
        return out


@dataclass
class Layer:
    """One layer being emitted: its section, inferred shape and input tensor."""

    index: int
    kind: str
    opts: Opts
    info: LayerInfo
    input: str               # the previous layer's output tensor
    input_info: LayerInfo | None


@dataclass
class Builder:
    cfg: Cfg
    model: Model
    floats: Floats
    options: Options
    nodes: list = field(default_factory=list)
    initializers: list = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)   # each layer's output tensor
    heads: list[Head] = field(default_factory=list)
    head_tensors: list[str] = field(default_factory=list)
    _prefix: str = ""
    _count: int = 0

    @property
    def dtype(self) -> type:
        return np.float16 if self.options.fp16 else np.float32

    # -- names, constants, nodes -------------------------------------------------------
    def name(self, op: str) -> str:
        self._count += 1
        return f"{self._prefix}{op}_{self._count}"

    def const(self, value, dtype=None, label: str = "c") -> str:
        from enet4y2.export.onnxlib import numpy_helper
        array = np.asarray(value, dtype=dtype or self.dtype)
        name = self.name(label)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(values, np.int64), np.int64, "shape")

    def node(self, op: str, inputs: list[str], n_out: int = 1, **attrs) -> str | list[str]:
        from enet4y2.export.onnxlib import helper
        name = self.name(op)
        outs = [f"{name}:{k}" if n_out > 1 else name for k in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs if n_out > 1 else outs[0]

    def reshape(self, x: str, dims: list[int]) -> str:
        """Reshape keeping the batch dimension as it is (0 copies it)."""
        return self.node("Reshape", [x, self.ints([0, *dims])])

    # -- the walk ----------------------------------------------------------------------
    def build(self, emitters: dict[str, Callable[[Builder, Layer], str]]) -> None:
        x = INPUT_NAME
        if self.options.fp16:
            x = self.node("Cast", [x], to=_onnx_float16())
        sections = self.cfg.layers
        for index, (sec, info) in enumerate(zip(sections, self.model.layers, strict=True)):
            kind = canonical(sec.type) or sec.type
            self._prefix = f"L{index}.{kind}.line{sec.line}/"
            opts = Opts(self.cfg, sec)
            emit = emitters.get(kind)
            if emit is None:
                raise Unsupported(f"{self.cfg.where(sec)}: layer type {sec.type}"
                                  " is not supported by enet4y2 export")
            prev = self.model.layers[index - 1] if index else None
            layer = Layer(index, kind, opts, info, self.outputs[-1] if index else x, prev)
            start = self.floats.at
            self.outputs.append(emit(self, layer))
            used = self.floats.at - start
            if used != info.params:
                raise AssertionError(f"{opts.where()}: read {used} floats, cfg stores "
                                     f"{info.params}")

    def source(self, layer: Layer, ref: int, key: str) -> tuple[str, LayerInfo]:
        """The output and shape of a layer a `from=`/`layers=` entry names."""
        target = layer.index + ref if ref < 0 else ref
        if not 0 <= target < layer.index:
            raise Unsupported(f"{layer.opts.where(key)}: {key} points to layer {target}")
        return self.outputs[target], self.model.layers[target]


def shape_of(info: LayerInfo) -> tuple[int, int, int]:
    return info.out_c, info.out_h, info.out_w


def dims_of(info: LayerInfo) -> list[int]:
    """A layer's output dims after the batch: (c, h, w), or (outputs,) for the flat
    output of [softmax]."""
    if info.out_h and info.out_w:
        return [info.out_c, info.out_h, info.out_w]
    return [info.outputs]


def _onnx_float16() -> int:
    from enet4y2.export.onnxlib import TensorProto
    return TensorProto.FLOAT16
