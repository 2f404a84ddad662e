"""`enet4y2 eval`: darknet's mAP run, COCO evaluation with pycocotools, the seed's table."""

from __future__ import annotations

import click

from enet4y2.cli.options import (
    MODEL_BACKENDS,
    cfg_option,
    check_input_file,
    check_model_choice,
    data_option,
    input_option,
    json_option,
    model_options,
    out_option,
    weights_option,
)
from enet4y2.cli.sharded import EXECUTOR_KEYS, executor_options

# Kept here (not imported) so `--help` does not load numpy; tests check they match
# enet4y2.evaluate.cocoeval.BACKENDS and enet4y2.evaluate.table.EVEN_WITHIN.
BACKENDS = ("pycocotools", "faster-coco-eval")
EVEN_WITHIN = 0.005
DEFAULT_CFG = "cfg/enet4y2-coco.cfg"
_OUTPUT_FILE = click.Path(dir_okay=False)


def _parse_compare(values: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise click.BadParameter(f"{value!r} is not NAME=STATS.json", param_hint="--compare")
        pairs.append((name, check_input_file(path, "stats", "--compare")))
    return pairs


@click.command("eval")
@weights_option(help="Detector weights to evaluate.")
@cfg_option(show_default=DEFAULT_CFG, help="Detector cfg (with --weights).")
@model_options(MODEL_BACKENDS + BACKENDS, backend_help=(
    "Inference engine for --pycoco: darknet (--cfg/--weights), onnxruntime or opencv (an "
    "exported --model; extra 'onnx'). Default: darknet, or onnxruntime with --model. "
    "(pycocotools/faster-coco-eval here mean --cocoeval, as before.)"))
@data_option()
@input_option("--list", "list_path", kind="list",
              help="Image list to evaluate (default: valid= of --data).")
@input_option("--gt", kind="ground truth",
              help="COCO instances JSON (default: built from the list's YOLO label files).")
@input_option("--results", kind="results",
              help="Score this COCO results file instead of running a model (needs --gt).")
@click.option("--pycoco", is_flag=True, help="COCO evaluation with pycocotools.")
@click.option("--darknet-map", is_flag=True,
              help="darknet's own mAP run (the default without --pycoco).")
@click.option("--thresh", type=float, default=0.005, show_default=True,
              help="Detection threshold for the COCO results.")
@click.option("--letterbox", is_flag=True,
              help="Letterbox images (also on when the cfg sets letter_box=1).")
@click.option("--batch", type=click.IntRange(1), default=1, show_default=True,
              help="Images per network call.")
@out_option("Save what this run makes here: coco_results.json, coco_stats.json, "
            "darknet_map.json. Without it (or the three below) nothing is written.")
@click.option("--json-out", type=_OUTPUT_FILE, help="Write the COCO results to this file.")
@click.option("--stats-out", type=_OUTPUT_FILE,
              help="Write the 12 COCO stats to this file (a --compare file).")
@click.option("--map-out", type=_OUTPUT_FILE, help="Write darknet's mAP result to this file.")
@click.option("--compare", multiple=True, metavar="NAME=STATS.json",
              help="A reference model's stats for the table (repeatable; first = criterion).")
@click.option("--name", help="This model's name in the table (default: the weights' stem).")
@click.option("--only-detected-images", is_flag=True,
              help="Score only images with detections (the seed's method; inflates AP).")
@click.option("--cocoeval", type=click.Choice(BACKENDS), default=None,
              help="COCOeval implementation: pycocotools (default) or faster-coco-eval "
                   "(extra 'fast').")
@click.option("--iou-thresh", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="darknet mAP: IoU threshold.")
@click.option("--points", type=click.IntRange(0), default=0, show_default=True,
              help="darknet mAP: recall points (101 COCO, 11 VOC2007, 0 area under curve).")
@click.option("--voc07", is_flag=True, help="Also VOC2007's metric: darknet's mAP@0.50 with "
              "11 recall points (--darknet-map --points 11); with --pycoco, COCO AP beside it.")
@click.option("--even-within", type=float, default=EVEN_WITHIN, show_default=True,
              help="Judgement: 'even' when values differ by less than this.")
@json_option(help="Print the results as JSON on stdout.")
@executor_options
def eval_command(**options) -> None:
    """Evaluate a detector: darknet's mAP, or COCO AP with pycocotools.

    \b
    Examples:
      enet4y2 eval --data coco.data --weights backup/enet4y2-coco_final.weights
      enet4y2 eval --data coco.data --weights W --pycoco --gt instances_val2014.json \\
          --compare enet-coco=enet-coco-stats.json --out results
      enet4y2 eval --data my.data --cfg my.cfg --weights W --pycoco --darknet-map
      enet4y2 eval --data voc/voc.data --cfg enet4y2-voc.cfg --weights W --voc07 \
          --pycoco --gt voc/2007_test_gt.json
      enet4y2 eval --results results/coco_results.json --gt instances_val2014.json \\
          --list 5k.txt --json
      enet4y2 eval --data coco.data --model enet4y2.onnx --pycoco --gt instances.json
      enet4y2 eval --data coco.data --weights W --pycoco --executor ray --workers 4 \\
          --out results      # shards in results/run; rerun the same to resume
    \b
    The default evaluation scores every image of the list; --only-detected-images
    reproduces the seed's script and inflates AP. Judgement: 'even' when the two values,
    rounded to 3 decimals, differ by less than --even-within (0.005 = half an AP point).
    Files are written only with --out DIR or --json-out/--stats-out/--map-out FILE; each
    one written is listed on stderr.
    """
    from enet4y2.cli.eval_render import run_and_render

    if options.pop("voc07"):
        options["darknet_map"], options["points"] = True, 11
    options["compare"] = _parse_compare(options["compare"])
    engine, cocoeval = options.pop("backend"), options.pop("cocoeval")
    if engine in BACKENDS:  # --backend once named the COCOeval implementation
        if cocoeval not in (None, engine):
            raise click.UsageError(f"--backend {engine} and --cocoeval {cocoeval} disagree")
        engine, cocoeval = None, engine
    options["backend"] = cocoeval or BACKENDS[0]
    if options["model"] is not None or engine not in (None, "darknet") or options["device"]:
        options["engine"] = check_model_choice(
            engine, cfg=options["cfg"], weights=options["weights"], model=options["model"],
            device=options["device"])
    if options["weights"] and not options["results"] and options["cfg"] is None:
        options["cfg"] = check_input_file(DEFAULT_CFG, "cfg", "--cfg")
    from enet4y2.cli import sharded

    run_options = {key: options.pop(key) for key in EXECUTOR_KEYS}
    if sharded.sharded(run_options):
        options["sharded"] = sharded.eval_inference(options, run_options)
    run_and_render(options)
