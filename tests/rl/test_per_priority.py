"""The SAC+PER baseline's priority rule: standard proportional PER by default (Schaul et al.
2016: ``p = (|delta| + eps)^0.6``), the MaPER copy's ``(delta^2 + eps)^0.7`` as the named
variant ``td_squared``; the reproduction's config selects it; MaPER's rule is untouched."""

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
import gymnasium as gym
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer

from paperzoo.core.config import ConfigError
from paperzoo.core.presets import build_config
from paperzoo.rl import MQLSAC, PrioritizedReplayBuffer, PrioritizedSAC, PrioritizedTD3
from paperzoo.rl.agents import PER_ALPHA
from paperzoo.rl.buffers import PrioritizedReplayBufferSamples
from paperzoo.rl.repro.train import build_agent

EPS = 1e-6
# Twin critics' Q values and the TD target for three transitions.
Q1 = th.tensor([[1.0], [2.0], [-0.5]])
Q2 = th.tensor([[3.0], [2.0], [0.5]])
Y = th.tensor([[2.0], [2.0], [0.0]])
# By hand: |delta_k| = (1, 1), (0, 0), (0.5, 0.5); delta_k^2 = (1, 1), (0, 0), (0.25, 0.25).
ABS_MEAN = np.array([1.0, 0.0, 0.5])
SQ_MEAN = np.array([1.0, 0.0, 0.25])


class _FixedCritic(th.nn.Module):
    """A twin critic returning the fixed ``Q1``, ``Q2`` (a plain, not model-augmented, critic)."""

    def forward(self, obs: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        return Q1.clone(), Q2.clone()


def _agent(cls=PrioritizedSAC, **kw):
    return cls(
        "MlpPolicy",
        "Pendulum-v1",
        buffer_size=50,
        learning_starts=10,
        batch_size=8,
        policy_kwargs={"net_arch": [8]},
        seed=0,
        device="cpu",
        **kw,
    )


def _priorities_after_one_batch(model) -> np.ndarray:
    """Store 3 transitions, run the critic loss on them with the fixed critic and target."""
    buf = model.replay_buffer
    for _ in range(3):
        buf.add(np.zeros((1, 3)), np.zeros((1, 3)), np.zeros((1, 1)), np.zeros(1), [0.0], [{}])
    data = PrioritizedReplayBufferSamples(
        th.zeros(3, 3), th.zeros(3, 1), th.zeros(3, 3), th.zeros(3, 1), Y.clone(), None,
        th.ones(3, 1), np.arange(3),
    )  # fmt: skip
    model.critic = _FixedCritic()
    model._critic_loss(data, lambda reward: reward, "true")  # target = the rewards = Y
    return buf.priorities()


@pytest.mark.parametrize("cls", [PrioritizedSAC, PrioritizedTD3])
def test_default_rule_is_standard_per(cls):
    model = _agent(cls)
    assert model.per_priority == "td_abs" and model.replay_buffer.alpha == 0.6
    p = _priorities_after_one_batch(model)
    assert p == pytest.approx((ABS_MEAN + EPS) ** 0.6, rel=1e-6)
    assert p == pytest.approx([1.0, EPS**0.6, 0.5**0.6], rel=1e-5)


@pytest.mark.parametrize("cls", [PrioritizedSAC, PrioritizedTD3])
def test_td_squared_variant_is_the_maper_copys_rule(cls):
    model = _agent(cls, per_priority="td_squared")
    assert model.replay_buffer.alpha == 0.7
    p = _priorities_after_one_batch(model)
    assert p == pytest.approx((SQ_MEAN + EPS) ** 0.7, rel=1e-6)


def test_alpha_defaults_follow_the_rule_unless_given():
    assert PER_ALPHA == {"td_abs": 0.6, "td_squared": 0.7}
    given = {"alpha": 0.5, "beta": 0.3}
    model = _agent(replay_buffer_kwargs=given)
    assert (model.replay_buffer.alpha, model.replay_buffer.beta) == (0.5, 0.3)
    assert given == {"alpha": 0.5, "beta": 0.3}  # the caller's dict is not changed
    plain = _agent(replay_buffer_class=ReplayBuffer)  # no alpha passed to SB3's buffer
    assert not isinstance(plain.replay_buffer, PrioritizedReplayBuffer)
    with pytest.raises(ValueError, match="per_priority"):
        _agent(per_priority="td")


def test_rule_survives_save_and_load(tmp_path):
    model = _agent(per_priority="td_squared")
    model.save(tmp_path / "m.zip")
    back = PrioritizedSAC.load(tmp_path / "m.zip", env=gym.make("Pendulum-v1"), device="cpu")
    assert back.per_priority == "td_squared" and back.replay_buffer.alpha == 0.7


def test_real_critic_priorities_are_mean_abs_td_error():
    """End to end on SAC's own critic: priorities written = (mean_k |Q_k - y| + eps)^0.6."""
    model = _agent()
    model.learn(20)
    data = model.replay_buffer.sample(8)
    y = th.randn(8, 1)
    with th.no_grad():
        q1, q2 = model.critic(data.observations, data.actions)
    model._critic_loss(data, lambda reward: y, "true")
    want = (((q1 - y).abs() + (q2 - y).abs()).numpy()[:, 0] / 2 + EPS) ** 0.6
    got = model.replay_buffer.priorities()[data.indices]
    last = {int(i): k for k, i in enumerate(data.indices)}  # duplicates: the last write wins
    assert got == pytest.approx(want[[last[int(i)] for i in data.indices]], rel=1e-5)


def test_maper_rule_is_unchanged():
    """MaPER's priorities stay the model error e = mean_k [dQ + lR dR + lS dS] at alpha 0.7."""
    model = _agent(MQLSAC, lambda_reward=0.5, lambda_state=2.0)
    assert model.replay_buffer.alpha == 0.7
    model.learn(20)
    data = model.replay_buffer.sample(8)
    y = th.randn(8, 1)
    with th.no_grad():
        heads = model.critic.heads(data.observations, data.actions)
    e = th.stack(
        [
            (q - y) ** 2
            + 0.5 * (r - data.rewards) ** 2
            + 2.0 * ((s - data.next_observations) ** 2).mean(-1, keepdim=True)
            for q, r, s in heads
        ]
    ).mean(0)
    model._critic_loss(data, lambda reward: y, "true")
    want = (e.numpy()[:, 0] + EPS) ** 0.7
    last = {int(i): k for k, i in enumerate(data.indices)}
    got = model.replay_buffer.priorities()[data.indices]
    assert got == pytest.approx(want[[last[int(i)] for i in data.indices]], rel=1e-5)


def test_config_selects_the_rule():
    env = gym.make("Pendulum-v1")
    cfg = build_config("rl", "smoke")
    assert (cfg.replay.per_priority, cfg.replay.per_alpha, cfg.replay.alpha) == ("td_abs", 0.6, 0.7)
    per = build_agent("SAC+PER", env, cfg, seed=0)
    assert (per.per_priority, per.replay_buffer.alpha) == ("td_abs", 0.6)
    maper = build_agent("MaPER", env, cfg, seed=0)
    assert (maper.priority, maper.replay_buffer.alpha) == ("model_error", 0.7)
    copy = build_config("rl", "smoke", overrides=["replay.per_priority=td_squared"])
    per = build_agent("SAC+PER", env, copy, seed=0)
    assert (per.per_priority, per.replay_buffer.alpha) == ("td_squared", 0.7)
    with pytest.raises(ConfigError):
        build_config("rl", "smoke", overrides=["replay.per_priority=td"])
    with pytest.raises(ConfigError):
        build_config("rl", "smoke", overrides=["replay.per_alpha=-1"])


def test_config_choices_match_the_agents_rules():
    import typing

    from paperzoo.rl.agents import PERPriority
    from paperzoo.rl.repro.config import ReplayConfig

    hint = typing.get_type_hints(ReplayConfig)["per_priority"]
    assert set(typing.get_args(hint)) == set(typing.get_args(PERPriority)) == set(PER_ALPHA)
    r = ReplayConfig()
    assert (r.per_alpha, r.alpha) == (PER_ALPHA["td_abs"], PER_ALPHA["td_squared"])
