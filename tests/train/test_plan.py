"""enet4y2.train.plan and .process: command construction, log header and append, resume,
warm-up cfg, NaN detection on log text (darknet itself: tests/darknet/test_train_darknet)."""

from __future__ import annotations

import os
import signal
from datetime import datetime, timezone

import pytest

from enet4y2.cfg import load_cfg, parse_cfg, write_cfg
from enet4y2.cfg.model import set_net_option
from enet4y2.errors import MissingFileError, UsageError
from enet4y2.log.parser import LogParser
from enet4y2.train import plan as train
from enet4y2.train.process import first_divergence, nan_message, run_darknet, tail_lines
from enet4y2.weights.format import cfg_stem
from tests.tiny import tiny_cfg

LOG_TEXT = (b"\x1b[H\x1b[J 1: 9.5, 9.5 avg loss, 0.000010 rate, 0.5 seconds, 8 images, "
            b"0.1 hours left\n 2: 12.0, 10.2 avg loss, 0.000020 rate, 0.5 seconds, 16 images, "
            b"0.1 hours left\n 3: nan, -nan avg loss, 0.000030 rate, 0.5 seconds, 24 images, "
            b"0.1 hours left\n 4: nan, nan avg loss, 0.000040 rate, 0.5 seconds, 32 images\n")


def test_darknet_command():
    cmd = train.darknet_command("/dn/darknet", "coco.data", "cfg/x.cfg", "w.weights",
                                gpus="0,1", calc_map=True, clear=True, extra=("-thresh", "0.3"))
    assert cmd == ["/dn/darknet", "detector", "train", "coco.data", "cfg/x.cfg", "w.weights",
                   "-dont_show", "-gpus", "0,1", "-map", "-clear", "-thresh", "0.3"]
    assert train.darknet_command("d", "a.data", "b.cfg") == [
        "d", "detector", "train", "a.data", "b.cfg", "-dont_show"]


def test_parse_gpus():
    assert train.parse_gpus("0,1,3") == [0, 1, 3]
    assert train.parse_gpus(None) == []
    for bad in ("0,,1", "a", "1,1", "-1"):
        with pytest.raises(UsageError, match="--gpus"):
            train.parse_gpus(bad)


def test_header_line_names_date_command_flags_commit():
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    record = {"commit": "59596d7", "flags": {"GPU": 1, "CUDNN": 0}}
    line = train.header_line(["darknet", "detector", "train", "my data.data"], record, when)
    assert line == ("# enet4y2 train 2026-01-02T03:04:05Z | command: darknet detector train "
                    "'my data.data' | build: GPU=1 CUDNN=0 | commit: 59596d7\n")
    assert "build: unknown | commit: unknown" in train.header_line(["d"], None, when)
    # The log parser sees no iteration or complaint in it.
    assert LogParser().feed(line.encode()) == []


def test_run_appends_after_header_and_never_truncates(tmp_path):
    log = tmp_path / "logs" / "train.log"
    first = run_darknet(["echo", "run one"], log, "# header 1\n")
    second = run_darknet(["echo", "run two"], log, "# header 2\n")
    assert (first.returncode, second.returncode) == (0, 0)
    assert log.read_text() == "# header 1\nrun one\n# header 2\nrun two\n"
    run_darknet(["printf", "no newline"], log, "# header 3\n")
    run_darknet(["true"], log, "# header 4\n")
    assert log.read_text().endswith("run two\n# header 3\nno newline\n# header 4\n")


def test_run_reports_exit_status_signal_and_tail(tmp_path):
    log = tmp_path / "train.log"
    lines = "; ".join(f"echo line{i}" for i in range(30))
    failed = run_darknet(["sh", "-c", f"{lines}; exit 3"], log, "# h\n")
    assert (failed.returncode, failed.exit_code) == (3, 3)
    assert failed.tail == [f"line{i}" for i in range(10, 30)]
    killed = run_darknet(["sh", "-c", "kill -9 $$"], log, "# h\n")
    assert (killed.returncode, killed.exit_code) == (-9, 137)


def test_run_that_cannot_start_is_one_clear_error(tmp_path):
    from enet4y2.errors import DarknetError

    not_executable = tmp_path / "darknet"
    not_executable.write_text("")
    with pytest.raises(DarknetError, match=r"cannot start .*make darknet"):
        run_darknet([str(not_executable)], tmp_path / "t.log", "# h\n")
    assert (tmp_path / "t.log").read_text().startswith("# h\nenet4y2: cannot start darknet")


def test_darknet_starts_with_forwarded_signals_at_default_and_ignored_ones_ignored(tmp_path):
    log = tmp_path / "sig.log"
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGHUP, signal.SIGTERM)}
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        run_darknet(["sh", "-c", "grep SigIgn /proc/$$/status"], log, "")
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    ignored = int(log.read_text().split()[1], 16)
    assert ignored & (1 << (signal.SIGHUP - 1))
    assert not ignored & (1 << (signal.SIGTERM - 1))


def test_nan_detection_on_log_text():
    events = LogParser().feed(LOG_TEXT)
    it = first_divergence(events)
    assert it is not None and it.iteration == 3
    message = nan_message(it)
    assert "iteration 3" in message and "learning_rate" in message and "burn_in" in message
    assert first_divergence(LogParser().feed(LOG_TEXT.split(b" 3:")[0])) is None


def test_tail_lines_strips_escapes():
    assert tail_lines(b"\x1b[H\x1b[Ja\r\n\nb\rc\n", 2) == ["b", "c"]


def test_resume_path_selection(tmp_path):
    with pytest.raises(MissingFileError, match=r"tiny_last\.weights"):
        train.resume_weights(tmp_path, "cfg/tiny.cfg")
    last = tmp_path / "tiny_last.weights"
    last.write_bytes(b"x")
    (tmp_path / "other_last.weights").write_bytes(b"x")
    assert train.resume_weights(tmp_path, "cfg/tiny.cfg") == last
    final = tmp_path / "tiny_final.weights"
    final.write_bytes(b"x")
    os.utime(last, ns=(1, 1))
    assert train.newest_weights(tmp_path, "tiny.cfg") == final
    assert train.newest_weights(tmp_path / "none", "tiny.cfg") is None
    cmd = train.resume_command("coco.data", "cfg/tiny.cfg", gpus="0,1", calc_map=True,
                               skip_bad=True)
    assert cmd == ("enet4y2 train --data coco.data --cfg cfg/tiny.cfg --resume --gpus 0,1 "
                   "--map --skip-bad")


def test_cfg_stem_is_darknets_basecfg():
    assert cfg_stem("cfg/enet4y2-coco.cfg") == "enet4y2-coco"
    assert cfg_stem("/a/b/yolo.v3.cfg") == "yolo"


def test_warmup_cfg_sets_max_batches_only(tmp_path):
    text = write_cfg(tiny_cfg(5000))
    warm = parse_cfg(set_net_option(text, "max_batches", str(train.WARMUP_ITERATIONS)))
    assert warm.max_batches == train.WARMUP_ITERATIONS
    assert write_cfg(warm).replace("max_batches=1000", "max_batches=5000") == text
    no_key = "[net]\nbatch=2\n\n[convolutional]\nfilters=1\n"
    assert parse_cfg(set_net_option(no_key, "max_batches", "1000")).max_batches == 1000
    cfg_path = tmp_path / "tiny.cfg"
    cfg_path.write_text(text)
    out = train.write_warmup_cfg(cfg_path, tmp_path / "backup")
    assert out.name == "tiny.cfg" and cfg_stem(out) == "tiny"
    assert load_cfg(out).max_batches == 1000 and cfg_path.read_text() == text


def test_plan_single_run_and_warmup(tmp_path):
    one = train.plan_steps("dn", "c.data", "cfg/net.cfg", "w.conv.132", backup=tmp_path,
                           max_batches=5000, gpus=[0, 1], calc_map=True, clear=True)
    assert [s.command for s in one] == [train.darknet_command(
        "dn", "c.data", "cfg/net.cfg", "w.conv.132", gpus="0,1", calc_map=True, clear=True)]
    warm = train.plan_steps("dn", "c.data", "cfg/net.cfg", "w.conv.132", backup=tmp_path,
                            max_batches=5000, gpus=[2, 3], calc_map=True, warmup=True,
                            extra=("-x",))
    assert [(s.max_batches, s.warmup) for s in warm] == [(1000, True), (5000, False)]
    warm_cfg = tmp_path / train.WARMUP_DIR / "net.cfg"
    assert warm[0].command == ["dn", "detector", "train", "c.data", str(warm_cfg),
                               "w.conv.132", "-dont_show", "-gpus", "2", "-x"]
    assert warm[1].command == ["dn", "detector", "train", "c.data", "cfg/net.cfg",
                               str(tmp_path / "net_final.weights"), "-dont_show", "-gpus",
                               "2,3", "-map", "-x"]
    # One GPU, or a schedule no longer than the warm-up: nothing to warm up.
    for gpus, max_batches in (([0], 5000), ([0, 1], 800)):
        steps = train.plan_steps("dn", "c.data", "n.cfg", None, backup=tmp_path,
                                 max_batches=max_batches, gpus=gpus, warmup=True)
        assert len(steps) == 1 and not steps[0].warmup
