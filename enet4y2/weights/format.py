"""The .weights format and names, pure.

Layout (src/parser.c): int32 major, minor, revision; `seen` as uint64 when
major*10+minor >= 2 else uint32; then float32 values layer by layer in the order of
`save_weights_upto`. Names: `darknet partial` output is conventionally `<stem>.conv.N`;
training writes `<cfg stem>_last.weights` (every 100 iterations), `_final` and `_best`
into the backup folder.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from enet4y2.errors import WeightsError

#: The version darknet (pinned upstream, src/version.h) writes into every file it saves.
DARKNET_VERSION = (0, 2, 5)
#: What darknet writes into the backup folder while training, by kind.
TRAINING_KINDS = ("last", "final", "best")


@dataclass(frozen=True)
class WeightsHeader:
    major: int
    minor: int
    revision: int
    seen: int
    header_size: int

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.revision}"

    @property
    def transposed(self) -> bool:
        """darknet transposes connected-layer weights from such (very old) files."""
        return self.major > 1000 or self.minor > 1000


def header_size(major: int = DARKNET_VERSION[0], minor: int = DARKNET_VERSION[1]) -> int:
    """Bytes before the floats: 3 int32 + `seen` (uint64 when major*10+minor >= 2)."""
    return 20 if major * 10 + minor >= 2 else 16


def file_size(floats: int, major: int = DARKNET_VERSION[0],
              minor: int = DARKNET_VERSION[1]) -> int:
    """Bytes of a file holding `floats` parameters after a header of that version."""
    return header_size(major, minor) + 4 * floats


def pack_header(seen: int = 0) -> bytes:
    """The header darknet writes when it saves (its own version)."""
    return struct.pack("<iiiQ", *DARKNET_VERSION, seen)


def parse_header(data: bytes, name: str = "<weights>") -> WeightsHeader:
    """The header at the start of `data`."""
    if len(data) < 12:
        raise WeightsError(f"{name}: {len(data)} bytes is too short for a darknet weights "
                           "header — is this a .weights file?")
    major, minor, revision = struct.unpack_from("<iii", data)
    if not all(0 <= v < 1_000_000 for v in (major, minor, revision)):
        raise WeightsError(f"{name}: not darknet weights (its first bytes read as version "
                           f"{major}.{minor}.{revision}) — is this a .weights file?")
    size = header_size(major, minor)
    if len(data) < size:
        raise WeightsError(f"{name}: truncated header ({len(data)} of {size} bytes) — "
                           "re-download or re-save the weights")
    seen = struct.unpack_from("<Q" if size == 20 else "<I", data, 12)[0]
    return WeightsHeader(major, minor, revision, seen, size)


def cfg_stem(cfg_path: str | Path) -> str:
    """darknet's `basecfg`: the file name without folder and extension."""
    name = Path(cfg_path).name
    return name.split(".", 1)[0] if "." in name else name


def conv_name(weights: str | Path, layers: int) -> str:
    """`enetb0_final.weights`, 132 -> `enetb0_final.conv.132` (darknet partial's habit)."""
    return f"{Path(weights).name.removesuffix('.weights')}.conv.{layers}"


def training_outputs(backup: Path, cfg_path: str | Path) -> dict[str, Path]:
    """The files darknet writes into backup/ for a cfg: last, final, best."""
    stem = cfg_stem(cfg_path)
    return {kind: backup / f"{stem}_{kind}.weights" for kind in TRAINING_KINDS}
