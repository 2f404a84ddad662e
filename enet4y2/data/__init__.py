"""Datasets in darknet's layout: `.data` files, image lists and names (`files`), label
files and the training boxes of a dataset (`labels`), COCO instances <-> darknet labels
(`coco`), the small generated dataset of the demo and the tests (`synthetic`), and the
one annotation model of `data import` (`annotations`) with its format readers (`readers`:
COCO, Pascal VOC, LabelMe, CVAT, YOLO).

Owns: `.data` reading and writing, list files, the image -> label path rule.
Pure except the `read_*` helpers, `labels.boxes_from_data` and `synthetic`.
May import: foundations (errors, fileio) only.
"""
