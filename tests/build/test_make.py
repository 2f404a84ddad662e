"""`make darknet` logic that needs no compiler run: arguments, flags, source checks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from enet4y2 import DARKNET_PINNED_COMMIT
from enet4y2.build import make as build
from enet4y2.build import source
from enet4y2.errors import BuildError


def test_assignments_as_make_passes_them():
    assert build.parse_assignments(["GPU=1", "ARCH=", "darknet_src=/x"]) == {
        "GPU": "1", "ARCH": "", "DARKNET_SRC": "/x"}
    with pytest.raises(BuildError, match="KEY=VALUE"):
        build.parse_assignments(["GPU"])


def test_switch_values_are_checked():
    with pytest.raises(BuildError, match="GPU=yes"):
        build.resolve_flags({"GPU": "yes"})


@pytest.mark.parametrize(("requested", "message"), [
    ({"GPU": "0", "CUDNN": "1"}, "CUDNN=1 needs GPU=1"),
    ({"GPU": "1", "CUDNN": "0", "CUDNN_HALF": "1", "ARCH": "x"}, "CUDNN_HALF=1 needs CUDNN=1"),
])
def test_inconsistent_flags(requested, message):
    with pytest.raises(BuildError, match=message):
        build.resolve_flags({"OPENCV": "0", "OPENMP": "0", "AVX": "0", **requested})


def test_explicit_flags_win_and_arch_only_with_gpu():
    flags = build.resolve_flags({"OPENCV": "0", "OPENMP": "0", "AVX": "0", "ARCH": "ignored"})
    assert flags == build.Flags()
    assert flags.make_args() == ["GPU=0", "CUDNN=0", "CUDNN_HALF=0", "OPENCV=0", "OPENMP=0",
                                 "AVX=0", "LIBSO=1"]
    gpu = build.Flags(GPU=1, CUDNN=1, ARCH="-gencode arch=compute_90,code=sm_90")
    assert gpu.make_args()[-1] == "ARCH=-gencode arch=compute_90,code=sm_90"
    assert gpu.defines() == ["-DGPU", "-DCUDNN"]


def test_avx2_detection_reads_cpu_flags():
    assert build.cpu_supports_avx2("flags\t\t: fpu sse4_1 sse4_2 avx avx2 fma\n")
    assert not build.cpu_supports_avx2("flags\t\t: fpu sse4_1 sse4_2 avx\n")
    assert not build.cpu_supports_avx2("processor: 0\n")


def test_git_blob_sha1_is_gits():
    assert source.git_blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_pinned_manifest_covers_the_build_inputs():
    manifest = source.pinned_manifest()
    assert "include/darknet.h" in manifest and "Makefile" in manifest
    assert all(len(sha) == 40 for sha in manifest.values())


def test_tree_differences(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.c").write_bytes(b"int a;\n")
    (tmp_path / "src" / "b.c").write_bytes(b"changed\n")
    manifest = {"src/a.c": source.git_blob_sha1(b"int a;\n"),
                "src/b.c": source.git_blob_sha1(b"int b;\n"),
                "src/c.c": source.git_blob_sha1(b"int c;\n")}
    assert source.tree_differences(tmp_path, manifest) == ["src/b.c (differs)",
                                                           "src/c.c (missing)"]


def _fake_tree(path):
    (path / "include").mkdir(parents=True)
    (path / "include" / "darknet.h").write_text("/* not darknet */\n")
    (path / "Makefile").write_text("all:\n")


def test_a_plain_tree_of_other_files_is_refused(tmp_path):
    _fake_tree(tmp_path)
    with pytest.raises(BuildError, match=r"not the pinned darknet .*DARKNET_ALLOW_OTHER=1"):
        source.check_tree(tmp_path, "test", allow_other=False)
    assert source.check_tree(tmp_path, "test", allow_other=True).check == "unverified"


def test_a_git_checkout_at_another_commit_is_refused(tmp_path):
    _fake_tree(tmp_path)
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    with pytest.raises(BuildError, match=r"is at commit \w{12}, not the pinned "
                                         + DARKNET_PINNED_COMMIT[:12]):
        source.check_tree(tmp_path, "test", allow_other=False)
    allowed = source.check_tree(tmp_path, "test", allow_other=True)
    assert allowed.check == "git" and allowed.commit != DARKNET_PINNED_COMMIT


def test_no_source_says_how_to_provide_one(tmp_path):
    with pytest.raises(BuildError, match="set DARKNET_SRC=<dir>"):
        source.resolve(tmp_path / "third_party" / "darknet", None, False, allow_clone=False)


def test_darknet_src_must_be_a_directory_or_an_archive(tmp_path):
    with pytest.raises(BuildError, match=r"neither a directory nor a .*tar\.gz"):
        source.resolve(tmp_path / "dest", str(tmp_path / "nowhere"), False)


def test_make_darknet_without_source_is_one_line(tmp_path):
    # Through the command `make darknet` calls (`enet4y2 build`): exit 1, one line.
    env_dest = tmp_path / "dest"
    proc = subprocess.run([sys.executable, "-m", "enet4y2", "build", f"DEST={env_dest}",
                           f"DARKNET_SRC={tmp_path / 'missing'}"], capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "DARKNET_SRC" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_populate_copies_sources_but_no_build_outputs(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    (src / "src").mkdir(parents=True)
    (src / "src" / "a.c").write_text("int a;\n")
    (src / "Makefile").write_text("all:\n")
    (src / "obj").mkdir()
    (src / "obj" / "a.o").write_text("x")
    (src / ".enet4y2").mkdir()
    for name in ("darknet", "libdarknet.so", ".enet4y2-build.json"):
        (src / name).write_text("built")
    source.populate(src, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["Makefile", "src"]
    assert (dest / "src" / "a.c").read_text() == "int a;\n"
