"""`enet4y2 doctor`: the report without a build and with the real one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from enet4y2.build import record as build_record


def test_help_has_examples(cli):
    assert "Examples:" in cli.ok("doctor", "--help").output


def test_doctor_without_a_build(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(tmp_path / "no-darknet"))
    result = cli("doctor", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["libdarknet"] is None
    assert any("make darknet" in p for p in report["problems"])
    assert report["python_deps"]["numpy"] == np.__version__
    text = cli("doctor")
    assert text.exit_code == 1 and "not built" in text.stdout
    assert all(line.startswith("missing: ") for line in text.stderr.splitlines())


@pytest.mark.darknet
def test_doctor_with_the_build(cli):
    result = cli("doctor", "--json")
    report = json.loads(result.stdout)
    assert report["build"] == build_record.read()
    assert report["binding"].startswith("ok")
    result = cli("doctor")
    assert "build flags" in result.stdout and report["build"]["commit"][:12] in result.stdout


def _build_needing_the_cuda_driver(root):
    """A build folder whose binding, like a GPU build's, needs libcuda.so.1 at load time:
    linked against a throwaway libcuda.so.1 that is then removed (as on a machine with the
    CUDA toolkit but no NVIDIA driver)."""
    import importlib.machinery
    import shutil
    import subprocess

    gcc = shutil.which("gcc") or pytest.skip("needs gcc to link a library")
    stub = root / "stub"
    stub.mkdir()
    (stub / "c.c").write_text("int cuInit(unsigned int f) { return f; }\n")
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(stub / "libcuda.so.1"),
                    "-Wl,-soname,libcuda.so.1", str(stub / "c.c")], check=True)
    darknet = root / "darknet"
    cffi_dir = darknet / ".enet4y2" / "cffi"
    cffi_dir.mkdir(parents=True)
    (stub / "e.c").write_text("int cuInit(unsigned int); int f(void) { return cuInit(0); }\n")
    ext = cffi_dir / f"_enet4y2_darknet{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(ext), str(stub / "e.c"),
                    "-Wl,--no-as-needed", str(stub / "libcuda.so.1")], check=True)
    shutil.rmtree(stub)
    for name in ("darknet", "libdarknet.so"):
        (darknet / name).write_bytes(b"")
    build_record.write(darknet, {"commit": None, "flags": {"GPU": 1, "CUDNN": 1},
                                 "cuda_driver": "system"})
    return darknet


def test_gpu_build_without_a_driver_is_fine_and_says_the_driver_is_missing(
        cli, monkeypatch, tmp_path):
    monkeypatch.setenv("ENET4Y2_DARKNET_DIR", str(_build_needing_the_cuda_driver(tmp_path)))
    result = cli("doctor", "--json")
    assert result.exit_code == 1 and "Traceback" not in result.output
    report = json.loads(result.stdout)
    assert report["binding"].startswith("built") and "no libcuda.so.1" in report["binding"]
    assert any("GPU build is complete" in p and "no NVIDIA driver" in p
               for p in report["problems"])
    assert not any("run `make darknet` again" in p for p in report["problems"])
    import struct

    import cv2

    from enet4y2.cfg import infer, write_cfg
    from tests.tiny import tiny_cfg

    image = tmp_path / "x.png"
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    cfg, weights = tmp_path / "x.cfg", tmp_path / "x.weights"
    cfg.write_text(write_cfg(tiny_cfg()))
    weights.write_bytes(struct.pack("<iiiQ", 0, 2, 5, 0)
                        + bytes(4 * infer(tiny_cfg()).param_count))
    detect = cli("detect", image, "--cfg", cfg, "--weights", weights)
    assert detect.exit_code == 1 and detect.stderr.count("\n") == 1, detect.stderr
    assert "built for CUDA (GPU=1) and this machine has no NVIDIA driver" in detect.stderr
