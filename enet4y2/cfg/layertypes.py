"""Which builder emulates each darknet layer type (canonical names from `keys`)."""

from __future__ import annotations

from enet4y2.cfg import dense, heads, joins, layers

BUILDERS = {
    "convolutional": layers.convolutional,
    "maxpool": layers.maxpool,
    "local_avgpool": layers.local_avgpool,
    "avgpool": layers.avgpool,
    "route": joins.route,
    "upsample": layers.upsample,
    "reorg": layers.reorg,
    "reorg3d": layers.reorg,
    "shortcut": joins.shortcut,
    "scale_channels": joins.scale_channels,
    "sam": joins.sam,
    "dropout": layers.dropout,
    "batchnorm": layers.batchnorm,
    "activation": layers.activation_layer,
    "empty": layers.empty,
    "connected": dense.connected,
    "softmax": dense.softmax,
    "cost": dense.cost,
    "crop": layers.crop,
    "normalization": layers.normalization,
    "yolo": heads.yolo,
    "Gaussian_yolo": heads.gaussian_yolo,
    "region": heads.region,
    "detection": heads.detection,
    "contrastive": heads.contrastive,
    "rnn": dense.rnn,
    "gru": dense.gru,
    "lstm": dense.lstm,
    "crnn": dense.crnn,
    "conv_lstm": layers.unmodelled,
    "history": layers.unmodelled,
    "local": layers.unmodelled,
    "implicit": layers.unmodelled,
}
