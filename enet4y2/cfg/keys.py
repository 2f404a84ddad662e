"""What darknet (pinned upstream) reads from each section, gathered from src/parser.c:
section names and aliases, and for each layer type the keys it reads and how (atoi, atof,
a string, or a raw comma list). Pure data; used by validation and shape inference."""

from __future__ import annotations

#: Section spellings darknet accepts -> canonical type (`string_to_layer_type`).
#: Note the swap upstream makes: `[reorg3d]` is its REORG and `[reorg]` its REORG_OLD.
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

# Each type's keys as "kind:key key ..." groups: i = atoi, f = atof, s = a string,
# r = a raw comma list read by hand.
_NET = (
    "i:max_batches batch sgdr_cycle sgdr_mult subdivisions time_steps track augment_speed "
    "sequential_subdivisions try_fix_nan weights_reject_freq equidistant_point "
    "use_cuda_graph dynamic_minibatch optimized_memory adam height width channels inputs "
    "max_crop min_crop flip blur gaussian_noise mixup cutmix mosaic letter_box mosaic_bound "
    "contrastive contrastive_jit_flip contrastive_color unsupervised attention burn_in step "
    "f:learning_rate learning_rate_min momentum decay badlabels_rejection_percentage "
    "num_sigmas_reject_badlabels ema_alpha loss_scale workspace_size_limit_MB B1 B2 eps "
    "label_smooth_eps resize_step adversarial_lr max_chart_loss angle aspect saturation "
    "exposure hue power scale gamma show_receptive_field "
    "s:policy r:steps scales seq_scales"
)
_CONV = (
    "i:filters groups size stride stride_x stride_y dilation antialiasing pad padding "
    "share_index batch_normalize cbn binary xnor bin_output sway rotate stretch "
    "stretch_sway flipped grad_centr coordconv stream wait_stream "
    "f:assisted_excitation dot angle reverse s:activation"
)
_YOLO_COMMON = (
    "i:classes num max objectness_smooth f:max_delta label_smooth_eps scale_x_y "
    "iou_normalizer obj_normalizer cls_normalizer delta_normalizer beta_nms jitter resize "
    "ignore_thresh truth_thresh iou_thresh random s:counters_per_class iou_loss "
    "iou_thresh_kind nms_kind map r:mask anchors"
)
_POOL = "i:stride stride_x stride_y size padding"
SPECS: dict[str, str] = {
    "net": _NET,
    "convolutional": _CONV,
    "local": "i:filters size stride pad s:activation",
    "crnn": "i:size stride dilation pad padding output hidden groups batch_normalize xnor "
            "shortcut s:activation",
    "rnn": "i:output hidden batch_normalize logistic shortcut s:activation",
    "gru": "i:output batch_normalize",
    "lstm": "i:output batch_normalize",
    "conv_lstm": "i:size stride dilation pad padding output groups batch_normalize xnor "
                 "peephole bottleneck state_constrain shortcut f:time_normalizer "
                 "s:activation lstm_activation",
    "history": "i:history_size",
    "connected": "i:output batch_normalize s:activation",
    "softmax": "i:groups noloss f:temperature spatial s:tree",
    "contrastive": "i:classes yolo_layer contrastive_neg_max f:temperature cls_normalizer "
                   "max_delta",
    "yolo": _YOLO_COMMON + " i:show_details new_coords focal_loss track_history_size "
            "dets_for_track dets_for_show embedding_layer f:sim_thresh track_ciou_norm",
    "Gaussian_yolo": _YOLO_COMMON + " f:uc_normalizer s:yolo_point",
    "region": "i:coords classes num max log sqrt softmax focal_loss rescore classfix "
              "absolute bias_match f:jitter resize thresh random coord_scale object_scale "
              "noobject_scale mask_scale class_scale s:tree map r:anchors",
    "detection": "i:coords classes rescore num side softmax sqrt max forced reorg "
                 "f:coord_scale object_scale noobject_scale class_scale jitter resize random",
    "cost": "f:scale ratio s:type",
    "crop": "i:crop_height crop_width flip noadjust f:angle saturation exposure shift",
    "reorg3d": "i:stride reverse",
    "reorg": "i:stride reverse",
    "local_avgpool": _POOL,
    "maxpool": _POOL + " maxpool_depth out_channels antialiasing maxpool_zero_nonmax",
    "avgpool": "",
    "dropout": "i:dropblock f:probability dropblock_size_rel dropblock_size_abs",
    "normalization": "i:size f:alpha beta kappa",
    "batchnorm": "",
    "shortcut": "s:activation weights_type weights_normalization r:from",
    "scale_channels": "i:scale_wh s:activation r:from",
    "sam": "s:activation r:from",
    "implicit": "i:filters atoms f:mean std",
    "activation": "s:activation",
    "upsample": "i:stride f:scale",
    "route": "i:groups group_id stream wait_stream r:layers",
    "empty": "",
}

#: Keys darknet reads for every layer (parse_network_cfg_custom).
COMMON_LAYER_SPEC = (
    "i:onlyforward dont_update burnin_update stopbackward train_only_bn dontload "
    "dontloadscales f:clip learning_rate"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _kinds(spec: str) -> dict[str, str]:
    kinds: dict[str, str] = {}
    kind = "s"
    for word in spec.split():
        if word[1:2] == ":":
            kind, word = word[0], word[2:]
        kinds.setdefault(word, kind)
    return kinds


KINDS: dict[str, dict[str, str]] = {
    name: {**_kinds(spec), **({} if name == "net" else _kinds(COMMON_LAYER_SPEC))}
    for name, spec in SPECS.items()
}

#: Activation names darknet knows (`get_activation`); others fall back to relu.
ACTIVATIONS = _words(
    "logistic swish mish hard_mish normalize_channels normalize_channels_softmax "
    "normalize_channels_softmax_maxval loggy relu relu6 elu selu gelu relie plse hardtan "
    "lhtan linear ramp revleaky leaky tanh stair"
)

#: Other string options with a fixed set of values: (type, key) -> (values, fallback).
CHOICES: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    ("net", "policy"): (_words("random poly constant step exp sigmoid steps sgdr"),
                        "constant"),
    ("cost", "type"): (frozenset({"sse", "masked", "smooth"}), "sse"),
    **{(kind, "iou_loss"): (frozenset({"mse", "giou", "diou", "ciou", "iou"}), "iou")
       for kind in ("yolo", "Gaussian_yolo")},
    **{(kind, "iou_thresh_kind"): (frozenset({"iou", "giou", "diou", "ciou"}), "iou")
       for kind in ("yolo", "Gaussian_yolo")},
}


#: How darknet reads the items of the comma lists ("r" keys): atoi or atof.
LIST_ITEMS: dict[str, str] = {
    "mask": "i", "layers": "i", "from": "i", "steps": "i", "anchors": "f", "scales": "f",
    "seq_scales": "f",
}


def canonical(section_type: str) -> str | None:
    """The canonical layer type for a section name, or None when darknet does not know it."""
    return ALIASES.get(section_type)


def known_keys(canonical_type: str) -> frozenset[str] | None:
    """Keys darknet reads for this type (None when there is no table for it)."""
    kinds = KINDS.get(canonical_type)
    return None if kinds is None else frozenset(kinds)


def key_kind(canonical_type: str, key: str) -> str | None:
    """How darknet reads `key` in this type: "i" atoi, "f" atof, "s" string, "r" list."""
    return KINDS.get(canonical_type, {}).get(key)
