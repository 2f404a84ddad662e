"""The libdarknet binding (cffi, API mode). Importing this package never needs the
compiled extension; creating a `Network` without `make darknet` raises NotBuiltError."""

from enet4y2.darknet.network import Detection, Detections, Network

__all__ = ["Detection", "Detections", "Network"]
