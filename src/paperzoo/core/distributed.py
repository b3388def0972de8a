"""Joining a torchrun process group: the part every method's DDP entry point shares."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

__all__ = ["process_group"]


@contextlib.contextmanager
def process_group(device: str) -> Iterator[str]:
    """Initialise the process group from torchrun's environment (nccl for a ``cuda`` device,
    gloo otherwise) and destroy it on exit; yields the device this rank uses (``cuda`` becomes
    ``cuda:<LOCAL_RANK>``)."""
    import torch
    import torch.distributed as dist

    if device.startswith("cuda"):
        local = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    try:
        yield device
    finally:
        dist.destroy_process_group()
