"""CPQ reproduction units: the toy estimator study, FP32 models, quantized arms fine-tuned from
them (bits x methods), and learned vs uniform bit-widths; the paper's claims, declared.

Every quantized unit of a seed starts from that seed's FP32 weights (a file artifact of the
``fp32/seed<s>`` unit).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from paperzoo.core import Unit, UnitContext, make_generator

from ..bitwidth import allocate_bits, expected_average_bits
from ..convert import quantize_model, quantized_layers
from ..gradient_study import estimator_study
from ..recipes import METHODS, first_last_layers, hidden_layers, quantization_metrics, test_error
from .config import Config
from .recipe import bit_experiment_specs, build_model, layer_specs, load_data, train_epochs

__all__ = [
    "pick_learned",
    "preflight",
    "run_unit",
    "units",
]


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
            sweep = [f"bits/learned_l{lam:g}/seed{s}" for lam in bw.penalties]
            out += [
                Unit(
                    u,
                    u.rsplit("/", 1)[0],
                    s,
                    {"kind": "learned_sweep", "penalty": lam},
                    deps=(fp,),
                )
                for u, lam in zip(sweep, bw.penalties)
            ]
            out += [
                # the pre-registered pick from the sweep (by bits only, never by error)
                Unit(learned, "bits/learned", s, {"kind": "learned"}, deps=tuple(sweep)),
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
    model = quantize_model(model, layer_specs(cfg, m, b, b))
    curve = train_epochs(model, data, cfg.train.quant_epochs, cfg, ctx)
    ctx.artifact("curve", curve)
    hidden = sorted(hidden_layers(model, *first_last_layers(cfg.model)))
    plain = build_model(cfg, data).to(ctx.device)
    metrics, hists = quantization_metrics(model, plain, hidden, data[2], data[3], ctx.device)
    ctx.artifact("histogram", hists.get(cfg.quant.histogram_layer))
    return metrics


def _bit_metrics(per: dict[str, int], sizes: dict[str, int]) -> dict[str, float]:
    names = list(per)
    out = {
        "bits/average": float(np.mean([per[n] for n in names])),
        "bits/param_weighted": sum(per[n] * sizes[n] for n in names) / sum(sizes.values()),
        # 1 when the allocation differs between layers: otherwise learned == uniform
        "bits/heterogeneous": float(len(set(per.values())) > 1),
    }
    out.update({f"bits/layer/{n}": float(per[n]) for n in names})
    return out


def pick_learned(candidates: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """The pre-registered pick from the bit-cost sweep, by bits alone (never by error): among
    the heterogeneous allocations within ``target``, the one with the largest
    parameter-weighted average (ties: the smaller penalty); if none is heterogeneous, the
    largest within the budget (the heterogeneity gate then fails); if none is within the
    budget, the one with the smallest average (the within-budget gate then fails).

    Each candidate is ``{"penalty": float, "bits/param_weighted": float,
    "bits/heterogeneous": 0 or 1 (optional, default 1), ...}``.
    """
    if not candidates:
        raise ValueError("pick_learned needs at least one candidate")
    within = [c for c in candidates if c["bits/param_weighted"] <= target + 1e-9]
    hetero = [c for c in within if c.get("bits/heterogeneous", 1.0) >= 1.0]
    pool = hetero or within
    if pool:
        return max(pool, key=lambda c: (c["bits/param_weighted"], -c["penalty"]))
    return min(candidates, key=lambda c: (c["bits/param_weighted"], c["penalty"]))


def _bits(cfg: Config, unit: Unit, ctx: UnitContext, data: tuple, model: nn.Module):
    """Learned bits for one bit-cost weight (gates trained, read out, hardened, fine-tuned), the
    pick from the sweep, or a fixed (uniform / learned) allocation trained on its own grid."""
    bw, kind = cfg.bitwidth, unit.params["kind"]
    hidden = hidden_layers(model, *first_last_layers(cfg.model))
    sizes = {n: dict(model.named_modules())[n].weight.numel() for n in hidden}
    if kind == "learned":
        picked = pick_learned(
            [{**ctx.dep(d).metrics, **ctx.dep(d).artifacts["sweep"]} for d in unit.deps],
            float(bw.target_bits),
        )
        ctx.artifact("per_layer", picked["per_layer"])
        ctx.artifact("penalty", picked["penalty"])
        return {k: v for k, v in picked.items() if k.startswith(("eval/", "bits/"))}
    if kind == "learned_sweep":
        lam = float(unit.params["penalty"])
        model = quantize_model(model, bit_experiment_specs(cfg, bw.max_bits, learn=True))
        layers = dict(quantized_layers(model))
        gates = [layers[n].weight_quantizer.gates for n in hidden]
        weights = [float(sizes[n]) for n in hidden]
        # lambda * E[parameter-weighted average bits]: a large layer's bits cost more
        train_epochs(
            model,
            data,
            bw.gate_epochs,
            cfg,
            ctx,
            regularizer=lambda: lam * expected_average_bits(gates, weights),
            name="gates",
        )
        keep = {
            n: [round(float(p), 4) for p in g.keep_probability().detach()]
            for n, g in zip(hidden, gates)
        }
        threshold = {n: int(g.learned_bits()) for n, g in zip(hidden, gates)}  # P(keep) >= 0.5
        per = (
            dict(zip(hidden, allocate_bits(gates, float(bw.target_bits), weights)))
            if bw.readout == "budget"
            else threshold
        )
        ctx.artifact("threshold_bits", threshold)
        for g, n in zip(gates, hidden):
            g.set_bits(per[n])
            g.log_alpha.requires_grad_(False)
        train_epochs(model, data, bw.finetune_epochs, cfg, ctx, name="finetune")
        ctx.artifact("keep_probability", keep)
    else:
        per = (
            ctx.dep(unit.deps[0]).artifacts["per_layer"]
            if kind == "learned_scratch"
            else dict.fromkeys(hidden, bw.target_bits)
        )
        model = quantize_model(model, bit_experiment_specs(cfg, per))
        epochs = (
            bw.scratch_epochs
            if kind.endswith("scratch")
            else bw.gate_epochs + bw.finetune_epochs  # the learned arms' total
        )
        train_epochs(model, data, epochs, cfg, ctx)
    ctx.artifact("per_layer", per)
    metrics = {
        "eval/test_error": test_error(model, data[2], data[3], ctx.device),
        **_bit_metrics(per, sizes),
    }
    if kind == "learned_sweep":
        ctx.artifact("sweep", {"penalty": float(unit.params["penalty"]), "per_layer": per})
        metrics["bits/threshold_param_weighted"] = _bit_metrics(threshold, sizes)[
            "bits/param_weighted"
        ]
    return metrics


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> Any:
    kind = unit.params["kind"]
    if kind == "estimator":
        return _estimator(cfg, unit, ctx)
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
        else _bits(cfg, unit, ctx, data, model)
    )
