"""`enet4y2 fetch-weights`: the published B0-4Y weights, verified by git blob SHA-1."""

from __future__ import annotations

from pathlib import Path

import click

from enet4y2.cli.options import dir_option, json_option
from enet4y2.cli.terminal import terminal


@click.command("fetch-weights")
@click.argument("names", nargs=-1,
                metavar="[enet4y2-coco|enet-coco|backbone|enet4y2-voc|all]...")
@dir_option("weights", "Where the files go.")
@click.option("--mirror", metavar="URL", envvar="ENET4Y2_WEIGHTS_MIRROR", show_envvar=True,
              help="A base URL holding the same file names.")
@click.option("--retries", type=click.IntRange(0, 50), default=5, show_default=True,
              help="Attempts per file after the first (with backoff).")
@json_option(help="Print the files fetched as JSON.")
def fetch_weights(names: tuple[str, ...], directory: Path, mirror: str | None, retries: int,
                  as_json: bool) -> None:
    """Fetch the published weights (all of them when no NAME is given).

    \b
    enet4y2-coco  enet4y2-coco_final.weights  the B0-4Y detector (COCO)
    enet-coco     enetb0-coco_final.weights   upstream enet-coco, the criterion
    backbone      enetb0_final.weights        EfficientNet-B0 ImageNet classifier
    enet4y2-voc   enet4y2-voc_best.weights    the B0-4Y detector (Pascal VOC, cfg --voc)

    Each file is checked against its git blob SHA-1; a broken download resumes.

    \b
    Examples:
      enet4y2 fetch-weights
      enet4y2 fetch-weights enet4y2-coco --dir backup4y2
      enet4y2 fetch-weights backbone --mirror http://mirror.lan/weights/
    """
    from enet4y2.cli.fetch_progress import ProgressObserver
    from enet4y2.fetch import weights as wc

    wc.resolve_names(names)  # unknown names fail before any progress display
    with terminal.progress(transfer=True) as progress:
        results = wc.fetch_weights(names, directory, mirror=mirror,
                                   observer=ProgressObserver(progress), retries=retries)
    cut = None
    backbone = next((r for r in results if r.name == wc.CATALOGUE["backbone"].file), None)
    if backbone is not None:
        cut = wc.cut_backbone_to_shared_layers(backbone.path)
    if as_json:
        files = [{"name": r.name, "path": str(r.path), "size": r.size, "sha256": r.sha256,
                  "status": r.status} for r in results]
        terminal.json({"files": files, "backbone_cut": str(cut) if cut else None})
        return
    for r in results:
        terminal.info(f"{r.path} ({r.status}, {r.size} bytes, verified)")
