"""What `enet4y2 train` shows: pre-flight progress and the bad-file table, the live watch
view while darknet runs (stderr), and the closing summary."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

from enet4y2.cli.terminal import PlainTable, labelled, terminal
from enet4y2.log.state import LogState
from enet4y2.train.session import Outcome, Reporter

#: Seconds between live-view redraws (darknet prints about one line per iteration).
REFRESH = 1.0
#: Seconds between plain progress lines when stderr is not a terminal.
PLAIN_EVERY = 30.0
BAD_ROWS = 20


class TerminalReporter(Reporter):
    def __init__(self, live: bool = True) -> None:
        self.live_wanted = live
        self._live = None
        self._last = 0.0
        self._log: Path | None = None
        self._max_batches: int | None = None
        self._bar = None
        self._state: LogState | None = None

    def info(self, message: str) -> None:
        terminal.info(message)

    def warn(self, message: str) -> None:
        if self._live is not None:
            self._live.console.print(labelled("warning:", "bold yellow", message),
                                     soft_wrap=True)
        else:
            terminal.warn(message)

    def progress(self, description: str, total: int):
        if total < 200:  # well under a second: no bar
            return lambda done, total: None
        bar = terminal.progress(transient=True)
        task = bar.add_task(description, total=total)
        bar.start()
        self._bar = bar

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return advance

    def bad_files(self, bad, written: Path) -> None:
        table = PlainTable(title=f"bad files ({len(bad)}; all in {written})",
                           title_justify="left")
        table.add_column("file", overflow="fold")
        table.add_column("problem", overflow="fold")
        for item in bad[:BAD_ROWS]:
            table.add_row(item.path, item.problem)
        if len(bad) > BAD_ROWS:
            table.add_row(f"... {len(bad) - BAD_ROWS} more", "")
        terminal.err.print(table)  # beside the messages, on stderr

    def started(self, command: list[str], log: Path, max_batches: int) -> None:
        import shlex

        self._log, self._max_batches = log, max_batches
        terminal.info(f"darknet: {shlex.join(command)}")
        terminal.info(f"log (appended): {log}")
        if self.live_wanted and terminal.err.is_terminal:
            from rich.live import Live

            self._live = Live(console=terminal.err, auto_refresh=False, transient=False)
            self._live.start()

    def update(self, state: LogState, events: list) -> None:
        if not self.live_wanted:
            return
        self._state = state
        now = time.monotonic()
        if self._live is not None and now - self._last >= REFRESH:
            self._live.update(self._frame(state), refresh=True)
            self._last = now
        elif self._live is None and state.last and now - self._last >= PLAIN_EVERY:
            it = state.last
            terminal.info(f"iteration {it.iteration}: avg loss {it.avg_loss:.4f}, "
                          f"rate {it.rate:g}, {it.seconds:.2f} s/iteration")
            self._last = now

    def _frame(self, state: LogState):
        from enet4y2.cli.watch_view import Header, ViewOptions, build_view

        options = ViewOptions(bars=40, column=12, max_batches=self._max_batches)
        return build_view(state, Header(str(self._log), time.time(), socket.gethostname()),
                          options)

    def finished(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self._live is not None:
            if self._state is not None:  # the last frame shows where darknet ended
                self._live.update(self._frame(self._state), refresh=True)
            self._live.stop()
            self._live = None

    def summary(self, outcome: Outcome) -> int:
        """Print how the run ended; returns the exit status."""
        from enet4y2.train.process import nan_message

        result, state = outcome.result, outcome.result.state
        last = state.last
        where = f" at iteration {last.iteration}" if last else ""
        if state.complaints:
            counts = ", ".join(f"{k} x{v}" for k, v in state.complaints.most_common())
            terminal.warn(f"darknet complained: {counts} (see {outcome.log})")
        newest = _newest_line(outcome)
        for broken in outcome.broken:
            terminal.err.print(f"[bold red]error:[/] darknet wrote {broken.path}, which is "
                               f"{broken.problem}; it is not offered as a result",
                               soft_wrap=True)
        if result.stopped_on_nan and result.nan is not None:
            terminal.error(f"{nan_message(result.nan)}; darknet stopped (--on-nan warn to "
                           "go on)")
            terminal.info(newest)
            return 1
        if result.interrupted and result.returncode in (0, -result.interrupted):
            name = signal.Signals(result.interrupted).name
            terminal.info(f"stopped by {name}{where}; {newest}")
            terminal.info(f"resume: {outcome.resume}")
            return result.exit_code
        if result.returncode != 0:
            if result.returncode < 0:
                cause = (f"darknet was killed by {signal.Signals(-result.returncode).name}"
                         f"{where}")
            else:
                cause = f"darknet exited with status {result.returncode}{where}"
            terminal.error(f"{cause} — last lines of {outcome.log} below; fix the cause, "
                           "then resume")
            for line in result.tail:
                terminal.info(f"  {line}")
            terminal.info(newest)
            terminal.info(f"resume: {outcome.resume}")
            return result.exit_code
        if result.nan is not None:
            terminal.warn(f"the avg loss went {result.nan.avg_loss} at iteration "
                          f"{result.nan.iteration} (--on-nan warn): these weights are "
                          "probably useless")
        avg = f", avg loss {last.avg_loss:.4f}" if last else ""
        if outcome.broken:
            terminal.info(newest)
            terminal.info(f"resume: {outcome.resume}")
            return 1
        terminal.info(f"training finished{where}{avg}; {newest}; log: {outcome.log}")
        return 0


def _newest_line(outcome: Outcome) -> str:
    """Which weights this run saved, the iteration they hold, what a resume redoes."""
    newest = outcome.newest
    if newest is None:
        return ("no weights saved in this run (darknet saves _last.weights every 100 "
                "iterations)")
    held = f" (iteration {newest.iteration})" if newest.iteration is not None else ""
    redone = outcome.redone
    lost = f"; {redone} iterations after it will be redone" if redone else ""
    return f"newest weights: {newest.path}{held}{lost}"
