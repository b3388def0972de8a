"""Trained neural processes that ship with paperzoo: :func:`pretrained`.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956.

A shipped model is a file written by :func:`~paperzoo.neural_processes.saving.save_model` in
the registry (:mod:`paperzoo.core.shipped`), with a card saying how it was trained and its
log-likelihoods in its run; ``paperzoo models list`` shows which ship. The module is named
``shipped``, not ``pretrained``, so that importing it never hides the function ``pretrained`` on
the package.
"""

from __future__ import annotations

import os

import torch

from paperzoo.core.shipped import ModelError, read_model

from .models import NeuralProcess
from .saving import model_from_bytes

__all__ = ["pretrained"]


def pretrained(
    name: str,
    map_location: str | torch.device = "cpu",
    root: str | os.PathLike | None = None,
) -> NeuralProcess:
    """The shipped neural process ``name`` (e.g. ``"bnp-gp"``), in eval mode.

    >>> model = pretrained("bnp-gp")  # doctest: +SKIP
    >>> model.predict(xc, yc, xt).mean  # doctest: +SKIP

    Args:
        name: the model's name (``paperzoo models list``).
        map_location: device to load the weights to.
        root: registry root (default: the package's models, or ``$PAPERZOO_MODELS``).

    Raises:
        ModelError: unknown name, a model of another method, or a file that fails its card's
            length or sha256 (see :func:`paperzoo.core.shipped.read_model`), or that is no
            saved neural process.
    """
    _card, data = read_model(name, "neural_processes", root)
    try:
        return model_from_bytes(data, map_location, f"model {name!r}")
    except ValueError as e:
        raise ModelError(str(e)) from None
