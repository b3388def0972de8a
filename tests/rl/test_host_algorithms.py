"""Beyond the paper's setting: image observations (``CnnPolicy``) and discrete actions (SB3's
DQN with our buffer as ``replay_buffer_class``)."""

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
import gymnasium as gym
import torch as th
from gymnasium import spaces
from stable_baselines3 import DQN
from stable_baselines3.common.env_checker import check_env

from paperzoo.rl import MQLSAC, MQLTD3, PrioritizedReplayBuffer, PrioritizedSAC, PrioritizedTD3


class TinyImageEnv(gym.Env):
    """36x36 grey images (NatureCNN's smallest input), one continuous action, 20-step episodes;
    the reward is the action, so the critic has something to fit."""

    observation_space = spaces.Box(0, 255, (36, 36, 1), np.uint8)
    action_space = spaces.Box(-1, 1, (1,), np.float32)

    def __init__(self) -> None:
        self._t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self._t += 1
        reward = float(np.clip(action, -1, 1)[0])
        return self.observation_space.sample(), reward, False, self._t >= 20, {}


def _kw(**over):
    kw = dict(
        learning_starts=20,
        batch_size=8,
        train_freq=10,
        gradient_steps=2,
        buffer_size=200,
        seed=0,
        device="cpu",
        policy_kwargs={"net_arch": [8], "features_extractor_kwargs": {"features_dim": 8}},
    )
    return {**kw, **over}


def test_tiny_image_env_is_valid():
    check_env(TinyImageEnv(), warn=False, skip_render_check=True)


@pytest.mark.parametrize("cls", [PrioritizedSAC, PrioritizedTD3])
def test_per_agents_work_with_cnn_policy(cls):
    model = cls("CnnPolicy", TinyImageEnv(), **_kw())
    model.learn(60)
    buf = model.replay_buffer
    assert isinstance(buf, PrioritizedReplayBuffer) and buf.observations.dtype == np.uint8
    assert buf.effective_sample_size() < 1.0  # TD-error priorities were written
    action, _ = model.predict(TinyImageEnv().observation_space.sample(), deterministic=True)
    assert action.shape == (1,)


@pytest.mark.parametrize("cls", [MQLSAC, MQLTD3])
def test_mql_agents_refuse_images_in_one_line(cls):
    with pytest.raises(ValueError, match="does not support CnnPolicy") as err:
        cls("CnnPolicy", TinyImageEnv(), **_kw())
    assert "\n" not in str(err.value) and cls.__name__ in str(err.value)
    # MlpPolicy on the same image space (SB3 transposes it to channels first): refused too
    with pytest.raises(ValueError, match=r"support image observations \(1, 36, 36\)") as err:
        cls("MlpPolicy", TinyImageEnv(), **_kw(policy_kwargs={"net_arch": [8]}))
    assert "\n" not in str(err.value)


def _dqn(**over):
    kw = dict(
        replay_buffer_class=PrioritizedReplayBuffer,
        learning_starts=50,
        train_freq=4,
        batch_size=16,
        buffer_size=500,
        target_update_interval=50,
        policy_kwargs={"net_arch": [16]},
        seed=0,
        device="cpu",
    )
    return DQN("MlpPolicy", "CartPole-v1", **{**kw, **over})


def test_dqn_trains_with_the_buffer_but_never_updates_priorities():
    model = _dqn()
    buf = model.replay_buffer
    assert isinstance(buf, PrioritizedReplayBuffer)
    calls = []
    update = buf.update_priorities
    buf.update_priorities = lambda *a: (calls.append(a), update(*a))  # type: ignore[method-assign]
    before = th.cat([p.detach().flatten() for p in model.q_net.parameters()])
    model.learn(300)
    after = th.cat([p.detach().flatten() for p in model.q_net.parameters()])
    assert model._n_updates > 0 and not th.equal(before, after)  # DQN trained on our samples
    assert calls == []  # SB3's DQN never reports TD errors: priorities stay at their entry value
    assert np.all(buf.priorities() == 1.0) and buf.effective_sample_size() == 1.0
    s = buf.sample(32)
    assert s.actions.dtype == th.int64 and s.actions.shape == (32, 1)
    assert th.equal(s.weights, th.ones(32, 1))  # uniform priorities: unit weights


def test_dqn_with_td_priorities_set_from_outside():
    """What a TD-error-aware DQN would do: prioritized samples and weights < 1, and DQN keeps
    training on the prioritized buffer."""
    np.random.seed(0)
    model = _dqn()
    model.learn(200)
    buf = model.replay_buffer
    data = buf.sample(64)
    with th.no_grad():
        q = model.q_net(data.observations).gather(1, data.actions.long())
        nxt = model.q_net_target(data.next_observations).max(1, keepdim=True)[0]
        delta = data.rewards + (1 - data.dones) * model.gamma * nxt - q
    buf.update_priorities(data.indices, delta.abs())
    assert buf.effective_sample_size() < 1.0
    s = buf.sample(64)
    assert float(s.weights.min()) < 1.0 and float(s.weights.max()) <= 1.0
    model.learn(100, reset_num_timesteps=False)
    assert model.num_timesteps >= 300


def test_dqn_with_memory_optimization():
    model = _dqn(
        buffer_size=100,
        optimize_memory_usage=True,
        replay_buffer_kwargs={"handle_timeout_termination": False},
    )
    model.learn(200)
    buf = model.replay_buffer
    assert buf.full and buf.priorities()[buf.pos] == 0.0
    assert buf.pos not in set(buf.sample(256).indices.tolist())
