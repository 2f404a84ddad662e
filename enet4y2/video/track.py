"""Track ids from the `trackers` package's ByteTrack (an optional extra), one tracker per
class so that a box never takes the id of an object of another class. Ids are unique
over all classes of a source; -1 marks a box whose track is not confirmed yet."""

from __future__ import annotations

import numpy as np

from enet4y2.darknet import Detections
from enet4y2.errors import MissingDependencyError


def _bytetrack():
    try:
        import supervision as sv
        from trackers import ByteTrackTracker
    except ImportError:
        raise MissingDependencyError("trackers", "trackers", "--track") from None
    return sv, ByteTrackTracker


class ClassTracker:
    """Per-class ByteTrack over one source's frames, in order."""

    def __init__(self, frame_rate: float = 30.0, *, activation: float = 0.5,
                 lost_frames: int = 30) -> None:
        self._sv, self._cls = _bytetrack()
        self.frame_rate = frame_rate if frame_rate > 0 else 30.0
        self.activation = activation
        self.lost_frames = lost_frames
        self._trackers: dict[int, object] = {}
        self._ids: dict[tuple[int, int], int] = {}

    def _tracker(self, class_id: int):
        if class_id not in self._trackers:
            self._trackers[class_id] = self._cls(
                lost_track_buffer=self.lost_frames, frame_rate=self.frame_rate,
                track_activation_threshold=self.activation,
                high_conf_det_threshold=self.activation, minimum_consecutive_frames=1)
        return self._trackers[class_id]

    def update(self, dets: Detections) -> np.ndarray:
        """The track id of each detection (aligned with `dets`), -1 where none yet.
        Every class's tracker steps once per frame, also when it sees nothing."""
        ids = np.full(len(dets), -1, np.int64)
        classes = set(self._trackers) | set(dets.classes.tolist())
        for class_id in sorted(classes):
            rows = np.flatnonzero(dets.classes == class_id)
            boxes = dets.boxes[rows].astype(np.float64)
            xyxy = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1) \
                if len(rows) else np.empty((0, 4))
            found = self._tracker(class_id).update(self._sv.Detections(
                xyxy=xyxy.reshape(-1, 4), confidence=dets.scores[rows].astype(np.float32),
                class_id=np.full(len(rows), class_id, int), data={"row": rows}))
            if len(found) == 0:
                continue
            for row, local in zip(found.data["row"].tolist(), found.tracker_id.tolist(),
                                  strict=True):
                if local >= 0:
                    key = (class_id, int(local))
                    ids[row] = self._ids.setdefault(key, len(self._ids) + 1)
        return ids
