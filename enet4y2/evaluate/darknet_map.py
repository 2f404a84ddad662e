"""darknet's own mAP run (`darknet detector map`): the command, the run, and a pure
parser over what it prints (formats of upstream's `validate_detector_map`)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from enet4y2 import paths
from enet4y2.errors import DarknetError, MissingFileError, NotBuiltError
from enet4y2.proc import Child

_NUM = r"([-+]?(?:nan|inf|\d+(?:\.\d*)?))"
_CLASS = re.compile(
    rf"class_id = (\d+), name = (.*?), ap = {_NUM}%\s*\(TP = (\d+), FP = (\d+)\)")
_PRF = re.compile(rf"for conf_thresh = {_NUM}, precision = {_NUM}, recall = {_NUM}, "
                  rf"F1-score = {_NUM}")
_COUNTS = re.compile(rf"for conf_thresh = {_NUM}, TP = (\d+), FP = (\d+), FN = (\d+), "
                     rf"average IoU = {_NUM} %")
_IOU = re.compile(r"IoU threshold = (\d+) %, used (?:(\d+) Recall-points|Area-Under-Curve)")
_MAP = re.compile(rf"mean average precision \(mAP@{_NUM}\) = {_NUM}")
_DETS = re.compile(r"detections_count = (\d+), unique_truth_count = (\d+)")


def _float(text: str) -> float:
    return float(text.lstrip("-+")) if "nan" in text else float(text)


def parse_map_output(text: str) -> dict:
    """darknet `detector map` output -> dict. Fractions, not percents: `ap`, `map`,
    `average_iou` in 0..1. Keys: classes [{id, name, ap, tp, fp}], conf_thresh,
    precision, recall, f1, tp, fp, fn, average_iou, iou_thresh, points (0 = AUC),
    map, detections, unique_truths. Raises `DarknetError` when no mAP line is there."""
    text = text.replace("\r", "\n")
    found = _MAP.search(text)
    if found is None:
        tail = [line.strip() for line in text.splitlines() if line.strip()][-1:]
        raise DarknetError("darknet printed no mAP result (last line: "
                           f"{tail[0] if tail else 'none'!r}); check the data file and list")
    result: dict = {"classes": [], "iou_thresh": _float(found.group(1)),
                    "map": _float(found.group(2))}
    for m in _CLASS.finditer(text):
        result["classes"].append({"id": int(m.group(1)), "name": m.group(2),
                                  "ap": round(_float(m.group(3)) / 100.0, 6),
                                  "tp": int(m.group(4)), "fp": int(m.group(5))})
    if m := _PRF.search(text):
        result.update(conf_thresh=_float(m.group(1)), precision=_float(m.group(2)),
                      recall=_float(m.group(3)), f1=_float(m.group(4)))
    if m := _COUNTS.search(text):
        result.update(tp=int(m.group(2)), fp=int(m.group(3)), fn=int(m.group(4)),
                      average_iou=round(_float(m.group(5)) / 100.0, 6))
    if m := _IOU.search(text):
        result["points"] = int(m.group(2)) if m.group(2) else 0
    if m := _DETS.search(text):
        result.update(detections=int(m.group(1)), unique_truths=int(m.group(2)))
    return result


def map_command(data: str | os.PathLike, cfg: str | os.PathLike, weights: str | os.PathLike,
                *, iou_thresh: float = 0.5, points: int = 0, thresh: float = 0.25,
                executable: str | os.PathLike | None = None) -> list[str]:
    """The argument list of darknet's mAP run (`thresh` is the conf_thresh of its
    precision / recall / average IoU line; AP always uses darknet's 0.005)."""
    exe = executable or paths.darknet_executable()
    return [str(exe), "detector", "map", str(data), str(cfg), str(weights),
            "-iou_thresh", f"{iou_thresh:g}", "-points", str(int(points)),
            "-thresh", f"{thresh:g}", "-dont_show"]


def run_darknet_map(data: str | os.PathLike, cfg: str | os.PathLike,
                    weights: str | os.PathLike, *, iou_thresh: float = 0.5, points: int = 0,
                    thresh: float = 0.25, on_progress: Callable[[int], None] | None = None,
                    ) -> tuple[dict, str]:
    """Run `darknet detector map` and parse it; returns (result, full output text).
    `on_progress(images_done)` follows darknet's `\\r<count>` counter."""
    exe = paths.darknet_executable()
    if not exe.is_file():
        raise NotBuiltError(f"darknet executable not found at {exe}; run `make darknet` "
                            "or set ENET4Y2_DARKNET_DIR")
    for what, path in (("data file", data), ("cfg", cfg), ("weights", weights)):
        if not Path(path).is_file():
            raise MissingFileError(f"{what} {path} not found; check the path")
    command = map_command(data, cfg, weights, iou_thresh=iou_thresh, points=points,
                          thresh=thresh, executable=exe)
    # darknet resolves the data file's relative paths against its working directory:
    # run it where the user is, like `./darknet detector map` would be.
    chunks: list[bytes] = []
    try:
        with Child(command, die_with_parent=True) as child:
            for line in child.lines():
                chunks.append(line.encode() + b"\n")
                if on_progress and line.strip().isdigit():
                    on_progress(int(line.strip()))
            code = child.wait()
    except OSError as exc:
        raise DarknetError(f"cannot start {exe}: {exc.strerror} — rebuild it with "
                           "`make darknet`") from None
    text = b"".join(chunks).decode("utf-8", "replace")
    if code != 0:
        lines = [line.strip() for line in text.replace("\r", "\n").splitlines() if line.strip()]
        raise DarknetError(f"darknet detector map exited with status {code}: "
                           f"{lines[-1] if lines else 'no output'}")
    return parse_map_output(text), text
