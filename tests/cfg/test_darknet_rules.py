"""Darknet's rules, one by one, as `check` applies them: what it stops or crashes on is a
problem naming file:line, what it ignores or repairs is a warning; memory is judged for
the batch the network is loaded with. (tests/darknet/ loads the same kinds of cfgs in
libdarknet and compares the verdicts.)"""

from __future__ import annotations

import os
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enet4y2.cfg import check, infer, load_cfg, parse_cfg
from enet4y2.errors import CfgError, MissingFileError
from enet4y2.modelfiles import check_file

NET = "[net]\nbatch=8\nsubdivisions=2\nwidth=32\nheight=32\nchannels=3\n"
CONV = "[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=leaky\n"


def verdict(text: str, **kw):
    return check(parse_cfg(text, "r.cfg"), **kw)


def only_problem(text: str, **kw) -> str:
    found = verdict(text, **kw).problems
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "line", "expect"),
    [
        ("", 0, "no sections"),
        (CONV, 1, "the first section must be [net]"),
        ("[net]\rwidth=32\rheight=32\rchannels=3\r" + CONV.replace("\n", "\r"), 1,
         "CR-only (old Mac) line endings"),
        (NET.replace("subdivisions=2", "subdivisions=0") + CONV, 3, "subdivisions=0"),
        (NET + "policy=steps\nsteps=10,20,30\nscales=.1,.1\n" + CONV, 9,
         "2 scales for 3 steps"),
        (NET + "policy=steps\nsteps=10\n" + CONV, 1, "needs steps= and scales="),
        (NET.replace("batch=8", "batch=2") + "contrastive=1\n" + CONV, 7,
         "contrastive=1 needs a mini-batch"),
        (NET + CONV + "[shortcut]\n", 12, "needs from="),
        (NET + "[shortcut]\nfrom=-1\n", 7, "cannot be the first layer"),
        (NET + "[dropout]\n" + CONV, 7, "cannot be the first layer"),
        (NET + CONV + "[maxpool]\nstride=2\n[shortcut]\nfrom=-2\n", 15,
         "adds layer 0 (32x32) to a 16x16 input"),
        (NET + CONV + "[avgpool]\n[scale_channels]\nfrom=-2\nscale_wh=1\n", 14,
         "[scale_channels] gets a 1x1x4 input"),
        (NET + CONV + "[route]\nlayers=1\n", 13, "points to layer 1, not before this layer"),
        (NET + CONV + "[route]\nlayers=-1\ngroups=0\n", 14, "groups=0"),
        (NET + CONV + "[softmax]\ngroups=3\n", 13, "does not divide the 4096 inputs"),
        (NET + CONV + "[reorg]\nstride=0\n", 13, "stride=0"),
        (NET + CONV.replace("pad=1", "stride=0"), 10, "stride=0"),
        (NET + CONV.replace("pad=1", "sway=1\nrotate=1"), 7, "use only one of sway=1"),
        (NET + CONV + "[softmax]\ntree=no/such.tree\n", 13, "tree=no/such.tree: no such file"),
        (NET + CONV + "[shortcut]\nfrom=-1\nweights_type=per_layer\n", 12,
         "needs weights_normalization=relu or softmax"),
        (NET + CONV + "[convolutional]\nfilters=6\nsize=1\n[yolo]\nmask=0\nclasses=1\n"
         "counters_per_class=5,6\n", 18, "counters_per_class has 2 values for classes=1"),
        (NET + "[connected]\noutput=4\n[softmax]\n", 1, "divides by zero (avg_outputs)"),
        ("[net]\ninputs=32\n[connected]\noutput=8\n", 1, "divides by zero (avg_outputs)"),
    ],
)
def test_what_darknet_stops_on_is_a_problem(text, line, expect):
    message = only_problem(text)
    assert message.startswith(f"r.cfg:{line}: ") if line else message.startswith("r.cfg: ")
    assert expect in message and " — " in message


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (NET + CONV.replace("filters=4", "filters=4#8"), None),
        (NET + CONV.replace("filters=4", "filtres=4"), "did you mean filters?"),
        (NET + CONV + "\x0c\n", "'\\x0c' has no '='"),
        (NET + CONV.replace("[convolutional]", "[convolutional]\x0c") + CONV, None),
        (NET + CONV + "[upsampel]\n", "unknown section [upsampel], which darknet skips"),
        (NET.replace("subdivisions=2", "subdivisions=3") + CONV, "not a positive multiple"),
        (NET + CONV + "[route]\nlayers=-1\ngroup_id=2\ngroups=2\n", "group_id=2"),
        (NET + CONV.replace("pad=1", "stride=-1"), "negative -28x-28 output"),
        (NET + CONV + "[upsample]\nstride=2147483647\n", "wraps around"),
        (NET + CONV + "[policy]\n", "unknown section [policy]"),
        (NET + "policy=stepz\n" + CONV, "unknown policy=stepz; darknet uses constant"),
    ],
)
def test_what_darknet_ignores_or_repairs_is_a_warning(text, expect):
    v = verdict(text)
    if expect is None and "\x0c" in text:
        # [convolutional]\f is an unknown type darknet skips; the next conv then has no
        # image: darknet stops there, and the message names the odd header
        assert "unknown section [convolutional]\\x0c, which darknet skips" in only_problem(text)
        return
    assert v.problems == []
    if expect is None:
        assert v.warnings == []
    else:
        assert any(expect in w and " — " in w for w in v.warnings), v.warnings


def test_memory_is_judged_for_the_batch_it_is_loaded_with():
    text = NET.replace("batch=8", "batch=100000").replace("subdivisions=2", "subdivisions=1")
    text += CONV
    (message,) = verdict(text, memory=1 << 30).problems
    assert message.startswith("r.cfg:1: darknet needs 3.1 GiB to load this network (training "
                              "at mini-batch 100000), more than this machine's 1.0 GiB — ")
    # a detector loads it with its own batch: fine
    assert verdict(text, batch=1, memory=1 << 30).problems == []
    assert verdict(text, batch=1).model.memory_bytes < 1 << 20


def test_sizes_past_a_c_int_make_callocs_fail():
    text = NET + CONV.replace("filters=4", "filters=2000000000")
    assert any("calloc fails" in p for p in verdict(text, batch=1, memory=1 << 62).problems)


def test_inference_stops_at_layers_it_does_not_model():
    text = NET + CONV + "[conv_lstm]\noutput=4\n" + CONV
    v = verdict(text)
    assert v.problems == []
    assert any("shapes unknown from layer 1 on" in w for w in v.warnings)
    assert not v.model.complete and len(v.model.layers) == 1
    with pytest.raises(CfgError, match="shapes unknown from layer 1"):
        infer(parse_cfg(text))


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        ("[reorg3d]\nstride=2\n", (16, 16, 16)),
        ("[reorg]\nstride=2\nreverse=1\n", (64, 64, 1)),
        ("[local_avgpool]\nsize=2\nstride=2\n", (16, 16, 4)),
        ("[maxpool]\nsize=2\nstride=2\nantialiasing=1\n", (32, 32, 4)),
        ("[crop]\ncrop_width=8\ncrop_height=6\n", (8, 6, 4)),
        ("[convolutional]\nfilters=6\nsize=3\nstride=2\npad=1\nantialiasing=1\n", (32, 32, 6)),
    ],
)
def test_more_layer_types_are_inferred(layer, shape):
    model = verdict(NET + CONV + layer).model
    assert model.complete
    assert (model.layers[1].out_w, model.layers[1].out_h, model.layers[1].out_c) == shape


def test_antialiasing_passes_the_blurred_shape_on():
    text = NET + CONV + "[maxpool]\nsize=2\nstride=2\nantialiasing=1\n" + CONV
    assert [m.in_w for m in verdict(text).model.layers] == [32, 32, 16]


def test_check_file_refuses_fifos_and_devices(tmp_path):
    fifo = tmp_path / "f.cfg"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(MissingFileError, match="not a regular file"):
            load_cfg(path)
        with pytest.raises(MissingFileError, match="not a regular file"):
            check_file(path)


class _Slow(Exception):
    pass


def _alarm(signum, frame):
    raise _Slow


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400) | st.lists(st.sampled_from(
    [b"[net]\n", b"width=32\n", b"height=1\n", b"channels=3\n", b"[convolutional]\n",
     b"filters=99999\n", b"[route]\n", b"layers=-1,-9\n", b"[yolo]\n", b"mask=0,1\n",
     b"[shortcut]\n", b"from=-1\n", b"\r", b"\0", b"\x0c", b"#", b"=", b"batch=100000\n",
     b"[upsample]\n", b"stride=-3\n", b"[region]\n", b"[crnn]\n", b"[lstm]\n",
     b"[conv_lstm]\n", b"[contrastive]\n", b"yolo_layer=-1\n", b"[scale_channels]\n"]),
    max_size=30).map(b"".join))
def test_check_file_never_raises_or_hangs(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("c") / "x.cfg"
    path.write_bytes(data)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    try:
        report = check_file(path)
        check_file(path, batch=1)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert isinstance(report["ok"], bool)
    assert all(isinstance(m, str) and m for m in report["problems"] + report["warnings"])
