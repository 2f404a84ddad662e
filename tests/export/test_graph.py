"""Graph building without darknet: the models pass onnx.checker with full shape
inference, say where each node came from, carry their metadata, and compute the
activations, the box decode and float16 as stated."""

from __future__ import annotations

import json

import numpy as np
import pytest

from enet4y2.cfg import load_cfg
from enet4y2.errors import CfgError, DataError, OutputError, UsageError, WeightsError
from enet4y2.export import META_KEY, ModelMeta
from enet4y2.export.api import export_onnx
from tests.export.conftest import EVERY_LAYER, SOFTMAX, inputs, run
from tests.export.randweights import write_random_weights

CFGS = ["cfg/enet4y2-coco.cfg", "cfg/enet-coco.cfg", EVERY_LAYER, SOFTMAX]


@pytest.mark.parametrize("cfg", CFGS, ids=lambda c: str(c).rsplit("/", 1)[-1])
@pytest.mark.parametrize("outputs", ["raw", "boxes"])
def test_models_pass_the_full_checker_and_say_where_nodes_came_from(
        cfg, outputs, model_files, onnx, tmp_path):
    cfg_path, weights = model_files(cfg)
    if outputs == "boxes" and cfg == SOFTMAX:
        with pytest.raises(CfgError, match="needs \\[yolo\\] layers"):
            export_onnx(cfg_path, weights, tmp_path / "m.onnx", outputs=outputs)
        assert not (tmp_path / "m.onnx").exists()
        return
    summary = export_onnx(cfg_path, weights, tmp_path / "m.onnx", outputs=outputs)
    model = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    assert [o.name for o in inferred.graph.output] == list(summary.meta.output_names)
    lines = {i: sec.line for i, sec in enumerate(load_cfg(cfg_path).layers)}
    for node in model.graph.node:
        where = node.name.split("/")[0]
        if where == "output":
            continue
        index, _kind, line = where.split(".")
        assert lines[int(index[1:])] == int(line.removeprefix("line")), node.name
    meta = ModelMeta.from_onnx(tmp_path / "m.onnx")
    assert meta == summary.meta and meta.outputs == outputs
    assert summary.cpu_differs == ()   # darknet's CPU build computes all of these alike


def test_metadata_describes_the_heads(model_files, tmp_path):
    cfg_path, weights = model_files("cfg/enet4y2-coco.cfg")
    meta = export_onnx(cfg_path, weights, tmp_path / "m.onnx").meta
    assert (meta.width, meta.height, meta.channels, meta.batch) == (416, 416, 3, 1)
    assert [h.layer for h in meta.heads] == [136, 145, 154, 163]
    assert [h.mask for h in meta.heads] == [(3, 4, 5), (2, 3, 4), (1, 2, 3), (0, 1, 2)]
    assert meta.heads[-1].anchors == ((10, 14), (23, 27), (37, 58))
    assert [(h.grid_w, h.stride) for h in meta.heads] == [
        (13, (32, 32)), (26, (16, 16)), (52, (8, 8)), (104, (4, 4))]
    assert meta.output_names == ("yolo_136", "yolo_145", "yolo_154", "yolo_163")
    assert meta.classes == 80 and meta.names is None and meta.fused_bn
    assert len(meta.cfg_sha256) == len(meta.weights_sha256) == 64
    assert json.loads(meta.to_json())["darknet_commit"] == meta.darknet_commit


def _decode(raw: np.ndarray, head, net_w: int, net_h: int):
    """get_yolo_box / get_yolo_detections in plain numpy, candidates cell by cell."""
    n, _, h, w = raw.shape
    a = len(head.mask)
    t = raw.reshape(n, a, 5 + head.classes, h, w).transpose(0, 3, 4, 1, 2)
    col = np.arange(w)[None, None, :, None]
    row = np.arange(h)[None, :, None, None]
    anchors = np.array(head.anchors, np.float64)
    if head.new_coords:
        bw, bh = t[..., 2] ** 2 * 4 * anchors[:, 0], t[..., 3] ** 2 * 4 * anchors[:, 1]
    else:
        bw, bh = np.exp(t[..., 2]) * anchors[:, 0], np.exp(t[..., 3]) * anchors[:, 1]
    x = (col + t[..., 0]) / w * net_w
    y = (row + t[..., 1]) / h * net_h
    boxes = np.stack([x, y, bw, bh], -1).reshape(n, -1, 4)
    obj = t[..., 4].reshape(n, -1)
    return boxes, obj, (t[..., 4:5] * t[..., 5:]).reshape(n, -1, head.classes)


@pytest.mark.parametrize("cfg", ["cfg/enet4y2-coco.cfg", EVERY_LAYER],
                         ids=["enet4y2-coco", "every_layer"])
def test_boxes_outputs_decode_the_raw_heads(cfg, model_files, ort, tmp_path):
    cfg_path, weights = model_files(cfg)
    meta = export_onnx(cfg_path, weights, tmp_path / "raw.onnx", batch=None).meta
    export_onnx(cfg_path, weights, tmp_path / "boxes.onnx", batch=None, outputs="boxes")
    x = inputs(meta, 2)
    raws = run(ort, tmp_path / "raw.onnx", x)
    boxes, obj, scores = run(ort, tmp_path / "boxes.onnx", x)
    parts = [_decode(r, h, meta.width, meta.height) for r, h in zip(raws, meta.heads,
                                                                     strict=True)]
    for got, want in zip((boxes, obj, scores), zip(*parts, strict=True), strict=True):
        want = np.concatenate(want, axis=1)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


# darknet's activations.h, in numpy (mish with softplus's threshold of 20)
def _softplus(x):
    return np.where(x > 20, x, np.where(x < -20, np.exp(x), np.log1p(np.exp(x))))


ACTS = {
    "leaky": lambda x: np.where(x > 0, x, 0.1 * x),
    "relu": lambda x: x * (x > 0),
    "relu6": lambda x: np.minimum(np.maximum(x, 0), 6),
    "logistic": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": lambda x: 2 / (1 + np.exp(-2 * x)) - 1,
    "swish": lambda x: x / (1 + np.exp(-x)),
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "hard_mish": lambda x: np.where(x > 0, x, np.where(x > -2, x * x / 2 + x, 0)),
}


@pytest.mark.parametrize("act", sorted(ACTS))
def test_activations_as_darknet_defines_them(act, ort, tmp_path):
    models = {}
    for name in ("linear", act):
        cfg = tmp_path / f"{name}.cfg"
        cfg.write_text("[net]\nwidth=8\nheight=8\nchannels=3\n\n[convolutional]\nfilters=64\n"
                       f"size=1\nactivation={name}\n")
        weights = tmp_path / "w.weights"
        if not weights.exists():
            write_random_weights(load_cfg(cfg), weights)
        models[name] = export_onnx(cfg, weights, tmp_path / f"{name}.onnx")
    x = inputs(models[act].meta, 1) * 24 - 12          # -12..12
    (linear,) = run(ort, tmp_path / "linear.onnx", x)
    (have,) = run(ort, tmp_path / f"{act}.onnx", x)
    assert linear.min() < -2 and linear.max() > 6
    np.testing.assert_allclose(have, ACTS[act](linear.astype(np.float64)), atol=2e-6)


def test_fp16_keeps_float32_io_and_stays_close(model_files, ort, tmp_path):
    cfg_path, weights = model_files("cfg/enet4y2-coco.cfg", 128)
    meta = export_onnx(cfg_path, weights, tmp_path / "32.onnx").meta
    half = export_onnx(cfg_path, weights, tmp_path / "16.onnx", fp16=True)
    assert half.meta.fp16 and half.bytes < 0.6 * (tmp_path / "32.onnx").stat().st_size
    x = inputs(meta, 1)
    for a, b in zip(run(ort, tmp_path / "32.onnx", x), run(ort, tmp_path / "16.onnx", x),
                    strict=True):
        assert b.dtype == np.float32
        assert float(np.abs(a - b).max()) < 0.05


def test_not_ours_says_what_to_do(onnx, tmp_path):
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph), str(tmp_path / "other.onnx"))
    with pytest.raises(DataError, match=r"not a model exported by enet4y2.*enet4y2 export"):
        ModelMeta.from_onnx(tmp_path / "other.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\xff" * 40)
    with pytest.raises(DataError, match=r"junk\.onnx"):
        ModelMeta.from_onnx(tmp_path / "junk.onnx")
    with pytest.raises(DataError, match="damaged"):
        ModelMeta.from_props({META_KEY: "{}"})


def _cfg(tmp_path, body: str):
    cfg = tmp_path / "x.cfg"
    cfg.write_text("[net]\nwidth=16\nheight=16\nchannels=3\n\n[convolutional]\nfilters=4\n"
                   "size=3\npad=1\nactivation=leaky\n\n" + body)
    return cfg


@pytest.mark.parametrize(("body", "message"), [
    ("[connected]\noutput=4\n", r"x.cfg:12: layer type connected is not supported"),
    ("[local_avgpool]\n", r"x.cfg:12: layer type local_avgpool is not supported"),
    ("[convolutional]\nfilters=4\nsize=3\nantialiasing=1\n",
     r"x.cfg:15: antialiasing=1 is not supported"),
    ("[maxpool]\nsize=2\nstride=1\nmaxpool_depth=1\n",
     r"x.cfg:15: maxpool_depth=1 is not supported"),
    ("[convolutional]\nfilters=4\nsize=1\nactivation=gelu\n",
     r"x.cfg:15: activation=gelu is not supported"),
])
def test_unsupported_is_refused_with_its_line(body, message, tmp_path, onnx):
    cfg = _cfg(tmp_path, body)
    weights = tmp_path / "w.weights"
    try:
        write_random_weights(load_cfg(cfg), weights)
    except AssertionError:     # a layer type the test weights do not know: any bytes
        weights.write_bytes(b"\0" * 20)
    with pytest.raises(CfgError, match=message):
        export_onnx(cfg, weights, tmp_path / "m.onnx")
    assert list(tmp_path.glob("*.onnx")) == [] and list(tmp_path.glob(".*")) == []


def test_bad_weights_output_and_options(tmp_path, onnx):
    cfg = _cfg(tmp_path, "")
    weights = write_random_weights(load_cfg(cfg), tmp_path / "w.weights")
    short = tmp_path / "short.weights"
    short.write_bytes(weights.read_bytes()[:-8])
    size = weights.stat().st_size
    with pytest.raises(WeightsError,
                       match=f"short.weights has {size - 8} bytes but .* needs {size}"):
        export_onnx(cfg, short, tmp_path / "m.onnx")
    with pytest.raises(OutputError, match="is the input"):
        export_onnx(cfg, weights, weights)
    with pytest.raises(OutputError, match="cannot write"):
        export_onnx(cfg, weights, tmp_path / "w.weights" / "m.onnx")
    with pytest.raises(UsageError, match="opset 7"):
        export_onnx(cfg, weights, tmp_path / "m.onnx", opset=7)
    assert weights.read_bytes()[:4] == b"\0\0\0\0" and not (tmp_path / "m.onnx").exists()


def test_negative_rolling_variance_is_refused_with_its_line(tmp_path, onnx):
    cfg = _cfg(tmp_path, "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=1\n"
                         "activation=linear\n")
    weights = write_random_weights(load_cfg(cfg), tmp_path / "w.weights")
    data = bytearray(weights.read_bytes())
    # the second conv holds 4 biases, 4 scales, 4 means, 4 rolling variances, then 4x4x1x1
    # weights (darknet's load order); the file ends with them
    at = len(data) - 4 * (4 * 4 + 4 * 4)  # start of the second layer's floats
    at += 4 * 12  # biases, scales, rolling means
    data[at:at + 4] = np.float32(-1.0).tobytes()
    weights.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"x\.cfg:\d+: the weights hold a rolling "
                                           r"variance of -1"):
        export_onnx(cfg, weights, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
