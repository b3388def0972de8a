"""Device choice: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from paperzoo.core.errors import UsageError

__all__ = ["resolve_device", "torch_threads"]


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """Turn a device name into a ``torch.device``; asking for CUDA without it is a usage error."""
    if isinstance(name, torch.device):
        return name
    name = name.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(
                f"--device {name}: CUDA is not available here; use --device cpu or auto"
            )
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UsageError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s)")
        return dev
    raise UsageError(f"unknown device '{name}'; use auto, cpu, cuda or cuda:N")


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op torch threads (``n <= 0``: leave the setting alone),
    then restore the previous count, so tests that run several presets in one process do not
    inherit each other's setting. Small models on a busy CPU are often fastest with ``n = 1``.
    """
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
