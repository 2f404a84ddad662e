"""Sources and the reader thread on real files and a real HTTP MJPEG stream (no model)."""

from __future__ import annotations

import time

import pytest

from enet4y2.errors import VideoError
from enet4y2.video.reader import Reader
from enet4y2.video.sources import classify, is_video_source, output_stem, parse_sources
from tests.video.clips import background, render, write_clip, zigzag
from tests.video.mjpeg import MjpegServer


def _frames(reader: Reader, delay: float = 0.0) -> list:
    out = []
    while (frame := reader.get(timeout=30)) is not None:
        out.append(frame)
        time.sleep(delay)
    return out


@pytest.mark.parametrize(("arg", "kind", "target"), [
    ("0", "camera", 0), ("/dev/video2", "camera", 2),
    ("rtsp://cam.local:554/live", "stream", "rtsp://cam.local:554/live"),
    ("http://127.0.0.1:8080/x.mjpg", "stream", "http://127.0.0.1:8080/x.mjpg"),
    ("udp://@:1234", "stream", "udp://@:1234"),
])
def test_cameras_and_streams_are_classified(arg, kind, target):
    source = classify(arg)
    assert (source.kind, source.target, source.live) == (kind, target, True)


def test_images_are_not_video_sources():
    assert not is_video_source("dog.jpg")
    assert not is_video_source("photos/x.png")
    assert is_video_source("clip.MP4")
    assert is_video_source("cams.streams")


def test_streams_file_lists_sources_and_refuses_nonsense(tmp_path):
    clip = write_clip(tmp_path / "a.mp4", [zigzag(3)[i:i + 1] for i in range(3)])
    listing = tmp_path / "cams.streams"
    listing.write_text(f"# my cameras\nrtsp://10.0.0.1/live#main\n\n{clip}\n/dev/video1\n")
    sources = parse_sources([str(listing)])
    assert [(s.kind, s.name) for s in sources] == [
        ("stream", "rtsp://10.0.0.1/live#main"), ("file", str(clip)), ("camera", "/dev/video1")]
    listing.write_text("rtsp://ok/1\nholiday.jpg\n")
    with pytest.raises(VideoError, match=r"cams.streams:2: 'holiday.jpg' is not a stream"):
        parse_sources([str(listing)])
    with pytest.raises(VideoError, match="named twice"):
        parse_sources(["rtsp://a/1", "rtsp://a/1"])
    with pytest.raises(VideoError, match="unsupported stream scheme ftp://"):
        classify("ftp://a/b.mp4")


def test_output_stems_are_file_names():
    assert output_stem(classify("rtsp://user@cam:554/live/main")) == "user_cam_554_live_main"
    assert output_stem(classify("/dev/video3")) == "camera3"


def test_a_file_is_read_whole_in_order_with_its_timestamps(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", [[o] for o in zigzag(25)], fps=12.5)
    reader = Reader(classify(str(clip)), queue_size=2).start()
    assert (reader.fps, reader.width, reader.height, reader.frame_count) == (12.5, 96, 80, 25)
    frames = _frames(reader, delay=0.005)  # a slow consumer: the bounded queue waits
    assert [f.index for f in frames] == list(range(25))
    assert [round(f.timestamp, 3) for f in frames] == [round(i / 12.5, 3) for i in range(25)]
    assert reader.error is None and reader.dropped == 0


def test_a_truncated_file_ends_with_the_frame_named(tmp_path):
    clip = write_clip(tmp_path / "t.avi", [[o] for o in zigzag(40)], fourcc="MJPG")
    data = clip.read_bytes()
    clip.write_bytes(data[:len(data) // 2])
    reader = Reader(classify(str(clip))).start()
    frames = _frames(reader)
    assert 5 < len(frames) < 40
    assert isinstance(reader.error, VideoError)
    assert f"frame {len(frames)} cannot be read" in str(reader.error)
    assert "40 frames" in str(reader.error)


def test_files_that_are_not_videos_fail_when_opened(tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoError, match=r"fake\.mp4: cannot be opened"):
        Reader(classify(str(fake)))
    with pytest.raises(VideoError, match="no such video file"):
        classify(str(tmp_path / "missing.mp4"))


def test_a_live_stream_keeps_the_newest_frame_and_counts_the_dropped():
    frames = [render(background(96, 80), [o]) for o in zigzag(30)]
    with MjpegServer([frames], fps=100) as server:
        reader = Reader(classify(server.url)).start()
        got = _frames(reader, delay=0.05)  # slower than the stream
    assert reader.read == server.served == 30
    assert reader.dropped > 0
    assert len(got) + reader.dropped == 30
    indices = [f.index for f in got]
    assert indices == sorted(set(indices)) and indices[-1] == 29  # newest wins, the last too


def test_a_dropped_stream_is_reopened_with_backoff_and_says_so():
    frames = [render(background(96, 80), [o]) for o in zigzag(20)]
    events: list[str] = []
    with MjpegServer([frames[:10], frames[10:]], fps=100) as server:
        reader = Reader(classify(server.url), reconnect=2, backoff=0.1,
                        on_event=events.append).start()
        got = _frames(reader)
    # two sessions, then two tries that find nothing (404)
    assert reader.read == 20 and server.connections == 4
    assert got[-1].index == 19
    assert any("stream dropped after frame 10; reconnecting in 0.1 s (1/2)" in e
               for e in events)
    assert any(e.endswith(": reconnected") for e in events)
    assert "reconnecting in 0.2 s (2/2)" in events[-2]
    assert "stream ended after 20 frames" in events[-1]


def test_without_reconnect_a_dropped_stream_ends():
    frames = [render(background(96, 80), [o]) for o in zigzag(20)]
    with MjpegServer([frames[:10], frames[10:]], fps=100) as server:
        reader = Reader(classify(server.url)).start()
        got = _frames(reader)
    assert reader.read == 10 and server.connections == 1 and got[-1].index == 9
