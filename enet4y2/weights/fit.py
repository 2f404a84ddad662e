"""How a .weights file fits a cfg: the full model, exactly its first N layers (a
backbone) or neither; cutting the first N layers exactly as `darknet partial` does
(byte-identical output); and recognising EfficientNet-B0 classifier weights by size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from enet4y2.cfg import Cfg, infer, normalized_number
from enet4y2.cfg.builders import BACKBONE_LAYERS, TOP_CHANNELS, classifier_cfg
from enet4y2.cfg.keys import canonical
from enet4y2.errors import MissingFileError, WeightsError
from enet4y2.fileio import atomic_write
from enet4y2.weights.format import (
    WeightsHeader,
    file_size,
    pack_header,
    parse_header,
)

#: Options that do not change a layer's stored weights (ignored by `shared_layers`).
NON_STRUCTURAL = frozenset({
    "probability", "stopbackward", "dontload", "dontloadscales", "learning_rate",
    "train_only_bn", "dont_update", "burnin_update", "onlyforward", "clip",
})

@dataclass(frozen=True)
class WeightsMatch:
    """How a .weights file fits a cfg: "full" (every layer), "backbone" (layers
    [0, layers) exactly) or "mismatch" (`layers` whole layers fit, the rest does not)."""

    kind: Literal["full", "backbone", "mismatch"]
    layers: int
    expected_size: int
    actual_size: int


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
    expected = file_size(model.param_count, header.major, header.minor)
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
    need = file_size(model.weights_floats(layers), header.major, header.minor)
    have = src_path.stat().st_size
    if have < need:
        raise WeightsError(f"{src_path}: {have} bytes, but layers 0..{layers - 1} of "
                           f"{cfg.path or 'the cfg'} need {need} — use the cfg these "
                           "weights were trained with, or fewer --layers")
    with src_path.open("rb") as fh:
        fh.seek(header.header_size)
        payload = fh.read(need - header.header_size)
    payload = _as_darknet_saves(payload, cfg, model, layers, header)
    return atomic_write(out_path, pack_header(seen=0) + payload)


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




def expected_size(cfg: Cfg, upto: int | None = None) -> int:
    """Bytes of the .weights file darknet writes for `cfg` (layers [0, upto))."""
    return file_size(infer(cfg).weights_floats(upto))


def classifier_classes(payload_floats: int, channels: int = 3) -> int | None:
    """The class count K for which the EfficientNet-B0 classifier holds exactly
    `payload_floats` floats (1280*K weights + K biases after the backbone), or None."""
    base = infer(classifier_cfg(1, channels)).weights_floats(BACKBONE_LAYERS)
    extra = payload_floats - base
    if extra <= 0 or extra % (TOP_CHANNELS + 1):
        return None
    return extra // (TOP_CHANNELS + 1)


def cut_cached(src: str | Path, cfg: Cfg, layers: int, out: Path) -> tuple[Path, bool]:
    """`cut_weights` unless `out` already has the size of that cut; (out, reused)."""
    if out.is_file() and out.stat().st_size == expected_size(cfg, layers):
        return out, True
    return cut_weights(src, cfg, layers, out), False
