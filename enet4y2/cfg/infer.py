"""Shape inference as darknet does it at load time: per-layer output shape, BFLOPs
counted the way upstream counts them (only convolutional, maxpool and shortcut layers
report any; the total is summed in float32), and the number of float32 values each layer
stores in a .weights file (the order of `save_weights_upto` in src/parser.c)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from enet4y2.cfg.keys import SUPPORTED, canonical
from enet4y2.cfg.model import Cfg, Section
from enet4y2.errors import CfgError

Report = Callable[[str], None]


@dataclass(frozen=True)
class LayerInfo:
    """One layer after inference; `params` counts the floats it stores in .weights."""

    index: int
    type: str
    out_w: int
    out_h: int
    out_c: int
    bflops: float
    params: int
    in_w: int = 0
    in_h: int = 0
    in_c: int = 0
    line: int = 0
    detail: str = ""

    @property
    def outputs(self) -> int:
        return self.out_w * self.out_h * self.out_c


@dataclass(frozen=True)
class Model:
    layers: list[LayerInfo]

    @property
    def total_bflops(self) -> float:
        """darknet's "Total BFLOPS": the float32 sum of positive per-layer BFLOPs."""
        total = np.float32(0)
        for layer in self.layers:
            if layer.bflops > 0:
                total = np.float32(total + np.float32(layer.bflops))
        return float(total)

    @property
    def param_count(self) -> int:
        return sum(layer.params for layer in self.layers)

    def weights_floats(self, upto: int | None = None) -> int:
        """Floats stored for layers [0, upto) (all layers when None)."""
        return sum(layer.params for layer in self.layers[:upto])


def _raise(message: str) -> None:
    raise CfgError(message)


def infer(cfg: Cfg) -> Model:
    """Infer every layer's shape, BFLOPs and weights; CfgError on the first problem."""
    return infer_with(cfg, _raise)


def infer_with(cfg: Cfg, report: Report) -> Model:
    """Like `infer`, but hands every problem to `report` and carries on where it can
    (a broken layer gets shape 0x0x0 and layers fed by it are not checked again)."""
    return _Inferrer(cfg, report).run()


class _Inferrer:
    def __init__(self, cfg: Cfg, report: Report) -> None:
        self.cfg = cfg
        self.report = report
        self.out: list[LayerInfo] = []

    # -- value helpers: report a problem and fall back to darknet's default ----------
    def where(self, sec: Section, key: str | None = None) -> str:
        return self.cfg.where(sec, key)

    def int_(self, sec: Section, key: str, default: int) -> int:
        raw = sec.get(key)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            self.report(f"{self.where(sec, key)}: {key}={raw} is not an integer — "
                        "write a whole number")
            return default

    def refs(self, sec: Section, key: str, index: int) -> list[int] | None:
        """Layer indices named by `key` (relative ones resolved); None when invalid."""
        raw = sec.get(key)
        if raw is None:
            self.report(f"{self.where(sec)}: [{sec.type}] needs {key}= — name the "
                        "earlier layer(s) to use, e.g. -1")
            return None
        result = []
        for part in raw.split(","):
            try:
                value = int(part)
            except ValueError:
                self.report(f"{self.where(sec, key)}: {key}={raw} is not a list of layer "
                            "indices — write integers such as -1,61")
                return None
            target = index + value if value < 0 else value
            if target < 0:
                self.report(f"{self.where(sec, key)}: {key}={raw} points to layer {target}, "
                            f"before the first layer — use -1..-{index} (this is layer "
                            f"{index})" if index else
                            f"{self.where(sec, key)}: {key}={raw}: layer 0 has no earlier "
                            "layer — remove this section or move it later")
                return None
            if target >= index:
                self.report(f"{self.where(sec, key)}: {key}={raw} points to layer {target}, "
                            f"not before this layer ({index}) — darknet can only use earlier "
                            "layers; use a negative offset or a smaller index")
                return None
            result.append(target)
        return result

    # -- the walk ---------------------------------------------------------------------
    def run(self) -> Model:
        cfg = self.cfg
        try:
            w, h, c = cfg.width, cfg.height, cfg.channels
        except CfgError as exc:
            self.report(str(exc))
            w = h = c = 0
        if cfg.sections and min(w, h, c) <= 0:
            self.report(f"{cfg.where(cfg.net)}: [net] needs positive width, height and "
                        f"channels (got {w}x{h}x{c}) — e.g. width=416 height=416 channels=3")
        for index, sec in enumerate(cfg.layers):
            kind = canonical(sec.type)
            if kind is None or kind == "net" or kind not in SUPPORTED:
                # unknown/unsupported sections are reported by validation; keep going.
                self.report(_unsupported(cfg, sec, kind))
                info = (0, 0, 0, 0.0, 0, "")
            elif min(w, h, c) <= 0 and kind not in ("route", "shortcut", "scale_channels"):
                info = (0, 0, 0, 0.0, 0, "")
            else:
                if sec.get("antialiasing", "0") != "0":
                    self.report(f"{cfg.where(sec, 'antialiasing')}: antialiasing adds a hidden "
                                "blur layer enet4y2 does not model — remove it")
                info = getattr(self, "_" + kind)(sec, index, w, h, c)
            ow, oh, oc, bflops, params, detail = info
            self.out.append(LayerInfo(index, kind or sec.type, ow, oh, oc, bflops, params,
                                      w, h, c, sec.line, detail))
            w, h, c = ow, oh, oc
        return Model(list(self.out))

    # -- layer types ------------------------------------------------------------------
    def _convolutional(self, sec: Section, index: int, w: int, h: int, c: int):
        n = self.int_(sec, "filters", 1)
        size = self.int_(sec, "size", 1)
        stride = self.int_(sec, "stride", 1)
        sx = self.int_(sec, "stride_x", -1)
        sy = self.int_(sec, "stride_y", -1)
        sx, sy = (stride if sx < 1 else sx), (stride if sy < 1 else sy)
        pad = self.int_(sec, "pad", 0)
        padding = size // 2 if pad else self.int_(sec, "padding", 0)
        groups = self.int_(sec, "groups", 1)
        bn = self.int_(sec, "batch_normalize", 0)
        if n < 1 or size < 1 or sx < 1 or sy < 1 or groups < 1:
            self.report(f"{self.where(sec)}: filters, size, stride and groups must be "
                        "positive — fix the [convolutional] values")
            return 0, 0, 0, 0.0, 0, ""
        if c % groups:
            self.report(f"{self.where(sec, 'groups')}: groups={groups} does not divide the "
                        f"{c} input channels — use a divisor of {c} (depthwise: groups={c})")
            return 0, 0, 0, 0.0, 0, ""
        ow = (w + 2 * padding - size) // sx + 1
        oh = (h + 2 * padding - size) // sy + 1
        if ow < 1 or oh < 1:
            self.report(f"{self.where(sec)}: a {size}x{size} kernel leaves no output on a "
                        f"{w}x{h} input — use a smaller size or stride, or a larger input")
            return 0, 0, 0, 0.0, 0, ""
        nweights = (c // groups) * n * size * size
        bflops = float(np.float32((2.0 * nweights * oh * ow) / 1e9))
        if self.int_(sec, "xnor", 0):
            bflops = float(np.float32(bflops / 32))
        params = 0 if "share_index" in sec.options else n * (4 if bn else 1) + nweights
        g = f"/{groups}" if groups > 1 else ""
        return ow, oh, n, bflops, params, f"{n}{g} {size}x{size}/{sx}"

    def _shortcut(self, sec: Section, index: int, w: int, h: int, c: int):
        froms = self.refs(sec, "from", index)
        if froms is None:
            return w, h, c, 0.0, 0, ""
        n = len(froms)
        kind = sec.get("weights_type", "none")
        if kind in ("per_feature", "per_layer"):
            params, factor = n + 1, 2
        elif kind == "per_channel":
            params, factor = (n + 1) * c, 2
        elif kind == "none":
            params, factor = 0, 1
        else:
            self.report(f"{self.where(sec, 'weights_type')}: weights_type={kind} is unknown "
                        "— use none, per_feature or per_channel")
            params, factor = 0, 1
        bflops = float(np.float32(w * h * c * n / 1e9)) * factor
        return w, h, c, float(np.float32(bflops)), params, "from " + ",".join(map(str, froms))

    def _route(self, sec: Section, index: int, w: int, h: int, c: int):
        refs = self.refs(sec, "layers", index)
        if refs is None:
            return 0, 0, 0, 0.0, 0, ""
        first = self.out[refs[0]]
        out_c = 0
        for ref in refs:
            other = self.out[ref]
            if other.outputs == 0:
                return 0, 0, 0, 0.0, 0, ""
            if (other.out_w, other.out_h) != (first.out_w, first.out_h):
                self.report(f"{self.where(sec, 'layers')}: route joins layer {refs[0]} "
                            f"({first.out_w}x{first.out_h}) and layer {ref} ({other.out_w}x"
                            f"{other.out_h}) — route only layers with the same width/height")
                return 0, 0, 0, 0.0, 0, ""
            out_c += other.out_c
        groups = self.int_(sec, "groups", 1)
        if groups < 1 or out_c % groups:
            self.report(f"{self.where(sec, 'groups')}: groups={groups} does not divide "
                        f"{out_c} channels — use a divisor of {out_c}")
            return 0, 0, 0, 0.0, 0, ""
        return first.out_w, first.out_h, out_c // groups, 0.0, 0, ",".join(map(str, refs))

    def _upsample(self, sec: Section, index: int, w: int, h: int, c: int):
        stride = self.int_(sec, "stride", 2)
        if stride == 0:
            self.report(f"{self.where(sec, 'stride')}: stride=0 — use e.g. stride=2")
            return 0, 0, 0, 0.0, 0, ""
        if stride < 0:
            return w // -stride, h // -stride, c, 0.0, 0, f"/{-stride}"
        return w * stride, h * stride, c, 0.0, 0, f"{stride}x"

    def _avgpool(self, sec: Section, index: int, w: int, h: int, c: int):
        return 1, 1, c, 0.0, 0, "global"

    def _maxpool(self, sec: Section, index: int, w: int, h: int, c: int):
        stride = self.int_(sec, "stride", 1)
        size = self.int_(sec, "size", stride)
        sx = self.int_(sec, "stride_x", stride)
        sy = self.int_(sec, "stride_y", stride)
        padding = self.int_(sec, "padding", size - 1)
        if self.int_(sec, "maxpool_depth", 0):
            oc = self.int_(sec, "out_channels", 1)
            return w, h, oc, float(np.float32(size * size * c * h * w / 1e9)), 0, "depth"
        if size < 1 or sx < 1 or sy < 1:
            self.report(f"{self.where(sec)}: maxpool size and stride must be positive")
            return 0, 0, 0, 0.0, 0, ""
        ow = (w + padding - size) // sx + 1
        oh = (h + padding - size) // sy + 1
        bflops = float(np.float32(size * size * c * oh * ow / 1e9))
        return ow, oh, c, bflops, 0, f"{size}x{size}/{sx}"

    def _dropout(self, sec: Section, index: int, w: int, h: int, c: int):
        return w, h, c, 0.0, 0, f"p={sec.get('probability', '.2')}"

    def _scale_channels(self, sec: Section, index: int, w: int, h: int, c: int):
        refs = self.refs(sec, "from", index)
        if refs is None or len(refs) != 1:
            if refs is not None:
                self.report(f"{self.where(sec, 'from')}: [scale_channels] takes one layer in "
                            "from= — name a single earlier layer")
            return 0, 0, 0, 0.0, 0, ""
        src = self.out[refs[0]]
        if src.outputs == 0 or c == 0:
            return 0, 0, 0, 0.0, 0, ""
        by_wh = self.int_(sec, "scale_wh", 0)
        ok = (src.out_w, src.out_h) == (w, h) if by_wh else src.out_c == c
        if not ok:
            self.report(f"{self.where(sec, 'from')}: scale_channels multiplies layer "
                        f"{refs[0]} ({src.out_w}x{src.out_h}x{src.out_c}) by a {w}x{h}x{c} "
                        "input whose channels differ — point from= at the layer with "
                        f"{c} channels")
        return src.out_w, src.out_h, src.out_c, 0.0, 0, f"from {refs[0]}"

    def _yolo(self, sec: Section, index: int, w: int, h: int, c: int):
        classes = self.int_(sec, "classes", 20)
        num = self.int_(sec, "num", 1)
        mask = sec.get("mask")
        try:
            n = len(mask.split(",")) if mask else num
        except ValueError:
            n = num
        want = n * (classes + 5)
        # darknet: "filters= in the [convolutional]-layer doesn't correspond to classes="
        if c != want:
            prev = self.cfg.layers[index - 1] if index else sec
            self.report(f"{self.where(prev, 'filters')}: the layer before the [yolo] at line "
                        f"{sec.line} gives {c} channels, but (classes+5)*{n} masks = {want} "
                        f"— set filters={want} there")
        return w, h, want, 0.0, 0, f"{n} anchors"

    def _softmax(self, sec: Section, index: int, w: int, h: int, c: int):
        groups = self.int_(sec, "groups", 1)
        if groups < 1 or (w * h * c) % groups:
            self.report(f"{self.where(sec, 'groups')}: groups={groups} does not divide "
                        f"{w * h * c} inputs — use a divisor")
        return 1, 1, w * h * c, 0.0, 0, ""

    def _connected(self, sec: Section, index: int, w: int, h: int, c: int):
        outputs = self.int_(sec, "output", 1)
        bn = self.int_(sec, "batch_normalize", 0)
        inputs = w * h * c
        params = outputs + outputs * inputs + (3 * outputs if bn else 0)
        return 1, 1, outputs, 0.0, params, f"{inputs} -> {outputs}"

    def _batchnorm(self, sec: Section, index: int, w: int, h: int, c: int):
        return w, h, c, 0.0, 4 * c, ""

    def _activation(self, sec: Section, index: int, w: int, h: int, c: int):
        return w, h, c, 0.0, 0, sec.get("activation", "linear")

    def _empty(self, sec: Section, index: int, w: int, h: int, c: int):
        return w, h, c, 0.0, 0, ""


def _unsupported(cfg: Cfg, sec: Section, kind: str | None) -> str:
    if kind is None:
        return (f"{cfg.where(sec)}: unknown section [{sec.type}] — check the spelling "
                "(e.g. [convolutional], [route], [yolo])")
    if kind == "net":
        return (f"{cfg.where(sec)}: a second [{sec.type}] section — keep one [net], "
                "at the top")
    supported = ", ".join(sorted(SUPPORTED))
    return (f"{cfg.where(sec)}: [{sec.type}] is a darknet layer enet4y2 cannot infer — "
            f"use only {supported}")
