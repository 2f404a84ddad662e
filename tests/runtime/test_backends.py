"""`open_model` on every backend: the tiny detector exported to ONNX gives, on ONNX
Runtime and on OpenCV DNN, the detections libdarknet gives (same classes, boxes within
1 px, confidence within 0.01), alone and in batches; bad models and choices are one-line
errors before any work."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from enet4y2.data.files import read_names
from enet4y2.errors import DataError, MissingDependencyError, MissingFileError, UsageError
from enet4y2.runtime import open_model

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def exported(tiny_detector, tmp_path_factory):
    """The tiny detector exported twice: batch 1, and a dynamic batch."""
    from enet4y2.export.api import export_onnx

    root = tmp_path_factory.mktemp("onnx")
    fixed = root / "tiny.onnx"
    dynamic = root / "tiny-dyn.onnx"
    export_onnx(tiny_detector.cfg, tiny_detector.weights, fixed, names=tiny_detector.names)
    export_onnx(tiny_detector.cfg, tiny_detector.weights, dynamic, batch=None)
    return fixed, dynamic


@pytest.fixture(scope="module")
def images(tiny_detector):
    return [cv2.imread(p) for p in tiny_detector.valid_list.read_text().split()[:6]]


def assert_agree(ours, theirs) -> None:
    """The issue's bound between engines: same classes, 1 px, 0.01 confidence."""
    assert len(ours) == len(theirs)
    np.testing.assert_array_equal(ours.classes, theirs.classes)
    np.testing.assert_allclose(ours.boxes, theirs.boxes, rtol=0, atol=1.0)
    np.testing.assert_allclose(ours.scores, theirs.scores, rtol=0, atol=0.01)


@pytest.mark.darknet
@pytest.mark.parametrize("backend", ["onnxruntime", "opencv"])
def test_exported_model_detects_as_darknet(tiny_detector, exported, images, backend):
    fixed, _ = exported
    seen = 0
    with open_model(tiny_detector.cfg, tiny_detector.weights) as darknet, \
            open_model(model=fixed, backend=backend) as model:
        assert model.names == tuple(read_names(tiny_detector.names))  # from the metadata
        assert (model.width, model.height, model.classes) == (64, 64, 2)
        for thresh in (0.05, 0.25):
            for letterbox in (False, True):
                for image in images:
                    theirs = darknet.detect(image, thresh=thresh, letterbox=letterbox)
                    ours = model.detect(image, thresh=thresh, letterbox=letterbox)
                    assert_agree(ours, theirs)
                    assert ours.names == model.names
                    seen += len(theirs)
    assert seen > 20


@pytest.mark.darknet
@pytest.mark.parametrize("backend", ["onnxruntime", "opencv"])
def test_dynamic_batch_equals_one_by_one(exported, images, backend):
    _, dynamic = exported
    with open_model(model=dynamic, backend=backend, batch=4) as model:
        assert model.batch == 4
        batched = model.detect_batch(images[:3], thresh=0.1)
        single = [model.detect(image, thresh=0.1) for image in images[:3]]
    for b, s in zip(batched, single, strict=True):
        assert_agree(b, s)
        np.testing.assert_allclose(b.scores, s.scores, atol=1e-5)


@pytest.mark.darknet
def test_boxes_outputs_export_detects_as_darknet(tiny_detector, images, tmp_path):
    """`enet4y2 export --outputs boxes` (decoded boxes and scores in the graph): the
    same detections through the same NMS and copy-out."""
    from enet4y2.export.api import export_onnx

    boxes_model = tmp_path / "boxes.onnx"
    export_onnx(tiny_detector.cfg, tiny_detector.weights, boxes_model, outputs="boxes")
    seen = 0
    with open_model(tiny_detector.cfg, tiny_detector.weights) as darknet, \
            open_model(model=boxes_model) as model:
        assert model.spec.outputs == "boxes"
        for letterbox in (False, True):
            for image in images:
                theirs = darknet.detect(image, thresh=0.05, letterbox=letterbox)
                assert_agree(model.detect(image, thresh=0.05, letterbox=letterbox), theirs)
                seen += len(theirs)
    assert seen > 10


@pytest.mark.darknet
@pytest.mark.parametrize("backend", ["onnxruntime", "opencv"])
def test_forward_gives_darknets_raw_heads(tiny_detector, exported, images, backend):
    from enet4y2.darknet import Network, preprocess

    _, dynamic = exported
    inputs = np.zeros((2, 3, 64, 64), np.float32)
    for i in range(2):
        preprocess.prepare(images[i], inputs[i])
    with Network(tiny_detector.cfg, tiny_detector.weights, batch=2) as net, \
            open_model(model=dynamic, backend=backend, batch=2) as model:
        theirs = net.forward(inputs, [h.layer for h in model.spec.heads])
        ours = model.forward(inputs)
        with pytest.raises(ValueError, match="inputs must be"):
            model.forward(inputs[:, :2])
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)


@pytest.mark.darknet
def test_fixed_batch_model_refuses_a_larger_batch(exported):
    fixed, _ = exported
    with pytest.raises(UsageError, match="exported for batch 1"):
        open_model(model=fixed, batch=2)


@pytest.mark.darknet
def test_model_without_our_metadata_says_what_to_pass(exported, tmp_path):
    fixed, _ = exported
    proto = onnx.load(str(fixed))
    del proto.metadata_props[:]
    foreign = tmp_path / "foreign.onnx"
    onnx.save(proto, str(foreign))
    for backend in ("onnxruntime", "opencv"):
        with pytest.raises(DataError, match=r"not a model exported by enet4y2.*--cfg"):
            open_model(model=foreign, backend=backend)


def test_not_onnx_at_all(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    for backend in ("onnxruntime", "opencv"):
        with pytest.raises(DataError, match=r"junk\.onnx"):
            open_model(model=junk, backend=backend)
    with pytest.raises(MissingFileError, match="model not found"):
        open_model(model=tmp_path / "absent.onnx")


def test_missing_provider_lists_the_available_ones(tmp_path):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    with pytest.raises(UsageError, match=r"CUDAExecutionProvider.*CPUExecutionProvider"):
        open_model(model=model, device="cuda")


def test_missing_extra_names_it(tmp_path, monkeypatch):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"enet4y2\[onnx\]"):
        open_model(model=model)
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependencyError, match=r"enet4y2\[onnx\]"):
        open_model(model=model, backend="opencv")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cfg": "a.cfg", "model": "m.onnx"}, "either --model"),
    ({"model": "m.onnx", "backend": "darknet"}, "backend onnxruntime or opencv"),
    ({"cfg": "a.cfg", "weights": "w", "backend": "opencv"}, "give --model"),
    ({"cfg": "a.cfg", "device": "cuda"}, "darknet runs where"),
    ({"model": "m.onnx", "backend": "tflite"}, "unknown backend"),
    ({"model": "m.onnx", "device": "tpu"}, "unknown device"),
    ({}, "give --cfg and --weights"),
])
def test_choices_that_cannot_work(kwargs, message):
    with pytest.raises(UsageError, match=message):
        open_model(**kwargs)
