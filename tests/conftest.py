"""Shared test settings: plain progress lines, Agg plots, and single-threaded torch for speed
and determinism under pytest-xdist."""

import os

os.environ.setdefault("PAPERZOO_PROGRESS", "plain")
os.environ.setdefault("MPLBACKEND", "Agg")
# Every figure drawn by a test must label its axes and give its colour maps a colour bar.
os.environ.setdefault("PAPERZOO_STRICT_FIGURES", "1")

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def free_port() -> int:
    """A free TCP port on loopback (for multi-process DDP tests)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
