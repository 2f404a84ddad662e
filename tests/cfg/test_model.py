"""Parsing and writing .cfg text the way darknet reads it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enet4y2.cfg import Cfg, Section, load_cfg, parse_cfg, warnings, write_cfg
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
    (note,) = warnings(cfg)
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


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("filters=3\n[net]\n", 1, "before any section"),
        ("[net]\n\nwidth\n", 3, "cannot parse"),
        ("[net]\nwidth=\n", 2, "cannot parse"),
        ("[net]\n=3\n", 2, "cannot parse"),
        ("[net]\n[convolutional\n", 2, "malformed section header"),
        ("[net]\n[]\n", 2, "malformed section header"),
    ],
)
def test_syntax_errors_name_file_and_line(text, line, what):
    with pytest.raises(CfgError) as err:
        parse_cfg(text, "bad.cfg")
    message = str(err.value)
    assert message.startswith(f"bad.cfg:{line}: ")
    assert what in message
    assert "\n" not in message


def test_bad_integer_in_net_names_the_line():
    cfg = parse_cfg("[net]\nwidth=41x6\n", "n.cfg")
    with pytest.raises(CfgError, match=r"^n\.cfg:2: width=41x6 is not an integer"):
        _ = cfg.width


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
    with pytest.raises(CfgError, match="not a text file"):
        load_cfg(tmp_path / "w.weights")
