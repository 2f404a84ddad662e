from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from enet4y2.errors import ImageError, MissingFileError
from enet4y2.evaluate.yolo_gt import image_size_from_header
from enet4y2.images import decode as decode_image


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """Insert an APP1 Exif segment holding only the Orientation tag after SOI."""
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def test_decode_ignores_exif_rotation_like_darknet(tmp_path):
    ok, encoded = cv2.imencode(".jpg", np.zeros((40, 100, 3), np.uint8))
    assert ok
    path = tmp_path / "rotated_1.jpg"
    path.write_bytes(_with_exif_orientation(encoded.tobytes(), 6))  # "rotate 90"
    assert cv2.imread(str(path)).shape[:2] == (100, 40)  # OpenCV's default would rotate
    assert decode_image(str(path)).shape == (40, 100, 3)
    assert image_size_from_header(path.read_bytes()) == (100, 40)


def test_decode_errors(tmp_path):
    with pytest.raises(MissingFileError, match="not found"):
        decode_image(str(tmp_path / "none.jpg"))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageError, match="cannot decode"):
        decode_image(str(bad))
