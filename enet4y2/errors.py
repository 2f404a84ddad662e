"""The exception tree. Every error a user can act on derives from `Enet4y2Error` and is
raised as one of the subclasses below (never the base itself); the CLI prints it as one
line and exits non-zero. Each class also subclasses the built-in that fits, so callers can
catch `FileNotFoundError` or `ValueError` as usual."""

from __future__ import annotations


class Enet4y2Error(Exception):
    """An error with a cause the user can fix; its message is one line."""


class UsageError(Enet4y2Error, ValueError):
    """An option value or a combination of options that cannot work (e.g. `--gpus 0,x`)."""


class NotBuiltError(Enet4y2Error, ImportError):
    """libdarknet or the cffi extension is missing: run `make darknet`."""


class NoDriverError(NotBuiltError):
    """darknet is built for CUDA but this machine has no NVIDIA driver: the build is fine,
    it runs only where a driver is present."""


class MissingDependencyError(Enet4y2Error, ImportError):
    """An optional Python package is not installed; the message names the extra."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(f"{purpose} needs {package}, which is not installed — "
                         f"pip install 'enet4y2[{extra}]'")
        self.package, self.extra = package, extra


class MissingFileError(Enet4y2Error, FileNotFoundError):
    """A file the user named does not exist, is not a regular file, or cannot be read."""


class OutputError(Enet4y2Error, OSError):
    """An output cannot be written (read-only, full disk, not a folder, or the same file
    as an input)."""


class CfgError(Enet4y2Error, ValueError):
    """A darknet .cfg that does not parse or validate."""


class WeightsError(Enet4y2Error, ValueError):
    """A .weights file that does not fit the cfg it is used with."""


class ImageError(Enet4y2Error, ValueError):
    """An image that cannot be decoded or an array of the wrong shape/dtype."""


class DataError(Enet4y2Error, ValueError):
    """A data file, list, label or results file that darknet (or COCOeval) would choke on."""


class ArchiveError(DataError):
    """An archive that is damaged, or that would write outside its target."""


class DownloadError(Enet4y2Error, OSError):
    """A download that failed, or bytes that do not verify."""


class DarknetError(Enet4y2Error, RuntimeError):
    """The darknet process failed (exit status, signal, NaN)."""


class BuildError(Enet4y2Error, RuntimeError):
    """`make darknet` could not find a source or could not build it."""
