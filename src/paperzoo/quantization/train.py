"""CPQ reproduction units: the toy estimator study, FP32 models, quantized arms fine-tuned from
them (bits x methods), and learned vs uniform bit-widths; the paper's claims, declared.

Every quantized unit of a seed starts from that seed's FP32 weights (a file artifact of the
``fp32/seed<s>`` unit).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from paperzoo.core import Unit, UnitContext, make_generator
from paperzoo.datasets import ArraySplit, stratified_subset

from .bitwidth import allocate_bits, bit_cost
from .config import Config
from .convert import quantize_model, quantized_layers
from .gradient_study import estimator_study
from .recipes import (
    METHODS,
    build_float_model,
    first_last_layers,
    hidden_layers,
    optimizer_with_gate_group,
    paper_layer_specs,
    qat_epochs,
    quantization_metrics,
    test_error,
)

__all__ = [
    "preflight",
    "run_unit",
    "units",
]


# --- data and models -----------------------------------------------------------------------------
def _data(cfg: Config, root: Any) -> tuple[torch.Tensor, ...]:
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


def _model(cfg: Config, data: tuple) -> nn.Module:
    return build_float_model(cfg.model, tuple(data[0].shape[1:]), int(data[1].max()) + 1)


def _specs(cfg: Config, method: str, weight_bits: Any, act_bits: int, learn: bool = False):
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


def _train(
    model: nn.Module,
    data: tuple,
    epochs: int,
    cfg: Config,
    ctx: UnitContext,
    regularizer: Any = None,
) -> None:
    """QAT (or FP32) training, resumable per epoch through ``ctx.steps``."""
    opt = optimizer_with_gate_group(
        model.named_parameters(), cfg.train.learning_rate, cfg.train.weight_decay
    )
    if ctx.load_checkpoint("train") is not None:  # lazily initialised quantizers need a forward
        model.train()
        model(data[0][:2].to(ctx.device))
    steps = ctx.steps(
        epochs,
        {"model": model, "opt": opt},
        every=cfg.train.checkpoint_every or epochs,
        desc="epochs",
    )
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
        log=ctx.log,
        rq_temperatures=(cfg.quant.rq_temperature_start, cfg.quant.rq_temperature_end),
    )


# --- units -------------------------------------------------------------------------------------
def preflight(cfg: Config, data_root: Any) -> None:
    """Load the data once, so a missing data set fails before any unit runs."""
    from paperzoo.datasets import load_images

    load_images(cfg.data.dataset, data_root)


def units(cfg: Config) -> list[Unit]:
    q, bw = cfg.quant, cfg.bitwidth
    unknown = set(q.methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}; choose from {sorted(METHODS)}")
    if q.drop_rate not in cfg.estimator.drop_rates:
        raise ValueError("estimator.drop_rates must include quant.drop_rate (the claim uses it)")
    out = [
        Unit(f"estimator/b{b}/seed{s}", f"estimator/b{b}", s, {"kind": "estimator", "bits": b})
        for b in cfg.estimator.bit_widths
        for s in cfg.seeds
    ]
    for s in cfg.seeds:
        fp = f"fp32/seed{s}"
        # Every quantized unit of the seed waits for it: start it first.
        out.append(Unit(fp, "fp32", s, {"kind": "fp32"}, cost=10.0))
        out += [
            Unit(
                f"W{b}A{b}/{m}/seed{s}",
                f"W{b}A{b}/{m}",
                s,
                {"kind": "quant", "method": m, "bits": b},
                deps=(fp,),
            )
            for b in q.bit_widths
            for m in q.methods
        ]
        if bw.enabled:
            learned = f"bits/learned/seed{s}"
            out += [
                Unit(learned, "bits/learned", s, {"kind": "learned"}, deps=(fp,)),
                Unit(f"bits/uniform/seed{s}", "bits/uniform", s, {"kind": "uniform"}, deps=(fp,)),
                Unit(
                    f"bits/learned_scratch/seed{s}",
                    "bits/learned_scratch",
                    s,
                    {"kind": "learned_scratch"},
                    deps=(learned,),
                ),
                Unit(
                    f"bits/uniform_scratch/seed{s}",
                    "bits/uniform_scratch",
                    s,
                    {"kind": "uniform_scratch"},
                ),
            ]
    return out


def _estimator(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, dict[str, float]]:
    e, b = cfg.estimator, unit.params["bits"]
    gen = make_generator(unit.seed)
    qmin, qmax = -(2 ** (b - 1)), 2 ** (b - 1) - 1
    target = float(torch.empty(()).uniform_(qmin, qmax, generator=gen))
    study = estimator_study(
        b,
        target,
        noise_ratio=e.noise_ratio,
        num_points=e.num_points,
        num_samples=e.num_samples,
        drop_rates=e.drop_rates,
        temperatures=e.temperatures,
        generator=gen,
    )
    ctx.artifact("study", study)
    return {
        f"estimator/b{b}/{name}": {f"estimator/{k}": r[k] for k in ("bias_sq", "variance", "mse")}
        for name, r in study["estimators"].items()
    }


def _quant(cfg: Config, unit: Unit, ctx: UnitContext, data: tuple, model: nn.Module):
    m, b = unit.params["method"], unit.params["bits"]
    model = quantize_model(model, _specs(cfg, m, b, b))
    _train(model, data, cfg.train.quant_epochs, cfg, ctx)
    hidden = sorted(hidden_layers(model, *first_last_layers(cfg.model)))
    plain = _model(cfg, data).to(ctx.device)
    metrics, hists = quantization_metrics(model, plain, hidden, data[2], data[3], ctx.device)
    ctx.artifact("histogram", hists.get(cfg.quant.histogram_layer))
    return metrics


def _bits(cfg: Config, unit: Unit, ctx: UnitContext, data: tuple, model: nn.Module):
    """Learned bits under the budget, or a fixed (uniform / learned) allocation."""
    bw, kind = cfg.bitwidth, unit.params["kind"]
    hidden = hidden_layers(model, *first_last_layers(cfg.model))
    if kind == "learned":
        model = quantize_model(model, _specs(cfg, "cpq_dropbits", bw.max_bits, bw.act_bits, True))
        layers = dict(quantized_layers(model))
        gates = [layers[n].weight_quantizer.gates for n in hidden]
        _train(
            model,
            data,
            cfg.train.quant_epochs,
            cfg,
            ctx,
            regularizer=lambda: bw.penalty * bit_cost(gates, float(bw.target_bits)),
        )
        # budget projection of the learned keep probabilities, then hard gates
        for gate, b in zip(gates, allocate_bits(gates, float(bw.target_bits))):
            gate.set_bits(b)
        per = {n: int(layers[n].weight_quantizer.effective_bits()) for n in hidden}
    else:
        per = (
            ctx.dep(unit.deps[0]).artifacts["per_layer"]
            if kind == "learned_scratch"
            else dict.fromkeys(hidden, bw.target_bits)
        )
        model = quantize_model(model, _specs(cfg, "cpq_dropbits", per, bw.act_bits))
        epochs = bw.scratch_epochs if kind.endswith("scratch") else cfg.train.quant_epochs
        _train(model, data, epochs, cfg, ctx)
    ctx.artifact("per_layer", per)
    sizes = {n: dict(model.named_modules())[n].weight.numel() for n in hidden}
    return {
        "eval/test_error": test_error(model, data[2], data[3], ctx.device),
        "bits/average": float(np.mean(list(per.values()))),
        "bits/param_weighted": sum(per[n] * sizes[n] for n in hidden) / sum(sizes.values()),
        # 1 when the allocation differs between layers: otherwise learned == uniform
        "bits/heterogeneous": float(len(set(per.values())) > 1),
    }


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> Any:
    kind = unit.params["kind"]
    if kind == "estimator":
        return _estimator(cfg, unit, ctx)
    data = ctx.cache(
        ("quantization", repr(cfg.data), str(ctx.data_root)), lambda: _data(cfg, ctx.data_root)
    )
    torch.manual_seed(unit.seed)  # the same initialisation whether data were cached or not
    model = _model(cfg, data).to(ctx.device)
    if kind == "fp32":
        _train(model, data, cfg.train.fp_epochs, cfg, ctx)
        torch.save({"model": model.state_dict()}, ctx.file("fp32.pt"))
        return {"eval/test_error": test_error(model, data[2], data[3], ctx.device)}
    if not kind.endswith("scratch"):
        fp = ctx.file("fp32.pt", f"fp32/seed{unit.seed}")
        model.load_state_dict(torch.load(fp, weights_only=True)["model"])
    return (
        _quant(cfg, unit, ctx, data, model)
        if kind == "quant"
        else _bits(cfg, unit, ctx, data, model)
    )
