"""Figures and tables of the FedMix reproduction: accuracy per round, the λ sweep and the grid
of settings (paired differences per cell, drawn from the run's per-seed results alone)."""

from __future__ import annotations

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.claims import paired_effect
from paperzoo.core.plots import learning_curves, paired_difference

from .config import Config, describe_setting
from .train import grid_arm

__all__ = ["figures", "grid_figure", "grid_rows", "lambda_figure", "notes", "tables"]

# The grid's comparisons: (better, worse, the ClaimConfig field of its final-accuracy threshold)
_GRID_PAIRS = (
    ("fedmix", "fedavg", "min_effect"),
    ("fedmix", "naivemix", "min_effect_naivemix"),
    ("naivemix", "fedavg", "min_effect_naivemix_fedavg"),
)
_NAMES = {"fedavg": "FedAvg", "naivemix": "NaiveMix", "fedmix": "FedMix"}


def figures(results: Results, run_dir: RunDir) -> None:
    """Test accuracy per round, one panel per data set (mean over seeds, band min..max); the
    paired difference to FedAvg per round; the FedMix λ sensitivity."""
    cfg = results.config
    lambda_figure(results, run_dir)
    grid_figure(results, run_dir)
    for ds in cfg.datasets:
        arms = [a for a in cfg.arms if f"{ds}/{a}" in results.arms]
        x = cfg.eval_rounds()
        learning_curves(
            run_dir.figure(f"accuracy_vs_round_{ds}"),
            {
                a: (x, np.array([r.artifacts["acc"] for r in results.of_arm(f"{ds}/{a}")]))
                for a in arms
            },
            xlabel="round",
            ylabel="test accuracy",
            title=f"{ds}: mean over {len(cfg.seeds)} seeds, band = min..max",
        )
        if "fedavg" in arms and len(arms) > 1:
            # The arms' curves lie within each other's seed noise; the paired difference to
            # FedAvg (same seed = same partition and client sampling) is what the claims judge.
            paired_difference(
                run_dir.figure(f"accuracy_minus_fedavg_{ds}"),
                x,
                {a: [r.artifacts["acc"] for r in results.of_arm(f"{ds}/{a}")] for a in arms},
                "fedavg",
                xlabel="round",
                ylabel="test accuracy",
                title=f"{ds}: paired difference to FedAvg (mean, CI95 over seeds)",
            )


def _per_seed(results: Results, arm: str, metric: str) -> dict[int, float]:
    """``{seed: value}`` of ``metric`` over the units of ``arm`` (main or aux)."""
    return {
        r.seed: float(r.metrics[metric])
        for r in results.units.values()
        if r.arm == arm and metric in r.metrics
    }


def _paired(a: dict[int, float], b: dict[int, float]) -> tuple[float, float, int] | None:
    """Mean of ``a - b`` over the seeds both have, its CI95 half-width (inf for one seed) and
    the seed count (``paperzoo.core.paired_effect``, what the claims use)."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    e = paired_effect([a[s] for s in seeds], [b[s] for s in seeds])
    return e.mean, e.high - e.mean, e.n


def _drops(results: Results, arm: str) -> dict[int, float]:
    """``{seed: final accuracy below the best}`` of ``arm``: ``test/drop_from_best`` where the
    run recorded it, else best single evaluation minus final (runs from before the metric: an
    upper bound of it)."""
    out = _per_seed(results, arm, "test/drop_from_best")
    if out:
        return out
    best = _per_seed(results, arm, "test/best_acc")
    fin = _per_seed(results, arm, "test/final_acc")
    return {s: best[s] - fin[s] for s in best if s in fin}


def _mean(values: dict[int, float]) -> float:
    return float(np.mean(list(values.values())))


def _fmt(p: tuple[float, float, int] | None) -> str:
    if p is None:
        return "-"
    mean, half, n = p
    return f"{mean:+.4f} ± {half:.4f} (n={n})" if np.isfinite(half) else f"{mean:+.4f} (n=1)"


def _lam_points(results: Results) -> list[tuple[float, str]]:
    """(λ, arm name) of FedMix on the first data set: the main arm and the sweep's arms."""
    cfg: Config = results.config
    ds = cfg.datasets[0]
    pts = [(float(cfg.fl.fedmix_lam), f"{ds}/fedmix")] if f"{ds}/fedmix" in results.arms else []
    pts += [(float(lam), f"sweep/{ds}/fedmix_lam{lam:g}") for lam in cfg.lam_sweep]
    return sorted(pts)


def lambda_figure(results: Results, run_dir: RunDir) -> None:
    """FedMix λ sensitivity: paired final-accuracy difference to FedAvg (and NaiveMix's, as a
    band) against λ, mean and CI95 over the paired seeds."""
    from paperzoo.core.plots import new_figure, save_figure

    cfg: Config = results.config
    ds = cfg.datasets[0]
    pts = _lam_points(results)
    base = _per_seed(results, f"{ds}/fedavg", "test/final_acc")
    if len(pts) < 2 or not base:
        return
    fig, axes = new_figure(size=(5.0, 3.5))
    ax = axes[0, 0]
    ax.axhline(0.0, color="k", lw=0.8, label="= FedAvg")
    nm = _paired(_per_seed(results, f"{ds}/naivemix", "test/final_acc"), base)
    if nm is not None:
        lo, hi = nm[0] - min(nm[1], 1.0), nm[0] + min(nm[1], 1.0)
        ax.axhspan(lo, hi, color="C1", alpha=0.15)
        ax.axhline(nm[0], color="C1", lw=1, label=f"NaiveMix (λ={cfg.fl.naivemix_lam:g})")
    xs, ms, hs = [], [], []
    for lam, arm in pts:
        p = _paired(_per_seed(results, arm, "test/final_acc"), base)
        if p is not None:
            xs.append(lam)
            ms.append(p[0])
            hs.append(p[1] if np.isfinite(p[1]) else 0.0)
    ax.errorbar(xs, ms, yerr=hs, fmt="o-", capsize=3, color="C0", label="FedMix(λ)")
    ax.set(xlabel="FedMix λ", ylabel="final accuracy - FedAvg (paired)")
    ax.set_title(f"{ds}: λ sensitivity, mean and CI95 over paired seeds", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, run_dir.figure(f"lambda_sensitivity_{ds}"))


def grid_rows(results: Results, ds: str) -> list[dict]:
    """One row per setting of ``ds`` (the preset's own first, then each grid cell whose arms
    ran): its description and, per comparison of ``_GRID_PAIRS``, the paired final-accuracy
    difference (mean, CI95 half-width, seeds) from ``results.arms`` (per-seed lists in the
    run's seed order, so a committed ``results.json`` is enough)."""
    cfg: Config = results.config
    rows = []
    for cell in ["", *cfg.grid]:
        here = cfg.grid[cell].apply(cfg) if cell else cfg
        fin = {
            a: results.arms[grid_arm(cell, ds, a)]["test/final_acc"]
            for a in _NAMES
            if grid_arm(cell, ds, a) in results.arms
        }
        if len(fin) < 2:
            continue
        diffs = {}
        for better, worse, _ in _GRID_PAIRS:
            if better in fin and worse in fin:
                e = paired_effect(fin[better], fin[worse])
                diffs[(better, worse)] = (e.mean, e.high - e.mean, e.n)
        rows.append(
            {
                "cell": cell or "preset (headline)",
                "setting": describe_setting(here),
                "means": {a: float(np.mean(v)) for a, v in fin.items()},
                "diffs": diffs,
            }
        )
    return rows


def grid_figure(results: Results, run_dir: RunDir) -> None:
    """The grid of settings, one panel per data set: per setting (x), the paired final-accuracy
    difference of each comparison (mean and CI95 over seeds), with each comparison's
    pre-registered threshold as a dashed line. Only when the config has a grid."""
    from paperzoo.core.plots import new_figure, save_figure

    cfg: Config = results.config
    if not cfg.grid:
        return
    for ds in cfg.datasets:
        rows = grid_rows(results, ds)
        if not rows:
            continue
        fig, axes = new_figure(size=(1.3 * len(rows) + 2.5, 3.8))
        ax = axes[0, 0]
        width = 0.8 / len(_GRID_PAIRS)
        ax.axhline(0.0, color="k", lw=0.8)
        for k, (better, worse, field) in enumerate(_GRID_PAIRS):
            pts = [
                (i, *r["diffs"][(better, worse)])
                for i, r in enumerate(rows)
                if (better, worse) in r["diffs"]
            ]
            if not pts:
                continue
            xs = np.array([p[0] for p in pts]) + (k - 1) * width
            half = [p[2] if np.isfinite(p[2]) else 0.0 for p in pts]
            label = f"{_NAMES[better]} - {_NAMES[worse]}"
            ax.errorbar(xs, [p[1] for p in pts], yerr=half, fmt="o", capsize=3, color=f"C{k}",
                        label=label)  # fmt: skip
            ax.axhline(getattr(cfg.claims, field), color=f"C{k}", ls="--", lw=0.8)
        ax.set_xticks(range(len(rows)), [f"{r['cell']}\n{r['setting']}" for r in rows], fontsize=6)
        ax.set(xlabel="setting (grid cell)", ylabel="final accuracy difference (paired)")
        ax.set_title(
            f"{ds}: paired differences, mean and CI95 over {len(results.seeds)} seeds "
            "(dashed: thresholds)",
            fontsize=9,
        )
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
        save_figure(fig, run_dir.figure(f"grid_{ds}"))


def _grid_table(results: Results, ds: str) -> str:
    rows = grid_rows(results, ds)
    head = (
        "| cell | setting | FedAvg / NaiveMix / FedMix (final, mean) | "
        + " | ".join(f"{_NAMES[b]} - {_NAMES[w]} (CI95)" for b, w, _ in _GRID_PAIRS)
        + " |"
    )
    out = [head, "|---|---|---|" + "---|" * len(_GRID_PAIRS)]
    for r in rows:
        means = " / ".join(f"{r['means'][a]:.4f}" if a in r["means"] else "-" for a in _NAMES)
        diffs = " | ".join(_fmt(r["diffs"].get((b, w))) for b, w, _ in _GRID_PAIRS)
        out.append(f"| {r['cell']} | {r['setting']} | {means} | {diffs} |")
    return "\n".join(out)


def tables(results: Results) -> dict[str, str]:
    """The FedMix λ sensitivity and the cost of differentially private means, both against
    the main arms on the same (paired) seeds, when the preset runs them."""
    cfg: Config = results.config
    ds = cfg.datasets[0]
    out: dict[str, str] = {}
    if cfg.grid:
        for d in cfg.datasets:
            out[f"Grid of settings on {d} (paired final-accuracy differences)"] = _grid_table(
                results, d
            )
    fedavg = _per_seed(results, f"{ds}/fedavg", "test/final_acc")
    naive = _per_seed(results, f"{ds}/naivemix", "test/final_acc")
    pts = _lam_points(results)
    if len(pts) > 1:
        rows = [
            "| FedMix λ | final acc (mean over seeds) | AUC | - FedAvg (final, CI95) "
            "| - NaiveMix (final, CI95) | collapsed seeds |",
            "|---|---|---|---|---|---|",
        ]
        for lam, arm in pts:
            fin = _per_seed(results, arm, "test/final_acc")
            auc = _per_seed(results, arm, "test/auc")
            if not fin:
                continue
            drops = _drops(results, arm)
            bad = sum(d > cfg.claims.max_drop_from_best for d in drops.values())
            rows.append(
                f"| {lam:g}{' (main)' if arm == f'{ds}/fedmix' else ''} "
                f"| {_mean(fin):.4f} | {_mean(auc):.4f} "
                f"| {_fmt(_paired(fin, fedavg))} | {_fmt(_paired(fin, naive))} "
                f"| {bad} of {len(drops)} |"
            )
        out[f"FedMix λ sensitivity on {ds} (paired seeds)"] = "\n".join(rows)
    if cfg.dp_epsilons:
        exact = _per_seed(results, f"{ds}/fedmix", "test/final_acc")
        rows = [
            "| means | σ per coordinate | final acc | - exact-means FedMix (CI95) "
            "| - FedAvg (CI95) |",
            "|---|---|---|---|---|",
        ]
        if exact:
            rows.append(
                f"| exact (no DP) | 0 | {_mean(exact):.4f} | 0 | {_fmt(_paired(exact, fedavg))} |"
            )
        for eps in cfg.dp_epsilons:
            arm = f"dp/{ds}/fedmix_eps{eps:g}"
            fin = _per_seed(results, arm, "test/final_acc")
            sig = _per_seed(results, arm, "dp/sigma")
            if not fin:
                continue
            rows.append(
                f"| (ε={eps:g}, δ={cfg.fl.mean_dp_delta:g})-DP | "
                f"{_mean(sig):.3f} | {_mean(fin):.4f} "
                f"| {_fmt(_paired(fin, exact))} | {_fmt(_paired(fin, fedavg))} |"
            )
        out[f"FedMix with differentially private means on {ds} (paired seeds)"] = "\n".join(rows)
    return out


def notes(results: Results) -> str:
    cfg: Config = results.config
    fl, d = cfg.fl, cfg.data
    return (
        f"Settings: {d.num_clients} clients, {fl.clients_per_round} per round, "
        f"partition={d.partition} (classes_per_client={d.classes_per_client}), "
        f"{fl.num_rounds} rounds, {fl.local_epochs} local epoch(s), batch {fl.batch_size}, lr "
        f"{fl.learning_rate} x{fl.learning_rate_decay}/round, M_k={fl.mean_batch_size or 'all'}; "
        f"λ: FedMix {fl.fedmix_lam}, NaiveMix {fl.naivemix_lam}, global mixup "
        f"{fl.global_mixup_lam}; FedProx μ={fl.proximal_mu}; model {cfg.model}; "
        f"train subsample {d.num_train or 'all'}, test {d.num_test or 'all'}; "
        f"engine {fl.engine}. global_mixup shares raw samples (non-private upper reference). "
        f"DP means: {', '.join(f'ε={e:g}' for e in cfg.dp_epsilons) or 'none'} at "
        f"δ={fl.mean_dp_delta:g} (Gaussian mechanism per shared mean). "
        f"`test/auc` = mean test accuracy over the evaluated rounds (every {cfg.eval_every}); "
        "`test/acc_change` = the convergence gate's relative change over the last 20% of rounds; "
        "`test/drop_from_best` = the collapse gate's best window mean minus the final accuracy "
        f"(windows of {cfg.final_rounds} evaluations)."
        + (
            " Grid cells (secondary claims, paired by seed with the preset's setting): "
            + "; ".join(f"{n}: {c.describe(cfg)}" for n, c in cfg.grid.items())
            + "."
            if cfg.grid
            else ""
        )
    )
