"""The types of darknet's load-time inference, shared by the walk (`infer`), the [net]
reader (`netopts`) and the per-type builders (`layers`, `joins`, `heads`, `dense`): the
result of each layer (`LayerInfo`) and of the network (`Model`), darknet's size_params
(`Params`), one layer being built (`Ctx`), and `Stop` for types not modelled."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from enet4y2.cfg import clib
from enet4y2.cfg.keys import canonical
from enet4y2.cfg.model import Cfg, Section

Report = Callable[[str], None]


class Run(Protocol):
    """What a layer sees of the walk building it (`infer._Run`)."""

    cfg: Cfg
    out: list[LayerInfo]
    report: Report
    warn: Report


class Stop(Exception):
    """A layer type enet4y2 does not model: inference stops here."""


@dataclass(frozen=True)
class LayerInfo:
    """One layer after inference; `params` counts the floats it stores in .weights."""

    index: int
    type: str
    out_w: int
    out_h: int
    out_c: int
    bflops: float
    params: int
    in_w: int = 0
    in_h: int = 0
    in_c: int = 0
    line: int = 0
    detail: str = ""
    outputs: int = 0      # darknet's l.outputs (what the next layer gets as inputs)
    floats: int = 0       # float32 values (and ints) darknet allocates for it
    workspace: int = 0    # bytes of the shared convolution workspace it needs
    own_w: int = 0        # darknet's l.w / l.h (they decide avg_outputs)
    own_h: int = 0
    n: int = 0            # darknet's l.n (filters, inputs, anchors, ...)
    size: int = 0
    nweights: int = 0
    embedding: int = 0    # [yolo] embedding_size
    broken: bool = field(default=False, compare=False)   # a problem was reported here
    empty_why: str = field(default="", compare=False)    # why its output is empty


@dataclass(frozen=True)
class Model:
    layers: list[LayerInfo]
    #: the index where inference stopped (None when it covered every layer).
    stopped_at: int | None = None
    batch: int = 1
    train: bool = False

    @property
    def complete(self) -> bool:
        return self.stopped_at is None

    @property
    def total_bflops(self) -> float:
        """darknet's "Total BFLOPS": the float32 sum of positive per-layer BFLOPs."""
        total = np.float32(0)
        for layer in self.layers:
            if layer.bflops > 0:
                total = np.float32(total + np.float32(layer.bflops))
        return float(total)

    @property
    def param_count(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def memory_bytes(self) -> int:
        """What darknet allocates for these layers (CPU build), workspace included."""
        work = max((layer.workspace for layer in self.layers), default=0)
        return 4 * sum(layer.floats for layer in self.layers) + work

    def weights_floats(self, upto: int | None = None) -> int:
        """Floats stored for layers [0, upto) (all layers when None)."""
        return sum(layer.params for layer in self.layers[:upto])


def machine_memory() -> int:
    """Bytes of physical memory (what a network darknet loads must fit in)."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Params:
    """darknet's size_params: what the next layer is built from."""

    w: int
    h: int
    c: int
    inputs: int
    batch: int
    train: bool
    time_steps: int
    index: int = 0


class Ctx:
    """One layer being built: its options read as darknet reads them, the params it gets,
    the layers before it, and where to report."""

    def __init__(self, run: Run, sec: Section, p: Params) -> None:
        self.run, self.sec, self.p = run, sec, p
        self.cfg = run.cfg
        self.broken = False
        self.wrapped = False
        self.antialias: tuple[int, int, int, int] | None = None
        #: the layers this one reads (a problem there is not blamed again here)
        self.sources: list[LayerInfo] = run.out[-1:]

    @property
    def index(self) -> int:
        return self.p.index

    @property
    def before(self) -> list[LayerInfo]:
        return self.run.out

    def where(self, key: str | None = None) -> str:
        return self.cfg.where(self.sec, key)

    # -- options as option_find_int/float/str read them --------------------------------
    def raw(self, key: str) -> str | None:
        return self.sec.options.get(key)

    def i(self, key: str, default: int) -> int:
        value = self.raw(key)
        return default if value is None else clib.atoi(value)

    def f(self, key: str, default: float) -> float:
        value = self.raw(key)
        return default if value is None else float(np.float32(clib.atof(value)))

    def s(self, key: str, default: str) -> str:
        value = self.raw(key)
        return default if value is None else value

    # -- reporting ---------------------------------------------------------------------
    def problem(self, message: str, key: str | None = None) -> None:
        self.broken = True
        self.run.report(f"{self.where(key)}: {message}")

    def warn(self, message: str, key: str | None = None) -> None:
        self.run.warn(f"{self.where(key)}: {message}")

    def wrap(self, label: str, *factors: int) -> int:
        """A product darknet computes in a C int, wrapped as the C int wraps; a wrap is a
        warning (darknet goes on with the wrapped size)."""
        value = 1
        for factor in factors:
            value *= factor
        wrapped = clib.wrap_int(value)
        if wrapped != value and not self.wrapped:
            self.wrapped = True
            self.warn(f"{label} = {value:,} wraps around in darknet's 32-bit int (to "
                      f"{wrapped:,}); darknet builds the layer with the wrong size and "
                      "running it corrupts memory — make the layer or the batch smaller")
        return wrapped

    def alloc(self, label: str, *factors: int) -> int:
        """Elements darknet callocs for a C int count: a negative count makes calloc fail
        and darknet exit (a problem); returns the count allocated."""
        count = self.wrap(label, *factors)
        if count < 0:
            self.problem(f"{label} is {count:,} as darknet's 32-bit int computes it, so its "
                         "calloc fails and darknet exits — make the layer or the batch smaller")
            return 0
        return count

    def ref(self, value: int, key: str) -> LayerInfo | None:
        """The layer an index option names (negative: relative); a problem when it is
        not an earlier layer (darknet reads memory outside the layers built so far)."""
        target = self.index + value if value < 0 else value
        if 0 <= target < self.index:
            return self.before[target]
        raw = self.raw(key)
        if target < 0:
            self.problem(f"{key}={raw} points to layer {target}, before the first layer — "
                         f"use -1..-{self.index} (this is layer {self.index})" if self.index
                         else f"{key}={raw}: layer 0 has no earlier layer — remove this "
                         "section or move it later", key)
        else:
            self.problem(f"{key}={raw} points to layer {target}, not before this layer "
                         f"({self.index}) — darknet can only use earlier layers; use a "
                         "negative offset or a smaller index", key)
        return None

    def need_image(self, what: str) -> bool:
        """darknet's `if(!(h && w && c)) error(...)`: blame the layer that emptied it."""
        p = self.p
        if p.h and p.w and p.c:
            return True
        prev = self.before[-1] if self.before else None
        if any(src.broken for src in self.sources):
            self.broken = True
            return False
        type_line = f"the [{self.sec.type}] at line {self.sec.line}"
        if prev is not None and prev.empty_why:
            cause, _, fix = prev.empty_why.partition("|")
            self.broken = True
            self.run.report(f"{cause}; {type_line} then has no image input and darknet "
                            f"stops — {fix}")
        elif prev is None:
            self.problem(f"{what} needs an image input, but [net] gives {p.w}x{p.h}x{p.c} "
                         "— set width, height and channels in [net]")
        else:
            self.problem(f"{what} needs an image input, but layer {prev.index} ([{prev.type}]"
                         f" at line {prev.line}) gives {prev.out_w}x{prev.out_h}x{prev.out_c}"
                         " — put this layer where there is an image (or drop it)")
        return False

    def info(self, out_w: int, out_h: int, out_c: int, outputs: int, *, bflops: float = 0.0,
             params: int = 0, floats: int = 0, workspace: int = 0, own: tuple | None = None,
             detail: str = "", empty_why: str = "", **extra) -> LayerInfo:
        p = self.p
        own_w, own_h = own if own is not None else (p.w, p.h)
        broken = self.broken or any(src.broken for src in self.sources)
        if not empty_why and not (out_w and out_h and out_c):
            empty_why = next((src.empty_why for src in self.sources if src.empty_why), "")
        self.broken = broken
        return LayerInfo(self.index, canonical(self.sec.type) or self.sec.type, out_w, out_h,
                         out_c, float(np.float32(bflops)), params, p.w, p.h, p.c,
                         self.sec.line, detail, outputs, floats, workspace, own_w, own_h,
                         broken=self.broken, empty_why=empty_why, **extra)

    def next_shape(self, info: LayerInfo) -> tuple[int, int, int, int]:
        if self.antialias is not None:
            return self.antialias
        return info.out_w, info.out_h, info.out_c, info.outputs
