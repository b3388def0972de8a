"""Save a trained neural process with its architecture, and load it back without pickled code.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956.

A saved model is one ``torch.save`` dict of plain values and tensors, so :func:`load_model` reads
it with ``torch.load(..., weights_only=True)``::

    {"format": FORMAT, "model": "BNP", "hparams": {x_dim, y_dim, hidden_dim, ...},
     "state_dict": {...}}

``hparams`` are the keyword arguments of the model's constructor (:func:`make_model`), so the
file alone rebuilds the model; :func:`save_model` checks that they do before it writes.

>>> model = make_model("BNP", hidden_dim=16, enc_pre_depth=2)
>>> save_model(model, "bnp.pt", {"enc_pre_depth": 2})  # doctest: +SKIP
>>> load_model("bnp.pt").hidden_dim  # doctest: +SKIP
16
"""

from __future__ import annotations

import inspect
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from paperzoo.core.checkpoint import save_checkpoint

from .models import MODELS, NeuralProcess, make_model

__all__ = ["FORMAT", "load_model", "model_from_bytes", "model_from_state", "save_model"]

FORMAT = "paperzoo.neural_processes.NeuralProcess/1"
"""The ``format`` tag of a saved neural process."""


def _constructor_args(cls: type[NeuralProcess]) -> list[str]:
    return [n for n in inspect.signature(cls.__init__).parameters if n != "self"]


def save_model(
    model: NeuralProcess, path: str | os.PathLike, hparams: Mapping[str, Any] | None = None
) -> Path:
    """Write ``model``'s class, constructor arguments and weights to ``path`` (atomically).

    Args:
        model: a CNP, NP, CANP, ANP, BNP or BANP.
        path: the file to write.
        hparams: constructor arguments the model was built with (e.g. a run's model config);
            keys its constructor does not take are dropped, as :func:`make_model` does.
            Arguments left out are read from the model's attributes of the same name
            (``x_dim``, ``y_dim``, ``hidden_dim``, ``num_samples``, ...) where it has them,
            else they are the constructor's defaults.

    Raises:
        ValueError: not one of the six models, or ``hparams`` build a model whose weights have
            other names or shapes than ``model``'s (give the depths it was built with).
    """
    name = type(model).__name__
    if MODELS.get(name) is not type(model):
        raise ValueError(f"cannot save a {name}: save_model takes one of {', '.join(MODELS)}")
    args = _constructor_args(type(model))
    kw = {k: getattr(model, k) for k in args if isinstance(getattr(model, k, None), (int, float))}
    kw.update({k: v for k, v in (hparams or {}).items() if k in args})
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    # Rebuild from what would be written: a file that cannot rebuild its model is never saved.
    want = {k: tuple(v.shape) for k, v in make_model(name, **kw).state_dict().items()}
    have = {k: tuple(v.shape) for k, v in state_dict.items()}
    if want != have:
        diff = sorted(set(want) ^ set(have)) or [k for k in want if want[k] != have[k]]
        raise ValueError(
            f"the constructor arguments {kw} build a {name} whose weights differ from the "
            f"model's (first: {diff[0]}); pass the arguments it was built with as hparams"
        )
    state = {"format": FORMAT, "model": name, "hparams": kw, "state_dict": state_dict}
    return save_checkpoint(path, state)


def model_from_state(state: Any, where: str = "state") -> NeuralProcess:
    """The model a :func:`save_model` dict describes, in eval mode.

    Raises:
        ValueError: ``state`` is not such a dict (``where`` names it in the message).
    """
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        got = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{where} holds {got!r}, not a saved neural process ({FORMAT})")
    if state.get("model") not in MODELS or not isinstance(state.get("hparams"), dict):
        raise ValueError(f"{where}: unknown model {state.get('model')!r} or no hparams")
    model = make_model(state["model"], **state["hparams"])
    model.load_state_dict(state["state_dict"])
    return model.eval()


def model_from_bytes(
    data: bytes, map_location: str | torch.device = "cpu", where: str = "data"
) -> NeuralProcess:
    """:func:`model_from_state` of a saved file's bytes (``torch.load`` with
    ``weights_only=True``), on ``map_location``."""
    try:
        state = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as e:  # a truncated or foreign file: say which
        raise ValueError(f"{where} is not a readable saved neural process: {e}") from None
    return model_from_state(state, where).to(map_location)


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> NeuralProcess:
    """The neural process :func:`save_model` wrote to ``path``, in eval mode.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is cut short, not a torch file, or not a saved neural process.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved neural process at {path}")
    return model_from_bytes(path.read_bytes(), map_location, str(path))
