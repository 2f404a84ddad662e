"""The exception tree. Every error a user can act on derives from `Enet4y2Error`;
the CLI prints those as one line and exits non-zero. Each class also subclasses the
built-in that fits, so callers can catch `FileNotFoundError` or `ValueError` as usual."""

from __future__ import annotations


class Enet4y2Error(Exception):
    """An error with a cause the user can fix; its message is one line."""


class NotBuiltError(Enet4y2Error, ImportError):
    """libdarknet or the cffi extension is missing: run `make darknet`."""


class MissingFileError(Enet4y2Error, FileNotFoundError):
    """A file the user named does not exist."""


class CfgError(Enet4y2Error, ValueError):
    """A darknet .cfg that does not parse or validate."""


class WeightsError(Enet4y2Error, ValueError):
    """A .weights file that does not fit the cfg it is used with."""


class ImageError(Enet4y2Error, ValueError):
    """An image that cannot be decoded or an array of the wrong shape/dtype."""


class DataError(Enet4y2Error, ValueError):
    """A data file, list or label file that darknet would choke on."""


class DownloadError(Enet4y2Error, OSError):
    """A download that failed, or bytes that do not verify."""


class DarknetError(Enet4y2Error, RuntimeError):
    """The darknet process failed (exit status, signal, NaN)."""


class BuildError(Enet4y2Error, RuntimeError):
    """`make darknet` could not find a source or could not build it."""
