"""ONNX nodes for darknet's feature layers, as upstream's src/*_layer.c compute them at
inference: convolutional (batch norm folded as `fuse_conv_batchnorm` folds it at load, in
double with epsilon 1e-5), the activations of activations.c, maxpool's padding rule,
global avgpool, nearest upsample, route with groups, shortcut with weights and several
`from`, scale_channels, dropout (identity), reorg/reorg3d and softmax. The [yolo] head is
in `yolo`."""

from __future__ import annotations

import numpy as np

from enet4y2.errors import WeightsError
from enet4y2.export.graph import Builder, Layer, dims_of, shape_of

#: Convolution options that change what darknet computes and that the export refuses.
_CONV_REFUSED = ("antialiasing", "xnor", "binary", "cbn", "share_index", "coordconv",
                 "sway", "rotate", "stretch", "stretch_sway")


def activate(b: Builder, x: str, name: str, layer: Layer) -> str:
    """darknet's activation `name` (activations.c / activations.h) on tensor x."""
    if name == "linear":
        return x
    if name == "leaky":
        return b.node("LeakyRelu", [x], alpha=0.1)
    if name == "relu":
        return b.node("Relu", [x])
    if name == "logistic":
        return b.node("Sigmoid", [x])
    if name == "tanh":
        return b.node("Tanh", [x])
    if name == "relu6":
        return b.node("Clip", [x, b.const(0.0), b.const(6.0)])
    if name == "swish":
        return b.node("Mul", [x, b.node("Sigmoid", [x])])
    if name == "mish":     # x * tanh(softplus(x)); darknet's threshold of 20 changes < 1e-8
        return b.node("Mul", [x, b.node("Tanh", [b.node("Softplus", [x])])])
    if name == "hard_mish":  # x > 0: x; x > -2: x*x/2 + x; else 0  ==  x * clip(x+2, 0, 2)/2
        gate = b.node("Clip", [b.node("Add", [x, b.const(2.0)]), b.const(0.0), b.const(2.0)])
        return b.node("Mul", [x, b.node("Mul", [gate, b.const(0.5)])])
    raise layer.opts.refuse(f"activation={name}", "activation")


def convolutional(b: Builder, layer: Layer) -> str:
    o, info = layer.opts, layer.info
    for key in _CONV_REFUSED:
        if o.i(key, 0) not in (0, -1000000000):
            raise o.refuse(f"{key}={o.s(key, '')}", key)
    n, groups, size = o.i("filters", 1), o.i("groups", 1), o.i("size", 1)
    sx, sy = o.i("stride_x", -1), o.i("stride_y", -1)
    if sx < 1 or sy < 1:
        stride = o.i("stride", 1)
        sx, sy = (stride if sx < 1 else sx), (stride if sy < 1 else sy)
    padding = size // 2 if o.i("pad", 0) else o.i("padding", 0)
    dilation = o.i("dilation", 1)
    c = info.in_c
    if groups < 1 or c % groups or n % groups:
        raise o.refuse(f"groups={groups} with {c} input channels and {n} filters", "groups")
    if dilation < 1 or padding < 0:
        raise o.refuse(f"dilation={dilation}, padding={padding}")
    pad = padding * dilation     # darknet's im2col pads by pad*dilation
    span = (size - 1) * dilation + 1
    out_h = (info.in_h + 2 * pad - span) // sy + 1
    out_w = (info.in_w + 2 * pad - span) // sx + 1
    if (out_h, out_w) != (info.out_h, info.out_w):
        raise o.refuse(f"a dilated {size}x{size} kernel whose output darknet sizes as "
                       f"{info.out_w}x{info.out_h} but computes as {out_w}x{out_h}",
                       "dilation")
    bn = o.i("batch_normalize", 0)
    per_filter = c // groups * size * size
    biases = b.floats.take(n)
    scales = mean = var = None
    if bn:
        scales, mean, var = b.floats.take(n), b.floats.take(n), b.floats.take(n)
    weights = b.floats.take(n * per_filter).reshape(n, c // groups, size, size)
    if bn and not (np.isfinite(var).all() and (var >= 0).all()):
        bad = float(var[~(np.isfinite(var) & (var >= 0))][0])
        raise WeightsError(f"{o.where(None)}: the weights hold a rolling variance of {bad:g} "
                           "— corrupt or not darknet weights (darknet would output NaN)")
    attrs = dict(kernel_shape=[size, size], strides=[sy, sx], pads=[pad, pad, pad, pad],
                 dilations=[dilation, dilation], group=groups)
    if bn and b.options.fuse_bn:
        # fuse_conv_batchnorm (src/network.c): doubles, stored back as float
        std = np.sqrt(var.astype(np.float64) + .00001)
        biases = (biases - scales.astype(np.float64) * mean / std).astype(np.float32)
        weights = (weights * (scales / std)[:, None, None, None]).astype(np.float32)
        bn = 0
    if bn:
        y = b.node("Conv", [layer.input, b.const(weights, label="W")], **attrs)
        y = b.node("BatchNormalization", [y, b.const(scales, label="scale"),
                                          b.const(biases, label="B"),
                                          b.const(mean, label="mean"),
                                          b.const(var, label="var")], epsilon=1e-5)
    else:
        y = b.node("Conv", [layer.input, b.const(weights, label="W"),
                            b.const(biases, label="B")], **attrs)
    return activate(b, y, o.s("activation", "logistic"), layer)


def maxpool(b: Builder, layer: Layer) -> str:
    o, info = layer.opts, layer.info
    for key in ("maxpool_depth", "antialiasing"):
        if o.i(key, 0):
            raise o.refuse(f"{key}={o.s(key, '')}", key)
    stride = o.i("stride", 1)
    sx, sy = o.i("stride_x", stride), o.i("stride_y", stride)
    size = o.i("size", stride)
    padding = o.i("padding", size - 1)
    # darknet starts the window at -padding/2 and sizes the output (w + padding - size)
    # / stride + 1; cells outside the input are skipped, as ONNX's implicit padding is.
    begin, end = padding // 2, padding - padding // 2
    if size < 1 or not 0 <= begin < size or not 0 <= end < size:
        raise o.refuse(f"maxpool size={size} with padding={padding}", "padding")
    y = b.node("MaxPool", [layer.input], kernel_shape=[size, size], strides=[sy, sx],
               pads=[begin, begin, end, end])
    if (info.out_h, info.out_w) != ((info.in_h + padding - size) // sy + 1,
                                    (info.in_w + padding - size) // sx + 1):
        raise o.refuse("a maxpool whose output size darknet computes differently")
    return y


def avgpool(b: Builder, layer: Layer) -> str:
    return b.node("GlobalAveragePool", [layer.input])


def dropout(b: Builder, layer: Layer) -> str:
    return layer.input          # darknet's forward_dropout_layer does nothing at inference


def upsample(b: Builder, layer: Layer) -> str:
    o = layer.opts
    stride, scale = o.i("stride", 2), o.f("scale", 1)
    if stride < 1:
        raise o.refuse(f"[upsample] stride={stride} (reverse, a sum over cells)", "stride")
    scales = b.const(np.array([1, 1, stride, stride], np.float32), np.float32, "scales")
    y = b.node("Resize", [layer.input, "", scales], mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return y if scale == 1 else b.node("Mul", [y, b.const(scale)])


def route(b: Builder, layer: Layer) -> str:
    o, info = layer.opts, layer.info
    groups, group_id = o.i("groups", 1), o.i("group_id", 0)
    parts = []
    for ref in o.ints("layers") or []:
        tensor, src = b.source(layer, ref, "layers")
        if (src.out_h, src.out_w) != (info.out_h, info.out_w) or src.out_c % groups:
            raise o.refuse(f"route of layer {src.index} ({src.out_w}x{src.out_h}x"
                           f"{src.out_c}) into {info.out_w}x{info.out_h} in {groups} groups",
                           "layers")
        if groups > 1:
            step = src.out_c // groups
            tensor = b.node("Slice", [tensor, b.ints([step * group_id]),
                                      b.ints([step * (group_id + 1)]), b.ints([1])])
        parts.append(tensor)
    return parts[0] if len(parts) == 1 else b.node("Concat", parts, axis=1)


def shortcut(b: Builder, layer: Layer) -> str:
    o, info = layer.opts, layer.info
    kind = o.s("weights_type", "none")
    norm = o.s("weights_normalization", "none")
    froms = [b.source(layer, ref, "from") for ref in o.ints("from") or []]
    n = len(froms)
    c = info.out_c
    weights = None
    if kind in ("per_feature", "per_layer"):
        weights = b.floats.take(n + 1).reshape(n + 1, 1)
    elif kind == "per_channel":
        weights = b.floats.take((n + 1) * c).reshape(n + 1, c)
    elif kind != "none":
        raise o.refuse(f"weights_type={kind}", "weights_type")
    if weights is not None and norm in ("relu", "avg_relu", "softmax"):
        weights = _normalized(weights, norm)     # as fuse_conv_batchnorm does at load
    elif norm not in ("none", "relu", "avg_relu", "softmax"):
        raise o.refuse(f"weights_normalization={norm}", "weights_normalization")

    def weighted(x: str, i: int) -> str:
        if weights is None:
            return x
        w = weights[i].reshape(1, -1, 1, 1)   # one per feature, or one per channel
        return b.node("Mul", [x, b.const(w)])

    y = weighted(layer.input, 0)
    for i, (tensor, src) in enumerate(froms, start=1):
        y = b.node("Add", [y, weighted(_fit_channels(b, layer, tensor, src), i)])
    return activate(b, y, o.s("activation", "linear"), layer)


def _normalized(w: np.ndarray, norm: str) -> np.ndarray:
    """fuse_conv_batchnorm's normalization of shortcut weights (float32, eps 1e-4)."""
    w = w.astype(np.float32)
    if norm != "softmax":
        w = np.where(w > np.float32(0.001), w, np.float32(0.001))    # its lrelu
    else:
        w = np.exp(w - w.max(axis=0))
    total = np.float32(0.0001) + w.sum(axis=0, dtype=np.float32)
    return (w / total).astype(np.float32)


def _fit_channels(b: Builder, layer: Layer, tensor: str, src) -> str:
    """darknet adds a `from` layer by flat index where it fits: a layer with fewer
    channels adds to the first ones, one with more adds its first channels."""
    c, h, w = shape_of(layer.info)
    if (src.out_h, src.out_w) != (h, w):
        raise layer.opts.refuse(f"shortcut from layer {src.index} of another size "
                                f"({src.out_w}x{src.out_h}, here {w}x{h})", "from")
    if src.out_c > c:
        return b.node("Slice", [tensor, b.ints([0]), b.ints([c]), b.ints([1])])
    if src.out_c < c:
        return b.node("Pad", [tensor, b.ints([0, 0, 0, 0, 0, c - src.out_c, 0, 0])])
    return tensor


def scale_channels(b: Builder, layer: Layer) -> str:
    o, info = layer.opts, layer.info
    tensor, src = b.source(layer, o.i("from", 0), "from")
    prev = layer.input_info
    if o.i("scale_wh", 0):
        ok = prev is not None and (prev.out_c, prev.out_h, prev.out_w) == (
            1, info.out_h, info.out_w)
    else:
        ok = prev is not None and (prev.out_c, prev.out_h, prev.out_w) == (info.out_c, 1, 1)
    if not ok or shape_of(src) != shape_of(info):
        raise o.refuse("scale_channels whose inputs do not broadcast like darknet's")
    y = b.node("Mul", [layer.input, tensor])
    return activate(b, y, o.s("activation", "linear"), layer)


def reorg(b: Builder, layer: Layer) -> str:
    """[reorg3d] (darknet's REORG) and [reorg] (REORG_OLD, yolov2's, which reads its
    input as if it had c/stride^2 channels of h*stride x w*stride)."""
    o, info = layer.opts, layer.info
    s = o.i("stride", 1)
    if o.i("reverse", 0) or s < 1 or info.in_h % s or info.in_w % s:
        raise o.refuse(f"reorg with stride={s}, reverse={o.i('reverse', 0)} on "
                       f"{info.in_w}x{info.in_h}")
    c, h, w = info.in_c, info.in_h, info.in_w
    if layer.kind == "reorg3d":
        view = [c, h // s, s, w // s, s]
    else:
        if c % (s * s):
            raise o.refuse(f"[reorg] stride={s} on {c} channels")
        view = [c // (s * s), h, s, w, s]
    y = b.reshape(layer.input, view)
    y = b.node("Transpose", [y], perm=[0, 3, 5, 1, 2, 4])
    return b.reshape(y, list(shape_of(info)))


def softmax(b: Builder, layer: Layer) -> str:
    o, info = layer.opts, layer.info
    if o.has("tree"):
        raise o.refuse("softmax tree=", "tree")
    groups, temperature = o.i("groups", 1), o.f("temperature", 1)
    total = info.outputs
    if groups < 1 or total % groups:
        raise o.refuse(f"softmax groups={groups}", "groups")
    y = b.reshape(layer.input, [groups, total // groups])
    if temperature != 1:
        y = b.node("Div", [y, b.const(temperature)])
    y = b.node("Softmax", [y], axis=2)
    return b.reshape(y, dims_of(info))     # darknet's softmax output is flat


EMITTERS = {
    "convolutional": convolutional, "maxpool": maxpool, "avgpool": avgpool,
    "dropout": dropout, "upsample": upsample, "route": route, "shortcut": shortcut,
    "scale_channels": scale_channels, "reorg": reorg, "reorg3d": reorg, "softmax": softmax,
}

