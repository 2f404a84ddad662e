"""The darknet .cfg text model: sections with their source lines, parsed the way darknet
reads them (`read_cfg`/`read_option` in upstream src/parser.c and src/option_list.c, over
`fgetl`/`strip` from src/utils.c) and written back in one stable format.

Darknet splits the file at b"\\n" only, removes every space, tab, CR and LF from a line,
skips lines that start with `#` or `;`, and takes the first `=` as the separator. A line
that starts with `[` opens a section whose type is the whole line. `key=` (nothing after
the `=`) is dropped with a message; a line without `=` is kept as a key with no value,
which hides later values of that key. When a key repeats darknet uses the first one; the
later ones are kept in `Section.duplicates` so validation can point at them. Values are
read with C's atoi/atof (`64#comment` is 64).
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2.cfg import clib
from enet4y2.errors import CfgError, MissingFileError

NET_TYPES = ("net", "network")
_WHITESPACE = str.maketrans("", "", " \t\r\n")


@dataclass
class Section:
    """One `[type]` block: its options in file order and where each came from."""

    type: str
    options: dict[str, str] = field(default_factory=dict)
    line: int = field(default=0, compare=False)
    option_lines: dict[str, int] = field(default_factory=dict, compare=False)
    #: later repeats of a key as (key, value, line); darknet ignores them.
    duplicates: list[tuple[str, str, int]] = field(default_factory=list, compare=False)
    #: keys on a line without `=` -> line; darknet finds no value there (its default).
    bare: dict[str, int] = field(default_factory=dict, compare=False)
    #: `key=` lines (nothing after `=`) as (key, line); darknet drops them.
    empty: list[tuple[str, int]] = field(default_factory=list, compare=False)
    #: the header line as darknet compares it (`[type]`); "" when built in code.
    header: str = field(default="", compare=False)

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
    #: lines holding a CR that is not their line ending (darknet does not split there).
    cr_lines: list[int] = field(default_factory=list, compare=False)
    #: the bytes hold NULs or are not UTF-8 (a .weights passed as the cfg?)
    binary: bool = field(default=False, compare=False)

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
        """An integer [net] option as darknet reads it (atoi), its default when absent."""
        value = self.net.get(key)
        return default if value is None else clib.atoi(value)

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
            found.setdefault(clib.atoi(sec.get("classes", "20")), sec)
        if len(found) > 1:
            desc = ", ".join(f"{n} (line {s.line_of('classes')})" for n, s in found.items())
            raise CfgError(f"{self.where()}: [yolo] heads disagree on classes: {desc} — "
                           "use the same classes= in every [yolo] section")
        return next(iter(found), 0)


def _clean(raw: str) -> str:
    return raw.translate(_WHITESPACE)


def _text(raw: bytes) -> str:
    # non-UTF-8 bytes never match a key, type or number darknet knows; show them escaped
    return raw.decode("utf-8", errors="backslashreplace")


def parse_cfg(text: str | bytes, path: str | None = None) -> Cfg:
    """Parse .cfg text or bytes as darknet's read_cfg does. CfgError naming `file:line`
    only where darknet itself fails while reading: an option before any section (it
    dereferences a NULL section there)."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    name = path or "<cfg>"
    cfg = Cfg(sections=[], path=path, binary=b"\0" in data or not _is_utf8(data))
    for lineno, raw in enumerate(clib.fgetl_lines(data), start=1):
        if b"\r" in raw:
            cfg.cr_lines.append(lineno)
        line = _text(clib.strip(raw))
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            inner = line[1:-1] if len(line) >= 2 and line.endswith("]") else line
            cfg.sections.append(Section(type=inner, line=lineno, header=line))
            continue
        if not cfg.sections:
            raise CfgError(f"{name}:{lineno}: option {_show(raw)} before any section — "
                           f"darknet crashes on it{_cr_hint(cfg, lineno)}{binary_hint(cfg)}; "
                           "start the file with [net]")
        _add_option(cfg.sections[-1], line, lineno)
    return cfg


def _add_option(sec: Section, line: str, lineno: int) -> None:
    key, sep, value = line.partition("=")
    if sep and not value:
        sec.empty.append((key, lineno))  # read_option returns 0: the line is dropped
    elif not sep:
        if key not in sec.options and key not in sec.bare:
            sec.bare[key] = lineno
    elif key in sec.options or key in sec.bare:
        sec.duplicates.append((key, value, lineno))
    else:
        sec.options[key] = value
        sec.option_lines[key] = lineno


def _show(raw: bytes) -> str:
    text = _text(raw).strip()
    return repr(text if len(text) <= 60 else text[:57] + "...")


def shown(text: str) -> str:
    """`text` for a message: control characters (a form feed, a CR) written as escapes."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def binary_hint(cfg: Cfg) -> str:
    return " (not a text file: is it a .weights? pass the .cfg)" if cfg.binary else ""


def _cr_hint(cfg: Cfg, lineno: int) -> str:
    if lineno in cfg.cr_lines:
        return (" (this line holds carriage returns: the file has CR-only (old Mac) line "
                "endings, which darknet reads as one line — save it with \\n line endings)")
    return ""


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
    return clib.atoi(text)


def net_option(text: str, key: str) -> str | None:
    """A `[net]` option of cfg text as darknet reads it (spaces removed, comments and
    other sections ignored, first value wins); None when absent. Never raises, so a
    view can read max_batches from a cfg that does not parse as a whole."""
    in_net = False
    for raw in text.split("\n"):  # darknet splits at \n only
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
    lines = text.split("\n")  # darknet splits at \n only
    if lines and lines[-1] == "":
        lines.pop()
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
    """Read and parse a .cfg file as darknet reads it; MissingFileError when it does not
    exist or is not a regular file (a FIFO or /dev/zero would never end)."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
        if stat.S_ISDIR(mode):
            raise MissingFileError(f"{p}: is a directory, not a cfg file — name a .cfg")
        if not stat.S_ISREG(mode):
            raise MissingFileError(f"{p}: not a regular file — name a .cfg file")
        data = p.read_bytes()
    except MissingFileError:
        raise
    except FileNotFoundError:
        raise MissingFileError(f"{p}: no such cfg file — check the path") from None
    except OSError as exc:
        raise MissingFileError(f"{p}: cannot be read ({exc.strerror})") from None
    return parse_cfg(data, str(p))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
