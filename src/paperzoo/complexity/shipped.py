"""Meta-trained Neural Complexity networks that ship with paperzoo: :func:`pretrained`.

Paper: "Neural Complexity Measures", Lee et al., NeurIPS 2020, https://arxiv.org/abs/2008.02953.

A shipped NC is a file written by :meth:`NeuralComplexity.save` in the registry
(:mod:`paperzoo.core.shipped`), with a card saying how it was trained and how well it predicted
gaps in its run; ``paperzoo models list`` shows which ship. The module is named ``shipped``,
not ``pretrained``, so that importing it never hides the function ``pretrained`` on the package.
"""

from __future__ import annotations

import io
import os

import torch

from paperzoo.core.shipped import ModelError, read_model

from .model import SAVE_FORMAT, NeuralComplexity

__all__ = ["FORMAT", "pretrained"]

FORMAT = SAVE_FORMAT
"""The ``format`` tag :meth:`NeuralComplexity.save` writes (the card's ``architecture.format``)."""


def pretrained(
    name: str,
    map_location: str | torch.device = "cpu",
    root: str | os.PathLike | None = None,
) -> NeuralComplexity:
    """The shipped NC ``name`` (e.g. ``"nc-sinusoid"``), in eval mode.

    >>> nc = pretrained("nc-sinusoid")  # doctest: +SKIP
    >>> reg = NeuralComplexityRegularizer(nc, weight=1.0)  # doctest: +SKIP

    Args:
        name: the model's name (``paperzoo models list``).
        map_location: device to load the weights to.
        root: registry root (default: the package's models, or ``$PAPERZOO_MODELS``).

    Raises:
        ModelError: unknown name, a model of another method, or a file that fails its card's
            length or sha256 (see :func:`paperzoo.core.shipped.read_model`), or that is no
            NeuralComplexity.
    """
    _card, data = read_model(name, "complexity", root)
    try:
        # The bytes just checked, not the path again: what loads is what was verified.
        return NeuralComplexity.load(io.BytesIO(data), map_location)
    except ValueError as e:
        raise ModelError(f"model {name!r}: {e}") from None
    except Exception as e:  # a file torch cannot read despite its checksum: a bad card
        raise ModelError(f"model {name!r} cannot be read: {e}") from None
