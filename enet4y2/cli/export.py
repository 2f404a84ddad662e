"""`enet4y2 export`."""

from __future__ import annotations

from pathlib import Path

import click

from enet4y2.cli.options import (
    cfg_option,
    input_argument,
    json_option,
    names_option,
    weights_option,
)
from enet4y2.cli.terminal import Table, terminal


@click.command(short_help="Export a darknet model to ONNX (and prove it equal).")
@input_argument("images", "image", nargs=-1)
@cfg_option(required=True, help="Network .cfg file.")
@weights_option(required=True, help="Trained .weights file.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .onnx file to write.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
              help="Fixed batch size of the model.")
@click.option("--dynamic-batch", is_flag=True, help="A symbolic batch dimension instead.")
@click.option("--fp16", is_flag=True, help="Compute in float16 (inputs/outputs stay float32).")
@click.option("--opset", type=int, default=None, help="ONNX opset (default 17).")
@click.option("--no-fuse-bn", "no_fuse_bn", is_flag=True,
              help="Keep BatchNormalization nodes instead of folding them into the convs.")
@click.option("--outputs", type=click.Choice(["raw", "boxes"]), default="raw",
              show_default=True, help="raw: each [yolo] layer's tensor; boxes: decoded "
              "boxes, objectness and class scores.")
@names_option(help="Class names, one a line, stored in the model.")
@click.option("--check", is_flag=True,
              help="Run libdarknet and the export on IMAGES and compare them.")
@click.option("--thresh", default=0.25, show_default=True,
              help="Detection threshold for --check.")
@json_option(help="Print the summary (and the check) as JSON.")
def export(images, cfg, weights, output, batch, dynamic_batch, fp16, opset, no_fuse_bn,
           outputs, names, check, thresh, as_json):
    """Export CFG + WEIGHTS to an ONNX model whose raw [yolo] outputs equal libdarknet's
    (within 1e-4 in float32), with the input size, anchors, masks, class names and
    hashes of its sources in its metadata. With --check, also run both on IMAGES.

    \b
    Examples:
      enet4y2 export --cfg cfg/enet4y2-coco.cfg --weights enet4y2-coco_final.weights \\
          --names data/coco.names -o enet4y2-coco.onnx
      enet4y2 export --cfg my.cfg --weights my.weights -o my.onnx --dynamic-batch \\
          --check imgs/*.jpg
    """
    from enet4y2.export.api import export_onnx

    if images and not check:
        raise click.UsageError("images are only read with --check")
    if check and not images:
        raise click.UsageError("--check needs one or more images to compare on")
    if dynamic_batch and batch != 1:
        raise click.UsageError("--batch and --dynamic-batch exclude each other")
    summary = export_onnx(cfg, weights, output, batch=None if dynamic_batch else batch,
                          fp16=fp16, opset=opset, fuse_bn=not no_fuse_bn, outputs=outputs,
                          names=names)
    for note in summary.cpu_differs:
        terminal.warn(f"{note}; the export follows darknet's GPU and training code, so "
                      "--check on a CPU build differs there")
    report = None
    if check:
        from enet4y2.export.check import check_export
        report = check_export(output, cfg, weights, images, thresh=thresh)
    if as_json:
        result = summary.to_dict()
        if report is not None:
            result["check"] = report.to_dict()
        terminal.json(result)
    else:
        _show(summary, report)
    if report is None or report.ok:
        return
    what = "detections" if not report.detections_ok else "raw tensors"
    message = f"the export's {what} differ from darknet's beyond the tolerance"
    if report.fp16:     # float16 is expected to move boxes near the threshold
        terminal.warn(f"{message} (float16; float32 exports are within it)")
    else:
        terminal.abort(f"{message} (see above)")


def _show(summary, report) -> None:
    meta = summary.meta
    terminal.info(f"wrote {summary.path} ({summary.bytes / 1e6:.1f} MB, {summary.nodes} nodes, "
                  f"{summary.parameters / 1e6:.2f} M parameters, opset {meta.opset}"
                  f"{', float16' if meta.fp16 else ''})")
    batch = "dynamic" if meta.batch is None else meta.batch
    terminal.line(f"input images: {batch} x {meta.channels} x {meta.height} x {meta.width}"
                  f"{' (letterbox)' if meta.letterbox else ''}")
    terminal.line(f"outputs ({meta.outputs}): {', '.join(meta.output_names)}")
    if report is None:
        return
    from enet4y2.export.check import RAW_TOLERANCE
    table = Table("raw output", "max |export - darknet|", "within 1e-4",
                  title=f"raw tensors ({report.raw_from})")
    for name, diff in report.heads.items():
        table.add_row(name, f"{diff:.3g}", "yes" if diff <= RAW_TOLERANCE else "no")
    terminal.show(table)
    table = Table("image", "darknet", "export", "unmatched", "worst box px", "worst conf",
                  title="detections (boxes within 1 px, confidence within 0.01)")
    for c in report.images:
        table.add_row(c.image, str(c.darknet), str(c.export), str(c.unmatched),
                      f"{c.worst_box_px:.3g}", f"{c.worst_confidence:.3g}")
    terminal.show(table)
    if report.fp16:
        worst = max(report.heads.values(), default=0.0)
        terminal.line(f"float16: raw tensors within {worst:.3g} of darknet's float32")
