"""`enet4y2 train`: what surrounds darknet's training — the command, the weights to start
from, the log header, resume and warm-up plans. The supervised child process lives in
`train_run`; pre-flight checks in `preflight`.

Pure: `darknet_command`, `header_line`, `resume_command`, `warmup_cfg_text`,
`classifier_cfg`, `weights_paths`. Thin I/O: `select_weights`, `resume_weights`,
`newest_weights`, `write_warmup_cfg`.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from enet4y2.cfg import Cfg, Section, infer, load_cfg
from enet4y2.errors import MissingFileError, WeightsError

#: darknet's advice for multi-GPU training from scratch: this many iterations on one GPU.
WARMUP_ITERATIONS = 1000
#: Where the temporary warm-up cfg goes, inside the backup folder.
WARMUP_DIR = ".enet4y2-warmup"


@dataclass(frozen=True)
class WeightsChoice:
    """What darknet is given: `path` (None = from scratch), how it was recognised, and a
    sentence for the user."""

    path: Path | None
    kind: str  # "scratch", "full", "backbone", "classifier", "resume"
    note: str
    cut_from: Path | None = None  # the classifier weights a cut was made from


def cfg_stem(cfg_path: str | Path) -> str:
    """darknet's `basecfg`: the file name without folder and extension."""
    name = Path(cfg_path).name
    return name.split(".", 1)[0] if "." in name else name


def darknet_command(executable: str | Path, data: str | Path, cfg: str | Path,
                    weights: str | Path | None = None, *, gpus: str | None = None,
                    calc_map: bool = False, clear: bool = False,
                    extra: Sequence[str] = ()) -> list[str]:
    """The argument list of `darknet detector train` (never a shell string)."""
    cmd = [str(executable), "detector", "train", str(data), str(cfg)]
    if weights is not None:
        cmd.append(str(weights))
    cmd.append("-dont_show")
    if gpus:
        cmd += ["-gpus", gpus]
    if calc_map:
        cmd.append("-map")
    if clear:
        cmd.append("-clear")
    return [*cmd, *extra]


def parse_gpus(text: str | None) -> list[int]:
    """`0,1,2` -> [0, 1, 2]; a clear error for anything else."""
    if not text:
        return []
    try:
        gpus = [int(part) for part in text.split(",")]
    except ValueError:
        gpus = []
    if not gpus or any(g < 0 for g in gpus) or len(set(gpus)) != len(gpus):
        raise WeightsError(f"--gpus {text!r}: give distinct GPU indices like 0,1,2,3")
    return gpus


def header_line(command: Sequence[str], record: dict | None,
                when: datetime | None = None) -> str:
    """One line starting each run in the log: date, command, build flags, source commit."""
    when = when or datetime.now(timezone.utc)
    record = record or {}
    flags = record.get("flags") or {}
    flag_text = " ".join(f"{k}={v}" for k, v in flags.items()) or "unknown"
    commit = record.get("commit") or "unknown"
    return (f"# enet4y2 train {when.strftime('%Y-%m-%dT%H:%M:%SZ')} | "
            f"command: {shlex.join(command)} | build: {flag_text} | commit: {commit}\n")


def resume_command(data: str, cfg: str, *, gpus: str | None = None, calc_map: bool = False,
                   log: str | None = None, skip_bad: bool = False) -> str:
    """The `enet4y2 train --resume ...` line to print after an interruption."""
    cmd = ["enet4y2", "train", "--data", data, "--cfg", cfg, "--resume"]
    if gpus:
        cmd += ["--gpus", gpus]
    if calc_map:
        cmd.append("--map")
    if log:
        cmd += ["--log", log]
    if skip_bad:
        cmd.append("--skip-bad")
    return shlex.join(cmd)


def weights_paths(backup: Path, cfg_path: str | Path) -> dict[str, Path]:
    """The files darknet writes into backup/ for a cfg."""
    stem = cfg_stem(cfg_path)
    return {kind: backup / f"{stem}_{kind}.weights" for kind in ("last", "final", "best")}


def resume_weights(backup: Path, cfg_path: str | Path) -> Path:
    """`<backup>/<cfg stem>_last.weights`, or a clear error when there is none."""
    last = weights_paths(backup, cfg_path)["last"]
    if not last.is_file():
        raise MissingFileError(f"--resume: no {last} (darknet writes it every 100 "
                               "iterations) — start without --resume, or pass --weights")
    return last


def newest_weights(backup: Path, cfg_path: str | Path) -> Path | None:
    """The most recently written `<cfg stem>_*.weights` in backup/, if any."""
    stem = cfg_stem(cfg_path)
    found = [p for p in backup.glob(f"{stem}_*.weights") if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


# --- weights recognition ----------------------------------------------------------------
def classifier_cfg(classes: int, channels: int = 3) -> Cfg:
    """EfficientNet-B0 as upstream's classifier cfg (efficientnet_b0.cfg): the backbone,
    then avgpool, dropout, a `classes`-way linear 1x1 convolution and softmax."""
    from enet4y2.models import backbone

    net = Section(type="net", options={"width": "224", "height": "224",
                                       "channels": str(channels)})
    head = [Section(type="avgpool", options={}),
            Section(type="dropout", options={"probability": ".2"}),
            Section(type="convolutional", options={
                "filters": str(classes), "size": "1", "stride": "1", "pad": "0",
                "activation": "linear"}),
            Section(type="softmax", options={"groups": "1"})]
    return Cfg(sections=[net, *backbone()[0], *head])


def classifier_classes(payload_floats: int, channels: int = 3) -> int | None:
    """The class count K for which the EfficientNet-B0 classifier holds exactly
    `payload_floats` floats (1280*K weights + K biases after the backbone), or None."""
    from enet4y2.models import BACKBONE_LAYERS, TOP_CHANNELS

    base = infer(classifier_cfg(1, channels)).weights_floats(BACKBONE_LAYERS)
    extra = payload_floats - base
    if extra <= 0 or extra % (TOP_CHANNELS + 1):
        return None
    return extra // (TOP_CHANNELS + 1)


def select_weights(weights: str | Path | None, detector: Cfg, backup: Path,
                   classifier: Cfg | None = None) -> WeightsChoice:
    """Detector weights as they are; classifier weights cut once (cached in backup/) to
    the layers the detector shares with the classifier; none: from scratch."""
    from enet4y2.weights import cut_weights, match_size, read_header, shared_layers

    if weights is None:
        return WeightsChoice(None, "scratch", "no --weights: training from scratch — pass "
                             "the EfficientNet-B0 backbone (enetb0_final.weights) for a "
                             "far better start")
    src = Path(weights)
    if not src.is_file():
        raise MissingFileError(f"{src}: no such weights file — check --weights")
    header, size = read_header(src), src.stat().st_size
    match = match_size(size, header, detector)
    if match.kind == "full":
        return WeightsChoice(src, "full", f"{src}: detector weights, all {match.layers} "
                             "layers")
    if match.kind == "backbone":
        return WeightsChoice(src, "backbone", f"{src}: first {match.layers} layers of the "
                             "detector (a cut backbone); darknet initializes the rest")
    if classifier is None:
        classes = classifier_classes((size - header.header_size) // 4, detector.channels or 3)
        if (size - header.header_size) % 4 == 0 and classes:
            classifier = classifier_cfg(classes, detector.channels or 3)
    if classifier is None or match_size(size, header, classifier).kind != "full":
        raise WeightsError(f"{src}: {size:,} bytes fit neither {detector.path or 'the cfg'} "
                           f"({match.expected_size:,} bytes for the full detector) nor an "
                           "EfficientNet-B0 classifier — pass the classifier's cfg with "
                           "--weights-cfg, or weights trained with this cfg")
    layers = shared_layers(classifier, detector)
    if layers == 0:
        raise WeightsError(f"{src}: the classifier shares no layers with the detector — "
                           "pass weights trained for this backbone")
    stem = src.name.removesuffix(".weights")
    cut = backup / f"{stem}.conv.{layers}"
    expected = header_size_v025() + 4 * infer(classifier).weights_floats(layers)
    if not (cut.is_file() and cut.stat().st_size == expected):
        cut_weights(src, classifier, layers, cut)
        note = f"{src}: classifier weights, cut to layers 0..{layers - 1} -> {cut}"
    else:
        note = f"{src}: classifier weights; using the cached cut {cut}"
    return WeightsChoice(cut, "classifier", note, cut_from=src)


def header_size_v025() -> int:
    """Header bytes of files darknet (and `cut_weights`) writes: version 0.2.5."""
    from enet4y2.cfg import header_size
    from enet4y2.weights import DARKNET_VERSION

    return header_size(*DARKNET_VERSION[:2])


# --- multi-GPU warm-up --------------------------------------------------------------------
def warmup_cfg_text(cfg_text: str, iterations: int = WARMUP_ITERATIONS) -> str:
    """The cfg with `max_batches` set to `iterations` in [net] (other lines untouched)."""
    lines, section, done = cfg_text.splitlines(), None, False
    for i, raw in enumerate(lines):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            if section in ("net", "network") and not done:
                lines.insert(i, f"max_batches={iterations}")
                done = True
                break
            section = line.strip("[]").strip().lower()
        elif section in ("net", "network") and line.partition("=")[0].strip() == \
                "max_batches":
            lines[i] = f"max_batches={iterations}"
            done = True
            break
    if not done:
        lines.append(f"max_batches={iterations}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Step:
    """One darknet run of a training: its command and the max_batches it stops at."""

    command: list[str]
    max_batches: int
    warmup: bool = False


def warmup_cfg_path(cfg_path: str | Path, backup: Path) -> Path:
    """Where the warm-up cfg copy goes: same file name, so weights keep their names."""
    return backup / WARMUP_DIR / Path(cfg_path).name


def plan_steps(executable: str | Path, data: str | Path, cfg_path: str | Path,
               weights: str | Path | None, *, backup: Path, max_batches: int,
               gpus: Sequence[int] = (), calc_map: bool = False, clear: bool = False,
               warmup: bool = False, extra: Sequence[str] = ()) -> list[Step]:
    """The darknet runs of a training (pure). With `warmup` and several GPUs: the first
    WARMUP_ITERATIONS on the first GPU (the cfg copy at `warmup_cfg_path`), then all GPUs
    from that run's final weights, without -clear so the iteration count carries on."""
    gpu_text = ",".join(map(str, gpus)) or None
    if not (warmup and len(gpus) > 1 and max_batches > WARMUP_ITERATIONS):
        return [Step(darknet_command(executable, data, cfg_path, weights, gpus=gpu_text,
                                     calc_map=calc_map, clear=clear, extra=extra),
                     max_batches)]
    first = darknet_command(executable, data, warmup_cfg_path(cfg_path, backup), weights,
                            gpus=str(gpus[0]), clear=clear, extra=extra)
    warm = weights_paths(backup, cfg_path)["final"]
    rest = darknet_command(executable, data, cfg_path, warm, gpus=gpu_text,
                           calc_map=calc_map, extra=extra)
    return [Step(first, WARMUP_ITERATIONS, warmup=True), Step(rest, max_batches)]


def write_warmup_cfg(cfg_path: Path, backup: Path) -> Path:
    """A temporary copy of the cfg for the single-GPU warm-up, in backup/ under the same
    file name, so darknet names its weights `<cfg stem>_*.weights` as usual."""
    from enet4y2.fileio import atomic_write

    load_cfg(cfg_path)  # a clear error before anything is written
    out = warmup_cfg_path(cfg_path, backup)
    return atomic_write(out, warmup_cfg_text(cfg_path.read_text()).encode())
