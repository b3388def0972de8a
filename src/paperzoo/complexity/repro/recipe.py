"""The complexity reproduction's task samplers and learner schedules, built from the config:
the regression families (sinusoid, shifted sinusoid, cubic), the few-shot classification
samplers on PCA features of an image set, and each regime's inner-loop settings."""

from __future__ import annotations

from typing import Any

import torch

from paperzoo.core import UnitContext

from ..tasks import FewShotClassification, PolynomialTasks, SinusoidTasks, pca_features
from .config import Config, RegimeConfig

__all__ = ["classification_data", "inner_schedule", "regression_family"]


def inner_schedule(cfg: Config, regime: str) -> dict[str, Any]:
    """The regime's learner schedule: ``inner_steps`` and ``inner_learning_rate``."""
    rc = cfg.classification if regime == "classification" else getattr(cfg, regime)
    return dict(inner_steps=rc.inner_steps, inner_learning_rate=rc.inner_learning_rate)


def regression_family(cfg: Config, rc: RegimeConfig, family: str):
    """A regression task family with the regime's sizes: ``sinusoid`` (the training ranges),
    ``shifted`` (amplitudes and phases beyond them) or ``polynomial`` (random cubics)."""
    tc = cfg.tasks
    if family == "sinusoid":
        return SinusoidTasks(
            rc.num_train, rc.num_test, tc.amplitude_range, tc.phase_range, tc.x_range
        )
    if family == "shifted":
        return SinusoidTasks(
            rc.num_train,
            rc.num_test,
            tc.shifted_amplitude_range,
            tc.shifted_phase_range,
            tc.x_range,
        )
    if family == "polynomial":
        return PolynomialTasks(rc.num_train, rc.num_test, x_range=tc.x_range)
    raise ValueError(f"unknown task family {family!r}")


def classification_data(cfg: Config, ctx: UnitContext):
    """(meta-training, validation, test) few-shot samplers on PCA features of the images."""
    from paperzoo.datasets import load_images

    cc = cfg.classification
    train, test = load_images(cc.dataset, ctx.data_root)
    x = torch.cat([train.x.flatten(1), test.x.flatten(1)])
    y = torch.cat([train.y, test.y])
    n_tr = train.x.shape[0]
    in_train = torch.isin(train.y, torch.tensor(cc.train_classes))
    feats = pca_features(x, torch.nonzero(in_train).flatten(), cc.feature_dim)
    shape = dict(num_ways=cc.num_ways, num_shots=cc.num_shots, num_queries=cc.num_queries)

    def sampler(rows: slice, classes: list[int]) -> FewShotClassification:
        return FewShotClassification(feats[rows], y[rows], classes, **shape)

    return (
        sampler(slice(0, n_tr), cc.train_classes),
        sampler(slice(0, n_tr), cc.test_classes),
        sampler(slice(n_tr, None), cc.test_classes),
    )
