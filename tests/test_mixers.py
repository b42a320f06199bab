"""Value decomposition in MADQN: VDN and QMIX mixers, joint storage, dead agents, save/load."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env

from sb3_marl import MADQN, make_vec_env
from sb3_marl.buffers import JointReplayBuffer
from sb3_marl.madqn.mixers import QMIXMixer, VDNMixer
from tests.envs_for_tests import DeathEnv, MixedSpacesEnv

SMALL = dict(
    learning_starts=40, buffer_size=2_000, batch_size=16, train_freq=1, policy_kwargs=dict(net_arch=[16])
)


def test_vdn_is_the_sum() -> None:
    qs = th.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, 4.0]])
    team = VDNMixer(3)(qs, th.zeros(2, 5))
    assert th.equal(team, th.tensor([[-0.5], [7.0]]))


def test_qmix_is_monotonic_with_non_negative_weights() -> None:
    th.manual_seed(0)
    mixer = QMIXMixer(n_agents=3, state_dim=6, embed_dim=8)
    states = th.randn(256, 6)
    qs = th.randn(256, 3)
    w1, w2 = mixer.mixing_weights(states)
    assert (w1 >= 0).all() and (w2 >= 0).all()
    qs.requires_grad_(True)
    mixer(qs, states).sum().backward()
    assert qs.grad is not None and (qs.grad >= 0).all()
    # raising any one agent's Q never lowers the team Q
    for k in range(3):
        higher = qs.detach().clone()
        higher[:, k] += th.rand(256) * 3
        assert (mixer(higher, states) >= mixer(qs.detach(), states) - 1e-6).all()


def test_dead_agents_add_nothing_to_the_mix() -> None:
    th.manual_seed(1)
    mixer = QMIXMixer(n_agents=3, state_dim=4)
    states = th.randn(5, 4)
    qs = th.randn(5, 3)
    alive = th.tensor([1.0, 0.0, 1.0])
    other = qs.clone()
    other[:, 1] = 100.0  # whatever the dead agent's Q is
    assert th.allclose(mixer(qs * alive, states), mixer(other * alive, states))


def test_joint_buffer_keeps_whole_copies() -> None:
    obs_space = spaces.Box(-10, 10, (2,), np.float32)
    buffer = JointReplayBuffer(
        8, obs_space, spaces.Discrete(3), n_agents=2, state_dim=3, device="cpu", n_envs=2
    )
    for t in range(4):
        obs = np.arange(8, dtype=np.float32).reshape(2, 2, 2) + 100 * t  # [copy, agent, obs]
        buffer.add(
            obs,
            obs + 1,
            np.array([[t % 3, 0], [1, 2]]),
            np.array([t, -t], dtype=np.float32),
            np.array([False, False]),
            [{}, {}],
            np.ones((2, 2, 3), bool),
            states=np.full((2, 3), t, np.float32),
            next_states=np.full((2, 3), t + 1, np.float32),
            active=np.array([[True, True], [t != 2, False]]),
            next_active=np.array([[True, True], [True, False]]),
        )
    samples = buffer.sample(64, beta=0.5)
    rows, cols = np.divmod(samples.indices, 2)
    assert samples.observations.shape == (64, 2, 2) and samples.next_action_masks.shape == (64, 2, 3)
    for b in range(64):
        t, c = rows[b], cols[b]
        expected = np.arange(8, dtype=np.float32).reshape(2, 2, 2)[c] + 100 * t
        assert np.array_equal(samples.observations[b].numpy(), expected)
        assert samples.rewards[b, 0].item() == (t if c == 0 else -t)
        assert np.all(samples.states[b].numpy() == t) and np.all(samples.next_states[b].numpy() == t + 1)
        assert samples.active[b, 1].item() == (c == 0)
    # the copy where no agent acted (copy 1 at t=2) is never sampled
    assert not np.any((rows == 2) & (cols == 1))


@pytest.mark.parametrize("mixer", ["vdn", "qmix"])
def test_run_save_load(mixer: str, tmp_path: Any) -> None:
    env = make_vec_env("mpe2.simple_spread_v3", n_envs=2, seed=0, env_kwargs=dict(max_cycles=10))
    model = MADQN("MlpPolicy", env, mixer=mixer, seed=0, **SMALL).learn(300)
    assert isinstance(model.replay_buffer, JointReplayBuffer) and model.replay_buffer.n_envs == 2
    # QMIX reads simple_spread's own state(); VDN reads none, so none is stored
    assert model.replay_buffer.states.shape[-1] == (54 if mixer == "qmix" else 0)
    assert "train/team_q_mean" in model.logger.name_to_value
    model.save(tmp_path / "model.zip")
    loaded = MADQN.load(tmp_path / "model.zip", env=env)
    for key, value in model.mixer_net.state_dict().items():
        assert th.equal(value, loaded.mixer_net.state_dict()[key])
    obs = env.reset()
    assert np.array_equal(
        model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0]
    )
    loaded.learn(100, reset_num_timesteps=False)
    assert loaded.num_timesteps > model.num_timesteps


def test_joint_transitions_by_hand() -> None:
    """Two agents, 4 steps an episode; a1 is terminated at step 2, a0 truncated at step 4. Agent k gets
    10k + t at step t; the env's state is [t, agents still in]."""
    env = make_vec_env(lambda: DeathEnv(n_agents=2, ends={"a1": (2, True, False)}, max_steps=4), seed=0)
    model = MADQN("MlpPolicy", env, mixer="qmix", seed=0, learning_starts=1000, buffer_size=100)
    model.learn(16)  # 8 steps of 2 slots: two episodes
    buffer = model.replay_buffer
    assert isinstance(buffer, JointReplayBuffer) and buffer.pos == 8
    episode = slice(0, 4)
    assert buffer.rewards[episode, 0].tolist() == [1 + 11, 2 + 12, 3, 4]
    assert buffer.active[episode, 0].tolist() == [[True, True], [True, True], [True, False], [True, False]]
    # a1 is not bootstrapped once terminated; a0, truncated at the end, is
    assert buffer.next_active[episode, 0].tolist() == [
        [True, True],
        [True, False],
        [True, False],
        [True, False],
    ]
    assert buffer.dones[episode, 0].tolist() == [0, 0, 0, 1] and buffer.timeouts[3, 0] == 1
    assert buffer.states[episode, 0].tolist() == [[0, 2], [1, 2], [2, 1], [3, 1]]
    assert buffer.next_states[episode, 0].tolist() == [[1, 2], [2, 1], [3, 1], [4, 0]]  # the terminal state
    assert buffer.states[4, 0].tolist() == [0, 2]  # the next episode starts from the reset state
    assert np.array_equal(buffer.observations[:4], buffer.observations[4:8])


def test_mixer_errors() -> None:
    cartpole = sb3_make_vec_env("CartPole-v1", n_envs=1)
    with pytest.raises(ValueError, match="multi-agent VecEnv"):
        MADQN("MlpPolicy", cartpole, mixer="vdn")
    with pytest.raises(ValueError, match="Unknown mixer"):
        MADQN("MlpPolicy", cartpole, mixer="sum")
    with pytest.raises(ValueError, match="n_steps"):
        MADQN("MlpPolicy", cartpole, mixer="qmix", n_steps=3)

    def stateless_grid_env() -> MixedSpacesEnv:
        env = MixedSpacesEnv([spaces.Box(0, 1, (2, 2), np.float32)] * 2, [spaces.Discrete(3)] * 2)
        env.state_space = None  # no global state, and 2-D observations
        return env

    with pytest.raises(ValueError, match="QMIX needs a global state"):
        MADQN("MlpPolicy", make_vec_env(stateless_grid_env), mixer="qmix")


def test_without_a_state_the_mixer_sees_the_observations() -> None:
    def stateless() -> DeathEnv:
        env = DeathEnv(n_agents=2, max_steps=3)
        env.state_space = None
        return env

    with pytest.warns(UserWarning, match="no global state"):
        model = MADQN("MlpPolicy", make_vec_env(stateless, seed=0), mixer="qmix", learning_starts=1000)
    model.learn(4)
    buffer = model.replay_buffer
    assert isinstance(buffer, JointReplayBuffer)
    # agent k observes [k, t]: the state is both observations side by side
    assert buffer.states[1, 0].tolist() == [0, 1, 1, 1] and buffer.next_states[1, 0].tolist() == [0, 2, 1, 2]


def test_vdn_stores_no_state() -> None:
    """VDN reads no state: none is stored (pixel states would not fit), and an env without one is fine."""

    def stateless() -> DeathEnv:
        env = DeathEnv(n_agents=2, max_steps=3)
        env.state_space = None
        return env

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "no global state" warning either
        model = MADQN("MlpPolicy", make_vec_env(stateless, seed=0), mixer="vdn", learning_starts=2)
    model.learn(8)
    buffer = model.replay_buffer
    assert isinstance(buffer, JointReplayBuffer) and buffer.states.shape == (buffer.buffer_size, 1, 0)
    assert model.mixer_layout == (2, 0, False)
