"""The download engine against a misbehaving local server (127.0.0.1 only)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from enet4y2.errors import DownloadError
from enet4y2.fetch.download import Downloader, FileSpec, Observer
from enet4y2.fetch.space import check_disk_space
from enet4y2.fetch.verify import git_blob_sha1_of, parse_sha256sums
from tests.range_server import RangeServer

BODY = os.urandom(9 * 1024 * 1024 + 123)  # three transfer chunks and a bit
SHA = hashlib.sha256(BODY).hexdigest()


@pytest.fixture
def server():
    with RangeServer() as srv:
        srv.files["blob.bin"] = BODY
        yield srv


def spec(server, name="blob.bin", **kw) -> FileSpec:
    return FileSpec(name, server.base_url + name, **kw)


def downloader(tmp_path, **kw) -> Downloader:
    kw.setdefault("backoff", 0.0)
    return Downloader(tmp_path / "dl", **kw)


def test_fetch_verifies_and_records_sha256(server, tmp_path):
    result = downloader(tmp_path).fetch(spec(server, size=len(BODY), sha256=SHA))
    assert result.path.read_bytes() == BODY
    assert result.status == "downloaded"
    manifest = json.loads((tmp_path / "dl" / "manifest.json").read_text())
    assert manifest["blob.bin"]["sha256"] == SHA
    assert manifest["blob.bin"]["size"] == len(BODY)
    assert not (tmp_path / "dl" / "blob.bin.part").exists()


@pytest.mark.parametrize("hash_thread", [True, False], ids=["helper-thread", "inline"])
def test_both_hashers_verify_a_resumed_multi_chunk_file(server, tmp_path, hash_thread):
    server.drop_after["blob.bin"] = 5_000_001  # mid-chunk, odd offset
    server.drops["blob.bin"] = 1
    result = downloader(tmp_path, retries=1, hash_thread=hash_thread).fetch(spec(server))
    assert result.path.read_bytes() == BODY
    assert result.sha256 == SHA  # no chunk lost, doubled or reordered by the hasher
    assert server.gets("blob.bin") == [None, "bytes=5000001-"]
    several = {f"f{i}.bin": os.urandom(5_000_000 + i) for i in range(3)}
    server.files.update(several)
    results = downloader(tmp_path, hash_thread=hash_thread).fetch_all(
        [spec(server, n, sha256=hashlib.sha256(b).hexdigest()) for n, b in several.items()],
        jobs=3)
    assert sorted(r.name for r in results) == sorted(several)


def test_rerun_skips_verified_file(server, tmp_path):
    downloader(tmp_path).fetch(spec(server, sha256=SHA))
    again = downloader(tmp_path).fetch(spec(server, sha256=SHA))
    assert again.status == "cached"
    assert len(server.gets("blob.bin")) == 1


def test_dropped_connection_resumes_with_range_on_next_run(server, tmp_path):
    server.drop_after["blob.bin"] = 1_000_000
    server.drops["blob.bin"] = 1
    with pytest.raises(DownloadError, match=r"blob\.bin"):
        downloader(tmp_path, retries=0).fetch(spec(server, sha256=SHA))
    part = tmp_path / "dl" / "blob.bin.part"
    assert part.stat().st_size == 1_000_000
    result = downloader(tmp_path, retries=0).fetch(spec(server, sha256=SHA))
    assert result.path.read_bytes() == BODY
    assert result.resumed_from == 1_000_000
    assert server.gets("blob.bin") == [None, "bytes=1000000-"]


def test_dropped_connection_is_retried_within_a_run(server, tmp_path):
    server.drop_after["blob.bin"] = 500_000
    server.drops["blob.bin"] = 2
    result = downloader(tmp_path, retries=3).fetch(spec(server, size=len(BODY)))
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == SHA
    assert server.gets("blob.bin") == [None, "bytes=500000-", "bytes=500000-"]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    server.ignore_range = True
    part = tmp_path / "dl" / "blob.bin.part"
    part.parent.mkdir()
    part.write_bytes(b"x" * 1000)  # a stale prefix that must not survive
    result = downloader(tmp_path).fetch(spec(server, sha256=SHA))
    assert result.path.read_bytes() == BODY


def test_wrong_sha256_is_fetched_again_from_scratch(server, tmp_path):
    server.corrupt["blob.bin"] = 1
    result = downloader(tmp_path, retries=2).fetch(spec(server, sha256=SHA))
    assert result.path.read_bytes() == BODY
    assert server.gets("blob.bin") == [None, None]


def test_wrong_sha256_reported_after_retries(server, tmp_path):
    server.corrupt["blob.bin"] = 99
    with pytest.raises(DownloadError) as err:
        downloader(tmp_path, retries=2).fetch(spec(server, sha256=SHA))
    message = str(err.value)
    assert "sha256 mismatch" in message and server.base_url + "blob.bin" in message
    assert "\n" not in message
    assert len(server.gets("blob.bin")) == 3
    assert not (tmp_path / "dl" / "blob.bin").exists()


def test_existing_file_with_wrong_bytes_is_replaced(server, tmp_path):
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "blob.bin").write_bytes(b"not it")
    result = downloader(tmp_path).fetch(spec(server, sha256=SHA))
    assert result.path.read_bytes() == BODY


def test_404_is_one_line_naming_the_url_without_retries(server, tmp_path):
    with pytest.raises(DownloadError) as err:
        downloader(tmp_path, retries=3).fetch(spec(server, name="nope.zip"))
    message = str(err.value)
    assert "HTTP 404" in message and server.base_url + "nope.zip" in message
    assert "\n" not in message
    assert len(server.gets("nope.zip")) == 1


def test_500_is_retried_then_reported(server, tmp_path):
    server.status["blob.bin"] = 500
    with pytest.raises(DownloadError) as err:
        downloader(tmp_path, retries=2).fetch(spec(server))
    assert "HTTP 500" in str(err.value) and server.base_url + "blob.bin" in str(err.value)
    assert len(server.gets("blob.bin")) == 3


def test_git_blob_sha1_verification(server, tmp_path):
    good = hashlib.sha1(b"blob %d\0" % len(BODY) + BODY).hexdigest()
    result = downloader(tmp_path).fetch(spec(server, git_sha1=good))
    assert git_blob_sha1_of(result.path) == good
    with pytest.raises(DownloadError, match="git blob sha1 mismatch"):
        Downloader(tmp_path / "other", retries=0).fetch(spec(server, git_sha1="0" * 40))


def test_fetch_all_in_parallel_with_progress(server, tmp_path):
    bodies = {f"f{i}.bin": os.urandom(200_000 + i) for i in range(6)}
    server.files.update(bodies)

    class Count(Observer):
        def __init__(self):
            self.bytes = 0
            self.finished = set()

        def advance(self, name, n):
            self.bytes += n

        def finish(self, name):
            self.finished.add(name)

    seen = Count()
    specs = [spec(server, n, sha256=hashlib.sha256(b).hexdigest()) for n, b in bodies.items()]
    results = downloader(tmp_path, observer=seen).fetch_all(specs, jobs=4)
    assert {r.name for r in results} == set(bodies)
    for r in results:
        assert r.path.read_bytes() == bodies[r.name]
    assert seen.bytes == sum(map(len, bodies.values()))
    assert seen.finished == set(bodies)


def test_fetch_all_stops_on_a_failure_and_optional_ones_do_not(server, tmp_path):
    server.files["a.bin"] = b"a" * 1000
    d = downloader(tmp_path, retries=0)
    results = d.fetch_all([spec(server, "a.bin"), spec(server, "gone.bin")], jobs=2,
                          optional={"gone.bin"})
    assert [r.name for r in results] == ["a.bin"]
    assert "HTTP 404" in str(d.failures["gone.bin"])
    with pytest.raises(DownloadError, match=r"gone\.bin"):
        downloader(tmp_path, retries=0).fetch_all([spec(server, "gone.bin")], jobs=2)


def test_disk_space_check_uses_the_injected_probe(tmp_path):
    assert check_disk_space(tmp_path, 100, free_probe=lambda p: 1000) == 1000
    with pytest.raises(DownloadError) as err:
        check_disk_space(tmp_path / "not" / "yet", 5_000_000_000, free_probe=lambda p: 10**6)
    assert "not enough disk space" in str(err.value) and "5.0 GB" in str(err.value)


def test_parse_sha256sums():
    a, b = "a" * 64, "B" * 64
    text = f"{a}  train2014.zip\n{b} *sub/val2014.zip\n# comment\nnot a line\n"
    assert parse_sha256sums(text) == {"train2014.zip": a, "val2014.zip": b.lower()}


def test_on_done_runs_per_file_and_its_failure_fails_the_batch(server, tmp_path):
    server.files.update({"a.bin": b"a" * 10, "b.bin": b"b" * 20})
    seen = []
    downloader(tmp_path).fetch_all([spec(server, "a.bin"), spec(server, "b.bin")], jobs=2,
                                   on_done=lambda r: seen.append((r.name, r.size)))
    assert sorted(seen) == [("a.bin", 10), ("b.bin", 20)]

    def explode(result):
        raise DownloadError(f"cannot use {result.name}")

    with pytest.raises(DownloadError, match="cannot use"):
        downloader(tmp_path / "x").fetch_all([spec(server, "a.bin")], on_done=explode)


def test_wrong_size_announced_by_the_server_fails_before_downloading(server, tmp_path):
    with pytest.raises(DownloadError) as err:
        downloader(tmp_path, retries=3).fetch(spec(server, size=len(BODY) + 1))
    assert "size mismatch" in str(err.value) and f"expected {len(BODY) + 1}" in str(err.value)
    assert len(server.gets("blob.bin")) == 1
    assert not (tmp_path / "dl" / "blob.bin.part").exists()


def test_file_changed_on_server_between_runs_is_fetched_whole(server, tmp_path):
    server.drop_after["blob.bin"] = 1_000_000
    server.drops["blob.bin"] = 1
    with pytest.raises(DownloadError):
        downloader(tmp_path, retries=0).fetch(spec(server))  # no known hash: If-Range guards
    new_body = os.urandom(len(BODY))
    server.files["blob.bin"] = new_body
    result = downloader(tmp_path, retries=0).fetch(spec(server))
    assert result.path.read_bytes() == new_body  # not old prefix + new tail
    assert [r for m, n, r in server.log if m == "GET"] == [None, "bytes=1000000-"]
    assert not list((tmp_path / "dl").glob("*.validator"))


def test_unwritable_directory_is_a_clear_error(server, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DownloadError, match=r"cannot create .*choose a writable directory"):
        Downloader(blocker / "dl").fetch(spec(server))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_full_disk_while_writing_is_final_not_retried(server, tmp_path):
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "blob.bin.part").symlink_to("/dev/full")  # every write: ENOSPC
    with pytest.raises(DownloadError, match=r"cannot write .*free some space"):
        downloader(tmp_path, retries=3).fetch(spec(server))
    assert len(server.gets("blob.bin")) == 1
