"""Every invalid case names file:line and a fix."""

from __future__ import annotations

import pytest

from enet4y2.cfg import parse_cfg, problems, validate
from enet4y2.errors import CfgError

# A small valid detector: 64x64 input, one [yolo] head with 3 classes, 3 masks.
BASE = """\
[net]
batch=4
subdivisions=2
width=64
height=64
channels=3
max_batches=6000
policy=steps
steps=4800,5400
scales=.1,.1

[convolutional]
filters=16
size=3
stride=2
pad=1
batch_normalize=1
activation=leaky

[convolutional]
filters=16
size=3
stride=1
pad=1
activation=leaky

[shortcut]
from=-2
activation=linear

[convolutional]
filters=24
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=0,1,2
anchors=10,14,23,27,37,58
classes=3
num=3

[route]
layers=-3

[upsample]
stride=2

[convolutional]
filters=24
size=1
stride=1
activation=linear

[yolo]
mask=0,1,2
anchors=10,14,23,27,37,58
classes=3
num=3
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line equal to `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if line == needle]
    return hits[nth - 1]


def one_problem(text: str) -> str:
    found = problems(parse_cfg(text, "m.cfg"))
    assert len(found) == 1, found
    return found[0]


def test_base_is_valid():
    assert problems(parse_cfg(BASE, "m.cfg")) == []
    validate(parse_cfg(BASE, "m.cfg"))


@pytest.mark.parametrize(
    ("old", "new", "nth", "expect"),
    [
        ("[upsample]", "[upsampel]", 1, "unknown section [upsampel]"),
        ("[upsample]", "[lstm]", 1, "[lstm] is a darknet layer enet4y2 cannot infer"),
        ("activation=leaky", "activaton=leaky", 1, "did you mean activation?"),
        ("filters=16", "filters=sixteen", 1, "filters=sixteen is not an integer"),
        ("anchors=10,14,23,27,37,58", "anchors=10,14,23,27,37,x", 1, "list of numbers"),
        ("activation=leaky", "activation=leakyrelu", 1, "unknown activation 'leakyrelu'"),
        ("layers=-3", "layers=-30", 1, "points to layer -25, before the first layer"),
        ("layers=-3", "layers=7", 1, "points to layer 7, not before this layer (5)"),
        ("from=-2", "from=4", 1, "points to layer 4, not before this layer (2)"),
        ("mask=0,1,2", "mask=1,2,3", 1, "mask index 3 is not below num=3"),
        ("anchors=10,14,23,27,37,58", "anchors=10,14,23,27", 1,
         "4 anchor values for num=3 — give 2*num = 6"),
        ("width=64", "width=70", 1, "width=70 is not a multiple of 32 — use width=64"),
        ("height=64", "height=100", 1, "height=100 is not a multiple of 32 — use height=96"),
        ("subdivisions=2", "subdivisions=3", 1, "batch=4 must be a positive multiple"),
        ("steps=4800,5400", "steps=5400,4800", 1, "steps must increase"),
        ("steps=4800,5400", "steps=4800,7000", 1, "step 7000 is after max_batches=6000"),
        ("scales=.1,.1", "scales=.1", 1, "1 scales for 2 steps"),
        ("batch_normalize=1", "antialiasing=1", 1, "antialiasing adds a hidden blur layer"),
    ],
)
def test_invalid_cases_name_the_line(old, new, nth, expect):
    line = line_of(BASE, old, nth)
    text = BASE.replace(old, new, 1)
    message = one_problem(text)
    assert message.startswith(f"m.cfg:{line}: "), message
    assert expect in message
    assert " — " in message


def test_yolo_filters_mismatch_names_the_convolution():
    text = BASE.replace("filters=24", "filters=255", 1)
    message = one_problem(text)
    assert message.startswith(f"m.cfg:{line_of(BASE, 'filters=24')}: ")
    assert "gives 255 channels, but (classes+5)*3 masks = 24 — set filters=24" in message


def test_classes_changed_in_one_head_reports_both_consequences():
    text = BASE.replace("classes=3", "classes=4", 1)
    found = problems(parse_cfg(text, "m.cfg"))
    first_head = line_of(BASE, "classes=3", 1)
    second_head = line_of(BASE, "classes=3", 2)
    assert any(m.startswith(f"m.cfg:{second_head}: classes=3 differs from classes=4")
               for m in found), found
    # and the first head's convolution no longer fits its classes
    assert any("(classes+5)*3 masks = 27" in m for m in found), found
    assert first_head < second_head


def test_route_of_different_sizes_is_reported():
    text = BASE + "\n[route]\nlayers=-2,-5\n"  # layer 7 is 64x64, layer 4 is 32x32
    message = one_problem(text)
    assert message.startswith(f"m.cfg:{len(text.splitlines())}: ")
    assert "route joins layer 7 (64x64) and layer 4 (32x32)" in message


def test_validate_joins_every_problem_on_one_line():
    text = BASE.replace("width=64", "width=70").replace("filters=16", "filters=x", 1)
    with pytest.raises(CfgError) as err:
        validate(parse_cfg(text, "m.cfg"))
    message = str(err.value)
    assert "\n" not in message
    assert message.count("m.cfg:") == 2
    assert message.endswith("(2 problems)")
    assert message.index("width=70") < message.index("filters=x")  # file order


def test_structure_problems():
    assert "first section must be [net]" in one_problem("[convolutional]\nfilters=1\n")
    assert "no layers after [net]" in one_problem("[net]\nwidth=64\n")
    assert "needs positive width, height and channels" in one_problem(
        "[net]\nwidth=64\nheight=64\n[dropout]\n")
    extra_net = one_problem(BASE + "\n[net]\n")
    assert "a second [net] section" in extra_net


def test_generated_and_reference_style_cfgs_have_no_problems():
    from enet4y2.cfg.builders import enet4y2_cfg

    for heads in (2, 3, 4):
        assert problems(enet4y2_cfg(classes=7, heads=heads, width=320, height=608)) == []
