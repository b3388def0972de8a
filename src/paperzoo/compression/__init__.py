"""Attribution-preserving network compression (weighted collapsed attribution matching).

Paper: Geondo Park, June Yong Yang, Sung Ju Hwang, Eunho Yang, "Attribution Preservation in
Network Compression for Reliable Network Interpretation", NeurIPS 2020,
https://arxiv.org/abs/2010.15054 (official code: https://github.com/GeondoPark/attribute-preserve).

Public API: a differentiable hook-based layer Grad-CAM, the WCAM / stochastic WCAM /
attention-transfer matching losses, KD and pruning wrappers that accept any of them, localisation
metrics, and the cluttered-digit localisation data set. Captum is imported only inside functions.
"""

from .cluttered import ClutteredDigits, make_cluttered_digits
from .distill import DistillationObjective, ObjectiveOutput, fit, kd_loss
from .gradcam import (
    DifferentiableGradCam,
    FeatureRecorder,
    GradCamResult,
    class_gradient,
    collapse_attribution,
    grad_cam,
)
from .localization import (
    captum_attribution,
    localization_scores,
    map_agreement,
    minmax_normalize,
    pixel_auc,
    pointing_game,
    upsample_maps,
)
from .matching import (
    AttributionMatchingLoss,
    MatchingOutput,
    attention_map,
    normalized_map_distance,
    random_channel_mask,
)
from .models import SmallVGG
from .prune import (
    FineTuneObjective,
    global_magnitude_prune,
    iterative_magnitude_pruning,
    l1_filter_prune,
    make_pruning_permanent,
    sparsity,
)

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
