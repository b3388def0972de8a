"""Checkpoints: atomic ``torch.save`` and ``weights_only=True`` loading.

A checkpoint is a dict of tensors, state dicts and plain Python values (numbers, strings, lists,
dicts), which is exactly what ``torch.load(weights_only=True)`` accepts, so loading a checkpoint
never runs pickled code.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from paperzoo.core.io import atomic_write_bytes

__all__ = ["load_checkpoint", "rng_state", "save_checkpoint", "set_rng_state"]


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Serialise ``state`` with ``torch.save`` and move it into place atomically."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any] | None:
    """Load a checkpoint saved by :func:`save_checkpoint`, or ``None`` when there is none."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # a truncated or foreign file: say which one
        raise RuntimeError(f"checkpoint {path} is corrupt or not a paperzoo checkpoint: {e}") from e


def rng_state(*generators: torch.Generator) -> dict[str, Any]:
    """Torch's global CPU RNG state plus the states of explicit generators, for a checkpoint."""
    return {"torch": torch.get_rng_state(), "generators": [g.get_state() for g in generators]}


def set_rng_state(state: dict[str, Any], *generators: torch.Generator) -> None:
    """Restore what :func:`rng_state` captured (generators in the same order)."""
    torch.set_rng_state(state["torch"])
    for g, s in zip(generators, state["generators"], strict=True):
        g.set_state(s)
