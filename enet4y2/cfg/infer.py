"""Shape inference as darknet does it at load time (`parse_network_cfg_custom` in upstream
src/parser.c and each layer's `make_*_layer`): per-layer output shape, BFLOPs counted the
way upstream counts them (convolutional, maxpool/local_avgpool, shortcut and crnn layers
report any; the total is summed in float32), the float32 values each layer stores in a
.weights file (the order of `save_weights_upto`), and the memory darknet allocates.

Everything darknet stops on while loading (`error()`, a failed assertion, a NULL or
out-of-range read, a division by zero, a 32-bit size that wraps, a failed calloc) is a
*problem*; what it accepts but ignores or repairs is a *warning*. Layer types whose
shapes are not modelled stop the inference there (a warning), so what follows is unknown.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from enet4y2.cfg import clib
from enet4y2.cfg.keys import canonical
from enet4y2.cfg.model import Cfg, Section, shown
from enet4y2.errors import CfgError

Report = Callable[[str], None]


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


def _raise(message: str) -> None:
    raise CfgError(message)


def infer(cfg: Cfg, batch: int | None = None) -> Model:
    """Infer every layer's shape, BFLOPs and weights; CfgError on the first problem, or
    when a layer type stops the inference (the model would be incomplete)."""
    notes: list[str] = []
    model = infer_with(cfg, _raise, notes.append, batch=batch)
    if not model.complete:
        raise CfgError(next(n for n in notes if "shapes unknown" in n))
    return model


def infer_with(cfg: Cfg, report: Report, warn: Report | None = None, *,
               batch: int | None = None, memory: int | None = None) -> Model:
    """Like `infer`, but hands every problem to `report` (and every warning to `warn`)
    and carries on where it can: a broken layer gets an empty output and layers fed by it
    are not blamed again. `batch` None reads the cfg as `darknet detector train` does
    (mini-batch = batch/subdivisions, training buffers); a number loads it as
    `load_network_custom(cfg, weights, 0, batch)` does (inference buffers). With
    `memory` (bytes), a network needing more is a problem."""
    from enet4y2.cfg.netopts import read_net

    run = _Run(cfg, report, warn or (lambda _m: None))
    setup = read_net(cfg, run, batch)
    if setup is None:
        return Model([], batch=batch or 1, train=batch is None)
    model = run.layers_from(setup)
    if memory is not None and model.memory_bytes > memory:
        mode = (f"training at mini-batch {setup.batch}" if setup.train
                else f"batch {setup.batch}")
        at_least = "at least " if not model.complete else ""
        report(f"{cfg.where(cfg.net)}: darknet needs {at_least}"
               f"{model.memory_bytes / 2**30:.1f} GiB to load this network ({mode}), "
               f"more than this machine's {memory / 2**30:.1f} GiB — lower batch (or raise "
               "subdivisions), width/height or the filters")
    return model


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


class _Run:
    def __init__(self, cfg: Cfg, report: Report, warn: Report) -> None:
        self.cfg, self.report, self.warn = cfg, report, warn
        self.out: list[LayerInfo] = []

    def layers_from(self, p: Params) -> Model:
        from enet4y2.cfg.layers import Stop
        from enet4y2.cfg.layertypes import BUILDERS

        cfg = self.cfg
        last_stop = -1
        if p.train:
            for i, sec in enumerate(cfg.layers):
                if "stopbackward" in sec.options and clib.atoi(sec.options["stopbackward"]) == 1:
                    last_stop = i
        train = p.train
        for index, sec in enumerate(cfg.layers):
            p.index, p.train = index, train and index >= last_stop
            kind = canonical(sec.type)
            ctx = Ctx(self, sec, p)
            builder = BUILDERS.get(kind or "", _unknown)
            try:
                info = builder(ctx)
            except Stop as stop:
                self.warn(f"{cfg.where(sec)}: {stop} — shapes unknown from layer {index} on "
                          "(no BFLOPs, weights size or memory check past here)")
                return Model(self.out, stopped_at=index, batch=p.batch, train=train)
            self.out.append(info)
            p.w, p.h, p.c, p.inputs = ctx.next_shape(info)
        if self.out and not any(m.own_w > 1 and m.own_h > 1 for m in self.out) and not any(
                m.broken for m in self.out):
            self.report(f"{cfg.where(cfg.net)}: no layer has an input wider and taller than "
                        "1, and darknet then divides by zero (avg_outputs) and crashes — "
                        "give [net] width and height > 1, or add a layer with a 2D input")
        return Model(self.out, batch=p.batch, train=train)


def _unknown(ctx: Ctx) -> LayerInfo:
    sec = ctx.sec
    kind = canonical(sec.type)
    if kind == "net":
        why = f"a second [{sec.type}] section, which darknet skips (its output is empty)"
        fix = "keep one [net], at the top"
    else:
        why = f"unknown section {shown(sec.header or f'[{sec.type}]')}, which darknet skips"
        fix = "check the spelling (e.g. [convolutional], [route], [yolo])"
    ctx.warn(f"{why} — {fix}")
    return ctx.info(0, 0, 0, 0, own=(0, 0), detail="skipped",
                    empty_why=f"{ctx.where()}: {why}|{fix}")


class Ctx:
    """One layer being built: its options read as darknet reads them, the params it gets,
    the layers before it, and where to report."""

    def __init__(self, run: _Run, sec: Section, p: Params) -> None:
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
