"""The SB3 agents: PER-SAC with a plain buffer is SAC; MQL/MaPER learn, save, load, run with
callbacks, several envs and TD3; the model heads get gradients; priorities move."""

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
import gymnasium as gym
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import CheckpointCallback
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.env_util import make_vec_env

from paperzoo.rl import (
    MQLSAC,
    MQLTD3,
    ModelAugmentedCritic,
    PrioritizedReplayBuffer,
    PrioritizedSAC,
    PrioritizedTD3,
    q_estimation_bias,
)


def small(**over):
    """Fresh keyword arguments (SB3 writes into ``policy_kwargs``, so never share the dict)."""
    return {**_SMALL, "policy_kwargs": {"net_arch": [16, 16]}, **over}


_SMALL = dict(
    learning_starts=50,
    batch_size=16,
    train_freq=25,
    gradient_steps=5,
    policy_kwargs={"net_arch": [16, 16]},
    buffer_size=1000,
    seed=0,
    device="cpu",
)


def _params(model):
    return torch.cat([p.detach().flatten() for p in model.policy.parameters()])


def test_prioritized_sac_with_a_plain_buffer_is_sac():
    # SGD, not Adam: Adam's first steps are lr * sign(g), so a rounding-level difference in a
    # near-zero gradient would flip a parameter by 2 lr and hide whether the losses agree.
    kw = small(policy_kwargs={"net_arch": [16, 16], "optimizer_class": torch.optim.SGD})
    # SB3 seeds the global RNGs when an agent is built: build each right before it learns.
    a = SAC("MlpPolicy", "Pendulum-v1", **kw)
    a.learn(150)
    b = PrioritizedSAC("MlpPolicy", "Pendulum-v1", replay_buffer_class=ReplayBuffer, **kw)
    b.learn(150)
    assert torch.allclose(_params(a), _params(b), atol=1e-6)


def test_maper_learns_moves_priorities_and_balances_lambdas():
    env = gym.make("Pendulum-v1")
    check_env(env.unwrapped)
    model = MQLSAC("MlpPolicy", env, lambda_warmup_updates=5, **small())
    assert isinstance(model.critic, ModelAugmentedCritic)
    assert isinstance(model.replay_buffer, PrioritizedReplayBuffer)
    model.learn(200)
    buf = model.replay_buffer
    assert buf.effective_sample_size() < 1.0  # priorities are no longer all equal
    assert buf.beta > 0.4  # annealed towards 1
    lam = model._current_lambdas
    assert lam is not None and lam != (1.0, 1.0) and all(np.isfinite(lam))
    assert {"td_error", "reward_error", "state_error"} <= set(model.last_train_stats)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action.astype(np.float32))


def test_model_heads_receive_gradients():
    model = MQLSAC("MlpPolicy", "Pendulum-v1", **small())
    obs = torch.randn(4, 3)
    act = torch.rand(4, 1) * 2 - 1
    heads = model.critic.heads(obs, act)
    assert [h[2].shape for h in heads] == [(4, 3), (4, 3)]
    heads[0][1].sum().backward()  # the reward head trains the shared trunk
    first = next(model.critic.q_networks[0].parameters())
    assert first.grad is not None and first.grad.abs().sum() > 0
    assert [q.shape for q in model.critic(obs, act)] == [(4, 1), (4, 1)]


def test_save_load_callbacks_and_priorities_survive(tmp_path):
    model = MQLSAC("MlpPolicy", "Pendulum-v1", **small())
    model.learn(120, callback=CheckpointCallback(60, str(tmp_path), name_prefix="ck"))
    assert list(tmp_path.glob("ck_*.zip"))
    model.save(tmp_path / "m.zip")
    model.save_replay_buffer(tmp_path / "buf.pkl")
    back = MQLSAC.load(tmp_path / "m.zip", env=gym.make("Pendulum-v1"), device="cpu")
    back.load_replay_buffer(tmp_path / "buf.pkl")
    assert isinstance(back.critic, ModelAugmentedCritic)
    assert np.array_equal(back.replay_buffer.priorities(), model.replay_buffer.priorities())
    assert torch.allclose(_params(back), _params(model))
    back.learn(60, reset_num_timesteps=False)  # training continues


def test_several_envs_mql_uniform_and_td3_variants():
    venv = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    m = MQLSAC("MlpPolicy", venv, **small())
    m.learn(120)
    assert m.replay_buffer.num_stored() == m.num_timesteps >= 120  # two envs per step
    u = MQLSAC("MlpPolicy", "Pendulum-v1", replay_buffer_class=ReplayBuffer, **small())
    u.learn(100)
    assert not isinstance(u.replay_buffer, PrioritizedReplayBuffer)
    for cls in (MQLTD3, PrioritizedTD3):
        t = cls("MlpPolicy", "Pendulum-v1", **small())
        t.learn(100)
        assert t.replay_buffer.effective_sample_size() < 1.0
    with pytest.raises(ValueError):
        MQLSAC("MlpPolicy", "Pendulum-v1", priority="bogus", **small())


def test_q_bias_runs_on_sac_and_td3():
    for cls in (MQLSAC, MQLTD3):
        m = cls("MlpPolicy", "Pendulum-v1", **small())
        m.learn(60)
        env = gym.make("Pendulum-v1", max_episode_steps=30)
        b = q_estimation_bias(m, env, num_episodes=2, horizon=10)
        assert set(b) >= {"bias", "bias_magnitude", "abs_error", "q", "return"}
        assert b["bias_magnitude"] == pytest.approx(abs(b["bias"]))
