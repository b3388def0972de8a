"""The prioritized buffer: new transitions at max priority, proportional sampling, importance
weights, n_envs indexing, and save/load (npz and SB3's pickle) keeping priorities."""

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
from gymnasium import spaces

from paperzoo.rl.buffers import PrioritizedReplayBuffer, effective_sample_size


def _buffer(size=8, n_envs=1, **kw):
    obs = spaces.Box(-10, 10, (2,), np.float32)
    act = spaces.Box(-1, 1, (1,), np.float32)
    return PrioritizedReplayBuffer(size, obs, act, device="cpu", n_envs=n_envs, **kw)


def _fill(buf, n):
    for i in range(n):
        o = np.full((buf.n_envs, 2), i, np.float32) + np.arange(buf.n_envs)[:, None] * 100
        buf.add(
            o,
            o + 1,
            np.zeros((buf.n_envs, 1)),
            np.full(buf.n_envs, i, np.float32),
            np.zeros(buf.n_envs),
            [{}] * buf.n_envs,
        )


def test_new_transitions_enter_at_the_largest_priority():
    buf = _buffer(alpha=1.0, eps=1e-6)
    _fill(buf, 3)
    assert buf.priorities().tolist() == [1.0, 1.0, 1.0]
    buf.update_priorities(np.array([0, 2]), np.array([4.0, 0.0]))
    _fill(buf, 1)
    assert buf.priorities() == pytest.approx([4.0, 1.0, 1e-6, 4.0])
    assert buf.max_priority == pytest.approx(4.0)


def test_sampling_is_proportional_and_weights_follow_the_formula():
    np.random.seed(0)
    buf = _buffer(alpha=0.5, beta=0.4, eps=1e-9)
    _fill(buf, 4)
    errors = np.array([1.0, 4.0, 9.0, 16.0])  # p = e^0.5 = 1, 2, 3, 4
    buf.update_priorities(np.arange(4), errors)
    counts = np.zeros(4)
    for _ in range(500):
        s = buf.sample(20)
        counts += np.bincount(s.indices, minlength=4)
    freq = counts / counts.sum()
    assert freq == pytest.approx([0.1, 0.2, 0.3, 0.4], abs=0.01)
    s = buf.sample(4)
    p = np.array([1.0, 2.0, 3.0, 4.0])[s.indices]
    # w = (N P)^-beta / max w; max w belongs to p_min = 1
    expected = (p / 1.0) ** -0.4
    assert s.weights[:, 0].numpy() == pytest.approx(expected, rel=1e-5)
    # the stored rewards are the step numbers: the sample returns the sampled transitions
    assert s.rewards[:, 0].numpy().tolist() == s.indices.tolist()


def test_stratified_sample_covers_every_segment():
    np.random.seed(1)
    buf = _buffer(alpha=1.0)
    _fill(buf, 8)  # uniform priorities: one draw per eighth of the mass
    s = buf.sample(8)
    assert sorted(s.indices.tolist()) == list(range(8))


def test_several_envs_are_indexed_pos_times_n_envs_plus_env():
    np.random.seed(2)
    buf = _buffer(size=8, n_envs=2, alpha=1.0, eps=1e-9)
    _fill(buf, 3)
    assert buf.num_stored() == 6
    buf.update_priorities(np.arange(6), np.array([0, 0, 0, 1.0, 0, 0]))  # pos 1, env 1
    s = buf.sample(5)
    assert set(s.indices.tolist()) == {3}
    assert s.observations.numpy() == pytest.approx(np.tile([101.0, 101.0], (5, 1)))


def test_bad_inputs_are_refused():
    buf = _buffer()
    with pytest.raises(RuntimeError):
        buf.sample(2)
    _fill(buf, 2)
    with pytest.raises(ValueError):
        buf.update_priorities(np.array([0, 1]), np.array([1.0]))
    with pytest.raises(ValueError):
        buf.update_priorities(np.array([0]), np.array([np.nan]))
    with pytest.raises(ValueError, match="handle_timeout_termination"):  # SB3's own rule
        _buffer(optimize_memory_usage=True)
    with pytest.raises(ValueError):
        _buffer(beta=1.5)


def test_save_load_npz_and_sb3_pickle_keep_priorities(tmp_path):
    buf = _buffer(size=4)
    _fill(buf, 6)  # wrapped around: full
    buf.update_priorities(np.arange(4), np.array([0.1, 2.0, 0.0, 5.0]))
    buf.save(tmp_path / "b.npz")
    back = _buffer(size=4).load(tmp_path / "b.npz")
    assert back.full and back.pos == buf.pos
    assert np.array_equal(back.priorities(), buf.priorities())
    assert back.max_priority == buf.max_priority
    assert np.array_equal(back.observations, buf.observations)
    with np.load(tmp_path / "b.npz", allow_pickle=False) as z:
        assert "leaves" in z

    from stable_baselines3.common.save_util import load_from_pkl, save_to_pkl

    save_to_pkl(tmp_path / "b.pkl", buf)
    pickled = load_from_pkl(tmp_path / "b.pkl")
    assert np.array_equal(pickled.priorities(), buf.priorities())
    with pytest.raises(ValueError, match="shape"):
        _buffer(size=8).load(tmp_path / "b.npz")


def test_effective_sample_size():
    assert effective_sample_size(np.ones(10)) == pytest.approx(1.0)
    assert effective_sample_size(np.array([1.0, 0, 0, 0])) == pytest.approx(0.25)
    buf = _buffer()
    _fill(buf, 4)
    assert buf.effective_sample_size() == pytest.approx(1.0)
