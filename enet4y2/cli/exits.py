"""How `enet4y2` ends on a failure: every kind of exception becomes one line on stderr
and an exit status, so no user ever sees a traceback they did not ask for.

    Enet4y2Error            error: <message>                                    1
    click usage error       error: <message> (see 'enet4y2 <cmd> --help')        2
    Ctrl-C                  interrupted                                         130
    stdout pipe closed      (nothing)                                           141
    anything else (a bug)   error: <Type>: <message> — run with ENET4Y2_DEBUG=1  1
                            for the traceback

With ENET4Y2_DEBUG=1 in the environment a bug prints its traceback with locals instead.
"""

from __future__ import annotations

import io
import os
import sys

import click

from enet4y2.cli.terminal import one_line, terminal
from enet4y2.errors import Enet4y2Error

USAGE = 2
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C
BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports `yes | head -1`
DEBUG_VARIABLE = "ENET4Y2_DEBUG"


class BrokenPipe(click.exceptions.Exit):
    """stdout's reader went away (`enet4y2 watch x --json | head -1`): stop quietly."""

    def __init__(self) -> None:
        silence_stdout()
        super().__init__(BROKEN_PIPE)


def exit_status(exc: BaseException) -> int:
    """Report `exc` on stderr (one line, or the traceback under ENET4Y2_DEBUG=1) and
    return the exit status for it."""
    try:
        return _report(exc)
    except BrokenPipeError:  # stderr is gone too: nothing left to tell
        return 1


# click >= 8.2 raises this for a group given no arguments (`enet4y2 cfg`): show the help
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _report(exc: BaseException) -> int:
    if isinstance(exc, _NO_ARGS_IS_HELP):
        exc.show()
        return exc.exit_code
    if isinstance(exc, click.UsageError):
        where = exc.ctx.command_path if exc.ctx is not None else "enet4y2"
        message = exc.format_message().removesuffix(".")
        terminal.error(f"{message} (see '{where} --help')")
        return USAGE
    if isinstance(exc, (click.Abort, KeyboardInterrupt)):
        terminal.info("interrupted")
        return INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        silence_stdout()
        return BROKEN_PIPE
    if isinstance(exc, click.ClickException):
        terminal.error(exc.format_message())
        return exc.exit_code
    if isinstance(exc, Enet4y2Error):
        terminal.error(str(exc))
        return 1
    if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
        from rich.traceback import Traceback

        terminal.err.print(Traceback.from_exception(type(exc), exc, exc.__traceback__,
                                                    show_locals=True))
        return 1
    what = f"{type(exc).__name__}: {one_line(exc)}" if str(exc) else type(exc).__name__
    terminal.error(f"{what} — run with {DEBUG_VARIABLE}=1 for the traceback")
    return 1


def flush_stdout() -> int:
    """Flush stdout now, while a closed pipe can still end quietly; the exit status."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        return BROKEN_PIPE
    return 0


def silence_stdout() -> None:
    """Point stdout's file descriptor at /dev/null, so the interpreter's last flush of
    what is still buffered cannot fail again on the closed pipe."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return  # not a real file (CliRunner's capture): nothing will be flushed to a pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
