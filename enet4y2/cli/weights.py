"""`enet4y2 weights`: what a .weights file is (`info`), and cutting a backbone (`cut`)."""

from __future__ import annotations

import click

from enet4y2.cli.options import cfg_option, input_argument, input_option, json_option
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
@input_argument("path", "weights")
@cfg_option(help="Check the file against this cfg: full model, backbone, or mismatch.")
@json_option(help="Print JSON on stdout.")
def info(path: str, cfg: str | None, as_json: bool) -> None:
    """Header (version, images seen, size) and, with --cfg, whether it fits.
    Exits 1 when the file does not fit the cfg.

    \b
    Examples:
      enet4y2 weights info backup/enet4y2-coco_last.weights
      enet4y2 weights info enetb0.conv.132 --cfg cfg/enet4y2-coco.cfg --json
    """
    from enet4y2.modelfiles import describe

    report = describe(path, cfg)
    if as_json:
        terminal.json(report)
    else:
        terminal.line(f"{path}: darknet {report['version']}, {report['seen']:,} images seen, "
                      f"{report['size']:,} bytes")
        if "kind" in report:
            terminal.line(report["verdict"])
    if report.get("kind") == "mismatch":
        raise click.exceptions.Exit(1)


@weights.command("cut")
@input_argument("src", "weights")
@cfg_option(required=True, help="The cfg SRC was trained with (e.g. the classifier's).")
@click.option("--layers", type=click.IntRange(min=1),
              help="Keep layers 0..N-1 (darknet partial's N).")
@input_option("--for", "target", kind="cfg",
              help="Keep the layers --cfg shares with this detector cfg (instead of --layers).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Output file (default: SRC without .weights + .conv.N, beside SRC).")
@json_option(help="Print JSON on stdout.")
def cut(src: str, cfg: str, layers: int | None, target: str | None,
        output: str | None, as_json: bool) -> None:
    """Keep the first N layers of SRC, byte-identical to `darknet partial`.

    \b
    Examples:
      enet4y2 weights cut enetb0_final.weights --cfg efficientnet_b0.cfg --layers 132
      enet4y2 weights cut enetb0_final.weights --cfg efficientnet_b0.cfg \\
          --for cfg/enet4y2-coco.cfg -o enetb0.conv.132
    """
    from enet4y2.modelfiles import cut_file

    report = cut_file(src, cfg, layers=layers, target=target, output=output)
    if as_json:
        terminal.json(report)
        return
    terminal.line(f"wrote {report['output']}: layers 0..{report['layers'] - 1} of {cfg}, "
                  f"{report['size']:,} bytes")
    if target:
        terminal.line(f"fits {target} as its backbone ({report['layers']} layers)")
