"""Shared test settings: plain progress lines, Agg plots, and single-threaded torch for speed
and determinism under pytest-xdist."""

import os

os.environ.setdefault("PAPERZOO_PROGRESS", "plain")
os.environ.setdefault("MPLBACKEND", "Agg")

import torch

torch.set_num_threads(1)
