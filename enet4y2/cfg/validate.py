"""Validation: every mistake darknet would crash on, silently ignore, or train badly with,
each reported as `file:line: problem — fix`."""

from __future__ import annotations

import difflib

from enet4y2.cfg.infer import infer_with
from enet4y2.cfg.keys import (
    ACTIVATIONS,
    FLOAT_KEYS,
    FLOAT_LIST_KEYS,
    INT_KEYS,
    INT_LIST_KEYS,
    canonical,
    known_keys,
)
from enet4y2.cfg.model import NET_TYPES, Cfg, Section
from enet4y2.errors import CfgError

#: Width and height must be multiples of this for the YOLO models (5 stride-2 stages).
SIZE_MULTIPLE = 32


def validate(cfg: Cfg) -> None:
    """Raise CfgError listing every problem (joined with "; ") when there is any."""
    found = problems(cfg)
    if found:
        more = f" ({len(found)} problems)" if len(found) > 1 else ""
        raise CfgError("; ".join(found) + more)


def problems(cfg: Cfg) -> list[str]:
    """Every problem in `cfg`, in file order, each `file:line: problem — fix`."""
    found: dict[str, None] = {}

    def report(message: str) -> None:
        found.setdefault(message, None)

    if not cfg.sections or cfg.sections[0].type not in NET_TYPES:
        report(f"{cfg.where(cfg.sections[0] if cfg.sections else None)}: the first section "
               "must be [net] — add [net] with width, height and channels at the top")
        return list(found)
    if not cfg.layers:
        report(f"{cfg.where(cfg.net)}: no layers after [net] — add the network's layers")
        return list(found)
    for sec in cfg.sections:
        _check_keys(cfg, sec, report)
    _check_net(cfg, report)
    heads = [(i, s) for i, s in enumerate(cfg.layers) if s.type == "yolo"]
    for _, sec in heads:
        _check_yolo(cfg, sec, report)
    _check_classes(cfg, heads, report)
    infer_with(cfg, report)
    return sorted(found, key=_line_key)


def warnings(cfg: Cfg) -> list[str]:
    """Things darknet accepts but that are probably not what the author meant."""
    notes = []
    for sec in cfg.sections:
        for key, value, line in sec.duplicates:
            first = sec.options[key]
            notes.append(f"{cfg.path or '<cfg>'}:{line}: {key}={value} repeats line "
                         f"{sec.option_lines[key]} and darknet uses the first ({key}={first}) "
                         "— delete one of them")
    return notes


def _line_key(message: str) -> int:
    head = message.split(": ", 1)[0]
    _, _, num = head.rpartition(":")
    return int(num) if num.isdigit() else 0


def _check_keys(cfg: Cfg, sec: Section, report) -> None:
    kind = canonical(sec.type)
    keys = known_keys(kind) if kind else None
    for key, value in sec.options.items():
        where = cfg.where(sec, key)
        if keys is not None and key not in keys:
            close = difflib.get_close_matches(key, sorted(keys), n=1)
            hint = f"did you mean {close[0]}?" if close else "remove it"
            report(f"{where}: [{sec.type}] has no key '{key}' (darknet ignores it) — {hint}")
            continue
        bad = _number_problem(key, value)
        if bad:
            report(f"{where}: {key}={value} {bad}")
        if key == "activation" and value not in ACTIVATIONS:
            close = difflib.get_close_matches(value, sorted(ACTIVATIONS), n=1)
            hint = close[0] if close else "linear"
            report(f"{where}: unknown activation '{value}' (darknet falls back to relu) — "
                   f"use e.g. activation={hint}")


def _number_problem(key: str, value: str) -> str | None:
    def bad_int(text: str) -> bool:
        try:
            int(text)
        except ValueError:
            return True
        return False

    def bad_float(text: str) -> bool:
        try:
            float(text)
        except ValueError:
            return True
        return False

    if key in INT_KEYS and bad_int(value):
        return "is not an integer — write a whole number"
    if key in FLOAT_KEYS and bad_float(value):
        return "is not a number — write e.g. 0.5"
    if key in INT_LIST_KEYS and any(bad_int(p) for p in value.split(",")):
        return "is not a comma-separated list of integers — write e.g. 1,2,3"
    if key in FLOAT_LIST_KEYS and any(bad_float(p) for p in value.split(",")):
        return "is not a comma-separated list of numbers — write e.g. 10,14,23,27"
    return None


def _ints(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(p) for p in value.split(",")]
    except ValueError:
        return None


def _check_net(cfg: Cfg, report) -> None:
    net = cfg.net
    try:
        width, height = cfg.width, cfg.height
        batch, subdivisions, max_batches = cfg.batch, cfg.subdivisions, cfg.max_batches
    except CfgError:
        return  # reported by the key checks
    if cfg.yolo_sections:
        for key, value in (("width", width), ("height", height)):
            if value > 0 and value % SIZE_MULTIPLE:
                near = max(SIZE_MULTIPLE, round(value / SIZE_MULTIPLE) * SIZE_MULTIPLE)
                report(f"{cfg.where(net, key)}: {key}={value} is not a multiple of "
                       f"{SIZE_MULTIPLE} — use {key}={near}")
    if batch < 1 or subdivisions < 1 or batch % subdivisions:
        report(f"{cfg.where(net, 'subdivisions')}: batch={batch} must be a positive "
               f"multiple of subdivisions={subdivisions} — e.g. batch=64 subdivisions=8")
    if net.get("policy", "constant") != "steps":
        return
    steps, scales = _ints(net.get("steps")), net.get("scales")
    if steps is None:
        report(f"{cfg.where(net)}: policy=steps needs steps= — e.g. steps at 80% and 90% of "
               "max_batches")
        return
    if scales is not None and len(scales.split(",")) != len(steps):
        report(f"{cfg.where(net, 'scales')}: {len(scales.split(','))} scales for "
               f"{len(steps)} steps — give one scale per step, e.g. scales=.1,.1")
    if steps != sorted(steps):
        report(f"{cfg.where(net, 'steps')}: steps must increase — sort them")
    if max_batches and steps and steps[-1] > max_batches:
        report(f"{cfg.where(net, 'steps')}: step {steps[-1]} is after max_batches="
               f"{max_batches} — put steps at 80% and 90% of max_batches")


def _check_yolo(cfg: Cfg, sec: Section, report) -> None:
    try:
        num = int(sec.get("num", "1"))
    except ValueError:
        return
    mask = _ints(sec.get("mask"))
    if mask is not None:
        for m in mask:
            if not 0 <= m < num:
                report(f"{cfg.where(sec, 'mask')}: mask index {m} is not below num={num} "
                       f"— use indices 0..{num - 1} or raise num")
    anchors = sec.get("anchors")
    if anchors is None:
        report(f"{cfg.where(sec)}: [yolo] has no anchors= — give {num} pairs w,h")
        return
    count = len(anchors.split(","))
    if count != 2 * num:
        report(f"{cfg.where(sec, 'anchors')}: {count} anchor values for num={num} — give "
               f"2*num = {2 * num} values (w,h pairs) or set num={count // 2}")
    try:
        classes = int(sec.get("classes", "20"))
    except ValueError:
        return
    if classes < 1:
        report(f"{cfg.where(sec, 'classes')}: classes={classes} — use at least 1")


def _check_classes(cfg: Cfg, heads, report) -> None:
    try:
        _ = cfg.classes
    except CfgError:
        values = {}
        for _, sec in heads:
            values.setdefault(sec.get("classes", "20"), sec)
        first = next(iter(values))
        for value, sec in values.items():
            if value != first:
                report(f"{cfg.where(sec, 'classes')}: classes={value} differs from "
                       f"classes={first} in the first [yolo] — use the same classes= in "
                       "every head")
