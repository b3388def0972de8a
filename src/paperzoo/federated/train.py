"""FedMix reproduction: FedAvg, FedProx, NaiveMix, FedMix and global mixup on non-IID clients.

Each (data set, arm, seed) is one resumable unit: build the federation, run Flower's server loop
(in process, or on Flower's Ray simulation engine), record the server's test accuracy after every
round. Claims compare the final accuracy (mean of the last ``final_rounds`` rounds).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from paperzoo.core import Claim, Outcome, RunDir, seed_everything
from paperzoo.core.device import torch_threads
from paperzoo.core.plots import learning_curves

from .config import ARMS, Config
from .federation import Federation, build_federation

__all__ = ["run", "run_arm"]


def run_arm(fed: Federation, arm: str, log: Any = None) -> dict[str, Any]:
    """Train one arm on one federation; returns per-round test accuracy and drop counts."""
    from .simulation import run_flower_simulation, run_in_process

    cfg = fed.cfg
    acc: dict[int, float] = {}

    def on_round(r: int, loss: float, a: float) -> None:
        if not np.isfinite(loss):
            raise FloatingPointError(f"{arm}: non-finite test loss after round {r}")
        acc[r] = a
        if log is not None:
            log({"event": "round", "arm": arm, "round": r, "test/loss": loss, "test/acc": a})

    seed_everything(fed.seed)
    strategy = fed.strategy(
        arm,
        evaluate_fn=fed.evaluate_fn(on_round),
        on_event=(lambda rec: log({**rec, "arm": arm})) if log is not None else None,
    )
    timeout = cfg.fl.round_timeout or None
    start = time.perf_counter()
    runner = run_in_process if cfg.fl.engine == "in_process" else run_flower_simulation
    runner(strategy, fed.client_fn(arm), fed.num_clients, cfg.fl.num_rounds, round_timeout=timeout)
    curve = [acc[r] for r in sorted(acc) if r >= 1]
    if len(curve) != cfg.fl.num_rounds:
        raise RuntimeError(f"{arm}: evaluated {len(curve)} of {cfg.fl.num_rounds} rounds")
    k = min(cfg.final_rounds, len(curve))
    return {
        "acc": curve,
        "final_acc": float(np.mean(curve[-k:])),
        "best_acc": float(np.max(curve)),
        "dropped": len(strategy.dropped),
        "seconds": time.perf_counter() - start,
    }


def _claim(ds: str, arms: dict, better: str, worse: str, n_final: int) -> Claim:
    a = np.array(arms[f"{ds}/{better}"]["test/final_acc"])
    b = np.array(arms[f"{ds}/{worse}"]["test/final_acc"])
    d = a - b
    return Claim(
        f"{ds}_{better}_beats_{worse}",
        f"{ds}: {better}'s final accuracy (mean of the last {n_final} rounds, seed-mean) "
        f"exceeds {worse}'s",
        bool(a.mean() > b.mean()),
        f"{better} {a.mean():.4f} vs {worse} {b.mean():.4f} (diff {d.mean():+.4f}; per seed "
        f"{', '.join(f'{v:+.4f}' for v in d)}; {len(d)} seeds)",
    )


def run(config: Config, run_dir: RunDir) -> Outcome:
    """Run the preset with ``config.num_threads`` torch threads (restored afterwards)."""
    with torch_threads(config.num_threads):
        return _run(config, run_dir)


def _run(config: Config, run_dir: RunDir) -> Outcome:
    import logging

    logging.getLogger("flwr").setLevel(logging.WARNING)  # per-round lines go to metrics.jsonl
    unknown = [a for a in config.arms if a not in ARMS]
    if unknown:
        raise ValueError(f"unknown arms {unknown}; choose from {ARMS}")
    curves: dict[str, dict[str, list[list[float]]]] = {}
    arms: dict[str, dict[str, list[float]]] = {}
    walls: dict[str, list[float]] = {}  # wall time is not a metric: it differs between runs

    # --- main grid: data set x arm x seed -----------------------------------------------------
    for ds in config.datasets:
        for seed in config.seeds:
            fed = None
            for arm in config.arms:

                def work(arm: str = arm, seed: int = seed, ds: str = ds) -> dict[str, Any]:
                    nonlocal fed
                    fed = fed or build_federation(config, ds, seed, run_dir.data_root)
                    return run_arm(fed, arm, lambda r: run_dir.log({"dataset": ds, **r}))

                res = run_dir.unit(f"{ds}/{arm}/seed{seed}", work)
                key = f"{ds}/{arm}"
                curves.setdefault(ds, {}).setdefault(arm, []).append(res["acc"])
                m = arms.setdefault(key, {})
                for name in ("final_acc", "best_acc"):
                    m.setdefault(f"test/{name}", []).append(res[name])
                m.setdefault("dropped_clients", []).append(float(res["dropped"]))
                walls.setdefault(key, []).append(float(res["seconds"]))
                print(f"{key} seed {seed}: final {res['final_acc']:.4f} ({res['seconds']:.0f} s)")

    # --- FedMix lambda sweep on the first data set ----------------------------------------------
    sweep_rows = []
    if config.lam_sweep:
        ds = config.datasets[0]
        for lam in config.lam_sweep:
            finals = []
            for seed in config.seeds[: config.lam_sweep_seeds]:
                cfg = dataclasses.replace(
                    config, fl=dataclasses.replace(config.fl, fedmix_lam=float(lam))
                )

                def work(cfg: Config = cfg, seed: int = seed, lam: float = lam) -> dict[str, Any]:
                    fed = build_federation(cfg, ds, seed, run_dir.data_root)
                    log = lambda r: run_dir.log({"dataset": ds, "lam": lam, **r})  # noqa: E731
                    return run_arm(fed, "fedmix", log)

                res = run_dir.unit(f"sweep/{ds}/fedmix_lam{lam:g}/seed{seed}", work)
                finals.append(res["final_acc"])
            sweep_rows.append((lam, finals))

    # --- figures, claims, tables --------------------------------------------------------------
    for ds, per_arm in curves.items():
        x = list(range(1, config.fl.num_rounds + 1))
        learning_curves(
            run_dir.figure(f"accuracy_vs_round_{ds}"),
            {arm: (x, np.array(v)) for arm, v in per_arm.items()},
            xlabel="round",
            ylabel="test accuracy",
            title=f"{ds}: mean over {len(config.seeds)} seeds, band = min..max",
        )
    claims = []
    for ds in config.datasets:
        for worse in ("fedavg", "naivemix"):
            if "fedmix" in config.arms and worse in config.arms:
                claims.append(_claim(ds, arms, "fedmix", worse, config.final_rounds))
    tables = {}
    if sweep_rows:
        main = {
            a: np.mean(
                arms[f"{config.datasets[0]}/{a}"]["test/final_acc"][: config.lam_sweep_seeds]
            )
            for a in ("fedavg", "naivemix")
            if a in config.arms
        }
        rows = [
            "| FedMix λ | final acc (per seed) | mean | vs FedAvg | vs NaiveMix |",
            "|---|---|---|---|---|",
        ]
        for lam, finals in sweep_rows:
            mu = float(np.mean(finals))
            vs = [f"{mu - main[a]:+.4f}" if a in main else "-" for a in ("fedavg", "naivemix")]
            per_seed = ", ".join(f"{v:.4f}" for v in finals)
            rows.append(f"| {lam:g} | {per_seed} | {mu:.4f} | {vs[0]} | {vs[1]} |")
        tables[f"FedMix λ sweep on {config.datasets[0]} ({config.lam_sweep_seeds} seed(s))"] = (
            "\n".join(rows)
        )
    rows = ["| arm | wall seconds per seed |", "|---|---|"]
    rows += [f"| {k} | {', '.join(f'{v:.0f}' for v in w)} |" for k, w in walls.items()]
    tables["Wall time per unit (shared machine)"] = "\n".join(rows)
    fl = config.fl
    notes = (
        f"Settings: {config.data.num_clients} clients, {fl.clients_per_round} per round, "
        f"partition={config.data.partition} (classes_per_client={config.data.classes_per_client}), "
        f"{fl.num_rounds} rounds, {fl.local_epochs} local epoch(s), batch {fl.batch_size}, lr "
        f"{fl.learning_rate} x{fl.lr_decay}/round, M_k={fl.mean_batch_size or 'all'}; "
        f"λ: FedMix {fl.fedmix_lam}, NaiveMix {fl.naivemix_lam}, global mixup "
        f"{fl.global_mixup_lam}; FedProx μ={fl.proximal_mu}; model {config.model}; "
        f"train subsample {config.data.num_train or 'all'}, test {config.data.num_test or 'all'}; "
        f"engine {fl.engine}. global_mixup shares raw samples (non-private upper reference)."
    )
    return Outcome(arms=arms, claims=claims, notes=notes, tables=tables)
