"""The supervised darknet child: output appended to the log, parsed live (`LogParser`) for
NaN and complaints, signals forwarded, the outcome summarised in a `RunResult`."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2.errors import DarknetError
from enet4y2.log import Iteration, LogParser
from enet4y2.logstate import LogState

#: Output kept in memory for the failure report (the log keeps everything).
TAIL_BYTES = 64 * 1024
TAIL_LINES = 20
#: Seconds darknet gets to exit after SIGTERM before it is killed.
TERM_GRACE = 30.0
#: Seconds the reader waits for output before checking for signals again.
POLL = 0.25
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
    output as it comes. SIGINT/SIGTERM/SIGHUP sent to us are forwarded to darknet (it
    runs in its own session, so a terminal's Ctrl-C reaches it once, through us); a
    second one kills it.
    `on_nan`: "stop" terminates darknet at the first nan/inf avg loss, "warn" goes on.
    `on_events(state, events)` is called after each chunk of output."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    parser, state = LogParser(), LogState()
    result = RunResult(returncode=0, state=state)
    tail = bytearray()
    with open(log_path, "ab", buffering=0) as log:
        log.write(_separator(log_path) + header.encode())
        procs: list[subprocess.Popen] = []
        restore = _forward_signals(procs, result)
        try:
            procs.append(subprocess.Popen(
                list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True))
        except OSError as exc:
            restore()
            log.write(f"enet4y2: cannot start darknet: {exc}\n".encode())
            raise DarknetError(f"cannot start {command[0]}: {exc.strerror} — rebuild it "
                               "with `make darknet`") from None
        proc = procs[0]
        if result.interrupted:  # a signal came while darknet was starting
            proc.send_signal(result.interrupted)
        try:
            fd = proc.stdout.fileno()  # type: ignore[union-attr]
            while chunk := _read(fd):
                log.write(chunk)
                tail += chunk
                del tail[:-TAIL_BYTES]
                _handle(parser.feed(chunk), proc, result, on_nan, on_events)
            _handle(parser.flush(), proc, result, on_nan, on_events)
            result.returncode = _wait(proc)
        finally:
            restore()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()  # type: ignore[union-attr]
    result.tail = tail_lines(bytes(tail))
    return result


def _read(fd: int) -> bytes:
    """The next output; waits in short slices so a signal that the kernel delivered to
    another thread (numpy's BLAS threads, say) still runs our handler promptly: Python
    runs handlers in the main thread only, when it is not blocked in a system call."""
    while not select.select([fd], [], [], POLL)[0]:
        pass
    return os.read(fd, 65536)


def _separator(path: Path) -> bytes:
    """A newline when the log ends mid-line (a killed run), so the header starts a line."""
    with open(path, "rb") as fh:
        if fh.seek(0, os.SEEK_END) == 0:
            return b""
        fh.seek(-1, os.SEEK_END)
        return b"" if fh.read(1) in (b"\n", b"\r") else b"\n"


def _handle(events: list, proc: subprocess.Popen, result: RunResult, on_nan: str,
            on_events: Callable[[LogState, list], None] | None) -> None:
    if not events:
        return
    result.state.update(events)
    if result.nan is None:
        result.nan = first_divergence(events)
        if result.nan is not None and on_nan == "stop" and proc.poll() is None:
            result.stopped_on_nan = True
            proc.terminate()
    if on_events:
        on_events(result.state, events)


def _wait(proc: subprocess.Popen) -> int:
    try:
        return proc.wait(timeout=TERM_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _forward_signals(procs: list[subprocess.Popen], result: RunResult
                     ) -> Callable[[], None]:
    """Install handlers that pass SIGINT/SIGTERM/SIGHUP on to darknet (`procs[0]` once
    started; a signal before that is sent right after the start); returns undo.

    Installed before darknet starts, so darknet begins with these signals at their
    defaults. A signal the user's shell set to ignore (SIGHUP under nohup, SIGINT in a
    background job) stays ignored, for us and for darknet."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def forward(signum, _frame):
        if procs and procs[0].poll() is None:
            # A second signal means "now": darknet may be stuck writing or in CUDA.
            procs[0].send_signal(signal.SIGKILL if result.interrupted else signum)
        result.interrupted = result.interrupted or signum

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, forward)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
