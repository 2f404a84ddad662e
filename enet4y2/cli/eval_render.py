"""Rendering for `enet4y2 eval`: progress, darknet's mAP table, the COCO summary and the
seed's comparison table. Only terminal code here; the work is in `enet4y2.evaluate.run`."""

from __future__ import annotations

import contextlib

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from enet4y2 import fdio
from enet4y2.cli.terminal import PlainTable, terminal
from enet4y2.evaluate.table import format_stat

SAVE_HINT = ("not saved: add --out DIR to write coco_results.json, coco_stats.json and "
             "darknet_map.json (or --json-out/--stats-out/--map-out FILE)")
_JUDGEMENT_STYLE = {"win": "green", "lose": "red"}


class _RateColumn(ProgressColumn):
    """images/s of a task."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.1f} img/s")


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:.2f}"


def darknet_map_table(result: dict) -> PlainTable:
    table = PlainTable(title="darknet detector map", title_justify="left")
    for title in ("class", "name", "AP %", "TP", "FP"):
        table.add_column(title, justify="left" if title == "name" else "right")
    for cls in result["classes"]:
        table.add_row(str(cls["id"]), cls["name"], _pct(cls["ap"]), str(cls["tp"]),
                      str(cls["fp"]))
    return table


def darknet_map_summary(result: dict) -> list[str]:
    points = result.get("points")
    method = "area under curve" if not points else f"{points} recall points"
    lines = []
    if "precision" in result:
        lines.append(f"conf_thresh {result['conf_thresh']:.2f}: precision "
                     f"{_fmt(result['precision'])}, recall {_fmt(result['recall'])}, "
                     f"F1 {_fmt(result['f1'])}")
    if "tp" in result:
        lines.append(f"TP {result['tp']}, FP {result['fp']}, FN {result['fn']}, "
                     f"average IoU {_pct(result['average_iou'])} %")
    lines.append(f"mAP@{result['iou_thresh']:.2f} = {result['map']:.4f} ({method})")
    return lines


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def comparison_rich(table: dict) -> PlainTable:
    out = PlainTable(title="COCO bbox", title_justify="left", caption=(
        f"even: the values differ by less than {table['even_within']:g} at 3 decimals"))
    out.add_column("model")
    for column in table["columns"]:
        out.add_column(column, justify="right")
    out.add_column("judgement", justify="right")
    for row in table["rows"]:
        out.add_row(row["model"], *(format_stat(v) for v in row["values"]), row["role"])
    for judgement in table["judgements"]:
        styled = [Text(r, style=_JUDGEMENT_STYLE.get(r, "")) for r in judgement["results"]]
        out.add_row(f"vs {judgement['against']}", *styled, "result")
    return out


def run_and_render(options: dict) -> None:
    """Run the evaluation with a progress display, then print the report."""
    from enet4y2.evaluate.cocoeval import summary_lines
    from enet4y2.evaluate.run import run_eval

    as_json = options.pop("as_json")
    columns = [TextColumn("{task.description}", markup=False), BarColumn(),
               MofNCompleteColumn(), _RateColumn(), TimeRemainingColumn()]
    progress = Progress(*columns, console=terminal.err, transient=True)
    tasks: dict[str, int] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        if not terminal.err.is_terminal:  # a log file gets no bar redraws
            return
        if not tasks:
            progress.start()  # only when there is something long to show
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    try:
        # darknet's C code prints on fd 1, which would corrupt --json on stdout
        with fdio.redirected((1,), 2) if as_json else contextlib.nullcontext():
            report = run_eval(**options, progress=on_progress)
    finally:
        if tasks:
            progress.stop()

    for warning in report["warnings"]:
        terminal.warn(warning)
    if as_json:
        terminal.json({key: report[key]
                       for key in ("darknet_map", "pycoco", "table", "written")})
    else:
        _render(report, summary_lines)
    for path in report["written"]:
        terminal.info(f"wrote {path}")
    if not report["written"] and not as_json:
        terminal.info(SAVE_HINT)


def _render(report: dict, summary_lines) -> None:
    if report["darknet_map"] is not None:
        terminal.show(darknet_map_table(report["darknet_map"]))
        for line in darknet_map_summary(report["darknet_map"]):
            terminal.line(line)
    if report["pycoco"] is not None:
        coco = report["pycoco"]
        scope = "images with detections" if coco["only_detected_images"] else "images"
        terminal.line(f"\nCOCOeval bbox ({coco['backend']}) over {coco['images']} {scope}, "
                      f"{coco['detections']} detections")
        for line in summary_lines(coco["stats"]):
            terminal.line(line)
        terminal.show(comparison_rich(report["table"]))
        if report["darknet_map"] is not None:
            dm = report["darknet_map"]
            terminal.line(f"darknet mAP@{dm['iou_thresh']:.2f} = {dm['map']:.3f}   "
                          f"pycocotools AP50 = {coco['stats']['AP50']:.3f}")
