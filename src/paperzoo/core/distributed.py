"""Joining a torchrun process group: the part every method's DDP entry point shares."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["local_batch_size", "process_group", "replica_checksum"]


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


def local_batch_size(global_batch: int) -> int:
    """This rank's share of a global batch (``global_batch / world size``); refuses a batch the
    ranks cannot split evenly, which would make the replicas average unequal shares."""
    import torch.distributed as dist

    world = dist.get_world_size()
    if global_batch % world:
        raise ValueError(f"train.batch_size {global_batch} is not divisible by {world} processes")
    return global_batch // world


def replica_checksum(model: Any) -> float:
    """The sum of every parameter in float64: equal on every rank while the replicas agree."""
    return float(sum(p.detach().double().sum() for p in model.parameters()))
