"""Where the darknet source comes from, and whether it is the pinned commit.

Order (DESIGN.md): `DARKNET_SRC=` (a folder, or the archive GitHub serves,
`darknet-<commit>.tar.gz` / `.zip`), an already populated `third_party/darknet`, or a
clone of upstream at the pinned commit. A git checkout is checked by its HEAD; a plain
tree (an unpacked archive, a mirror) and an archive's contents by the git blob hashes of
the files the build uses, listed in `pinned-tree.txt` — so an offline copy is verified as
strictly as a clone. An archive of another commit is refused before it is unpacked.
"""

from __future__ import annotations

import filecmp
import hashlib
import os
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from enet4y2 import DARKNET_PINNED_COMMIT, proc
from enet4y2.build import record
from enet4y2.errors import BuildError
from enet4y2.fetch import extract

UPSTREAM_URL = "https://github.com/AlexeyAB/darknet"
MANIFEST = Path(__file__).with_name("pinned-tree.txt")

# Not copied from a source tree: VCS data, upstream's Windows build folder, build outputs.
_NOT_COPIED = {".git", "build", "obj", "backup", "results", "darknet", "uselib",
               "libdarknet.so", "bad.list", "predictions.jpg",
               ".enet4y2", record.NAME}  # our own build artefacts, when the source
                                         # is itself a `make darknet` tree


@dataclass(frozen=True)
class Source:
    """A darknet tree ready to build, and how its version was established."""

    path: Path
    commit: str | None
    check: str  # "git" (HEAD compared), "tree" (file hashes compared) or "unverified"
    origin: str


def git_blob_sha1(data: bytes) -> str:
    """Git's object id of a file's bytes: sha1(b"blob <size>\\0" + data)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def pinned_manifest() -> dict[str, str]:
    """path -> blob sha1 of the pinned commit's Makefile, include/, src/ and 3rdparty/stb."""
    entries = {}
    for line in MANIFEST.read_text().splitlines():
        sha, _, path = line.partition("  ")
        entries[path] = sha
    return entries


def tree_differences(root: Path, manifest: dict[str, str] | None = None) -> list[str]:
    """Files of the pinned tree that are missing or differ under `root` (extras ignored)."""
    manifest = pinned_manifest() if manifest is None else manifest
    diffs = []
    for rel, sha in manifest.items():
        f = root / rel
        if not f.is_file():
            diffs.append(f"{rel} (missing)")
        elif git_blob_sha1(f.read_bytes()) != sha:
            diffs.append(f"{rel} (differs)")
    return diffs


def _git_head(path: Path) -> str | None:
    if not (path / ".git").exists():
        return None
    return (proc.output(["git", "-C", str(path), "rev-parse", "HEAD"]) or "").strip() or None


def check_tree(path: Path, origin: str, allow_other: bool) -> Source:
    """Establish which darknet `path` holds; refuse another version unless allowed."""
    if not (path / "Makefile").is_file() or not (path / "include" / "darknet.h").is_file():
        raise BuildError(f"{path} is not a darknet source tree (no Makefile/include/darknet.h)")
    head = _git_head(path)
    override = "set DARKNET_ALLOW_OTHER=1 to build it anyway"
    if head is not None:
        if head != DARKNET_PINNED_COMMIT and not allow_other:
            raise BuildError(f"{path} is at commit {head[:12]}, not the pinned "
                             f"{DARKNET_PINNED_COMMIT[:12]} ({override})")
        if head == DARKNET_PINNED_COMMIT and not allow_other and (diffs := tree_differences(path)):
            raise BuildError(f"{path} has local changes to the pinned commit: "
                             f"{', '.join(diffs[:3])} ({override})")
        return Source(path, head, "git", origin)
    diffs = tree_differences(path)
    if not diffs:
        return Source(path, DARKNET_PINNED_COMMIT, "tree", origin)
    if not allow_other:
        shown = ", ".join(diffs[:3]) + (f" and {len(diffs) - 3} more" if len(diffs) > 3 else "")
        raise BuildError(f"{path} is not the pinned darknet {DARKNET_PINNED_COMMIT[:12]}: "
                         f"{shown} ({override})")
    return Source(path, None, "unverified", origin)


def _copy_if_changed(src: str, dst: str) -> str:
    """Copy unless `dst` already holds the same bytes: an unchanged file keeps its mtime,
    so upstream's make rebuilds only what changed (an archive unpacked again gives every
    file a new mtime; its content decides)."""
    if not (os.path.isfile(dst) and os.path.getsize(dst) == os.path.getsize(src)
            and filecmp.cmp(src, dst, shallow=False)):
        shutil.copy2(src, dst)
    return dst


def populate(src: Path, dest: Path) -> None:
    """Copy what the build needs from `src` into `dest`, keeping unchanged files' mtimes
    so upstream's Makefile rebuilds only what changed."""
    dest.mkdir(parents=True, exist_ok=True)
    for s in src.iterdir():
        if s.name in _NOT_COPIED:
            continue
        if s.is_dir() and not s.is_symlink():
            shutil.copytree(s, dest / s.name, dirs_exist_ok=True, symlinks=True,
                            copy_function=_copy_if_changed)
        elif s.is_file():
            _copy_if_changed(str(s), str(dest / s.name))


def clone(dest: Path) -> None:
    """Clone upstream at the pinned commit into `dest` (needs network)."""
    tmp = dest.with_name(dest.name + ".clone-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for argv, timeout in ((["git", "clone", "--quiet", "--no-checkout", UPSTREAM_URL, tmp], 600),
                          (["git", "-C", tmp, "checkout", "--quiet", DARKNET_PINNED_COMMIT], 120)):
        done = proc.run(argv, timeout=timeout)
        if not done.ok:
            shutil.rmtree(tmp, ignore_errors=True)
            raise BuildError(
                f"no darknet source: cloning {UPSTREAM_URL} failed ({done.reason()}) — set "
                f"DARKNET_SRC= to a checkout, an unpacked tree or the archive "
                f"darknet-{DARKNET_PINNED_COMMIT}.tar.gz")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)


ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")


def archive_commit(archive: Path) -> str | None:
    """The commit an archive as GitHub serves it holds: its top folder is
    `darknet-<commit>/` (tarballs also carry it as the pax `comment`)."""
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                comment = zf.comment.decode(errors="replace").strip()
                tops = {n.split("/", 1)[0] for n in zf.namelist()}
        else:
            with tarfile.open(archive, "r:*") as tf:
                comment = tf.pax_headers.get("comment", "").strip()
                first = tf.next()
                tops = {first.name.split("/", 1)[0]} if first else set()
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise BuildError(f"{archive} is not a readable archive ({exc}) — download it "
                         "again") from None
    if len(tops) != 1:
        return None
    top = tops.pop()
    folder = top.removeprefix("darknet-") if top.startswith("darknet-") else None
    if comment and folder and comment != folder:
        return None
    return comment or folder


def unpack_archive(archive: Path, dest: Path, allow_other: bool) -> Source:
    """Extract a `darknet-<commit>` archive safely and check it file by file; the tree
    is copied into `dest` by the caller. Another commit is refused unless allowed."""
    commit = archive_commit(archive)
    if commit != DARKNET_PINNED_COMMIT and not allow_other:
        found = f"commit {commit[:12]}" if commit else "no darknet-<commit>/ top folder"
        raise BuildError(f"{archive} holds {found}, not the pinned "
                         f"{DARKNET_PINNED_COMMIT[:12]} — use darknet-"
                         f"{DARKNET_PINNED_COMMIT}.tar.gz (or DARKNET_ALLOW_OTHER=1)")
    work = dest.with_name(f".{dest.name}.unpack-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    try:
        extract.extract(archive, work)
        roots = [p for p in work.iterdir() if p.is_dir() and p.name != extract.MARKER_DIR]
        if len(roots) != 1:
            raise BuildError(f"{archive} does not hold one darknet-<commit>/ folder")
        found = check_tree(roots[0], f"DARKNET_SRC={archive}", allow_other)
        populate(roots[0], dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Source(dest, found.commit, found.check, found.origin)


def resolve(dest: Path, darknet_src: str | None, allow_other: bool,
            allow_clone: bool = True) -> Source:
    """Find, verify and (if needed) copy the source into `dest`; return what was used."""
    if darknet_src:
        src = Path(darknet_src).expanduser().resolve()
        if src.is_file() and src.name.endswith(ARCHIVE_SUFFIXES):
            return unpack_archive(src, dest, allow_other)
        if not src.is_dir():
            raise BuildError(f"DARKNET_SRC={darknet_src} is neither a directory nor a "
                             f"{'/'.join(ARCHIVE_SUFFIXES)} archive of darknet")
        source = check_tree(src, f"DARKNET_SRC={src}", allow_other)
        if src != dest.resolve():
            populate(src, dest)
        return Source(dest, source.commit, source.check, source.origin)
    if (dest / "Makefile").is_file():
        return check_tree(dest, f"existing {dest}", allow_other)
    if not allow_clone:
        raise BuildError(f"no darknet source: set DARKNET_SRC=<dir> to a checkout or unpacked "
                         f"tree of {UPSTREAM_URL} at {DARKNET_PINNED_COMMIT}")
    clone(dest)
    return check_tree(dest, f"clone of {UPSTREAM_URL}", allow_other)
