"""`cfg check` is exactly as strict as darknet: every cfg in the pinned upstream archive's
cfg/ folder is loaded by libdarknet in a child process (batch 1, width/height as in the
cfg, two at a time) and `check_file` must give the same verdict; where both accept and
the shapes are known to the last layer, our BFLOPs are darknet's "Total BFLOPS"."""

from __future__ import annotations

import shutil
import tarfile
import time
from pathlib import Path

import pytest

from enet4y2 import DARKNET_PINNED_COMMIT, paths
from enet4y2.cfg import check, load_cfg
from enet4y2.modelfiles import check_file
from tests.darknet.dnload import darknet_load, load_all

pytestmark = pytest.mark.darknet

ARCHIVE = paths.shared_dir() / "upstream" / f"darknet-{DARKNET_PINNED_COMMIT}.tar.gz"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> Path:
    """The archive's cfg/ and data/ folders, unpacked (the cfgs name data/ files)."""
    if not ARCHIVE.is_file():
        pytest.skip(f"pinned upstream archive not found at {ARCHIVE} (the cfgs come from it)")
    root = tmp_path_factory.mktemp("upstream")
    top = f"darknet-{DARKNET_PINNED_COMMIT}/"
    with tarfile.open(ARCHIVE) as tar:
        members = [m for m in tar.getmembers()
                   if m.isfile() and m.name.startswith((top + "cfg/", top + "data/"))]
        for member in members:
            member.name = member.name[len(top):]
        tar.extractall(root, members=members, filter="data")
    return root


@pytest.fixture(scope="module")
def verdicts(upstream):
    cfgs = sorted(Path("cfg") / p.name for p in (upstream / "cfg").glob("*.cfg"))
    started = time.monotonic()
    loaded = load_all(cfgs, 1, cwd=upstream)
    return loaded, time.monotonic() - started


def test_every_upstream_cfg_gets_darknets_verdict_and_bflops(upstream, verdicts, monkeypatch):
    loaded, seconds = verdicts
    monkeypatch.chdir(upstream)  # tree=/map= paths are relative to where darknet runs
    assert len(loaded) == 87
    rows, wrong, flops = [], [], []
    for cfg, dn in loaded.items():
        report = check_file(cfg, batch=1)
        rows.append((cfg.name, dn.ok, report["ok"]))
        if report["ok"] != dn.ok:
            said = report["problems"][:1] or report["warnings"][-1:]
            wrong.append(f"{cfg.name}: darknet {'loads' if dn.ok else 'refuses'} it "
                         f"({dn.why()}), check says {report['ok']}: {said}")
        elif dn.ok and report["bflops"] is not None:
            flops.append(cfg.name)
            if f"{report['bflops']:.3f}" != dn.bflops:
                wrong.append(f"{cfg.name}: BFLOPs {report['bflops']:.3f}, darknet {dn.bflops}")
    assert not wrong, "\n".join(wrong)
    accepted = sum(ok for _, ok, _ in rows)
    print(f"\n{len(rows)} upstream cfgs: darknet loads {accepted}, check accepts "
          f"{sum(ok for *_, ok in rows)}, verdicts agree on {len(rows) - len(wrong)}, BFLOPs "
          f"equal on {len(flops)} of {len(flops)} fully inferred; loads took {seconds:.0f} s")
    # the shapes are known to the end of every cfg darknet loads
    assert len(flops) == accepted


def test_a_missing_tree_file_is_refused_by_both(upstream, tmp_path, monkeypatch):
    cfg = tmp_path / "yolo9000.cfg"
    shutil.copy(upstream / "cfg" / "yolo9000.cfg", cfg)
    monkeypatch.chdir(tmp_path)  # data/9k.tree is not here
    assert not darknet_load(cfg, 1, cwd=tmp_path).ok
    (problem, *_) = check_file(cfg, batch=1)["problems"]
    assert "tree=data/9k.tree: no such file" in problem


@pytest.mark.parametrize("name", ["yolov4.cfg", "yolov3-tiny.cfg", "efficientnet_b0.cfg",
                                  "darknet53_448_xnor.cfg", "yolov4-tiny.cfg"])
@pytest.mark.parametrize("batch", [1, 0])
def test_memory_is_what_darknet_allocates(upstream, name, batch):
    """VmPeak grows by what darknet allocates; our count is within 2% of it."""
    import subprocess
    import sys

    child = ("import sys\nfrom pathlib import Path\n"
             "def vm():\n"
             "    return next(int(ln.split()[1]) * 1024 for ln in open('/proc/self/status')"
             " if ln.startswith('VmPeak'))\n"
             "from enet4y2.darknet import low\nfrom enet4y2.darknet._ffi import load\n"
             "load()\nbefore = vm()\n"
             "low.load(Path(sys.argv[1]), None, int(sys.argv[2]), capture=[])\n"
             "print(vm() - before)\n")
    path = upstream / "cfg" / name
    out = subprocess.run([sys.executable, "-c", child, str(path), str(batch)],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    grown = int(out.split()[-1])
    model = check(load_cfg(path), batch=batch or None, memory=1 << 60).model
    assert model is not None and model.complete
    assert model.memory_bytes == pytest.approx(grown, rel=0.02)
