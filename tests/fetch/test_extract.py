"""Safe, streamed, resumable extraction."""

from __future__ import annotations

import io
import os
import tarfile
import tracemalloc
import zipfile

import pytest

from enet4y2.errors import ArchiveError, OutputError
from enet4y2.fetch import confined, extract
from tests.fetch import hostile


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
    assert not list((tmp_path / "out").rglob("*.partial"))


# -- sizes: zip bombs, data past its declared size, link texts, partial files ---------

def zeros_zip(path, members: dict[str, int]):
    """A zip of members made of zeros."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, size in members.items():
            zf.writestr(name, bytes(size))
    return path


def partials(path):
    return list(path.rglob("*.partial"))


def patch_sizes(archive, new_size: int):
    """Rewrite the declared uncompressed size of every member (local and central
    headers): what a zip bomb declares, or a member that holds more than it says."""
    data = bytearray(archive.read_bytes())
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        head = data.find(sig)
        while head >= 0:
            data[head + at:head + at + 4] = new_size.to_bytes(4, "little")
            head = data.find(sig, head + 4)
    archive.write_bytes(bytes(data))


def test_zip_bomb_is_refused_before_writing(tmp_path):
    # 1 KB on disk declaring 3 x 1 GiB (a real bomb's data would follow; the check
    # comes first, from the declared sizes)
    archive = zeros_zip(tmp_path / "bomb.zip", {f"z{i}": 1000 for i in range(3)})
    patch_sizes(archive, 1 << 30)
    with pytest.raises(OutputError, match=r"bomb\.zip declares 3\.2 GB .* 10\.0 MB free"):
        extract.extract(archive, tmp_path / "out", free_probe=lambda p: 10_000_000)
    assert files_under(tmp_path / "out") == []


def test_space_check_counts_only_members_still_to_write(tmp_path):
    archive = zeros_zip(tmp_path / "t.zip", {"a": 4 << 20, "b": 4 << 20})
    target = tmp_path / "out"
    extract.extract(archive, target)
    extract.marker_path(archive, target).unlink()
    (target / "b").unlink()
    extract.extract(archive, target, free_probe=lambda p: 5 << 20)  # room for b alone
    assert (target / "b").stat().st_size == 4 << 20


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_zip_member_longer_than_declared_writes_no_more(tmp_path, method):
    archive = tmp_path / "long.zip"
    with zipfile.ZipFile(archive, "w", method) as zf:
        zf.writestr("a.bin", b"A" * 100_000)
    patch_sizes(archive, 10)
    target = tmp_path / "out"
    with pytest.raises(ArchiveError, match=r"long\.zip is damaged .*CRC"):
        extract.extract(archive, target)  # zipfile stops at the declared size
    written = target / "a.bin"
    assert not written.exists() or written.stat().st_size <= 10
    assert partials(target) == []


def test_copy_stops_at_the_declared_size():
    class Gushing:
        def read(self, n):
            return b"x" * (n + 1)

    out = io.BytesIO()
    with pytest.raises(confined.ShortOrLong, match="more data than the 5 bytes"):
        confined.copy_exactly(Gushing(), out, 5, lambda n: None)
    assert len(out.getvalue()) == 0
    with pytest.raises(confined.ShortOrLong, match="2 bytes, fewer than the 5"):
        confined.copy_exactly(io.BytesIO(b"ab"), io.BytesIO(), 5, lambda n: None)
    with pytest.raises(confined.ShortOrLong, match="more data than the 2 bytes"):
        confined.copy_exactly(io.BytesIO(b"abc"), io.BytesIO(), 2, lambda n: None)


def test_truncated_tgz_leaves_no_partial(tmp_path):
    info = tarfile.TarInfo("big.bin")
    archive = make_tar(tmp_path / "t.tgz", [info], {"big.bin": os.urandom(1 << 20)})
    archive.write_bytes(archive.read_bytes()[: 600_000])
    with pytest.raises(ArchiveError, match=r"t\.tgz"):
        extract.extract(archive, tmp_path / "out")
    assert partials(tmp_path / "out") == [] and not (tmp_path / "out" / "big.bin").exists()


def test_interrupted_member_leaves_no_partial(tmp_path):
    archive = zeros_zip(tmp_path / "t.zip", {"a": 3 << 20})

    def interrupt(n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract.extract(archive, tmp_path / "out", interrupt)
    assert partials(tmp_path / "out") == [] and not (tmp_path / "out" / "a").exists()


def test_zip_symlink_with_a_huge_target_is_not_read(tmp_path):
    archive = tmp_path / "link.zip"
    info = hostile.zip_symlink_info("l")
    info.compress_type = zipfile.ZIP_DEFLATED  # 64 MiB of link text in 64 KB
    with zipfile.ZipFile(archive, "w") as zf, zf.open(info, "w") as out:
        for _ in range(64):
            out.write(b"a" * (1 << 20))
    assert archive.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveError, match=r"'l' is a symlink whose target is over 4096"):
            extract.extract(archive, tmp_path / "out")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_zip_symlink_lying_about_its_size_is_read_no_further(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(hostile.zip_symlink_info("l"), b"a" * 100_000)
    patch_sizes(archive, 100)
    with pytest.raises(ArchiveError):  # the CRC of the first 100 bytes does not match
        extract.extract(archive, tmp_path / "out")


def test_tar_symlink_over_4_kib_is_refused(tmp_path):
    archive = make_tar(tmp_path / "t.tar.gz", [link("l", "a/" * 3000)])
    with pytest.raises(ArchiveError, match=r"'l' has an empty, NUL-holding or over 4096"):
        extract.extract(archive, tmp_path / "out")


def test_encrypted_zip_member_is_refused(tmp_path):
    archive = make_zip(tmp_path / "t.zip", {"a.txt": b"secret"})
    data = bytearray(archive.read_bytes())
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        head = data.index(sig)
        data[head + at] |= 1
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match=r"'a\.txt' is encrypted"):
        extract.extract(archive, tmp_path / "out")


def test_zip_name_flagged_utf8_but_not_utf8_is_one_line(tmp_path):
    archive = make_zip(tmp_path / "t.zip", {"aaaa.txt": b"x"})
    data = bytearray(archive.read_bytes())
    for sig, flags, name in ((b"PK\x03\x04", 7, 30), (b"PK\x01\x02", 9, 46)):
        head = data.index(sig)
        data[head + flags] |= 0x08  # bit 11: names are UTF-8
        data[head + name] = 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match=r"t\.zip is not a readable zip or tar archive"):
        extract.extract(archive, tmp_path / "out")
