"""`enet4y2 detect` and `enet4y2 eval --pycoco` with `--backend/--model/--device`: an
exported tiny detector gives the darknet backend's results on onnxruntime and opencv;
impossible combinations are one line each (usage: exit 2; files and engines: exit 1)."""

from __future__ import annotations

import json
import sys

import pytest

from enet4y2.cli.options import DEVICES, MODEL_BACKENDS

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def test_cli_choices_match_the_runtime():
    from enet4y2 import runtime

    assert MODEL_BACKENDS == runtime.BACKENDS
    assert DEVICES == runtime.DEVICES


@pytest.fixture(scope="module")
def tiny_onnx(tiny_detector, tmp_path_factory):
    from enet4y2.export.api import export_onnx

    out = tmp_path_factory.mktemp("cli-onnx") / "tiny.onnx"
    export_onnx(tiny_detector.cfg, tiny_detector.weights, out, names=tiny_detector.names)
    return out


def _records(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _agree(ours: list[dict], theirs: list[dict]) -> None:
    assert [r["image"] for r in ours] == [r["image"] for r in theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert [d["class_id"] for d in a["detections"]] == \
            [d["class_id"] for d in b["detections"]]
        for da, db in zip(a["detections"], b["detections"], strict=True):
            assert abs(da["confidence"] - db["confidence"]) <= 0.01
            for key in ("x", "y", "w", "h"):
                assert abs(da[key] - db[key]) <= 1.0


@pytest.mark.darknet
@pytest.mark.parametrize("backend", ["onnxruntime", "opencv"])
def test_detect_backends_agree_with_darknet(cli, tiny_detector, tiny_onnx, backend):
    images = tiny_detector.valid_list.read_text().split()[:5]
    darknet = cli.ok("detect", *images, "--cfg", tiny_detector.cfg, "--weights",
                     tiny_detector.weights, "--names", tiny_detector.names, "--json",
                     "--thresh", "0.03")
    ours = cli.ok("detect", *images, "--model", tiny_onnx, "--backend", backend, "--json",
                  "--thresh", "0.03")
    theirs = _records(darknet)
    assert sum(len(r["detections"]) for r in theirs) > 5
    _agree(_records(ours), theirs)
    names = {d["name"] for r in _records(ours) for d in r["detections"]}
    assert names <= set(tiny_detector.names.read_text().split())  # names from the metadata


@pytest.mark.darknet
@pytest.mark.parametrize("backend", ["onnxruntime", "opencv"])
def test_eval_pycoco_backend_equals_darknet(cli, tiny_detector, tiny_onnx, tmp_path, backend):
    common = ["eval", "--data", tiny_detector.data, "--pycoco", "--json"]
    darknet = cli.ok(*common, "--cfg", tiny_detector.cfg, "--weights", tiny_detector.weights,
                     "--json-out", tmp_path / "d.json")
    ours = cli.ok(*common, "--model", tiny_onnx, "--backend", backend,
                  "--json-out", tmp_path / "o.json")
    d_stats = json.loads(darknet.stdout)["pycoco"]["stats"]
    o_stats = json.loads(ours.stdout)["pycoco"]["stats"]
    assert d_stats["AP50"] > 0  # a real (if weak) model, not an empty comparison
    for key, value in d_stats.items():
        assert abs(o_stats[key] - value) <= 0.01, key
    d_res = json.loads((tmp_path / "d.json").read_text())
    o_res = json.loads((tmp_path / "o.json").read_text())
    assert len(d_res) > 50
    assert len(o_res) == pytest.approx(len(d_res), rel=0.02)


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "M", "--cfg", "C"], "either --model"),
    (["--model", "M", "--backend", "darknet"], "backend onnxruntime or opencv"),
    (["--cfg", "C", "--weights", "W", "--backend", "opencv"], "give --model"),
    (["--cfg", "C", "--weights", "W", "--device", "cuda"], "darknet runs where"),
    (["--cfg", "C"], "--weights is required"),
    ([], "give --cfg and --weights"),
])
def test_detect_impossible_combinations_are_usage_errors(cli, tmp_path, args, message):
    for name in ("M", "C", "W", "img.jpg"):
        (tmp_path / name).write_bytes(b"x")
    args = [str(tmp_path / a) if a in ("M", "C", "W") else a for a in args]
    result = cli("detect", tmp_path / "img.jpg", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_detect_foreign_onnx_says_what_to_pass(cli, tmp_path):
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["images"], ["out"])], "g",
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                                             [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT,
                                                             [1, 3, 8, 8])])
    foreign = tmp_path / "foreign.onnx"
    onnx.save(helper.make_model(graph), str(foreign))
    image = tmp_path / "img.png"
    image.write_bytes(b"x")
    for backend in ("onnxruntime", "opencv"):
        result = cli("detect", image, "--model", foreign, "--backend", backend)
        assert result.exit_code == 1
        assert "not a model exported by enet4y2" in result.stderr
        assert "--cfg and --weights" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_detect_missing_provider_and_missing_extra(cli, tmp_path, monkeypatch):
    import onnxruntime

    model, image = tmp_path / "m.onnx", tmp_path / "img.png"
    model.write_bytes(b"x")
    image.write_bytes(b"x")
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        result = cli("detect", image, "--model", model, "--device", "cuda")
        assert result.exit_code == 1
        assert "CUDAExecutionProvider" in result.stderr and "CPUExecutionProvider" in \
            result.stderr
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    result = cli("detect", image, "--model", model)
    assert result.exit_code == 1
    assert "pip install 'enet4y2[onnx]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_eval_model_needs_pycoco_and_extra(cli, tmp_path, monkeypatch):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    data = tmp_path / "x.data"
    data.write_text("classes=1\nvalid=list.txt\n")
    result = cli("eval", "--data", data, "--model", model)
    assert result.exit_code == 1 and "--pycoco" in result.stderr
    result = cli("eval", "--data", data, "--model", model, "--weights", model, "--pycoco")
    assert result.exit_code == 2 and "either --model" in result.stderr
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    result = cli("eval", "--data", data, "--model", model, "--pycoco")
    assert result.exit_code == 1 and "enet4y2[onnx]" in result.stderr


def test_eval_backend_as_cocoeval_name_must_agree_with_cocoeval(cli, tmp_path):
    """`--backend faster-coco-eval` keeps its old meaning (tests/cli/test_eval.py runs
    it); given with a different --cocoeval it is refused."""
    results = tmp_path / "r.json"
    results.write_text("[]")
    result = cli("eval", "--results", results, "--backend", "faster-coco-eval",
                 "--cocoeval", "pycocotools")
    assert result.exit_code == 2 and "disagree" in result.stderr
