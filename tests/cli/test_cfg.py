"""`enet4y2 cfg`: generate, show, check."""

from __future__ import annotations

import json

import numpy as np

from enet4y2.cfg import infer, load_cfg, problems


def test_help_has_examples(cli):
    for args in (["cfg", "--help"], ["cfg", "show", "--help"], ["cfg", "check", "--help"]):
        assert "Examples:" in cli.ok(*args).output


def test_generate_custom_classes(cli, tmp_path):
    out = tmp_path / "x.cfg"
    result = cli.ok("cfg", "--classes", "3", "-o", str(out))
    assert f"wrote {out}" in result.output
    cfg = load_cfg(out)
    assert problems(cfg) == []
    assert cfg.classes == 3
    assert cfg.max_batches == 6000
    assert cfg.net.options["steps"] == "4800,5400"
    assert len(cfg.yolo_sections) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["x.cfg"]


def test_generate_from_names_with_size_heads_and_json(cli, tmp_path):
    names = tmp_path / "obj.names"
    names.write_text("cat\ndog\n\nbird\n")
    out = tmp_path / "o.cfg"
    result = cli.ok("cfg", "--names", str(names), "--width", "608", "--height", "320",
                 "--heads", "2", "--batch", "32", "--subdivisions", "16",
                 "--max-batches", "9000", "-o", str(out), "--json")
    summary = json.loads(result.stdout)
    cfg = load_cfg(out)
    assert summary["classes"] == cfg.classes == 3
    assert summary["heads"] == len(cfg.yolo_sections) == 2
    assert (cfg.width, cfg.height, cfg.batch, cfg.subdivisions) == (608, 320, 32, 16)
    assert cfg.net.options["steps"] == "7200,8100"
    assert summary["bflops"] == infer(cfg).total_bflops


def test_generate_with_anchors(cli, tmp_path):
    out = tmp_path / "a.cfg"
    cli.ok("cfg", "--classes", "2", "--anchors", "5,6, 7,8, 9,10, 20,30, 40,50, 60,70",
        "-o", str(out))
    assert load_cfg(out).yolo_sections[0].options["anchors"] == "5,6,7,8,9,10,20,30,40,50,60,70"


def test_generate_with_anchors_from_dataset(cli, tmp_path):
    rng = np.random.default_rng(0)
    sizes = np.array([[0.05, 0.1], [0.3, 0.2], [0.6, 0.7]])
    images = tmp_path / "images" / "train2014"
    labels = tmp_path / "labels" / "train2014"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    listing = []
    for i in range(60):
        wh = sizes[i % 3] * np.exp(rng.normal(0, 0.02, 2))
        (labels / f"{i}.txt").write_text(f"0 0.5 0.5 {wh[0]:.6f} {wh[1]:.6f}\n")
        listing.append(f"{images}/{i}.jpg")
    (tmp_path / "train.txt").write_text("\n".join(listing) + "\n")
    data = tmp_path / "obj.data"
    data.write_text(f"classes = 1\ntrain = {tmp_path / 'train.txt'}\n")
    out = tmp_path / "k.cfg"
    result = cli.ok("cfg", "--classes", "1", "--anchors-from", str(data), "--num-anchors", "3",
                 "--heads", "3", "-o", str(out), "--json")
    summary = json.loads(result.stdout)
    assert summary["boxes"] == 60
    assert summary["mean_iou"] > 0.9
    cfg = load_cfg(out)
    anchors = [int(v) for v in cfg.yolo_sections[0].options["anchors"].split(",")]
    expect = (sizes * 416).round().astype(int).ravel().tolist()
    assert np.allclose(anchors, expect, atol=3)
    assert [s.options["mask"] for s in cfg.yolo_sections] == ["2", "1", "0"]
    assert problems(cfg) == []


def test_generate_user_errors(cli, tmp_path):
    out = str(tmp_path / "e.cfg")
    names = tmp_path / "x.names"
    names.write_text("a\nb\n")
    cases = [
        (["cfg", "--classes", "2", "--names", str(names), "-o", out], "use one"),
        (["cfg", "--width", "400", "-o", out], "multiples of 32"),
        (["cfg", "--anchors", "1,2,3", "-o", out], "w,h pairs"),
        (["cfg", "--names", str(tmp_path / "none.names"), "-o", out],
         f"--names {tmp_path / 'none.names'}: no such names file"),
        (["cfg", "--classes", "3"], "give -o OUT.cfg"),
        (["cfg", "--classes", "3", "check", out], "is for generating a cfg"),
        (["cfg", "--anchors-from", str(tmp_path / "no.data"), "-o", out],
         f"--anchors-from {tmp_path / 'no.data'}: no such data file"),
        (["cfg", "--tiny", "--heads", "4", "-o", out], "--tiny has 2 heads"),
        (["cfg", "--tiny", "--width", "72", "-o", out], "multiples of 16"),
        (["cfg", "--tiny", "show", out], "is for generating a cfg"),
    ]
    for args, expect in cases:
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert expect in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "e.cfg").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.names"]


def test_generate_tiny(cli, tmp_path):
    out = tmp_path / "small.cfg"
    result = cli.ok("cfg", "--tiny", "--classes", "2", "--width", "96", "--height", "96",
                    "--json", "-o", out)
    summary = json.loads(result.stdout)
    assert (summary["heads"], summary["layers"], summary["width"]) == (2, 17, 96)
    text = out.read_text()
    assert "swish" not in text and text.count("[yolo]") == 2 and "burn_in=50" in text


def test_show_table_and_json(cli, tmp_path):
    out = tmp_path / "s.cfg"
    cli.ok("cfg", "--classes", "3", "--heads", "2", "-o", str(out))
    cfg = load_cfg(out)
    model = infer(cfg)
    table = cli.ok("cfg", "show", str(out)).output
    assert "total" in table and f"{model.total_bflops:.3f}" in table
    assert f"{model.param_count:,}" in table
    data = json.loads(cli.ok("cfg", "show", str(out), "--json").stdout)
    assert len(data["layers"]) == len(cfg.layers)
    assert data["layers"][0]["output"] == [208, 208, 32]
    assert data["weights_bytes"] == 20 + 4 * model.param_count


def test_check_ok_and_problems(cli, tmp_path):
    good = tmp_path / "g.cfg"
    cli.ok("cfg", "--classes", "5", "-o", str(good))
    assert cli.ok("cfg", "check", str(good)).output.startswith(f"ok {good}: 164 layers")
    bad = tmp_path / "b.cfg"
    bad.write_text(good.read_text().replace("width=416", "width=410")
                   .replace("classes=5", "classes=6", 1))
    result = cli("cfg", "check", str(bad))
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    # darknet only warns about width=410 itself; it stops where the shapes stop fitting
    # (a [shortcut] of 103x104 onto 104x104) and at the head whose classes changed
    assert len(lines) >= 2
    assert all(line.startswith(f"✗ {bad}:") for line in lines)
    assert any("width=410" in line for line in lines)
    assert "width=410 is not a multiple of 32" in result.stderr
    report = json.loads(cli("cfg", "check", str(bad), "--json").stdout)
    assert report["ok"] is False and report["problems"] == [ln[2:] for ln in lines]


def test_check_syntax_error_and_missing_file(cli, tmp_path):
    bad = tmp_path / "s.cfg"
    bad.write_text("[net]\nwidth\n")
    result = cli("cfg", "check", str(bad))
    assert result.exit_code == 1
    # darknet ignores a line without '=' (a warning); it stops on the missing input size
    assert f"{bad}:2: 'width' has no '='" in result.stderr
    assert f"{bad}:1: [net] needs positive width, height and channels" in result.stdout
    result = cli("cfg", "show", str(tmp_path / "none.cfg"))
    assert result.exit_code == 1 and "no such cfg file" in result.stderr


def test_learning_rate_and_burn_in(cli, tmp_path):
    out = tmp_path / "lr.cfg"
    cli.ok("cfg", "--classes", "2", "--learning-rate", "0.0005", "--burn-in", "30", "-o", out)
    net = load_cfg(out).net.options
    assert float(net["learning_rate"]) == 0.0005 and net["burn_in"] == "30"
