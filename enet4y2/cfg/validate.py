"""Validation with darknet's own strictness: a *problem* is something darknet stops or
crashes on while loading (or that reads outside its arrays once running: a [yolo] mask
past num, a route group_id past groups); a *warning* is something darknet accepts but
ignores or repairs (unknown keys, `key=` lines, values atoi reads differently, sizes that
are not multiples of 32, ...). Each message is `file:line: what — fix`."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from enet4y2.cfg import clib
from enet4y2.cfg.infer import Model, infer_with, machine_memory
from enet4y2.cfg.keys import LIST_ITEMS, canonical, key_kind, known_keys
from enet4y2.cfg.model import Cfg, Section, shown
from enet4y2.errors import CfgError


@dataclass(frozen=True)
class Verdict:
    problems: list[str]
    warnings: list[str]
    model: Model | None

    @property
    def ok(self) -> bool:
        return not self.problems


def check(cfg: Cfg, *, batch: int | None = None, memory: int | None = None) -> Verdict:
    """Problems and warnings in file order. `batch` None judges the cfg as training reads
    it (mini-batch = batch/subdivisions); a number, as a detector loads it with that
    batch. `memory` (bytes) defaults to this machine's physical memory."""
    found: dict[str, None] = {}
    notes: dict[str, None] = {}
    model = infer_with(cfg, lambda m: found.setdefault(m, None),
                       lambda m: notes.setdefault(m, None), batch=batch,
                       memory=machine_memory() if memory is None else memory)
    for note in _reading_notes(cfg) + _classes_note(cfg):
        notes.setdefault(note, None)
    for sec in cfg.sections:
        _check_keys(cfg, sec, lambda m: notes.setdefault(m, None))
    return Verdict(sorted(found, key=_line_key), sorted(notes, key=_line_key),
                   model if model.layers else None)


def validate(cfg: Cfg, *, batch: int | None = None, memory: int | None = None) -> None:
    """Raise CfgError listing every problem (joined with "; ") when there is any;
    warnings never raise."""
    found = problems(cfg, batch=batch, memory=memory)
    if found:
        more = f" ({len(found)} problems)" if len(found) > 1 else ""
        raise CfgError("; ".join(found) + more)


def problems(cfg: Cfg, *, batch: int | None = None, memory: int | None = None) -> list[str]:
    """Every problem in `cfg`, in file order, each `file:line: problem — fix`."""
    return check(cfg, batch=batch, memory=memory).problems


def warnings(cfg: Cfg, *, batch: int | None = None) -> list[str]:
    """Things darknet accepts but that are probably not what the author meant."""
    return check(cfg, batch=batch).warnings


def _line_key(message: str) -> int:
    head = message.split(": ", 1)[0]
    _, _, num = head.rpartition(":")
    return int(num) if num.isdigit() else 0


def _reading_notes(cfg: Cfg) -> list[str]:
    name = cfg.path or "<cfg>"
    notes = [f"{name}:{line}: a carriage return inside the line — darknet splits lines at "
             "\\n only, so what follows it joins this line; use \\n (or \\r\\n) line endings"
             for line in cfg.cr_lines]
    for sec in cfg.sections:
        for key, line in sec.bare.items():
            notes.append(f"{name}:{line}: '{shown(key)}' has no '=' and darknet finds no "
                         "value in it — write key=value")
        for key, line in sec.empty:
            notes.append(f"{name}:{line}: {shown(key)}= has no value and darknet drops the line "
                         "(\"Config file error\") — write a value or remove the line")
        for key, value, line in sec.duplicates:
            if key in sec.bare:
                notes.append(f"{name}:{line}: {key}={value} comes after '{key}' without '=' "
                             f"on line {sec.bare[key]}, so darknet uses its default — "
                             "delete that line")
            else:
                notes.append(f"{name}:{line}: {key}={value} repeats line "
                             f"{sec.option_lines[key]} and darknet uses the first "
                             f"({key}={sec.options[key]}) — delete one of them")
    return notes


def _classes_note(cfg: Cfg) -> list[str]:
    values: dict[int, Section] = {}
    for sec in cfg.layers:
        if sec.type == "yolo":
            values.setdefault(clib.atoi(sec.get("classes", "20")), sec)
    if len(values) < 2:
        return []
    (first, _), *others = values.items()
    return [f"{cfg.where(sec, 'classes')}: classes={value} differs from classes={first} in "
            "the first [yolo]; darknet allows it, but labels and names follow one count — "
            "use the same classes= in every head" for value, sec in others]


def _check_keys(cfg: Cfg, sec: Section, note) -> None:
    kind = canonical(sec.type)
    keys = known_keys(kind) if kind else None
    if keys is None:
        return
    for key, value in sec.options.items():
        where = cfg.where(sec, key)
        if key not in keys:
            close = difflib.get_close_matches(key, sorted(keys), n=1)
            hint = f"did you mean {close[0]}?" if close else "remove it"
            note(f"{where}: [{sec.type}] has no key '{shown(key)}' (darknet ignores it) — {hint}")
            continue
        how = key_kind(kind, key)
        if how == "r" and key in LIST_ITEMS:
            items = value.split("#", 1)[0].split(",")
            read = [_misread(LIST_ITEMS[key], t) for t in items]
            if any(r is not None for r in read):
                got = ",".join(t if r is None else r for t, r in zip(items, read, strict=True))
                note(f"{where}: {key}={value} is read by darknet as {got} — write plain "
                     "numbers separated by commas")
            continue
        read = _misread(how, value)
        if read is not None:
            note(f"{where}: {key}={value} is read by darknet as {read} — write a plain number")


def _misread(kind: str | None, value: str) -> str | None:
    """What atoi/atof make of a value that is not a plain number (an inline `#` comment
    after the number is fine); None when it reads as written."""
    if kind not in ("i", "f"):
        return None
    text = value.split("#", 1)[0]
    if kind == "i":
        got = clib.atoi(value)
        return None if text == str(got) or _plain_int(text) == got else str(got)
    got_f = clib.atof(value)
    lead = clib.leading_number(value)
    return None if lead and lead == text else repr(got_f)


def _plain_int(text: str) -> int | None:
    try:
        return int(text, 10)
    except ValueError:
        return None
