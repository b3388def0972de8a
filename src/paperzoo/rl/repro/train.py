"""Reproduction units: train one arm (SAC, SAC+PER, MQL, MaPER) for one seed on one environment,
evaluating the deterministic policy and the critic's Q-estimation bias at fixed steps.

Every arm of a seed uses the same SB3 seed (initial weights, exploration noise, environment
resets) and the same evaluation start states. A unit (one SB3 ``learn``) is not checkpointed
inside: an environment's internal state cannot be saved, and a unit takes ~3 minutes, so a
resumed run redoes unfinished units only.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from paperzoo.core import Unit, UnitContext
from paperzoo.core.engine import relative_change

from .config import ARMS, Config

__all__ = ["build_agent", "run_unit", "units"]

_COST = {"SAC": 1.0, "SAC+PER": 1.2, "MQL": 1.1, "MaPER": 1.3}


def units(cfg: Config) -> list[Unit]:
    """One unit per arm and seed."""
    unknown = [a for a in cfg.arms if a not in ARMS]
    if unknown:
        raise ValueError(f"unknown arms {unknown}; choose from {list(ARMS)}")
    if cfg.env.total_timesteps % cfg.env.eval_every:
        raise ValueError("env.total_timesteps must be a multiple of env.eval_every")
    return [Unit(f"{a}/seed{s}", a, s, cost=_COST[a]) for s in cfg.seeds for a in cfg.arms]


def build_agent(arm: str, env: Any, cfg: Config, seed: int, device: str = "cpu") -> Any:
    """The SB3 agent of ``arm`` with the config's shared hyperparameters."""
    from stable_baselines3 import SAC
    from stable_baselines3.common.buffers import ReplayBuffer

    from ..agents import MQLSAC, PrioritizedSAC

    a, r = cfg.agent, cfg.replay
    common: dict[str, Any] = {
        "learning_rate": a.learning_rate,
        "buffer_size": a.buffer_size,
        "learning_starts": a.learning_starts,
        "batch_size": a.batch_size,
        "tau": a.tau,
        "gamma": a.gamma,
        "train_freq": a.train_freq,
        "gradient_steps": a.gradient_steps,
        "ent_coef": a.ent_coef,
        "policy_kwargs": {"net_arch": list(a.net_arch)},
        "seed": seed,
        "device": device,
        "verbose": 0,
    }
    per = {"replay_buffer_kwargs": {"alpha": r.alpha, "beta": r.beta0, "eps": r.eps}}
    if arm == "SAC":
        return SAC("MlpPolicy", env, **common)
    if arm == "SAC+PER":  # standard PER (td_abs, per_alpha) or the copy's (td_squared, alpha)
        alpha = r.per_alpha if r.per_priority == "td_abs" else r.alpha
        kw = {"replay_buffer_kwargs": {"alpha": alpha, "beta": r.beta0, "eps": r.eps}}
        return PrioritizedSAC("MlpPolicy", env, per_priority=r.per_priority, **common, **kw)
    warm = {"lambda_warmup_updates": r.lambda_warmup_updates}
    if arm == "MQL":
        return MQLSAC("MlpPolicy", env, replay_buffer_class=ReplayBuffer, **warm, **common)
    if arm == "MaPER":
        return MQLSAC("MlpPolicy", env, priority="model_error", **warm, **common, **per)
    raise ValueError(f"unknown arm {arm!r}; choose from {list(ARMS)}")


def _callback(cfg: Config, model: Any, ctx: UnitContext, log: dict[str, list[Any]]) -> Any:
    """An SB3 callback that evaluates at the fixed steps (one ``learn``, so beta anneals once)."""
    import gymnasium as gym
    from stable_baselines3.common.callbacks import BaseCallback

    from ..buffers import PrioritizedReplayBuffer
    from ..metrics import evaluate_returns, q_estimation_bias

    ec, bc = cfg.env, cfg.bias
    eval_env = gym.make(ec.env_id)
    bias_env = gym.make(ec.env_id, max_episode_steps=bc.horizon + bc.tail)

    def evaluate(step: int) -> None:
        returns = evaluate_returns(
            model, eval_env, num_episodes=ec.eval_episodes, seed=ec.eval_seed
        )
        log["step"].append(step)
        log["return"].append(float(returns.mean()))
        stats = dict(getattr(model, "last_train_stats", {}))
        buf = model.replay_buffer
        if isinstance(buf, PrioritizedReplayBuffer) and buf.num_stored():
            stats["priority_ess"] = buf.effective_sample_size()
        log["stats"].append(stats)
        row: dict[str, Any] = {"step": step, "eval/return": log["return"][-1]}
        if step > 0 and (step % bc.every == 0 or step == ec.total_timesteps):
            b = q_estimation_bias(
                model, bias_env, num_episodes=bc.num_episodes, horizon=bc.horizon, seed=ec.eval_seed
            )
            log["bias_step"].append(step)
            log["bias"].append(b)
            row["eval/q_bias"] = b["bias"]
        ctx.log({**row, **{f"train/{k}": v for k, v in stats.items()}})

    class _Eval(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % ec.eval_every == 0:
                evaluate(self.num_timesteps)
            return True

    return evaluate, _Eval()


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    """Train ``unit.arm`` for ``env.total_timesteps`` steps: returns, Q bias, model errors."""
    import gymnasium as gym
    from stable_baselines3.common.monitor import Monitor

    from ..buffers import PrioritizedReplayBuffer
    from ..metrics import learning_curve_area

    ec = cfg.env
    device = "cuda" if str(ctx.device).startswith("cuda") else "cpu"
    model = build_agent(unit.arm, Monitor(gym.make(ec.env_id)), cfg, unit.seed, device)
    log: dict[str, list[Any]] = {"step": [], "return": [], "stats": [], "bias_step": [], "bias": []}
    evaluate, callback = _callback(cfg, model, ctx, log)
    evaluate(0)
    t0 = time.perf_counter()
    model.learn(ec.total_timesteps, callback=callback)
    train_s = time.perf_counter() - t0
    # --- metrics ---
    returns = np.asarray(log["return"])
    k = max(1, round(0.2 * (len(returns) - 1)))  # the last 20% of the evaluations
    metrics: dict[str, float] = {
        "eval/auc": learning_curve_area(log["step"], returns),
        "eval/final_return": float(returns[-k:].mean()),
        "eval/return_change": relative_change(returns[1:]),
        "bias/bias_final": log["bias"][-1]["bias"],
        "bias/magnitude_final": log["bias"][-1]["bias_magnitude"],
        "bias/magnitude_mean": float(np.mean([b["bias_magnitude"] for b in log["bias"]])),
        "bias/abs_error_mean": float(np.mean([b["abs_error"] for b in log["bias"]])),
    }
    # Wall-clock speed depends on the machine's load: an artifact, not a per-seed metric (the
    # same seed must give the same metrics).
    ctx.artifact("timing", {"train_s": train_s, "steps_per_s": ec.total_timesteps / train_s})
    trained = [s for s in log["stats"] if "td_error" in s]
    for key in ("reward_error", "state_error"):
        seen = [s[key] for s in trained if key in s]
        if len(seen) >= 2:  # the model heads: last logged error over the first
            metrics[f"model/{key}_first"] = seen[0]
            metrics[f"model/{key}_last"] = seen[-1]
            metrics[f"model/{key}_ratio"] = seen[-1] / max(seen[0], 1e-12)
    if isinstance(model.replay_buffer, PrioritizedReplayBuffer):
        p = model.replay_buffer.priorities()
        metrics["replay/priority_ess"] = model.replay_buffer.effective_sample_size()
        ctx.artifact("priorities", _priority_summary(p))
    ctx.artifact(
        "curve",
        {
            "step": log["step"],
            "return": log["return"],
            "bias_step": log["bias_step"],
            "bias": log["bias"],
            "stats": log["stats"],
        },
    )
    return metrics


def _priority_summary(p: np.ndarray) -> dict[str, Any]:
    """Histogram of log10(p / mean p) and p by insertion order (binned), for the figure."""
    rel = np.log10(np.maximum(p / p.mean(), 1e-12))
    counts, edges = np.histogram(rel, bins=40)
    order = np.array_split(p, min(50, len(p)))
    return {
        "log10_relative_counts": counts.tolist(),
        "log10_relative_edges": edges.tolist(),
        "mean_by_age": [float(c.mean()) for c in order],
        "num": len(p),
    }
