"""`enet4y2 fetch-voc`: Pascal VOC 2007+2012 in darknet's layout, verified and resumable."""

from __future__ import annotations

from pathlib import Path

import click

from enet4y2.cli.options import dir_option, json_option
from enet4y2.cli.terminal import terminal


@click.command("fetch-voc")
@dir_option(".", "Directory that receives voc/ (and backup/).")
@click.option("--mirror", metavar="URL", envvar="ENET4Y2_VOC_MIRROR", show_envvar=True,
              help="One base URL holding the three tars (and optionally SHA256SUMS).")
@click.option("--jobs", type=click.IntRange(1, 16), default=3, show_default=True,
              help="Parallel downloads.")
@click.option("--dry-run", is_flag=True, help="List what would be fetched and the space needed.")
@click.option("--retries", type=click.IntRange(0, 50), default=5, show_default=True,
              help="Attempts per file after the first (with backoff).")
@json_option(help="Print the plan/result as JSON on stdout.")
def fetch_voc(directory: Path, mirror: str | None, jobs: int, dry_run: bool, retries: int,
              as_json: bool) -> None:
    """Fetch Pascal VOC 2007 trainval+test and 2012 trainval into DIR/voc for darknet.

    The layout of upstream's scripts/voc_label.py: labels in VOCdevkit/VOC<year>/labels
    (difficult objects left out), 2007_test.txt for validation, train.txt = 2007 and
    2012 train+val, voc.names, voc.data; plus 2007_test_gt.json (COCO ground truth of
    the test list, difficult objects as ignored regions) for `eval --gt`. The tars come
    from pjreddie.com (or --mirror), verified by the sizes and sha256 published in
    TensorFlow Datasets' checksums, resumed after a break, extracted safely.

    \b
    Examples:
      enet4y2 fetch-voc --dir work
      enet4y2 fetch-voc --dir work --dry-run
      enet4y2 fetch-voc --dir work --mirror http://mirror.lan/voc/
      enet4y2 cfg --voc -o enet4y2-voc.cfg
      enet4y2 train --data work/voc/voc.data --cfg enet4y2-voc.cfg ...
    """
    from enet4y2.cli.fetch_coco import _print_plan
    from enet4y2.cli.fetch_progress import ProgressObserver, ProgressSteps
    from enet4y2.fetch import voc

    if dry_run:
        report = voc.fetch_voc(directory, mirror=mirror, dry_run=True)
        _print_plan(report, as_json, report.voc_dir)
        return
    with terminal.progress(transfer=True) as progress:
        report = voc.fetch_voc(directory, mirror=mirror, jobs=jobs,
                               observer=ProgressObserver(progress),
                               steps=ProgressSteps(progress), retries=retries)
    if as_json:
        terminal.json(report.as_dict())
        return
    images = report.images or {}
    terminal.info(f"VOC ready in {report.voc_dir}: train.txt {images.get('train', 0)} images, "
                  f"2007_test.txt {images.get('2007_test', 0)} images")
    terminal.info(f"data file: {report.voc_dir / 'voc.data'}; ground truth for eval --gt: "
                  f"{report.voc_dir / '2007_test_gt.json'}")
