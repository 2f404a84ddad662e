"""`enet4y2 fetch-coco`: COCO 2014 in darknet's layout, verified and resumable."""

from __future__ import annotations

from pathlib import Path

import click

from enet4y2.cli.options import dir_option, json_option
from enet4y2.cli.terminal import terminal


@click.command("fetch-coco")
@dir_option(".", "Directory that receives coco/ (and backup/).", hidden_aliases=("--root",))
@click.option("--mirror", metavar="URL", envvar="ENET4Y2_COCO_MIRROR", show_envvar=True,
              help="One base URL holding every file (and optionally SHA256SUMS).")
@click.option("--jobs", type=click.IntRange(1, 16), default=4, show_default=True,
              help="Parallel downloads.")
@click.option("--labels-from-json", is_flag=True,
              help="Make labels from the instances JSON instead of labels.tgz.")
@click.option("--dry-run", is_flag=True, help="List what would be fetched and the space needed.")
@click.option("--retries", type=click.IntRange(0, 50), default=5, show_default=True,
              help="Attempts per file after the first (with backoff).")
@json_option(help="Print the plan/result as JSON on stdout.")
def fetch_coco(directory: Path, mirror: str | None, jobs: int, labels_from_json: bool,
               dry_run: bool, retries: int, as_json: bool) -> None:
    """Fetch COCO 2014 into DIR/coco the way darknet expects it.

    Images from images.cocodataset.org, lists/labels/instances from pjreddie.com (or
    everything from --mirror), verified by size and sha256 where known (the computed
    sha256 of the rest goes to coco/downloads/manifest.json), resumed after a break,
    extracted safely. Ends with coco/coco.data ready for `darknet detector train`.
    Crowd boxes are left out of labels made from the JSON.

    \b
    Examples:
      enet4y2 fetch-coco --dir work
      enet4y2 fetch-coco --dir work --dry-run
      enet4y2 fetch-coco --dir work --mirror http://mirror.lan/coco2014/ --jobs 8
      enet4y2 fetch-coco --dir work --labels-from-json
    """
    from enet4y2.cli.fetch_progress import ProgressObserver, ProgressSteps
    from enet4y2.fetch import coco

    if dry_run:
        report = coco.fetch_coco(directory, mirror=mirror, labels_from_json=labels_from_json,
                                 dry_run=True)
        _print_plan(report, as_json)
        return
    with terminal.progress(transfer=True) as progress:
        report = coco.fetch_coco(
            directory, mirror=mirror, jobs=jobs, labels_from_json=labels_from_json,
            observer=ProgressObserver(progress), steps=ProgressSteps(progress),
            warn=terminal.warn, retries=retries)
    if as_json:
        terminal.json(report.as_dict())
        return
    terminal.info(f"COCO 2014 ready in {report.coco_dir} (labels from {report.labels_source})")
    terminal.info(f"data file: {report.coco_dir / 'coco.data'}")


def _print_plan(report, as_json: bool, folder: Path | None = None) -> None:
    from enet4y2.cli.terminal import PlainTable
    from enet4y2.fetch.space import human_bytes

    if as_json:
        terminal.json(report.as_dict())
        return
    table = PlainTable("file", "state", "to download", "extract space", "url")
    for item in report.items:
        todo = "?" if item.to_download is None else human_bytes(item.to_download)
        table.add_row(item.file.name, item.state, todo, human_bytes(item.extract_space),
                      item.file.url)
    terminal.show(table)
    verdict = "enough" if report.free_bytes >= report.needed_bytes else "NOT enough"
    terminal.line(f"needs {human_bytes(report.needed_bytes)} in {folder or report.coco_dir}; "
                  f"{human_bytes(report.free_bytes)} free ({verdict})")
