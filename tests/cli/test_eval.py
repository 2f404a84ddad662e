"""`enet4y2 eval` through click: results files built here, where AP is known."""

from __future__ import annotations

import json

import pytest

from enet4y2.weights.fit import expected_size
from tests.coco_builders import build_gt, perfect_results

INPUTS = ["gt.json", "half.json", "perfect.json"]


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Ground truth and two results files in the current directory, so anything written
    without being asked for would show up beside them."""
    gt = build_gt(4)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "perfect.json").write_text(json.dumps(perfect_results(gt)))
    (tmp_path / "half.json").write_text(json.dumps(perfect_results(gt, {1000, 1001})))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run(cli):
    """`run(args)` is `enet4y2 eval ARGS`, expected to exit 0; `run(args, ok=False)` not."""

    def invoke(args, *, ok: bool = True):
        return cli.ok("eval", *args) if ok else cli("eval", *args)

    return invoke


def test_help_has_examples(cli):
    result = cli.ok("eval", "--help")
    assert "enet4y2 eval --results" in result.stdout and "--only-detected-images" in result.stdout
    assert "--out DIR" in result.stdout


def test_perfect_results_json(run, files):
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                  "--stats-out", files / "s.json", "--json"])
    report = json.loads(result.stdout)
    assert report["pycoco"]["stats"]["AP"] == pytest.approx(1.0)
    assert report["pycoco"]["images"] == 4
    saved = json.loads((files / "s.json").read_text())
    assert saved["stats"]["AP50"] == pytest.approx(1.0) and saved["model"] == "perfect"


def test_summary_and_table_with_judgement(run, files):
    run(["--results", files / "half.json", "--gt", files / "gt.json",
         "--stats-out", files / "half-stats.json", "--json"])
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                  "--compare", f"half={files / 'half-stats.json'}", "--name", "best",
                  "--stats-out", ""])
    out = result.stdout
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000" in out
    assert "vs half" in out
    judgement = next(line for line in out.splitlines() if "vs half" in line)
    assert judgement.count("win") == 6


def test_all_images_vs_only_detected_images(run, files):
    every = json.loads(run(["--results", files / "half.json", "--gt", files / "gt.json",
                            "--json"]).stdout)
    only = run(["--results", files / "half.json", "--gt", files / "gt.json", "--json",
                "--only-detected-images"])
    assert every["pycoco"]["stats"]["AP"] == pytest.approx(51 / 101)
    assert json.loads(only.stdout)["pycoco"]["stats"]["AP"] == pytest.approx(1.0)
    assert "inflated" in only.stderr


def test_list_limits_images_and_names_them_by_file(run, files):
    (files / "5k.txt").write_text("/x/COCO_val2014_000000001000.jpg\n"
                                  "/x/COCO_val2014_000000001001.jpg\n")
    result = run(["--results", files / "half.json", "--gt", files / "gt.json",
                  "--list", files / "5k.txt", "--json"])
    report = json.loads(result.stdout)
    assert report["pycoco"]["images"] == 2 and report["pycoco"]["stats"]["AP"] == pytest.approx(1)


@pytest.mark.parametrize(("results", "gt", "message"), [
    ("perfect.json", "missing.json", "ground truth"),
    ("missing.json", "gt.json", "results file"),
    ("empty.json", "gt.json", "holds no detections"),
    ("zeros.json", "gt.json", "#5412"),
    ("unknown_image.json", "gt.json", "not in the ground truth"),
    ("unknown_category.json", "gt.json", "category_id"),
    ("perfect.json", "notcoco.json", "not a COCO instances file"),
    ("broken.json", "gt.json", "not valid JSON"),
])
def test_bad_inputs_are_one_line_errors(run, files, results, gt, message):
    det = {"category_id": 3, "bbox": [1, 1, 5, 5], "score": 0.5}
    (files / "empty.json").write_text("[]")
    (files / "zeros.json").write_text(json.dumps([{"image_id": 0, **det}] * 4))
    (files / "unknown_image.json").write_text(json.dumps([{"image_id": 77, **det}]))
    (files / "unknown_category.json").write_text(json.dumps(
        [{**det, "image_id": 1000, "category_id": 0}]))
    (files / "notcoco.json").write_text(json.dumps({"images": []}))
    (files / "broken.json").write_text("[{")
    result = run(["--results", files / results, "--gt", files / gt], ok=False)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_results_without_gt(run, files):
    result = run(["--results", files / "perfect.json"], ok=False)
    assert result.exit_code == 1 and "--results needs --gt" in result.stderr


def test_nothing_to_evaluate(run, files):
    result = run([], ok=False)
    assert result.exit_code == 1 and "give --weights" in result.stderr


def test_bad_compare_spec(run, files):
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                  "--compare", "nonsense"], ok=False)
    assert result.exit_code == 2 and "NAME=STATS.json" in result.stderr


def test_missing_weights_file(run, files):
    result = run(["--weights", files / "none.weights", "--cfg", files / "none.cfg",
                  "--pycoco"], ok=False)
    assert result.exit_code == 1
    assert result.stderr == f"error: --weights {files / 'none.weights'}: no such weights file\n"


def test_faster_backend_same_stats(run, files):
    pytest.importorskip("faster_coco_eval")
    args = ["--results", files / "half.json", "--gt", files / "gt.json", "--json"]
    slow = json.loads(run(args).stdout)["pycoco"]["stats"]
    fast = json.loads(run([*args, "--backend", "faster-coco-eval"]).stdout)
    assert fast["pycoco"]["stats"] == pytest.approx(slow)


def test_darknet_map_with_results_is_an_error(run, files):
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                  "--darknet-map"], ok=False)
    assert result.exit_code == 1 and "--darknet-map runs a model" in result.stderr


def test_darknet_map_without_a_build_says_how_to_build(run, files, monkeypatch):
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(files / "no-darknet-here"))
    for name in ("x.cfg", "x.weights"):
        (files / name).write_text("")
    (files / "valid.txt").write_text("a_1.jpg\n")
    (files / "x.data").write_text(f"classes=2\nvalid={files / 'valid.txt'}\n")
    result = run(["--data", files / "x.data", "--cfg", files / "x.cfg",
                  "--weights", files / "x.weights"], ok=False)
    assert result.exit_code == 1
    assert "darknet executable not found" in result.stderr and "make darknet" in result.stderr


def test_cli_constants_match_the_module_and_help_stays_light():
    import subprocess
    import sys

    from enet4y2.cli import eval as cli_eval
    from enet4y2.evaluate.cocoeval import BACKENDS
    from enet4y2.evaluate.table import EVEN_WITHIN

    assert (cli_eval.BACKENDS, cli_eval.EVEN_WITHIN) == (BACKENDS, EVEN_WITHIN)
    code = ("import sys, enet4y2.cli; "
            "print(sorted(m for m in ('numpy', 'pycocotools', 'enet4y2.evaluate') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_compare_warns_when_the_reference_used_another_method(run, files):
    run(["--results", files / "half.json", "--gt", files / "gt.json", "--json",
         "--only-detected-images", "--stats-out", files / "seedlike.json"])
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                  "--compare", f"seed={files / 'seedlike.json'}", "--stats-out", ""])
    assert "reference seed was scored over only images with detections" in result.stderr
    # and a like-for-like reference gives no such warning
    run(["--results", files / "half.json", "--gt", files / "gt.json", "--json",
         "--stats-out", files / "fair.json"])
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                  "--compare", f"fair={files / 'fair.json'}", "--stats-out", ""])
    assert "reference fair" not in result.stderr


def test_missing_fast_backend_says_how_to_install(run, files, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "faster_coco_eval", None)  # as if not installed
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                  "--backend", "faster-coco-eval"], ok=False)
    assert result.exit_code == 1 and "pip install 'enet4y2[fast]'" in result.stderr


def test_pycoco_without_the_binding_is_one_line(run, files, monkeypatch):
    import struct

    from enet4y2 import cfg as cfgmod
    from tests.tiny import tiny_cfg

    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(files / "no-darknet"))
    cfg = tiny_cfg()
    (files / "x.cfg").write_text(cfgmod.write_cfg(cfg))
    size = expected_size(cfg)
    (files / "x.weights").write_bytes(struct.pack("<iiiQ", 0, 2, 5, 0) + bytes(size - 20))
    (files / "l.txt").write_text("a_1.jpg\n")
    result = run(["--cfg", files / "x.cfg", "--weights", files / "x.weights", "--pycoco",
                  "--list", files / "l.txt", "--gt", files / "gt.json"], ok=False)
    assert result.exit_code == 1 and "make darknet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_nothing_is_written_unless_asked(run, files):
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json"])
    assert result.stderr.strip().splitlines()[-1].startswith("not saved: add --out DIR")
    report = json.loads(run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                             "--json"]).stdout)
    assert report["written"] == []
    assert sorted(p.name for p in files.iterdir()) == INPUTS


def test_out_writes_there_and_says_so(run, files):
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                  "--out", "saved", "--json"])
    assert json.loads(result.stdout)["written"] == ["saved/coco_stats.json"]  # as given
    assert "wrote saved/coco_stats.json\n" in result.stderr and "not saved" not in result.stderr
    stats = json.loads((files / "saved" / "coco_stats.json").read_text())
    assert stats["stats"]["AP"] == pytest.approx(1.0)
    # a single file's own option wins over --out for that file
    result = run(["--results", files / "perfect.json", "--gt", files / "gt.json",
                  "--out", "saved2", "--stats-out", "mine.json"])
    assert result.stderr.strip().splitlines()[-1] == "wrote mine.json"
    assert (files / "mine.json").is_file()
    assert not (files / "saved2").exists()


@pytest.mark.darknet
def test_pycoco_and_darknet_map_on_real_darknet(cli, tiny_detector, files):
    from enet4y2.data.files import read_list
    from enet4y2.evaluate.results import image_id_from_name

    tiny = tiny_detector
    result = cli.ok("eval", "--data", tiny.data, "--cfg", tiny.cfg, "--weights", tiny.weights,
                    "--list", tiny.valid_list, "--pycoco", "--darknet-map", "--points", "101",
                    "--batch", "2", "--out", "results", "--json")
    report = json.loads(result.stdout)
    assert report["darknet_map"]["map"] > 0 and report["pycoco"]["stats"]["AP50"] > 0
    written = json.loads((files / "results" / "coco_results.json").read_text())
    names = {image_id_from_name(p) for p in read_list(tiny.valid_list)}
    assert {r["image_id"] for r in written} <= names  # synth_<12 digits>.jpg -> the number
    assert (files / "results" / "coco_stats.json").is_file()
    saved = [f"results/{name}"
             for name in ("darknet_map.json", "coco_results.json", "coco_stats.json")]
    assert report["written"] == saved
    assert [line for line in result.stderr.splitlines() if line.startswith("wrote ")] == [
        f"wrote {path}" for path in saved]


@pytest.mark.darknet
def test_json_stdout_stays_clean_of_darknet_chatter(tiny_detector, tmp_path):
    """A real process: darknet's C printf goes to fd 1, which `--json` must not carry."""
    import subprocess
    import sys

    tiny = tiny_detector
    command = [sys.executable, "-c", "from enet4y2.cli import main; main()", "eval",
               "--data", str(tiny.data), "--cfg", str(tiny.cfg), "--weights",
               str(tiny.weights), "--list", str(tiny.valid_list), "--pycoco",
               "--darknet-map", "--json"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert set(report) >= {"darknet_map", "pycoco", "table"}
    assert list(tmp_path.iterdir()) == []  # nothing written without --out
