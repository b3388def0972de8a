"""SB3's ``ReplayBuffer`` contract, run on our ``PrioritizedReplayBuffer``.

Ports of Stable-Baselines3's own replay-buffer tests (``tests/test_buffers.py``:
normalization, device, dtypes with a buffer marked full before any ``add``;
``tests/test_save_load.py``: ``save_replay_buffer``/``load_replay_buffer``/``extend`` and
``optimize_memory_usage`` with DQN, SAC and TD3; the installed wheel ships no tests, these were
read from DLR-RM/stable-baselines3 at 2.9.0a4), plus side-by-side checks against SB3's
``ReplayBuffer``: ``add`` with ``n_envs``, sample shapes and dtypes, ``size()``, ``full``
wrap-around, ``handle_timeout_termination`` and ``optimize_memory_usage``; and the zero-total-
priority fallback (uniform sampling, unit weights).
"""

from copy import deepcopy

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
import gymnasium as gym
import torch as th
from gymnasium import spaces
from stable_baselines3 import DQN, SAC, TD3
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from paperzoo.rl.buffers import PrioritizedReplayBuffer

OBS = spaces.Box(-10, 10, (2,), np.float32)
ACT = spaces.Box(-1, 1, (1,), np.float32)


class DummyEnv(gym.Env):
    """SB3's ``tests/test_buffers.py`` ``DummyEnv``: observations and rewards cycle 1..5."""

    def __init__(self) -> None:
        self.action_space = spaces.Box(1, 5, (1,))
        self.observation_space = spaces.Box(1, 5, (1,))
        self._observations = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]], dtype=np.float32)
        self._rewards = [1, 2, 3, 4, 5]
        self._t = 0
        self._ep_length = 100

    def reset(self, *, seed=None, options=None):
        self._t = 0
        return self._observations[0], {}

    def step(self, action):
        self._t += 1
        index = self._t % len(self._observations)
        truncated = self._t >= self._ep_length
        return self._observations[index], self._rewards[index], False, truncated, {}


def _step(i, n_envs=1, truncated=False):
    """One ``add``'s arguments: obs ``i`` (+100 per env), next obs ``i + 1`` (the next step's
    obs, as ``optimize_memory_usage`` assumes), reward ``i``."""
    obs = np.full((n_envs, 2), float(i), np.float32) + 100 * np.arange(n_envs)[:, None]
    return (
        obs,
        obs + 1,
        np.full((n_envs, 1), 0.1 * i, np.float32),
        np.full(n_envs, float(i), np.float32),
        np.ones(n_envs, np.float32) if truncated else np.zeros(n_envs, np.float32),
        [{"TimeLimit.truncated": truncated} for _ in range(n_envs)],
    )


def _pair(size, **kw):
    """Our buffer and SB3's, built alike."""
    ours = PrioritizedReplayBuffer(size, OBS, ACT, device="cpu", **kw)
    theirs = ReplayBuffer(size, OBS, ACT, device="cpu", **kw)
    return ours, theirs


# --- ports of SB3's tests/test_buffers.py ---------------------------------------------------


def test_dummy_env_passes_sb3_checker():
    check_env(DummyEnv(), warn=False, skip_render_check=True)


def test_replay_buffer_normalization():
    env = VecNormalize(make_vec_env(DummyEnv))
    buffer = PrioritizedReplayBuffer(100, env.observation_space, env.action_space, device="cpu")
    env.reset()
    obs = env.get_original_obs()
    for _ in range(100):
        action = env.action_space.sample()
        _, _, done, info = env.step(action)
        next_obs = env.get_original_obs()
        reward = env.get_original_reward()
        buffer.add(obs, next_obs, action, reward, done, info)
        obs = next_obs
    sample = buffer.sample(50, env)
    for observations in (sample.observations, sample.next_observations):
        assert th.allclose(observations.mean(0), th.zeros(1), atol=1)
    assert np.allclose(sample.rewards.mean(0), np.zeros(1), atol=1)


@pytest.mark.parametrize("device", ["cpu", "cuda", "auto"])
def test_device_buffer(device):
    if device == "cuda" and not th.cuda.is_available():
        pytest.skip("CUDA not available")
    from stable_baselines3.common.utils import get_device

    env = make_vec_env(DummyEnv)
    buffer = PrioritizedReplayBuffer(100, env.observation_space, env.action_space, device=device)
    obs = env.reset()
    for _ in range(100):
        action = env.action_space.sample()
        next_obs, reward, done, info = env.step(action)
        buffer.add(obs, next_obs, action, reward, done, info)
        obs = next_obs
    want = get_device(device).type
    for value in buffer.sample(50):
        if isinstance(value, th.Tensor):
            assert value.device.type == want
        else:  # the flat indices (NumPy) and the n-step discounts (None), as SB3's test allows
            assert isinstance(value, np.ndarray) or value is None


@pytest.mark.parametrize(
    "obs_dtype",
    [
        *(np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64),
        *(np.float16, np.float32, np.float64),
    ],
)
@pytest.mark.parametrize(
    "action_space",
    [
        spaces.Discrete(10),
        spaces.Box(low=-1.0, high=1.0, dtype=np.float32),
        spaces.Box(low=-1.0, high=1.0, dtype=np.float64),
    ],
)
def test_buffer_dtypes_when_marked_full_before_any_add(obs_dtype, action_space):
    """SB3 sets ``full = True`` on an empty buffer and samples 64: the priorities sum to 0,
    so ours falls back to uniform sampling with unit weights (no division by zero)."""
    obs_space = spaces.Box(0, 100, dtype=np.dtype(obs_dtype))
    buffer = PrioritizedReplayBuffer(1, obs_space, action_space)
    action_dtype = ReplayBuffer._maybe_cast_dtype(action_space.dtype)
    assert buffer.observations.dtype == obs_dtype
    assert buffer.actions.dtype == action_dtype
    buffer.full = True
    with np.errstate(all="raise"):
        data = buffer.sample(batch_size=64)
    assert data.actions.numpy().dtype == action_dtype
    assert data.observations.numpy().dtype == obs_dtype
    assert th.equal(data.weights, th.ones(64, 1))


def test_dict_observations_are_refused_with_a_reason():
    space = spaces.Dict({"obs": spaces.Box(0, 100, (1,)), "obs_2": spaces.Box(0, 100, (1,))})
    with pytest.raises(ValueError, match="not Dict"):
        PrioritizedReplayBuffer(10, space, ACT)


# --- side by side with SB3's ReplayBuffer ---------------------------------------------------


@pytest.mark.parametrize("n_envs", [1, 3])
@pytest.mark.parametrize("handle_timeout_termination", [True, False])
def test_storage_size_and_wraparound_match_sb3(n_envs, handle_timeout_termination):
    kw = {"n_envs": n_envs, "handle_timeout_termination": handle_timeout_termination}
    ours, theirs = _pair(12, **kw)  # 12 // n_envs slots per env
    assert ours.buffer_size == theirs.buffer_size == 12 // n_envs
    for i in range(ours.buffer_size + 2):  # past the end: wraps around
        for buf in (ours, theirs):
            buf.add(*_step(i, n_envs, truncated=i % 3 == 0))
        assert (ours.pos, ours.full, ours.size()) == (theirs.pos, theirs.full, theirs.size())
    assert ours.full and ours.pos == 2
    for k in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts"):
        assert np.array_equal(getattr(ours, k), getattr(theirs, k)), k
    assert ours.num_stored() == ours.size() * n_envs == 12 // n_envs * n_envs


@pytest.mark.parametrize("n_envs", [1, 2])
def test_sample_shapes_and_dtypes_match_sb3(n_envs):
    ours, theirs = _pair(20, n_envs=n_envs)
    for i in range(7):
        ours.add(*_step(i, n_envs))
        theirs.add(*_step(i, n_envs))
    a, b = ours.sample(16), theirs.sample(16)
    for field in ("observations", "actions", "next_observations", "dones", "rewards"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x.shape, x.dtype) == (y.shape, y.dtype), field
    assert a.discounts is None and b.discounts is None
    assert a.weights.shape == (16, 1) and a.indices.shape == (16,)
    # each sampled row is the transition its flat index names (pos * n_envs + env)
    pos, env = a.indices // n_envs, a.indices % n_envs
    assert np.array_equal(a.rewards[:, 0].numpy(), pos.astype(np.float32))
    assert np.array_equal(a.observations[:, 0].numpy(), (pos + 100 * env).astype(np.float32))
    assert np.array_equal(a.next_observations[:, 0].numpy(), a.observations[:, 0].numpy() + 1)


@pytest.mark.parametrize("handle_timeout_termination", [True, False])
def test_timeouts_are_not_terminal_when_handled(handle_timeout_termination):
    ours, _ = _pair(10, handle_timeout_termination=handle_timeout_termination)
    for i in range(4):
        ours.add(*_step(i, truncated=True))  # done=1, info says TimeLimit.truncated
    dones = ours.sample(8).dones
    assert th.all(dones == (0.0 if handle_timeout_termination else 1.0))


def test_optimize_memory_usage_follows_sb3():
    with pytest.raises(ValueError, match="handle_timeout_termination"):  # SB3's own rule
        PrioritizedReplayBuffer(10, OBS, ACT, optimize_memory_usage=True)
    kw = {"optimize_memory_usage": True, "handle_timeout_termination": False}
    ours, theirs = _pair(5, **kw)
    assert not hasattr(ours, "next_observations") or ours.next_observations is None
    np.random.seed(0)
    for i in range(8):  # wraps around: full, pos = 3
        ours.add(*_step(i))
        theirs.add(*_step(i))
        assert np.array_equal(ours.observations, theirs.observations)
        if ours.full:
            # the transition at pos lost its observation (the last next_obs is there): p = 0
            assert ours.priorities()[ours.pos] == 0.0
    seen = set()
    for _ in range(50):
        s = ours.sample(8)
        seen |= set(s.indices.tolist())
        assert np.array_equal(s.next_observations.numpy(), s.observations.numpy() + 1)
        assert np.array_equal(s.rewards[:, 0].numpy(), s.observations[:, 0].numpy())
    assert seen == {0, 1, 2, 4}  # every slot but pos = 3
    # a priority update cannot bring the overwritten transition back
    ours.update_priorities(np.arange(5), np.full(5, 2.0))
    assert ours.priorities()[3] == 0.0


def test_optimize_memory_usage_save_load_keeps_the_gap(tmp_path):
    buf = PrioritizedReplayBuffer(
        4, OBS, ACT, optimize_memory_usage=True, handle_timeout_termination=False
    )
    for i in range(6):
        buf.add(*_step(i))
    buf.save(tmp_path / "b.npz")
    back = PrioritizedReplayBuffer(
        4, OBS, ACT, optimize_memory_usage=True, handle_timeout_termination=False
    ).load(tmp_path / "b.npz")
    assert np.array_equal(back.priorities(), buf.priorities()) and back.priorities()[2] == 0
    assert np.all(back.sample(16).weights.numpy() == 1.0)  # p_min ignores the zero gap
    with pytest.raises(ValueError, match="optimize_memory_usage"):
        PrioritizedReplayBuffer(4, OBS, ACT, handle_timeout_termination=False).load(
            tmp_path / "b.npz"
        )


# --- zero total priority ------------------------------------------------------------------


def test_zero_total_priority_samples_uniformly_with_unit_weights(tmp_path):
    np.random.seed(3)
    buf = PrioritizedReplayBuffer(4, OBS, ACT, alpha=2.0, eps=1e-300)
    for i in range(4):
        buf.add(*_step(i))
    buf.update_priorities(np.arange(4), np.zeros(4))  # (0 + 1e-300)^2 underflows to 0
    assert buf.priorities().tolist() == [0.0] * 4
    with np.errstate(all="raise"):
        s = buf.sample(4000)
    assert th.equal(s.weights, th.ones(4000, 1))
    assert np.bincount(s.indices, minlength=4) / 4000 == pytest.approx([0.25] * 4, abs=0.03)
    # the same from a saved file of zeros
    buf.save(tmp_path / "z.npz")
    back = PrioritizedReplayBuffer(4, OBS, ACT).load(tmp_path / "z.npz")
    with np.errstate(all="raise"):
        assert th.equal(back.sample(8).weights, th.ones(8, 1))


def test_zero_priorities_of_some_transitions_do_not_poison_the_weights():
    np.random.seed(4)
    buf = PrioritizedReplayBuffer(4, OBS, ACT, alpha=2.0, eps=1e-300)
    for i in range(4):
        buf.add(*_step(i))
    buf.update_priorities(np.arange(4), np.array([0.0, 1.0, 0.0, 2.0]))  # p = 0, 1, 0, 4
    with np.errstate(all="raise"):
        s = buf.sample(100)
    assert set(s.indices.tolist()) <= {1, 3}
    want = np.where(s.indices == 1, 1.0, 4.0**-buf.beta)  # (p / p_min)^-beta, p_min = 1
    assert s.weights[:, 0].numpy() == pytest.approx(want)


def test_marked_full_with_memory_optimization_skips_the_overwritten_slot():
    np.random.seed(5)
    buf = PrioritizedReplayBuffer(
        6, OBS, ACT, n_envs=2, optimize_memory_usage=True, handle_timeout_termination=False
    )
    buf.full = True  # before any add, pos = 0: SB3 never samples slot 0 then
    s = buf.sample(500)
    assert set(s.indices.tolist()) == {2, 3, 4, 5}  # flat pos * n_envs + env, pos 1 and 2
    assert th.equal(s.weights, th.ones(500, 1))


# --- ports of SB3's tests/test_save_load.py -------------------------------------------------


def _env_for(model_class):
    return "CartPole-v1" if model_class is DQN else "Pendulum-v1"


@pytest.mark.parametrize("model_class", [SAC, TD3, DQN])
def test_save_load_replay_buffer_and_extend(tmp_path, model_class):
    path = tmp_path / "logs" / "replay_buffer.pkl"
    path.parent.mkdir(parents=True)
    model = model_class(
        "MlpPolicy",
        _env_for(model_class),
        buffer_size=1000,
        policy_kwargs={"net_arch": [16]},
        learning_starts=100,
        replay_buffer_class=PrioritizedReplayBuffer,
        device="cpu",
        seed=0,
    )
    model.learn(150)
    old = deepcopy(model.replay_buffer)
    model.save_replay_buffer(path)
    model.replay_buffer = None
    model.load_replay_buffer(path)
    buf = model.replay_buffer
    assert isinstance(buf, PrioritizedReplayBuffer) and buf.device.type == "cpu"
    for k in ("observations", "actions", "rewards", "dones", "timeouts"):
        assert np.allclose(getattr(old, k), getattr(buf, k)), k
    assert np.array_equal(old.priorities(), buf.priorities())
    infos = [[{"TimeLimit.truncated": t}] for t in old.timeouts]
    n = buf.num_stored()
    buf.extend(old.observations, old.observations, old.actions, old.rewards, old.dones, infos)
    assert n == model.num_timesteps >= 150 and buf.full and buf.num_stored() == 1000
    assert buf.sample(32).weights.shape == (32, 1)


@pytest.mark.parametrize("model_class", [DQN, SAC, TD3])
@pytest.mark.parametrize("optimize_memory_usage", [False, True])
def test_learn_with_and_without_memory_optimization(model_class, optimize_memory_usage):
    model = model_class(
        "MlpPolicy",
        _env_for(model_class),
        buffer_size=100,
        optimize_memory_usage=optimize_memory_usage,
        replay_buffer_class=PrioritizedReplayBuffer,
        replay_buffer_kwargs={"handle_timeout_termination": not optimize_memory_usage},
        policy_kwargs={"net_arch": [16]},
        learning_starts=10,
        device="cpu",
        seed=0,
    )
    model.learn(150)  # wraps the 100-slot buffer around
    buf = model.replay_buffer
    assert buf.full and buf.optimize_memory_usage == optimize_memory_usage
    assert (buf.priorities()[buf.pos] == 0.0) == optimize_memory_usage
