"""Shared fixtures and the capability markers.

`darknet`-marked tests need a darknet built by `make darknet`; without one they skip
with the reason below, so CI (which cannot reach upstream) stays green and honest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from enet4y2 import paths

NOT_BUILT = "libdarknet not built (make darknet)"


def pytest_collection_modifyitems(config, items):
    built = paths.darknet_built()
    for item in items:
        if "darknet" in item.keywords and not built:
            item.add_marker(pytest.mark.skip(reason=NOT_BUILT))
        if "cuda" in item.keywords and shutil.which("nvidia-smi") is None:
            item.add_marker(pytest.mark.skip(reason="no CUDA device (nvidia-smi not found)"))


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference (cfgs, coco.names, sample images); skip when absent."""
    ref = paths.reference_dir()
    if not ref.is_dir():
        pytest.skip(f"shared reference files not found at {ref}")
    return ref


@pytest.fixture(scope="session")
def darknet_exe() -> Path:
    """The darknet executable built by `make darknet`."""
    exe = paths.darknet_executable()
    if not exe.is_file():
        pytest.skip(NOT_BUILT)
    return exe


@pytest.fixture(scope="session")
def tiny_detector():
    """A small enet4y2 really trained by darknet on generated data (see tests/tiny.py)."""
    if not paths.darknet_built():
        pytest.skip(NOT_BUILT)
    from tests.tiny import build_tiny_detector

    return build_tiny_detector()


@pytest.fixture(scope="session")
def small_detector():
    """The demo's small detector (`cfg --tiny`), trained by darknet (see tests/small.py)."""
    if not paths.darknet_built():
        pytest.skip(NOT_BUILT)
    from tests.small import build_small_detector

    return build_small_detector()
