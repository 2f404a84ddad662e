"""The darknet .cfg text model: sections with their source lines, parsed the way darknet
reads them (`read_cfg` in upstream src/parser.c) and written back in one stable format.

Darknet removes *every* space and tab from a line before looking at it, skips lines that
start with `#` or `;`, and takes the first `=` as the separator. When a key repeats in a
section darknet uses the first value; the later ones are kept in `Section.duplicates` so
validation can point at them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2.errors import CfgError, MissingFileError

NET_TYPES = ("net", "network")
_WHITESPACE = str.maketrans("", "", " \t\r\n")
_LEADING_INT = re.compile(r"\s*[-+]?\d+")


@dataclass
class Section:
    """One `[type]` block: its options in file order and where each came from."""

    type: str
    options: dict[str, str] = field(default_factory=dict)
    line: int = field(default=0, compare=False)
    option_lines: dict[str, int] = field(default_factory=dict, compare=False)
    #: later repeats of a key as (key, value, line); darknet ignores them.
    duplicates: list[tuple[str, str, int]] = field(default_factory=list, compare=False)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.options.get(key, default)

    def line_of(self, key: str | None = None) -> int:
        """The line of `key` when present, else the section header's line."""
        if key is not None and key in self.option_lines:
            return self.option_lines[key]
        return self.line


@dataclass
class Cfg:
    """A whole .cfg: the `[net]` section first, then one section per layer."""

    sections: list[Section]
    path: str | None = field(default=None, compare=False)

    @property
    def net(self) -> Section:
        if not self.sections or self.sections[0].type not in NET_TYPES:
            first = self.sections[0] if self.sections else None
            raise CfgError(f"{self.where(first)}: the first section must be [net] — add a [net] "
                           "section with width, height and channels at the top")
        return self.sections[0]

    @property
    def layers(self) -> list[Section]:
        if self.sections and self.sections[0].type in NET_TYPES:
            return self.sections[1:]
        return list(self.sections)

    def where(self, section: Section | None = None, key: str | None = None) -> str:
        """`file:line` for messages (the header line, or the key's line when known)."""
        name = self.path or "<cfg>"
        return f"{name}:{section.line_of(key)}" if section is not None else name

    def net_int(self, key: str, default: int) -> int:
        """An integer [net] option with darknet's default when absent."""
        net = self.net
        value = net.get(key)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise CfgError(f"{self.where(net, key)}: {key}={value} is not an integer — "
                           f"write a whole number, e.g. {key}={default or 1}") from None

    @property
    def width(self) -> int:
        return self.net_int("width", 0)

    @property
    def height(self) -> int:
        return self.net_int("height", 0)

    @property
    def channels(self) -> int:
        return self.net_int("channels", 0)

    @property
    def batch(self) -> int:
        return self.net_int("batch", 1)

    @property
    def subdivisions(self) -> int:
        return self.net_int("subdivisions", 1)

    @property
    def max_batches(self) -> int:
        return self.net_int("max_batches", 0)

    @property
    def yolo_sections(self) -> list[Section]:
        return [s for s in self.layers if s.type == "yolo"]

    @property
    def classes(self) -> int:
        """Classes of the [yolo] heads (0 without heads); CfgError when heads disagree."""
        found: dict[int, Section] = {}
        for sec in self.yolo_sections:
            raw = sec.get("classes", "20")
            try:
                found.setdefault(int(raw), sec)
            except ValueError:
                raise CfgError(f"{self.where(sec, 'classes')}: classes={raw} is not an "
                               "integer — write the number of classes") from None
        if len(found) > 1:
            desc = ", ".join(f"{n} (line {s.line_of('classes')})" for n, s in found.items())
            raise CfgError(f"{self.where()}: [yolo] heads disagree on classes: {desc} — "
                           "use the same classes= in every [yolo] section")
        return next(iter(found), 0)


def _clean(raw: str) -> str:
    return raw.translate(_WHITESPACE)


def parse_cfg(text: str, path: str | None = None) -> Cfg:
    """Parse .cfg text as darknet does; CfgError naming `file:line` on syntax errors."""
    name = path or "<cfg>"
    sections: list[Section] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _clean(raw)
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            if not line.endswith("]") or len(line) < 3:
                raise CfgError(f"{name}:{lineno}: malformed section header {raw.strip()!r} "
                               "— write it as [type], e.g. [convolutional]")
            sections.append(Section(type=line[1:-1], line=lineno))
            continue
        if not sections:
            raise CfgError(f"{name}:{lineno}: option {raw.strip()!r} before any section — "
                           "start the file with [net]")
        key, sep, value = line.partition("=")
        if not sep or not key or not value:
            raise CfgError(f"{name}:{lineno}: cannot parse {raw.strip()!r} — write key=value")
        sec = sections[-1]
        if key in sec.options:
            sec.duplicates.append((key, value, lineno))
        else:
            sec.options[key] = value
            sec.option_lines[key] = lineno
    return Cfg(sections=sections, path=path)


def write_cfg(cfg: Cfg) -> str:
    """The stable text form: `[type]`, then `key=value` lines, a blank line between
    sections. Comments and repeated keys are not kept; parse(write(x)) == x."""
    chunks = []
    for sec in cfg.sections:
        _check_token(sec.type, "section type", forbid="[]=")
        lines = [f"[{sec.type}]"]
        for key, value in sec.options.items():
            _check_token(key, "key", forbid="=[", first_forbid="#;")
            _check_token(value, f"value of {key}")
            lines.append(f"{key}={value}")
        chunks.append("\n".join(lines) + "\n")
    return "\n".join(chunks)


def _check_token(token: str, what: str, forbid: str = "", first_forbid: str = "") -> None:
    bad = (not token or _clean(token) != token or any(ch in token for ch in forbid)
           or token[0] in first_forbid or not token.isprintable())
    if bad:
        raise CfgError(f"cannot write {what} {token!r}: darknet would read it differently "
                       "— use a non-empty token without spaces, '=' or brackets")


def normalized_number(value: str) -> str:
    """A canonical spelling of a number or comma list (".1" -> "0.1", "1.50" -> "1.5")
    so cfgs can be compared by meaning; non-numbers come back unchanged."""
    parts = value.split(",")
    out = []
    for part in parts:
        try:
            num = float(part)
        except ValueError:
            return value
        out.append(repr(int(num)) if num.is_integer() else repr(num))
    return ",".join(out)


def c_atoi(text: str) -> int:
    """C's atoi, as darknet reads integer options: leading spaces, a sign, then digits up
    to the first non-digit (`64#comment` is 64); 0 when there are none."""
    m = _LEADING_INT.match(text)
    return int(m.group(0)) if m else 0


def net_option(text: str, key: str) -> str | None:
    """A `[net]` option of cfg text as darknet reads it (spaces removed, comments and
    other sections ignored, first value wins); None when absent. Never raises, so a
    view can read max_batches from a cfg that does not parse as a whole."""
    in_net = False
    for raw in text.splitlines():
        line = _clean(raw)
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            if in_net:
                return None
            in_net = line[1:-1] in NET_TYPES
            continue
        name, sep, value = line.partition("=")
        if in_net and sep and name == key:
            return value
    return None


def set_net_option(text: str, key: str, value: str) -> str:
    """The cfg text with `[net]`'s `key` set to `value` (replaced where darknet reads it,
    else added at the end of [net]); every other line kept as it is."""
    lines = text.splitlines()
    in_net, end = False, None
    for i, raw in enumerate(lines):
        line = _clean(raw)
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            if in_net:
                end = i
                break
            in_net = line[1:-1] in NET_TYPES
            continue
        if in_net and line.partition("=")[0] == key and "=" in line:
            lines[i] = f"{key}={value}"
            return "\n".join(lines) + "\n"
    lines.insert(len(lines) if end is None else end, f"{key}={value}")
    return "\n".join(lines) + "\n"


def load_cfg(path: str | Path) -> Cfg:
    """Read and parse a .cfg file; MissingFileError when it does not exist."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise MissingFileError(f"{p}: no such cfg file — check the path") from None
    except IsADirectoryError:
        raise MissingFileError(f"{p}: is a directory, not a cfg file — name a .cfg") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CfgError(f"{p}: not a text file (is it a .weights?) — pass the .cfg") from None
    return parse_cfg(text, str(p))
