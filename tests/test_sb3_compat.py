"""The VecEnv works unchanged with SB3's and sb3-contrib's learners and VecEnv wrappers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from sb3_contrib import QRDQN, MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.vec_env import VecFrameStack, VecNormalize

from sb3_marl.envs import make_vec_env

SPREAD = "mpe2.simple_spread_v3"
KAZ = "pettingzoo.butterfly.knights_archers_zombies_v11"
KAZ_KWARGS = dict(spawn_delay=3, max_cycles=100)
CONNECT_FOUR = "pettingzoo.classic.connect_four_v3"
SMALL_NET = dict(net_arch=[32])
OFF_POLICY = dict(
    learning_starts=200, buffer_size=5_000, batch_size=32, train_freq=4, policy_kwargs=SMALL_NET
)
ON_POLICY = dict(n_steps=32, n_epochs=2, policy_kwargs=SMALL_NET)

# (learner, env, make_vec_env kwargs, learner kwargs, timesteps)
CASES = {
    "PPO": (PPO, SPREAD, {}, dict(batch_size=48, **ON_POLICY), 576),
    "A2C": (A2C, SPREAD, {}, dict(n_steps=8, policy_kwargs=SMALL_NET), 480),
    "DQN": (DQN, KAZ, dict(env_kwargs=KAZ_KWARGS), OFF_POLICY, 1_200),
    "QRDQN": (QRDQN, SPREAD, {}, dict(OFF_POLICY, policy_kwargs=dict(SMALL_NET, n_quantiles=10)), 1_000),
    "MaskablePPO-connect-four": (
        MaskablePPO,
        CONNECT_FOUR,
        dict(n_envs=2),
        dict(batch_size=64, **ON_POLICY),
        512,
    ),
    "MaskablePPO-speaker-listener": (
        MaskablePPO,
        "mpe2.simple_speaker_listener_v4",
        dict(action_mask_in_obs=True),
        dict(ON_POLICY, batch_size=64, n_steps=64),
        512,
    ),
}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny networks: one thread is faster, and steadier on a shared machine."""
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)


def run(case: str, seed: int, steps: int | None = None, **make_kwargs: Any) -> list[tuple[float, int]]:
    """Learn with ``seed``; return the per-agent episodes (return, length) the learner saw."""
    algo, env_id, env_kwargs, algo_kwargs, case_steps = CASES[case]
    venv = make_vec_env(env_id, **env_kwargs, **make_kwargs)
    policy = "MultiInputPolicy" if isinstance(venv.observation_space, spaces.Dict) else "MlpPolicy"
    model = algo(policy, venv, seed=seed, **algo_kwargs)
    model.learn(steps or case_steps)
    venv.close()
    return [(float(ep["r"]), int(ep["l"])) for ep in model.ep_info_buffer]


@pytest.mark.parametrize("case", list(CASES))
def test_learners_run_and_are_reproducible(case):
    first = run(case, seed=0)
    assert len(first) > 0
    assert run(case, seed=0) == first
    assert run(case, seed=1) != first


def test_subprocess_copies_learn_as_in_process_ones():
    episodes = run("MaskablePPO-connect-four", seed=0, steps=256)
    assert len(episodes) > 0
    assert run("MaskablePPO-connect-four", seed=0, steps=256, subprocess=True) == episodes


def test_maskable_ppo_reads_masks_through_env_method():
    venv = make_vec_env(CONNECT_FOUR, n_envs=2, seed=0)
    venv.reset()
    assert is_masking_supported(venv)
    masks = get_action_masks(venv)
    assert masks.shape == (4, 7) and masks.dtype == bool
    np.testing.assert_array_equal(masks, venv.action_masks())
    np.testing.assert_array_equal(masks.sum(axis=1), [7, 1, 7, 1])  # player_1 waits: action 0 only
    venv.close()


@pytest.mark.parametrize("wrap", ["normalize", "frame_stack"])
def test_vec_normalize_and_frame_stack(wrap):
    base = make_vec_env(SPREAD, n_envs=2, seed=0)
    venv = VecNormalize(base) if wrap == "normalize" else VecFrameStack(base, n_stack=3)
    size = base.observation_space.shape[0] * (1 if wrap == "normalize" else 3)
    assert venv.observation_space.shape == (size,)
    obs = venv.reset()
    assert obs.shape == (6, size)
    rng = np.random.default_rng(0)
    for t in range(1, 26):
        obs, _, dones, infos = venv.step(rng.integers(0, 5, 6))
        assert obs.shape == (6, size) and dones.tolist() == [t == 25] * 6
    assert all(info["terminal_observation"].shape == (size,) for info in infos)
    if wrap == "normalize":
        assert venv.obs_rms.count > 25 * 6
        assert np.abs(obs).max() <= venv.clip_obs
    else:  # the new episode's stack holds only its first frame, after zeros
        assert not obs[:, : 2 * base.observation_space.shape[0]].any()
    PPO("MlpPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, seed=0).learn(96)
    venv.close()
