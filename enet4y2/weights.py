"""darknet .weights files against a cfg: header, full/backbone/mismatch, and `cut_weights`,
the pure-Python `darknet partial` (byte-identical output).

Layout (src/parser.c): int32 major, minor, revision; `seen` as uint64 when
major*10+minor >= 2 else uint32; then float32 values layer by layer in the order of
`save_weights_upto`. `darknet partial` loads layers [0, N) and writes them back with
its own version (0.2.5) and seen = 0.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from enet4y2.cfg import Cfg, header_size, infer, normalized_number
from enet4y2.cfg_keys import canonical
from enet4y2.errors import MissingFileError, WeightsError
from enet4y2.fileio import atomic_write

#: The version darknet (pinned upstream, src/version.h) writes into every file it saves.
DARKNET_VERSION = (0, 2, 5)
#: Options that do not change a layer's stored weights (ignored by `shared_layers`).
NON_STRUCTURAL = frozenset({
    "probability", "stopbackward", "dontload", "dontloadscales", "learning_rate",
    "train_only_bn", "dont_update", "burnin_update", "onlyforward", "clip",
})


@dataclass(frozen=True)
class WeightsHeader:
    major: int
    minor: int
    revision: int
    seen: int
    header_size: int

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.revision}"

    @property
    def transposed(self) -> bool:
        """darknet transposes connected-layer weights from such (very old) files."""
        return self.major > 1000 or self.minor > 1000


@dataclass(frozen=True)
class WeightsMatch:
    """How a .weights file fits a cfg: "full" (every layer), "backbone" (layers
    [0, layers) exactly) or "mismatch" (`layers` whole layers fit, the rest does not)."""

    kind: Literal["full", "backbone", "mismatch"]
    layers: int
    expected_size: int
    actual_size: int


def parse_header(data: bytes, name: str = "<weights>") -> WeightsHeader:
    """The header at the start of `data` (pure)."""
    if len(data) < 12:
        raise WeightsError(f"{name}: {len(data)} bytes is too short for a darknet weights "
                           "header — is this a .weights file?")
    major, minor, revision = struct.unpack_from("<iii", data)
    size = header_size(major, minor)
    if len(data) < size:
        raise WeightsError(f"{name}: truncated header ({len(data)} of {size} bytes) — "
                           "re-download or re-save the weights")
    seen = struct.unpack_from("<Q" if size == 20 else "<I", data, 12)[0]
    return WeightsHeader(major, minor, revision, seen, size)


def read_header(path: str | Path) -> WeightsHeader:
    """The header of a .weights file."""
    p = _existing(path)
    with p.open("rb") as fh:
        return parse_header(fh.read(20), str(p))


def match_weights(path: str | Path, cfg: Cfg) -> WeightsMatch:
    """Does the file hold every layer of `cfg`, exactly its first N layers, or neither?"""
    p = _existing(path)
    header = read_header(p)
    return match_size(p.stat().st_size, header, cfg)


def match_size(actual: int, header: WeightsHeader, cfg: Cfg) -> WeightsMatch:
    """`match_weights` on a known size and header (pure)."""
    model = infer(cfg)
    expected = header.header_size + 4 * model.param_count
    payload = actual - header.header_size
    if actual == expected:
        return WeightsMatch("full", len(model.layers), expected, actual)
    fitting, total = 0, 0
    for index, layer in enumerate(model.layers):
        if total + layer.params > payload // 4:
            break
        total += layer.params
        fitting = index + 1
        if total * 4 == payload and layer.params:
            return WeightsMatch("backbone", fitting, expected, actual)
    return WeightsMatch("mismatch", fitting, expected, actual)


def cut_weights(src: str | Path, cfg: Cfg, layers: int, out: str | Path) -> Path:
    """Write layers [0, layers) of `src` to `out` exactly as `darknet partial cfg src out
    layers` does (darknet's version, seen = 0); atomic. Returns `out`."""
    src_path, out_path = _existing(src), Path(out)
    model = infer(cfg)
    if not 0 <= layers <= len(model.layers):
        raise WeightsError(f"--layers {layers}: {cfg.path or 'the cfg'} has "
                           f"{len(model.layers)} layers — use 0..{len(model.layers)}")
    _refuse_unloadable(cfg, layers)
    header = read_header(src_path)
    need = header.header_size + 4 * model.weights_floats(layers)
    have = src_path.stat().st_size
    if have < need:
        raise WeightsError(f"{src_path}: {have} bytes, but layers 0..{layers - 1} of "
                           f"{cfg.path or 'the cfg'} need {need} — use the cfg these "
                           "weights were trained with, or fewer --layers")
    with src_path.open("rb") as fh:
        fh.seek(header.header_size)
        payload = fh.read(need - header.header_size)
    payload = _as_darknet_saves(payload, cfg, model, layers, header)
    out_header = struct.pack("<iiiQ", *DARKNET_VERSION, 0)
    return atomic_write(out_path, out_header + payload)


def shared_layers(cfg_a: Cfg, cfg_b: Cfg) -> int:
    """How many leading layers the two cfgs share with identical stored weights
    (same type, options and channels; dropout probability and training flags aside)."""
    model_a, model_b = infer(cfg_a), infer(cfg_b)
    count = 0
    for sec_a, sec_b, la, lb in zip(cfg_a.layers, cfg_b.layers, model_a.layers,
                                    model_b.layers, strict=False):
        if _structure(sec_a, la) != _structure(sec_b, lb):
            break
        count += 1
    return count


def _structure(sec, layer) -> tuple:
    opts = {k: normalized_number(v) for k, v in sec.options.items()
            if k not in NON_STRUCTURAL}
    return canonical(sec.type), opts, layer.in_c, layer.out_c, layer.params


def _refuse_unloadable(cfg: Cfg, layers: int) -> None:
    for sec in cfg.layers[:layers]:
        for key in ("dontload", "dontloadscales"):
            if sec.get(key, "0") not in ("0", ""):
                raise WeightsError(f"{cfg.where(sec, key)}: {key}=1 makes darknet keep "
                                   "random values there — remove it before cutting")


def _as_darknet_saves(payload: bytes, cfg: Cfg, model, layers: int,
                      header: WeightsHeader) -> bytes:
    """darknet transposes some matrices on load and saves them as loaded."""
    spans = []
    offset = 0
    for sec, layer in zip(cfg.layers[:layers], model.layers[:layers], strict=True):
        kind = canonical(sec.type)
        if kind == "convolutional" and sec.get("flipped", "0") != "0" and layer.params:
            n, bn = layer.out_c, sec.get("batch_normalize", "0") != "0"
            start = offset + n * (4 if bn else 1)
            rows = layer.params - n * (4 if bn else 1)
            spans.append((start, rows // n, n))
        if kind == "connected" and header.transposed:
            outputs, inputs = layer.out_c, layer.in_w * layer.in_h * layer.in_c
            spans.append((offset + outputs, inputs, outputs))
        offset += layer.params
    if not spans:
        return payload
    floats = np.frombuffer(payload, dtype="<f4").copy()
    for start, rows, cols in spans:
        block = floats[start:start + rows * cols]
        floats[start:start + rows * cols] = block.reshape(rows, cols).T.ravel()
    return floats.tobytes()


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"{p}: no such weights file — check the path")
    return p


# -- for the CLI: plain dicts to render or dump as JSON --------------------------------
def describe(path: str | Path, cfg_path: str | Path | None = None) -> dict:
    """Header facts of a .weights file and, with a cfg, how it fits (with a verdict)."""
    from enet4y2.cfg import load_cfg

    p = _existing(path)
    header = read_header(p)
    report: dict = {"path": str(p), "version": header.version, "major": header.major,
                    "minor": header.minor, "revision": header.revision,
                    "seen": header.seen, "header_size": header.header_size,
                    "size": p.stat().st_size}
    if cfg_path is None:
        return report
    cfg = load_cfg(cfg_path)
    match = match_size(report["size"], header, cfg)
    total = len(cfg.layers)
    verdicts = {
        "full": f"full model: all {total} layers of {cfg_path} "
                f"({match.actual_size:,} bytes as expected)",
        "backbone": f"backbone: layers 0..{match.layers - 1} of {cfg_path} "
                    f"({match.actual_size:,} of {match.expected_size:,} bytes) — train "
                    "from it; darknet initializes the other layers",
        "mismatch": _mismatch_verdict(match, str(cfg_path), total),
    }
    report.update(cfg=str(cfg_path), kind=match.kind, layers=match.layers,
                  expected_size=match.expected_size, verdict=verdicts[match.kind])
    return report


def _mismatch_verdict(match: WeightsMatch, cfg_path: str, total: int) -> str:
    if match.actual_size > match.expected_size:
        where = (f"is {match.actual_size - match.expected_size:,} bytes larger than the "
                 "full model")
    else:
        where = f"ends inside layer {match.layers} (after {match.layers} whole layers)"
    return (f"mismatch: {match.actual_size:,} bytes, but {cfg_path} ({total} layers) expects "
            f"{match.expected_size:,}; the file {where} — use the cfg these weights "
            "were trained with (classifier weights: `enet4y2 weights cut W --cfg "
            f"CLASSIFIER.cfg --for {cfg_path}`)")


def cut_file(src: str | Path, cfg_path: str | Path, *, layers: int | None = None,
             target: str | Path | None = None, output: str | Path | None = None) -> dict:
    """`cut_weights` with the layer count given, or found from a target detector cfg."""
    from enet4y2.cfg import load_cfg

    if (layers is None) == (target is None):
        raise WeightsError("give either --layers N or --for DETECTOR.cfg (not both)")
    cfg = load_cfg(cfg_path)
    if target is not None:
        detector = load_cfg(target)
        layers = shared_layers(cfg, detector)
        if layers == 0 or infer(cfg).weights_floats(layers) == 0:
            raise WeightsError(f"{cfg_path} and {target} share no layers with weights — "
                               "is --cfg the cfg SRC was trained with?")
    assert layers is not None
    src_path = Path(src)
    if output is None:
        stem = src_path.name.removesuffix(".weights")
        output = src_path.with_name(f"{stem}.conv.{layers}")
    out = cut_weights(src_path, cfg, layers, output)
    return {"source": str(src_path), "cfg": str(cfg_path), "layers": layers,
            "output": str(out), "size": out.stat().st_size,
            **({"target": str(target)} if target is not None else {})}
