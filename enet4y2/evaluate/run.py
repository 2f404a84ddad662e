"""The eval pipeline the CLI calls: model -> COCO results -> COCOeval, darknet's mAP run,
or a results file from anywhere -> COCOeval. Returns plain dicts; the CLI renders."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from enet4y2.darknet import Network, ensure_built
from enet4y2.data import files as datafile
from enet4y2.errors import DataError, MissingFileError
from enet4y2.evaluate import cocoeval, inference, yolo_gt
from enet4y2.evaluate import darknet_map as map_run
from enet4y2.evaluate.results import (
    category_map,
    detections_to_results,
    image_ids_for,
    read_json,
)
from enet4y2.evaluate.table import EVEN_WITHIN, comparison_table
from enet4y2.fileio import atomic_write_json, refuse_overwrite, strict
from enet4y2.runtime import open_model
from enet4y2.runtime.models import require_engine

ONLY_DETECTED_WARNING = (
    "--only-detected-images scores only images with at least one detection (the seed's "
    "method): images where the model found nothing cost it nothing, so AP is inflated")

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class EvalSetup:
    """Where the images, names and ground truth come from."""

    image_paths: list[str]
    names: list[str] | None
    gt: dict
    image_ids: list[int]
    gt_source: str
    warnings: list[str] = field(default_factory=list)


def _valid_list(data: dict[str, str], list_path: str | os.PathLike | None) -> str:
    path = list_path or data.get("valid")
    if not path:
        raise DataError("no image list: give --list or set valid= in the .data file")
    return str(path)


def prepare(data_path: str | os.PathLike | None, list_path: str | os.PathLike | None,
            gt_path: str | os.PathLike | None, progress: Progress | None = None
            ) -> EvalSetup:
    """Read the .data, list and names; load --gt, or build GT from the YOLO labels."""
    data = datafile.read_data_file(data_path, "give --data coco.data") if data_path else {}
    if not data and not list_path:
        raise DataError("no images to evaluate: give --data (with valid=) or --list")
    image_paths = datafile.read_list(_valid_list(data, list_path),
                                     "give --list or set valid= in the .data")
    names = datafile.read_names(data["names"]) if data.get("names") else None
    warnings: list[str] = []
    if gt_path:
        gt = cocoeval.check_gt(read_json(gt_path, "ground truth"))
        ids = image_ids_for(image_paths, gt["images"])
        return EvalSetup(image_paths, names, gt, ids, str(gt_path), warnings)
    if names is None:
        if "classes" not in data:
            raise DataError("without --gt the classes come from the .data file; give --data "
                            "with names= or give --gt instances.json")
        names = [str(i) for i in range(int(data["classes"]))]
    if data.get("eval") == "coco":
        warnings.append("no --gt: the ground truth is built from the YOLO label files; for "
                        "official COCO numbers give --gt instances_val2014.json")
    gt, ids = yolo_gt.load_yolo_gt(image_paths, names, progress=progress)
    return EvalSetup(image_paths, names, gt, ids, "YOLO labels", warnings)


def infer_results(setup: EvalSetup, cfg: str | os.PathLike | None,
                  weights: str | os.PathLike | None, *, batch: int = 1, thresh: float = 0.005,
                  letterbox: bool = False, model: str | os.PathLike | None = None,
                  engine: str | None = None, device: str | None = None,
                  progress: Progress | None = None) -> list[dict]:
    """Run the model over the list (the binding, or an exported `model` on `engine`);
    COCO results with GT ids."""
    for what, path in (("cfg", cfg), ("weights", weights), ("model", model)):
        if path is not None and not Path(path).is_file():
            raise MissingFileError(f"{what} {path} not found; check the path")
    category_ids = category_map((c["id"] for c in setup.gt["categories"]),
                                len(setup.gt["categories"]))
    results: list[dict] = []
    total = len(setup.image_paths)
    done = 0
    if model is None:
        net = Network(str(cfg), str(weights), batch=batch)
    else:
        net = open_model(model=model, backend=engine, device=device, batch=batch)
    with net:
        # like darknet's map: the cfg's letter_box=1 wins
        letterbox = letterbox or net.letterbox_default
        if net.classes != len(category_ids):
            category_map(category_ids, net.classes)  # raises the one-line mismatch error

        def on_batch(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        for index, (width, height), dets in inference.batched_detections(
                net, setup.image_paths, thresh=thresh, letterbox=letterbox,
                on_batch=on_batch):
            results.extend(detections_to_results(
                setup.image_ids[index], width, height, dets.classes, dets.scores,
                dets.boxes, category_ids))
    return results


def score(gt: dict, results: list[dict], image_ids: Sequence[int] | None, *,
          only_detected_images: bool = False, backend: str = "pycocotools",
          progress: Progress | None = None) -> dict:
    """COCOeval over the list's images (or only detected ones); a report dict.
    `progress` hears (0, 1) before and (1, 1) after: COCOeval has no finer hook."""
    if progress:
        progress(0, 1)
    stats = cocoeval.evaluate(gt, results, image_ids,
                              only_detected_images=only_detected_images, backend=backend)
    if progress:
        progress(1, 1)
    scored = (len({r["image_id"] for r in results}) if only_detected_images
              else len(set(image_ids)) if image_ids is not None else len(gt["images"]))
    warnings = [ONLY_DETECTED_WARNING] if only_detected_images else []
    return {"stats": stats, "images": scored, "detections": len(results),
            "backend": backend, "only_detected_images": only_detected_images,
            "warnings": warnings}


def evaluate_results_file(results_path: str | os.PathLike, gt_path: str | os.PathLike, *,
                          list_path: str | os.PathLike | None = None,
                          data_path: str | os.PathLike | None = None,
                          only_detected_images: bool = False,
                          backend: str = "pycocotools",
                          progress: Progress | None = None) -> dict:
    """`enet4y2 eval --results R --gt GT`: score a results file from anywhere."""
    gt = cocoeval.check_gt(read_json(gt_path, "ground truth"))
    results = read_json(results_path, "results file")
    image_ids = None
    if list_path or data_path:
        data = datafile.read_data_file(data_path) if data_path else {}
        image_ids = image_ids_for(datafile.read_list(_valid_list(data, list_path)),
                                  gt["images"])
    report = score(gt, results, image_ids, only_detected_images=only_detected_images,
                   backend=backend, progress=progress)
    if image_ids is None and not only_detected_images and isinstance(results, list):
        covered = len({r.get("image_id") for r in results if isinstance(r, dict)})
        if covered < 0.5 * len(gt["images"]):
            report["warnings"].append(
                f"the results cover {covered} of the GT's {len(gt['images'])} images and all "
                "GT images were scored; give --list (e.g. 5k.txt) to score the images you ran on")
    return report


def run_darknet_map(data_path: str | os.PathLike, cfg: str | os.PathLike,
                    weights: str | os.PathLike, *, list_path: str | os.PathLike | None = None,
                    iou_thresh: float = 0.5, points: int = 0, thresh: float = 0.25,
                    progress: Progress | None = None) -> dict:
    """darknet's own mAP run through the executable, parsed. With `list_path` darknet
    gets a temporary copy of the .data whose valid= names that list."""
    data = datafile.read_data_file(data_path)
    total = len(datafile.read_list(_valid_list(data, list_path)))

    def on_progress(count: int) -> None:
        if progress:
            progress(min(count, total), total)

    with tempfile.TemporaryDirectory(prefix="enet4y2-map-") as tmp:
        if list_path:
            data = {**data, "valid": str(Path(list_path).resolve())}
            data_path = Path(tmp) / Path(data_path).name
            data_path.write_text(datafile.data_file_text(data))
        result, _ = map_run.run_darknet_map(data_path, cfg, weights,
                                                iou_thresh=iou_thresh, points=points,
                                                thresh=thresh, on_progress=on_progress)
    return strict(result)


def save_results(path: str | os.PathLike, results: list[dict]) -> Path:
    return atomic_write_json(path, results)


#: The files `--out DIR` writes, by the option that names each one alone.
OUT_FILES = {"json_out": "coco_results.json", "stats_out": "coco_stats.json",
             "map_out": "darknet_map.json"}


def output_paths(out: str | os.PathLike | None, **files: str | os.PathLike | None
                 ) -> dict[str, Path | None]:
    """Where each result goes: the file its own option names, else its name in `out`,
    else nowhere (None). An empty name means nowhere even with `out`."""
    paths: dict[str, Path | None] = {}
    for key, name in OUT_FILES.items():
        given = files.get(key)
        if given is None:
            paths[key] = Path(out) / name if out else None
        else:
            paths[key] = Path(given) if str(given) else None
    return paths


StageProgress = Callable[[str, int, int], None]  # (stage, done, total)
#: (setup, progress) -> (COCO results, warnings): inference run elsewhere
ShardedInference = Callable[[EvalSetup, "Progress | None"], tuple[list[dict], list[str]]]


def run_eval(*, weights=None, cfg=None, data=None, list_path=None, gt=None, results=None,
             pycoco: bool = False, darknet_map: bool = False, thresh: float = 0.005,
             letterbox: bool = False, batch: int = 1, out=None, json_out=None, stats_out=None,
             map_out=None, compare: Sequence[tuple[str, str]] = (), name: str | None = None,
             only_detected_images: bool = False, backend: str = "pycocotools",
             iou_thresh: float = 0.5, points: int = 0, even_within: float = EVEN_WITHIN,
             model=None, engine: str | None = None, device: str | None = None,
             progress: StageProgress | None = None, sharded: ShardedInference | None = None
             ) -> dict:
    """Everything `enet4y2 eval` does, as one call returning a report dict:
    {"darknet_map": {...} | None, "pycoco": {...} | None, "table": {...} | None,
     "written": [paths], "warnings": [...]}. Inputs are checked before any long run.
    Files are written only where asked: `out` (a folder, see `OUT_FILES`) or the single
    files `json_out`, `stats_out`, `map_out` (which win over `out`). `model` (an exported
    .onnx) runs on `engine` (onnxruntime by default, or opencv) instead of the binding;
    `backend` is the COCOeval implementation. `sharded(setup, progress)` -> (results,
    warnings), when given, runs the inference instead (on workers)."""
    written_to = output_paths(out, json_out=json_out, stats_out=stats_out, map_out=map_out)
    json_out, stats_out, map_out = (written_to[key] for key in OUT_FILES)

    def stage(label: str) -> Progress | None:
        return (lambda done, total: progress(label, done, total)) if progress else None

    inputs = [weights, cfg, model, data, list_path, gt, results,
              *(path for _, path in compare)]
    outputs = [("--json-out", json_out), ("--stats-out", stats_out), ("--map-out", map_out)]
    for i, (flag, output) in enumerate(outputs):
        if output:
            others = [path for _, path in outputs[i + 1:]]
            refuse_overwrite(output, [*inputs, *others], flag)

    if results or pycoco:
        cocoeval.load_backend(backend)  # a missing extra fails now, not after inference
    if model is not None and not results:
        require_engine(engine or "onnxruntime")
    loaded = [(ref_name, *cocoeval.load_stats_record(path)) for ref_name, path in compare]
    references = [(ref_name, stats) for ref_name, stats, _ in loaded]
    report: dict = {"darknet_map": None, "pycoco": None, "table": None, "written": [],
                    "warnings": []}
    if results:
        if weights or model:
            raise DataError("give either --results (score a file) or --weights/--model (run "
                            "a model)")
        if not gt:
            raise DataError("--results needs --gt, the COCO instances file it refers to")
        if darknet_map:
            raise DataError("--darknet-map runs a model: give --weights and --data, "
                            "not --results")
        report["pycoco"] = evaluate_results_file(
            results, gt, list_path=list_path, data_path=data,
            only_detected_images=only_detected_images, backend=backend,
            progress=stage(f"COCOeval ({backend})"))
        name = name or Path(results).stem
    else:
        if not weights and not model:
            raise DataError("give --weights or --model (run a model) or --results with --gt "
                            "(score a file)")
        for what, path in (("cfg", cfg), ("weights", weights), ("model", model)):
            if path is not None and not Path(path).is_file():
                raise MissingFileError(f"{what} {path} not found; check the path")
        if model is not None and (darknet_map or not pycoco):
            raise DataError("an exported --model is evaluated with --pycoco; darknet's mAP "
                            "run needs --cfg and --weights")
        if pycoco and model is None:
            ensure_built()  # not built: say so before reading labels or running darknet
        run_map = darknet_map or not pycoco
        if run_map and not data:
            raise DataError("darknet's mAP run needs --data (valid=, names=)")
        setup = prepare(data, list_path, gt, stage("labels")) if pycoco else None
        if run_map:
            report["darknet_map"] = run_darknet_map(
                data, cfg, weights, list_path=list_path, iou_thresh=iou_thresh,
                points=points, progress=stage("darknet map"))
            if map_out:
                written = atomic_write_json(map_out, report["darknet_map"])
                report["written"].append(str(written))
        if setup is not None:
            report["warnings"].extend(setup.warnings)
            if sharded is not None:
                detections, more = sharded(setup, stage("detect"))
                report["warnings"].extend(more)
            else:
                detections = infer_results(setup, cfg, weights, batch=batch, thresh=thresh,
                                           letterbox=letterbox, model=model, engine=engine,
                                           device=device, progress=stage("detect"))
            if json_out:
                report["written"].append(str(save_results(json_out, detections)))
            report["pycoco"] = score(setup.gt, detections, setup.image_ids,
                                     only_detected_images=only_detected_images,
                                     backend=backend, progress=stage(f"COCOeval ({backend})"))
            report["pycoco"]["gt"] = setup.gt_source
        name = name or Path(weights or model).stem
    if report["pycoco"] is not None:
        stats = report["pycoco"]["stats"]
        report["warnings"].extend(report["pycoco"].pop("warnings"))
        report["table"] = comparison_table(name, stats, references, even_within)
        for ref_name, _, meta in loaded:
            report["warnings"].extend(cocoeval.comparability_warnings(
                ref_name, meta, images=report["pycoco"]["images"],
                only_detected_images=only_detected_images))
        if stats_out:
            cocoeval.save_stats(stats_out, stats, model=name, backend=backend,
                                images=report["pycoco"]["images"],
                                only_detected_images=only_detected_images)
            report["written"].append(str(stats_out))
    elif references:
        report["warnings"].append("--compare needs --pycoco; the references were not shown")
    return report
