"""Ground truth and results built by the tests, where AP is known by construction."""

from __future__ import annotations

import pytest

from tests.coco_builders import build_gt, perfect_results


@pytest.fixture
def gt() -> dict:
    return build_gt()


@pytest.fixture(name="build_gt")
def build_gt_fixture():
    return build_gt


@pytest.fixture(name="perfect_results")
def perfect_results_fixture():
    return perfect_results
