"""What darknet (pinned upstream) reads from each section, gathered from src/parser.c:
section names and aliases, the keys each layer type reads, and how values are typed.
Pure data; used by validation and shape inference."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Section spellings darknet accepts -> canonical type (`string_to_layer_type`).
ALIASES: dict[str, str] = {
    "net": "net", "network": "net",
    "conv": "convolutional", "convolutional": "convolutional",
    "conn": "connected", "connected": "connected",
    "max": "maxpool", "maxpool": "maxpool",
    "avg": "avgpool", "avgpool": "avgpool",
    "soft": "softmax", "softmax": "softmax",
    "lrn": "normalization", "normalization": "normalization",
    "empty": "empty", "silence": "empty",
    "local_avg": "local_avgpool", "local_avgpool": "local_avgpool",
    **{name: name for name in (
        "shortcut", "scale_channels", "sam", "crop", "cost", "detection", "region", "yolo",
        "Gaussian_yolo", "local", "activation", "crnn", "gru", "lstm", "conv_lstm",
        "history", "rnn", "reorg3d", "reorg", "dropout", "batchnorm", "contrastive",
        "route", "upsample", "implicit",
    )},
}

#: Types whose shapes, BFLOPs and weights enet4y2 computes (what these models use).
SUPPORTED = frozenset({
    "convolutional", "shortcut", "route", "upsample", "avgpool", "maxpool", "dropout",
    "scale_channels", "yolo", "softmax", "connected", "batchnorm", "activation", "empty",
})

#: Keys darknet reads for every layer (parse_network_cfg_custom).
COMMON_LAYER_KEYS = frozenset({
    "clip", "onlyforward", "dont_update", "burnin_update", "stopbackward", "train_only_bn",
    "dontload", "dontloadscales", "learning_rate",
})

_NET_KEYS = (
    "adam adversarial_lr angle aspect attention augment_speed badlabels_rejection_percentage "
    "batch blur burn_in channels constant contrastive contrastive_color contrastive_jit_flip "
    "cutmix decay dynamic_minibatch ema_alpha eps equidistant_point exposure flip gamma "
    "gaussian_noise height hue inputs label_smooth_eps learning_rate learning_rate_min "
    "letter_box loss_scale max_batches max_chart_loss max_crop min_crop mixup momentum mosaic "
    "mosaic_bound num_sigmas_reject_badlabels optimized_memory policy power resize_step "
    "saturation scale scales seq_scales sequential_subdivisions sgdr_cycle sgdr_mult step "
    "steps subdivisions time_steps track try_fix_nan unsupervised use_cuda_graph "
    "weights_reject_freq width show_receptive_field workspace_size_limit_MB B1 B2"
)

KEYS: dict[str, frozenset[str]] = {
    "net": _words(_NET_KEYS),
    "convolutional": _words(
        "filters size stride stride_x stride_y pad padding groups dilation batch_normalize "
        "activation binary xnor bin_output flipped dot antialiasing share_index stream "
        "wait_stream coordconv cbn grad_centr sway rotate stretch stretch_sway angle "
        "reverse assisted_excitation deform"
    ),
    "shortcut": _words("from activation weights_type weights_normalization"),
    "route": _words("layers groups group_id stream wait_stream"),
    "upsample": _words("stride scale"),
    "avgpool": frozenset(),
    "maxpool": _words(
        "size stride stride_x stride_y padding maxpool_depth out_channels antialiasing"
    ),
    "dropout": _words("probability dropblock dropblock_size_abs dropblock_size_rel"),
    "scale_channels": _words("from scale_wh activation"),
    "yolo": _words(
        "classes num mask anchors max jitter resize ignore_thresh truth_thresh iou_thresh "
        "random show_details max_delta counters_per_class label_smooth_eps scale_x_y "
        "objectness_smooth new_coords iou_normalizer obj_normalizer cls_normalizer "
        "delta_normalizer iou_loss iou_thresh_kind beta_nms nms_kind focal_loss map "
        "embedding_layer sim_thresh track_history_size dets_for_track dets_for_show "
        "track_ciou_norm"
    ),
    "softmax": _words("groups temperature tree spatial noloss"),
    "connected": _words("output activation batch_normalize"),
    "batchnorm": frozenset(),
    "activation": frozenset({"activation"}),
    "empty": frozenset(),
}

INT_KEYS = _words(
    "width height channels batch subdivisions max_batches burn_in inputs time_steps "
    "filters size stride stride_x stride_y pad padding groups dilation batch_normalize "
    "binary xnor flipped share_index antialiasing group_id classes num max output "
    "maxpool_depth out_channels dontload dontloadscales stopbackward scale_wh"
)

FLOAT_KEYS = _words(
    "momentum decay learning_rate power angle saturation exposure hue aspect jitter "
    "ignore_thresh truth_thresh probability scale_x_y iou_normalizer obj_normalizer "
    "cls_normalizer random resize beta_nms temperature label_smooth_eps"
)

INT_LIST_KEYS = _words("mask layers from steps")
FLOAT_LIST_KEYS = _words("anchors scales")

ACTIVATIONS = _words(
    "logistic swish mish hard_mish normalize_channels normalize_channels_softmax "
    "normalize_channels_softmax_maxval loggy relu relu6 elu selu gelu relie plse hardtan "
    "lhtan linear ramp revleaky leaky tanh stair"
)


def canonical(section_type: str) -> str | None:
    """The canonical layer type for a section name, or None when darknet does not know it."""
    return ALIASES.get(section_type)


def known_keys(canonical_type: str) -> frozenset[str] | None:
    """Keys darknet reads for this type (None when enet4y2 has no table for it)."""
    keys = KEYS.get(canonical_type)
    if keys is None:
        return None
    return keys if canonical_type == "net" else keys | COMMON_LAYER_KEYS
