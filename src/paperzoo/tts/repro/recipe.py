"""The reproduction's recipe shared by ``train.py``, ``distributed.py`` and the benchmark: the
generator's constructor arguments for an arm and its optimiser (Adam with the Noam schedule)."""

from __future__ import annotations

from typing import Any

import torch

from ..model import noam
from .config import Config

__all__ = ["make_optimizer", "model_kwargs"]


def model_kwargs(cfg: Config, arm: str, n_mels: int) -> dict[str, Any]:
    """:class:`~paperzoo.tts.model.StyleSpeech` arguments (besides the symbol count) for
    ``arm``: ``add`` conditions by adding the style vector, the others (``saln``,
    ``saln_extra``, ``meta``) by SALN."""
    m = cfg.model
    return {"n_mels": n_mels, "dim": m.hidden_dim, "style_dim": m.style_dim,
            "layers": m.num_layers, "heads": m.num_heads, "ff": m.ff_dim, "dropout": m.dropout,
            "conditioning": "add" if arm == "add" else "saln"}  # fmt: skip


def make_optimizer(
    cfg: Config, params: Any, offset: int = 0, state: dict[str, Any] | None = None
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """Adam (betas 0.9 / 0.98, eps 1e-9, as the official code) under the Noam schedule
    lr(s) = scale * d^-0.5 * min(s^-0.5, s * warmup^-1.5), from step ``offset + 1`` (the meta
    stage continues the StyleSpeech stage's schedule). ``state``: an Adam ``state_dict`` to
    resume (its moments and step counts), as the official ``train_meta.py`` restores the
    StyleSpeech checkpoint's optimizer; a fresh Adam's first updates are sign-like
    (``m / sqrt(v) = ±1``) at the schedule's full rate."""
    t, dim = cfg.train, cfg.model.hidden_dim
    opt = torch.optim.Adam(params, 1.0, betas=(0.9, 0.98), eps=1e-9)
    if state is not None:
        opt.load_state_dict(state)
        for group in opt.param_groups:  # the schedule below sets the rate from step offset + 1
            group["lr"] = group["initial_lr"] = 1.0
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: noam(offset + s + 1, dim, t.warmup, t.lr_scale)
    )
    return opt, sched
