"""Download engine vs curl on loopback, and labels from a COCO-scale instances JSON.

    .venv/bin/python benchmarks/bench_download.py [--size-mb 1024] [--repeat 3] [--jobs 4]
        [--dir /dev/shm] [--skip-transfer] [--skip-labels]

1. One file of --size-mb served from another process on 127.0.0.1 (Range server, bodies
   sent with sendfile): `curl -o` (the baseline) vs `enet4y2.fetch.download` (which also
   hashes with sha256 as it goes), and `curl` + `sha256sum` for the same work. Medians
   of --repeat interleaved rounds.
2. --jobs files of size/jobs each: that many curl processes at once vs `fetch_all`
   (which hashes on a helper thread per stream only while a core is spare; both ways
   forced are timed too), with the CPU seconds each side and the server used.
3. Labels: a synthetic instances JSON with 118,287 images and 860,001 boxes -> label texts
   (json.loads + `labels_from_instances` + writing the files), against the baseline of a
   plain per-annotation Python loop doing the same conversion.
Everything is generated in a temp dir and deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def serve_forever(directory: str, rate_mb: float) -> None:
    from tests.range_server import serve

    with serve(directory) as server:
        server.rate = rate_mb * 1e6 or None
        print(server.base_url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


def start_server(directory: Path, rate_mb: float = 0) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(directory),
                             "--rate-mb", str(rate_mb)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    return proc, url


def make_file(path: Path, size: int) -> None:
    block = os.urandom(16 << 20)
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            fh.write(block[: min(left, len(block))])
            left -= len(block)


def fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()


def curl_all(url: str, names: list[str], out: Path) -> None:
    """The baseline: one `curl -o` process per file, all at once."""
    procs = [subprocess.Popen(["curl", "-sS", "-f", "-o", str(out / n), url + n])
             for n in names]
    assert all(p.wait() == 0 for p in procs)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds (user + system) of this process and its reaped children, or of `pid`."""
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def interleaved(repeat: int, fns: dict, cleanup, server_pid: int | None = None):
    """Median seconds of each fn, the fns taking turns in every round so that load
    from other processes on a shared box falls on all of them alike; with `server_pid`,
    also the median CPU seconds of each fn (this process and its children) and of the
    server while it ran."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[tuple[float, float]]] = {k: [] for k in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            cleanup()
            c0 = cpu_seconds()
            s0 = cpu_seconds(server_pid) if server_pid else 0.0
            times[key].append(timed(fn))
            s1 = cpu_seconds(server_pid) if server_pid else 0.0
            cpu[key].append((cpu_seconds() - c0, s1 - s0))
    cleanup()
    medians = {k: statistics.median(v) for k, v in times.items()}
    if server_pid is None:
        return medians
    return medians, {k: tuple(statistics.median(x[i] for x in v) for i in (0, 1))
                     for k, v in cpu.items()}


def bench_transfer(tmp: Path, size_mb: int, repeat: int, jobs: int) -> None:
    from enet4y2.fetch.download import Downloader, FileSpec
    from enet4y2.fetch.verify import available_cores

    pub, out = tmp / "pub", tmp / "out"
    pub.mkdir()
    size = size_mb << 20
    make_file(pub / "big.bin", size)
    for i in range(jobs):
        make_file(pub / f"part{i}.bin", size // jobs)
    proc, url = start_server(pub)
    try:
        def clean():
            fresh_dir(out)

        def curl(names):
            curl_all(url, names, out)

        def curl_sha(names):
            curl(names)
            subprocess.run(["sha256sum", *[str(out / n) for n in names]], check=True,
                           stdout=subprocess.DEVNULL)

        def ours(names, j, hash_thread=None):
            Downloader(out, retries=0, hash_thread=hash_thread).fetch_all(
                [FileSpec(n, url + n) for n in names], j)

        mb = size / 1e6
        t = interleaved(repeat, {"curl": lambda: curl(["big.bin"]),
                                 "curl_sha": lambda: curl_sha(["big.bin"]),
                                 "ours": lambda: ours(["big.bin"], 1)}, clean)
        print(f"single stream, {size_mb} MiB, median of {repeat} interleaved rounds:")
        print(f"  curl -o (baseline)       {t['curl']:6.2f} s  {mb / t['curl']:6.0f} MB/s")
        print(f"  curl + sha256sum         {t['curl_sha']:6.2f} s  {mb / t['curl_sha']:6.0f} MB/s")
        print(f"  enet4y2 (sha256 as it goes){t['ours']:6.2f} s  {mb / t['ours']:6.0f} MB/s  "
              f"= {t['curl'] / t['ours']:.2f}x curl, {t['curl_sha'] / t['ours']:.2f}x "
              "curl+sha256sum")
        names = [f"part{i}.bin" for i in range(jobs)]
        t, cpu = interleaved(repeat, {
            "curl": lambda: curl(names),
            "ours": lambda: ours(names, jobs),
            "thread": lambda: ours(names, jobs, hash_thread=True),
            "inline": lambda: ours(names, jobs, hash_thread=False),
        }, clean, server_pid=proc.pid)
        auto = "helper thread" if Downloader(out)._hash_on_thread(jobs) else "inline"
        print(f"{jobs} files x {size_mb // jobs} MiB at once, median of {repeat} rounds "
              f"({available_cores()} cores; CPU s: client side + server):")
        rows = [("curl", f"{jobs} curl processes (baseline)"),
                ("ours", f"enet4y2 --jobs {jobs} ({auto})"),
                ("thread", "  forced: helper thread"), ("inline", "  forced: inline hash")]
        for key, label in rows:
            ratio = "" if key == "curl" else f"  = {t['curl'] / t[key]:.2f}x curl"
            print(f"  {label:34s} {t[key]:6.2f} s  {mb / t[key]:6.0f} MB/s  "
                  f"CPU {cpu[key][0]:5.2f} + {cpu[key][1]:4.2f} s{ratio}")
    finally:
        proc.stdin.close()
        proc.wait()


def bench_paced(tmp: Path, size_mb: int, repeat: int, jobs: int, rate_mb: float) -> None:
    """--jobs streams from a server that paces each connection at `rate_mb` MB/s."""
    from enet4y2.fetch.download import Downloader, FileSpec

    pub, out = tmp / "paced", tmp / "paced-out"
    pub.mkdir()
    size = size_mb << 20
    names = [f"part{i}.bin" for i in range(jobs)]
    for name in names:
        make_file(pub / name, size // jobs)
    proc, url = start_server(pub, rate_mb)
    try:
        def clean():
            fresh_dir(out)

        def curl():
            curl_all(url, names, out)

        def ours():
            Downloader(out, retries=0).fetch_all([FileSpec(n, url + n) for n in names], jobs)

        t, cpu = interleaved(repeat, {"curl": curl, "ours": ours}, clean, server_pid=proc.pid)
        mb = size / 1e6
        print(f"{jobs} files x {size_mb // jobs} MiB, server paced at {rate_mb:g} MB/s per "
              f"connection, median of {repeat} rounds:")
        for key, label in (("curl", f"{jobs} curl processes (baseline)"),
                           ("ours", f"enet4y2 --jobs {jobs}")):
            per_stream = mb / jobs / t[key]
            ratio = "" if key == "curl" else f"  = {t['curl'] / t[key]:.2f}x curl"
            print(f"  {label:34s} {t[key]:6.2f} s  {per_stream:6.0f} MB/s per stream  "
                  f"CPU {cpu[key][0]:5.2f} + {cpu[key][1]:4.2f} s{ratio}")
    finally:
        proc.stdin.close()
        proc.wait()


def synthetic_instances(n_images: int = 118_287, n_boxes: int = 860_001) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    cats = [c for c in range(1, 91) if c not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
    images = [{"id": int(i), "file_name": f"COCO_train2014_{i:012d}.jpg", "width": 640,
               "height": 480} for i in rng.choice(600_000, n_images, replace=False)]
    ids = np.array([im["id"] for im in images])
    img = rng.choice(ids, n_boxes)
    cat = rng.choice(cats, n_boxes)
    xy = rng.uniform(0, 400, (n_boxes, 2)).round(2)
    wh = rng.uniform(1, 300, (n_boxes, 2)).round(2)
    crowd = (rng.uniform(size=n_boxes) < 0.01).astype(int)
    anns = [{"id": k, "image_id": int(img[k]), "category_id": int(cat[k]),
             "bbox": [float(xy[k, 0]), float(xy[k, 1]), float(wh[k, 0]), float(wh[k, 1])],
             "iscrowd": int(crowd[k]), "area": 1.0, "segmentation": []}
            for k in range(n_boxes)]
    return {"images": images, "annotations": anns,
            "categories": [{"id": c, "name": f"c{c}"} for c in cats]}


def naive_labels(instances: dict) -> dict[str, str]:
    """The baseline: the obvious per-annotation loop (same output)."""
    ids = sorted(c["id"] for c in instances["categories"])
    cls = {c: i for i, c in enumerate(ids)}
    images = {im["id"]: im for im in instances["images"]}
    out = {im["file_name"]: "" for im in instances["images"]}
    for a in instances["annotations"]:
        im = images.get(a["image_id"])
        if im is None or a.get("iscrowd") or a["category_id"] not in cls:
            continue
        w, h = im["width"], im["height"]
        x, y, bw, bh = a["bbox"]
        x1, y1 = min(max(x, 0), w), min(max(y, 0), h)
        x2, y2 = min(max(x + bw, 0), w), min(max(y + bh, 0), h)
        if x2 <= x1 or y2 <= y1:
            continue
        out[im["file_name"]] += (f"{cls[a['category_id']]} {(x1 + x2) / 2 / w:.6f} "
                                 f"{(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} "
                                 f"{(y2 - y1) / h:.6f}\n")
    return out


def bench_labels(tmp: Path) -> None:
    from enet4y2.data import coco as coco_labels

    raw = json.dumps(synthetic_instances()).encode()
    print(f"labels: synthetic instances JSON {len(raw) / 1e6:.0f} MB, 118,287 images, "
          "860,001 boxes")
    t0 = time.perf_counter()
    instances = json.loads(raw)
    t_load = time.perf_counter() - t0
    t_naive = timed(lambda: naive_labels(instances))
    result = {}
    t_ours = timed(lambda: result.update(coco_labels.labels_from_instances(instances)))
    assert result == naive_labels(instances), "vectorized labels differ from the baseline"
    out = tmp / "labels"
    out.mkdir()

    def write():
        for name, text in result.items():
            with open(out / coco_labels.label_file_name(name), "w") as fh:
                fh.write(text)

    t_write = timed(write)
    print(f"  json.loads                        {t_load:6.2f} s")
    print(f"  per-annotation loop (baseline)    {t_naive:6.2f} s")
    print(f"  labels_from_instances             {t_ours:6.2f} s  = {t_naive / t_ours:.1f}x faster")
    print(f"  write {len(result)} label files        {t_write:6.2f} s")
    print(f"  total (load + convert + write)    {t_load + t_ours + t_write:6.2f} s  (goal < 60 s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--rate-mb", type=float, default=0,
                    help="also time --jobs streams paced by the server at this many MB/s each")
    ap.add_argument("--skip-labels", action="store_true")
    ap.add_argument("--skip-transfer", action="store_true")
    ap.add_argument("--dir", help="where the temp files go (e.g. /dev/shm to keep the "
                    "disk out of the measurement); default: the system temp dir")
    args = ap.parse_args()
    if args.serve:
        serve_forever(args.serve, args.rate_mb)
        return
    if not args.skip_transfer and shutil.which("curl") is None:
        sys.exit("curl not found: install it (apt-get install -y curl) or pass --skip-transfer")
    tmp = Path(tempfile.mkdtemp(prefix="enet4y2-bench-", dir=args.dir))
    try:
        if not args.skip_transfer:
            bench_transfer(tmp, args.size_mb, args.repeat, args.jobs)
            if args.rate_mb:
                bench_paced(tmp, args.size_mb, args.repeat, args.jobs, args.rate_mb)
        if not args.skip_labels:
            bench_labels(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
