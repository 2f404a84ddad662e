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

from enet4y2.cfg import clib
from enet4y2.cfg.keys import canonical
from enet4y2.cfg.layertypes import BUILDERS
from enet4y2.cfg.model import Cfg, shown
from enet4y2.cfg.netopts import read_net
from enet4y2.cfg.shapes import Ctx, LayerInfo, Model, Params, Report, Stop, machine_memory
from enet4y2.errors import CfgError

__all__ = ["LayerInfo", "Model", "infer", "infer_with", "machine_memory"]


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


class _Run:
    def __init__(self, cfg: Cfg, report: Report, warn: Report) -> None:
        self.cfg, self.report, self.warn = cfg, report, warn
        self.out: list[LayerInfo] = []

    def layers_from(self, p: Params) -> Model:
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
