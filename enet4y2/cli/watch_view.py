"""The watch view of a parsed darknet log (`LogState`) for `enet4y2 watch` and the live
view of `enet4y2 train`: the avgout table beside a stats panel, as rich renderables."""

from __future__ import annotations

import math
import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timezone

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from enet4y2.cli.terminal import PlainTable
from enet4y2.log.avgout import AvgoutTable, bar_text, state_series, state_table
from enet4y2.log.export import write_exports
from enet4y2.log.follower import LogFollower
from enet4y2.log.state import LogState


@dataclass(frozen=True)
class ViewOptions:
    bars: int = 80
    column: int = 20
    stop_iter: int | None = None
    max_batches: int | None = None  # from --cfg; else the log's status line or an estimate
    ascii: bool = False  # plain text: ASCII boxes, for non-terminals


@dataclass(frozen=True)
class Header:
    path: str
    mtime: float | None  # the log's last write time (epoch seconds)
    host: str


def frame_width(options: ViewOptions) -> int:
    """Columns a frame needs to show full bars beside the stats panel."""
    return options.bars + 30 + 48


def build_view(state: LogState, header: Header, options: ViewOptions) -> Group:
    """One frame: header line, then the avgout table beside the stats panel."""
    table = state_table(state, options.column, options.bars, options.stop_iter)
    layout = Table.grid(padding=(0, 2))
    layout.add_row(_avgout_renderable(table, options), _stats_renderable(state, options))
    return Group(_header_text(header), layout)


def _header_text(header: Header) -> Text:
    when = "never written"
    if header.mtime is not None:
        stamp = datetime.fromtimestamp(header.mtime, tz=timezone.utc)
        when = stamp.strftime("%Y-%m-%d %H:%M:%S UTC")
    text = Text()
    text.append(header.path, style="bold")
    text.append(f"  last write {when}  on {header.host}")
    return text


def _avgout_renderable(table: AvgoutTable, options: ViewOptions) -> Table:
    t = PlainTable(box=box.ASCII if options.ascii else box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("iteration", justify="right", no_wrap=True, min_width=9)
    t.add_column("avg loss", justify="right", no_wrap=True, min_width=10)
    t.add_column("bar", no_wrap=True, overflow="crop", min_width=min(options.bars + 1, 10))
    for row in table.rows:
        loss = Text(f"{row.loss:.6f}", style="" if math.isfinite(row.loss) else "bold red")
        t.add_row(str(row.iteration), loss, bar_text(row, options.bars))
    if table.minimum is not None:
        m = table.minimum
        t.add_section()
        t.add_row(f"MIN {m.iteration}", f"{m.loss:.6f}", bar_text(m, options.bars, ">"),
                  style="green")
    if not table.rows:
        t.add_row("-", "-", "no iterations yet")
    return t


def _stats_renderable(state: LogState, options: ViewOptions) -> Table:
    t = PlainTable(box=box.ASCII if options.ascii else box.ROUNDED, show_header=False)
    t.add_column("what", style="bold", no_wrap=True)
    t.add_column("value", no_wrap=True)
    last = state.last
    target = options.max_batches or state.max_batches
    estimated = target is None
    if estimated:
        target = state.estimated_max_batches()
    if last is None:
        t.add_row("iteration", "-")
        return t
    of = f" / {'~' if estimated else ''}{target}" if target else ""
    pct = f"  ({100 * last.iteration / target:.1f} %)" if target else ""
    t.add_row("iteration", f"{last.iteration}{of}{pct}")
    ips = state.iterations_per_second()
    t.add_row("speed", f"{ips:.3f} it/s" if ips else "-")
    t.add_row("ETA", _hours(state.eta_hours(target if not estimated else None)))
    t.add_row("learning rate", f"{last.rate:g}")
    t.add_row("images seen", f"{last.images:,}")
    t.add_row("loss / avg", _loss_text(last.loss, last.avg_loss))
    low = state.min_avg
    t.add_row("min avg loss", f"{low.avg_loss:.6f} @ {low.iteration}" if low else "-")
    maps = state.maps
    t.add_row("last mAP@0.5", _map_text(maps[-1] if maps else None))
    t.add_row("best mAP@0.5", _map_text(state.best_map))
    if len(state.segments) > 1:
        t.add_row("resumed", f"{len(state.segments) - 1} time(s)")
    if state.nan_count:
        t.add_row(Text("NaN", style="bold red"),
                  Text(f"{state.nan_count} iterations diverged", style="bold red"))
    for kind, count in sorted(state.complaints.items()):
        t.add_row(Text(kind, style="yellow"), str(count))
    return t


def _loss_text(loss: float, avg: float) -> Text:
    bad = not math.isfinite(avg)  # darknet's avg turns nan/inf with the loss
    text = f"{loss:.4f} / {avg:.4f}"
    return Text(text + ("  DIVERGED" if bad else ""), style="bold red" if bad else "")


def _map_text(report) -> str:
    if report is None:
        return "-"
    at = f" @ {report.iteration}" if report.iteration is not None else ""
    return f"{100 * report.map50:.2f} %{at}"


def _hours(hours: float | None) -> str:
    if hours is None or not math.isfinite(hours) or hours < 0:
        return "-"
    minutes = round(hours * 60)
    days, minutes = divmod(minutes, 24 * 60)
    h, m = divmod(minutes, 60)
    return f"{days}d {h}h {m:02d}m" if days else f"{h}h {m:02d}m"


_SIZE = re.compile(r"^(\d+)x(\d+)$")


def parse_size(text: str) -> tuple[int, int] | None:
    """`1000x600` -> (1000, 600); None when malformed or out of 64..8192."""
    m = _SIZE.match(text.strip().lower())
    if not m:
        return None
    w, h = int(m.group(1)), int(m.group(2))
    return (w, h) if 64 <= w <= 8192 and 64 <= h <= 8192 else None


class Watcher:
    """A followed log plus view options: `refresh()` reads what was appended, `frame()`
    builds the view, `export()` writes the chart/CSV."""

    def __init__(self, path: str, options: ViewOptions, host: str | None = None) -> None:
        self.follower = LogFollower(path)
        self.options = options
        self.host = host or socket.gethostname()

    @property
    def state(self) -> LogState:
        return self.follower.state

    def refresh(self) -> bool:
        """Read appended bytes; True when the log changed."""
        before = (self.follower.offset, self.follower.restarts)
        self.follower.refresh()
        return (self.follower.offset, self.follower.restarts) != before

    def frame(self) -> Group:
        try:
            mtime = os.stat(self.follower.path).st_mtime
        except OSError:
            mtime = None
        return build_view(self.state, Header(str(self.follower.path), mtime, self.host),
                          self.options)

    def export(self, plot: str | None = None, csv: str | None = None,
               plot_size: tuple[int, int] = (1000, 600)) -> None:
        write_exports(state_series(self.state, self.options.stop_iter), self.state.maps,
                      plot=plot, csv=csv, plot_size=plot_size,
                      title=self.follower.path.name, log=str(self.follower.path))
