"""The options commands share, each defined once: `--cfg --data --weights --names --json
--out --dir`, and `InputFile`, the one check for a file the user names.

A named input file that is missing, a folder, or not a regular file (a FIFO, /dev/zero)
stops the command before any work with one line and exit status 1, the same everywhere:

    error: --cfg x.cfg: no such cfg file
    error: photo.jpg: no such image file          (an argument has no option name)
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from enet4y2.errors import MissingFileError

F = TypeVar("F", bound=Callable[..., Any])


def check_input_file(value: str, kind: str, option: str | None = None) -> str:
    """`value` when it names a readable regular file; else `MissingFileError` with the
    one-line message. `kind` names what the file is (cfg, weights, image...)."""
    where = f"{option} {value}" if option else str(value)
    try:
        mode = os.stat(value).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise MissingFileError(f"{where}: no such {kind} file") from None
    except OSError as exc:
        raise MissingFileError(f"{where}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise MissingFileError(f"{where}: is a folder, not a {kind} file")
    if not stat.S_ISREG(mode):
        raise MissingFileError(f"{where}: not a regular file (a {kind} file is expected)")
    if not os.access(value, os.R_OK):
        raise MissingFileError(f"{where}: cannot be read (permission denied)")
    return value


class InputFile(click.ParamType):
    """A file the command reads: checked by `check_input_file` when the value is given
    (defaults too), passed on as the string the user typed."""

    name = "file"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        option = param.opts[0] if isinstance(param, click.Option) else None
        return check_input_file(os.fspath(value), self.kind, option)


class _Option(click.Option):
    """An option whose `hidden_aliases` work but are left out of `--help`."""

    def __init__(self, param_decls: Any, *, hidden_aliases: tuple[str, ...] = (),
                 **attrs: Any) -> None:
        super().__init__(param_decls, **attrs)
        self.hidden_aliases = hidden_aliases

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown = self.opts
        self.opts = [o for o in shown if o not in self.hidden_aliases]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


def input_argument(name: str, kind: str, **attrs: Any) -> Callable[[F], F]:
    """A positional input file (or several with `nargs=-1`)."""
    return click.argument(name, type=InputFile(kind), **attrs)


def input_option(*decls: str, kind: str, help: str, **attrs: Any) -> Callable[[F], F]:
    """An option naming an input file of `kind`."""
    attrs.setdefault("show_default", attrs.get("default") is not None)
    return click.option(*decls, type=InputFile(kind), help=help, **attrs)


def cfg_option(help: str = "Detector .cfg.", **attrs: Any) -> Callable[[F], F]:
    return input_option("--cfg", "cfg", kind="cfg", help=help, **attrs)


def data_option(help: str = "darknet .data file (valid=, names=, classes=).",
                **attrs: Any) -> Callable[[F], F]:
    return input_option("--data", "data", kind="data", help=help, **attrs)


def weights_option(help: str = "darknet .weights file.", **attrs: Any) -> Callable[[F], F]:
    return input_option("--weights", "weights", kind="weights", help=help, **attrs)


def names_option(help: str = "Class names, one a line.", **attrs: Any) -> Callable[[F], F]:
    return input_option("--names", "names", kind="names", help=help, **attrs)


def json_option(help: str = "Print the result as JSON on stdout.") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def out_option(help: str, *, hidden_aliases: tuple[str, ...] = ()) -> Callable[[F], F]:
    """`--out DIR`: the folder the command writes its results to."""
    return click.option("--out", *hidden_aliases, "out", cls=_Option,
                        hidden_aliases=hidden_aliases, metavar="DIR", help=help,
                        type=click.Path(file_okay=False, path_type=Path))


def dir_option(default: str, help: str, *,
               hidden_aliases: tuple[str, ...] = ()) -> Callable[[F], F]:
    """`--dir DIR`: the folder a command fills (datasets, weights, the demo)."""
    return click.option("--dir", *hidden_aliases, "directory", cls=_Option,
                        hidden_aliases=hidden_aliases, default=Path(default),
                        show_default=True, metavar="DIR",
                        type=click.Path(file_okay=False, path_type=Path), help=help)


# Kept here (not imported) so `--help` does not load numpy; tests check they match
# enet4y2.runtime.BACKENDS and enet4y2.runtime.DEVICES.
MODEL_BACKENDS = ("darknet", "onnxruntime", "opencv")
DEVICES = ("cpu", "cuda", "tensorrt")


def model_options(backend_choices: tuple[str, ...] = MODEL_BACKENDS,
                  backend_help: str = "") -> Callable[[F], F]:
    """`--model M.onnx --backend B --device D`: which engine runs the detector."""
    def decorate(f: F) -> F:
        f = click.option("--device", type=click.Choice(DEVICES), default=None,
                         help="onnxruntime: execution provider (cpu; cuda and tensorrt "
                              "with onnxruntime-gpu); opencv: cpu or cuda. "
                              "Default: cpu.")(f)
        f = click.option("--backend", "backend", type=click.Choice(backend_choices),
                         default=None, help=backend_help or (
                             "Inference engine: darknet (--cfg/--weights), onnxruntime or "
                             "opencv (an exported --model; extra 'onnx'). Default: darknet, "
                             "or onnxruntime with --model."))(f)
        return input_option("--model", kind="model",
                            help="An .onnx made by `enet4y2 export` (instead of "
                                 "--cfg/--weights).")(f)
    return decorate


def check_model_choice(backend: str | None, *, cfg, weights, model, device) -> str:
    """The engine to use; a combination that cannot work is a click usage error."""
    from enet4y2.errors import UsageError
    from enet4y2.runtime.models import check_choice, default_backend

    backend = backend or default_backend(model)
    try:
        check_choice(backend, cfg=cfg, weights=weights, model=model, device=device)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    return backend
