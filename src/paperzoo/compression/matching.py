"""Attribution matching losses: weighted collapsed attribution matching (WCAM), its stochastic
variant, and the attention-transfer baseline.

Paper: Park, Yang, Hwang, Yang, "Attribution Preservation in Network Compression for Reliable
Network Interpretation", NeurIPS 2020, https://arxiv.org/abs/2010.15054. Attention transfer:
Zagoruyko & Komodakis, ICLR 2017, https://arxiv.org/abs/1612.03928.

The teacher's and the student's maps at a chosen layer are flattened per sample, L2-normalised
and compared with the mean squared difference (Eq. 5 with the collapsed maps of Eq. 4):

    L_match = mean_{b,i} ( M_T[b,i] / ||M_T[b]||_2  -  M_S[b,i] / ||M_S[b]||_2 )^2
    L       = L_task + beta * L_match                                         (beta = 100)

For WCAM both maps are Grad-CAM maps for the *teacher's* predicted class; the teacher's map is
detached and the student's keeps its graph (double backprop). Because the channels are collapsed
before the comparison, the teacher and student layers may have different widths. The stochastic
variant (Sec. 3.3) zeroes a fresh random subset of the teacher's channels every batch before
collapsing. The attention-transfer map is the channel mean of ``A^2``.

Deviations from the paper: when the two maps have different spatial sizes the student's map is
resized bilinearly to the teacher's (the paper matches layers of equal size only).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .gradcam import FeatureRecorder, class_gradient, collapse_attribution, resolve_layer

__all__ = [
    "AttributionMatchingLoss",
    "MatchingOutput",
    "attention_map",
    "attribution_preserving_loss",
    "normalized_map_distance",
    "random_channel_mask",
]


def normalized_map_distance(map_teacher: torch.Tensor, map_student: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of per-sample L2-normalised maps (Eq. 5; ``cal_l2loss``).

    The distance is 0 for identical maps and unchanged when either map is multiplied by a positive
    per-sample constant. An all-zero map normalises to zeros (``F.normalize``'s epsilon).

    Shape:
        map_teacher: (batch, H, W) or (batch, 1, H, W); map_student: same batch, any H', W'.
        returns: scalar.
    """
    if map_teacher.shape[0] != map_student.shape[0]:
        raise ValueError(
            f"batch sizes differ: teacher {map_teacher.shape[0]}, student {map_student.shape[0]}"
        )
    if map_teacher.dim() == 4:
        map_teacher = map_teacher.squeeze(1)
    if map_student.dim() == 4:
        map_student = map_student.squeeze(1)
    if map_teacher.dim() != 3 or map_student.dim() != 3:
        raise ValueError("maps must be (batch, H, W) or (batch, 1, H, W)")
    if map_student.shape[1:] != map_teacher.shape[1:]:
        map_student = F.interpolate(
            map_student.unsqueeze(1), size=map_teacher.shape[1:], mode="bilinear"
        ).squeeze(1)
    t = F.normalize(map_teacher.flatten(1), dim=1)
    s = F.normalize(map_student.flatten(1), dim=1)
    return (t - s).pow(2).mean()


def attention_map(features: torch.Tensor) -> torch.Tensor:
    """Attention-transfer map: the channel mean of the squared activations ("ewa" in the code).

    Shape:
        features: (batch, channels, H, W); returns: (batch, H, W).
    """
    if features.dim() != 4:
        raise ValueError(f"features must be (batch, channels, H, W), got {tuple(features.shape)}")
    return features.pow(2).mean(dim=1)


def random_channel_mask(
    num_channels: int,
    drop_fraction: float,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """A (channels,) 0/1 mask with exactly ``int(num_channels * drop_fraction)`` zeros (Sec. 3.3).

    The official code drops the same channels for the whole batch, drawn afresh every batch.
    """
    if not 0.0 <= drop_fraction < 1.0:
        raise ValueError(f"drop_fraction must be in [0, 1), got {drop_fraction}")
    mask = torch.ones(num_channels)
    num_drop = int(num_channels * drop_fraction)
    if num_drop:
        mask[torch.randperm(num_channels, generator=generator)[:num_drop]] = 0.0
    return mask.to(device)


@contextmanager
def _frozen(module: nn.Module) -> Iterator[None]:
    """Temporarily stop ``module``'s parameters from requiring grad (no graph is built for them)."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    try:
        for p, _ in flags:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


@dataclass
class MatchingOutput:
    """What :class:`AttributionMatchingLoss` returns.

    Attributes:
        loss: ``beta * distance`` (scalar, differentiable in the student's parameters).
        distance: the unweighted ``L_match``.
        student_logits: (batch, classes), with graph: reuse it for the task loss.
        teacher_logits: (batch, classes), detached.
        teacher_map, student_map: (batch, H, W) the compared maps (teacher's detached).
        target: (batch,) the teacher's predicted classes (WCAM) or None (AT).
    """

    loss: torch.Tensor
    distance: torch.Tensor
    student_logits: torch.Tensor
    teacher_logits: torch.Tensor
    teacher_map: torch.Tensor
    student_map: torch.Tensor
    target: torch.Tensor | None


class AttributionMatchingLoss(nn.Module):
    """beta * L_match between a frozen teacher and a student at one layer each.

    One call runs both networks once: the teacher with its features hooked as a detached leaf
    (its parameters are frozen for the call), the student normally. The returned student logits
    belong to the same forward pass, so a compression objective adds its task loss to ``loss``
    without a second student forward.

    Args:
        teacher: the uncompressed network (never updated here).
        student: the compressed network (narrow student, or pruned copy).
        teacher_layer, student_layer: modules or dotted names whose outputs are matched (the paper:
            the output of VGG's ``features``, after the last max-pool).
        kind: ``"wcam"`` (weighted collapsed attribution, the paper) or ``"at"`` (attention
            transfer baseline).
        beta: weight of the matching term (100 in the paper's commands).
        stochastic_drop: fraction of teacher channels dropped per batch (0 = deterministic WCAM;
            the README uses 0.3). Only for ``kind="wcam"``.
        reduction: spatial reduction of the channel weights; ``"sum"`` as in the official code.
        generator: random source of the channel drop (components never use the global RNG).

    Example:
        >>> match = AttributionMatchingLoss(teacher, student, "features", "features", beta=100.0)
        >>> out = match(x)
        >>> loss = F.cross_entropy(out.student_logits, y) + out.loss
    """

    def __init__(
        self,
        teacher: nn.Module,
        student: nn.Module,
        teacher_layer: nn.Module | str,
        student_layer: nn.Module | str,
        *,
        kind: Literal["wcam", "at"] = "wcam",
        beta: float = 100.0,
        stochastic_drop: float = 0.0,
        reduction: Literal["sum", "mean"] = "sum",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if kind not in ("wcam", "at"):
            raise ValueError(f"kind must be 'wcam' or 'at', got {kind!r}")
        if stochastic_drop and kind != "wcam":
            raise ValueError("stochastic_drop applies to kind='wcam' only")
        if not 0.0 <= stochastic_drop < 1.0:
            raise ValueError(f"stochastic_drop must be in [0, 1), got {stochastic_drop}")
        self.teacher = teacher
        self.student = student
        # A plain tuple: the layers are already registered inside teacher/student, and registering
        # them again would duplicate their weights in state_dict.
        self._layers = (
            resolve_layer(teacher, teacher_layer),
            resolve_layer(student, student_layer),
        )
        self.kind = kind
        self.beta = float(beta)
        self.stochastic_drop = float(stochastic_drop)
        self.reduction = reduction
        self.generator = generator

    @property
    def teacher_layer(self) -> nn.Module:
        return self._layers[0]

    @property
    def student_layer(self) -> nn.Module:
        return self._layers[1]

    def teacher_maps(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(detached teacher map (batch, H, W), teacher logits, target classes or None)."""
        with _frozen(self.teacher), torch.enable_grad():
            with FeatureRecorder(self.teacher_layer, as_leaf=True) as rec:
                logits = self.teacher(x)
            feats = rec.features
            if self.kind == "at":
                return attention_map(feats).detach(), logits.detach(), None
            # The student explains the teacher's predicted class (one-hot grad_out in the code).
            target = logits.detach().argmax(dim=1)
            grads = class_gradient(logits, feats, target, create_graph=False)
            mask = None
            if self.stochastic_drop > 0:
                mask = random_channel_mask(
                    feats.shape[1], self.stochastic_drop, generator=self.generator
                ).to(feats.device)
            maps = collapse_attribution(
                feats.detach(), grads, reduction=self.reduction, channel_mask=mask
            )
        return maps.detach(), logits.detach(), target

    def forward(self, x: torch.Tensor) -> MatchingOutput:
        """Run teacher and student on ``x`` and return the weighted matching loss.

        Shape:
            x: (batch, ...) the input batch.
        """
        map_t, logits_t, target = self.teacher_maps(x)
        with torch.enable_grad(), FeatureRecorder(self.student_layer) as rec:
            logits_s = self.student(x)
            feats = rec.features
            if self.kind == "at":
                map_s = attention_map(feats)
            else:
                # create_graph: the loss must reach the student's weights through its gradient.
                grads = class_gradient(logits_s, feats, target, create_graph=True)
                map_s = collapse_attribution(feats, grads, reduction=self.reduction)
        distance = normalized_map_distance(map_t, map_s)
        return MatchingOutput(
            loss=self.beta * distance,
            distance=distance,
            student_logits=logits_s,
            teacher_logits=logits_t,
            teacher_map=map_t,
            student_map=map_s,
            target=target,
        )


def attribution_preserving_loss(
    student: nn.Module,
    teacher: nn.Module,
    x: torch.Tensor,
    layer: nn.Module | str,
    *,
    student_layer: nn.Module | str | None = None,
    kind: Literal["wcam", "at"] = "wcam",
    beta: float = 100.0,
    stochastic_drop: float = 0.0,
    generator: torch.Generator | None = None,
) -> MatchingOutput:
    """The attribution-preserving term for one batch, for use in your own KD or pruning loop.

    ``beta * L_match`` between the frozen ``teacher``'s and the ``student``'s Grad-CAM maps of
    the teacher's predicted class at ``layer`` (``student_layer`` if the student names it
    differently). It is Grad-CAM as Captum's ``LayerGradCam(relu_attributions=True)`` computes
    it, times the layer's H*W (the official code sums the gradient over space; the factor
    cancels in the normalised distance). A one-call form of :class:`AttributionMatchingLoss`;
    build that once instead when calling it every step with the same arguments.

    Returns:
        :class:`MatchingOutput`: add ``.loss`` to your task loss, and reuse
        ``.student_logits`` (same forward pass) for it.

    Example:
        >>> out = attribution_preserving_loss(student, teacher, x, "features")
        >>> loss = F.cross_entropy(out.student_logits, y) + out.loss
    """
    return AttributionMatchingLoss(
        teacher,
        student,
        layer,
        layer if student_layer is None else student_layer,
        kind=kind,
        beta=beta,
        stochastic_drop=stochastic_drop,
        generator=generator,
    )(x)
