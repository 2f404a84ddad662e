"""`enet4y2 detect`."""

from __future__ import annotations

from pathlib import Path

import click

from enet4y2.cli.detect_video import SourceParam, video_options
from enet4y2.cli.options import (
    cfg_option,
    check_model_choice,
    json_option,
    model_options,
    names_option,
    out_option,
    weights_option,
)
from enet4y2.cli.sharded import EXECUTOR_KEYS, executor_options
from enet4y2.cli.terminal import terminal


@click.command(short_help="Detect objects in images, videos and streams (darknet or ONNX).")
@click.argument("images", metavar="SOURCE...", nargs=-1, required=True, type=SourceParam())
@cfg_option(help="Network .cfg file.")
@weights_option(help="Trained .weights file.")
@model_options()
@names_option()
@click.option("--thresh", default=0.25, show_default=True, help="Confidence threshold.")
@click.option("--nms", default=0.45, show_default=True, help="NMS IoU threshold (0: off).")
@click.option("--letterbox/--no-letterbox", default=None,
              help="Letterbox instead of stretching (default: the cfg's letter_box).")
@json_option(help="One JSON object per image (JSON lines).")
@out_option("Write annotated copies of the images (and videos, as mp4) here (a sharded "
            "run: the run folder, with detections.jsonl).", hidden_aliases=("--save-dir",))
@video_options
@click.option("--verbose", is_flag=True, help="Show darknet's own output while it loads.")
@executor_options
def detect(images, cfg, weights, model, backend, device, names, thresh, nms, letterbox, as_json,
           out, track, mot, reconnect, queue_size, verbose, **run_options):
    """Detect objects in SOURCEs: image files, printing what darknet's
    `detector test -ext_output` prints (or JSON lines with --json); video files,
    cameras (0, /dev/video0), rtsp/http(s)/udp streams and .streams files (one URL a
    line), one JSON line per frame with --json, an annotated mp4 per video with --out.
    Image files can be sharded over a process pool or Ray workers (--workers,
    --executor ray), resumably.

    \b
    Examples:
      enet4y2 detect dog.jpg --cfg cfg/enet4y2-coco.cfg \\
          --weights enet4y2-coco_final.weights --names data/coco.names
      enet4y2 detect imgs/*.jpg --cfg my.cfg --weights my.weights --json > dets.jsonl
      enet4y2 detect imgs/*.jpg --cfg my.cfg --weights my.weights --out annotated/
      enet4y2 detect clip.mp4 --cfg my.cfg --weights my.weights --out annotated/ --json
      enet4y2 detect rtsp://cam/live --cfg my.cfg --weights my.weights --track \\
          --reconnect 5 --json
      enet4y2 detect dog.jpg --model enet4y2.onnx                 # ONNX Runtime, CPU
      enet4y2 detect dog.jpg --model enet4y2.onnx --backend opencv
      enet4y2 detect dog.jpg --model enet4y2.onnx --device cuda   # onnxruntime-gpu
      enet4y2 detect imgs/*.jpg --cfg C --weights W --workers 2 --out run/  # process pool
      enet4y2 detect imgs/*.jpg --cfg C --weights W --executor ray --address auto \\
          --workers 8 --gpus-per-worker 1 --out run/    # rerun the same to resume
    \b
    Every backend shares the binding's preprocessing and darknet's decoding and NMS,
    so their detections agree (within float rounding of the engines' forward passes).
    """
    import time

    backend = check_model_choice(backend, cfg=cfg, weights=weights, model=model,
                                 device=device)
    if backend == "darknet" and weights is None:
        raise click.UsageError("--weights is required with --cfg (or give --model)")

    from enet4y2.cli import sharded

    if sharded.sharded(run_options):
        from enet4y2.video import is_video_source

        if any(is_video_source(p) for p in images) or track or mot or reconnect:
            raise click.UsageError("a sharded run (--executor ray or --workers) takes image "
                                   "files; run video sources without it")
        return _detect_sharded(images, cfg, weights, model, backend, device, names, thresh,
                               nms, letterbox, as_json, out, run_options)
    from enet4y2 import images as imgs
    from enet4y2.cli import detect_video
    from enet4y2.detect import output as det
    from enet4y2.errors import OutputError
    from enet4y2.runtime import open_model
    from enet4y2.video import is_video_source

    videos = [p for p in images if is_video_source(p)]
    images = [Path(p) for p in images if not is_video_source(p)]
    if (track or mot or reconnect) and not videos:
        raise click.UsageError("--track, --mot and --reconnect are for video sources")
    sources = detect_video.sources(videos, mot) if videos else []
    targets = {}
    if out:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"--out {out}: {exc.strerror} — choose a writable folder") \
                from None
        targets = dict(zip(images, det.annotated_paths(images, out), strict=True))
    with open_model(cfg, weights, model=model, backend=backend, device=device, names=names,
                    verbose=verbose) as net:
        progress = terminal.progress(transient=True) if len(images) > 10 else None
        task = progress.add_task("detecting", total=len(images)) if progress else None
        if progress:
            progress.start()
        try:
            for path, image in imgs.prefetch(images):
                t0 = time.perf_counter()
                dets = net.detect(image, thresh=thresh, nms=nms, letterbox=letterbox)
                ms = (time.perf_counter() - t0) * 1000
                if as_json:
                    terminal.json(det.to_record(path, image, dets, ms), indent=None)
                else:
                    terminal.write(f"{path}: Predicted in {ms:.3f} milli-seconds.")
                    if len(dets):
                        terminal.write(det.ext_output(dets))
                if out:
                    det.save_image(targets[path], det.draw(image, dets))
                if progress:
                    progress.advance(task)
        finally:
            if progress:
                progress.stop()
        if videos:
            detect_video.run(net, sources, thresh=thresh, nms=nms, letterbox=letterbox,
                             as_json=as_json, out=out, mot=mot, track=track,
                             reconnect=reconnect, queue_size=queue_size)


def _detect_sharded(images, cfg, weights, model, backend, device, names, thresh, nms,
                    letterbox, as_json, out, run_options) -> None:
    """Shards on workers; the merged JSON lines in OUT/detections.jsonl (and on stdout
    with --json): `--json`'s records in input order."""
    from enet4y2.cli import sharded
    from enet4y2.executors import Job, ModelSpec
    from enet4y2.fileio import atomic_write
    from enet4y2.runtime.models import require_engine

    if out is None:
        raise click.UsageError("a sharded run (--executor ray or --workers) needs --out DIR, "
                               "the run folder it keeps and resumes")
    if backend == "darknet":
        from enet4y2.darknet import ensure_built

        ensure_built()
    else:
        require_engine(backend)
    spec = ModelSpec(*(None if p is None else str(p) for p in (cfg, weights, model)),
                     backend=backend, device=device, names=None if names is None
                     else str(names))
    job = Job("detect", spec, {"thresh": thresh, "nms": nms, "letterbox": letterbox})
    report = sharded.run(job, [str(Path(p)) for p in images], out,
                         {k: run_options[k] for k in EXECUTOR_KEYS})
    text = "".join(f"{line}\n" for line in report.lines)
    merged = atomic_write(out / "detections.jsonl", text)
    if as_json and text:
        terminal.write(text)
    terminal.info(f"wrote {merged}")
    failed = sharded.errors_in(report.lines)
    if failed:
        terminal.abort(f"{len(failed)} of {len(images)} images could not be read (recorded "
                       f"in {merged}); first: {failed[0]}")
