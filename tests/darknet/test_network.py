"""Network on the real libdarknet: same detections as the darknet executable, bad input
as Python exceptions, no leaks, the GIL released during the forward pass."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from enet4y2 import paths
from enet4y2.darknet import Network
from enet4y2.errors import CfgError, ImageError, MissingFileError, WeightsError

pytestmark = pytest.mark.darknet

LINE = re.compile(r"^(\w+): (\d+)%\t\(left_x:\s*(-?\d+)\s+top_y:\s*(-?\d+)\s+"
                  r"width:\s*(-?\d+)\s+height:\s*(-?\d+)\)", re.M)


def executable_detections(tiny, image: Path, thresh: float, letterbox: bool) -> list[tuple]:
    argv = [str(paths.darknet_executable()), "detector", "test", str(tiny.data),
            str(tiny.cfg), str(tiny.weights), str(image), "-ext_output", "-dont_show",
            "-thresh", str(thresh)]
    if letterbox:
        argv.append("-letter_box")
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300,
                         cwd=tiny.root).stdout
    return [(m[0], int(m[1]), *map(int, m[2:])) for m in LINE.findall(out)]


@pytest.fixture(scope="module")
def png_images(tiny_detector, tmp_path_factory):
    """Validation images as PNG, so darknet (stb) and OpenCV decode identical pixels."""
    out = tmp_path_factory.mktemp("png")
    paths_ = []
    for line in tiny_detector.valid_list.read_text().split()[:4]:
        png = out / (Path(line).stem + ".png")
        cv2.imwrite(str(png), cv2.imread(line))
        paths_.append(png)
    return paths_


@pytest.fixture(scope="module")
def net(tiny_detector):
    with Network(tiny_detector.cfg, tiny_detector.weights, names=tiny_detector.names) as n:
        yield n


@pytest.mark.parametrize("letterbox", [False, True])
def test_detect_matches_darknet_executable(tiny_detector, net, png_images, letterbox):
    thresh = 0.05
    compared = 0
    for png in png_images:
        expected = executable_detections(tiny_detector, png, thresh, letterbox)
        dets = net.detect(cv2.imread(str(png)), thresh=thresh, letterbox=letterbox)
        ours = [(d.name, d.confidence * 100, d.x, d.y, d.w, d.h) for d in dets]
        assert len(ours) == len(expected), (png, ours, expected)
        for name, pct, left, top, width, height in expected:
            match = [o for o in ours if o[0] == name and abs(o[2] - left) <= 1
                     and abs(o[3] - top) <= 1 and abs(o[4] - width) <= 1
                     and abs(o[5] - height) <= 1]
            assert match, (png, name, left, top, ours)
            assert min(abs(o[1] - pct) for o in match) <= 1.0
            compared += 1
    assert compared > 0, "the tiny model gave no detections to compare"


def test_detect_batch_equals_single(tiny_detector, png_images, net):
    images = [cv2.imread(str(p)) for p in png_images]
    with Network(tiny_detector.cfg, tiny_detector.weights, batch=len(images)) as batched:
        results = batched.detect_batch(images, thresh=0.05)
    for image, got in zip(images, results, strict=True):
        want = net.detect(image, thresh=0.05)
        np.testing.assert_array_equal(got.classes, want.classes)
        # batched GEMM sums in another order: equal to float rounding, not bit for bit
        np.testing.assert_allclose(got.boxes, want.boxes, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(got.scores, want.scores, rtol=1e-4, atol=1e-5)


def test_detections_are_numpy_and_tuples(net, png_images):
    # the image where the small model finds most (it is weak on some of them)
    dets = max((net.detect(cv2.imread(str(p)), thresh=0.01) for p in png_images), key=len)
    assert len(dets) > 0
    assert dets.boxes.dtype == np.float32 and dets.boxes.shape == (len(dets), 4)
    assert dets.classes.dtype == np.int32
    first = next(iter(dets))
    assert first.name in ("square", "disc") and 0 < first.confidence <= 1


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_thousand_detect_calls_do_not_leak(net, png_images):
    image = cv2.imread(str(png_images[0]))
    for _ in range(100):
        net.detect(image, thresh=0.01)
    before = _rss_kb()
    for _ in range(1000):
        net.detect(image, thresh=0.01)
    grown = _rss_kb() - before
    assert grown < 5 * 1024, f"RSS grew by {grown} kB over 1000 detect calls"


def test_gil_is_released_during_forward(tiny_detector):
    # A big input makes the forward pass long enough to measure another thread's progress.
    with Network(tiny_detector.cfg, tiny_detector.weights, batch=8) as big:
        counter, stop = [0], threading.Event()

        def spin():
            while not stop.is_set():
                counter[0] += 1

        t = threading.Thread(target=spin)
        t.start()
        time.sleep(0.05)
        start = counter[0]
        big.predict_raw()
        during = counter[0] - start
        stop.set()
        t.join()
    assert during > 1000, f"the other thread advanced only {during} times"


def test_close_is_idempotent_and_final(tiny_detector):
    n = Network(tiny_detector.cfg, tiny_detector.weights)
    n.close()
    n.close()
    with pytest.raises(ValueError, match="closed"):
        n.detect(np.zeros((32, 32, 3), np.uint8))


def test_load_is_quiet_and_captures_darknet_output(tiny_detector, capfd):
    with Network(tiny_detector.cfg, tiny_detector.weights) as n:
        n.detect(np.zeros((40, 50, 3), np.uint8))
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert "conv" in n.load_log  # darknet's layer table was captured, not lost


# --- bad input: Python exceptions, and the process survives ---------------------------

def test_missing_cfg(tmp_path):
    with pytest.raises(MissingFileError):
        Network(tmp_path / "nope.cfg")


def test_cfg_with_syntax_error(tmp_path, tiny_detector):
    bad = tmp_path / "bad.cfg"
    bad.write_text(tiny_detector.cfg.read_text().replace("[convolutional]", "[convolutional",
                                                         1))
    with pytest.raises(CfgError, match=r"bad\.cfg:"):
        Network(bad)


def test_missing_weights(tiny_detector, tmp_path):
    with pytest.raises(MissingFileError):
        Network(tiny_detector.cfg, tmp_path / "nope.weights")


def test_weights_of_the_wrong_size(tiny_detector, tmp_path):
    short = tmp_path / "short.weights"
    short.write_bytes(tiny_detector.weights.read_bytes()[:-4000])
    with pytest.raises(WeightsError, match="bytes"):
        Network(tiny_detector.cfg, short)


@pytest.mark.parametrize("array", [
    np.zeros((0, 10, 3), np.uint8),
    np.zeros((10, 10, 3), np.float32),
    np.zeros((10, 10, 4), np.uint8),
    np.zeros((10,), np.uint8),
    "not an array",
])
def test_bad_arrays(net, png_images, array):
    image = cv2.imread(str(png_images[0]))
    before = net.detect(image, thresh=0.005)
    with pytest.raises(ImageError):
        net.detect(array)
    after = net.detect(image, thresh=0.005)  # the network is unharmed: same detections
    assert len(before) > 0
    assert np.array_equal(before.boxes, after.boxes)
    assert np.array_equal(before.scores, after.scores)


def test_loading_darknet_keeps_ieee_floats_in_python(net, png_images):
    # libdarknet is built -Ofast, which flushes denormals; the rest of the process must not.
    net.detect(cv2.imread(str(png_images[0])))
    tiny = np.nextafter(np.float64(0), np.float64(1))  # the smallest subnormal
    assert tiny > 0 and tiny / 2 == 0 and np.float32(1e-40) * np.float32(1) > 0


def test_one_network_shared_by_threads_gives_the_sequential_results(tiny_detector,
                                                                    png_images):
    from concurrent.futures import ThreadPoolExecutor

    images = [cv2.imread(str(p)) for p in png_images] * 4
    with Network(tiny_detector.cfg, tiny_detector.weights) as shared:
        expected = [shared.detect(im, thresh=0.01) for im in images]
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda im: shared.detect(im, thresh=0.01), images))
    assert len(got) == len(expected) > 0
    for a, b in zip(got, expected, strict=True):
        assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.scores, b.scores)


def test_first_detections_in_many_threads_keep_the_process_output(tiny_detector, png_images):
    # Each network's first forward pass captures darknet's stdout/stderr (fd-level);
    # racing captures once left the process writing into a deleted temp file.
    script = (
        "import sys, cv2, threading\n"
        "from enet4y2.darknet import Network\n"
        "cfg, weights, image = sys.argv[1:4]\n"
        "nets = [Network(cfg, weights) for _ in range(8)]\n"
        "im = cv2.imread(image)\n"
        "barrier = threading.Barrier(8)\n"
        "def go(net):\n barrier.wait(); net.detect(im)\n"
        "threads = [threading.Thread(target=go, args=(n,)) for n in nets]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print('stdout still works', flush=True)\n"
        "print('stderr still works', file=sys.stderr, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tiny_detector.cfg),
                           str(tiny_detector.weights), str(png_images[0])],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "stdout still works"
    assert done.stderr.strip().splitlines()[-1] == "stderr still works"
