"""Safe, streamed, resumable extraction."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from enet4y2.errors import ArchiveError
from enet4y2.fetch import extract


def make_zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def make_tar(path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None):
    data = data or {}
    with tarfile.open(path, "w:gz") as tf:
        for info in members:
            body = data.get(info.name)
            if body is not None:
                info.size = len(body)
            tf.addfile(info, io.BytesIO(body) if body is not None else None)
    return path


def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def files_under(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


def test_zip_extracts_and_writes_marker_last(tmp_path):
    members = {"train2014/a.jpg": b"A" * 5000, "train2014/b.jpg": b"B" * 10}
    archive = make_zip(tmp_path / "t.zip", members)
    ticks = []
    written = extract.extract(archive, tmp_path / "out", ticks.append)
    assert written == 5010 and sum(ticks) == 5010
    for name, data in members.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    assert extract.is_extracted(archive, tmp_path / "out")
    assert extract.extract(archive, tmp_path / "out") == 0  # done already


@pytest.mark.parametrize("evil", ["../evil", "a/../../evil", "/tmp/enet4y2-evil-abs"])
def test_zip_escaping_member_is_refused_and_nothing_written(tmp_path, evil):
    archive = make_zip(tmp_path / "bad.zip", {"ok.txt": b"fine", evil: b"owned"})
    target = tmp_path / "sub" / "out"
    with pytest.raises(ArchiveError) as err:
        extract.extract(archive, target)
    assert repr(evil) in str(err.value)
    assert not (tmp_path / "sub" / "evil").exists() and not (tmp_path / "evil").exists()
    assert not (tmp_path / "enet4y2-evil-abs").exists()
    assert files_under(target) == []  # refused before anything was written


def test_tar_symlink_out_of_target_is_refused(tmp_path):
    archive = make_tar(tmp_path / "bad.tgz", [link("labels/escape", "../../etc")])
    with pytest.raises(ArchiveError, match="labels/escape"):
        extract.extract(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "labels" / "escape").exists()


def test_tar_absolute_symlink_and_hardlink_are_refused(tmp_path):
    for i, member in enumerate([link("x", "/etc/passwd"), link("y", "../z", tarfile.LNKTYPE)]):
        archive = make_tar(tmp_path / f"bad{i}.tgz", [member])
        with pytest.raises(ArchiveError, match=member.name):
            extract.extract(archive, tmp_path / "out")


def test_tar_symlink_chain_cannot_carry_a_file_outside(tmp_path):
    # d/x -> .. stays inside lexically; d/x/y -> .. would then point above the target.
    d = tarfile.TarInfo("d")
    d.type = tarfile.DIRTYPE
    members = [d, link("d/x", ".."), link("d/x/y", "..")]
    archive = make_tar(tmp_path / "chain.tgz", members)
    with pytest.raises(ArchiveError, match="d/x/y"):
        extract.extract(archive, tmp_path / "t" / "out")
    assert not (tmp_path / "t" / "y").exists()


def test_tar_gz_with_inside_links(tmp_path):
    f = tarfile.TarInfo("labels/val2014/a.txt")
    members = [f, link("labels/latest", "val2014")]
    archive = make_tar(tmp_path / "labels.tgz", members, {"labels/val2014/a.txt": b"0 0.5\n"})
    extract.extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "labels" / "latest" / "a.txt").read_bytes() == b"0 0.5\n"


def test_interrupted_extraction_is_finished_on_next_run(tmp_path):
    members = {f"img/{i}.jpg": bytes([i]) * (1000 + i) for i in range(5)}
    archive = make_zip(tmp_path / "t.zip", members)
    target = tmp_path / "out"
    seen = []

    def die_after_two(n):
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract.extract(archive, target, die_after_two)
    assert not extract.is_extracted(archive, target)
    (target / "img" / "0.jpg").write_bytes(b"truncated")  # a damaged member is redone
    extract.extract(archive, target)
    assert extract.is_extracted(archive, target)
    for name, data in members.items():
        assert (target / name).read_bytes() == data
    assert not list(target.rglob(".*.partial"))


def test_not_an_archive(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"definitely not an archive")
    with pytest.raises(ArchiveError, match="not a readable zip or tar"):
        extract.extract(junk, tmp_path / "out")


def test_damaged_member_data_is_a_clear_error(tmp_path):
    archive = tmp_path / "t.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", b"hello world " * 1000)
    data = bytearray(archive.read_bytes())
    data[60:90] = b"\xff" * 30  # inside the compressed data of a.txt
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match=r"t\.zip is damaged .*fetch it again"):
        extract.extract(archive, tmp_path / "out")
    assert not extract.is_extracted(archive, tmp_path / "out")
