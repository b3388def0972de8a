"""The paper's training recipes as reusable pieces: which quantizer a method name means, the
first/last-layer bit rule, the hidden layers a bit budget covers, the RQ temperature schedule,
the learning-rate group of learned bit-width gates, and the model builders.

Paper: CPQ, Lee, Yun, Hwang, Yang, ICCV 2021, https://arxiv.org/abs/2109.02100.

Deviations from the paper (no official code; see README.md):
    * The gates' learning-rate multiplier :data:`GATE_LR_SCALE` is ours: at Adam lr 1e-3 their
      logits move less than 0.1 per epoch, so a short fine-tune could never leave the start bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .convert import LayerSpec, clustering_index, quantized_layers
from .estimators import ClusterPromotingQuantizer, RelaxedQuantizer, slope_contrast
from .layers import QuantizerSpec
from .models import LeNet5, ResNet20

__all__ = [
    "GATE_LR_SCALE",
    "METHODS",
    "build_float_model",
    "first_last_layers",
    "hidden_layers",
    "method_spec",
    "noise_cap",
    "noise_ratio",
    "optimizer_with_gate_group",
    "paper_layer_specs",
    "qat_epochs",
    "quantization_metrics",
    "rq_temperature",
    "test_error",
]

METHODS = {
    "fp32": "FP32",
    "ste": "STE (fixed range)",
    "lsq": "LSQ",
    "rq": "RQ",
    "cpq": "CPQ",
    "cpq_dropbits": "CPQ+DropBits",
}
"""Method names and their report labels."""

GATE_LR_SCALE = 30.0
"""Learning-rate multiplier of the learned-bit-width gates' logits (ours)."""


def build_float_model(name: str, image_shape: tuple[int, int, int], num_classes: int = 10):
    """``lenet5`` (any square image of side a multiple of 4, >= 12) or ``resnet20`` (CIFAR).

    Shape: image_shape = (channels, height, width).
    """
    c, h, w = image_shape
    if h != w:
        raise ValueError(f"square images expected, got {h}x{w}")
    if name == "resnet20":
        return ResNet20(num_classes=num_classes, in_channels=c)
    if name == "lenet5":
        return LeNet5(image_size=h, in_channels=c, num_classes=num_classes)
    raise ValueError(f"unknown model {name!r}; use lenet5 or resnet20")


def first_last_layers(model_name: str) -> tuple[str, str]:
    """Names of the first and last layers, which keep 8-bit weights in the paper."""
    return ("conv1", "fc") if model_name == "resnet20" else ("conv1", "fc3")


def hidden_layers(model: nn.Module, first: str, last: str) -> list[str]:
    """Conv/linear layers other than the first and last: the ones at the studied bit-width."""
    names = [n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    return [n for n in names if n not in (first, last)]


def method_spec(
    method: str,
    bits: int,
    *,
    drop_rate: float = 0.0,
    noise_ratio: float = 1.0 / 3.0,
    temperature: float = 1.0,
    ste_normalization: str = "sum",
    **kw: Any,
) -> QuantizerSpec:
    """The quantizer a method name means: ``cpq_dropbits`` is CPQ with DropBits rate
    ``drop_rate``; every other method ignores the rate."""
    if method not in METHODS or method == "fp32":
        raise ValueError(
            f"unknown quantization method {method!r}; choose from "
            f"{[m for m in METHODS if m != 'fp32']}"
        )
    base = "cpq" if method.startswith("cpq") else method
    return QuantizerSpec(
        method=base,  # type: ignore[arg-type]
        num_bits=bits,
        drop_rate=drop_rate if method == "cpq_dropbits" else 0.0,
        noise_ratio=noise_ratio,
        temperature=temperature,
        ste_normalization=ste_normalization,  # type: ignore[arg-type]
        **kw,
    )


def paper_layer_specs(
    method: str,
    weight_bits: int | dict[str, int],
    act_bits: int,
    *,
    first: str,
    last: str,
    first_last_bits: int = 8,
    learn_bits: bool = False,
    **spec_kw: Any,
) -> dict[str, LayerSpec]:
    """The paper's bit rule as ``quantize_model`` specs.

    First layer: ``first_last_bits`` weights, float (image) input; last layer:
    ``first_last_bits`` weights and input; hidden layers: ``weight_bits`` (one value, or per
    layer) and ``act_bits`` inputs. DropBits never touches the first and last layers.
    """
    edge = method_spec(method, first_last_bits, **{**spec_kw, "drop_rate": 0.0})
    specs = {first: LayerSpec(edge, None), last: LayerSpec(edge, edge)}
    per_layer = weight_bits if isinstance(weight_bits, dict) else {}
    default_w = weight_bits if isinstance(weight_bits, int) else max(weight_bits.values())
    act = method_spec(method, act_bits, **spec_kw)
    for name, bits in per_layer.items():
        specs[name] = LayerSpec(method_spec(method, bits, learn_bits=learn_bits, **spec_kw), act)
    specs["*"] = LayerSpec(method_spec(method, default_w, learn_bits=learn_bits, **spec_kw), act)
    return specs


def rq_temperature(step: int, total: int, start: float, end: float) -> float:
    """Geometric annealing of the RQ concrete temperature: ``start (end/start)^(step/total)``."""
    return start * (end / start) ** (step / max(1, total))


def optimizer_with_gate_group(
    params: Iterable[tuple[str, torch.nn.Parameter]], lr: float, weight_decay: float = 0.0
) -> torch.optim.Adam:
    """Adam over named parameters; learned bit-width gates (``.gates.``) get
    ``GATE_LR_SCALE * lr``."""
    named = list(params)
    gates = [p for n, p in named if ".gates." in n]
    groups: list[dict[str, Any]] = [{"params": [p for n, p in named if ".gates." not in n]}]
    if gates:
        groups.append({"params": gates, "lr": lr * GATE_LR_SCALE})
    return torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)


def qat_epochs(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: Iterable[int],
    num_epochs: int,
    *,
    batch_size: int,
    seed: int,
    rq_temperatures: tuple[float, float] = (1.0, 0.2),
    noise_caps: tuple[float, float, float] | None = None,
    lr_schedule: str = "constant",
    regularizer: Callable[[], torch.Tensor] | None = None,
    device: torch.device | str = "cpu",
    log: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Quantization-aware training: cross-entropy (+ ``regularizer``), RQ temperatures annealed
    geometrically per step over all ``num_epochs``.

    ``noise_caps = (start, end, fraction)`` caps CPQ's ``sigma / step`` at
    :func:`noise_cap` (geometric from ``start`` to ``end`` over the first ``fraction`` of the
    steps, then ``end``), which moves the multi-class STE into its cluster-promoting regime.
    ``lr_schedule="cosine"`` anneals every group's learning rate to 0 over ``num_epochs``.
    Each epoch logs ``train/loss`` and, with noisy quantizers, ``train/noise_ratio`` (mean
    ``sigma / step`` of the CPQ/RQ weight quantizers).

    ``epochs`` yields 1-based epoch numbers (``range(1, n + 1)``, or a resumable iterator such
    as the engine's ``ctx.steps``); epoch ``e`` shuffles with seed ``seed * 1000 + e - 1``.

    Shape: x (N, C, H, W); y (N,).
    """
    from paperzoo.datasets import make_loader

    per_epoch = math.ceil(len(x) / batch_size)
    total = max(1, num_epochs * per_epoch)
    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}")
    rq = [m for m in model.modules() if isinstance(m, RelaxedQuantizer)]
    cpq = [m for m in model.modules() if isinstance(m, ClusterPromotingQuantizer)]
    for group in opt.param_groups:
        group.setdefault("initial_lr", group["lr"])
    for epoch in epochs:
        model.train()
        loss = torch.zeros(())
        loader = make_loader(x, y, batch_size, seed=seed * 1000 + epoch - 1)
        for i, (xb, yb) in enumerate(loader):
            step = (epoch - 1) * per_epoch + i
            for m in rq:
                m.set_temperature(rq_temperature(step, total, *rq_temperatures))
            if noise_caps is not None:
                cap = noise_cap(step, total, *noise_caps)
                for m in cpq:
                    m.set_noise_cap(cap)
            if lr_schedule == "cosine":
                for group in opt.param_groups:
                    group["lr"] = group["initial_lr"] * 0.5 * (1 + math.cos(math.pi * step / total))
            loss = F.cross_entropy(model(xb.to(device)), yb.to(device))
            if regularizer is not None:
                loss = loss + regularizer()
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss is {float(loss)} at step {step}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if log is not None:
            rec = {"epoch": epoch, "train/loss": float(loss.detach())}
            ratio = noise_ratio(model)
            if ratio is not None:
                rec["train/noise_ratio"] = ratio
            log(rec)


def noise_cap(step: int, total: int, start: float, end: float, fraction: float) -> float:
    """CPQ's ``sigma / step`` ceiling at ``step`` of ``total``: ``start (end/start)^t`` with
    ``t = min(1, step / (fraction total))``."""
    t = min(1.0, step / max(1.0, fraction * total))
    return start * (end / start) ** t


def noise_ratio(model: nn.Module) -> float | None:
    """Mean ``sigma / step`` of the model's CPQ/RQ weight quantizers (None without any)."""
    vals = [
        layer.weight_quantizer.noise_to_step()
        for _, layer in quantized_layers(model)
        if hasattr(layer.weight_quantizer, "noise_to_step")
    ]
    return float(np.mean(vals)) if vals else None


@torch.no_grad()
def test_error(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: Any = "cpu") -> float:
    """Test error in percent (eval mode: exact rounding, DropBits off)."""
    model.eval()
    wrong = sum(
        int((model(x[i : i + 1000].to(device)).argmax(1).cpu() != y[i : i + 1000]).sum())
        for i in range(0, len(x), 1000)
    )
    return 100.0 * wrong / len(x)


def quantization_metrics(
    model: nn.Module,
    float_model: nn.Module,
    hidden: list[str],
    x: torch.Tensor,
    y: torch.Tensor,
    device: Any = "cpu",
) -> tuple[dict[str, float], dict[str, dict[str, list[float]]]]:
    """Test error, clustering index of the hidden layers, the test error of the latent float
    weights (loaded into ``float_model``), mean sigma/step of CPQ/RQ, and per-layer histograms
    of weights in step units (for plots against the grid)."""
    layers = dict(quantized_layers(model))
    float_model.load_state_dict(
        {k: v for k, v in model.state_dict().items() if "quantizer" not in k}
    )
    out = {
        "eval/test_error": test_error(model, x, y, device),
        "eval/clustering_index": float(
            np.mean(
                [clustering_index(layers[n].weight, layers[n].weight_quantizer) for n in hidden]
            )
        ),
        "eval/float_weight_error": test_error(float_model, x, y, device),
    }
    wqs = [layers[n].weight_quantizer for n in hidden]
    if all(hasattr(wq, "noise") for wq in wqs):  # CPQ / RQ: learned sigma / step
        ratios = [wq.noise_to_step() for wq in wqs]
        out["eval/noise_ratio"] = float(np.mean(ratios))
        # edge/grid-point slope of the STE surrogate (> 1: a force towards grid points), of the
        # layer where it is weakest
        out["eval/slope_contrast"] = min(slope_contrast(r) for r in ratios)
    hists = {}
    for name, layer in layers.items():
        q = layer.weight_quantizer
        with torch.no_grad():
            w = (layer.weight / q.effective_step()).flatten().cpu().numpy()
        counts, edges = np.histogram(w, bins=120, range=(q.qmin - 1.0, q.qmax + 1.0))
        hists[name] = {"counts": counts.tolist(), "edges": edges.tolist()}
    return out, hists
