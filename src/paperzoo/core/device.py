"""Device choice: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``."""

from __future__ import annotations

import torch

from paperzoo.core.errors import UsageError

__all__ = ["resolve_device"]


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
