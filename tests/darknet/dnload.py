"""Darknet's own verdict on a cfg: load it with libdarknet in a child process (darknet
exits or crashes the process on a bad cfg), under a memory limit of this machine's
physical memory and a timeout, and read what it printed."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from enet4y2.cfg import machine_memory

MARK = "ENET4Y2-LOADED"
CHILD = f"""
import resource, sys
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
from pathlib import Path
from enet4y2.darknet import low
low.load(Path(sys.argv[1]), None, int(sys.argv[2]))
print("\\n{MARK}", flush=True)
"""
BFLOPS = re.compile(r"Total BFLOPS\s+([0-9.]+)")


@dataclass(frozen=True)
class Loaded:
    """What happened when darknet loaded a cfg."""

    ok: bool
    returncode: int | str
    bflops: str | None  # as darknet printed it ("%5.3f")
    tail: str

    def why(self) -> str:
        last = [ln for ln in self.tail.splitlines() if ln.strip()][-2:]
        return f"rc={self.returncode}: " + " | ".join(last)


def darknet_load(path: Path, batch: int, *, cwd: Path, memory: int | None = None,
                 timeout: float = 180) -> Loaded:
    """`load_network_custom(path, NULL, 0, batch)` in a child: batch 0 reads the cfg as
    training does (its own batch/subdivisions), a positive batch as a detector does."""
    limit = memory or machine_memory()
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, str(path), str(batch), str(limit)],
                              cwd=cwd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Loaded(False, "timeout", None, "")
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    found = BFLOPS.findall(out)
    ok = proc.returncode == 0 and MARK in out
    return Loaded(ok, proc.returncode, found[-1] if found else None, out[-3000:])


def load_all(cfgs: list[Path], batch: int, *, cwd: Path, jobs: int = 2) -> dict[Path, Loaded]:
    with ThreadPoolExecutor(jobs) as pool:
        results = pool.map(lambda p: darknet_load(p, batch, cwd=cwd), cfgs)
        return dict(zip(cfgs, results, strict=True))
