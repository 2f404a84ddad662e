"""The run folder: shards with stable ids, `manifest.json`, one JSON-lines file per finished
shard (written atomically), resuming and merging. Engine-independent and pure but for files."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from enet4y2.errors import OutputError
from enet4y2.fileio import atomic_write, atomic_write_json

FORMAT = "enet4y2-run/1"
DEFAULT_SHARD_SIZE = 64


@dataclass(frozen=True)
class Shard:
    """Items `start`..`start+len(items)` of the input list; `id` is its index."""

    id: int
    start: int
    items: tuple

    @property
    def name(self) -> str:
        return f"{self.id:05d}"


def plan(items: Sequence, shard_size: int = DEFAULT_SHARD_SIZE) -> list[Shard]:
    """The list cut into shards of `shard_size` (the last one shorter), ids 0, 1, ..."""
    if shard_size < 1:
        raise ValueError("shard_size must be at least 1")
    return [Shard(i, start, tuple(items[start:start + shard_size]))
            for i, start in enumerate(range(0, len(items), shard_size))]


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def list_hash(items: Sequence) -> str:
    """A hash of the input list (order included)."""
    return hashlib.sha256(json.dumps(list(items)).encode()).hexdigest()


def manifest(kind: str, model_files: dict[str, str | os.PathLike | None], model: dict,
             options: dict, items: Sequence, shard_size: int) -> dict:
    """What makes a run's output what it is: the model files' sha256 (not their paths), the
    engine settings, the options, the input list and the shard size."""
    files = {role: sha256_file(path) for role, path in model_files.items() if path is not None}
    return {"format": FORMAT, "kind": kind, "model": {**model, "sha256": files},
            "options": options, "images": {"count": len(items), "sha256": list_hash(items)},
            "shard_size": shard_size}


def _first_difference(old: object, new: object, where: str = "") -> str | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            found = _first_difference(old.get(key), new.get(key), f"{where}.{key}"
                                      if where else key)
            if found:
                return found
        return None
    return None if old == new else f"{where}: {_short(old)} then, {_short(new)} now"


def _short(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 20 else text[:17] + "..."


class RunFolder:
    """`root/manifest.json` and `root/shards/NNNNN.jsonl`."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.shards = self.root / "shards"

    def open(self, wanted: dict) -> None:
        """Create the folder with `wanted` as its manifest, or check that the manifest there
        is the same run (else a one-line OutputError naming the first difference)."""
        path = self.root / "manifest.json"
        try:
            self.shards.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"--out {self.root}: {exc.strerror} — choose a writable "
                              "folder") from None
        if path.is_file():
            try:
                old = json.loads(path.read_text())
            except (OSError, ValueError):
                raise OutputError(f"{path} is not a run manifest — use another --out") \
                    from None
            diff = _first_difference(old, wanted)
            if diff:
                raise OutputError(f"--out {self.root} holds a run with another model or "
                                  f"options ({diff}); rerun with the same ones or use "
                                  "another --out")
        elif any(self.shards.iterdir()):
            raise OutputError(f"{self.shards} has files but no manifest — use another --out")
        else:
            atomic_write_json(path, wanted, indent=2)

    def shard_path(self, shard: Shard) -> Path:
        return self.shards / f"{shard.name}.jsonl"

    def finished(self, shard: Shard) -> bool:
        """The shard's file is there with one line per item (files are written whole)."""
        try:
            text = self.shard_path(shard).read_text()
        except OSError:
            return False
        return text.count("\n") == len(shard.items)

    def write(self, shard: Shard, lines: Sequence[str]) -> Path:
        if len(lines) != len(shard.items):
            raise ValueError(f"shard {shard.name}: {len(lines)} lines for "
                             f"{len(shard.items)} items")
        return atomic_write(self.shard_path(shard), "".join(f"{line}\n" for line in lines))

    def lines(self, shards: Sequence[Shard]) -> list[str]:
        """Every shard's lines, in input order."""
        out: list[str] = []
        for shard in shards:
            out.extend(self.shard_path(shard).read_text().splitlines())
        return out
