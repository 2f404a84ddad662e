"""`enet4y2 cfg`: generate a detector cfg, `show` its layers, `check` it."""

from __future__ import annotations

import click

from enet4y2.cli.options import input_argument, input_option, json_option, names_option
from enet4y2.cli.terminal import PlainTable, labelled, terminal

_GENERATE = ("classes", "names", "tiny", "anchors", "anchors_from", "max_batches", "learning_rate",
             "burn_in", "output")


@click.group("cfg", invoke_without_command=True, no_args_is_help=True)
@click.option("--classes", type=click.IntRange(min=1), help="Number of classes (default 80).")
@names_option(help="A .names file; its line count sets --classes.")
@click.option("--width", type=click.IntRange(min=32), default=416, show_default=True)
@click.option("--height", type=click.IntRange(min=32), default=416, show_default=True)
@click.option("--heads", type=click.IntRange(2, 4), default=4, show_default=True,
              help="YOLO heads: 4 is enet4y2, 2 is enet-coco.")
@click.option("--tiny", is_flag=True,
              help="A small 2-head model (plain convolutions, yolov3-tiny's shape) that "
                   "learns in minutes on a CPU: for demos and tests, not B0-4Y.")
@click.option("--anchors", help="Anchors as w,h pairs: 10,14,23,27,...")
@input_option("--anchors-from", kind="data", metavar="DATAFILE",
              help="Compute anchors by k-means (IoU) over the .data file's train labels.")
@click.option("--num-anchors", type=click.IntRange(min=1), default=6, show_default=True,
              help="How many anchors --anchors-from computes.")
@click.option("--batch", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--subdivisions", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--max-batches", type=click.IntRange(min=1),
              help="Default: max(2000*classes, 6000); steps at 80% and 90%.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True),
              help="[net] learning_rate (default 0.001).")
@click.option("--burn-in", type=click.IntRange(min=0),
              help="[net] burn_in: iterations of learning-rate warm-up (default 1000).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="The .cfg to write.")
@json_option(help="Print a JSON summary on stdout.")
@click.pass_context
def cfg(ctx: click.Context, classes, names, width, height, heads, tiny, anchors, anchors_from,
        num_anchors, batch, subdivisions, max_batches, learning_rate, burn_in, output,
        as_json) -> None:
    """Write a B0-4Y detector cfg, or inspect one (`show`, `check`).

    \b
    Examples:
      enet4y2 cfg --classes 3 -o my.cfg              # enet4y2, 3 classes, 416x416
      enet4y2 cfg --names obj.names --width 608 --height 608 -o obj.cfg
      enet4y2 cfg --heads 2 -o enet.cfg              # the enet-coco layout
      enet4y2 cfg --classes 3 --anchors-from obj.data -o my.cfg
      enet4y2 cfg --tiny --classes 2 --width 96 --height 96 -o small.cfg
      enet4y2 cfg show cfg/enet4y2-coco.cfg
      enet4y2 cfg check my.cfg
    """
    given = {k: v for k, v in locals().items()
             if k in _GENERATE and v is not None and v is not False}
    if ctx.invoked_subcommand is not None:
        if given:
            terminal.abort(f"--{next(iter(given)).replace('_', '-')} is for generating a "
                           f"cfg — drop it before `{ctx.invoked_subcommand}`")
        return
    if output is None:
        terminal.abort("nothing to write — give -o OUT.cfg (or use `cfg show`/`cfg check`)")
    from enet4y2.modelfiles import generate

    if tiny and ctx.get_parameter_source("heads") is click.core.ParameterSource.DEFAULT:
        heads = 2
    with terminal.progress(transient=True) as bar:
        def progress(items, total):
            task = bar.add_task("reading labels", total=total)
            for item in items:
                yield item
                bar.advance(task)

        summary = generate(
            output=output, classes=classes, names=names, width=width, height=height,
            heads=heads, anchors=anchors, anchors_from=anchors_from,
            num_anchors=num_anchors, tiny=tiny, batch=batch, subdivisions=subdivisions,
            max_batches=max_batches, learning_rate=learning_rate, burn_in=burn_in,
            progress=progress,
            on_stage=lambda text: bar.add_task(text, total=None),
        )
    if as_json:
        terminal.json(summary)
        return
    if "mean_iou" in summary:
        terminal.info(f"anchors from {summary['boxes']} boxes: {summary['anchors']} "
                      f"(mean IoU {summary['mean_iou']:.2%})")
    terminal.line(f"wrote {summary['path']}: {summary['layers']} layers, {summary['heads']} "
                  f"heads, {summary['classes']} classes, {summary['width']}x"
                  f"{summary['height']}, {summary['bflops']:.3f} BFLOPs, max_batches "
                  f"{summary['max_batches']} (steps {summary['steps']})")


@cfg.command("show")
@input_argument("path", "cfg")
@json_option(help="Print the layers as JSON.")
def show(path: str, as_json: bool) -> None:
    """A table of the layers: type, output shape, BFLOPs, parameters; totals.

    \b
    Examples:
      enet4y2 cfg show cfg/enet4y2-coco.cfg
      enet4y2 cfg show my.cfg --json | jq .total_bflops
    """
    from enet4y2.modelfiles import model_summary

    summary = model_summary(path)
    if as_json:
        terminal.json(summary)
    else:
        terminal.show(_table(summary))


@cfg.command("check")
@input_argument("path", "cfg")
@json_option(help="Print problems as JSON.")
def check(path: str, as_json: bool) -> None:
    """Every problem darknet would crash on or silently get wrong, with its line and fix.
    Exits 1 when there are problems.

    \b
    Examples:
      enet4y2 cfg check my.cfg
      enet4y2 cfg check my.cfg --json
    """
    from enet4y2.modelfiles import check_file

    report = check_file(path)
    if as_json:
        terminal.json(report)
    else:
        for note in report["warnings"]:
            terminal.warn(note)
        for problem in report["problems"]:
            terminal.out.print(labelled("✗", "bold red", problem), soft_wrap=True)
        if report["ok"]:
            flops = "BFLOPs unknown" if report["bflops"] is None else (
                f"{report['bflops']:.3f} BFLOPs")
            terminal.out.print(labelled("ok", "green", f"{path}: {report['layers']} layers, "
                                        f"{flops}, {report['classes']} classes"),
                               soft_wrap=True)
        else:
            terminal.info(f"{len(report['problems'])} problem(s) in {path}")
    if not report["ok"]:
        raise click.exceptions.Exit(1)


_SHORT = {"convolutional": "conv", "scale_channels": "scale", "connected": "conn"}


def _table(summary: dict) -> PlainTable:
    from rich import box

    rows = [
        [str(m["index"]), _SHORT.get(m["type"], m["type"]), m["detail"],
         "x".join(map(str, m["input"])), "x".join(map(str, m["output"])),
         f"{m['bflops']:.3f}", f"{m['params']:,}"]
        for m in summary["layers"]
    ]
    total = ["", "total", "", "", "", f"{summary['total_bflops']:.3f}",
             f"{summary['param_count']:,}"]
    table = PlainTable(title=f"{summary['path']} — {summary['width']}x{summary['height']}"
                             f"x{summary['channels']}, {summary['classes']} classes",
                       title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                       pad_edge=False, collapse_padding=True, caption_justify="left",
                       caption=f"weights file: {summary['weights_bytes']:,} bytes")
    for col, name in enumerate(("layer", "type", "", "input", "output", "BFLOPs", "params")):
        widest = max(len(row[col]) for row in [*rows, total, [name] * 7])
        if name == "":  # the detail column gives way when the terminal is narrow
            table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=widest)
        else:
            table.add_column(name, justify="left" if name == "type" else "right",
                             no_wrap=True, min_width=widest)
    for row in rows:
        table.add_row(*row)
    table.add_section()
    table.add_row(*total)
    return table

