"""Ape-X MADQN on an embedded Ray (2 CPUs): every transition delivered once, in order, with its priority."""

import sys

import envs_for_tests
import gymnasium as gym
import numpy as np
import pytest
import torch as th
from envs_for_tests import DeathEnv
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_marl import MADQN, make_vec_env
from sb3_marl.apex import ApexMADQN, actor_epsilons

ray = pytest.importorskip("ray")

LENGTH, N_STEPS, GAMMA, ROWS, EPS, ALPHA = 5, 3, 0.9, 4, 1e-6, 0.6


class Counter(gym.Env):
    """Observation ``[uid, episode, t]``, reward ``1 + t``; episodes of ``LENGTH`` steps that end
    terminated (even episodes) or truncated (odd ones)."""

    observation_space = gym.spaces.Box(-1e6, 1e6, (3,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, uid: int):
        self.uid, self.episode, self.t = uid, -1, 0

    def _obs(self):
        return np.array([self.uid, self.episode, self.t], dtype=np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.episode, self.t = self.episode + 1, 0
        return self._obs(), {}

    def step(self, action):
        reward = 1.0 + self.t
        self.t += 1
        end = self.t == LENGTH
        return self._obs(), reward, end and self.episode % 2 == 0, end and self.episode % 2 == 1, {}


def counters(seed: int) -> DummyVecEnv:
    return DummyVecEnv([lambda k=k: Counter(10 * seed + k) for k in range(2)])


@pytest.fixture
def embedded_ray():
    ray.init(num_cpus=2, include_dashboard=False)
    for module in (sys.modules[__name__], envs_for_tests):  # the actors get the test envs by value
        ray.cloudpickle.register_pickle_by_value(module)
    yield
    ray.shutdown()


def test_ape_x_epsilons():
    assert actor_epsilons(1) == [0.4]
    assert actor_epsilons(3) == pytest.approx([0.4, 0.4**4.5, 0.4**8])


def _return(t: int, stop: int) -> float:
    """The discounted return of rewards ``1 + t ...`` from step ``t`` over at most ``N_STEPS`` steps,
    stopping after step ``stop`` (an episode's last step or a round's last row)."""
    return sum(GAMMA**k * (1 + t + k) for k in range(min(N_STEPS, stop - t + 1)))


def test_two_actors_deliver_every_transition_once_in_order_with_its_priority(embedded_ray):
    rounds = 3
    model = ApexMADQN(
        "MlpPolicy",
        counters,
        n_actors=2,
        rollout_rows=ROWS,
        n_steps=N_STEPS,
        gamma=GAMMA,
        prioritized_replay_alpha=ALPHA,
        prioritized_replay_eps=EPS,
        learning_starts=10**6,  # no training: the Q-networks stay 0, so a TD error is the n-step return
        buffer_size=1000,
        seed=0,
        device="cpu",
    )
    for parameter in model.policy.parameters():
        th.nn.init.zeros_(parameter)
    # a round is 2 actors x ROWS rows x 2 envs; learn's last request is never stored
    model.learn(rounds * 2 * ROWS * 2)
    buffer = model.replay_buffer
    assert buffer.n_envs == 4 and buffer.pos == rounds * ROWS
    obs = buffer.observations[: buffer.pos]  # (rows, columns, 3)
    # each column is one env of one actor (actor i owns columns 2i, 2i+1), its steps in order, none lost
    uids = obs[:, :, 0]
    assert (uids == uids[0]).all() and sorted(uids[0]) == [10, 11, 20, 21]
    for column in range(4):
        steps = [(int(e), int(t)) for _, e, t in obs[:, column]]
        assert steps == [divmod(k, LENGTH) for k in range(len(steps))]
    assert len({tuple(o) for o in obs.reshape(-1, 3)}) == obs.shape[0] * obs.shape[1]  # once each
    # truncation crosses the actor boundary: odd episodes end as time-outs, even ones as terminal
    t, episode = obs[:, :, 2], obs[:, :, 1]
    ends = t == LENGTH - 1
    assert (buffer.dones[: buffer.pos] == ends).all()
    assert (buffer.timeouts[: buffer.pos] == (ends & (episode % 2 == 1))).all()
    # the actor's initial priorities: |n-step return| + eps, cut at the episode's and the round's end
    leaves = np.arange(buffer.pos * buffer.n_envs)
    expected = [
        (_return(int(t.flat[k]), min(LENGTH - 1, int(t.flat[k]) + ROWS - 1 - (k // 4) % ROWS)) + EPS) ** ALPHA
        for k in leaves
    ]
    assert buffer.priorities(leaves) == pytest.approx(expected, rel=1e-5)
    # the learner's n-step returns run across the rounds (not cut at a round's end)
    samples = buffer.sample(256, beta=0.4)
    rows = samples.indices // buffer.n_envs
    complete = rows <= buffer.pos - N_STEPS  # the last rows' sequences end at the last written row
    sampled_t = samples.observations[:, 2].numpy().astype(int)
    full = [_return(t_, LENGTH - 1) for t_ in sampled_t]
    assert complete.sum() > 100
    assert samples.rewards.numpy().ravel()[complete] == pytest.approx(np.array(full)[complete], rel=1e-5)


def deaths(seed: int):
    """Copies of 3 agents where a1 dies at step 2 and a2 is cut at step 3 (a time-out), with masks."""
    ends = {"a1": (2, True, False), "a2": (3, False, True)}
    kwargs = {"ends": ends, "max_steps": 4, "info_masks": True}
    return make_vec_env(DeathEnv, n_envs=2, seed=seed, env_kwargs=kwargs)


def test_dead_slots_masks_and_time_outs_are_stored_as_single_process_madqn_stores_them(embedded_ray):
    settings = dict(n_steps=N_STEPS, learning_starts=10**6, buffer_size=600, seed=0, device="cpu")
    apex = ApexMADQN("MlpPolicy", deaths, n_actors=2, rollout_rows=ROWS, **settings)
    apex.learn(2 * (2 * ROWS * 6))  # 2 rounds of 2 actors x ROWS rows x 6 slots
    single = MADQN("MlpPolicy", deaths(0), train_freq=1, **settings)
    single.learn(2 * ROWS * 6)  # the same 2 x ROWS rows of one actor's 6 slots
    a, s = apex.replay_buffer, single.replay_buffer
    assert a.pos == s.pos == 2 * ROWS
    rows = slice(0, a.pos)
    for actor in range(2):  # each actor's block of columns holds what single-process MADQN holds
        cols = slice(6 * actor, 6 * actor + 6)
        for name in (
            "observations",
            "next_observations",
            "rewards",
            "dones",
            "timeouts",
            "next_action_masks",
        ):
            assert (getattr(a, name)[rows, cols] == getattr(s, name)[rows]).all(), name
        leaves = np.arange(a.pos)[:, None] * a.n_envs + np.arange(6 * actor, 6 * actor + 6)
        inactive = s.priorities(np.arange(s.pos * 6)).reshape(-1, 6) == 0
        assert inactive.any() and ((a.priorities(leaves.ravel()).reshape(-1, 6) == 0) == inactive).all()
    assert a.timeouts[rows].any() and not a.next_action_masks[rows].all()


def test_save_and_load_keep_the_learner(embedded_ray, tmp_path):
    model = ApexMADQN("MlpPolicy", counters, n_actors=2, rollout_rows=ROWS, learning_starts=0, seed=0)
    model.learn(2 * (2 * ROWS * 2))
    assert model._n_updates > 0 and model._actors == []  # trained, actors ended with learn
    model.save(tmp_path / "apex.zip")
    loaded = ApexMADQN.load(tmp_path / "apex.zip", device="cpu")
    assert loaded.n_actors == 2 and loaded.rollout_rows == ROWS
    for key, value in model.policy.state_dict().items():
        assert th.equal(loaded.policy.state_dict()[key], value)
    loaded.set_env(counters(0))
    loaded.learn(2 * ROWS * 2, reset_num_timesteps=False)
    assert loaded.num_timesteps == 3 * (2 * ROWS * 2)


@pytest.mark.slow
def test_ape_x_learns_cartpole(embedded_ray):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    def cartpole(seed: int):
        return make_vec_env("CartPole-v1", n_envs=1, seed=seed)

    model = ApexMADQN(
        "MlpPolicy",
        cartpole,
        n_actors=2,
        rollout_rows=64,
        gradient_steps=64,
        weight_push_interval=64,
        learning_rate=1e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1000,
        gamma=0.99,
        n_steps=3,
        target_update_interval=500,
        policy_kwargs={"net_arch": [256, 256]},
        seed=0,
        device="cpu",
    )
    model.learn(80_000)  # measured here: 500 from 60k timesteps on (about 4 minutes on 2 shared cores)
    mean, _ = evaluate_policy(model, cartpole(100), n_eval_episodes=10, deterministic=True)
    assert mean >= 475
