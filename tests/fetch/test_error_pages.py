"""Files no hash vouches for (pjreddie's lists, labels.tgz, the instances zip) served as
an HTML error page with status 200: refused with one line naming the file and the URL,
and never copied into a list file."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enet4y2.data import coco as coco_labels
from enet4y2.errors import DataError, DownloadError
from enet4y2.fetch import coco, sniff
from tests import mini_coco
from tests.range_server import serve

ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
              b"<body><h1>Service Unavailable</h1></body></html>\n")
#: the files a real mirror of the seed's hosts has hashes for (the images)
HASHED = ("train2014.zip", "val2014.zip")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    directory = tmp_path_factory.mktemp("published")
    mini_coco.build(directory)
    return directory


@pytest.fixture
def server(published):
    """The mini COCO with sums for the images only, as for the real hosts."""
    with serve(published) as srv:
        sums = mini_coco.sums_text(published).splitlines(keepends=True)
        srv.files["SHA256SUMS"] = "".join(s for s in sums if s.split()[1] in HASHED).encode()
        yield srv


def fetch(root, server, **kw):
    return coco.fetch_coco(root, mirror=server.base_url, retries=0, backoff=0.0, **kw)


def assert_no_list_written(root):
    c = root / "coco"
    assert not (c / "5k.txt").exists() and not (c / "trainvalno5k.txt").exists()


@pytest.mark.parametrize("name", ["5k.part", "trainvalno5k.part", "instances_train-val2014.zip"])
@pytest.mark.parametrize("content_type", [None, "text/html; charset=utf-8"])
def test_error_page_is_refused_naming_file_and_url(tmp_path, server, name, content_type):
    server.files[name] = ERROR_PAGE
    if content_type:
        server.content_type[name] = content_type
    with pytest.raises(DownloadError) as err:
        fetch(tmp_path, server)
    message = str(err.value)
    assert "\n" not in message and f"{name} from {server.base_url}{name}" in message
    assert "HTML page" in message
    assert_no_list_written(tmp_path)
    downloads = tmp_path / "coco" / "downloads"
    assert not (downloads / name).exists() and not (downloads / f"{name}.part").exists()


def test_error_page_for_labels_falls_back_to_the_json(tmp_path, server):
    server.files["labels.tgz"] = ERROR_PAGE
    warnings = []
    report = fetch(tmp_path, server, warn=warnings.append)
    assert report.labels_source == "instances JSON"
    assert len(warnings) == 1 and "labels.tgz" in warnings[0] and "HTML page" in warnings[0]
    for rel, text in mini_coco.LABELS_TGZ.items():
        assert (tmp_path / "coco" / "labels" / rel).read_text() == text


def test_list_of_non_paths_is_refused(tmp_path, server):
    server.files["5k.part"] = b"/images/val2014/a.jpg\nNot Found\n"
    with pytest.raises(DownloadError, match=r"5k\.part from .* line 2 is not an image path "
                                            r"\(no image extension\): 'Not Found'"):
        fetch(tmp_path, server)
    assert_no_list_written(tmp_path)


def test_error_page_kept_by_an_older_run_is_fetched_again(tmp_path, server, published):
    downloads = tmp_path / "coco" / "downloads"
    downloads.mkdir(parents=True)
    (downloads / "5k.part").write_bytes(ERROR_PAGE)
    fetch(tmp_path, server)
    assert (downloads / "5k.part").read_bytes() == (published / "5k.part").read_bytes()
    assert len((tmp_path / "coco" / "5k.txt").read_text().splitlines()) == 2


def test_write_lists_never_copies_non_paths(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "5k.part").write_bytes(ERROR_PAGE)
    (downloads / "trainvalno5k.part").write_text("/images/train2014/a.jpg\n")
    with pytest.raises(DataError, match=r"5k\.part line 1 is not an image path \(markup"):
        coco.write_lists(tmp_path)
    (downloads / "5k.part").write_bytes(b"\xff\xfe/images/a.jpg\n")
    with pytest.raises(DataError, match="not UTF-8"):
        coco.write_lists(tmp_path)
    assert not (tmp_path / "5k.txt").exists()


# -- generated lists --------------------------------------------------------------------

GOOD_LINES = st.builds(lambda split, n, ext: f"/images/{split}/COCO_{split}_{n:012d}{ext}",
                       st.sampled_from(["train2014", "val2014"]),
                       st.integers(0, 10**12 - 1), st.sampled_from([".jpg", ".png", ".JPEG"]))
BAD_LINES = st.one_of(
    st.sampled_from(["<!DOCTYPE html>", "<html>", "<body><h1>404</h1></body>", "</html>",
                     "Not Found", "error code: 1020", "/images/val2014/a.txt",
                     "/images/../../etc/passwd.jpg", "a.jpg\x00b.jpg", "\x1b[31ma.jpg",
                     "<a href=x.jpg>", "/images/val2014/a.jpg\x07", "\u00a0a\u00a0b.jpg "]),
    st.text(min_size=1, max_size=40).filter(lambda t: t.strip() and "\n" not in t and
                                            coco_labels.list_line_problem(1, t.strip())),
)
BLANKS = st.sampled_from(["", "   ", "\t", "\r"])
#: examples per generated test
GENERATED_CASES = 300


@settings(max_examples=GENERATED_CASES, deadline=None)
@given(good=st.lists(GOOD_LINES, max_size=6), bad=st.lists(BAD_LINES, max_size=3),
       blanks=st.lists(BLANKS, max_size=3), seed=st.randoms(use_true_random=False))
def test_generated_lists_hold_only_paths(good, bad, blanks, seed):
    lines = good + bad + blanks
    seed.shuffle(lines)
    text = "\n".join(lines)
    try:
        out = coco_labels.list_lines(text, "/data/coco", source="5k.part")
    except DataError as exc:
        assert bad or not good, "a good list was refused"
        assert str(exc).startswith("5k.part ") and "\n" not in str(exc)
        return
    assert not bad
    assert out.splitlines() == ["/data/coco" + line.strip() for line in lines if line.strip()]


@settings(max_examples=GENERATED_CASES, deadline=None)
@given(data=st.one_of(st.binary(max_size=300),
                      st.lists(st.one_of(GOOD_LINES, BAD_LINES, BLANKS), max_size=8)
                      .map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass"))))
def test_generated_part_files_sniffed_as_list_lines_judges_them(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("part") / "5k.part"
    path.write_bytes(data)
    problem = sniff.list_problem(path)
    try:
        coco_labels.list_lines(data.decode("utf-8"), "/c", "5k.part")
        verdict = None
    except (DataError, UnicodeDecodeError) as exc:
        verdict = exc
    assert (problem is None) == (verdict is None), (problem, verdict)


@pytest.mark.parametrize("head", [b"<!DOCTYPE html>", b"<!doctype HTML>", b"  \n<html>",
                                  b"\xef\xbb\xbf<html lang=en>", b"<HEAD>", b"<?xml version"])
def test_html_is_recognised_and_archives_are_not_html(tmp_path, head):
    assert sniff.looks_like_html(head + b"...")
    page = tmp_path / "labels.tgz"
    page.write_bytes(head + b"<body>gone</body>")
    assert sniff.archive_problem(page) == "is an HTML page, not an archive"
    mini = mini_coco.build(tmp_path / "pub")
    assert mini and sniff.archive_problem(tmp_path / "pub" / "labels.tgz") is None
    assert sniff.archive_problem(tmp_path / "pub" / "val2014.zip") is None
