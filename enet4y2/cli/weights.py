"""`enet4y2 weights`: what a .weights file is (`info`), and cutting a backbone (`cut`)."""

from __future__ import annotations

import json

import click
from rich.markup import escape

from enet4y2.cli.terminal import terminal


@click.group("weights", no_args_is_help=True)
def weights() -> None:
    """Inspect darknet .weights files and cut backbones from them.

    \b
    Examples:
      enet4y2 weights info enet4y2-coco_final.weights --cfg cfg/enet4y2-coco.cfg
      enet4y2 weights cut enetb0_final.weights --cfg efficientnet_b0.cfg \\
          --for cfg/enet4y2-coco.cfg -o enetb0.conv.132
    """


@weights.command("info")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--cfg", "cfg_path", type=click.Path(dir_okay=False),
              help="Check the file against this cfg: full model, backbone, or mismatch.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
def info(path: str, cfg_path: str | None, as_json: bool) -> None:
    """Header (version, images seen, size) and, with --cfg, whether it fits.
    Exits 1 when the file does not fit the cfg.

    \b
    Examples:
      enet4y2 weights info backup/enet4y2-coco_last.weights
      enet4y2 weights info enetb0.conv.132 --cfg cfg/enet4y2-coco.cfg --json
    """
    from enet4y2.modelfiles import describe

    report = describe(path, cfg_path)
    if as_json:
        click.echo(json.dumps(report))
    else:
        terminal.out.print(escape(
            f"{path}: darknet {report['version']}, {report['seen']:,} images seen, "
            f"{report['size']:,} bytes"), soft_wrap=True)
        if "kind" in report:
            terminal.out.print(escape(report["verdict"]), soft_wrap=True)
    if report.get("kind") == "mismatch":
        raise click.exceptions.Exit(1)


@weights.command("cut")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--cfg", "cfg_path", required=True, type=click.Path(dir_okay=False),
              help="The cfg SRC was trained with (e.g. the classifier's).")
@click.option("--layers", type=click.IntRange(min=1),
              help="Keep layers 0..N-1 (darknet partial's N).")
@click.option("--for", "target", type=click.Path(dir_okay=False),
              help="Keep the layers --cfg shares with this detector cfg (instead of --layers).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Output file (default: SRC without .weights + .conv.N, beside SRC).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
def cut(src: str, cfg_path: str, layers: int | None, target: str | None,
        output: str | None, as_json: bool) -> None:
    """Keep the first N layers of SRC, byte-identical to `darknet partial`.

    \b
    Examples:
      enet4y2 weights cut enetb0_final.weights --cfg efficientnet_b0.cfg --layers 132
      enet4y2 weights cut enetb0_final.weights --cfg efficientnet_b0.cfg \\
          --for cfg/enet4y2-coco.cfg -o enetb0.conv.132
    """
    from enet4y2.modelfiles import cut_file

    report = cut_file(src, cfg_path, layers=layers, target=target, output=output)
    if as_json:
        click.echo(json.dumps(report))
        return
    terminal.out.print(escape(
        f"wrote {report['output']}: layers 0..{report['layers'] - 1} of {cfg_path}, "
        f"{report['size']:,} bytes"), soft_wrap=True)
    if target:
        terminal.out.print(escape(f"fits {target} as its backbone ({report['layers']} "
                                  "layers)"), soft_wrap=True)
