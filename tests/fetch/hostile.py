"""Hostile archives and the checks every extraction of one must pass.

An archive is a list of entries `(kind, name, payload)`: kind "file" (payload: bytes),
"dir", "symlink" or "hardlink" (payload: the link text). `{OUT}` in a link text stands
for the absolute path of the sandbox's outside folder. A sandbox is a folder holding
`outside/` (a canary file and a sub-folder, which must never change), `target/` and the
archive; `Sandbox.assert_confined` checks what an extraction, failed or not, left behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import warnings
import zipfile
from pathlib import Path

CANARY = b"canary: must never change\n"
ENTRY_KINDS = ("file", "dir", "symlink", "hardlink")
Entry = tuple[str, str, "bytes | str"]


def build_tar(path: Path, entries: list[Entry], outside: Path, mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for kind, name, payload in entries:
            info = tarfile.TarInfo(name)
            body = None
            if kind == "file":
                body = io.BytesIO(payload)
                info.size = len(payload)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = payload.replace("{OUT}", str(outside))
            tf.addfile(info, body)
    return path


def zip_symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def build_zip(path: Path, entries: list[Entry], outside: Path) -> Path:
    """Zip has no hard links: those entries are left out."""
    with zipfile.ZipFile(path, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are part of the game
        for kind, name, payload in entries:
            if kind == "file":
                zf.writestr(name, payload)
            elif kind == "dir":
                zf.writestr(name.rstrip("/") + "/", b"")
            elif kind == "symlink":
                zf.writestr(zip_symlink_info(name), payload.replace("{OUT}", str(outside)))
    return path


def build(fmt: str, path: Path, entries: list[Entry], outside: Path) -> Path:
    if fmt == "zip":
        return build_zip(path.with_suffix(".zip"), entries, outside)
    mode = {"tar": "w", "tgz": "w:gz"}[fmt]
    return build_tar(path.with_suffix("." + fmt), entries, outside, mode)


class Sandbox:
    """`base/outside` (must stay unchanged), `base/target` (extraction goes here)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.outside = base / "outside"
        self.target = base / "target"
        (self.outside / "sub").mkdir(parents=True)
        (self.outside / "canary.txt").write_bytes(CANARY)
        self.target.mkdir()
        self.before = self.snapshot()
        self.preexisting: set[str] = set()

    def plant_symlink(self, name: str, text: str) -> None:
        """A symlink already in the target before extraction (the user's or stale)."""
        path = self.target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(text.replace("{OUT}", str(self.outside)), path)
        self.preexisting.add(name)

    def snapshot(self) -> dict[str, tuple]:
        """Everything in `base` outside `target` (links not followed), plus /etc/passwd."""
        shot = {"/etc/passwd": _describe(Path("/etc/passwd"))}
        for root, dirs, files in os.walk(self.base):
            dirs[:] = [d for d in dirs if Path(root, d) != self.target]
            for name in dirs + files:
                path = Path(root, name)
                if path.suffix not in (".zip", ".tar", ".tgz") or path.parent != self.base:
                    shot[str(path.relative_to(self.base))] = _describe(path)
        return shot

    def assert_confined(self, member_names: set[str] = frozenset()) -> None:
        """Nothing outside changed; no temp file left; no file in the target is a hard
        link to one outside; no symlink the archive made resolves outside."""
        assert self.snapshot() == self.before
        outside_inodes = {(s[4], s[5]) for s in self.before.values() if s[0] == "file"}
        root = os.path.realpath(self.target)
        for path in walk(self.target):
            rel = path.relative_to(self.target).as_posix()
            st = path.lstat()
            temp = path.name.endswith(".partial") and not stat.S_ISDIR(st.st_mode)
            if temp and rel not in member_names | self.preexisting:
                raise AssertionError(f"temp file left behind: {rel}")
            if stat.S_ISREG(st.st_mode):
                assert (st.st_dev, st.st_ino) not in outside_inodes, f"{rel} links outside"
            if stat.S_ISLNK(st.st_mode) and rel not in self.preexisting:
                real = os.path.realpath(path)
                assert real == root or real.startswith(root + "/"), f"{rel} -> {real}"


def walk(top: Path):
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            yield Path(root, name)


def _describe(path: Path) -> tuple:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path), st.st_mtime_ns, 0, st.st_dev, st.st_ino)
    if stat.S_ISDIR(st.st_mode):
        return ("dir", sorted(os.listdir(path)), st.st_mtime_ns, st.st_mode, st.st_dev,
                st.st_ino)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ("file", digest, st.st_mtime_ns, st.st_size, st.st_dev, st.st_ino)
