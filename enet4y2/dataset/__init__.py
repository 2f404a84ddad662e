"""Datasets of the user's own: importing annotations from COCO, Pascal VOC, LabelMe, CVAT
and YOLO into darknet's layout (`sources` reads them from disk, `importer` writes the
layout), and the report on a dataset (`check`). The format parsing and the maths are
pure, in `enet4y2.data`.

May import: foundations, `enet4y2.data`, `enet4y2.cfg`, `enet4y2.evaluate` (image sizes).
"""
