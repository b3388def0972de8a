"""Reproduction runner: meta-train NC per (regime, seed), then evaluate it on held-out tasks.

For each regime (official: 10 points, 16 steps; overfit: 5 points, 48 steps) and seed:
1. meta-train NC on sinusoid learners with the official loop (memory bank, NC regression, NC
   added to the learners' loss after the warm-up);
2. gap prediction on held-out learner trajectories: Pearson R and MAE of NC vs simple predictors
   (train loss, parameter norm, hand-designed measures, affinely calibrated on validation tasks);
3. test MSE of held-out learners trained with no regulariser, tuned L2, tuned dropout, tuned
   hand-designed measures, and NC (official weight 1, untuned).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from paperzoo.core import Claim, Outcome, RunDir, make_generator, seed_everything
from paperzoo.core.device import torch_threads
from paperzoo.core.results import ci95

from .baselines import measure_penalty
from .config import Config, RegimeConfig
from .learners import LearnerMLP, Params, Penalty, init_learner_params, train_learners
from .model import NeuralComplexity
from .tasks import PolynomialTasks, RegressionTasks, SinusoidTasks
from .trainer import NeuralComplexityTrainer, collect_snapshots, gap_prediction_metrics, nc_penalty

__all__ = ["run"]

_REGIME_INDEX = {"official": 0, "overfit": 1}
_SCATTER_POINTS = 800


def _nc_predict(
    nc: NeuralComplexity, snaps: dict[str, torch.Tensor], chunk: int = 2048
) -> torch.Tensor:
    out = []
    with torch.no_grad():
        for i in range(0, snaps["gap"].shape[0], chunk):
            tr_xyp = snaps["tr_xyp"][i : i + chunk]
            out.append(
                nc.forward_snapshot(snaps["te_xp"][i : i + chunk], tr_xyp[..., [0, 2]], tr_xyp)
            )
    return torch.cat(out)


def _affine_mae(
    val_x: torch.Tensor, val_gap: torch.Tensor, x: torch.Tensor, gap: torch.Tensor
) -> float:
    """MAE of a simple predictor after an affine fit gap ~ a x + b on the validation snapshots."""
    a, b = np.polyfit(val_x.double().numpy(), val_gap.double().numpy(), 1)
    return float(np.abs(a * x.double().numpy() + b - gap.double().numpy()).mean())


def _meta_train(
    config: Config, regime: str, seed: int, run_dir: RunDir
) -> tuple[NeuralComplexity, LearnerMLP, SinusoidTasks]:
    rc: RegimeConfig = getattr(config, regime)
    mc, ncc, lc = config.meta, config.nc, config.learner
    # NC's initialisation uses the global RNG (nn.Linear defaults). The kernels used here are
    # deterministic on CPU, and asking torch for determinism imports torch._dynamo (seconds).
    seed_everything(seed, deterministic=run_dir.device.type != "cpu")
    nc = NeuralComplexity(
        ncc.hidden_dim, ncc.encoder_depth, ncc.decoder_depth, ncc.num_heads, ncc.pool
    )
    learner = LearnerMLP(lc.hidden_dim, lc.num_layers, lc.activation)
    dist = SinusoidTasks(rc.num_train, rc.num_test)
    trainer = NeuralComplexityTrainer(
        nc,
        dist,
        learner,
        batch_size=mc.batch_size,
        task_batch_size=mc.task_batch_size,
        learning_rate=mc.learning_rate,
        inner_steps=rc.inner_steps,
        inner_learning_rate=rc.inner_learning_rate,
        nc_weight=mc.nc_weight,
        learn_every=rc.learn_every,
        warmup_steps=mc.warmup_steps,
        memory_capacity=mc.memory_capacity,
        generator=make_generator(seed * 100 + _REGIME_INDEX[regime]),
    )
    key = f"{regime}_seed{seed}"
    state = run_dir.load_checkpoint(key)
    if state is not None:
        trainer.load_state_dict(state)
    else:
        trainer.populate(mc.populate_batches)
    losses: list[float] = []
    steps = range(trainer.global_step, mc.num_steps)
    bar = run_dir.progress(steps, total=len(steps), desc=f"NC {regime} seed {seed}")
    for _ in bar:
        m = trainer.step()
        losses.append(m["loss"])
        step = trainer.global_step
        if step % mc.log_every == 0 or step == mc.num_steps:
            rec = {"regime": regime, "seed": seed, "step": step, "nc/loss": float(np.mean(losses))}
            rec["memory"] = len(trainer.memory)
            run_dir.log(rec)
            bar.set_postfix(loss=rec["nc/loss"])
            losses = []
        if step % mc.checkpoint_every == 0 or step == mc.num_steps:
            # the final one lets a resumed run skip meta-training if evaluation was interrupted
            run_dir.save_checkpoint(key, trainer.state_dict())
    nc.eval()
    for p in nc.parameters():  # from here on NC is a fixed regulariser / predictor
        p.requires_grad_(False)
    return nc, learner, dist


def _gap_prediction(
    config: Config,
    rc: RegimeConfig,
    nc: NeuralComplexity,
    learner: LearnerMLP,
    val: tuple[RegressionTasks, Params],
    test: tuple[RegressionTasks, Params],
) -> tuple[dict[str, dict[str, float]], dict[str, list[float]]]:
    ec = config.eval
    measures = tuple(dict.fromkeys(["L2", *ec.predictors]))
    kw = dict(
        num_steps=rc.inner_steps, learning_rate=rc.inner_learning_rate, every=ec.snapshot_every
    )
    sv, _ = collect_snapshots(learner, val[1], val[0], measures=measures, **kw)
    st, _ = collect_snapshots(learner, test[1], test[0], measures=measures, **kw)
    pred = _nc_predict(nc, st)
    final = st["step"] == rc.inner_steps
    out = {"nc": gap_prediction_metrics(pred, st["gap"])}
    out["nc"]["R_final"] = gap_prediction_metrics(pred[final], st["gap"][final])["R"]
    # simple predictors: (validation, test) values; param_norm = ||theta||_2, "L2" = its square
    simple = {
        "train_loss": (sv["train_mse"], st["train_mse"]),
        "param_norm": (sv["L2"].sqrt(), st["L2"].sqrt()),
        **{m: (sv[m], st[m]) for m in ec.predictors},
    }
    for name, (xv, xt) in simple.items():
        m = gap_prediction_metrics(xt, st["gap"])
        m["mae"] = _affine_mae(xv, sv["gap"], xt, st["gap"])
        m["R_final"] = gap_prediction_metrics(xt[final], st["gap"][final])["R"]
        out[name] = m
    out["mean_gap"] = {  # a constant predictor: the validation mean gap
        "R": 0.0,
        "mae": float((st["gap"] - sv["gap"].mean()).abs().mean()),
        "R_final": 0.0,
    }
    idx = torch.linspace(0, len(pred) - 1, min(_SCATTER_POINTS, len(pred))).long()
    scatter = {"pred": pred[idx].tolist(), "gap": st["gap"][idx].tolist()}
    return out, scatter


def _regularised_arms(
    config: Config,
    rc: RegimeConfig,
    nc: NeuralComplexity,
    learner: LearnerMLP,
    val: tuple[RegressionTasks, Params],
    test: tuple[RegressionTasks, Params],
    seed: int,
) -> dict[str, dict[str, Any]]:
    ec = config.eval

    def train(
        tasks_params: tuple[RegressionTasks, Params], penalty: Penalty | None, p: float, name: str
    ):
        tasks, init = tasks_params
        return train_learners(
            learner,
            init,
            tasks,
            num_steps=rc.inner_steps,
            learning_rate=rc.inner_learning_rate,
            penalty=penalty,
            dropout=p,
            generator=make_generator(seed + 7919),  # the same dropout masks for every candidate
            name=name,
        )

    def tuned(name: str, grid: list[float], make: Callable[[float], tuple[Penalty | None, float]]):
        # pick the strength with the lowest mean final test MSE on the validation tasks
        scores = []
        for v in grid:
            pen, p = make(v)
            try:
                scores.append(float(train(val, pen, p, f"{name}={v} (val)").final_test_mse.mean()))
            except FloatingPointError:  # this strength makes some learner diverge: unusable
                scores.append(float("inf"))
        if not np.isfinite(scores).any():
            raise FloatingPointError(f"{name}: every strength in {grid} diverges on validation")
        best = grid[int(np.argmin(scores))]
        pen, p = make(best)
        return train(test, pen, p, name), best

    runs: dict[str, tuple[Any, float | None]] = {"none": (train(test, None, 0.0, "none"), None)}
    runs["l2"] = tuned("l2", ec.l2_grid, lambda v: (measure_penalty("L2", v), 0.0))
    runs["dropout"] = tuned("dropout", ec.dropout_grid, lambda v: (None, v))
    for m in ec.measures:
        runs[m] = tuned(m, ec.measure_grid, lambda v, m=m: (measure_penalty(m, v), 0.0))
    runs["nc"] = (train(test, nc_penalty(nc, ec.nc_weight), 0.0, "nc"), ec.nc_weight)
    out = {}
    for arm, (traj, hp) in runs.items():
        out[arm] = {
            "test_mse": float(traj.final_test_mse.mean()),
            "train_mse": float(traj.train_mse[-1].mean()),
            "gap": float(traj.final_gap.mean()),
            "curve": traj.test_mse.mean(1).tolist(),
            "hyper": hp,
        }
    return out


def _run_unit(config: Config, regime: str, seed: int, run_dir: RunDir) -> dict[str, Any]:
    rc: RegimeConfig = getattr(config, regime)
    ec = config.eval
    nc, learner, dist = _meta_train(config, regime, seed, run_dir)
    # --- held-out tasks: their own generator, so they do not depend on meta-training length ---
    g = make_generator(10_000 + seed * 100 + _REGIME_INDEX[regime])
    val_tasks = dist.sample(ec.num_val_tasks, g)
    val = (val_tasks, init_learner_params(learner, ec.num_val_tasks, g))
    test_tasks = dist.sample(ec.num_test_tasks, g)
    test = (test_tasks, init_learner_params(learner, ec.num_test_tasks, g))
    # --- gap prediction ---
    gap_metrics, scatter = _gap_prediction(config, rc, nc, learner, val, test)
    if ec.transfer_family == "polynomial":
        poly = PolynomialTasks(rc.num_train, rc.num_test)
        ptasks = poly.sample(ec.num_val_tasks, g)
        pinit = init_learner_params(learner, ec.num_val_tasks, g)
        sp, _ = collect_snapshots(
            learner,
            pinit,
            ptasks,
            num_steps=rc.inner_steps,
            learning_rate=rc.inner_learning_rate,
            every=ec.snapshot_every,
        )
        gap_metrics["nc@polynomial"] = gap_prediction_metrics(_nc_predict(nc, sp), sp["gap"])
    # --- test MSE with each regulariser ---
    arms = _regularised_arms(config, rc, nc, learner, val, test, seed)
    run_dir.drop_checkpoint(f"{regime}_seed{seed}")
    return {"gap": gap_metrics, "scatter": scatter, "arms": arms}


def _fmt(values: list[float]) -> str:
    ci = ci95(values)
    return f"{np.mean(values):.3g}" + ("" if ci is None else f" ± {ci:.2g}")


def _figures(config: Config, units: dict[tuple[str, int], dict], run_dir: RunDir) -> None:
    from paperzoo.core.plots import learning_curves, new_figure, save_figure

    regimes = list(config.regimes)
    fig, axes = new_figure(1, len(regimes), size=(4.5, 4.0))
    seed0 = config.seeds[0]
    for ax, regime in zip(axes[0], regimes):
        u = units[(regime, seed0)]
        pred, gap = np.asarray(u["scatter"]["pred"]), np.asarray(u["scatter"]["gap"])
        ax.scatter(gap, pred, s=4, alpha=0.4)
        lo, hi = float(min(gap.min(), pred.min())), float(max(gap.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        r = u["gap"]["nc"]["R"]
        ax.set(
            xlabel="true gap",
            ylabel="NC predicted gap",
            title=f"{regime} (seed {seed0}, R={r:.2f})",
        )
        ax.grid(alpha=0.3)
    save_figure(fig, run_dir.figure("gap_scatter"))
    for regime in regimes:
        arms = units[(regime, seed0)]["arms"]
        curves = {}
        for arm in arms:
            vals = np.array([units[(regime, s)]["arms"][arm]["curve"] for s in config.seeds])
            curves[arm] = (list(range(vals.shape[1])), vals)
        learning_curves(
            run_dir.figure(f"test_loss_{regime}"),
            curves,
            xlabel="learner SGD step",
            ylabel="held-out test MSE (mean over tasks)",
            title=f"{regime} regime",
        )


def run(config: Config, run_dir: RunDir) -> Outcome:
    """Meta-train and evaluate NC for every (regime, seed); return arms, claims and tables."""
    with torch_threads(config.num_threads):
        return _run(config, run_dir)


def _run(config: Config, run_dir: RunDir) -> Outcome:
    for regime in config.regimes:
        if regime not in _REGIME_INDEX:
            raise ValueError(f"unknown regime {regime!r}; known: {sorted(_REGIME_INDEX)}")
    units: dict[tuple[str, int], dict] = {}
    for regime in config.regimes:
        for seed in config.seeds:
            units[(regime, seed)] = run_dir.unit(
                f"{regime}/seed{seed}", lambda r=regime, s=seed: _run_unit(config, r, s, run_dir)
            )
    # --- arms: test MSE per regulariser, gap-prediction metrics per predictor ---
    arms: dict[str, dict[str, list[float]]] = {}
    for regime in config.regimes:
        first = units[(regime, config.seeds[0])]
        for arm in first["arms"]:
            per = [units[(regime, s)]["arms"][arm] for s in config.seeds]
            arms[f"{regime}/{arm}"] = {
                "test/mse": [p["test_mse"] for p in per],
                "train/mse": [p["train_mse"] for p in per],
                "test/gap": [p["gap"] for p in per],
            }
        for pred in first["gap"]:
            per = [units[(regime, s)]["gap"][pred] for s in config.seeds]
            arms[f"{regime}/predict:{pred}"] = {f"gap/{k}": [p[k] for p in per] for k in per[0]}
    _figures(config, units, run_dir)
    # --- claims, computed from the arms ---
    claims = []
    for regime in config.regimes:
        r = arms[f"{regime}/predict:nc"]["gap/R"]
        claims.append(
            Claim(
                f"gap_r_{regime}",
                f"NC predicts held-out gaps with Pearson R > 0.5 ({regime} regime)",
                bool(np.mean(r) > 0.5),
                f"R seed-mean {np.mean(r):.3f} (per seed {', '.join(f'{v:.3f}' for v in r)})",
            )
        )
    for regime in config.regimes:
        nc_mse = arms[f"{regime}/nc"]["test/mse"]
        none_mse = arms[f"{regime}/none"]["test/mse"]
        others = [
            a.split("/", 1)[1] for a in arms if a.startswith(f"{regime}/") and "predict:" not in a
        ]
        others = [a for a in others if a != "nc"]
        best = min(others, key=lambda a: np.mean(arms[f"{regime}/{a}"]["test/mse"]))
        claims.append(
            Claim(
                f"nc_below_noreg_{regime}",
                f"NC's mean test MSE is below no regularisation ({regime} regime)",
                bool(np.mean(nc_mse) < np.mean(none_mse)),
                f"NC {_fmt(nc_mse)} vs none {_fmt(none_mse)} ({len(nc_mse)} seeds)",
            )
        )
        claims.append(
            Claim(
                f"nc_below_all_{regime}",
                f"NC's mean test MSE is below every baseline ({regime} regime; not claimed by "
                "the spec, reported for context)",
                bool(np.mean(nc_mse) < np.mean(arms[f"{regime}/{best}"]["test/mse"])),
                f"NC {_fmt(nc_mse)} vs best baseline {best} "
                f"{_fmt(arms[f'{regime}/{best}']['test/mse'])}",
            )
        )
    # --- tables ---
    tables = {}
    regs = list(config.regimes)
    head = "| predictor | " + " | ".join(f"{r} R | {r} R (final) | {r} MAE" for r in regs) + " |"
    lines = [head, "|---" * (1 + 3 * len(regs)) + "|"]
    for pred in units[(regs[0], config.seeds[0])]["gap"]:
        cells = []
        for r in regs:
            a = arms.get(f"{r}/predict:{pred}", {})
            cells += [_fmt(a[k]) if k in a else "" for k in ("gap/R", "gap/R_final", "gap/mae")]
        lines.append(f"| {pred} | " + " | ".join(cells) + " |")
    tables["Gap prediction on held-out learner trajectories (mean ± 95% CI over seeds)"] = (
        "\n".join(lines)
    )
    lines = ["| arm | " + " | ".join(f"{r} test MSE | {r} chosen strength" for r in regs) + " |"]
    lines.append("|---" * (1 + 2 * len(regs)) + "|")
    for arm in units[(regs[0], config.seeds[0])]["arms"]:
        cells = []
        for r in regs:
            cells.append(_fmt(arms[f"{r}/{arm}"]["test/mse"]))
            hp = [units[(r, s)]["arms"][arm]["hyper"] for s in config.seeds]
            cells.append(", ".join("-" if h is None else f"{h:g}" for h in hp))
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    tables["Test MSE after training held-out learners (mean ± 95% CI over seeds)"] = "\n".join(
        lines
    )
    notes = _notes(config)
    return Outcome(arms=arms, claims=claims, notes=notes, tables=tables)


def _notes(config: Config) -> str:
    o, v = config.official, config.overfit
    return "\n".join(
        [
            f"- NC: width {config.nc.hidden_dim}, encoder depth {config.nc.encoder_depth}, "
            f"decoder depth {config.nc.decoder_depth}, {config.nc.num_heads} heads, "
            f"{config.nc.pool} pooling; "
            f"{config.meta.num_steps} NC steps of batch {config.meta.batch_size}, "
            f"{config.meta.populate_batches} seed batches of {config.meta.task_batch_size} tasks, "
            f"warm-up {config.meta.warmup_steps} steps (official: width 512, 500k steps, 100 seed "
            "batches, warm-up 1000).",
            f"- Regimes: official = {o.num_train} train / {o.num_test} test points, "
            f"{o.inner_steps} SGD steps at lr {o.inner_learning_rate}; overfit (ours, not in the "
            f"paper) = "
            f"{v.num_train} / {v.num_test} points, {v.inner_steps} steps at lr "
            f"{v.inner_learning_rate}, learner batch every {v.learn_every} NC steps.",
            f"- Held-out: {config.eval.num_test_tasks} test tasks and {config.eval.num_val_tasks} "
            "validation tasks per seed; L2, dropout and the hand-designed measures are tuned "
            "on the validation tasks (lowest mean test MSE), NC uses the official weight "
            f"{config.eval.nc_weight} untuned.",
            "- Simple gap predictors are affinely calibrated on validation snapshots before their "
            "MAE is measured; NC's MAE is raw. R is over snapshots taken every "
            f"{config.eval.snapshot_every} inner steps of unregularised learners; 'R (final)' "
            "uses only the trained learners.",
            "- nc@polynomial: NC meta-trained on sinusoids, evaluated on random cubic polynomial "
            "tasks (a transfer check, not in the paper).",
            "- The paper's numbers were not retrieved (tables inaccessible); no paper numbers are "
            "compared.",
        ]
    )
