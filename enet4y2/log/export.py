"""Exports of a parsed log: the loss/mAP chart as PNG (drawn with OpenCV, like darknet's
chart.png but for any build) and the per-iteration CSV. Drawing and formatting are pure
(arrays/bytes out); `write_exports` writes them atomically."""

from __future__ import annotations

import math

import cv2
import numpy as np

from enet4y2.fileio import atomic_write, refuse_overwrite
from enet4y2.log.events import MapReport

CSV_COLUMNS = ("iteration", "loss", "avg", "rate", "seconds", "images", "hours_left", "map")

_WHITE, _GRID, _INK = (255, 255, 255), (225, 225, 225), (40, 40, 40)
_LOSS, _MAP = (200, 90, 20), (30, 30, 220)  # BGR: blue loss, red mAP (darknet's colors)


def csv_text(series: np.ndarray, maps: list[MapReport]) -> str:
    """One row per iteration of `series` (LogState columns); `map` (0..1) where a mAP@0.5
    was reported right after that iteration, else empty. nan stays `nan`."""
    at = {m.iteration: m.map50 for m in maps if m.iteration is not None}
    out = [",".join(CSV_COLUMNS)]
    for row in series.tolist():
        it = int(row[0])
        value = at.get(it)
        out.append(
            f"{it},{_num(row[1])},{_num(row[2])},{_num(row[3])},{_num(row[4])},"
            f"{int(row[5])},{_num(row[6])},{'' if value is None else _num(value)}"
        )
    return "\n".join(out) + "\n"


def _num(x: float) -> str:
    return repr(float(x)) if math.isfinite(x) else ("nan" if math.isnan(x) else str(x))


def chart_png(series: np.ndarray, maps: list[MapReport], size: tuple[int, int] = (1000, 600),
              title: str = "") -> bytes:
    """avg loss (blue, left axis) and mAP@0.5 (red, right axis, %) over iterations."""
    width, height = size
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 70, 60, 30, 45
    pw, ph = max(width - left - right, 1), max(height - top - bottom, 1)
    x, y = series[:, 0], series[:, 2]
    ok = np.isfinite(y)
    x_max = float(x.max()) if len(x) else 1.0
    x_max = max(x_max, 1.0)
    y_max = float(np.percentile(y[ok], 99.5)) * 1.1 if ok.any() else 1.0
    y_max = y_max if y_max > 0 else 1.0

    def px(xs: np.ndarray) -> np.ndarray:
        return left + np.clip(xs / x_max, 0, 1) * pw

    def py(ys: np.ndarray, top_value: float) -> np.ndarray:
        return top + ph - np.clip(ys / top_value, 0, 1) * ph

    for i in range(11):  # grid and tick labels
        gx, gy = int(left + i * pw / 10), int(top + i * ph / 10)
        cv2.line(img, (gx, top), (gx, top + ph), _GRID, 1)
        cv2.line(img, (left, gy), (left + pw, gy), _GRID, 1)
        _label(img, f"{x_max * i / 10:.0f}", (gx - 15, top + ph + 18))
        _label(img, f"{y_max * (10 - i) / 10:.3g}", (5, gy + 4), _LOSS)
        _label(img, f"{100 - 10 * i}%", (left + pw + 8, gy + 4), _MAP)
    cv2.rectangle(img, (left, top), (left + pw, top + ph), _INK, 1)
    if ok.sum() > 1:
        keep = np.flatnonzero(ok)
        if len(keep) > 4 * pw:  # no more points than pixels can show
            keep = keep[np.linspace(0, len(keep) - 1, 4 * pw).astype(np.int64)]
        pts = np.stack([px(x[keep]), py(y[keep], y_max)], axis=1).astype(np.int32)
        cv2.polylines(img, [pts], False, _LOSS, 1, cv2.LINE_AA)
    good = [m for m in maps if m.iteration is not None and math.isfinite(m.map50)]
    if good:
        mx = px(np.array([m.iteration for m in good], dtype=np.float64))
        my = py(np.array([m.map50 for m in good]), 1.0)
        pts = np.stack([mx, my], axis=1).astype(np.int32)
        if len(pts) > 1:
            cv2.polylines(img, [pts], False, _MAP, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, (int(p[0]), int(p[1])), 3, _MAP, -1)
        _label(img, f"{100 * good[-1].map50:.1f}%", (int(pts[-1][0]) - 40, int(pts[-1][1]) - 8),
               _MAP)
    _label(img, title or "avg loss (blue), mAP@0.5 (red)", (left, top - 10))
    _label(img, "iteration", (left + pw // 2 - 30, height - 8))
    ok_png, buf = cv2.imencode(".png", img)
    assert ok_png
    return buf.tobytes()


def _label(img: np.ndarray, text: str, at: tuple[int, int], color=_INK) -> None:
    cv2.putText(img, text, at, cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1, cv2.LINE_AA)


def write_exports(series: np.ndarray, maps: list[MapReport], *, plot: str | None = None,
                  csv: str | None = None, plot_size: tuple[int, int] = (1000, 600),
                  title: str = "", log: str | None = None) -> None:
    """The chart PNG and/or the CSV, each written atomically; neither may be the `log`
    they come from, nor each other."""
    if plot:
        refuse_overwrite(plot, [log, csv], "--plot")
    if csv:
        refuse_overwrite(csv, [log], "--csv")
    if plot:
        atomic_write(plot, chart_png(series, maps, plot_size, title=title))
    if csv:
        atomic_write(csv, csv_text(series, maps))
