"""Seeding: one call seeds python, numpy and torch; explicit generators for everything else.

Prefer passing a ``torch.Generator`` / ``numpy.random.Generator`` made here over relying on global
state: results then do not depend on what ran before.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["make_generator", "make_rng", "seed_everything"]


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed python's ``random``, numpy's legacy global RNG and torch (CPU and CUDA).

    With ``deterministic`` and CUDA present, torch is asked for deterministic kernels where it has
    them (warning, not failing, where it has not) and cuDNN autotuning is switched off. On a
    CPU-only machine the call is skipped: the CPU kernels used here are deterministic already, and
    ``use_deterministic_algorithms`` imports ``torch._dynamo``, which costs seconds per process.
    """
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"seed must be a non-negative integer below 2**63, got {seed}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if deterministic and torch.cuda.is_available():
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A seeded ``torch.Generator`` on ``device``."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def make_rng(seed: int) -> np.random.Generator:
    """A seeded numpy ``Generator`` (PCG64)."""
    return np.random.default_rng(int(seed))
