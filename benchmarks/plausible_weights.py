"""Weights that keep a network's activations finite, for timing benchmarks.

Darknet's own random initialisation of these cfgs (batch-norm statistics at zero) makes
every output NaN, and its box counting then reports all candidate boxes as detections,
so NMS dominates any pipeline. Here: batch norm as identity (scale 1, mean 0, var 1),
He-initialised convolutions, and the convolution before each [yolo] nearly silent with an
objectness bias of -8 (objectness ~3e-4), so no box passes a 0.25 threshold, nor eval's
0.005: every pipeline pays the same minimal post-processing (darknet's NMS is quadratic
in the boxes over the threshold), and what differs is each pipeline's own overhead.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from enet4y2 import cfg as cfgmod
from enet4y2.weights.fit import expected_size


def write_plausible_weights(cfg: cfgmod.Cfg, out: Path, seed: int = 0, *,
                            head_scale: float = 0.01, objectness_bias: float = -8.0) -> Path:
    """`head_scale` and `objectness_bias` set the convolutions before the [yolo] layers
    (larger scale and bias: more, and more varied, boxes over the threshold)."""
    rng = np.random.default_rng(seed)
    model = cfgmod.infer(cfg)
    sections = cfg.layers
    chunks = [struct.pack("<iiiQ", 0, 2, 5, 0)]
    for info, sec in zip(model.layers, sections, strict=True):
        if info.params == 0:
            continue
        if info.type != "convolutional":
            chunks.append(rng.normal(0, 0.01, info.params).astype(np.float32).tobytes())
            continue
        n = info.out_c
        bn = sec.options.get("batch_normalize", "0") == "1"
        weights = info.params - n * (4 if bn else 1)
        fan_in = max(1, weights // n)
        before_yolo = (info.index + 1 < len(sections)
                       and sections[info.index + 1].type == "yolo")
        biases = np.zeros(n, np.float32)
        w = rng.normal(0, np.sqrt(2.0 / fan_in), weights).astype(np.float32)
        if before_yolo:
            w *= head_scale
            per_anchor = n // len(sections[info.index + 1].options["mask"].split(","))
            biases[4::per_anchor] = objectness_bias  # objectness logits
        chunks.append(biases.tobytes())
        if bn:
            chunks += [np.ones(n, np.float32).tobytes(), np.zeros(n, np.float32).tobytes(),
                       np.ones(n, np.float32).tobytes()]
        chunks.append(w.tobytes())
    data = b"".join(chunks)
    expected = expected_size(cfg)
    if len(data) != expected:
        raise AssertionError(f"wrote {len(data)} bytes, darknet expects {expected}")
    out.write_bytes(data)
    return out
