"""The glue between the CPQ reproduction's config and the components: data, models, quantizer
specs and the resumable training loop every unit of :mod:`.train` uses.

The paper's recipes themselves (which quantizer a method name means, the first/last-layer bit
rule, the QAT epoch loop) are components in :mod:`paperzoo.quantization.recipes`; this module
only reads the :class:`~.config.Config` and passes its values on.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch
from torch import nn

from paperzoo.core import UnitContext
from paperzoo.datasets import ArraySplit, stratified_subset

from ..convert import LayerSpec
from ..recipes import (
    build_float_model,
    first_last_layers,
    optimizer_with_gate_group,
    paper_layer_specs,
    qat_epochs,
)
from .config import Config

__all__ = ["bit_experiment_specs", "build_model", "layer_specs", "load_data", "train_epochs"]


# --- data and models -----------------------------------------------------------------------------
def load_data(cfg: Config, root: Any) -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test); x float (N, C, H, W) in [0, 1]."""
    from paperzoo.datasets import load_images

    d = cfg.data
    out = []
    for split, size in zip(load_images(d.dataset, root), (d.train_size, d.test_size)):
        if size and size < len(split):  # stratified on the labels only, seed 0
            keep = stratified_subset(ArraySplit(np.arange(len(split)), split.y.numpy()), size, 0)
            split = split.subset(keep.x)
        x = split.x
        if x.shape[-1] < 16:  # scikit-learn's 8x8 digits -> 16x16 so LeNet-5's convs fit
            f = math.ceil(16 / x.shape[-1])
            x = x.repeat_interleave(f, 2).repeat_interleave(f, 3)
        out += [x.contiguous(), split.y]
    return tuple(out)


def build_model(cfg: Config, data: tuple) -> nn.Module:
    """The float model ``cfg.model`` sized for the images and classes of ``data``."""
    return build_float_model(cfg.model, tuple(data[0].shape[1:]), int(data[1].max()) + 1)


def layer_specs(
    cfg: Config, method: str, weight_bits: Any, act_bits: int, learn: bool = False
) -> dict[str, LayerSpec]:
    """The paper's per-layer quantizer specs of ``method`` with the config's settings."""
    q = cfg.quant
    first, last = first_last_layers(cfg.model)
    return paper_layer_specs(
        method,
        weight_bits,
        act_bits,
        first=first,
        last=last,
        first_last_bits=q.first_last_bits,
        learn_bits=learn,
        drop_rate=q.drop_rate,
        noise_ratio=q.noise_ratio,
        temperature=q.rq_temperature_start,
        ste_normalization=q.ste_normalization,
    )


def bit_experiment_specs(
    cfg: Config, weight_bits: Any, learn: bool = False
) -> dict[str, LayerSpec]:
    """The bit-width experiment: CPQ+DropBits weights (learned or fixed bits), CPQ activations
    at ``act_bits`` without DropBits, identical in every arm."""
    bw = cfg.bitwidth
    specs = layer_specs(cfg, "cpq_dropbits", weight_bits, bw.act_bits, learn)
    plain = layer_specs(cfg, "cpq", weight_bits, bw.act_bits)
    for name, spec in specs.items():
        if spec.input is not None and name in plain:
            specs[name] = dataclasses.replace(spec, input=plain[name].input)
    return specs


# --- training ------------------------------------------------------------------------------------
def train_epochs(
    model: nn.Module,
    data: tuple,
    epochs: int,
    cfg: Config,
    ctx: UnitContext,
    regularizer: Any = None,
    name: str = "train",
) -> list[dict[str, float]]:
    """QAT (or FP32) training, resumable per epoch through ``ctx.steps`` (checkpoints under
    ``name``, so one unit can train in several phases). Returns the per-epoch log (loss and,
    for CPQ/RQ, sigma/step)."""
    opt = optimizer_with_gate_group(
        model.named_parameters(), cfg.train.learning_rate, cfg.train.weight_decay
    )
    if ctx.load_checkpoint(name) is not None:  # lazily initialised quantizers need a forward
        model.train()
        model(data[0][:2].to(ctx.device))
    curve: list[dict[str, float]] = []
    steps = ctx.steps(
        epochs,
        {"model": model, "opt": opt, "curve": curve},
        name=name,
        every=cfg.train.checkpoint_every or epochs,
        desc=f"{name} epochs",
    )

    def log(rec: dict[str, Any]) -> None:
        curve.append({k: float(v) for k, v in rec.items()})
        ctx.log({"phase": name, **rec})

    qat_epochs(
        model,
        opt,
        data[0],
        data[1],
        steps,
        epochs,
        batch_size=cfg.data.batch_size,
        seed=ctx.unit.seed,
        regularizer=regularizer,
        device=ctx.device,
        log=log,
        rq_temperatures=(cfg.quant.rq_temperature_start, cfg.quant.rq_temperature_end),
        noise_caps=_noise_caps(cfg),
        lr_schedule=cfg.train.lr_schedule,
    )
    return curve


def _noise_caps(cfg: Config) -> tuple[float, float, float] | None:
    q = cfg.quant
    if q.noise_ratio_end <= 0:
        return None
    return (q.noise_ratio, q.noise_ratio_end, q.noise_anneal_fraction)
