"""Shape inference, BFLOPs and weights sizes against what darknet computes."""

from __future__ import annotations

import pytest

from enet4y2.cfg import infer, load_cfg, parse_cfg
from enet4y2.errors import CfgError
from enet4y2.weights.fit import expected_size
from enet4y2.weights.format import file_size, header_size

# What upstream darknet (pinned commit) prints as "Total BFLOPS" when it loads the
# reference cfgs, and the size of the .weights file it writes for them (`darknet partial`
# with a cutoff past the last layer). enet4y2-coco's 4.419 is also in FACTS.md.
DARKNET = {
    "enet4y2-coco": (164, 4.419, 19_559_108),
    "enet-coco": (146, 3.731, 19_233_100),
    "efficientnet_b0": (136, 0.915, 19_560_180),
}


@pytest.mark.parametrize("name", sorted(DARKNET))
def test_reference_bflops_and_weights_size(reference_dir, name):
    layers, bflops, size = DARKNET[name]
    cfg = load_cfg(reference_dir / "cfg" / f"{name}.cfg")
    model = infer(cfg)
    assert len(model.layers) == layers
    assert abs(model.total_bflops - bflops) < 0.0005 + 1e-9
    assert expected_size(cfg) == size
    assert model.param_count * 4 + 20 == size


def test_enet4y2_shapes_at_the_heads(reference_dir):
    model = infer(load_cfg(reference_dir / "cfg" / "enet4y2-coco.cfg"))
    shapes = {i: (m.out_w, m.out_h, m.out_c) for i, m in enumerate(model.layers)}
    assert shapes[0] == (208, 208, 32)
    assert shapes[131] == (13, 13, 1280)
    assert shapes[136] == (13, 13, 255)
    assert shapes[145] == (26, 26, 255)
    assert shapes[154] == (52, 52, 255)
    assert shapes[163] == (104, 104, 255)
    assert shapes[137] == (13, 13, 256)  # route to layer 133
    assert shapes[140] == (26, 26, 128)  # shortcut keeps its input's shape


NET = "[net]\nwidth={w}\nheight={h}\nchannels={c}\n"


def only(text: str, **net):
    cfg = parse_cfg(NET.format(**{"w": 32, "h": 32, "c": 3, **net}) + text)
    return infer(cfg).layers


def test_convolution_shape_flops_and_params_by_hand():
    (conv,) = only("[convolutional]\nfilters=8\nsize=3\nstride=2\npad=1\nbatch_normalize=1\n")
    assert (conv.out_w, conv.out_h, conv.out_c) == (16, 16, 8)
    # weights 3*8*3*3=216, 2*216*16*16 FLOPs; params 8 biases + 3*8 bn + 216
    assert conv.bflops == pytest.approx(2 * 216 * 256 / 1e9, rel=1e-6)
    assert conv.params == 8 + 24 + 216


def test_depthwise_and_explicit_padding():
    _, dw = only("[convolutional]\nfilters=6\nsize=1\n"
                 "[convolutional]\nfilters=6\ngroups=6\nsize=5\nstride=2\npad=1\n")
    assert (dw.out_w, dw.out_h, dw.out_c) == (16, 16, 6)  # pad=1 means size/2 = 2
    assert dw.params == 6 + 1 * 6 * 25
    (c,) = only("[convolutional]\nfilters=2\nsize=3\npadding=0\n")
    assert (c.out_w, c.out_h) == (30, 30)


def test_pool_route_upsample_and_friends():
    layers = only(
        "[maxpool]\nsize=2\nstride=2\n"          # 0: 16x16x3
        "[convolutional]\nfilters=4\nsize=1\n"   # 1: 16x16x4
        "[route]\nlayers=-1,0\n"                 # 2: 16x16x7
        "[upsample]\nstride=2\n"                 # 3: 32x32x7
        "[upsample]\nstride=-4\n"                # 4: 8x8x7
        "[dropout]\n"                            # 5: 8x8x7
        "[avgpool]\n"                            # 6: 1x1x7
        "[connected]\noutput=10\nbatch_normalize=1\n"  # 7: 1x1x10
        "[softmax]\n"                            # 8: a flat vector of 10
    )
    shapes = [(m.out_w, m.out_h, m.out_c) for m in layers]
    # darknet leaves [softmax]'s out_w/h/c at 0: its output is a flat vector (outputs=10)
    assert shapes == [(16, 16, 3), (16, 16, 4), (16, 16, 7), (32, 32, 7), (8, 8, 7),
                      (8, 8, 7), (1, 1, 7), (1, 1, 10), (0, 0, 0)]
    assert [m.outputs for m in layers][-2:] == [10, 10]
    assert layers[0].bflops == pytest.approx(2 * 2 * 3 * 16 * 16 / 1e9, rel=1e-6)
    assert layers[7].params == 10 + 7 * 10 + 3 * 10
    assert layers[7].bflops == 0  # darknet does not count connected layers


def test_shortcut_weights_and_scale_channels():
    layers = only(
        "[convolutional]\nfilters=4\nsize=1\n"
        "[convolutional]\nfilters=4\nsize=1\n"
        # darknet stops on weights_type without weights_normalization
        "[shortcut]\nfrom=-2\nweights_type=per_channel\nweights_normalization=relu\n"
        "[avgpool]\n"
        "[scale_channels]\nfrom=-2\n"
    )
    sc, scale = layers[2], layers[4]
    assert sc.params == (1 + 1) * 4
    assert sc.bflops == pytest.approx(2 * 32 * 32 * 4 / 1e9, rel=1e-6)
    assert (scale.out_w, scale.out_h, scale.out_c) == (32, 32, 4)


def test_weights_floats_and_old_header():
    cfg = parse_cfg(NET.format(w=32, h=32, c=3) + "[convolutional]\nfilters=2\nsize=1\n"
                    "[maxpool]\n[convolutional]\nfilters=3\nsize=1\n")
    model = infer(cfg)
    assert model.weights_floats(0) == 0
    assert model.weights_floats(1) == 2 + 6
    assert model.weights_floats(2) == 8
    assert model.weights_floats() == 8 + 3 + 6
    assert expected_size(cfg) == 20 + 4 * 17
    assert file_size(infer(cfg).weights_floats(1), 0, 1) == 16 + 4 * 8
    assert header_size(1, 0) == 20


def test_infer_raises_on_the_first_problem():
    with pytest.raises(CfgError, match="points to layer 3"):
        infer(parse_cfg(NET.format(w=32, h=32, c=3) + "[route]\nlayers=3\n"))
