"""Evaluation: detections -> COCO results, COCOeval (pycocotools / faster-coco-eval),
darknet's own mAP run, and the seed's comparison table.

Pure logic lives in `results`, `yolo_gt`, `table`, `darknet_map.parse_map_output`;
`inference` runs the binding over an image list; `run` is the pipeline the CLI calls.
May import: foundations, `enet4y2.data`, `enet4y2.cfg`, the binding (`enet4y2.darknet`)
and `enet4y2.runtime` (a model on any backend).
"""

from __future__ import annotations

from enet4y2.evaluate.cocoeval import (
    BACKENDS,
    STAT_NAMES,
    evaluate,
    load_stats,
    save_stats,
    stats_from_json,
    summary_lines,
)
from enet4y2.evaluate.darknet_map import map_command, parse_map_output
from enet4y2.evaluate.results import (
    category_map,
    check_results,
    clip_boxes,
    detections_to_results,
    image_id_from_name,
    image_ids_for,
)
from enet4y2.evaluate.table import EVEN_WITHIN, comparison_table, judge, table_markdown
from enet4y2.evaluate.yolo_gt import coco_gt_from_yolo, load_yolo_gt

__all__ = [
    "BACKENDS",
    "EVEN_WITHIN",
    "STAT_NAMES",

    "category_map",
    "check_results",
    "clip_boxes",
    "coco_gt_from_yolo",
    "comparison_table",
    "detections_to_results",
    "evaluate",
    "image_id_from_name",
    "image_ids_for",
    "judge",
    "load_stats",
    "load_yolo_gt",
    "map_command",
    "parse_map_output",
    "save_stats",
    "stats_from_json",
    "summary_lines",
    "table_markdown",
]
