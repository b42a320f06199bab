"""Bad input to MADQN and its buffers gets one clear error at the earliest point; saves survive SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from stable_baselines3.common.save_util import load_from_pkl

from sb3_marl.buffers import PrioritizedReplayBuffer
from sb3_marl.madqn import MADQN
from tests.test_madqn import SMALL, SlotVecEnv

OBS = np.zeros((4, 3), np.float32)
MASKS = np.ones((4, 3), bool)


def test_bad_arguments_table() -> None:
    """One row per bad input: where it goes in, and the message it gets."""
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("batch_size", dict(batch_size=0), "batch_size must be an integer >= 1, got 0"),
        ("batch_size", dict(batch_size=2.5), "batch_size must be an integer >= 1, got 2.5"),
        ("buffer_size", dict(buffer_size=0), "buffer_size must be an integer >= 1, got 0"),
        ("buffer_size", dict(buffer_size=-10), "buffer_size must be an integer >= 1, got -10"),
        ("n_steps", dict(n_steps=0), r"n_steps must be an integer >= 1 \(1: one-step TD targets\), got 0"),
        ("gradient_steps", dict(gradient_steps=0), r"gradient_steps must be an integer >= 1, or -1 .* got 0"),
        ("gradient_steps", dict(gradient_steps=-2), r"gradient_steps must be .*-1 .* got -2"),
        ("learning_starts", dict(learning_starts=-1), "learning_starts must be an integer >= 0, got -1"),
        ("gamma", dict(gamma=1.5), r"gamma must be in \[0, 1\], got 1.5"),
        ("gamma", dict(gamma=-0.1), r"gamma must be in \[0, 1\], got -0.1"),
        ("tau", dict(tau=0.0), r"tau must be in \(0, 1\] \(1: hard target update\), got 0.0"),
        ("tau", dict(tau=1.5), r"tau must be in \(0, 1\]"),
        (
            "target_update_interval",
            dict(target_update_interval=0),
            "target_update_interval must be .*>= 1.*got 0",
        ),
        ("train_freq", dict(train_freq=0), r"train_freq must be an integer >= 1 .*got 0"),
        ("train_freq", dict(train_freq=(0, "step")), r"train_freq must be .*got \(0, 'step'\)"),
        ("eps", dict(exploration_initial_eps=1.2), r"exploration_initial_eps must be in \[0, 1\], got 1.2"),
        ("eps", dict(exploration_final_eps=-0.5), r"exploration_final_eps must be in \[0, 1\], got -0.5"),
        ("fraction", dict(exploration_fraction=2), r"exploration_fraction must be in \[0, 1\], got 2"),
        ("alpha", dict(prioritized_replay_alpha=float("nan")), "prioritized_replay_alpha must be >= 0"),
        (
            "beta",
            dict(prioritized_replay_beta0=0.0),
            r"prioritized_replay_beta0 must be in \(0, 1\], got 0.0",
        ),
        (
            "beta_iters",
            dict(prioritized_replay_beta_iters=0),
            "prioritized_replay_beta_iters must be > 0 or None",
        ),
        ("team_reward", dict(team_reward="max"), "team_reward must be 'sum' or 'mean', got 'max'"),
    ]
    for _, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            MADQN("MlpPolicy", "CartPole-v1", **kwargs)


def test_predict_refuses_bad_observations_and_masks() -> None:
    model = MADQN("MlpPolicy", SlotVecEnv(), **SMALL)  # type: ignore[arg-type]
    nan_obs = OBS.copy()
    nan_obs[2, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"observation holds a non-finite value \(nan at index \(2, 1\)\).*Clip"
    ):
        model.predict(nan_obs)
    with pytest.raises(ValueError, match=r"non-finite value \(inf at index \(0,\)\)"):
        model.predict(np.array([np.inf, 0, 0], np.float32), deterministic=True)
    with pytest.raises(ValueError, match=r"action_masks has shape \(4, 2\), expected \(4, 3\)"):
        model.predict(OBS, action_masks=np.ones((4, 2), bool))
    with pytest.raises(ValueError, match=r"action_masks has shape \(12,\), expected \(4, 3\)"):
        model.predict(OBS, action_masks=np.ones(12, bool))
    with pytest.raises(ValueError, match=r"action_masks has shape \(2,\), expected \(3,\)"):
        model.predict(OBS[0], action_masks=np.ones(2, bool))
    empty = MASKS.copy()
    empty[3] = False
    with pytest.raises(ValueError, match=r"action_masks row 3 allows no action \(all False\).*action 0 only"):
        model.predict(OBS, action_masks=empty, deterministic=True)


class EmptyMaskEnv(SlotVecEnv):
    """Slot 1's mask allows nothing at every odd step."""

    def _masks(self, t: int) -> np.ndarray:
        masks = super()._masks(t)
        masks[1] = t % 2 == 0
        return masks


def test_an_env_mask_that_allows_nothing_is_named() -> None:
    model = MADQN("MlpPolicy", EmptyMaskEnv(), **SMALL)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"the env's action_masks\(\) row 1 allows no action"):
        model.learn(40)


class NanReward(gym.Wrapper):
    """CartPole whose reward is NaN from its 30th step on."""

    steps = 0

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        NanReward.steps += 1
        return obs, (np.nan if NanReward.steps >= 30 else reward), terminated, truncated, info


@pytest.mark.parametrize("prioritized_replay", [True, False])
def test_a_nan_reward_is_named_not_blamed_on_replay(prioritized_replay: bool) -> None:
    NanReward.steps = 0
    env = sb3_make_vec_env("CartPole-v1", n_envs=1, seed=0, wrapper_class=NanReward)
    model = MADQN(
        "MlpPolicy",
        env,
        prioritized_replay=prioritized_replay,
        learning_starts=20,
        train_freq=1,
        **SMALL_NO_START,
    )
    with pytest.raises(FloatingPointError) as error:
        model.learn(400)
    message = str(error.value)
    assert "non-finite loss/TD error" in message and "the sampled rewards hold NaN or inf" in message
    assert "check the env's rewards/observations" in message and "lower the learning rate" in message
    assert "Priorities" not in message
    assert all(th.isfinite(p).all() for p in model.policy.parameters())  # raised before the step
    buffer = model.replay_buffer
    assert buffer is not None and np.isfinite(buffer.priorities(np.arange(buffer.n_leaves))).all()


SMALL_NO_START = {k: v for k, v in SMALL.items() if k != "learning_starts"}


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (dict(n_steps=3, prioritized_replay=True), "has n_steps=3, this model's 1"),
        (dict(prioritized_replay=True, prioritized_replay_alpha=0.3), "has alpha=0.3, this model's 0.6"),
        (dict(prioritized_replay=False), "has alpha=0.0, this model's 0.6"),
        (dict(gamma=0.9, prioritized_replay=True), "has gamma=0.9, this model's 0.99"),
    ],
)
def test_a_loaded_buffer_unlike_the_model_is_refused(
    other: dict[str, Any], message: str, tmp_path: Any
) -> None:
    MADQN("MlpPolicy", "CartPole-v1", **other, **SMALL).save_replay_buffer(tmp_path / "buffer")
    model = MADQN("MlpPolicy", "CartPole-v1", prioritized_replay=True, **SMALL)
    own = model.replay_buffer
    with pytest.raises(ValueError, match=message + ": load it into a model made with the same"):
        model.load_replay_buffer(tmp_path / "buffer.pkl")
    assert model.replay_buffer is own


def test_a_loaded_buffer_of_another_type_is_refused(tmp_path: Any) -> None:
    from stable_baselines3 import DQN

    DQN("MlpPolicy", "CartPole-v1", buffer_size=100).save_replay_buffer(tmp_path / "plain.pkl")
    model = MADQN("MlpPolicy", "CartPole-v1", prioritized_replay=True, **SMALL)
    own = model.replay_buffer
    with pytest.raises(TypeError, match=r"uses a PrioritizedReplayBuffer, .*plain.pkl holds a ReplayBuffer"):
        model.load_replay_buffer(tmp_path / "plain.pkl")
    assert model.replay_buffer is own


def test_buffer_add_refuses_arrays_of_the_wrong_shape() -> None:
    space = gym.spaces.Box(-1, 1, (2,), np.float32)
    buffer = PrioritizedReplayBuffer(
        8, space, gym.spaces.Discrete(3), device="cpu", n_envs=2, action_mask_dim=3
    )
    args = (np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2), np.zeros(2), np.zeros(2), [{}, {}])
    with pytest.raises(ValueError, match=r"next_action_masks has shape \(2, 2\), expected .* = \(2, 3\)"):
        buffer.add(*args, next_action_masks=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match=r"active has shape \(3,\), expected \(n_envs,\) = \(2,\)"):
        buffer.add(*args, active=np.ones(3, bool))
    assert buffer.size() == 0


SAVER = textwrap.dedent(
    """
    import itertools, sys
    from sb3_marl.madqn import MADQN

    folder = sys.argv[1]
    model = MADQN("MlpPolicy", "CartPole-v1", buffer_size=100_000, learning_starts=10**9, seed=0,
                  policy_kwargs=dict(net_arch=[256, 256]))
    model.learn(500)
    for i in itertools.count():
        model.save(f"{folder}/model")
        model.save_replay_buffer(f"{folder}/buffer")
        print(i, flush=True)
    """
)


def test_saves_survive_sigkill(tmp_path: Any) -> None:
    """A process saving a model and its replay buffer in a loop, killed at random moments: the files it
    saved before still load, and no temporary file is left."""
    rng = random.Random(0)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for kill in range(3):
        saver = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
        )
        assert saver.stdout is not None
        assert saver.stdout.readline().strip() == "0", "the saver saved nothing"
        time.sleep(rng.uniform(0.0, 0.3))
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        loaded = MADQN.load(tmp_path / "model.zip")
        assert loaded.num_timesteps == 500
        buffer = load_from_pkl(tmp_path / "buffer.pkl")
        assert isinstance(buffer, PrioritizedReplayBuffer) and buffer.pos == 500
        assert sorted(path.name for path in tmp_path.iterdir()) == ["buffer.pkl", "model.zip"], kill
