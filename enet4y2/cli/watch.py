"""`enet4y2 watch LOG`: live view of a darknet training log."""

from __future__ import annotations

import click

from enet4y2.cli.options import cfg_option, input_argument, json_option
from enet4y2.cli.terminal import terminal


@click.command("watch")
@input_argument("log", "log")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between refreshes of the live view.")
@click.option("--once", is_flag=True,
              help="Print one frame and exit. Without it, off a terminal (a pipe, a file) a "
                   "plain frame is printed each time the log changes, until Ctrl-C.")
@click.option("--bars", default=80, show_default=True, type=click.IntRange(min=1),
              help="Bar width of the avgout table.")
@click.option("--column", default=20, show_default=True, type=click.IntRange(min=1),
              help="Rows of the avgout table (evenly spaced over the run).")
@click.option("--stop-iter", type=click.IntRange(min=0), default=None,
              help="Show iterations up to N only.")
@cfg_option(help="The training .cfg, for max_batches (else darknet's status line).")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write avg loss and mAP@0.5 over iterations as a PNG (each refresh).")
@click.option("--plot-size", default="1000x600", show_default=True, help="PNG size WxH.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Write iteration,loss,avg,rate,seconds,images,hours_left,map as CSV.")
@json_option(help="Print the parsed state as JSON, exit.")
def watch(log, interval, once, bars, column, stop_iter, cfg, plot, plot_size, csv_path,
          as_json):
    """Watch darknet training: avgout's loss bars, mAP, speed, ETA; PNG chart and CSV.

    \b
    Examples:
      enet4y2 watch backup/train.log                   # live view, Ctrl-C to leave
      enet4y2 watch train.log --once                   # one frame
      watch -n 5 enet4y2 watch train.log --once        # the seed's habit
      enet4y2 watch train.log --cfg cfg/enet4y2-coco.cfg --plot chart.png --csv loss.csv
      enet4y2 watch train.log --json | jq .last
    """
    from pathlib import Path

    from enet4y2.cfg.model import c_atoi, net_option
    from enet4y2.cli.watch_view import ViewOptions, Watcher, frame_width, parse_size

    size = parse_size(plot_size)
    if size is None:
        terminal.abort(f"--plot-size {plot_size!r} is not WxH (64..8192 each): use e.g. 1000x600")
    value = net_option(Path(cfg).read_text(errors="replace"), "max_batches") if cfg else None
    max_batches = c_atoi(value) or None if value is not None else None
    if cfg and max_batches is None:
        terminal.warn(f"{cfg} has no max_batches in [net]; estimating it from the log")
    plain = not terminal.out.is_terminal
    options = ViewOptions(bars, column, stop_iter, max_batches, ascii=plain)
    watcher = Watcher(log, options)
    with terminal.err.status("reading log", spinner="dots"):
        watcher.refresh()
        watcher.export(plot, csv_path, size)
    if as_json:
        terminal.json(watcher.state.to_dict())
        return
    if plain:  # off a terminal nothing wraps lines for us: the width the frame needs
        terminal.out.width = max(terminal.out.width, frame_width(options))
    terminal_frame = not plain and not once
    if not terminal_frame:
        terminal.show(watcher.frame())
        if once:
            return
        _plain(watcher, interval, plot, csv_path, size)  # a pipe or a file: frame by frame
        return
    _live(watcher, interval, plot, csv_path, size)


def _plain(watcher, interval, plot, csv_path, size) -> None:
    """Off a terminal: a new plain frame each time the log changed, until Ctrl-C."""
    import time

    while True:
        time.sleep(interval)
        if watcher.refresh():
            watcher.export(plot, csv_path, size)
            terminal.show(watcher.frame())
            terminal.out.file.flush()


def _live(watcher, interval, plot, csv_path, size) -> None:
    import time

    from rich.live import Live

    try:
        with Live(watcher.frame(), console=terminal.out, auto_refresh=False,
                  screen=False) as live:
            while True:
                time.sleep(interval)
                if watcher.refresh():
                    watcher.export(plot, csv_path, size)
                live.update(watcher.frame(), refresh=True)
    except KeyboardInterrupt:
        pass
