"""The numpy decode + NMS + copy-out on darknet's own raw yolo tensors gives what
`Network.detect` gets from libdarknet: same classes, scores and order, boxes bit for bit
(the tests allow 1e-3 px, the brief's bound), for every NMS kind darknet's parser knows,
letterbox on and off, thresholds from eval's 0.005 up, and `new_coords`."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.plausible_weights import write_plausible_weights
from enet4y2 import paths
from enet4y2.cfg import load_cfg
from enet4y2.darknet import Network, preprocess
from enet4y2.runtime.decode import raw_candidates
from enet4y2.runtime.exported import to_detections
from enet4y2.runtime.nms import detection_rows
from enet4y2.runtime.spec import spec_from_cfg

pytestmark = pytest.mark.darknet

THRESHOLDS = (0.005, 0.05, 0.25, 0.5)


def yolo_variant(cfg: Path, out: Path, **options: str) -> Path:
    """The cfg with `options` added to every [yolo] section (weights still fit). With
    new_coords, the convolutions before the heads get darknet's logistic activation (as
    scaled-YOLOv4 cfgs have it), else no objectness would pass any threshold."""
    extra = "".join(f"{k}={v}\n" for k, v in options.items())
    text = re.sub(r"^\[yolo\]\n", lambda m: m.group(0) + extra, cfg.read_text(), flags=re.M)
    if options.get("new_coords") == "1":
        sections = re.split(r"(?m)^(?=\[)", text)
        for i, sec in enumerate(sections[:-1]):
            if sections[i + 1].startswith("[yolo]"):
                sections[i] = re.sub(r"(?m)^activation=linear$", "activation=logistic", sec)
        text = "".join(sections)
    out.write_text(text)
    return out


def numpy_detections(net: Network, spec, image: np.ndarray, thresh: float, nms: float,
                     letterbox: bool):
    inputs = np.zeros((1, net.channels, net.height, net.width), np.float32)
    preprocess.prepare(image, inputs[0], letterbox=letterbox)
    outs = net.forward(inputs, [h.layer for h in spec.heads])
    cands = raw_candidates([o[0] for o in outs], spec, thresh)
    rows = detection_rows(cands, thresh, nms, spec.nms_kind, spec.beta_nms)
    return to_detections(rows, image, spec, letterbox, None), len(cands.boxes)


def assert_same(ours, theirs) -> None:
    assert len(ours) == len(theirs)
    np.testing.assert_array_equal(ours.classes, theirs.classes)
    np.testing.assert_allclose(ours.scores, theirs.scores, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours.objectness, theirs.objectness, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours.boxes, theirs.boxes, rtol=0, atol=1e-3)


@pytest.fixture(scope="module")
def tiny_images(tiny_detector):
    return [cv2.imread(p) for p in tiny_detector.valid_list.read_text().split()[:6]]


@pytest.mark.parametrize("options", [
    {},
    {"nms_kind": "greedynms"},
    {"nms_kind": "diounms", "beta_nms": "0.8"},
    {"new_coords": "1", "scale_x_y": "1.1"},
], ids=["default", "greedynms", "diounms", "new_coords"])
def test_tiny_detector_all_kinds(tiny_detector, tiny_images, tmp_path, options):
    cfg = yolo_variant(tiny_detector.cfg, tmp_path / "v.cfg", **options)
    spec = spec_from_cfg(load_cfg(cfg))
    checked = 0
    with Network(cfg, tiny_detector.weights) as net:
        for thresh in THRESHOLDS:
            for letterbox in (False, True):
                for image in tiny_images:
                    theirs = net.detect(image, thresh=thresh, letterbox=letterbox)
                    ours, _ = numpy_detections(net, spec, image, thresh, 0.45, letterbox)
                    assert_same(ours, theirs)
                    checked += len(theirs)
    assert checked > 100  # the comparison saw real detections, not empty lists


def test_nms_off_keeps_darknets_order(tiny_detector, tiny_images):
    spec = spec_from_cfg(load_cfg(tiny_detector.cfg))
    with Network(tiny_detector.cfg, tiny_detector.weights) as net:
        for image in tiny_images:
            ours, _ = numpy_detections(net, spec, image, 0.01, 0, False)
            assert_same(ours, net.detect(image, thresh=0.01, nms=0))


@pytest.fixture(scope="module")
def coco_net(tmp_path_factory):
    """enet4y2-coco 416 with weights that make many, varied boxes (~300 over 0.25)."""
    root = tmp_path_factory.mktemp("coco")
    cfg_path = paths.REPO_ROOT / "cfg" / "enet4y2-coco.cfg"
    weights = write_plausible_weights(load_cfg(cfg_path), root / "p.weights",
                                      head_scale=10, objectness_bias=-5)
    return cfg_path, weights


@pytest.mark.parametrize("kind", ["default", "diounms"])
def test_enet4y2_coco_on_a_photo(coco_net, reference_dir, tmp_path, kind):
    cfg_path, weights = coco_net
    cfg = yolo_variant(cfg_path, tmp_path / "c.cfg", nms_kind=kind) if kind != "default" \
        else cfg_path
    spec = spec_from_cfg(load_cfg(cfg))
    image = cv2.imread(str(reference_dir / "data" / "dog.jpg"))
    with Network(cfg, weights) as net:
        for thresh, letterbox in ((0.25, False), (0.5, True)):
            theirs = net.detect(image, thresh=thresh, letterbox=letterbox)
            ours, candidates = numpy_detections(net, spec, image, thresh, 0.45, letterbox)
            assert candidates > 20 and len(theirs) > 10
            assert_same(ours, theirs)
