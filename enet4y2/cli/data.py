"""`enet4y2 data import` and `enet4y2 data check`: the user's own dataset."""

from __future__ import annotations

from pathlib import Path

import click

from enet4y2.cli.options import input_option, json_option
from enet4y2.cli.terminal import terminal

FORMATS = ("coco", "voc", "labelme", "cvat", "yolo")  # enet4y2.dataset.sources.FORMATS
LINKS = ("symlink", "hardlink", "copy")  # enet4y2.dataset.importer.LINKS


@click.group("data")
def data() -> None:
    """Your own dataset: import annotations into darknet's layout, check a dataset.

    \b
    Examples:
      enet4y2 data import instances.json --format coco --images imgs --out mydata
      enet4y2 data check mydata
    """


@data.command("import")
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True,
              help="The source's annotation format.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              metavar="DIR", help="New folder for the darknet layout.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path),
              metavar="DIR", help="Folder the annotations' image paths are relative to.")
@input_option("--classes", kind="classes", help="Wanted class names, one a line, in "
              "darknet order (default: every source class, in the source's order).")
@click.option("--drop-unknown", is_flag=True,
              help="Drop boxes of classes not in --classes (default: an error).")
@input_option("--names", kind="names", help="yolo: the source's class names (default: "
              "obj.names, classes.txt or the one *.names in SRC).")
@click.option("--split", "split", default="val=0.1", show_default=True,
              help="Fraction of the images for valid.txt (val=0: valid.txt = train.txt).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split.")
@click.option("--link", type=click.Choice(LINKS), default="symlink", show_default=True,
              help="How images get into OUT/images.")
@click.option("--include-crowd", is_flag=True, help="coco: train on iscrowd boxes too.")
@click.option("--keep-difficult", is_flag=True, help="voc: train on difficult objects too.")
@click.option("--force", is_flag=True, help="Replace an earlier import in --out.")
@json_option(help="Print the summary as JSON on stdout.")
def import_command(src: Path, fmt: str, out: Path, images: Path | None, classes: str | None,
                   drop_unknown: bool, names: str | None, split: str, seed: int, link: str,
                   include_crowd: bool, keep_difficult: bool, force: bool,
                   as_json: bool) -> None:
    """Import SRC's annotations into darknet's layout in --out DIR.

    \b
    SRC per format:
      coco     an instances JSON; images relative to its folder or --images
      voc      a VOC folder (Annotations/, JPEGImages/) or a folder of XML files
      labelme  a folder of LabelMe JSON files (imagePath relative to each file)
      cvat     a CVAT "for images 1.1" annotations.xml (images/ beside it, or --images)
      yolo     a folder of images with darknet .txt labels beside them, and names

    \b
    Flags, the way each format means them:
      coco iscrowd=1    a region of many objects: left out of the labels (--include-crowd
                        keeps it), an ignored region (iscrowd) in valid_gt.json
      voc difficult=1   left out of the labels as upstream's voc_label.py does
                        (--keep-difficult keeps it), an ignored region in valid_gt.json
      voc/cvat occluded an ordinary object, counted in the summary
      voc coordinates   1-based: 1 is subtracted, as voc_label.py does
      labelme shapes    rectangle, polygon, circle -> their bounding box; points and
                        lines skipped (counted)
    Boxes are clipped to the image and boxes with no area left dropped (both counted);
    image sizes come from the image files when the annotations lack them. Classes are
    never remapped silently: --classes names must match exactly.

    \b
    Writes: OUT/images/ (images and their .txt labels), train.txt and valid.txt
    (absolute paths), obj.names, obj.data, valid_gt.json (for `eval --gt`), import.json,
    backup/. Built in a staging folder and renamed when complete.

    \b
    Examples:
      enet4y2 data import instances.json --format coco --images imgs --out mydata
      enet4y2 data import VOCdevkit/VOC2007 --format voc --out voc07 --split val=0.2
      enet4y2 data import export/annotations.xml --format cvat --out d --classes my.names
      enet4y2 data import labelme/ --format labelme --out d --link copy --seed 3
    """
    from enet4y2.data.annotations import parse_split
    from enet4y2.dataset.importer import ImportOptions, import_dataset

    opts = ImportOptions(fmt, src, out, images, Path(names) if names else None,
                         Path(classes) if classes else None, drop_unknown, include_crowd,
                         keep_difficult, parse_split(split), seed, link, force)
    with terminal.progress(transient=True) as progress:
        tasks: dict[str, object] = {}

        def tell(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total or None)
            progress.update(tasks[stage], completed=done)

        report = import_dataset(opts, tell)
    if as_json:
        terminal.json(report.as_dict())
        return
    _show_import(report)


def _show_import(report) -> None:
    from enet4y2.cli.terminal import PlainTable

    s = report.summary
    table = PlainTable("class", "name", "boxes")
    for i, name in enumerate(report.names):
        table.add_row(str(i), name, str(s.per_class.get(i, 0)))
    terminal.show(table)
    terminal.line(f"{s.images} images ({report.train} train, {report.valid} valid), "
                  f"{s.boxes_out} boxes of {s.boxes_in}; images {report.link}ed")
    for what, n in (("clipped to the image", s.clipped), ("degenerate, dropped", s.degenerate),
                    ("of classes not in --classes, dropped", s.unknown_class),
                    ("crowd, left out of the labels", s.crowd_left_out),
                    ("difficult, left out of the labels", s.difficult_left_out),
                    ("occluded, kept", s.occluded),
                    ("non-box shapes skipped", report.skipped_shapes)):
        if n:
            terminal.line(f"  {n} boxes {what}" if "shapes" not in what else f"  {n} {what}")
    if report.sizes_read:
        terminal.line(f"  {report.sizes_read} image sizes read from the files")
    if report.missing_images:
        terminal.warn(f"{len(report.missing_images)} annotated images not found, left out "
                      f"(first: {report.missing_images[0]})")
    terminal.line(f"data file: {report.out / 'obj.data'}")
    terminal.line(f"ground truth for eval --gt: {report.out / 'valid_gt.json'}")


from enet4y2.cli.data_check import check  # noqa: E402

data.add_command(check)
