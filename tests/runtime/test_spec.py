"""The decoder's view of a cfg is darknet's: heads in layer order with their masked
anchors, grid and stride; the last head's NMS kind; letter_box; defaults as parse_yolo's."""

from __future__ import annotations

import pytest

from enet4y2 import paths
from enet4y2.cfg import load_cfg, parse_cfg
from enet4y2.errors import CfgError
from enet4y2.runtime.spec import spec_from_cfg

ANCHORS = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)]


def test_enet4y2_coco_heads_as_facts_say():
    spec = spec_from_cfg(load_cfg(paths.REPO_ROOT / "cfg" / "enet4y2-coco.cfg"))
    assert (spec.width, spec.height, spec.channels, spec.classes) == (416, 416, 3, 80)
    assert [h.mask for h in spec.heads] == [(3, 4, 5), (2, 3, 4), (1, 2, 3), (0, 1, 2)]
    assert [h.stride for h in spec.heads] == [(32, 32), (16, 16), (8, 8), (4, 4)]
    assert [(h.grid_w, h.grid_h) for h in spec.heads] == [(13, 13), (26, 26), (52, 52),
                                                          (104, 104)]
    for head in spec.heads:
        assert head.anchors == tuple(ANCHORS[m] for m in head.mask)
        assert head.output == f"yolo_{head.layer}"
    assert spec.output_names == [h.output for h in spec.heads]
    assert spec.nms_kind in (0, 1, 2)


TINY = """[net]
width=32
height=32
channels=3
letter_box=1
[convolutional]
filters={filters}
size=1
stride=1
activation=linear
[yolo]
classes=2
{extra}
"""


@pytest.mark.parametrize(("extra", "filters", "expect"), [
    ("num=2\\nanchors=5,6, 7,8", 14, {"mask": (0, 1), "anchors": ((5, 6), (7, 8)),
                                      "kind": 0}),
    ("num=3\\nmask=2\\nanchors=1,2,3 # comment", 7,
     {"mask": (2,), "anchors": ((0.5, 0.5),), "kind": 0}),
    ("num=1\\nanchors=4,4\\nnms_kind=diounms\\nbeta_nms=0.7", 7,
     {"mask": (0,), "anchors": ((4, 4),), "kind": 2, "beta": 0.7}),
    ("num=1\\nanchors=4,4\\nnms_kind=greedynms", 7, {"mask": (0,), "kind": 1}),
    ("num=1\\nanchors=4,4\\nnms_kind=other", 7, {"mask": (0,), "kind": 0}),
])
def test_parse_yolo_rules(extra, filters, expect):
    spec = spec_from_cfg(parse_cfg(TINY.format(filters=filters,
                                               extra=extra.replace("\\n", "\n"))))
    head, = spec.heads
    assert spec.letterbox is True
    assert head.mask == expect["mask"]
    if "anchors" in expect:
        assert head.anchors == expect["anchors"]
    assert spec.nms_kind == expect["kind"]
    assert spec.beta_nms == pytest.approx(expect.get("beta", 0.6))


def test_a_cfg_without_heads_is_refused():
    cfg = parse_cfg("[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=2\n"
                    "size=1\nstride=1\nactivation=linear\n")
    with pytest.raises(CfgError, match="no \\[yolo\\] layer"):
        spec_from_cfg(cfg)
