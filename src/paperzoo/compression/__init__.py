"""Attribution-preserving network compression (weighted collapsed attribution matching).

Paper: Geondo Park, June Yong Yang, Sung Ju Hwang, Eunho Yang, "Attribution Preservation in
Network Compression for Reliable Network Interpretation", NeurIPS 2020,
https://arxiv.org/abs/2010.15054 (official code: https://github.com/GeondoPark/attribute-preserve).

Public API: a differentiable hook-based layer Grad-CAM, the WCAM / stochastic WCAM /
attention-transfer matching losses, KD and pruning wrappers that accept any of them, localisation
metrics, and the cluttered-digit localisation data set. Captum is imported only inside functions.
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

__all__ = [
    "AttributionMatchingLoss",
    "ClutteredDigits",
    "DifferentiableGradCam",
    "DistillationObjective",
    "FeatureRecorder",
    "FineTuneObjective",
    "GradCamResult",
    "MatchingOutput",
    "ObjectiveOutput",
    "SmallVGG",
    "attention_map",
    "attribution_preserving_loss",
    "captum_attribution",
    "class_gradient",
    "collapse_attribution",
    "fit",
    "global_magnitude_prune",
    "grad_cam",
    "iterative_magnitude_pruning",
    "kd_loss",
    "l1_filter_prune",
    "localization_scores",
    "make_cluttered_digits",
    "make_pruning_permanent",
    "map_agreement",
    "minmax_normalize",
    "normalized_map_distance",
    "pixel_auc",
    "pointing_game",
    "random_channel_mask",
    "sparsity",
    "upsample_maps",
]

# Public names -> the module that defines them, imported on first use: importing the
# package (as `paperzoo list` does for its presets) does not import torch.
_WHERE = {
    "ClutteredDigits": ".cluttered",
    "make_cluttered_digits": ".cluttered",
    "DistillationObjective": ".distill",
    "ObjectiveOutput": ".distill",
    "fit": ".distill",
    "kd_loss": ".distill",
    "DifferentiableGradCam": ".gradcam",
    "FeatureRecorder": ".gradcam",
    "GradCamResult": ".gradcam",
    "class_gradient": ".gradcam",
    "collapse_attribution": ".gradcam",
    "grad_cam": ".gradcam",
    "captum_attribution": ".localization",
    "localization_scores": ".localization",
    "map_agreement": ".localization",
    "minmax_normalize": ".localization",
    "pixel_auc": ".localization",
    "pointing_game": ".localization",
    "upsample_maps": ".localization",
    "AttributionMatchingLoss": ".matching",
    "MatchingOutput": ".matching",
    "attention_map": ".matching",
    "attribution_preserving_loss": ".matching",
    "normalized_map_distance": ".matching",
    "random_channel_mask": ".matching",
    "SmallVGG": ".models",
    "FineTuneObjective": ".prune",
    "global_magnitude_prune": ".prune",
    "iterative_magnitude_pruning": ".prune",
    "l1_filter_prune": ".prune",
    "make_pruning_permanent": ".prune",
    "sparsity": ".prune",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
