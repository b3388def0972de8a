"""Figures and tables of the CPQ reproduction: estimator study, weight histograms against the
grid, test error vs bits, learned per-layer bits."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import new_figure, save_figure
from paperzoo.core.results import ci95

from ..estimators import slope_contrast
from ..recipes import METHODS, first_last_layers
from .config import Config

__all__ = ["figures", "notes", "tables"]


def _fmt(values: list[float], digits: int = 2) -> str:
    ci = ci95(values)
    m = float(np.mean(values))
    return f"{m:.{digits}f}" if ci is None else f"{m:.{digits}f} ± {ci:.{digits}f}"


def _estimator_figure(path: Any, study: dict[str, Any], bits: int) -> None:
    fig, axes = new_figure(1, 2, size=(5.5, 3.8))
    ax = axes[0, 0]
    ax.plot(study["x"], study["exact"], "k-", lw=2, label="exact dE[L]/dx")
    for name, est in study["estimators"].items():
        ax.plot(study["x"], est["mean"], lw=1, label=name)
    ax.set(xlabel="x (grid units)", ylabel="mean gradient", title=f"{bits}-bit toy, L=(x̂-t)²")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = axes[0, 1]
    names = list(study["estimators"])
    pos = np.arange(len(names))
    ax.bar(pos - 0.2, [study["estimators"][n]["bias_sq"] for n in names], 0.4, label="bias²")
    ax.bar(pos + 0.2, [study["estimators"][n]["variance"] for n in names], 0.4, label="variance")
    ax.set_yscale("log")
    ax.set_xticks(pos, names, rotation=30, ha="right", fontsize=8)
    ax.set(title="mean over x (first seed)", xlabel="estimator", ylabel="bias² / variance")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def _histogram_figure(path: Any, hists: dict[str, dict[str, Any]], bits: int, layer: str) -> None:
    fig, axes = new_figure(1, len(hists), size=(4.5, 3.2))
    for ax, (label, h) in zip(axes[0], hists.items()):
        edges = np.asarray(h["edges"])
        ax.bar(edges[:-1], h["counts"], width=np.diff(edges), align="edge", color="C0")
        for g in range(math.ceil(edges[0]) + 1, math.floor(edges[-1])):  # grid points
            ax.axvline(g, color="C3", lw=0.8, ls="--")
        ax.set(
            title=f"{label}: {layer} weights / step ({bits}-bit)",
            xlabel="w / step (grid points dashed)",
            ylabel="weights",
        )
    save_figure(fig, path)


def _error_figure(path: Any, results: Results) -> None:
    cfg, arms = results.config, results.arms
    fig, axes = new_figure(size=(6, 4))
    ax = axes[0, 0]
    bits = cfg.quant.bit_widths
    for j, m in enumerate(cfg.quant.methods):
        vals = [arms[f"W{b}A{b}/{m}"]["eval/test_error"] for b in bits]
        ax.errorbar(
            np.asarray(bits) + 0.06 * (j - 2),
            [np.mean(v) for v in vals],
            yerr=[ci95(v) or 0.0 for v in vals],
            marker="o",
            capsize=3,
            label=METHODS[m],
        )
    ax.axhline(results.mean("fp32", "eval/test_error"), color="k", ls=":", label="FP32")
    ax.set(xlabel="bits (W = A, hidden layers)", ylabel="test error (%)", xticks=bits)
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def _bits_figure(path: Any, per_layer: list[dict[str, int]], seeds: list[int], target: int):
    names = list(per_layer[0])
    fig, axes = new_figure(size=(5, 3.2))
    ax = axes[0, 0]
    width = 0.8 / len(per_layer)
    for k, (s, bits) in enumerate(zip(seeds, per_layer)):
        ax.bar(
            np.arange(len(names)) + k * width, [bits[n] for n in names], width, label=f"seed {s}"
        )
    ax.axhline(target, color="k", ls="--", label=f"uniform {target}")
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names)
    ax.set(xlabel="layer", ylabel="learned weight bits", title="learned per-layer bit-widths")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def _noise_figure(path: Any, curves: dict[str, list[dict[str, float]]], bits: int) -> None:
    fig, axes = new_figure(size=(5, 3.4))
    ax = axes[0, 0]
    for label, curve in curves.items():
        pts = [(c["epoch"], c["train/noise_ratio"]) for c in curve if "train/noise_ratio" in c]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=label)
    ax.axhline(0.2, color="k", ls=":", lw=0.8, label=f"edge/grid slope {slope_contrast(0.2):.2g}")
    ax.set(
        xlabel="fine-tuning epoch",
        ylabel="sigma / step (weights, mean over layers)",
        title=f"noise scale over training ({bits}-bit, first seed)",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def figures(results: Results, run_dir: RunDir) -> None:
    cfg = results.config
    seed0 = cfg.seeds[0]
    for b in cfg.estimator.bit_widths:
        study = results.unit(f"estimator/b{b}/ste", seed0).artifacts["study"]
        _estimator_figure(run_dir.figure(f"estimator_b{b}"), study, b)
    if cfg.bitwidth.enabled:
        per = [r.artifacts["per_layer"] for r in results.of_arm("bits/learned")]
        _bits_figure(run_dir.figure("learned_bits"), per, cfg.seeds, cfg.bitwidth.target_bits)
    if not cfg.quant.bit_widths:  # a run of the learned-bit experiment only (quick_bits)
        return
    _error_figure(run_dir.figure("test_error_vs_bits"), results)
    low = min(cfg.quant.bit_widths)
    hists = {
        METHODS[m]: results.unit(f"W{low}A{low}/{m}", seed0).artifacts.get("histogram")
        for m in ("lsq", "cpq")
        if m in cfg.quant.methods
    }
    if len(hists) == 2 and all(hists.values()):
        _histogram_figure(
            run_dir.figure("weight_histogram"),
            hists,
            low,  # type: ignore[arg-type]
            cfg.quant.histogram_layer,
        )
    curves = {
        METHODS[m]: results.unit(f"W{low}A{low}/{m}", seed0).artifacts.get("curve") or []
        for m in ("rq", "cpq", "cpq_dropbits")
        if m in cfg.quant.methods
    }
    if curves:
        _noise_figure(run_dir.figure("noise_ratio"), curves, low)


def tables(results: Results) -> dict[str, str]:
    cfg, arms, q = results.config, results.arms, results.config.quant
    out = {}
    rows = ["| bits | estimator | bias² (mean over x) | variance | MSE |", "|---|---|---|---|---|"]
    for b in cfg.estimator.bit_widths:
        for a in [a for a in arms if a.startswith(f"estimator/b{b}/")]:
            m = arms[a]
            rows.append(
                f"| {b} | {a.split('/')[-1]} | {_fmt(m['estimator/bias_sq'], 3)} | "
                f"{_fmt(m['estimator/variance'], 3)} | {_fmt(m['estimator/mse'], 3)} |"
            )
    if cfg.estimator.bit_widths:
        out["Estimator study (toy objective, mean ± 95% CI over seeds)"] = "\n".join(rows)
    if q.bit_widths:
        out.update(_error_tables(results))
    if cfg.bitwidth.enabled:
        out.update(_bit_tables(results))
    return out


def _error_tables(results: Results) -> dict[str, str]:
    arms, q = results.arms, results.config.quant
    out = {}
    header = "| arm | " + " | ".join(f"W{b}/A{b}" for b in q.bit_widths) + " |"
    sep = "|---" * (len(q.bit_widths) + 1) + "|"
    rows = [
        header,
        sep,
        "| FP32 | "
        + " | ".join(_fmt(arms["fp32"]["eval/test_error"]) for _ in q.bit_widths)
        + " |",
    ]
    for m in q.methods:
        cells = [_fmt(arms[f"W{b}A{b}/{m}"]["eval/test_error"]) for b in q.bit_widths]
        rows.append(f"| {METHODS[m]} | " + " | ".join(cells) + " |")
    out["Test error (%) of the quantized network, mean ± 95% CI over seeds"] = "\n".join(rows)
    rows = [header, sep]
    for m in q.methods:
        cells = [_fmt(arms[f"W{b}A{b}/{m}"]["eval/clustering_index"], 3) for b in q.bit_widths]
        rows.append(f"| {METHODS[m]} | " + " | ".join(cells) + " |")
    out["Clustering index mean|w - Q(w)|/step of the hidden layers (0.25 = no clustering)"] = (
        "\n".join(rows)
    )
    return out


def _bit_tables(results: Results) -> dict[str, str]:
    cfg, arms, bw = results.config, results.arms, results.config.bitwidth
    out = {}
    per = [r.artifacts["per_layer"] for r in results.of_arm("bits/learned")]
    rows = ["| seed | " + " | ".join(per[0]) + " | average |", "|---" * (len(per[0]) + 2) + "|"]
    for s, bits in zip(cfg.seeds, per):
        rows.append(
            f"| {s} | "
            + " | ".join(str(v) for v in bits.values())
            + f" | {np.mean(list(bits.values())):.2f} |"
        )
    out[f"Learned weight bits per layer (budget {bw.target_bits}, start {bw.max_bits})"] = (
        "\n".join(rows)
    )
    rows = [
        "| bit-cost weight | test error (%) | param-weighted bits | per-layer bits by seed |",
        "|---|---|---|---|",
    ]
    for lam in bw.penalties:
        arm = f"bits/learned_l{lam:g}"
        per = [r.artifacts["per_layer"] for r in results.of_arm(arm)]
        rows.append(
            f"| {lam:g} | {_fmt(arms[arm]['eval/test_error'])} | "
            f"{_fmt(arms[arm]['bits/param_weighted'])} | "
            + "; ".join("/".join(str(v) for v in p.values()) for p in per)
            + " |"
        )
    out["Bit-cost sweep (each weight trains its own gates, then fine-tunes the fixed bits)"] = (
        "\n".join(rows)
    )
    lo, hi = bw.target_bits - 1, bw.target_bits
    rows = [
        f"| training | seed | learned bits a | learned error | uniform {lo}-bit | uniform "
        f"{hi}-bit | uniform at a (interpolated) |",
        "|---|---|---|---|---|---|---|",
    ]

    def err(arm: str) -> list[float]:
        return arms[arm]["eval/test_error"]

    for label, arm, base in (
        ("fine-tuned", "bits/learned", "bits/uniform"),
        ("from scratch", "bits/learned_scratch", "bits/uniform_scratch"),
    ):
        if f"{base}_equal_bits" not in arms:
            continue
        cols = zip(
            arms[arm]["bits/param_weighted"],
            err(arm),
            err(f"{base}_lo"),
            err(base),
            err(f"{base}_equal_bits"),
        )
        for s, (a, e, e_lo, e_hi, e_eq) in zip(cfg.seeds, cols):
            rows.append(
                f"| {label} | {s} | {a:.2f} | {e:.2f} | {e_lo:.2f} | {e_hi:.2f} | {e_eq:.2f} |"
            )
    out[
        "Learned vs uniform bits at equal average bits (test error %; the uniform error "
        f"interpolated linearly in bits between {lo} and {hi} at the learned average a)"
    ] = "\n".join(rows)
    return out


def notes(results: Results) -> str:
    cfg: Config = results.config
    q, t = cfg.quant, cfg.train
    first, last = first_last_layers(cfg.model)
    return (
        f"Data: {cfg.data.dataset}, train_size={cfg.data.train_size or 'all'}, "
        f"test_size={cfg.data.test_size or 'all'}; model {cfg.model}. Every quantized arm "
        f"fine-tunes the FP32 model of its seed for {t.quant_epochs} epochs (FP32: "
        f"{t.fp_epochs} epochs). First layer ({first}): {q.first_last_bits}-bit weights, float "
        f"image input; last layer ({last}): {q.first_last_bits}-bit weights and input; hidden "
        f"layers at the stated W/A bits. DropBits rate p={q.drop_rate:g}; RQ temperature "
        f"{q.rq_temperature_start:g} -> {q.rq_temperature_end:g}; CPQ sigma/step ceiling "
        f"{q.noise_ratio:.3g} -> {q.noise_ratio_end:g} over the first "
        f"{q.noise_anneal_fraction:g} of fine-tuning; learning rate {t.lr_schedule}. "
        "No official code exists: the "
        "method is a reconstruction (see the package README for every design choice)."
    )
