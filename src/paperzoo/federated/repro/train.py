"""FedMix reproduction units: one (data set, arm, seed) federation trained with Flower's server
loop, the same in every cell of an optional grid of settings, plus optional FedMix λ-sweep and
private-means units.

Every arm of a (data set, cell, seed) sees the same partition, initial weights and client
sampling.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from paperzoo.core import (
    Unit,
    UnitContext,
    relative_change,
    seed_everything,
)

from .config import ARMS, Config
from .federation import Federation, build_federation

__all__ = [
    "drop_from_best",
    "grid_arm",
    "preflight",
    "run_arm",
    "run_unit",
    "units",
]


def grid_arm(cell: str, ds: str, arm: str) -> str:
    """The arm name of ``arm`` on ``ds`` in grid cell ``cell`` ("": the preset's own setting)."""
    return f"grid/{cell}/{ds}/{arm}" if cell else f"{ds}/{arm}"


def drop_from_best(curve: list[float], k: int) -> float:
    """How far the final accuracy (mean of the last ``k`` evaluations) lies below the best
    mean of ``k`` consecutive evaluations: 0 for a curve that ends at its best, large for one
    that learned and then collapsed. Windows, not single evaluations, so that one lucky
    evaluation of a noisy curve does not count as a best the run later lost."""
    v = np.asarray(curve, dtype=float)
    k = max(1, min(k, len(v)))
    windows = np.convolve(v, np.ones(k) / k, mode="valid")
    return float(windows.max() - windows[-1])


# FedMix's local step costs 2.2x FedAvg's (README, Benchmarks: the forward-mode Taylor term;
# 3.4x with double backprop before 2026-12-08); the others ~1x.
_STEP_COST = {"fedmix": 2.2}


def _cost(cfg: Config, arm: str) -> float:
    """Relative run time of a unit (the scheduler starts the longest first): local steps per
    round (epochs x data per client) times the arm's cost per step."""
    per_client = (cfg.data.num_train or 60000) / cfg.data.num_clients
    return _STEP_COST.get(arm, 1.0) * cfg.fl.local_epochs * per_client / 100


def run_arm(fed: Federation, arm: str, log: Any = None) -> dict[str, Any]:
    """Train one arm on one federation; returns the test accuracy of every evaluated round
    (``cfg.eval_rounds()``) and drop counts."""
    import logging

    from ..simulation import run_flower_simulation, run_in_process

    # Flower sets its own INFO level on import; per-round lines go to metrics.jsonl instead
    # (`paperzoo reproduce --verbose` keeps Flower's lines).
    if not os.environ.get("PAPERZOO_VERBOSE"):
        logging.getLogger("flwr").setLevel(logging.WARNING)
    cfg = fed.cfg
    acc: dict[int, float] = {}

    def on_round(r: int, loss: float, a: float) -> None:
        if not np.isfinite(loss):
            raise FloatingPointError(f"{arm}: non-finite test loss after round {r}")
        acc[r] = a
        if log is not None:
            log({"event": "round", "round": r, "test/loss": loss, "test/acc": a})

    seed_everything(fed.seed)  # whether or not building the federation used the global RNG
    strategy = fed.strategy(
        arm,
        evaluate_fn=fed.evaluate_fn(on_round),
        on_event=(lambda rec: log({**rec, "arm": arm})) if log is not None else None,
    )
    timeout = cfg.fl.round_timeout or None
    start = time.perf_counter()
    runner = run_in_process if cfg.fl.engine == "in_process" else run_flower_simulation
    runner(strategy, fed.client_fn(arm), fed.num_clients, cfg.fl.num_rounds, round_timeout=timeout)
    rounds = cfg.eval_rounds()
    if sorted(r for r in acc if r >= 1) != rounds:
        raise RuntimeError(f"{arm}: evaluated rounds {sorted(acc)}, expected {rounds}")
    curve = [acc[r] for r in rounds]
    k = min(cfg.final_rounds, len(curve))
    sigmas = [float(v["dp_sigma"]) for v in strategy.mean_info.values() if "dp_sigma" in v]
    return {
        "dp_sigma": float(np.mean(sigmas)) if sigmas else None,
        "acc": curve,
        "final_acc": float(np.mean(curve[-k:])),
        "best_acc": float(np.max(curve)),
        "dropped": len(strategy.dropped),
        "seconds": time.perf_counter() - start,
    }


def preflight(cfg: Config, data_root: Any) -> None:
    """Load every data set once, so a missing one fails before any unit runs."""
    from paperzoo.datasets import load_images

    for ds in cfg.datasets:
        if ds != "synthetic":
            load_images(ds, data_root)


def _aux(cfg: Config) -> dict[str, tuple[str, list[float], int, str]]:
    """Aux FedMix units on the first data set: unit parameter -> (arm name format, values,
    seeds, the ``fl`` field it sets)."""
    return {
        "lam": ("sweep/{ds}/fedmix_lam{v:g}", cfg.lam_sweep, cfg.lam_sweep_seeds, "fedmix_lam"),
        "dp_epsilon": (
            "dp/{ds}/fedmix_eps{v:g}",
            cfg.dp_epsilons,
            cfg.dp_seeds,
            "mean_dp_epsilon",
        ),
    }


def units(cfg: Config) -> list[Unit]:
    """Data set x arm x seed in the preset's setting and in every grid cell (claimed), then
    the λ sweep and the private-means arms (aux units: reported, not part of the claims)."""
    unknown = [a for a in cfg.arms if a not in ARMS]
    if unknown:
        raise ValueError(f"unknown arms {unknown}; choose from {ARMS}")
    out = []
    for cell in ["", *cfg.grid]:
        extra = {"cell": cell} if cell else {}
        here = cfg.grid[cell].apply(cfg) if cell else cfg
        out += [
            Unit(
                f"{grid_arm(cell, ds, arm)}/seed{s}",
                grid_arm(cell, ds, arm),
                s,
                {"dataset": ds, "arm": arm, **extra},
                cost=_cost(here, arm),
            )
            for ds in cfg.datasets
            for s in cfg.seeds
            for arm in cfg.arms
        ]
    ds = cfg.datasets[0]
    for key, (fmt, values, n_seeds, _field) in _aux(cfg).items():
        for v in values:
            name = fmt.format(ds=ds, v=v)
            params = {"dataset": ds, "arm": "fedmix", key: float(v)}
            out += [
                Unit(f"{name}/seed{s}", name, s, params, role="aux", cost=_cost(cfg, "fedmix"))
                for s in cfg.seeds[:n_seeds]
            ]
    return out


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    """One federation of ``unit.params['arm']`` (a Flower server loop over all rounds)."""
    import dataclasses

    p = unit.params
    if p.get("cell"):
        cfg = cfg.grid[p["cell"]].apply(cfg)
    overrides = {fld: p[key] for key, (*_, fld) in _aux(cfg).items() if key in p}
    if overrides:
        cfg = dataclasses.replace(cfg, fl=dataclasses.replace(cfg.fl, **overrides))
    key = (
        "federated",
        p["dataset"],
        unit.seed,
        repr(cfg.data),
        cfg.model,
        cfg.model_width,
        str(ctx.data_root),
    )
    fed = ctx.cache(key, lambda: build_federation(cfg, p["dataset"], unit.seed, ctx.data_root))
    fed = dataclasses.replace(fed, cfg=cfg)  # the cached data and partition, this unit's settings
    res = run_arm(fed, p["arm"], ctx.log)
    ctx.artifact("acc", res["acc"])
    return {
        "test/final_acc": res["final_acc"],
        "test/best_acc": res["best_acc"],
        # Area under the accuracy curve (evaluated rounds, evenly spaced), normalised.
        "test/auc": float(np.mean(res["acc"])),
        "test/acc_change": relative_change(res["acc"]),
        # The collapse gate's measure: final accuracy below the run's best (claims.py).
        "test/drop_from_best": drop_from_best(res["acc"], cfg.final_rounds),
        "dropped_clients": float(res["dropped"]),
        # σ of the Gaussian noise on each shared mean (private-means arms only)
        **({"dp/sigma": res["dp_sigma"]} if res["dp_sigma"] is not None else {}),
    }
