"""CPQ reproduction units: the toy estimator study, FP32 models, quantized arms fine-tuned from
them (bits x methods), and learned vs uniform bit-widths (:mod:`.bits`); the paper's claims,
declared.

Every quantized unit of a seed starts from that seed's FP32 weights (a file artifact of the
``fp32/seed<s>`` unit).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from paperzoo.core import Unit, UnitContext, make_generator

from ..convert import quantize_model
from ..gradient_study import estimator_study
from ..recipes import METHODS, first_last_layers, hidden_layers, quantization_metrics, test_error

# pick_learned and uniform_at_bits are re-exported: the learned-bit rules, importable here too
from .bits import bit_units, equal_bits, pick_learned, run_bits, uniform_at_bits
from .config import Config
from .recipe import build_model, layer_specs, load_data, train_epochs

__all__ = [
    "pick_learned",
    "preflight",
    "run_unit",
    "uniform_at_bits",
    "units",
]


# --- units -------------------------------------------------------------------------------------
def preflight(cfg: Config, data_root: Any) -> None:
    """Load the data once, so a missing data set fails before any unit runs."""
    from paperzoo.datasets import load_images

    load_images(cfg.data.dataset, data_root)


def units(cfg: Config) -> list[Unit]:
    """Every unit of the run; a bit-width list left empty (``quant.bit_widths``,
    ``estimator.bit_widths``) leaves its units out (the ``quick_bits`` preset: only the FP32
    models and the learned-bit experiment)."""
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
            out += bit_units(cfg, s, fp)
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
    model = quantize_model(model, layer_specs(cfg, m, b, b))
    curve = train_epochs(model, data, cfg.train.quant_epochs, cfg, ctx)
    ctx.artifact("curve", curve)
    hidden = sorted(hidden_layers(model, *first_last_layers(cfg.model)))
    plain = build_model(cfg, data).to(ctx.device)
    metrics, hists = quantization_metrics(model, plain, hidden, data[2], data[3], ctx.device)
    ctx.artifact("histogram", hists.get(cfg.quant.histogram_layer))
    return metrics


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> Any:
    kind = unit.params["kind"]
    if kind == "estimator":
        return _estimator(cfg, unit, ctx)
    if kind == "equal_bits":
        return equal_bits(cfg, unit, ctx)
    data = ctx.cache(
        ("quantization", repr(cfg.data), str(ctx.data_root)), lambda: load_data(cfg, ctx.data_root)
    )
    torch.manual_seed(unit.seed)  # the same initialisation whether data were cached or not
    model = build_model(cfg, data).to(ctx.device)
    if kind == "fp32":
        train_epochs(model, data, cfg.train.fp_epochs, cfg, ctx)
        torch.save({"model": model.state_dict()}, ctx.file("fp32.pt"))
        return {"eval/test_error": test_error(model, data[2], data[3], ctx.device)}
    if not kind.endswith("scratch"):
        fp = ctx.file("fp32.pt", f"fp32/seed{unit.seed}")
        model.load_state_dict(torch.load(fp, weights_only=True)["model"])
    return (
        _quant(cfg, unit, ctx, data, model)
        if kind == "quant"
        else run_bits(cfg, unit, ctx, data, model)
    )
