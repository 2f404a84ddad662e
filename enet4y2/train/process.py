"""The supervised darknet child: output appended to the log, parsed live (`LogParser`) for
NaN and complaints, signals forwarded, the outcome summarised in a `RunResult`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2.errors import DarknetError
from enet4y2.log.events import Iteration
from enet4y2.log.parser import LogParser
from enet4y2.log.state import LogState
from enet4y2.proc import Child

TAIL_LINES = 20
#: Seconds darknet gets to exit after SIGTERM before it is killed.
TERM_GRACE = 30.0
NAN_CAUSES = ("learning_rate too high", "burn_in too short for this batch size",
              "bad labels (boxes with w or h of 0, coordinates outside (0, 1])")
_ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]?|[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass
class RunResult:
    returncode: int  # darknet's; negative: killed by that signal
    interrupted: int | None = None  # the signal we forwarded (Ctrl-C = SIGINT), if any
    nan: Iteration | None = None  # the first iteration whose avg loss was nan/inf
    stopped_on_nan: bool = False
    tail: list[str] = field(default_factory=list)
    state: LogState = field(default_factory=LogState)

    @property
    def exit_code(self) -> int:
        """The exit status to give back: darknet's, 128+N when killed by signal N."""
        if self.returncode < 0:
            return 128 - self.returncode
        return self.returncode

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.stopped_on_nan


def nan_message(it: Iteration) -> str:
    """One line naming the iteration and the usual causes."""
    return (f"avg loss is {it.avg_loss} at iteration {it.iteration}: training diverged — "
            f"usual causes: {'; '.join(NAN_CAUSES)}")


def first_divergence(events: list) -> Iteration | None:
    """The first iteration whose avg loss is nan or inf (pure)."""
    return next((e for e in events if isinstance(e, Iteration) and e.diverged), None)


def tail_lines(data: bytes, count: int = TAIL_LINES) -> list[str]:
    """The last `count` non-empty lines of darknet output, escape sequences removed."""
    lines = [_ESCAPES.sub(b"", line).decode(errors="replace").rstrip()
             for line in re.split(rb"[\r\n]", data)]
    return [line for line in lines if line.strip()][-count:]


def run_darknet(command: Sequence[str], log_path: Path, header: str, *,
                cwd: str | Path | None = None, on_nan: str = "stop",
                on_events: Callable[[LogState, list], None] | None = None) -> RunResult:
    """Run darknet with stdout+stderr appended to `log_path` after `header`; parse the
    output as it comes. SIGINT/SIGTERM/SIGHUP sent to us are forwarded to darknet (a
    second one kills it); darknet dies with us, even when we are killed with SIGKILL.
    `on_nan`: "stop" terminates darknet at the first nan/inf avg loss, "warn" goes on.
    `on_events(state, events)` is called after each chunk of output."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    parser, state = LogParser(), LogState()
    result = RunResult(returncode=0, state=state)
    with open(log_path, "ab", buffering=0) as log:
        log.write(_separator(log_path) + header.encode())
        child = Child(command, cwd=cwd, forward_signals=True, die_with_parent=True)
        try:
            child.start()
        except OSError as exc:
            log.write(f"enet4y2: cannot start darknet: {exc}\n".encode())
            raise DarknetError(f"cannot start {command[0]}: {exc.strerror} — rebuild it "
                               "with `make darknet`") from None
        with child:
            for chunk in child.chunks():
                log.write(chunk)
                _handle(parser.feed(chunk), child, result, on_nan, on_events)
            _handle(parser.flush(), child, result, on_nan, on_events)
            result.returncode = child.wait(timeout=TERM_GRACE)
            result.interrupted = child.interrupted
    result.tail = tail_lines(bytes(child.tail))
    return result


def _separator(path: Path) -> bytes:
    """A newline when the log ends mid-line (a killed run), so the header starts a line."""
    with open(path, "rb") as fh:
        if fh.seek(0, os.SEEK_END) == 0:
            return b""
        fh.seek(-1, os.SEEK_END)
        return b"" if fh.read(1) in (b"\n", b"\r") else b"\n"


def _handle(events: list, child: Child, result: RunResult, on_nan: str,
            on_events: Callable[[LogState, list], None] | None) -> None:
    if not events:
        return
    result.state.update(events)
    if result.nan is None:
        result.nan = first_divergence(events)
        if result.nan is not None and on_nan == "stop" and child.running():
            result.stopped_on_nan = True
            child.terminate()
    if on_events:
        on_events(result.state, events)
