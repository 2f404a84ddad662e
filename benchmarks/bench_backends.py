"""Per-image detection time on CPU, one model on every backend: darknet (`Network.detect`)
vs ONNX Runtime vs OpenCV DNN on our export, at batch 1 and batch 4; the shared pre/post
path (resize, decode, NMS, copy-out) on its own, on one core; `Network.detect` against
the bare forward pass.

enet4y2-coco at 416 with benchmarks/plausible_weights.py weights (finite activations, no
box over 0.25: every backend pays the same minimal NMS), exported by `enet4y2 export`
(batch 1, and a dynamic batch for batch 4); a 768x576 photo (dog.jpg). Backends run
interleaved round by round, so load hits them alike; medians. Every path includes the
binding's preprocessing and darknet's decoding and NMS.
OpenCV 4.x's own darknet importer (the best a user could do before) needs
opencv-python-headless<5 in another interpreter: `--opencv4-python PY` runs it there.

`--isolated`: each engine alone in its own fresh process (darknet `Network.detect`, its
raw forward, the ONNX Runtime path), processes alternating, so no engine's thread pool
spins beside another's and each gets the cores to itself at `--threads` (0: its default)
— what a user running one engine gets.

    python -m benchmarks.bench_backends [--rounds 10] [--threads 1] [--eval-images 20]
        [--opencv4-python /tmp/cv4/bin/python] [--pre-post-only] [--isolated [--repeat 3]]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.bench_eval_inference import make_images
from benchmarks.plausible_weights import write_plausible_weights
from enet4y2 import paths
from enet4y2.cfg import load_cfg
from enet4y2.darknet import Network, _prep_ffi, preprocess
from enet4y2.evaluate.inference import batched_detections
from enet4y2.export.api import export_onnx
from enet4y2.runtime import open_model
from enet4y2.runtime.decode import raw_candidates
from enet4y2.runtime.exported import OrtModel
from enet4y2.runtime.nms import detection_rows

OPENCV4_WORKER = """
import sys, cv2
cfg, weights, image, batch, threads = sys.argv[1:6]
if int(threads):
    cv2.setNumThreads(int(threads))
net = cv2.dnn.readNetFromDarknet(cfg, weights)
img = cv2.imread(image)
names = net.getUnconnectedOutLayersNames()
print(cv2.__version__, flush=True)
for _ in sys.stdin:  # one line in: one blob + forward pass, then one line out
    blob = cv2.dnn.blobFromImages([img] * int(batch), 1 / 255, (416, 416), swapRB=True)
    net.setInput(blob)
    net.forward(names)
    print("ok", flush=True)
"""


class OpenCV4Importer:
    """OpenCV 4.x's own darknet importer in another interpreter (opencv-python-headless<5),
    driven line by line so it is timed interleaved with the others (blob + forward)."""

    def __init__(self, python: str, cfg: Path, weights: Path, image: Path, batch: int,
                 threads: int) -> None:
        self.proc = subprocess.Popen(
            [python, "-c", OPENCV4_WORKER, str(cfg), str(weights), str(image), str(batch),
             str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.version = self.proc.stdout.readline().strip()

    def __call__(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "ok":
            err = self.proc.stderr.read().strip().splitlines()
            raise RuntimeError(f"opencv {self.version} importer failed: {err[-1:]}")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()




def timed(runs: dict, rounds: int) -> dict[str, float]:
    """Median ms of each callable, interleaved round by round after one warm-up."""
    for fn in runs.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


PRE_C, PRE_NUMPY, POST = "preprocess (C kernel)", "preprocess (numpy)", "decode + NMS + copy-out"


def pre_post(model, image: np.ndarray, rounds: int) -> dict[str, float]:
    """The shared path alone: preprocess (768x576 -> 416) by the compiled kernel (when
    built) and by numpy, side by side; decode + NMS + copy-out."""
    buf = np.zeros((1, 3, model.height, model.width), np.float32)
    preprocess.prepare(image, buf[0])
    outs = model.forward(buf)
    spec = model.spec

    def post():
        cands = raw_candidates([o[0] for o in outs], spec, 0.25)
        rows = detection_rows(cands, 0.25, 0.45, spec.nms_kind, spec.beta_nms)
        preprocess.boxes_to_pixels(rows[:, :4], image.shape[1], image.shape[0],
                                   spec.width, spec.height, False)

    runs = {}
    if _prep_ffi.load() is not None:
        runs[PRE_C] = lambda: preprocess.prepare_compiled(image, buf[0])
    else:
        print("preprocessing kernel not built (make darknet): numpy only")
    runs[PRE_NUMPY] = lambda: preprocess.prepare_numpy(image, buf[0])
    runs[POST] = post
    return timed(runs, rounds * 5)


def print_pre_post(shared: dict[str, float]) -> None:
    """The shared path's table and its total (the preprocessing `prepare` uses + post)."""
    print("shared pre/post alone (one thread), ms per image")
    for name, ms in shared.items():
        print(f"  {name:34s} {ms:8.2f}")
    if PRE_C in shared:
        print(f"preprocess numpy / C kernel               = "
              f"{shared[PRE_NUMPY] / shared[PRE_C]:.1f}x")
    pre = shared.get(PRE_C, shared[PRE_NUMPY])
    print(f"pre + post per image                      = {pre + shared[POST]:.2f} ms"
          "  (goal <= 2)")


def pre_post_only(args) -> None:
    """--pre-post-only: the shared path on ONNX Runtime's outputs, nothing else."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    image = cv2.resize(cv2.imread(str(args.image)), (768, 576))
    weights = write_plausible_weights(load_cfg(args.cfg), tmp / "plausible.weights")
    export_onnx(args.cfg, weights, tmp / "b1.onnx", batch=1)
    print(f"cfg {args.cfg.name}, image {args.image.name} resized to 768x576, "
          f"{args.rounds * 5} interleaved rounds, medians; load {os.getloadavg()[0]:.1f}")
    with ort_model(tmp / "b1.onnx", 1, args.threads) as ort1:
        shared = pre_post(ort1, image, args.rounds)
    print_pre_post(shared)
    print(f"load after: {os.getloadavg()[0]:.1f}")


IMPORTER = "opencv 4.x darknet importer (blob+forward)"


def with_importer(runs: dict, args, weights: Path, batch: int) -> dict:
    """`runs` plus OpenCV 4.x's darknet importer when --opencv4-python is given and it
    can run this model at this batch (its failure is printed, not fatal)."""
    if not args.opencv4_python:
        print(f"batch {batch}: opencv 4.x darknet importer not run (give --opencv4-python)")
        return runs
    importer = OpenCV4Importer(args.opencv4_python, args.cfg, weights, args.image, batch,
                               args.threads)
    try:
        importer()
    except RuntimeError as exc:
        print(f"batch {batch}: {exc}")
        importer.close()
        return runs
    print(f"batch {batch}: opencv {importer.version} darknet importer runs alongside")
    return {**runs, IMPORTER: importer}


def ort_model(path: Path, batch: int, threads: int):
    return OrtModel(path, "cpu", batch, None, threads=threads or None)


def eval_rates(cfg: Path, weights: Path, tmp: Path, count: int, threads: int) -> None:
    """Images/s of eval --pycoco's inference stage (decode in threads, detect at thresh
    0.005, batch 1), the part that differs between backends; COCOeval is the same."""
    folder = tmp / "eval"
    folder.mkdir()
    images = make_images(folder, count)
    rates = {}
    with Network(cfg, weights) as net, \
            ort_model(tmp / "b1.onnx", 1, threads) as ort:
        for name, model in (("darknet", net), ("onnxruntime", ort)):
            for _ in batched_detections(model, images[:2], thresh=0.005):
                pass  # warm-up
            t0 = time.perf_counter()
            for _ in batched_detections(model, images, thresh=0.005):
                pass
            rates[name] = count / (time.perf_counter() - t0)
    print(f"eval --pycoco inference stage, {count} images: darknet {rates['darknet']:.2f} "
          f"img/s, onnxruntime {rates['onnxruntime']:.2f} img/s = "
          f"{rates['onnxruntime'] / rates['darknet']:.2f}x  (goal >= 3)")


ALONE = ("darknet Network.detect", "darknet raw forward", "onnxruntime (whole path)")


def alone(args) -> None:
    """--alone N: engine ALONE[N] by itself, this process; prints its median ms."""
    tmp = Path(args.alone_dir)
    image = cv2.resize(cv2.imread(str(args.image)), (768, 576))
    name = ALONE[args.alone]
    if name.startswith("darknet"):
        with Network(args.cfg, tmp / "plausible.weights") as net:
            preprocess.prepare(image, net.input_buffer[0])
            run = net.predict_raw if "raw" in name else (lambda: net.detect(image))
            print(timed({name: run}, args.rounds)[name])
    else:
        with ort_model(tmp / "b1.onnx", 1, args.threads) as ort1:
            print(timed({name: lambda: ort1.detect(image)}, args.rounds)[name])


def isolated(args) -> None:
    """--isolated: every engine of ALONE in its own process, alternating, medians."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    weights = write_plausible_weights(load_cfg(args.cfg), tmp / "plausible.weights")
    export_onnx(args.cfg, weights, tmp / "b1.onnx", batch=1)
    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    print(f"cfg {args.cfg.name}, 768x576, each engine alone in its own process, "
          f"{args.repeat} alternations of {args.rounds} rounds; threads "
          f"{args.threads or 'default'}; load {os.getloadavg()[0]:.1f}")
    got: dict[str, list[float]] = {name: [] for name in ALONE}
    for _ in range(args.repeat):
        for i, name in enumerate(ALONE):
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_backends", "--cfg", str(args.cfg),
                 "--image", str(args.image), "--rounds", str(args.rounds), "--threads",
                 str(args.threads), "--alone", str(i), "--alone-dir", str(tmp)],
                capture_output=True, text=True, check=True, env=env, cwd=paths.REPO_ROOT)
            got[name].append(float(out.stdout.split()[-1]))
    med = {k: statistics.median(v) for k, v in got.items()}
    for name, ms in med.items():
        print(f"  {name:34s} {ms:8.1f}  ({', '.join(f'{v:.1f}' for v in got[name])})")
    dn = med["darknet Network.detect"]
    print(f"Network.detect / raw forward             = {dn / med['darknet raw forward']:.3f}"
          "  (goal <= 1.03)")
    print(f"batch 1: Network.detect / onnxruntime    = "
          f"{dn / med['onnxruntime (whole path)']:.2f}x  (goal >= 4)")
    print(f"load after: {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfg", type=Path, default=paths.REPO_ROOT / "cfg" / "enet4y2-coco.cfg")
    ap.add_argument("--image", type=Path, default=paths.reference_dir() / "data" / "dog.jpg")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--opencv4-python", help="an interpreter with opencv-python-headless<5")
    ap.add_argument("--threads", type=int, default=0,
                    help="threads for every engine (darknet's OpenMP, onnxruntime, OpenCV); "
                         "0: each engine's default")
    ap.add_argument("--eval-images", type=int, default=20,
                    help="generated 640x480 JPEGs for eval's inference stage")
    ap.add_argument("--pre-post-only", action="store_true",
                    help="only the shared pre/post path (C kernel and numpy side by side)")
    ap.add_argument("--isolated", action="store_true",
                    help="each engine alone in its own process (see the module doc)")
    ap.add_argument("--repeat", type=int, default=3, help="--isolated: alternations")
    ap.add_argument("--alone", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--alone-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.alone is not None:
        if args.threads:
            cv2.setNumThreads(args.threads)
        alone(args)
        return
    if args.isolated:
        isolated(args)
        return
    if args.pre_post_only:
        pre_post_only(args)
        return
    if args.threads:  # before libdarknet (libgomp) is loaded
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        cv2.setNumThreads(args.threads)

    tmp = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    image = cv2.resize(cv2.imread(str(args.image)), (768, 576))
    weights = write_plausible_weights(load_cfg(args.cfg), tmp / "plausible.weights")
    export_onnx(args.cfg, weights, tmp / "b1.onnx", batch=1)
    export_onnx(args.cfg, weights, tmp / "dyn.onnx", batch=None)
    print(f"cfg {args.cfg.name}, image {args.image.name} resized to 768x576, "
          f"{args.rounds} interleaved rounds, medians; threads {args.threads or 'default'}; "
          f"load {os.getloadavg()[0]:.1f}")

    with Network(args.cfg, weights) as net, \
            ort_model(tmp / "b1.onnx", 1, args.threads) as ort1, \
            open_model(model=tmp / "b1.onnx", backend="opencv") as cv1:
        preprocess.prepare(image, net.input_buffer[0])
        one = timed(with_importer({
            "darknet raw forward": net.predict_raw,
            "darknet Network.detect": lambda: net.detect(image),
            "onnxruntime (whole path)": lambda: ort1.detect(image),
            "opencv dnn (whole path)": lambda: cv1.detect(image)}, args, weights, 1),
            args.rounds)
        shared = pre_post(ort1, image, args.rounds)
    four_images = [image] * 4
    with Network(args.cfg, weights, batch=4) as net4, \
            ort_model(tmp / "dyn.onnx", 4, args.threads) as ort4, \
            open_model(model=tmp / "dyn.onnx", backend="opencv", batch=4) as cv4:
        four = timed(with_importer({
            "darknet Network.detect_batch": lambda: net4.detect_batch(four_images),
            "onnxruntime (whole path)": lambda: ort4.detect_batch(four_images),
            "opencv dnn (whole path)": lambda: cv4.detect_batch(four_images)},
            args, weights, 4), max(3, args.rounds // 2))
    four = {k: v / 4 for k, v in four.items()}

    print("\nbatch 1, ms per image")
    for name, ms in one.items():
        print(f"  {name:34s} {ms:8.1f}")
    print("batch 4, ms per image")
    for name, ms in four.items():
        print(f"  {name:34s} {ms:8.1f}")
    print_pre_post(shared)
    dn, ort = one["darknet Network.detect"], one["onnxruntime (whole path)"]
    print(f"\nNetwork.detect / raw forward             = {dn / one['darknet raw forward']:.3f}"
          "  (goal <= 1.03)")
    print(f"batch 1: Network.detect / onnxruntime    = {dn / ort:.2f}x  (goal >= 4)")
    print(f"batch 1: Network.detect / opencv dnn     = {dn / one['opencv dnn (whole path)']:.2f}x")
    dn4, ort4_ms = four["darknet Network.detect_batch"], four["onnxruntime (whole path)"]
    print(f"batch 4: darknet / onnxruntime           = "
          f"{dn4 / four['onnxruntime (whole path)']:.2f}x")
    print(f"batch 4: darknet / opencv dnn            = "
          f"{dn4 / four['opencv dnn (whole path)']:.2f}x")
    for label, table, ort_ms in (("batch 1", one, ort), ("batch 4", four, ort4_ms)):
        if IMPORTER in table:
            print(f"{label}: opencv 4.x importer / onnxruntime = "
                  f"{table[IMPORTER] / ort_ms:.2f}x  (goal >= 3)")
    eval_rates(args.cfg, weights, tmp, args.eval_images, args.threads)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
