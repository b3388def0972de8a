"""Returns, learning-curve area and Q-estimation bias of SB3 agents.

Paper: Model-augmented Prioritized Experience Replay (Youngmin Oh, Jinwoo Shin, Eunho Yang,
Sung Ju Hwang; ICLR 2022; first as "Model-augmented Q-learning", https://arxiv.org/abs/2102.03866).
The paper motivates the model-augmented critic by the over/under-estimation of Q; the bias is
measured as TD3 (Fujimoto et al., 2018) did: the critic's ``Q(s_t, a_t)`` on states of evaluation
rollouts minus the discounted Monte Carlo return actually collected from there.

For SAC the critic estimates the *soft* value of its stochastic policy,
``Q(s, a) = r + gamma E[Q(s', a') - alpha log pi(a'|s')]``, so its Monte Carlo counterpart is the
soft return ``G_t = r_t + gamma (G_{t+1} - alpha log pi(a_{t+1}|s_{t+1}))`` on rollouts of the
stochastic policy; for TD3 (deterministic policy, no entropy) ``alpha = 0``. Rollouts run
``horizon + tail`` steps and only the first ``horizon`` states are scored, so truncation leaves
at most ``gamma^tail`` of the return unseen (0.98^200 = 1.8%).

Deviations: none from TD3's protocol other than the soft return for SAC (without it, SAC's
entropy bonus alone would look like overestimation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "evaluate_returns",
    "learning_curve_area",
    "q_estimation_bias",
    "soft_discounted_returns",
]


def soft_discounted_returns(
    rewards: Sequence[float],
    gamma: float,
    log_probs: Sequence[float] | None = None,
    alpha: float = 0.0,
    bootstrap: float = 0.0,
) -> np.ndarray:
    """``G_t = r_t + gamma (G_{t+1} - alpha log pi_{t+1})`` for every step of one episode.

    Args:
        rewards: ``r_0 .. r_{T-1}``.
        gamma: discount factor.
        log_probs: ``log pi(a_t|s_t)`` for the same steps (``None`` or ``alpha = 0``: the plain
            discounted return).
        alpha: entropy coefficient.
        bootstrap: value of the state after the last step (0: episode ended or truncated).

    Shape:
        returns (T,).
    """
    r = np.asarray(rewards, dtype=np.float64)
    lp = np.zeros_like(r) if log_probs is None else np.asarray(log_probs, dtype=np.float64)
    out = np.empty_like(r)
    g = float(bootstrap)
    for t in range(len(r) - 1, -1, -1):
        # The entropy term belongs to the *next* action, so G_{T-1} = r_{T-1} + gamma * boot.
        nxt = g - alpha * lp[t + 1] if t + 1 < len(r) else g
        g = r[t] + gamma * nxt
        out[t] = g
    return out


def learning_curve_area(steps: Sequence[float], returns: Sequence[float]) -> float:
    """Normalised area under a learning curve: the trapezoid mean of ``returns`` over ``steps``.

    In the returns' units (the average return over training), so arms with the same evaluation
    grid compare directly.
    """
    x, y = np.asarray(steps, dtype=np.float64), np.asarray(returns, dtype=np.float64)
    if len(x) < 2:
        return float(y.mean()) if len(y) else float("nan")
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))


def q_estimation_bias(
    model: Any,
    env: Any,
    *,
    num_episodes: int = 5,
    horizon: int = 200,
    seed: int = 0,
) -> dict[str, float]:
    """Mean ``Q(s_t, a_t) - G_t`` over the first ``horizon`` states of ``num_episodes`` rollouts.

    Args:
        model: an SB3 SAC or TD3 agent (any with ``critic`` and ``actor``/``policy``).
        env: a gymnasium env whose episodes run at least ``horizon`` plus a tail of steps (make
            it with ``max_episode_steps=horizon + tail``); its reward must be the training one.
        num_episodes: rollouts.
        horizon: states scored per rollout.
        seed: reset seed of the first rollout (``seed + i`` for the i-th).

    Returns:
        ``bias`` (mean Q - G), ``bias_magnitude`` (its absolute value), ``abs_error`` (mean
        |Q - G| per state: bias and spread together), ``q`` and ``return`` (means) and
        ``relative_bias`` (bias / mean |G|).
    """
    import torch as th

    sac = hasattr(model, "log_ent_coef") or hasattr(model, "ent_coef_tensor")
    alpha = 0.0
    if sac:
        coef = model.log_ent_coef.exp() if model.log_ent_coef is not None else model.ent_coef_tensor
        alpha = float(coef.detach())
    gamma = float(model.gamma)
    q_all, g_all = [], []
    for ep in range(num_episodes):
        obs, _ = env.reset(seed=seed + ep)
        qs, rewards, log_probs = [], [], []
        done = False
        while not done:
            obs_t, _ = model.policy.obs_to_tensor(obs)
            with th.no_grad():
                if sac:  # the stochastic policy the soft Q belongs to
                    action, log_prob = model.actor.action_log_prob(obs_t)
                    log_probs.append(float(log_prob))
                else:
                    action = model.actor(obs_t)
                q = th.min(th.cat(model.critic(obs_t, action), dim=1), dim=1)[0]
            qs.append(float(q))
            env_action = model.policy.unscale_action(action.cpu().numpy())[0]
            obs, reward, terminated, truncated, _ = env.step(env_action)
            rewards.append(float(reward))
            done = terminated or truncated
        g = soft_discounted_returns(rewards, gamma, log_probs if sac else None, alpha)
        n = min(horizon, len(rewards))
        q_all.append(np.asarray(qs[:n]))
        g_all.append(g[:n])
    q, g = np.concatenate(q_all), np.concatenate(g_all)
    return {
        "bias": float(np.mean(q - g)),
        "bias_magnitude": float(abs(np.mean(q - g))),
        "abs_error": float(np.mean(np.abs(q - g))),
        "q": float(q.mean()),
        "return": float(g.mean()),
        "relative_bias": float(np.mean(q - g) / max(np.mean(np.abs(g)), 1e-8)),
    }


def evaluate_returns(model: Any, env: Any, *, num_episodes: int = 10, seed: int = 0) -> np.ndarray:
    """Undiscounted returns of the deterministic policy on ``num_episodes`` episodes whose resets
    are seeded ``seed, seed + 1, ...`` (the same start states for every agent evaluated).

    Shape:
        returns (num_episodes,).
    """
    out = []
    for ep in range(num_episodes):
        obs, _ = env.reset(seed=seed + ep)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        out.append(total)
    return np.asarray(out)
