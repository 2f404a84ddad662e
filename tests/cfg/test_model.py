"""Parsing and writing .cfg text the way darknet reads it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enet4y2.cfg import Cfg, Section, load_cfg, parse_cfg, problems, warnings, write_cfg
from enet4y2.errors import CfgError, MissingFileError

TEXT = """\
# a comment
[net]
width = 416
height=320
; another comment
channels=3
batch=64
subdivisions = 16

[convolutional]
filters=32
 size = 3
activation=leaky
filters=64

[network]
"""


def test_sections_keep_types_options_and_lines():
    cfg = parse_cfg(TEXT, "x.cfg")
    assert [s.type for s in cfg.sections] == ["net", "convolutional", "network"]
    assert [s.line for s in cfg.sections] == [2, 10, 16]
    net, conv = cfg.sections[0], cfg.sections[1]
    assert net.options == {"width": "416", "height": "320", "channels": "3", "batch": "64",
                           "subdivisions": "16"}
    assert net.option_lines["subdivisions"] == 8
    assert conv.option_lines == {"filters": 11, "size": 12, "activation": 13}
    assert (cfg.width, cfg.height, cfg.channels, cfg.batch, cfg.subdivisions) == (
        416, 320, 3, 64, 16)
    assert cfg.max_batches == 0  # darknet's default when absent
    assert cfg.path == "x.cfg"


def test_repeated_key_keeps_first_value_like_darknet_and_warns():
    cfg = parse_cfg(TEXT, "x.cfg")
    conv = cfg.sections[1]
    assert conv.options["filters"] == "32"
    assert conv.duplicates == [("filters", "64", 14)]
    (note,) = [n for n in warnings(cfg) if "repeats" in n]
    assert note.startswith("x.cfg:14: filters=64 repeats line 11")
    assert "filters=32" in note


def test_net_and_layers_properties():
    cfg = parse_cfg(TEXT)
    assert cfg.net is cfg.sections[0]
    assert [s.type for s in cfg.layers] == ["convolutional", "network"]
    assert parse_cfg("[net]\nwidth=1\n").classes == 0


def test_missing_net_section_is_an_error():
    cfg = parse_cfg("[convolutional]\nfilters=1\n", "a.cfg")
    with pytest.raises(CfgError, match=r"^a\.cfg:1: the first section must be \[net\]"):
        _ = cfg.net


def test_option_before_any_section_is_an_error_naming_file_and_line():
    # darknet dereferences a NULL section there and crashes
    with pytest.raises(CfgError) as err:
        parse_cfg("filters=3\n[net]\n", "bad.cfg")
    message = str(err.value)
    assert message.startswith("bad.cfg:1: ")
    assert "before any section" in message
    assert "\n" not in message


GOOD = "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=2\n"


# Lines darknet reads without stopping (it drops or ignores them): warnings now, where
# they used to be syntax errors.
@pytest.mark.parametrize(
    ("tail", "line", "what"),
    [
        ("\nwidth\n", 8, "'width' has no '='"),
        ("width=\n", 7, "width= has no value and darknet drops the line"),
        ("=3\n", 7, "has no key ''"),
        ("[convolutional\n", 7, "unknown section [convolutional, which darknet skips"),
        ("[]\n", 7, "unknown section [], which darknet skips"),
    ],
)
def test_lines_darknet_ignores_are_warnings(tail, line, what):
    cfg = parse_cfg(GOOD + tail, "bad.cfg")
    assert problems(cfg) == []
    notes = [n for n in warnings(cfg) if n.startswith(f"bad.cfg:{line}: ")]
    assert any(what in n for n in notes), warnings(cfg)


def test_bare_key_hides_later_values_like_darknet():
    cfg = parse_cfg("[net]\nwidth\nwidth=8\nheight=8\nchannels=3\n", "b.cfg")
    assert "width" not in cfg.net.options and cfg.width == 0
    assert any("darknet uses its default" in n for n in warnings(cfg))


def test_values_are_read_with_atoi_like_darknet():
    cfg = parse_cfg("[net]\nwidth=41x6\nheight=64#comment\n", "n.cfg")
    assert (cfg.width, cfg.height) == (41, 64)


def test_classes_disagreeing_between_heads_raises():
    cfg = parse_cfg("[net]\n[yolo]\nclasses=3\n[yolo]\nclasses=4\n", "h.cfg")
    with pytest.raises(CfgError, match=r"disagree on classes: 3 \(line 3\), 4 \(line 5\)"):
        _ = cfg.classes
    assert parse_cfg("[net]\n[yolo]\nclasses=3\n[yolo]\nclasses=3\n").classes == 3


def test_write_is_stable_and_drops_comments():
    cfg = parse_cfg(TEXT)
    text = write_cfg(cfg)
    assert text.startswith("[net]\nwidth=416\nheight=320\n")
    assert "#" not in text and ";" not in text
    assert "\n\n[convolutional]\nfilters=32\nsize=3\nactivation=leaky\n\n[network]\n" in text
    assert write_cfg(parse_cfg(text)) == text


@pytest.mark.parametrize(
    "section",
    [Section("net", {"bad key": "1"}), Section("net", {"k": "a b"}), Section("a]b", {}),
     Section("net", {"#k": "1"}), Section("net", {"k=": "1"}), Section("net", {"k": ""})],
)
def test_write_refuses_what_darknet_would_misread(section):
    with pytest.raises(CfgError, match="cannot write"):
        write_cfg(Cfg([section]))


_token = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                        exclude_characters="=[]#;"), min_size=1, max_size=8)
_value = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126),
                 min_size=1, max_size=12)
_section = st.builds(
    lambda kind, opts: Section(kind, opts),
    st.one_of(st.sampled_from(["net", "convolutional", "yolo", "route"]), _token),
    st.dictionaries(_token, _value, max_size=6),
)


@given(st.lists(_section, max_size=6))
def test_parse_write_round_trip(sections):
    cfg = Cfg(sections)
    text = write_cfg(cfg)
    again = parse_cfg(text)
    assert again == cfg
    assert write_cfg(again) == text


def test_load_cfg(tmp_path):
    path = tmp_path / "m.cfg"
    path.write_text(TEXT)
    cfg = load_cfg(path)
    assert cfg.path == str(path)
    assert cfg.width == 416
    with pytest.raises(MissingFileError, match="no such cfg file"):
        load_cfg(tmp_path / "absent.cfg")
    (tmp_path / "w.weights").write_bytes(b"\x00\xff\xfe" * 10)
    (message,) = problems(load_cfg(tmp_path / "w.weights"))
    assert "not a text file" in message
