"""Every invalid case names file:line and a fix."""

from __future__ import annotations

import pytest

from enet4y2.cfg import parse_cfg, problems, validate, warnings
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


# What darknet stops or crashes on while loading: a problem at the line to fix.
@pytest.mark.parametrize(
    ("old", "new", "nth", "expect"),
    [
        ("[upsample]", "[upsampel]", 1, "unknown section [upsampel], which darknet skips"),
        ("[upsample]", "[lstm]", 1, "[lstm] gives a flat output"),
        ("filters=16", "filters=sixteen", 1, "filters=sixteen gives no output channels"),
        ("layers=-3", "layers=-30", 1, "points to layer -25, before the first layer"),
        ("layers=-3", "layers=7", 1, "points to layer 7, not before this layer (5)"),
        ("from=-2", "from=4", 1, "points to layer 4, not before this layer (2)"),
        ("scales=.1,.1", "scales=.1", 1, "1 scales for 2 steps"),
        ("subdivisions=2", "subdivisions=0", 1, "subdivisions=0"),
    ],
)
def test_invalid_cases_name_the_line(old, new, nth, expect):
    line = line_of(BASE, old, nth)
    text = BASE.replace(old, new, 1)
    message = one_problem(text)
    assert message.startswith(f"m.cfg:{line}: "), message
    assert expect in message
    assert " — " in message


# What darknet loads but ignores, repairs or only warns about: no problem, a warning at
# the line (these were problems before `cfg check` followed darknet's own strictness).
@pytest.mark.parametrize(
    ("old", "new", "nth", "expect"),
    [
        ("activation=leaky", "activaton=leaky", 1, "did you mean activation?"),
        ("anchors=10,14,23,27,37,58", "anchors=10,14,23,27,37,x", 1,
         "anchors=10,14,23,27,37,x"),
        ("activation=leaky", "activation=leakyrelu", 1, "unknown activation 'leakyrelu'"),
        ("mask=0,1,2", "mask=1,2,3", 1, "mask index 3 is not below num=3"),
        ("anchors=10,14,23,27,37,58", "anchors=10,14,23,27", 1,
         "4 anchor values for num=3; darknet uses 0.5 for the missing ones"),
        ("width=64", "width=70", 1, "width=70 is not a multiple of 32"),
        ("height=64", "height=100", 1, "height=100 is not a multiple of 32"),
        ("subdivisions=2", "subdivisions=3", 1, "batch=4 is not a positive multiple"),
        ("steps=4800,5400", "steps=5400,4800", 1, "do not increase"),
        ("steps=4800,5400", "steps=4800,7000", 1, "step 7000 is after max_batches=6000"),
        ("filters=16", "filters=16#32", 1, None),  # an inline comment: darknet reads 16
        ("filters=16", "filters=16x", 1, "filters=16x is read by darknet as 16"),
    ],
)
def test_accepted_cases_warn_at_the_line(old, new, nth, expect):
    line = line_of(BASE, old, nth)
    cfg = parse_cfg(BASE.replace(old, new, 1), "m.cfg")
    assert problems(cfg) == []
    notes = [n for n in warnings(cfg) if n.startswith(f"m.cfg:{line}: ")]
    if expect is None:
        assert notes == []
    else:
        assert any(expect in n and " — " in n for n in notes), warnings(cfg)


def test_yolo_filters_mismatch_names_the_convolution():
    text = BASE.replace("filters=24", "filters=255", 1)
    message = one_problem(text)
    assert message.startswith(f"m.cfg:{line_of(BASE, 'filters=24')}: ")
    assert "gives 255 channels, but (classes+5)*3 masks = 24 — set filters=24" in message


def test_classes_changed_in_one_head_reports_both_consequences():
    text = BASE.replace("classes=3", "classes=4", 1)
    cfg = parse_cfg(text, "m.cfg")
    first_head = line_of(BASE, "classes=3", 1)
    second_head = line_of(BASE, "classes=3", 2)
    # darknet loads heads with different classes: a warning
    assert any(m.startswith(f"m.cfg:{second_head}: classes=3 differs from classes=4")
               for m in warnings(cfg)), warnings(cfg)
    # but the first head's convolution no longer fits its classes: darknet stops
    assert any("(classes+5)*3 masks = 27" in m for m in problems(cfg)), problems(cfg)
    assert first_head < second_head


def test_route_of_different_sizes_stops_the_layer_that_needs_an_image():
    text = BASE + "\n[route]\nlayers=-2,-5\n"  # layer 7 is 64x64, layer 4 is 32x32
    route_line = len(text.splitlines())
    cfg = parse_cfg(text, "m.cfg")
    # the last layer: darknet gives it an empty output and loads the network
    assert problems(cfg) == []
    assert any(n.startswith(f"m.cfg:{route_line}: route joins layer 7 (64x64) and layer 4 "
                            "(32x32)") for n in warnings(cfg))
    message = one_problem(text + "[convolutional]\nfilters=2\n")
    assert message.startswith(f"m.cfg:{route_line}: ")
    assert "route joins layer 7 (64x64) and layer 4 (32x32)" in message
    assert "then has no image input and darknet stops" in message


def test_validate_joins_every_problem_on_one_line():
    text = BASE.replace("layers=-3", "layers=-30").replace("scales=.1,.1", "scales=.1")
    with pytest.raises(CfgError) as err:
        validate(parse_cfg(text, "m.cfg"))
    message = str(err.value)
    assert "\n" not in message
    assert message.count("m.cfg:") == 2
    assert message.endswith("(2 problems)")
    assert message.index("scales=") < message.index("layers=-30")  # file order


def test_warnings_never_raise():
    validate(parse_cfg(BASE.replace("width=64", "width=70"), "m.cfg"))


def test_structure_problems():
    assert "first section must be [net]" in one_problem("[convolutional]\nfilters=1\n")
    assert "no layers after [net]" in one_problem("[net]\nwidth=64\nheight=64\nchannels=3\n")
    assert "needs positive width, height and channels" in one_problem(
        "[net]\nwidth=64\nheight=64\n[dropout]\n")
    # a second [net] is a layer type darknet skips: a warning while nothing reads it
    extra_net = parse_cfg(BASE + "\n[net]\n", "m.cfg")
    assert problems(extra_net) == []
    assert any("a second [net] section" in n for n in warnings(extra_net))


def test_generated_and_reference_style_cfgs_have_no_problems():
    from enet4y2.cfg.builders import enet4y2_cfg

    for heads in (2, 3, 4):
        assert problems(enet4y2_cfg(classes=7, heads=heads, width=320, height=608)) == []
