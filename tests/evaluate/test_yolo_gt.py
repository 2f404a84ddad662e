from __future__ import annotations

import cv2
import numpy as np
import pytest

from enet4y2.data.files import label_path as label_path_for
from enet4y2.errors import DataError
from enet4y2.evaluate import evaluate, load_yolo_gt
from enet4y2.evaluate.yolo_gt import (
    ids_for_yolo_list,
    image_size_from_header,
    parse_yolo_labels,
)


@pytest.mark.parametrize(("image", "label"), [
    ("/d/coco/images/val2014/COCO_val2014_000000000042.jpg",
     "/d/coco/labels/val2014/COCO_val2014_000000000042.txt"),
    ("/d/coco/images/train2017/000000000009.jpg", "/d/coco/labels/train2017/000000000009.txt"),
    ("/voc/VOC2007/JPEGImages/000005.jpg", "/voc/VOC2007/labels/000005.txt"),
    ("/mine/pics/a.PNG", "/mine/pics/a.txt"),
    ("/mine/images/b.jpeg", "/mine/images/b.txt"),  # generic images/ is not rewritten
])
def test_label_path_follows_darknet(image, label):
    assert label_path_for(image) == label


@pytest.mark.parametrize("ext", [".jpg", ".png", ".bmp"])
@pytest.mark.parametrize(("width", "height"), [(1, 1), (640, 480), (333, 1001)])
def test_image_size_from_header(tmp_path, ext, width, height):
    path = tmp_path / f"x{ext}"
    cv2.imwrite(str(path), np.zeros((height, width, 3), np.uint8))
    assert image_size_from_header(path.read_bytes()[:65536]) == (width, height)


def test_progressive_jpeg_size(tmp_path):
    path = tmp_path / "p.jpg"
    cv2.imwrite(str(path), np.full((70, 90, 3), 128, np.uint8),
                [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert image_size_from_header(path.read_bytes()) == (90, 70)


def test_unknown_header_is_none():
    assert image_size_from_header(b"GIF89a" + bytes(20)) is None


def test_parse_labels_and_errors():
    labels = parse_yolo_labels("0 0.5 0.5 0.2 0.1\n\n1 0.1 0.2 0.3 0.4\n", 2)
    np.testing.assert_allclose(labels, [[0, .5, .5, .2, .1], [1, .1, .2, .3, .4]])
    with pytest.raises(DataError, match=r"l\.txt:1: class 5 is outside 0\.\.1"):
        parse_yolo_labels("5 0.5 0.5 0.2 0.1", 2, "l.txt")
    with pytest.raises(DataError, match="expected `class x y w h`"):
        parse_yolo_labels("0 0.5 0.5", 2)


def test_ids_from_names_or_positions():
    assert ids_for_yolo_list(["a/synth_000000000007.jpg", "a/synth_000000000009.jpg"]) == [7, 9]
    assert ids_for_yolo_list(["a/dog.jpg", "a/cat.jpg"]) == [1, 2]
    assert ids_for_yolo_list(["a/x_1.jpg", "b/y_1.jpg"]) == [1, 2]  # duplicates


def test_gt_from_labels_scores_its_own_boxes_perfectly(tmp_path):
    (tmp_path / "images").mkdir()
    paths, results = [], []
    rng = np.random.default_rng(1)
    for i in range(6):
        width, height = 200 + 10 * i, 150
        path = tmp_path / "images" / f"shot_{'abcdef'[i]}.png"
        cv2.imwrite(str(path), np.zeros((height, width, 3), np.uint8))
        lines = []
        for _ in range(2):
            cls = int(rng.integers(0, 3))
            w, h = rng.uniform(10, 60), rng.uniform(10, 60)
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            lines.append(f"{cls} {(x + w / 2) / width} {(y + h / 2) / height} "
                         f"{w / width} {h / height}")
            results.append((i, cls + 1, [x, y, w, h]))
        (tmp_path / "images" / f"shot_{'abcdef'[i]}.txt").write_text("\n".join(lines))
        paths.append(str(path))
    gt, ids = load_yolo_gt(paths, ["a", "b", "c"])
    assert ids == [1, 2, 3, 4, 5, 6]  # names without digits: list positions
    assert [img["width"] for img in gt["images"]] == [200, 210, 220, 230, 240, 250]
    assert [c["id"] for c in gt["categories"]] == [1, 2, 3]
    dets = [{"image_id": ids[i], "category_id": c, "bbox": b, "score": 0.8}
            for i, c, b in results]
    stats = evaluate(gt, dets)
    assert stats["AP"] == pytest.approx(1.0)


def test_missing_label_file_means_no_objects(tmp_path):
    path = tmp_path / "img_000000000001.jpg"
    cv2.imwrite(str(path), np.zeros((10, 20, 3), np.uint8))
    gt, ids = load_yolo_gt([str(path)], ["a"])
    assert ids == [1]
    assert gt["annotations"] == [] and gt["images"][0]["width"] == 20


def test_size_behind_a_large_segment(tmp_path):
    from enet4y2.evaluate.yolo_gt import image_size

    _, encoded = cv2.imencode(".jpg", np.zeros((37, 53, 3), np.uint8))
    jpeg = encoded.tobytes()
    comment = b"\xff\xfe" + (20002).to_bytes(2, "big") + bytes(20000)  # 20 kB COM segment
    path = tmp_path / "big_1.jpg"
    path.write_bytes(jpeg[:2] + comment + jpeg[2:])
    assert image_size_from_header(path.read_bytes()[:4096]) is None
    assert image_size(path) == (53, 37)
