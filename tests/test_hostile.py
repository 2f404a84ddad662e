"""Every command against generated hostile inputs (corrupt bytes, encodings, wrong JSON
types, special and identical paths, unwritable outputs): it exits 0, or 1 or 2 with one
line on stderr; never a traceback, never a changed input, never a file outside its
folder, and the process (this one: commands run in-process) stays alive."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enet4y2.cfg import write_cfg
from enet4y2.cli import main
from tests.tiny import tiny_cfg

CASES: dict[str, int] = {}  # command -> cases run (reported by test_case_counts)
HYPO = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def invoke(command: str, args: list, root: Path, inputs: list[Path] = (), *,
           verdict: bool = False):
    """Run `enet4y2 <args>` in `root`/work; check the contract; return the result.
    `verdict`: exit 1 may be the command's answer (`cfg check` found problems), printed
    as a report rather than one error line."""
    work = root / "work"
    work.mkdir(exist_ok=True)
    outside = snapshot(root / "outside") if (root / "outside").exists() else {}
    before = {p: p.read_bytes() for p in inputs if p.is_file()}
    cwd = os.getcwd()
    os.chdir(work)
    try:
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(cwd)
    CASES[command] = CASES.get(command, 0) + 1
    err = result.stderr
    assert "Traceback" not in err and "Traceback" not in result.stdout, err
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, err)
    if result.exit_code and not (verdict and result.exit_code == 1
                                 and not err.lstrip().startswith("error:")):
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) >= 1 and lines[-1].startswith("error:"), (args, err)
        assert sum(line.startswith("error:") for line in lines) == 1, (args, err)
    for path, data in before.items():
        assert path.read_bytes() == data, f"{path} was changed by {args}"
    if outside:
        assert snapshot(root / "outside") == outside, f"{args} wrote outside its folder"
    return result


def special_paths(tmp: Path) -> list[Path | str]:
    fifo = tmp / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    return [fifo, Path("/dev/zero"), tmp, tmp / "missing.file", Path("/dev/null/x")]


texts = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"[net]\rwidth=64\rheight=64\r", b"[net]\x0cwidth=64\n",
                     "[net]\u2028width=64\u0085\n".encode(), b"\xff\xfe[net]\n",
                     b"[net]\nbatch=1000000\nwidth=4096\nheight=4096\nchannels=3\n"
                     b"[convolutional]\nfilters=4096\nsize=3\n"]),
)


@HYPO
@given(content=texts)
def test_cfg_check_and_show(tmp_path_factory, content):
    root = tmp_path_factory.mktemp("cfg")
    cfg = root / "x.cfg"
    cfg.write_bytes(content)
    invoke("cfg check", ["cfg", "check", cfg], root, [cfg], verdict=True)
    invoke("cfg show", ["cfg", "show", cfg], root, [cfg])


def test_cfg_special_paths_and_outputs(tmp_path):
    (tmp_path / "outside").mkdir()
    names = tmp_path / "obj.names"
    names.write_text("a\nb\n")
    for path in special_paths(tmp_path):
        for sub in ("check", "show"):
            result = invoke("cfg " + sub, ["cfg", sub, path], tmp_path)
            assert result.exit_code in (1, 2)
    for output in [names, tmp_path, "/dev/null/x.cfg", tmp_path / "outside" / ".." / "obj.names"]:
        result = invoke("cfg", ["cfg", "--names", names, "-o", output], tmp_path, [names])
        assert result.exit_code in (1, 2)


@HYPO
@given(content=st.binary(max_size=200))
def test_weights_info_and_cut(tmp_path_factory, content):
    root = tmp_path_factory.mktemp("w")
    weights = root / "w.weights"
    weights.write_bytes(content)
    cfg = root / "t.cfg"
    cfg.write_text(write_cfg(tiny_cfg()))
    invoke("weights info", ["weights", "info", weights], root, [weights])
    invoke("weights info", ["weights", "info", weights, "--cfg", cfg], root, [weights, cfg],
           verdict=True)
    invoke("weights cut", ["weights", "cut", weights, "--cfg", cfg, "--layers", "3", "-o",
                           root / "out.conv.3"], root, [weights, cfg])


def test_weights_outputs(tmp_path):
    from enet4y2.cfg import infer

    cfg = tmp_path / "t.cfg"
    cfg.write_text(write_cfg(tiny_cfg()))
    weights = tmp_path / "w.weights"
    weights.write_bytes(struct.pack("<iiiQ", 0, 2, 5, 0)
                        + bytes(4 * infer(tiny_cfg()).param_count))
    for output in (weights, cfg, tmp_path, "/dev/null/x"):
        result = invoke("weights cut", ["weights", "cut", weights, "--cfg", cfg, "--layers", "3",
                                        "-o", output], tmp_path, [weights, cfg])
        assert result.exit_code in (1, 2)
    for path in special_paths(tmp_path):
        assert invoke("weights info", ["weights", "info", path], tmp_path).exit_code in (1, 2)


@HYPO
@given(content=st.binary(max_size=2000))
def test_watch(tmp_path_factory, content):
    root = tmp_path_factory.mktemp("watch")
    log = root / "train.log"
    log.write_bytes(content)
    invoke("watch", ["watch", log, "--once"], root, [log])
    invoke("watch", ["watch", log, "--json"], root, [log])


def test_watch_special_and_identical_paths(tmp_path):
    log = tmp_path / "train.log"
    log.write_bytes(b" 1: 2.0, 2.0 avg loss, 0.001 rate, 1.0 seconds, 8 images, 1.0 hours left\n")
    for path in special_paths(tmp_path):
        assert invoke("watch", ["watch", path, "--once"], tmp_path).exit_code in (1, 2)
    for flag in ("--csv", "--plot"):
        for output in (log, tmp_path, "/dev/null/x"):
            result = invoke("watch", ["watch", log, "--once", flag, output], tmp_path, [log])
            assert result.exit_code in (1, 2)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["image_id", "category_id", "bbox", "score", "id",
                                       "images", "annotations", "categories", "area",
                                       "width", "height", "x"]), children, max_size=5),
    max_leaves=20)


@HYPO
@given(results=json_values, gt=json_values)
def test_eval_results_and_gt(tmp_path_factory, results, gt):
    root = tmp_path_factory.mktemp("eval")
    files = {"r.json": results, "gt.json": gt}
    for name, value in files.items():
        (root / name).write_text(json.dumps(value))
    inputs = [root / name for name in files]
    invoke("eval", ["eval", "--results", root / "r.json", "--gt", root / "gt.json"], root,
           inputs)


def test_eval_special_paths(tmp_path):
    (tmp_path / "gt.json").write_text("{}")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 50_000 + "]" * 50_000)
    for path in [*special_paths(tmp_path), deep]:
        result = invoke("eval", ["eval", "--results", path, "--gt", tmp_path / "gt.json"],
                        tmp_path)
        assert result.exit_code in (1, 2)


data_texts = st.one_of(st.binary(max_size=300), st.sampled_from([
    b"classes = 2\ntrain = /\nnames = /dev/zero\nbackup = b\n",
    b"classes=x\ntrain=missing.txt\n", b"\xff\xfeclasses=2\n"]))


@HYPO
@given(content=data_texts, listing=st.binary(max_size=200))
def test_train_preflight(tmp_path_factory, content, listing):
    root = tmp_path_factory.mktemp("train")
    work = root / "work"
    work.mkdir()
    (work / "t.cfg").write_text(write_cfg(tiny_cfg(10)))
    (work / "list.txt").write_bytes(listing)
    data = work / "x.data"
    data.write_bytes(content + b"\ntrain = list.txt\n")
    os.environ["ENET4Y2_DARKNET_DIR"] = str(root / "no-darknet")
    try:
        invoke("train", ["train", "--quiet", "--data", data, "--cfg", work / "t.cfg"], root,
               [data, work / "list.txt"])
    finally:
        del os.environ["ENET4Y2_DARKNET_DIR"]


def _tiny_files(root: Path) -> tuple[Path, Path]:
    from enet4y2.cfg import infer

    cfg = root / "t.cfg"
    cfg.write_text(write_cfg(tiny_cfg()))
    weights = root / "w.weights"
    if not weights.exists():
        rng = np.random.default_rng(0)
        # uniform in [0, 0.2): rolling variances must not be negative
        weights.write_bytes(struct.pack("<iiiQ", 0, 2, 5, 0) + rng.uniform(
            0, 0.2, infer(tiny_cfg()).param_count).astype(np.float32).tobytes())
    return cfg, weights


@HYPO
@given(cfg_text=texts, weights=st.binary(max_size=300))
def test_export(tmp_path_factory, cfg_text, weights):
    pytest.importorskip("onnx")
    root = tmp_path_factory.mktemp("export")
    cfg, w = root / "x.cfg", root / "x.weights"
    cfg.write_bytes(cfg_text)
    w.write_bytes(weights)
    result = invoke("export", ["export", "--cfg", cfg, "--weights", w, "-o", root / "m.onnx"],
                    root, [cfg, w])
    assert result.exit_code in (1, 2) and not (root / "m.onnx").exists()


def test_export_special_and_identical_paths(tmp_path):
    pytest.importorskip("onnx")
    (tmp_path / "outside").mkdir()
    cfg, weights = _tiny_files(tmp_path)
    for output in (cfg, weights, tmp_path, "/dev/null/x.onnx"):
        result = invoke("export", ["export", "--cfg", cfg, "--weights", weights, "-o", output],
                        tmp_path, [cfg, weights])
        assert result.exit_code in (1, 2)
    for path in special_paths(tmp_path):
        for args in (["--cfg", path, "--weights", weights], ["--cfg", cfg, "--weights", path]):
            result = invoke("export", ["export", *args, "-o", tmp_path / "m.onnx"], tmp_path)
            assert result.exit_code in (1, 2)


@pytest.mark.darknet
@HYPO
@given(image=st.one_of(st.binary(max_size=400), st.sampled_from([
    b"\xff\xd8\xff\xe0" + bytes(100),  # a JPEG header, then nothing
    b"\x89PNG\r\n\x1a\n" + bytes(60)])))
def test_detect_images(tmp_path_factory, image):
    root = tmp_path_factory.mktemp("detect")
    cfg, weights = _tiny_files(root)
    picture = root / "x.jpg"
    picture.write_bytes(image)
    result = invoke("detect", ["detect", picture, "--cfg", cfg, "--weights", weights,
                               "--out", root / "out"], root, [picture, cfg, weights])
    assert result.exit_code in (1, 2)


@pytest.mark.darknet
def test_detect_special_and_identical_paths(tmp_path):
    import cv2

    cfg, weights = _tiny_files(tmp_path)
    picture = tmp_path / "x.jpg"
    cv2.imwrite(str(picture), np.full((20, 30, 3), 90, np.uint8))
    for path in special_paths(tmp_path):
        for args in ([path, "--cfg", cfg, "--weights", weights],
                     [picture, "--cfg", path, "--weights", weights],
                     [picture, "--cfg", cfg, "--weights", path]):
            assert invoke("detect", ["detect", *args], tmp_path).exit_code in (1, 2)
    for out in (tmp_path, "/dev/null/x"):  # the input's own folder, an impossible one
        result = invoke("detect", ["detect", picture, "--cfg", cfg, "--weights", weights,
                                   "--out", out], tmp_path, [picture])
        assert result.exit_code in (0, 1, 2)
    assert cv2.imread(str(picture)).mean() == 90  # never replaced by its annotated copy


def test_case_counts():
    """Every command above was driven (the counts go to the report)."""
    assert {"cfg check", "cfg show", "weights info", "weights cut", "watch", "eval",
            "train", "export"} <= set(CASES), CASES
    print("hostile cases per command:", json.dumps(CASES, sort_keys=True))
