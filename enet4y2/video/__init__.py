"""Detection on video: files, cameras and live streams (`sources`), a reader thread with
a bounded queue (`reader`), the frame-by-frame generator (`pipeline`), per-class
ByteTrack ids (`track`), and what is written per frame (`outputs`: annotated video,
JSON-lines records, MOTChallenge text).

The model is duck-typed: anything with `detect_batch(images, thresh=, nms=, letterbox=)
-> list[Detections]` (a darknet `Network`, or another runtime with the same interface).

May import: foundations, `enet4y2.detect` (drawing) and `enet4y2.darknet` (the
`Detections` type only).
"""

from enet4y2.video.pipeline import FrameResult, detect_video
from enet4y2.video.sources import Source, is_video_source, parse_sources

__all__ = ["FrameResult", "Source", "detect_video", "is_video_source", "parse_sources"]
