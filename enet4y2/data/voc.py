"""Pascal VOC in darknet's layout, as upstream's scripts/voc_label.py makes it (pure).

Sets: VOC2007 train/val/test and VOC2012 train/val; one label file per image in
`VOCdevkit/VOC<year>/labels/<id>.txt` (darknet's label_path maps /JPEGImages/ there),
difficult objects left out, `<year>_<set>.txt` lists of absolute JPEG paths, `train.txt`
= 2007 train+val and 2012 train+val, validation on `2007_test.txt`.
"""

from __future__ import annotations

import numpy as np

from enet4y2.data import annotations as ann
from enet4y2.data.readers import voc_image
from enet4y2.errors import DataError

#: the 20 classes in darknet's data/voc.names order (voc_label.py's `classes`)
VOC_NAMES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
             "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
             "sheep", "sofa", "train", "tvmonitor")
SETS = (("2012", "train"), ("2012", "val"), ("2007", "train"), ("2007", "val"),
        ("2007", "test"))
TRAIN_LISTS = ("2007_train", "2007_val", "2012_train", "2012_val")
VALID_LIST = "2007_test"
_INDEX = {name: i for i, name in enumerate(VOC_NAMES)}


def image_ids(text: str, where: str) -> list[str]:
    """The ids of an ImageSets/Main/<set>.txt (one a line); DataError on a path-like id."""
    ids = text.split()
    bad = next((i for i in ids if "/" in i or "\\" in i or i.startswith(".")), None)
    if bad is not None:
        raise DataError(f"{where}: {bad!r} is not a VOC image id")
    return ids


def convert(xml: bytes, where: str) -> tuple[str, int, int, np.ndarray]:
    """(label text, width, height, rows for the ground truth) of one VOC annotation.
    Objects of other classes are left out, as voc_label.py does."""
    image = voc_image(xml, where)
    if not image.width or not image.height:
        raise DataError(f"{where}: no <size> — VOC annotations carry the image size")
    rows, _ = ann.prepare([image], _INDEX)
    return ann.label_text(rows[0], image.width, image.height), image.width, image.height, rows[0]


def voc_data_text(voc_dir: str, backup_dir: str) -> str:
    """voc.data, as darknet's cfg/voc.data with this dataset's paths."""
    base = voc_dir.rstrip("/")
    return (f"classes = {len(VOC_NAMES)}\n"
            f"train = {base}/train.txt\n"
            f"valid = {base}/{VALID_LIST}.txt\n"
            f"names = {base}/voc.names\n"
            f"backup = {backup_dir}\n")
