"""`enet4y2 data check`: the report on a dataset (registered on the `data` group)."""

from __future__ import annotations

from pathlib import Path

import click

from enet4y2.cli.options import cfg_option, json_option
from enet4y2.cli.terminal import terminal


@click.command("check")
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@cfg_option(help="Detector cfg whose input size, heads and anchors the boxes are checked "
            "against (default: B0-4Y at 416x416 with its COCO anchors).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="PNG",
              help="Write the class histogram and box-size scatter here "
                   "(default: check.png beside the .data file).")
@click.option("--no-plot", is_flag=True, help="Write no picture.")
@click.option("--no-hash", is_flag=True, help="Skip the duplicate search (reads every image).")
@json_option(help="Print the report as JSON on stdout.")
def check(data: Path, cfg: str | None, plot: Path | None, no_plot: bool, no_hash: bool,
          as_json: bool) -> None:
    """Report on DATA (a .data file, or a folder holding obj.data).

    Lists what darknet would trip over: listed images that are missing, images without
    a label file, label files without an image, duplicate images (same bytes; also across
    train and valid), label lines out of range or of unknown classes. Then the boxes
    against the network: box sizes at the cfg's input size, which YOLO head learns each
    box (darknet gives a box to the anchor of best IoU; every head whose mask holds it
    learns it; B0-4Y's strides are 32, 16, 8, 4), boxes no anchor fits (IoU < 0.3), and
    the mean IoU of boxes with their best anchor, compared with k-means anchors: when
    the anchors fit poorly it suggests `enet4y2 cfg --anchors-from`.

    \b
    Examples:
      enet4y2 data check mydata                 # a folder made by `data import`
      enet4y2 data check obj.data --cfg my.cfg --json
    """
    from enet4y2.dataset.check import check_dataset
    from enet4y2.dataset.plot import check_png
    from enet4y2.fileio import atomic_write

    with terminal.progress(transient=True) as progress:
        task = progress.add_task("checking images and labels", total=None)
        report = check_dataset(data, Path(cfg) if cfg else None, hash_images=not no_hash,
                               progress=lambda d, t: progress.update(task, completed=d, total=t))
    picture = None
    if not no_plot:
        import numpy as np

        picture = plot or report.data.parent / "check.png"
        counts = np.bincount(report.classes_of_boxes, minlength=len(report.names)).tolist()
        atomic_write(picture, check_png(report.names, counts, report.wh,
                                        np.asarray(report.anchors), report.width,
                                        report.height))
    result = report.as_dict()
    result["plot"] = str(picture) if picture else None
    if as_json:
        terminal.json(result)
        return
    _show(result)


def _show(r: dict) -> None:
    from enet4y2.cli.terminal import PlainTable

    terminal.line(f"{r['data']}: " + ", ".join(f"{n} {s}" for s, n in r["images"].items())
                  + f" images, {r['boxes']} boxes")
    issues = [("listed images missing", r["missing_images"]),
              ("images without a label file", r["images_without_labels"]),
              ("label files without an image", r["labels_without_images"]),
              ("groups of duplicate images", r["duplicate_groups"]),
              ("duplicate groups across train and valid", r["duplicates_across_splits"]),
              *((f"label lines with a {k} problem", n) for k, n in r["label_problems"].items())]
    for what, n in issues:
        if n:
            terminal.warn(f"{n} {what}")
    for kind, examples in r["examples"].items():
        for example in examples[:3]:
            terminal.info(f"  {kind}: {example}")
    if r["empty_labels"]:
        terminal.line(f"{r['empty_labels']} images with no boxes (negatives)")
    table = PlainTable("class", *r["class_counts"].keys())
    for name in r["names"]:
        table.add_row(name, *(str(c.get(name, 0)) for c in r["class_counts"].values()))
    terminal.show(table)
    terminal.line("box sizes (longer side, px at {}x{}): ".format(*r["input"]) +
                  ", ".join(f"{k} {v}" for k, v in r["box_sizes"].items()))
    fit = r["anchor_fit"]
    if fit:
        terminal.line("boxes each head learns (stride: boxes): " + ", ".join(
            f"{k}: {v}" for k, v in fit["boxes_per_head"].items()))
        terminal.line(f"{fit['poor_fit']} boxes fit no anchor well (IoU < "
                      f"{fit['poor_fit_below']}); {fit['below_finest_stride']} smaller than "
                      "the finest stride")
        kmeans = "" if fit["kmeans_mean_iou"] is None else \
            f" (k-means anchors: {fit['kmeans_mean_iou']:.3f})"
        terminal.line(f"mean IoU with the anchors: {fit['mean_iou']:.3f}{kmeans}")
        if fit["suggest_anchors_from"]:
            terminal.line(f"anchors fit poorly: enet4y2 cfg --classes {len(r['names'])} "
                          f"--anchors-from {r['data']} -o my.cfg", style="bold")
    if r["plot"]:
        terminal.line(f"picture: {r['plot']}")
