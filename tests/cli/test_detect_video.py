"""`enet4y2 detect` on video files and live streams, end to end with a model trained by
darknet: JSON lines per frame, annotated mp4, MOT text, broken inputs, Ctrl-C, an HTTP
MJPEG stream served on loopback, reconnects."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import cv2
import pytest

from tests.video.clips import background, render, two_tracks, write_clip, zigzag
from tests.video.mjpeg import MjpegServer

pytestmark = pytest.mark.darknet


def _model(small) -> list[str]:
    return ["--cfg", str(small.cfg), "--weights", str(small.weights), "--names",
            str(small.names)]


def _records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def _video(path) -> tuple[int, float, int, int]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), path
    count = 0
    while cap.read()[0]:
        count += 1
    return count, cap.get(cv2.CAP_PROP_FPS), int(cap.get(3)), int(cap.get(4))


def test_a_clip_gives_a_record_per_frame_an_annotated_video_and_mot(cli, small_detector,
                                                                   tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", [[o] for o in zigzag(20)], fps=10)
    out, mot = tmp_path / "out", tmp_path / "clip.mot.txt"
    result = cli.ok("detect", clip, *_model(small_detector), "--json", "--out", out,
                    "--mot", mot)
    records = _records(result.stdout)
    assert [r["frame"] for r in records] == list(range(20))
    assert [r["timestamp"] for r in records] == pytest.approx([i / 10 for i in range(20)])
    assert {(r["source"], r["width"], r["height"], r["dropped"]) for r in records} == \
        {(str(clip), 96, 80, 0)}
    assert sum(len(r["detections"]) for r in records) >= 18
    assert _video(out / "clip.mp4") == (20, 10.0, 96, 80)
    assert sorted(p.name for p in out.iterdir()) == ["clip.mp4"]  # no partial file left
    rows = [line.split(",") for line in mot.read_text().splitlines()]
    assert len(rows) == sum(len(r["detections"]) for r in records)
    first = records[0]["detections"][0]
    assert rows[0][:6] == ["1", "-1", f"{first['x']:.2f}", f"{first['y']:.2f}",
                           f"{first['w']:.2f}", f"{first['h']:.2f}"]
    assert "20 frames" in result.stderr


def test_a_truncated_clip_ends_naming_the_frame_and_keeps_valid_outputs(cli, small_detector,
                                                                       tmp_path):
    clip = write_clip(tmp_path / "cut.avi", [[o] for o in zigzag(40)], fourcc="MJPG")
    clip.write_bytes(clip.read_bytes()[:clip.stat().st_size // 2])
    out = tmp_path / "out"
    result = cli("detect", clip, *_model(small_detector), "--json", "--out", out)
    assert result.exit_code == 1
    records = _records(result.stdout)  # every line complete
    n = len(records)
    assert 5 < n < 40 and [r["frame"] for r in records] == list(range(n))
    *before, last = result.stderr.strip().splitlines()
    assert last.startswith("error: ") and f"cut.avi: frame {n} cannot be read" in last
    assert before == [f"wrote {out / 'cut.mp4'} ({n} frames)"]
    assert _video(out / "cut.mp4")[0] == n  # finalised, playable


@pytest.mark.parametrize(("args", "code", "message"), [
    (["missing.mp4"], 1, "missing.mp4: no such video file"),
    (["fake.mp4"], 1, "fake.mp4: cannot be opened (not a video OpenCV can decode"),
    (["img.jpg", "--track"], 2, "--track, --mot and --reconnect are for video sources"),
    (["fake.mp4", "rtsp://x/1", "--mot", "m.txt"], 2, "one MOT file holds one video"),
])
def test_bad_video_input_is_one_line(cli, small_detector, tmp_path, monkeypatch, args,
                                     code, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fake.mp4").write_bytes(b"\0" * 4096)
    cv2.imwrite(str(tmp_path / "img.jpg"), background(96, 80))
    result = cli("detect", *args, *_model(small_detector))
    assert result.exit_code == code
    assert message in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_finalises_the_video_and_the_json_lines(small_detector, tmp_path):
    clip = write_clip(tmp_path / "long.mp4", [[o] for o in zigzag(1500)], fps=25)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "enet4y2", "detect", str(clip), *_model(small_detector),
         "--json", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "COLUMNS": "120"})
    lines = [proc.stdout.readline() for _ in range(30)]
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    records = [json.loads(line) for line in lines + rest.splitlines()]
    assert 30 <= len(records) < 1500
    assert [r["frame"] for r in records] == list(range(len(records)))
    frames = _video(out / "long.mp4")[0]
    assert len(records) - 1 <= frames <= len(records)
    assert [p.name for p in out.iterdir()] == ["long.mp4"]


def _stream_frames(n: int) -> list:
    return [render(background(96, 80), [o]) for o in zigzag(n)]


def test_an_http_mjpeg_stream_counts_every_frame_processed_or_dropped(cli, small_detector):
    with MjpegServer([_stream_frames(60)], fps=200) as server:
        result = cli.ok("detect", server.url, *_model(small_detector), "--json")
    records = _records(result.stdout)
    assert server.served == 60
    frames = [r["frame"] for r in records]
    assert frames == sorted(set(frames)) and frames[-1] == 59
    assert len(records) + records[-1]["dropped"] == 60  # none lost silently
    now = time.time()
    assert all(now - 120 < r["timestamp"] <= now for r in records)  # wall clock
    assert f"{records[-1]['dropped']} dropped" in result.stderr


def test_reconnect_reopens_a_dropped_stream_and_says_so(cli, small_detector):
    frames = _stream_frames(20)
    with MjpegServer([frames[:10], frames[10:]], fps=100) as server:
        result = cli.ok("detect", server.url, *_model(small_detector), "--json",
                        "--reconnect", "1")
    records = _records(result.stdout)
    assert records[-1]["frame"] == 19 and len(records) + records[-1]["dropped"] == 20
    assert "stream dropped after frame 10; reconnecting in 0.5 s (1/1)" in result.stderr
    assert "reconnected" in result.stderr


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("ffmpeg") is None,
                    reason="ffmpeg not installed (apt-get install ffmpeg)")
def test_a_udp_mpegts_stream_from_ffmpeg(small_detector):
    """UDP joins a stream already running: one sender streams until the reader has ten
    frames (a loaded machine may take seconds to start it; one continuous stream, since a
    reader that joined at the seam between two senders' streams could not open it), then
    stops; the reader says the stream ended once nothing came for its ?timeout."""
    port = _free_udp_port()
    sender = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         "testsrc=size=96x80:rate=25", "-t", "90", "-c:v", "mpeg2video", "-f", "mpegts",
         f"udp://127.0.0.1:{port}?pkt_size=1316"], stdin=subprocess.DEVNULL)
    detect = subprocess.Popen(
        [sys.executable, "-m", "enet4y2", "detect",
         f"udp://127.0.0.1:{port}?timeout=4000000", *_model(small_detector), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(detect.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 80
        while len(lines) < 10 and detect.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        sender.terminate()
        sender.wait(timeout=10)
        err = detect.stderr.read()
        detect.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        sender.kill()
        detect.kill()
    assert detect.returncode == 0, err
    records = _records("".join(lines))
    assert len(records) >= 10
    assert {(r["width"], r["height"]) for r in records} == {(96, 80)}
    assert "stream ended after" in err


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("ffmpeg") is None,
                    reason="ffmpeg not installed (apt-get install ffmpeg)")
def test_an_rtsp_stream_from_ffmpeg(small_detector, tmp_path):
    """RTSP over loopback, interleaved RTP over TCP. FFmpeg serves no RTSP playback, so
    the roles turn: OpenCV's FFmpeg demuxer listens (`rtsp_flags=listen`, through
    OPENCV_FFMPEG_CAPTURE_OPTIONS) and `ffmpeg -f rtsp` publishes to it."""
    url = f"rtsp://127.0.0.1:{_free_tcp_port()}/live"
    env = {**os.environ, "OPENCV_FFMPEG_CAPTURE_OPTIONS":
           "rtsp_flags;listen|rtsp_transport;tcp|listen_timeout;60"}
    detect = subprocess.Popen(
        [sys.executable, "-m", "enet4y2", "detect", url, *_model(small_detector), "--json",
         "--out", str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env)
    try:
        for _ in range(100):  # until the listener is up
            publish = subprocess.run(
                ["ffmpeg", "-hide_banner", "-loglevel", "quiet", "-re", "-f", "lavfi", "-i",
                 "testsrc=size=96x80:rate=25", "-t", "3", "-c:v", "mpeg4", "-f", "rtsp",
                 "-rtsp_transport", "tcp", url], timeout=60, check=False)
            if publish.returncode == 0:
                break
            time.sleep(0.3)
        assert publish.returncode == 0
        out, err = detect.communicate(timeout=120)
    finally:
        detect.kill()
    assert detect.returncode == 0, err
    records = _records(out)
    assert len(records) + records[-1]["dropped"] == 75  # 3 s at 25 frames/s, all counted
    assert {(r["width"], r["height"]) for r in records} == {(96, 80)}
    port = url.split(":")[2].split("/")[0]
    video = tmp_path / "out" / f"127.0.0.1_{port}_live.mp4"
    assert _video(video)[0] == len(records) and _video(video)[2:] == (96, 80)


def test_track_puts_ids_in_json_and_mot(cli, small_detector, tmp_path):
    pytest.importorskip("trackers", reason="pip install 'enet4y2[trackers]'")
    clip = write_clip(tmp_path / "two.mp4", two_tracks(30))
    mot = tmp_path / "two.txt"
    result = cli.ok("detect", clip, *_model(small_detector), "--json", "--track", "--mot",
                    mot)
    records = _records(result.stdout)
    late = [d for r in records[5:] for d in r["detections"] if d["track_id"] is not None]
    assert len(late) >= 45 and {d["track_id"] for d in late} == {1, 2}  # stray boxes: None
    by_class = {d["class_id"]: set() for d in late}
    for d in late:
        by_class[d["class_id"]].add(d["track_id"])
    assert sorted(map(len, by_class.values())) == [1, 1]  # one id per class's object
    mot_ids = {int(line.split(",")[1]) for line in mot.read_text().splitlines()}
    assert mot_ids <= {-1, 1, 2} and {1, 2} <= mot_ids


def test_track_without_the_extra_names_it(cli, small_detector, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "trackers", None)  # as if not installed
    clip = write_clip(tmp_path / "c.mp4", [[o] for o in zigzag(3)])
    result = cli("detect", clip, *_model(small_detector), "--track")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: --track needs trackers, which is not "
                                     "installed — pip install 'enet4y2[trackers]'")
