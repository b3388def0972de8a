"""The reproduction's recipe shared by ``train.py``, ``distributed.py`` and the benchmark: the
reaction data of a config, the model and its optimiser with the learning-rate schedule."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data import ReactionData, load_reactions, toy_reactions
from ..encoder import RetCLModel
from .config import Config

__all__ = ["load_data", "make_model", "make_optimizer"]


def load_data(cfg: Config, root: Any) -> ReactionData:
    """USPTO-50k (or the toy set), indexed with the config's candidate set and cut to its
    training / validation / test sizes."""
    d = cfg.data
    splits = toy_reactions() if d.source == "toy" else load_reactions(root, d.stereo)
    full = ReactionData(*splits).index(d.distractors)
    return full.subset(d.num_train, d.num_val, d.num_test)


def make_model(cfg: Config) -> RetCLModel:
    """Structure2Vec encoder of ``model.hidden_dim`` x ``model.num_layers`` with the three
    heads (and reaction-class inputs when ``model.class_known``)."""
    m = cfg.model
    return RetCLModel(m.hidden_dim, m.num_layers, 10 if m.class_known else 0)


def make_optimizer(
    cfg: Config, params: Any
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """SGD with momentum 0.9 (official) or Adam, with weight decay, and a cosine decay to 0 over
    ``train.num_steps`` when ``train.cosine_schedule`` (else a constant rate)."""
    t = cfg.train
    if t.optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(
            params, t.learning_rate, momentum=0.9, weight_decay=t.weight_decay
        )
    else:
        opt = torch.optim.Adam(params, t.learning_rate, weight_decay=t.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        (lambda s: 0.5 * (1 + np.cos(np.pi * min(s, t.num_steps) / t.num_steps)))
        if t.cosine_schedule
        else (lambda s: 1.0),
    )
    return opt, sched
