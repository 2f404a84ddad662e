"""The libdarknet binding (cffi, API mode): `_builder` (the cdef, compiled by `make
darknet`), `_ffi` (the one import point of the extension), `low` (one thin function per
darknet call), `preprocess` (darknet's input preparation, bit-exact: a small compiled
kernel, `_prep_builder` / `_prep_ffi`, that links nothing of darknet, else numpy) and
`network.Network` composing them.

Importing this package never needs the compiled extension; creating a `Network` without
`make darknet` raises NotBuiltError.
May import: foundations, `enet4y2.cfg`, `enet4y2.weights`, `enet4y2.data`.
"""

from enet4y2.darknet._ffi import extension_path
from enet4y2.darknet._ffi import load as _load
from enet4y2.darknet.network import Detection, Detections, Network


def ensure_built() -> None:
    """NotBuiltError (naming `make darknet`) unless the binding loads."""
    _load()


__all__ = ["Detection", "Detections", "Network", "ensure_built", "extension_path"]
