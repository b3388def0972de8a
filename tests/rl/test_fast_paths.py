"""The optimised replay paths (issue #42) against the former implementations, kept here verbatim
as references: the trees bit for bit (nodes and ``find``), the buffer's sampled indices and
importance weights for a fixed NumPy seed (the random stream is unchanged), the priorities, the
critic losses and their gradients bit for bit, and a whole short MaPER / PER / TD3 run giving the
same parameters, priorities and logged statistics."""

from __future__ import annotations

import contextlib
import copy
import pickle
from typing import Any

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.utils import polyak_update

from paperzoo.rl import MQLSAC, MQLTD3, PrioritizedReplayBuffer, PrioritizedSAC, agents
from paperzoo.rl.agents import _polyak, _ReplayMixin
from paperzoo.rl.buffers import PrioritizedReplayBufferSamples
from paperzoo.rl.losses import model_augmented_errors, stacked_model_errors, td_errors
from paperzoo.rl.networks import ModelAugmentedCritic
from paperzoo.rl.sum_tree import MinTree, SumTree

# --- the former implementations (git 362fc86), the references --------------------------------


class _FormerTree:
    neutral = 0.0

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 1 << max(0, (capacity - 1).bit_length())
        self.depth = self.size.bit_length() - 1
        self.nodes = np.full(2 * self.size, self.neutral, dtype=np.float64)

    def __getitem__(self, idx):
        return self.nodes[self.size + np.asarray(idx)]

    def update(self, idx, values) -> None:
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if idx.size == 0:
            return
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), idx.shape)
        node = idx + self.size
        self.nodes[node] = values
        for _ in range(self.depth):
            node = np.unique(node >> 1)
            self.nodes[node] = self.op(self.nodes[2 * node], self.nodes[2 * node + 1])

    def reduce(self) -> float:
        return float(self.nodes[1])


class _FormerSum(_FormerTree):
    op = staticmethod(np.add)

    def total(self) -> float:
        return self.reduce()

    def find(self, prefix):
        u = np.array(prefix, dtype=np.float64, copy=True)
        node = np.ones(u.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * node
            left_sum = self.nodes[left]
            go_right = u >= left_sum
            go_right &= self.nodes[left + 1] > 0
            u = np.where(go_right, u - left_sum, u)
            node = np.where(go_right, left + 1, left)
        return np.minimum(node - self.size, self.capacity - 1)


class _FormerMin(_FormerTree):
    neutral = np.inf
    op = staticmethod(np.minimum)

    def min(self) -> float:
        return self.reduce()


class _FormerBuffer(PrioritizedReplayBuffer):
    """The buffer with the former trees and the former ``add``/``sample``/priority code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sum = _FormerSum(self.buffer_size * self.n_envs)  # type: ignore[assignment]
        self._min = _FormerMin(self.buffer_size * self.n_envs)  # type: ignore[assignment]

    def add(self, obs, next_obs, action, reward, done, infos) -> None:
        flat = self.pos * self.n_envs + np.arange(self.n_envs)
        ReplayBuffer.add(self, obs, next_obs, action, reward, done, infos)
        self._sum.update(flat, self.max_priority)
        self._min.update(flat, self.max_priority)
        self._mask_overwritten()

    def sample(self, batch_size, env=None):  # type: ignore[override]
        total = self._sum.total()
        segment = total / batch_size
        u = (np.arange(batch_size) + np.random.random_sample(batch_size)) * segment
        flat = self._sum.find(np.minimum(u, np.nextafter(total, 0)))
        probs = self._sum[flat] / total
        p_min = self._min.min() / total
        weights = (probs / p_min) ** (-self.beta)
        return self._former_samples(flat, weights, env)

    def _former_samples(self, flat, weights, env):
        pos, env_idx = flat // self.n_envs, flat % self.n_envs
        done = self.dones[pos, env_idx] * (1 - self.timeouts[pos, env_idx])
        if self.optimize_memory_usage:
            next_obs = self.observations[(pos + 1) % self.buffer_size, env_idx, :]
        else:
            next_obs = self.next_observations[pos, env_idx, :]
        data = (
            self._normalize_obs(self.observations[pos, env_idx, :], env),
            self.actions[pos, env_idx, :],
            self._normalize_obs(next_obs, env),
            done.reshape(-1, 1),
            self._normalize_reward(self.rewards[pos, env_idx].reshape(-1, 1), env),
        )
        tensors = tuple(map(self.to_torch, data))
        w = self.to_torch(weights.reshape(-1, 1).astype(np.float32))
        return PrioritizedReplayBufferSamples(*tensors, None, w, flat.astype(np.int64))

    def update_priorities(self, indices, errors) -> None:
        if isinstance(errors, th.Tensor):
            errors = errors.detach().cpu().numpy()
        e = np.asarray(errors, dtype=np.float64).reshape(-1)
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        p = (e + self.eps) ** self.alpha
        self._sum.update(indices, p)
        self._min.update(indices, np.where(p > 0, p, np.inf))
        self.max_priority = max(self.max_priority, float(p.max()))
        self._mask_overwritten()

    def priorities(self) -> np.ndarray:
        return self._sum.nodes[self._sum.size :][: self.num_stored()].copy()


def _former_critic_loss(self: Any, data: Any, target_fn: Any, rewards_for_target: str):
    """``_ReplayMixin._critic_loss`` as it was: per-critic lists, ``float()`` per statistic."""
    prioritized = isinstance(data, PrioritizedReplayBufferSamples)
    weights = data.weights if prioritized else th.ones_like(data.rewards)
    if isinstance(self.critic, ModelAugmentedCritic):
        heads = self.critic.heads(data.observations, data.actions)
        with th.no_grad():
            r_hat = th.stack([r for _, r, _ in heads]).mean(0)
        target = target_fn(r_hat if rewards_for_target == "estimated" else data.rewards)
        next_obs = data.next_observations.flatten(1).float()
        dq, dr, ds = model_augmented_errors(heads, target, data.rewards, next_obs)
        lam_r, lam_s = self._lambdas(dq, dr, ds)
        total = dq + lam_r * dr + lam_s * ds
        error = (total if self.priority == "model_error" else dq).mean(0)
        self._former_record("reward_error", dr.mean())
        self._former_record("state_error", ds.mean())
    else:
        target = target_fn(data.rewards)
        q_values = self.critic(data.observations, data.actions)
        total = dq = td_errors(q_values, target)
        if self.per_priority == "td_abs":
            error = th.stack([(q - target).abs() for q in q_values]).mean(0)
        else:
            error = dq.mean(0)
    self._former_record("td_error", dq.mean())
    if prioritized:
        self.replay_buffer.update_priorities(data.indices, error.detach())
    return (weights * self._loss_scale * total.sum(0)).mean()


def _former_min_q(critic: Any, obs: th.Tensor, actions: th.Tensor) -> th.Tensor:
    """The former train loops' ``min_k Q_k``: SB3's concatenation of the critics' Q heads."""
    return th.min(th.cat(critic(obs, actions), dim=1), dim=1, keepdim=True)[0]


def _former_record(self: Any, key: str, value: th.Tensor) -> None:
    self._stats.setdefault(key, []).append(float(value.detach()))


def _former_flush(self: Any) -> None:
    self.last_train_stats = {k: float(np.mean(v)) for k, v in self._stats.items()}
    self._stats = {}


def _former(cls: type) -> type:
    """``cls`` with the former critic loss and statistics (its buffer is passed separately)."""
    attrs = {
        "_critic_loss": _former_critic_loss,
        "_former_record": _former_record,
        "_flush_stats": _former_flush,
    }
    return type(f"Former{cls.__name__}", (cls,), attrs)


# --- trees ---------------------------------------------------------------------------------


@pytest.mark.parametrize("capacity", [1, 2, 5, 8, 1000, 4097, 1 << 16])
def test_trees_equal_the_former_bit_for_bit(capacity):
    rng = np.random.default_rng(capacity)
    new_sum, new_min = SumTree(capacity), MinTree(capacity)
    old_sum, old_min = _FormerSum(capacity), _FormerMin(capacity)
    high = 1
    for step in range(90):  # the used range grows, as a buffer fills
        high = min(capacity, high + int(rng.integers(0, 400)))
        k = int(rng.choice([1, 2, 7, 256, 3000]))  # 3000: both refresh routes in one update
        idx = rng.integers(0, high, k)  # with duplicates
        p = rng.random(k) * float(rng.choice([1e-9, 1.0, 1e4]))
        p[rng.random(k) < 0.05] = 0.0  # zero priorities (overwritten or underflowed)
        for t in (new_sum, old_sum):
            t.update(idx, p)
        for t in (new_min, old_min):
            t.update(idx, np.where(p > 0, p, np.inf))
        if step % 3:
            continue  # several updates between two reads: one refresh for all of them
        assert np.array_equal(new_sum.nodes, old_sum.nodes)
        assert np.array_equal(new_min.nodes, old_min.nodes)
        total = old_sum.total()
        u = np.concatenate([rng.random(300) * total, [0.0, np.nextafter(total, 0), total]])
        assert np.array_equal(new_sum.find(u), old_sum.find(u))


def test_trees_pickled_by_the_former_class_load_and_stay_exact():
    """A buffer saved with SB3's ``save_replay_buffer`` before this change pickled trees with an
    eager ``nodes`` array and no ``used``: they load, refresh every level and query exactly."""
    ref = _FormerSum(64)
    ref.update(np.arange(10), np.arange(10.0))
    old = SumTree.__new__(SumTree)
    old.__setstate__(dict(ref.__dict__, nodes=ref.nodes.copy()))
    assert old.used == 10  # past the last written (nonzero) leaf, all are neutral
    fresh = pickle.loads(pickle.dumps(old))
    for tree in (ref, old, fresh):
        tree.update([3, 40], [7.0, 2.0])
    assert np.array_equal(old.nodes, ref.nodes) and np.array_equal(fresh.nodes, ref.nodes)
    u = np.linspace(0, ref.total(), 50, endpoint=False)
    assert np.array_equal(old.find(u), ref.find(u)) and np.array_equal(fresh.find(u), ref.find(u))


def test_pending_updates_survive_pickling_and_large_trees_use_the_gather_route():
    cap = 3 * SumTree.FLAT_MAX  # past the flat limit: updates are tracked, then gathered
    rng = np.random.default_rng(5)
    new, ref = SumTree(cap), _FormerSum(cap)
    new_min, ref_min = MinTree(cap), _FormerMin(cap)
    for t in (new, ref, new_min, ref_min):
        t.update(np.arange(cap), np.ones(cap))
    new._MAX_PENDING = 4  # the fill and 3 updates: refreshed at once; the last 2 wait
    for _ in range(5):
        idx, p = rng.integers(0, cap, 64), rng.random(64)
        for t in (new, ref, new_min, ref_min):
            t.update(idx, p)
    assert len(new._pending) == 2 and not new._stale  # lazily refreshed
    back = pickle.loads(pickle.dumps(new))
    assert np.array_equal(back.nodes, ref.nodes) and np.array_equal(new.nodes, ref.nodes)
    assert new_min.min() == ref_min.min() and np.array_equal(new_min.nodes, ref_min.nodes)


def test_find_repeats_queries_that_reach_an_empty_leaf():
    """Zero leaves between positive ones, and queries at and beyond the total: the untested
    descent reaches empty leaves there, and the repeated, tested descent corrects them."""
    p = np.array([0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0])
    new, ref = SumTree(p.size), _FormerSum(p.size)
    for t in (new, ref):
        t.update(np.arange(p.size), p)
    total = ref.total()
    u = np.concatenate([np.linspace(0, total, 200), [np.nextafter(total, 0), total, 2 * total]])
    tested: list[int] = []
    descend = new._descend

    def spy(q, node, levels, test_empty=False):
        if test_empty:
            tested.append(q.size)
        return descend(q, node, levels, test_empty)

    new._descend = spy  # type: ignore[method-assign]
    leaf, values = new.find_with_values(u)
    assert tested and tested[0] < u.size  # some, not all, queries were repeated
    assert np.array_equal(leaf, ref.find(u)) and np.array_equal(values, p[leaf])
    assert set(leaf.tolist()) == {1, 4, 8}
    empty = SumTree(5)  # a zero total: every query ends on the last leaf's side, as before
    ref_empty = _FormerSum(5)
    assert np.array_equal(empty.find(np.array([0.0, 1.0])), ref_empty.find(np.array([0.0, 1.0])))


# --- buffer --------------------------------------------------------------------------------


def _buffers(
    size: int = 5000, n: int = 1500, n_envs: int = 1, shared: bool = False
) -> tuple[PrioritizedReplayBuffer, _FormerBuffer]:
    from gymnasium import spaces

    obs = spaces.Box(-10, 10, (3,), np.float32)
    act = spaces.Box(-1, 1, (2,), np.float32)
    kw = dict(device="cpu", n_envs=n_envs, alpha=0.7, beta=0.4)
    kw.update(optimize_memory_usage=shared, handle_timeout_termination=not shared)
    new = PrioritizedReplayBuffer(size, obs, act, **kw)
    old = _FormerBuffer(size, obs, act, **kw)
    rng = np.random.default_rng(0)
    for _ in range(n):
        o, a, r = rng.random((n_envs, 3)), rng.random((n_envs, 2)), rng.random(n_envs)
        d = rng.random(n_envs) < 0.05
        info = [{"TimeLimit.truncated": bool(t)} for t in rng.random(n_envs) < 0.5]
        for b in (new, old):
            b.add(o, o + 1, a, r, d, info)
    return new, old


@pytest.mark.parametrize(
    ("size", "n", "n_envs", "shared", "scan_max"),
    [
        (5000, 1500, 1, False, None),  # the benchmark's case: scanned min, flat sum tree
        (5000, 1500, 1, False, 100),  # the min tree built once past the scan limit, then kept
        (600, 1000, 2, False, 100),  # two envs, wrapped around
        (600, 1000, 2, True, None),  # optimize_memory_usage: s' from the next row, masking
        (12000, 11000, 1, False, None),  # past the sum tree's flat limit: tracked updates
    ],
)
def test_buffer_samples_weights_and_priorities_equal_the_former(size, n, n_envs, shared, scan_max):
    new, old = _buffers(size, n, n_envs, shared)
    if scan_max is not None:
        new._MIN_SCAN_MAX = scan_max
    rng = np.random.default_rng(1)
    o = np.zeros((n_envs, 3))
    for step in range(30):
        np.random.seed(step)  # the same NumPy stream for both: SB3 seeds the global one
        s_new = new.sample(256)
        np.random.seed(step)
        s_old = old.sample(256)
        assert np.array_equal(s_new.indices, s_old.indices)
        assert th.equal(s_new.weights, s_old.weights)
        for a, b in zip(s_new[:5], s_old[:5], strict=True):
            assert th.equal(a, b)
        scale = float(rng.choice([1e-4, 1.0, 300.0]))
        errors = th.from_numpy((rng.random((256, 1)) * scale).astype(np.float32))
        new.update_priorities(s_new.indices, errors)
        old.update_priorities(s_old.indices, errors)
        assert np.array_equal(new.priorities(), old.priorities())
        assert new.max_priority == old.max_priority
        new.beta = old.beta = 0.4 + 0.6 * step / 30
        for b in (new, old):  # new transitions between the batches, at the largest priority
            b.add(o, o + 1, np.zeros((n_envs, 2)), np.ones(n_envs), np.zeros(n_envs), [{}] * n_envs)
    assert new._min_synced == (scan_max is not None)


@pytest.mark.parametrize("alpha", [0.5, 0.6, 1.0, 2.0])
def test_priorities_equal_the_former_for_any_alpha(alpha):
    """``(e + eps)^alpha`` from float32 errors, with NumPy's special exponents (0.5, 2, 1)."""
    new, old = _buffers(size=600, n=500)
    new.alpha = old.alpha = alpha
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 500, 300)
    for errors in (
        th.from_numpy(rng.random((300, 1)).astype(np.float32) * 50),
        rng.random(300) * 1e-7,  # float64, below eps
        rng.integers(0, 5, 300),  # integers
    ):
        new.update_priorities(idx, errors)
        old.update_priorities(idx, errors)
        assert np.array_equal(new.priorities(), old.priorities())
        assert new.max_priority == old.max_priority


def test_update_priorities_refuses_bad_errors_and_leaves_inputs_alone():
    new, _ = _buffers(size=16, n=8)
    errors = np.array([1.0, 2.0])
    new.update_priorities(np.array([0, 1]), errors)
    assert errors.tolist() == [1.0, 2.0]  # the caller's float64 array is not written to
    for bad in (np.nan, np.inf, -np.inf, -1.0):
        with pytest.raises(ValueError, match="finite, non-negative"):
            new.update_priorities(np.array([0, 1]), np.array([1.0, bad]))
        with pytest.raises(ValueError, match="finite, non-negative"):
            new.update_priorities(np.array([0, 1]), th.tensor([[1.0], [bad]]))
    with pytest.raises(IndexError):
        new.update_priorities(np.array([0, -1]), np.array([1.0, 1.0]))
    with pytest.raises(IndexError):
        new.update_priorities(np.array([16]), np.array([1.0]))
    before = new.priorities()
    new.update_priorities(np.zeros(0, dtype=np.int64), np.zeros(0))  # nothing to do
    assert np.array_equal(new.priorities(), before)


# --- losses --------------------------------------------------------------------------------


@pytest.mark.parametrize("obs_dim", [1, 3, 17])
def test_stacked_model_errors_equal_the_per_critic_ones_with_gradients(obs_dim):
    g = th.Generator().manual_seed(obs_dim)
    outs = th.randn(2, 256, 2 + obs_dim, generator=g)
    target, rewards = th.randn(256, 1, generator=g), th.randn(256, 1, generator=g)
    next_obs = th.randn(256, obs_dim, generator=g)
    a = outs.clone().requires_grad_(True)
    b = outs.clone().requires_grad_(True)
    new = stacked_model_errors(a, target, rewards, next_obs)
    heads = [(o[:, :1], o[:, 1:2], o[:, 2:]) for o in b.unbind(0)]
    old = model_augmented_errors(heads, target, rewards, next_obs)
    for x, y in zip(new, old, strict=True):
        assert x.shape == y.shape == (2, 256, 1) and th.equal(x, y)
    weights = th.rand(256, 1, generator=g)
    for errs in (new, old):
        (weights * (errs[0] + 0.3 * errs[1] + 1.7 * errs[2]).sum(0)).mean().backward()
    assert th.equal(a.grad, b.grad)


def _small(cls: type, buffer_class: type | None, **kw: Any) -> Any:
    extra = {} if buffer_class is None else {"replay_buffer_class": buffer_class}
    return cls(
        "MlpPolicy",
        "Pendulum-v1",
        learning_starts=100,
        batch_size=64,
        train_freq=32,
        gradient_steps=8,
        buffer_size=2000,
        policy_kwargs={"net_arch": [32, 32]},
        seed=3,
        device="cpu",
        **extra,
        **kw,
    )


CASES = [
    (MQLSAC, {}),  # MaPER
    (MQLSAC, {"priority": "td"}),
    (MQLSAC, {"uniform": True}),  # MQL, SB3's ReplayBuffer
    (MQLTD3, {}),
    (PrioritizedSAC, {}),  # standard PER
    (PrioritizedSAC, {"per_priority": "td_squared"}),
]


@pytest.mark.parametrize(("cls", "kw"), CASES)
def test_critic_loss_gradients_and_priorities_equal_the_former(cls, kw):
    kw = dict(kw)
    uniform = kw.pop("uniform", False)
    if cls is not PrioritizedSAC:
        kw["lambda_warmup_updates"] = 1
    model = _small(cls, ReplayBuffer if uniform else None, **kw)
    model.learn(200)  # past the warm-up: balanced lambdas
    data = model.replay_buffer.sample(64)
    former = copy.deepcopy(model)
    y = th.randn(64, 1)
    for m, loss_fn in ((model, type(model)._critic_loss), (former, _former_critic_loss)):
        m._former_record = _former_record.__get__(m)
        m.critic.zero_grad()
        m._loss = loss_fn(m, data, lambda r, m=m: r + y, m._reward_for_target)
        m._loss.backward()
    assert th.equal(model._loss, former._loss)
    for p, q in zip(model.critic.parameters(), former.critic.parameters(), strict=True):
        assert th.equal(p.grad, q.grad)
    if not uniform:
        assert np.array_equal(model.replay_buffer.priorities(), former.replay_buffer.priorities())
    model._flush_stats()
    _former_flush(former)
    assert model.last_train_stats.keys() == {"td_error"} | (
        set() if cls is PrioritizedSAC else {"reward_error", "state_error"}
    )
    assert model.last_train_stats == former.last_train_stats  # exactly


def test_polyak_equals_sb3s_bit_for_bit():
    g = th.Generator().manual_seed(0)
    shapes = [(64, 4), (64,), (64, 64), (64,), (5, 64), (5,)]
    params = [th.randn(s, generator=g, requires_grad=True) for s in shapes]
    for tau in (0.02, 0.005, 1.0):
        ours = [th.randn(s, generator=g) for s in shapes]
        sb3 = [t.clone() for t in ours]
        for _ in range(3):
            _polyak(params, ours, tau)
            polyak_update(params, sb3, tau)
        assert all(th.equal(a, b) for a, b in zip(ours, sb3, strict=True))
    with pytest.raises(ValueError):
        _polyak(params, ours[:2], 0.1)


@pytest.mark.parametrize(("cls", "kw"), CASES)
def test_training_runs_equal_the_former_bit_for_bit(cls, kw, monkeypatch):
    """The same seed, the optimised paths vs the former ones (critic loss, statistics, buffer,
    trees, SB3's per-tensor Polyak update, per-critic Q concatenation, and the actor's loss
    backpropagated into the critic's weights too): identical parameters after a short run (so
    every loss, gradient, priority and sampled index along it was identical), identical
    priorities and the same logged statistics."""
    kw = dict(kw)
    uniform = kw.pop("uniform", False)
    if cls is not PrioritizedSAC:
        kw["lambda_warmup_updates"] = 4
    new = _small(cls, ReplayBuffer if uniform else None, **kw)
    new._STATS_CHUNK = 3  # the per-step errors reduced in chunks, and the rest at the flush
    new.learn(260)
    monkeypatch.setattr(agents, "_polyak", polyak_update)
    monkeypatch.setattr(agents, "_min_q", _former_min_q)
    monkeypatch.setattr(agents, "_frozen", lambda params: contextlib.nullcontext())
    old = _small(_former(cls), ReplayBuffer if uniform else _FormerBuffer, **kw)
    old.learn(260)
    for p, q in zip(new.policy.parameters(), old.policy.parameters(), strict=True):
        assert th.equal(p, q)
    if not uniform:
        assert np.array_equal(new.replay_buffer.priorities(), old.replay_buffer.priorities())
        assert new.replay_buffer.effective_sample_size() < 1.0  # prioritization engaged
    assert new.last_train_stats == old.last_train_stats
    assert isinstance(new, _ReplayMixin)
