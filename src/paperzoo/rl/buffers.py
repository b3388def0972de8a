"""A prioritized replay buffer for Stable-Baselines3's off-policy algorithms (SAC, TD3, DDPG).

Paper: Model-augmented Prioritized Experience Replay (Youngmin Oh, Jinwoo Shin, Eunho Yang,
Sung Ju Hwang; ICLR 2022; first as "Model-augmented Q-learning", https://arxiv.org/abs/2102.03866),
on top of Prioritized Experience Replay (Schaul et al., ICLR 2016).

Transition ``i`` is drawn with probability ``P(i) = p_i / sum_k p_k``, where ``p_i = (e_i + eps)^a``
and ``e_i`` is the error the learner reports for it (a TD error for PER; TD plus weighted reward
and transition-model errors for MaPER). New transitions enter at the largest priority seen so
far, so each is replayed at least about once. The learner corrects the sampling bias with the
importance weights ``w_i = (N P(i))^-beta / max_k (N P(k))^-beta``, ``beta`` annealed to 1.

Sampling is stratified: the total mass is cut into ``batch_size`` equal segments and one prefix
sum is drawn uniformly in each (PER, Appendix B.2.1). The sum tree (:mod:`.sum_tree`) costs
``O(log n)`` per sample or update, vectorised over the batch, with ``n`` the transitions stored
(not the capacity); its internal nodes are refreshed once per sampled batch. The smallest
priority (for the largest weight) is read off the stored priorities in one pass while at most
``2^15`` are stored, and from a min tree beyond. At replay batch sizes each NumPy or torch call
costs more than its arithmetic, so the per-batch work is kept to a few dozen calls (see
``README.md``, "Speed"); every number is the same as the straightforward per-ancestor version's,
bit for bit (``tests/rl/test_fast_paths.py``).

SB3 has no prioritized buffer for its continuous-control algorithms (its PR #1622 is DQN-only and
unmerged). This one subclasses ``ReplayBuffer``: pass it as ``replay_buffer_class``. Its
``sample`` returns :class:`PrioritizedReplayBufferSamples` (SB3's fields plus ``weights`` and
``indices``); a learner that knows about priorities (:class:`~.agents.PrioritizedSAC`,
:class:`~.agents.MQLSAC`, ...) calls :meth:`PrioritizedReplayBuffer.update_priorities`. Plain SB3
SAC also runs with it but never updates priorities, so it then samples uniformly.

Zero total priority: a buffer whose priorities sum to 0 (SB3's own tests and some host code
set ``full = True`` before any ``add``; a loaded file may hold only zeros) samples uniformly,
like SB3's ``ReplayBuffer``, with unit importance weights, instead of dividing by the total.

``optimize_memory_usage=True`` (SB3's shared observation array; it needs
``handle_timeout_termination=False``, SB3's own rule) is supported: the transition at ``pos``,
whose observation the last ``add`` overwrote, holds priority 0 (never sampled) until it is
written again. Discrete action spaces work, so the buffer is also a ``replay_buffer_class``
for SB3's DQN; but SB3's DQN never calls :meth:`PrioritizedReplayBuffer.update_priorities`
nor reads ``weights`` (its loss is unweighted), so with plain DQN every transition keeps the
priority it entered with and sampling stays uniform.

Deviations: the MaPER copy hard-codes ``beta = 1`` at sampling time; here ``beta`` is an
attribute the agents anneal from ``beta0`` to 1 over training (PER's schedule). Dict
observations are not supported (a clear error says so).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.vec_env import VecNormalize

from .sum_tree import MinTree, SumTree

__all__ = ["PrioritizedReplayBuffer", "PrioritizedReplayBufferSamples", "effective_sample_size"]


class PrioritizedReplayBufferSamples(NamedTuple):
    """SB3's ``ReplayBufferSamples`` fields plus the importance weights and flat indices.

    Shape:
        observations, next_observations: (batch, *obs_shape); actions: (batch, action_dim);
        dones, rewards, weights: (batch, 1); indices: (batch,) NumPy int64 flat indices
        ``pos * n_envs + env`` for :meth:`PrioritizedReplayBuffer.update_priorities`.
    """

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor | None
    weights: th.Tensor
    indices: np.ndarray


def effective_sample_size(priorities: np.ndarray) -> float:
    """Kish's effective sample size of sampling proportionally to ``priorities``, as a fraction.

    ``(sum p)^2 / (n sum p^2)``: 1 for uniform priorities, ``1/n`` when one item holds all the
    mass. The reproduction's gate uses it to check that prioritization did engage.
    """
    p = np.asarray(priorities, dtype=np.float64)
    if p.size == 0 or not np.any(p > 0):
        return float("nan")
    return float(p.sum() ** 2 / (p.size * np.square(p).sum()))


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay for SB3 (Box observations, any ``n_envs``).

    Args:
        buffer_size: transitions kept (over all envs), as in ``ReplayBuffer``.
        observation_space, action_space, device, n_envs, handle_timeout_termination: as in
            SB3's ``ReplayBuffer``.
        optimize_memory_usage: SB3's memory-saving layout (needs
            ``handle_timeout_termination=False``); the overwritten transition at ``pos`` gets
            priority 0 until it is written again.
        alpha: priority exponent ``a`` (MaPER copy 0.7; PER proportional 0.6, Schaul et al.
            2016).
        beta: initial importance-weight exponent ``beta0`` (MaPER/PER 0.4); agents anneal it.
        eps: ``eps`` added to every error before the exponent (MaPER 1e-6), so no transition
            is starved.
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        alpha: float = 0.7,
        beta: float = 0.4,
        eps: float = 1e-6,
    ) -> None:
        if isinstance(observation_space, spaces.Dict):
            raise ValueError("PrioritizedReplayBuffer supports Box observations, not Dict")
        if alpha < 0 or not 0 <= beta <= 1 or eps <= 0:
            raise ValueError(
                f"need alpha >= 0, 0 <= beta <= 1, eps > 0; got {alpha}, {beta}, {eps}"
            )
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            optimize_memory_usage=optimize_memory_usage,
            handle_timeout_termination=handle_timeout_termination,
        )
        self.alpha, self.beta, self.eps = float(alpha), float(beta), float(eps)
        capacity = self.buffer_size * self.n_envs
        self._sum = SumTree(capacity)
        self._min = MinTree(capacity)
        self._min_synced = False  # see _min_priority
        self.max_priority = 1.0  # of p = (e + eps)^a; new transitions enter with it

    # The min tree's leaves are always ``where(p > 0, p, inf)`` of the sum tree's, so while at
    # most this many leaves are used, the smallest positive priority is read off the sum tree's
    # leaves in one pass (two NumPy calls per sample) instead of keeping a second tree (two
    # writes per step and a refresh per sample); past it, the min tree is built once from the
    # leaves and kept up to date. Pickles from before this attribute existed rebuild it too.
    _MIN_SCAN_MAX = 1 << 15
    _min_synced = False

    # --- storage ------------------------------------------------------------------------------

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """Store one step of every env at the largest priority so far."""
        flat = self.pos * self.n_envs + np.arange(self.n_envs)
        super().add(obs, next_obs, action, reward, done, infos)
        self._sum.update(flat, self.max_priority)
        if self._min_synced:
            self._min.update(flat, self.max_priority)
        if self.optimize_memory_usage:
            self._mask_overwritten()

    def _overwritten(self) -> np.ndarray:
        """Flat indices of the transitions whose observation the shared array overwrote.

        With ``optimize_memory_usage``, ``observations[pos]`` holds the next observation of the
        last transition, so a stored transition at ``pos`` (once the buffer is full) has lost
        its own observation; without it, none. Shape: (0,) or (n_envs,).
        """
        if not (self.optimize_memory_usage and self.full):
            return np.zeros(0, dtype=np.int64)
        return self.pos * self.n_envs + np.arange(self.n_envs, dtype=np.int64)

    def _mask_overwritten(self) -> None:
        """Give the overwritten transitions priority 0 (never drawn) and no say in the min."""
        bad = self._overwritten()
        self._sum.update(bad, 0.0)
        if self._min_synced:
            self._min.update(bad, np.inf)

    def reset(self) -> None:
        """Empty the buffer and its priorities."""
        super().reset()
        if hasattr(self, "_sum"):
            self._sum = SumTree(self._sum.capacity)
            self._min = MinTree(self._min.capacity)
            self._min_synced = False
            self.max_priority = 1.0

    def num_stored(self) -> int:
        """Transitions stored, over all envs."""
        return self.size() * self.n_envs

    # --- sampling -----------------------------------------------------------------------------

    def sample(  # type: ignore[override]
        self, batch_size: int, env: VecNormalize | None = None
    ) -> PrioritizedReplayBufferSamples:
        """Stratified proportional sample with importance weights (see the module docstring)."""
        n = self.num_stored()
        if n == 0:
            raise RuntimeError("cannot sample from an empty PrioritizedReplayBuffer")
        total = self._sum.total()
        if not total > 0:  # marked full before any add, or all-zero priorities
            return self._sample_uniform(batch_size, n, env)
        segment = total / batch_size
        # SB3 seeds NumPy's global generator (``set_random_seed``); use it for reproducibility.
        u = np.random.random_sample(batch_size)
        u += self._strata(batch_size)  # (i + r_i) * segment, in place
        u *= segment
        np.minimum(u, math.nextafter(total, 0), out=u)  # math: no NumPy scalar call
        flat, leaf_priorities = self._sum.find_with_values(u)
        probs = leaf_priorities / total
        p_min = self._min_priority() / total
        # w_i = (N P(i))^-beta / max_k w_k, and max_k w_k belongs to the smallest priority.
        weights = (probs / p_min) ** (-self.beta)
        return self._get_prioritized_samples(flat, weights, env)

    def _min_priority(self) -> float:
        """The smallest positive priority (``inf`` if none): the min tree's root."""
        used = self._sum.used
        if used <= self._MIN_SCAN_MAX:
            leaves = self._sum.leaves()[:used]
            return float(leaves.min(where=leaves > 0, initial=np.inf))
        if not self._min_synced:  # past the scan limit: build the tree once, then keep it
            leaves = self._sum.leaves()[:used]
            self._min = MinTree(self._sum.capacity)
            self._min.update(np.arange(used), np.where(leaves > 0, leaves, np.inf))
            self._min_synced = True
        return self._min.min()

    def _strata(self, batch_size: int) -> np.ndarray:
        """``0, 1, ..., batch_size - 1`` as float64, kept between calls (read-only)."""
        strata = getattr(self, "_strata_cache", None)
        if strata is None or strata.size != batch_size:
            # float64 holds these integers exactly: the same u as ``arange(b) + random``.
            strata = np.arange(batch_size, dtype=np.float64)
            strata.flags.writeable = False
            self._strata_cache = strata
        return strata

    def _sample_uniform(
        self, batch_size: int, n: int, env: VecNormalize | None
    ) -> PrioritizedReplayBufferSamples:
        """SB3's uniform sample (over the valid transitions) with unit importance weights.

        The fallback when the priorities sum to 0, where proportional sampling is undefined.
        """
        bad = self._overwritten()
        valid = n - bad.size  # the valid ones are contiguous (mod n), right after ``bad``
        if valid < 1:
            raise RuntimeError("no valid transition to sample (optimize_memory_usage, size 1)")
        start = (int(bad[-1]) + 1) if bad.size else 0
        flat = (start + np.random.randint(0, valid, size=batch_size)) % n
        return self._get_prioritized_samples(flat, np.ones(batch_size), env)

    def _get_prioritized_samples(
        self, flat: np.ndarray, weights: np.ndarray, env: VecNormalize | None
    ) -> PrioritizedReplayBufferSamples:
        """The transitions at ``flat`` (``pos * n_envs + env``) as tensors.

        Each (buffer_size, n_envs, ...) array is read as a (buffer_size * n_envs, ...) view,
        whose row ``flat`` is ``[pos, env]``: one gather per array instead of SB3's two index
        arrays. The gathered arrays are fresh copies, so the tensors share their memory
        (``copy=False``) instead of copying them once more.
        """
        n = self.buffer_size * self.n_envs
        obs = self.observations.reshape(n, *self.obs_shape)
        if self.optimize_memory_usage:  # s' is the next row's observation, (pos + 1) mod size
            next_obs = obs[(flat + self.n_envs) % n]
        else:
            next_obs = self.next_observations.reshape(n, *self.obs_shape)[flat]
        done = self.dones.reshape(n)[flat] * (1 - self.timeouts.reshape(n)[flat])
        data = (
            self._normalize_obs(obs[flat], env),
            self.actions.reshape(n, -1)[flat],
            self._normalize_obs(next_obs, env),
            done.reshape(-1, 1),
            self._normalize_reward(self.rewards.reshape(n)[flat].reshape(-1, 1), env),
            weights.reshape(-1, 1).astype(np.float32),
        )
        *tensors, w = (self.to_torch(x, copy=False) for x in data)
        indices = flat.astype(np.int64, copy=False)
        return PrioritizedReplayBufferSamples(*tensors, None, w, indices)

    # --- priorities ---------------------------------------------------------------------------

    def update_priorities(self, indices: np.ndarray, errors: np.ndarray | th.Tensor) -> None:
        """Set ``p_i = (e_i + eps)^alpha`` for the sampled ``indices``.

        Args:
            indices: the ``indices`` of a sample, shape (k,).
            errors: non-negative errors ``e_i`` (squared or absolute TD error, MaPER's
                combined error), shape (k,) or (k, 1).
        """
        if isinstance(errors, th.Tensor):  # no detach or cpu call where it would be a no-op
            if errors.requires_grad:
                errors = errors.detach()
            errors = (errors if errors.device.type == "cpu" else errors.cpu()).numpy()
        e = np.asarray(errors).reshape(-1)  # float32 from a critic: widened in the addition
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if e.shape != indices.shape:
            raise ValueError(f"{indices.size} indices but {e.size} errors")
        if e.size == 0:
            return
        # Validate before writing, in two reductions instead of four passes: NaN and negative
        # errors fail ``min >= 0`` (NaN fails every comparison), and an infinite one makes
        # ``p.max()`` infinite.
        if not e.min() >= 0:
            raise ValueError("priorities need finite, non-negative errors")
        # (e + eps)^alpha in float64, as ``(float64(e) + eps) ** alpha`` (``**=`` takes NumPy's
        # same scalar-exponent paths as ``**``), without the float64 copy of ``e`` first.
        p = np.add(e, self.eps, dtype=np.float64)
        p **= self.alpha
        p_max = float(p.max())
        if not p_max < np.inf:
            raise ValueError("priorities need finite, non-negative errors")
        self._sum.update(indices, p)
        if self._min_synced:  # a priority that underflows to 0 has no say in the min
            self._min.update(indices, np.where(p > 0, p, np.inf))
        self.max_priority = max(self.max_priority, p_max)
        if self.optimize_memory_usage:
            self._mask_overwritten()  # an overwritten transition stays out of reach

    def priorities(self) -> np.ndarray:
        """Current ``p_i`` of every stored transition, in flat order, shape (num_stored,)."""
        return self._sum.leaves()[: self.num_stored()].copy()

    def effective_sample_size(self) -> float:
        """:func:`effective_sample_size` of the stored priorities (1 = uniform sampling)."""
        return effective_sample_size(self.priorities())

    # --- save / load without pickle -----------------------------------------------------------

    _ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")

    def _arrays(self) -> tuple[str, ...]:
        """The stored arrays (no ``next_observations`` with ``optimize_memory_usage``)."""
        shared = self.optimize_memory_usage
        return tuple(k for k in self._ARRAYS if not (shared and k == "next_observations"))

    def save(self, path: str | Path) -> None:
        """Write transitions and priorities to an ``.npz`` (no pickled objects).

        SB3's ``model.save_replay_buffer`` (a pickle) also keeps the priorities; this file can be
        read back with ``allow_pickle=False``.
        """
        arrays = {k: getattr(self, k) for k in self._arrays()}
        meta = np.array(
            [self.pos, int(self.full), self.alpha, self.beta, self.eps, self.max_priority]
        )
        tmp = Path(path).with_suffix(".tmp.npz")
        np.savez(tmp, leaves=self._sum.leaves(), meta=meta, **arrays)
        tmp.replace(Path(path))

    def load(self, path: str | Path) -> PrioritizedReplayBuffer:
        """Read back :meth:`save`'s file into this (same-shaped) buffer; returns ``self``."""
        with np.load(Path(path), allow_pickle=False) as z:
            for k in self._arrays():
                if k not in z:
                    raise ValueError(f"{path}: no {k} (saved with another optimize_memory_usage)")
                if z[k].shape != getattr(self, k).shape:
                    raise ValueError(
                        f"{path}: {k} has shape {z[k].shape}, this buffer {getattr(self, k).shape}"
                    )
                setattr(self, k, z[k].copy())
            pos, full, self.alpha, self.beta, self.eps, self.max_priority = z["meta"].tolist()
            self.pos, self.full = int(pos), bool(full)
            leaves = z["leaves"]
        self._sum, self._min = SumTree(leaves.size), MinTree(leaves.size)
        # A zero leaf (an overwritten transition, or a file of zeros) has no say in the min,
        # which _min_priority reads off the sum tree's leaves (building the tree if large).
        self._min_synced = False
        stored = np.arange(self.num_stored())
        self._sum.update(stored, leaves[stored])
        return self
