"""The one shared terminal: rich consoles for output (stdout) and for errors, warnings
and progress (stderr), so `--json` output on stdout stays machine-readable.

Nothing here parses rich markup in what it is given: messages carry paths and user text
(a file may be called `[red]x.cfg`), so text goes out as `Text` objects and tables turn
their string cells into `Text`. Style is added here, never written into a message."""

from __future__ import annotations

import json as jsonlib
import math
import os
from typing import Any, NoReturn

import click
from rich.console import Console, RenderableType
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
from rich.table import Table
from rich.text import Text


class Terminal:
    """Output on `out`, everything for a human only on `err`."""

    def __init__(self) -> None:
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    # stdout: what the command produces
    def write(self, text: str) -> None:
        """Plain text to stdout exactly as given (no markup, tabs kept): darknet-format
        lines and JSON lines that other tools parse."""
        file = self.out.file
        file.write(text if text.endswith("\n") else text + "\n")
        file.flush()  # a reader at the other end of a pipe sees each line as it comes

    def json(self, value: Any, *, indent: int | None = 2) -> None:
        """`value` as strict JSON on stdout: NaN and infinities become null (JSON has
        neither), paths become strings. `indent=None` writes one line (JSON lines)."""
        self.write(jsonlib.dumps(finite(value), indent=indent, allow_nan=False,
                                 default=_json_default))

    def line(self, text: str, style: str = "") -> None:
        """One line of text on stdout, shown literally."""
        self.out.print(Text(text, style=style), soft_wrap=True)

    def show(self, renderable: RenderableType) -> None:
        """A table or another rich renderable on stdout."""
        self.out.print(renderable)

    # stderr: what a human reads along the way
    def info(self, message: str, style: str = "") -> None:
        self.err.print(Text(message, style=style), soft_wrap=True)

    def warn(self, message: str) -> None:
        self.err.print(labelled("warning:", "bold yellow", message), soft_wrap=True)

    def error(self, message: str) -> None:
        """`error: message` on one line of stderr (the caller decides the exit)."""
        self.err.print(labelled("error:", "bold red", one_line(message)), soft_wrap=True)

    def abort(self, message: str, code: int = 1) -> NoReturn:
        """A user error: one line on stderr, exit `code`, no traceback."""
        self.error(message)
        raise click.exceptions.Exit(code)

    def progress(self, *, transfer: bool = False, transient: bool = False) -> Progress:
        """A progress display on stderr: items (N/M) or bytes (size, speed, ETA)."""
        columns = [TextColumn("{task.description}", markup=False), BarColumn(),
                   TaskProgressColumn()]
        if transfer:
            columns += [DownloadColumn(), TransferSpeedColumn()]
        else:
            columns += [MofNCompleteColumn()]
        columns.append(TimeRemainingColumn())
        return Progress(*columns, console=self.err, transient=transient)


class PlainTable(Table):
    """A rich `Table` that shows its string cells, title and caption literally: pass
    `Text` for a styled cell."""

    def __init__(self, *headers: str, title: str | Text | None = None,
                 caption: str | Text | None = None, **options: Any) -> None:
        super().__init__(*headers, title=plain(title), caption=plain(caption), **options)

    def add_row(self, *cells: RenderableType | None, **options: Any) -> None:
        super().add_row(*(plain(cell) for cell in cells), **options)


def plain(value):
    """`Text` for a str (no markup), anything else unchanged."""
    return Text(value) if isinstance(value, str) else value


def labelled(label: str, style: str, message: str) -> Text:
    """`label message` with only the label styled."""
    return Text.assemble((label, style), " ", message)


def one_line(message: object) -> str:
    return " ".join(str(message).split("\n")).strip()


def finite(value: Any) -> Any:
    """`value` with every non-finite float replaced by None, in nested dicts/lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item"):  # numpy scalars
        return finite(value.item())
    if hasattr(value, "tolist"):  # numpy arrays
        return finite(value.tolist())
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


terminal = Terminal()
