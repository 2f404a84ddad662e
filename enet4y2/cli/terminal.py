"""The one shared terminal: rich consoles for output (stdout) and for errors, warnings
and progress (stderr), so `--json` output on stdout stays machine-readable."""

from __future__ import annotations

from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class Terminal:
    """Output on `out`, everything for a human only on `err`."""

    def __init__(self) -> None:
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    def abort(self, message: str, code: int = 1) -> NoReturn:
        """A user error: one line on stderr, exit `code`, no traceback."""
        # escape: messages carry paths and hints like `pip install 'enet4y2[fast]'`
        self.err.print(f"[bold red]error:[/] {escape(_one_line(message))}", soft_wrap=True)
        raise click.exceptions.Exit(code)

    def write(self, text: str) -> None:
        """Plain text to stdout exactly as given (no markup, tabs kept): darknet-format
        lines and JSON lines that other tools parse."""
        self.out.file.write(text if text.endswith("\n") else text + "\n")

    def warn(self, message: str) -> None:
        self.err.print(f"[bold yellow]warning:[/] {escape(message)}", soft_wrap=True)

    def info(self, message: str) -> None:
        self.err.print(message, soft_wrap=True)

    def progress(self, *, transfer: bool = False, transient: bool = False) -> Progress:
        """A progress display on stderr: items (N/M) or bytes (size, speed, ETA)."""
        columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
        if transfer:
            columns += [DownloadColumn(), TransferSpeedColumn()]
        else:
            columns += [MofNCompleteColumn()]
        columns.append(TimeRemainingColumn())
        return Progress(*columns, console=self.err, transient=transient)


def _one_line(message: str) -> str:
    return " ".join(str(message).split("\n")).strip()


terminal = Terminal()
