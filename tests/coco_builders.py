"""COCO ground truth and results built by the tests, where AP is known by construction
(shared by the eval unit tests and the eval CLI tests)."""

from __future__ import annotations

# boxes in COCO's three area ranges: small < 32^2, medium < 96^2, large above
_BOXES = ([10, 10, 20, 20], [100, 50, 60, 70], [200, 150, 150, 120])


def build_gt(num_images: int = 10, category_ids: tuple[int, ...] = (3, 7)) -> dict:
    """Every image 640x480 with one box of each size, categories cycling."""
    images, annotations = [], []
    for i in range(num_images):
        image_id = 1000 + i
        images.append({"id": image_id, "file_name": f"COCO_val2014_{image_id:012d}.jpg",
                       "width": 640, "height": 480})
        for k, box in enumerate(_BOXES):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": category_ids[(i + k) % len(category_ids)],
                                "bbox": list(map(float, box)), "area": float(box[2] * box[3]),
                                "iscrowd": 0})
    categories = [{"id": c, "name": f"c{c}"} for c in category_ids]
    return {"images": images, "annotations": annotations, "categories": categories}


def perfect_results(gt: dict, image_ids=None, category_ids=None) -> list[dict]:
    """A detection exactly on every GT box (optionally only some images / categories)."""
    return [{"image_id": a["image_id"], "category_id": a["category_id"],
             "bbox": list(a["bbox"]), "score": 0.9}
            for a in gt["annotations"]
            if (image_ids is None or a["image_id"] in image_ids)
            and (category_ids is None or a["category_id"] in category_ids)]
