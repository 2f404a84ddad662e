"""Exports of real cfgs with non-trivial random weights, cached per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from enet4y2.cfg import load_cfg, parse_cfg, write_cfg
from tests.export.randweights import write_random_weights

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
EVERY_LAYER = HERE / "every_layer.cfg"
SOFTMAX = HERE / "softmax.cfg"


@pytest.fixture(scope="session")
def ort():
    return pytest.importorskip("onnxruntime")


@pytest.fixture(scope="session")
def onnx():
    return pytest.importorskip("onnx")


def sized_cfg(src: Path, out_dir: Path, size: int | None) -> Path:
    """`src` with [net] width = height = size (as is when None), written into out_dir."""
    if size is None:
        return src
    cfg = load_cfg(src)
    cfg.net.options["width"] = cfg.net.options["height"] = str(size)
    out = out_dir / f"{src.stem}-{size}.cfg"
    out.write_text(write_cfg(parse_cfg(write_cfg(cfg))))
    return out


@pytest.fixture(scope="session")
def model_files(tmp_path_factory):
    """(cfg, weights) for a cfg (repo-relative or absolute path) at a size, made once."""
    made: dict[tuple[str, int | None], tuple[Path, Path]] = {}
    root = tmp_path_factory.mktemp("export-models")

    def get(cfg: str | Path, size: int | None = None) -> tuple[Path, Path]:
        key = (str(cfg), size)
        if key not in made:
            src = Path(cfg) if Path(cfg).is_absolute() else ROOT / cfg
            path = sized_cfg(src, root, size)
            weights = root / f"{path.stem}.weights"
            if not weights.exists():
                write_random_weights(load_cfg(src), weights, seed=len(made))
            made[key] = (path, weights)
        return made[key]

    return get


def run(ort, path: Path, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"images": x})


def inputs(meta, batch: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((batch, meta.channels, meta.height, meta.width), dtype=np.float32)
