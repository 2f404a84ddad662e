"""Builders for the B0-4Y detectors from a compact description of EfficientNet-B0.

`enet4y2_cfg()` writes EfficientNet-B0 (the paper's block table, with the widths and
stride placement of upstream's efficientnet_b0.cfg) plus 2..4 YOLO heads; `heads=2` is
upstream's enet-coco. Pure: returns `Cfg` objects. `python -m enet4y2.cfg.builders [DIR]`
regenerates the committed cfg/ and data/ files.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from enet4y2.cfg.model import Cfg, Section, write_cfg
from enet4y2.errors import CfgError
from enet4y2.fileio import atomic_write
from enet4y2.paths import REPO_ROOT

# (output channels, repeats, kernel, stride of the first block) per stage, as in the
# EfficientNet paper's table; like upstream's cfg, the 80-channel stage keeps stride 1
# and the 112-channel stage halves the resolution instead.
STAGES: tuple[tuple[int, int, int, int], ...] = (
    (16, 1, 3, 1), (24, 2, 3, 2), (40, 2, 5, 2), (80, 3, 3, 1),
    (112, 3, 5, 2), (192, 4, 5, 2), (320, 1, 3, 1),
)
STEM_CHANNELS = 32
TOP_CHANNELS = 1280
#: MBConv input channels -> (expanded width, squeeze-excitation width) of upstream's cfg.
MBCONV_WIDTHS: dict[int, tuple[int, int]] = {
    32: (32, 8), 16: (96, 16), 24: (144, 8), 40: (192, 16),
    80: (384, 24), 112: (576, 32), 192: (960, 64),
}
#: Layers of the backbone shared with upstream's efficientnet_b0 classifier.
BACKBONE_LAYERS = 132

DEFAULT_ANCHORS: tuple[int, ...] = (10, 14, 23, 27, 37, 58, 81, 82, 135, 169, 344, 319)
#: Masks over the 6 default anchors, coarsest head first, by number of heads.
DEFAULT_MASKS: dict[int, tuple[tuple[int, ...], ...]] = {
    2: ((3, 4, 5), (1, 2, 3)),
    3: ((3, 4, 5), (2, 3, 4), (1, 2, 3)),
    4: ((3, 4, 5), (2, 3, 4), (1, 2, 3), (0, 1, 2)),
}
#: Width of each head's convolutions (heads 1..4 at strides 32, 16, 8, 4).
HEAD_CHANNELS = (256, 128, 64, 32)

#: Training parameters of the published cfgs (reference weights were trained with them).
ENET4Y2_COCO = {"max_batches": 70200, "steps": (60000, 65000), "burn_in": 2000}
ENET_COCO = {"max_batches": 500200, "steps": (400000, 450000), "burn_in": 1000}


def schedule(classes: int) -> tuple[int, tuple[int, int]]:
    """darknet's documented rule: max_batches = max(2000*classes, 6000), steps at 80%/90%."""
    max_batches = max(2000 * classes, 6000)
    return max_batches, (max_batches * 8 // 10, max_batches * 9 // 10)


def _sec(kind: str, **options) -> Section:
    return Section(type=kind, options={k: str(v) for k, v in options.items()})


def _conv(filters: int, size: int = 1, stride: int = 1, *, pad: int, bn: bool,
          activation: str, groups: int = 1) -> Section:
    opts: dict = {"groups": groups} if groups > 1 else {}
    opts.update(filters=filters, size=size, stride=stride, pad=pad)
    if bn:
        opts["batch_normalize"] = 1
    opts["activation"] = activation
    return _sec("convolutional", **opts)


def _mbconv(cin: int, cout: int, kernel: int, stride: int, dropout: str) -> list[Section]:
    expand, squeeze = MBCONV_WIDTHS[cin]
    block = [
        _conv(expand, pad=0, bn=True, activation="swish"),
        _conv(expand, kernel, stride, pad=1, bn=True, activation="swish", groups=expand),
        _sec("avgpool"),
        _sec("convolutional", filters=squeeze, size=1, stride=1, activation="swish"),
        _sec("convolutional", filters=expand, size=1, stride=1, activation="logistic"),
        _sec("scale_channels", **{"from": -4}),
        _conv(cout, pad=0, bn=True, activation="linear"),
    ]
    if cin == cout and stride == 1:
        block += [_sec("dropout", probability=dropout),
                  _sec("shortcut", **{"from": -9, "activation": "linear"})]
    return block


def backbone(dropout: str = ".0") -> tuple[list[Section], dict[int, int]]:
    """EfficientNet-B0 without its classifier: 132 layers, and for strides 4, 8 and 16
    the index of the expand convolution that feeds the next stride-2 block (the lateral
    inputs of the YOLO heads)."""
    layers = [_conv(STEM_CHANNELS, 3, 2, pad=1, bn=True, activation="swish")]
    laterals: dict[int, int] = {}
    cin, total_stride = STEM_CHANNELS, 2
    for cout, repeats, kernel, first_stride in STAGES:
        for r in range(repeats):
            stride = first_stride if r == 0 else 1
            if stride == 2:
                laterals[total_stride] = len(layers)
                total_stride *= 2
            layers += _mbconv(cin, cout, kernel, stride, dropout)
            cin = cout
    layers.append(_conv(TOP_CHANNELS, pad=0, bn=True, activation="swish"))
    return layers, laterals


def _anchor_list(anchors: Sequence | None) -> list[str]:
    if anchors is None:
        return [str(a) for a in DEFAULT_ANCHORS]
    flat: list = []
    for item in anchors:
        flat.extend(item if isinstance(item, list | tuple) else [item])
    if not flat or len(flat) % 2:
        raise CfgError(f"anchors: {len(flat)} values — give w,h pairs, e.g. 10,14,23,27")
    return [_num(a) for a in flat]


def _num(value) -> str:
    f = float(value)
    if f <= 0:
        raise CfgError(f"anchor value {value} — anchors must be positive (pixels)")
    return str(int(f)) if f.is_integer() else f"{f:g}"


def masks_for(heads: int, num: int) -> tuple[tuple[int, ...], ...]:
    """Anchor masks, coarsest head first: the published layouts for 6 anchors, otherwise
    the area-sorted anchors split into contiguous groups, largest to the coarsest head."""
    if num == 6:
        return DEFAULT_MASKS[heads]
    if num < heads:
        raise CfgError(f"{num} anchors for {heads} heads — give at least one anchor per head")
    sizes = [num // heads + (1 if h < num % heads else 0) for h in range(heads)]
    out, start = [], 0
    for size in reversed(sizes):
        out.append(tuple(range(start, start + size)))
        start += size
    return tuple(reversed(out))


def enet4y2_cfg(classes: int = 80, width: int = 416, height: int = 416, heads: int = 4,
                anchors: Sequence | None = None, batch: int = 64, subdivisions: int = 8,
                max_batches: int | None = None, steps: Sequence[int] | None = None,
                learning_rate: float = 0.001, burn_in: int = 1000,
                channels: int = 3) -> Cfg:
    """EfficientNet-B0 + `heads` YOLO layers (strides 32, 16, 8, 4); heads=2 is enet-coco.

    max_batches/steps default to darknet's rule (see `schedule`)."""
    if heads not in DEFAULT_MASKS:
        raise CfgError(f"heads={heads} — enet4y2 builds 2, 3 or 4 YOLO heads")
    if classes < 1:
        raise CfgError(f"classes={classes} — a detector needs at least 1 class")
    if width % 32 or height % 32 or width <= 0 or height <= 0:
        raise CfgError(f"size {width}x{height} — width and height must be positive "
                       "multiples of 32 (e.g. 320, 416, 608)")
    rule_max, rule_steps = schedule(classes)
    if max_batches is None:
        max_batches = rule_max
        steps = rule_steps if steps is None else steps
    elif steps is None:
        steps = (max_batches * 8 // 10, max_batches * 9 // 10)
    anchor_values = _anchor_list(anchors)
    num = len(anchor_values) // 2
    masks = masks_for(heads, num)

    net = _sec("net", batch=batch, subdivisions=subdivisions, width=width, height=height,
               channels=channels, momentum=0.9, decay=0.0005, angle=0, saturation=1.5,
               exposure=1.5, hue=".1", learning_rate=f"{learning_rate:g}", burn_in=burn_in,
               max_batches=max_batches, policy="steps",
               steps=",".join(str(int(s)) for s in steps),
               scales=",".join(".1" for _ in steps))
    layers, laterals = backbone()

    def yolo(mask: tuple[int, ...]) -> list[Section]:
        return [
            _sec("convolutional", size=1, stride=1, pad=1,
                 filters=(classes + 5) * len(mask), activation="linear"),
            _sec("yolo", mask=",".join(map(str, mask)), anchors=",".join(anchor_values),
                 classes=classes, num=num, jitter=".3", ignore_thresh=".7", truth_thresh=1,
                 random=0),
        ]

    ch = HEAD_CHANNELS[0]
    layers += [
        _sec("convolutional", batch_normalize=1, filters=ch, size=1, stride=1, pad=1,
             activation="leaky"),
        _sec("convolutional", batch_normalize=1, filters=ch, size=3, stride=1, pad=1,
             activation="leaky"),
        _sec("shortcut", activation="leaky", **{"from": -2}),
        *yolo(masks[0]),
    ]
    for h in range(1, heads):
        ch, lateral = HEAD_CHANNELS[h], laterals[32 >> h]
        bn = {"batch_normalize": 1} if h == 1 else {}
        layers += [
            _sec("route", layers=-4 if h == 1 else -3),
            _sec("convolutional", **bn, filters=ch, size=1, stride=1, pad=1,
                 activation="leaky"),
            _sec("upsample", stride=2),
            _sec("shortcut", activation="leaky", **{"from": lateral}),
            _sec("convolutional", **bn, filters=ch, size=3, stride=1, pad=1,
                 activation="leaky"),
            _sec("shortcut", activation="leaky", **{"from": -3}),
            _sec("shortcut", activation="leaky", **{"from": lateral}),
            *yolo(masks[h]),
        ]
    return Cfg(sections=[net, *layers])


#: Widths of the small model's 3x3 convolutions at strides 1, 2, 4, 8 and 16.
TINY_WIDTHS = (16, 32, 64, 128, 256)


def tiny_cfg(classes: int, width: int = 96, height: int = 96,
             anchors: Sequence | None = None, batch: int = 16, subdivisions: int = 1,
             max_batches: int | None = None, steps: Sequence[int] | None = None,
             learning_rate: float = 0.001, burn_in: int = 50, channels: int = 3) -> Cfg:
    """A small detector for demos and tests (not B0-4Y): plain 3x3 convolutions and max
    pools, two YOLO heads at strides 16 and 8 in yolov3-tiny's shape. It learns the
    synthetic demo data in minutes on a CPU; EfficientNet-B0 from scratch needs far longer.
    """
    if classes < 1:
        raise CfgError(f"classes={classes} — a detector needs at least 1 class")
    if width % 16 or height % 16 or width <= 0 or height <= 0:
        raise CfgError(f"size {width}x{height} — the small model needs positive multiples "
                       "of 16")
    if max_batches is None:
        max_batches, steps = schedule(classes)[0], steps
    if steps is None:
        steps = (max_batches * 8 // 10, max_batches * 9 // 10)
    anchor_values = _anchor_list(anchors)
    num = len(anchor_values) // 2
    if num < 2:
        raise CfgError(f"{num} anchors for 2 heads — give at least one anchor per head")
    half = num - num // 2  # every anchor used: the larger half to the coarser head
    masks = (tuple(range(num - half, num)), tuple(range(num - half)))
    # no colour augmentation: measured to learn the synthetic data faster without it
    net = _sec("net", batch=batch, subdivisions=subdivisions, width=width, height=height,
               channels=channels, momentum=0.9, decay=0.0005,
               learning_rate=f"{learning_rate:g}", burn_in=burn_in,
               max_batches=max_batches, policy="steps",
               steps=",".join(str(int(s)) for s in steps),
               scales=",".join(".1" for _ in steps))
    layers: list[Section] = []
    for i, filters in enumerate(TINY_WIDTHS):
        if i:
            layers.append(_sec("maxpool", size=2, stride=2))
        layers.append(_conv(filters, 3, 1, pad=1, bn=True, activation="leaky"))
    stride8 = len(layers) - 3  # the 128-wide convolution, before the last max pool

    def yolo(mask: tuple[int, ...]) -> list[Section]:
        return [
            _sec("convolutional", size=1, stride=1, pad=1,
                 filters=(classes + 5) * len(mask), activation="linear"),
            _sec("yolo", mask=",".join(map(str, mask)), anchors=",".join(anchor_values),
                 classes=classes, num=num, jitter=".1", ignore_thresh=".7", truth_thresh=1,
                 random=0),
        ]

    layers += [*yolo(masks[0]), _sec("route", layers=-3), _sec("upsample", stride=2),
               _sec("route", layers=f"-1,{stride8}"),
               _conv(64, 3, 1, pad=1, bn=True, activation="leaky"), *yolo(masks[1])]
    return Cfg(sections=[net, *layers])


def classifier_cfg(classes: int, channels: int = 3) -> Cfg:
    """EfficientNet-B0 as upstream's classifier cfg (efficientnet_b0.cfg): the backbone,
    then avgpool, dropout, a `classes`-way linear 1x1 convolution and softmax."""
    net = _sec("net", width=224, height=224, channels=channels)
    head = [_sec("avgpool"), _sec("dropout", probability=".2"),
            _sec("convolutional", filters=classes, size=1, stride=1, pad=0,
                 activation="linear"),
            _sec("softmax", groups=1)]
    return Cfg(sections=[net, *backbone()[0], *head])


def enet4y2_coco_cfg(**overrides) -> Cfg:
    """enet4y2-coco with the published training parameters (cfg/enet4y2-coco.cfg)."""
    return enet4y2_cfg(**{**ENET4Y2_COCO, **overrides})


def enet_coco_cfg(**overrides) -> Cfg:
    """Upstream's enet-coco (2 heads) with its published training parameters."""
    return enet4y2_cfg(**{"heads": 2, **ENET_COCO, **overrides})


_COCO = (
    "person bicycle car motorbike aeroplane bus train truck boat traffic_light "
    "fire_hydrant stop_sign parking_meter bench bird cat dog horse sheep cow elephant bear "
    "zebra giraffe backpack umbrella handbag tie suitcase frisbee skis snowboard sports_ball "
    "kite baseball_bat baseball_glove skateboard surfboard tennis_racket bottle wine_glass "
    "cup fork knife spoon bowl banana apple sandwich orange broccoli carrot hot_dog pizza "
    "donut cake chair sofa pottedplant bed diningtable toilet tvmonitor laptop mouse remote "
    "keyboard cell_phone microwave oven toaster sink refrigerator book clock vase scissors "
    "teddy_bear hair_drier toothbrush"
)


def coco_names() -> list[str]:
    """The 80 COCO class names in darknet's order and spelling (data/coco.names)."""
    return [name.replace("_", " ") for name in _COCO.split()]


def generated_files() -> dict[str, str]:
    """Relative path -> text of every file the project generates from these builders."""
    return {
        "cfg/enet4y2-coco.cfg": write_cfg(enet4y2_coco_cfg()),
        "cfg/enet-coco.cfg": write_cfg(enet_coco_cfg()),
        "data/coco.names": "\n".join(coco_names()) + "\n",
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Write the generated files under a repository root (default: this checkout)."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(args[0]) if args else REPO_ROOT
    for rel, text in generated_files().items():
        target = atomic_write(root / rel, text)
        print(target)


if __name__ == "__main__":
    main()
