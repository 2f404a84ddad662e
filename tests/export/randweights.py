"""Non-trivial weights for comparing an export with libdarknet: random batch-norm
statistics (not darknet's zero-mean init, not identity), He-scaled convolutions, and
[yolo] convolutions that are not silenced, so every raw head tensor varies."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from enet4y2.cfg import Cfg, infer
from enet4y2.weights.fit import expected_size
from enet4y2.weights.format import pack_header


def write_random_weights(cfg: Cfg, out: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    model = infer(cfg)
    chunks = [pack_header()]
    for info, sec in zip(model.layers, cfg.layers, strict=True):
        if not info.params:
            continue
        if info.type == "shortcut":
            chunks.append(rng.uniform(0.3, 1.2, info.params).astype(np.float32).tobytes())
            continue
        assert info.type == "convolutional", info.type
        n = info.out_c
        bn = sec.options.get("batch_normalize", "0") == "1"
        count = info.params - n * (4 if bn else 1)
        fan_in = max(1, count // n)
        chunks.append(rng.normal(0, 0.2, n).astype(np.float32).tobytes())
        if bn:
            chunks += [rng.uniform(0.5, 1.5, n).astype(np.float32).tobytes(),
                       rng.normal(0, 0.2, n).astype(np.float32).tobytes(),
                       rng.uniform(0.5, 2.0, n).astype(np.float32).tobytes()]
        w = rng.normal(0, np.sqrt(1.0 / fan_in), count).astype(np.float32)
        chunks.append(w.tobytes())
    data = b"".join(chunks)
    assert len(data) == expected_size(cfg), (len(data), expected_size(cfg))
    out.write_bytes(data)
    return out
