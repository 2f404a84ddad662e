"""`enet4y2 demo`."""

from __future__ import annotations

from pathlib import Path

import click

from enet4y2.cli.options import dir_option
from enet4y2.cli.terminal import terminal


@click.command(short_help="Run the end-to-end demo on generated data.")
@dir_option("demo", "Where the demo writes.")
@click.option("--iterations", type=click.IntRange(min=10), default=400, show_default=True,
              help="Training iterations (about 0.3 s each on 2 CPU cores).")
@click.pass_context
def demo(ctx: click.Context, directory: Path, iterations: int) -> None:
    """Generate a small dataset (coloured squares and discs), write a 64x64 two-head
    enet4y2 cfg with anchors from the data, train it briefly with real darknet, show the
    watch summary, evaluate with darknet's mAP and pycocotools, and detect on a few
    images. Every step is printed as the enet4y2 command it runs.

    \b
    Examples:
      make demo                         # builds darknet first
      enet4y2 demo --dir /tmp/demo --iterations 400
    """
    from enet4y2 import demo as demo_mod
    from enet4y2 import paths

    if not paths.darknet_built():
        terminal.abort("darknet is not built — run `make darknet` (or `make demo`)")
    plan = demo_mod.plan(directory, iterations)
    terminal.info(f"generated {plan.dataset.root} (2 classes, "
                  f"{len(plan.dataset.train_list.read_text().split())} training images)")
    root = ctx.find_root().command

    def invoke(argv: list[str]) -> None:
        # In-process, through the root command: a failing step raises (the root reports
        # it as usual) or returns its exit status, which ends the demo with it.
        status = root.main(argv, prog_name="enet4y2", standalone_mode=False)
        if isinstance(status, int) and status:
            raise click.exceptions.Exit(status)

    def announce(line: str) -> None:
        terminal.info("\n" + line, style="bold cyan")

    demo_mod.run(plan, invoke, announce)
    terminal.info(f"\ndemo done: chart {plan.root / 'chart.png'}, stats "
                  f"{plan.root / 'stats.json'}, detections {plan.root / 'detections'}")
    line, warning = demo_mod.verdict(demo_mod.ap50(plan))
    terminal.info(line)
    if warning:
        terminal.warn(warning)
