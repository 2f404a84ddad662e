"""The `[net]` section as darknet reads it (`parse_net_options` and the start of
`parse_network_cfg_custom` in upstream src/parser.c): what it stops on, what it repairs,
and the batch, training mode and input size the layers are then built with."""

from __future__ import annotations

from enet4y2.cfg import clib
from enet4y2.cfg.keys import CHOICES, canonical
from enet4y2.cfg.model import NET_TYPES, Cfg, binary_hint
from enet4y2.cfg.shapes import Params

#: Width and height darknet wants divisible by 32 when the last layer is a detector.
SIZE_MULTIPLE = 32


def read_net(cfg: Cfg, run, batch: int | None):
    """The Params the first layer gets, or None when darknet stops before any layer."""

    report, warn = run.report, run.warn
    if not cfg.sections:
        report(f"{cfg.where()}: no sections (darknet: \"Config file has no sections\")"
               f"{binary_hint(cfg)} — start the file with [net]")
        return None
    net = cfg.sections[0]
    if net.type not in NET_TYPES or (net.header and net.header != f"[{net.type}]"):
        hint = ""
        if cfg.cr_lines and cfg.cr_lines[0] <= net.line:
            hint = (" (the file has CR-only (old Mac) line endings, which darknet reads as "
                    "one line — save it with \\n line endings)")
        report(f"{cfg.where(net)}: the first section must be [net]{hint}{binary_hint(cfg)} — "
               "add [net] with "
               "width, height and channels at the top")
        return None
    opt = net.options

    def i(key: str, default: int) -> int:
        return clib.atoi(opt[key]) if key in opt else default

    subdivs = i("subdivisions", 1)
    if subdivs == 0:
        report(f"{cfg.where(net, 'subdivisions')}: subdivisions=0 — darknet divides the "
               "batch by it and crashes; use e.g. subdivisions=1")
        return None
    cfg_batch = i("batch", 1)
    mini = clib.cdiv(cfg_batch, subdivs)
    time_steps = i("time_steps", 1)
    if cfg_batch % subdivs or mini < 1:
        warn(f"{cfg.where(net, 'subdivisions')}: batch={cfg_batch} is not a positive multiple "
             f"of subdivisions={subdivs}; darknet trains mini-batches of {max(mini, 1)} — "
             "e.g. batch=64 subdivisions=8")
    h, w, c = i("height", 0), i("width", 0), i("channels", 0)
    inputs = i("inputs", clib.wrap_int(h * w * c))
    if i("contrastive", 0) and mini < 2:
        report(f"{cfg.where(net, 'contrastive')}: contrastive=1 needs a mini-batch "
               f"(batch/subdivisions) of at least 2, not {mini} — darknet stops")
    if not inputs and not (h and w and c):
        report(f"{cfg.where(net)}: [net] needs positive width, height and channels (got "
               f"{w}x{h}x{c}) — e.g. width=416 height=416 channels=3")
        return None
    _policy(cfg, run, i)  # darknet stops there too, but the layers are worth checking
    _size_warning(cfg, warn, w, h)
    if not cfg.layers:
        report(f"{cfg.where(net)}: no layers after [net] — darknet divides by zero with "
               "no layers; add the network's layers")
        return None
    train = batch is None or batch <= 0
    if train:
        net_batch, steps = mini * time_steps, time_steps
    else:
        net_batch, steps = batch, 1
    steps = max(steps, 1)
    net_batch = max(net_batch, 1, steps)
    return Params(w, h, c, inputs, net_batch, train, steps)


def _policy(cfg: Cfg, run, i) -> None:
    net = cfg.net
    opt = net.options
    policy = opt.get("policy", "constant")
    choices, fallback = CHOICES[("net", "policy")]
    if policy not in choices:
        run.warn(f"{cfg.where(net, 'policy')}: unknown policy={policy}; darknet uses "
                 f"{fallback} — use one of {', '.join(sorted(choices))}")
        return
    if policy not in ("steps", "sgdr"):
        return
    steps, scales, seq = opt.get("steps"), opt.get("scales"), opt.get("seq_scales")
    if policy == "steps" and (steps is None or scales is None):
        missing = "steps=" if steps is None else "scales="
        run.report(f"{cfg.where(net)}: policy=steps needs steps= and scales= (no {missing}) "
                   "— e.g. steps at 80% and 90% of max_batches, scales=.1,.1")
        return
    if steps is None:
        return
    n = clib.list_count(steps, stop_at_hash=True)
    for key, value in (("scales", scales), ("seq_scales", seq)):
        if value is not None and clib.list_items(value, n) is None:
            got = clib.list_count(value, stop_at_hash=False)
            run.report(f"{cfg.where(net, key)}: {got} {key} for {n} steps — darknet reads "
                       f"past the end of {key}= and crashes; give one per step, e.g. "
                       f"{key}=" + ",".join([".1"] * n))
            return
    values = [clib.atoi(t) for t in clib.list_items(steps, n) or []]
    if values != sorted(values):
        run.warn(f"{cfg.where(net, 'steps')}: steps={steps} do not increase; darknet "
                 "applies each scale when its step is reached — sort them")
    max_batches = i("max_batches", 0)
    if max_batches and values and values[-1] > max_batches:
        run.warn(f"{cfg.where(net, 'steps')}: step {values[-1]} is after max_batches="
                 f"{max_batches}, so it never happens — put steps at 80% and 90% of "
                 "max_batches")
    if scales is not None and clib.list_count(scales, stop_at_hash=True) > n:
        run.warn(f"{cfg.where(net, 'scales')}: more scales than the {n} steps; darknet "
                 "ignores the rest — give one scale per step")


def _size_warning(cfg: Cfg, warn, w: int, h: int) -> None:
    last = canonical(cfg.layers[-1].type) if cfg.layers else None
    if last not in ("yolo", "region", "detection"):
        return
    for key, value in (("width", w), ("height", h)):
        if value % SIZE_MULTIPLE:
            near = max(SIZE_MULTIPLE, round(value / SIZE_MULTIPLE) * SIZE_MULTIPLE)
            warn(f"{cfg.where(cfg.net, key)}: {key}={value} is not a multiple of "
                 f"{SIZE_MULTIPLE} (darknet warns; routes of the heads may not line up) — "
                 f"use {key}={near}")
