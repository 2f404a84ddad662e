"""Video throughput: `enet4y2 detect clip.mp4 --out DIR` (reader thread decoding, the
writer thread encoding an annotated mp4) vs the same model's pure inference rate on the
same frames already decoded in memory (`Network.detect` in a loop). Goal: >= 0.95, i.e.
decoding and encoding hidden behind inference.

Same network object for both (enet4y2-coco at 416 with benchmarks/plausible_weights.py
by default), the same generated clip; the two are interleaved round by round so load
hits them alike; medians of frames/s. The video side runs what the CLI runs once the
model is loaded (`enet4y2.cli.detect_video.run`), JSON lines off.

Upstream's `darknet detector demo ... -dont_show -out_filename` (its own pipelined
fetch/detect threads, DIVX writer) needs darknet built with OPENCV=1: `--demo-darknet DIR`
names such a build (e.g. `make darknet OPENCV=1 DEST=build/darknet-opencv`), or the
current build when it has OpenCV. Its model loading is not counted: the demo is timed on
the whole clip and on its first `--frames // 4` frames, and the rate is the extra frames
over the extra seconds. Without such a build it is reported as not comparable.

    python -m benchmarks.bench_video [--cfg cfg/enet4y2-coco.cfg] [--frames 40] [--rounds 3]
        [--demo-darknet build/darknet-opencv]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.plausible_weights import write_plausible_weights
from enet4y2 import paths
from enet4y2.build import record as build_record
from enet4y2.cfg import load_cfg
from enet4y2.cli import detect_video
from enet4y2.darknet import Network


def make_clip(path: Path, frames: int, width: int, height: int, fps: float = 25.0) -> Path:
    """A clip with moving content (so the encoder has real work)."""
    rng = np.random.default_rng(0)
    bg = rng.integers(0, 255, (height, width, 3), np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for i in range(frames):
        frame = np.roll(bg, 7 * i, axis=1)
        cv2.rectangle(frame, (10 + 5 * i, 40), (110 + 5 * i, 140), (0, 0, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def decoded(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while (got := cap.read())[0]:
        out.append(got[1])
    return out


def demo_runner(darknet_dir: Path, cfg: Path, weights: Path, classes: int, tmp: Path):
    """A function timing `darknet detector demo` over a clip (seconds, whole process)."""
    names = tmp / "demo.names"
    names.write_text("".join(f"c{i}\n" for i in range(classes)))
    data = tmp / "demo.data"
    data.write_text(f"classes = {classes}\nnames = {names}\n")
    darknet_dir = darknet_dir.resolve()
    exe = darknet_dir / "darknet"

    def run(clip: Path) -> float:
        out = tmp / "demo-out.avi"
        out.unlink(missing_ok=True)
        t0 = time.perf_counter()
        done = subprocess.run([str(exe), "detector", "demo", str(data), str(cfg.resolve()),
                               str(weights.resolve()), str(clip), "-dont_show",
                               "-out_filename", str(out)], cwd=tmp, capture_output=True,
                              env={**os.environ, "LD_LIBRARY_PATH": str(darknet_dir)})
        elapsed = time.perf_counter() - t0
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace")[-500:]
            raise SystemExit(f"darknet detector demo failed ({done.returncode}): {tail}")
        if not out.is_file() or out.stat().st_size == 0:
            raise SystemExit(f"darknet detector demo wrote no {out}")
        return elapsed

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfg", type=Path, default=paths.REPO_ROOT / "cfg" / "enet4y2-coco.cfg")
    ap.add_argument("--weights", type=Path, help="default: plausible weights for the cfg")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--demo-darknet", type=Path,
                    help="a darknet built with OPENCV=1, for `detector demo` (default: the "
                         "current build when it has OpenCV)")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    tmp = Path(tempfile.mkdtemp())
    weights = args.weights or write_plausible_weights(load_cfg(args.cfg),
                                                      tmp / "plausible.weights")
    clip = make_clip(tmp / "clip.mp4", args.frames, width, height)
    frames = decoded(clip)
    net = Network(args.cfg, weights)
    net.detect(frames[0])  # warm-up

    def inference() -> float:
        t0 = time.perf_counter()
        for frame in frames:
            net.detect(frame)
        return len(frames) / (time.perf_counter() - t0)

    def video() -> float:
        out = tmp / "out"
        t0 = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):
            detect_video.run(net, [str(clip)], thresh=0.25, nms=0.45, letterbox=None,
                             as_json=False, out=out, mot=None, track=False, reconnect=0,
                             queue_size=8)
        rate = len(frames) / (time.perf_counter() - t0)
        assert cv2.VideoCapture(str(out / "clip.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) \
            == len(frames)
        return rate

    demo_dir = args.demo_darknet
    flags = (build_record.read() or {}).get("flags", {})
    if demo_dir is None and str(flags.get("OPENCV", "0")) == "1":
        demo_dir = paths.darknet_dir()
    demo = None
    if demo_dir is not None:
        demo = demo_runner(demo_dir, args.cfg, weights, load_cfg(args.cfg).classes, tmp)
        short = make_clip(tmp / "short.mp4", max(1, args.frames // 4), width, height)

    rates: dict[str, list[float]] = {"inference": [], "video": []}
    if demo:
        rates["darknet demo"] = []
    for i in range(args.rounds):
        rates["inference"].append(inference())
        rates["video"].append(video())
        line = (f"  round {i + 1}: inference {rates['inference'][-1]:.2f} frames/s, "
                f"video {rates['video'][-1]:.2f} frames/s")
        if demo:
            extra = len(frames) - max(1, args.frames // 4)
            rates["darknet demo"].append(extra / (demo(clip) - demo(short)))
            line += f", darknet demo {rates['darknet demo'][-1]:.2f} frames/s"
        print(line, flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"cfg {args.cfg.name} {net.width}x{net.height}, clip {width}x{height} "
          f"{len(frames)} frames (mp4v), {args.rounds} interleaved rounds, median frames/s")
    print(f"  pure inference on decoded frames (Network.detect)   {med['inference']:8.2f}")
    print(f"  detect clip.mp4 --out (decode + detect + encode)     {med['video']:8.2f}")
    print(f"video / pure inference = {med['video'] / med['inference']:.3f}  (goal >= 0.95)")
    if demo:
        print(f"  darknet detector demo -out_filename (extra frames/s) {med['darknet demo']:8.2f}")
        print(f"video / darknet demo = {med['video'] / med['darknet demo']:.3f}")
    else:
        print("darknet detector demo: not comparable here (darknet built without OPENCV=1; "
              "--demo-darknet DIR names a build with it)")


if __name__ == "__main__":
    main()
