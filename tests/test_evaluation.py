"""Evaluation on whole episodes (PettingZoo envs and VecEnvs), dict-in/dict-out acting, the statistics
and evaluation callbacks, and checkpoints written whole."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as th
from envs_for_tests import Capture, DeathEnv, MixedSpacesEnv, TurnEnv
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.callbacks import StopTrainingOnRewardThreshold
from stable_baselines3.common.logger import KVWriter

from sb3_marl.callbacks import MultiAgentEvalCallback, MultiAgentStatsCallback, save_model
from sb3_marl.envs import make_vec_env
from sb3_marl.evaluation import (
    EvalResult,
    MultiAgentPolicy,
    RandomPolicy,
    evaluate_policy,
    make_env,
    run_episode,
)
from sb3_marl.madqn import MADQN
from sb3_marl.video import check_video_support, record_video, write_video

SPREAD = "mpe2.simple_spread_v3"
SHORT = {"max_cycles": 10}
CONNECT_FOUR = "pettingzoo.classic.connect_four_v3"
# In DeathEnv agent a{k} gets 10 k + t at step t; a1 is terminated at step 2, the others truncated at 5.
DEATH_ENDS = {"a1": (2, True, False)}
DEATH_RETURNS = {"a0": 15.0, "a1": 23.0, "a2": 115.0}
DEATH_LENGTHS = {"a0": 5, "a1": 2, "a2": 5}


@pytest.fixture(autouse=True)
def one_thread():
    """Torch threads fight over the 2 cores when other work runs beside the tests."""
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)


def death_env() -> DeathEnv:
    return DeathEnv(ends=DEATH_ENDS)


class Fixed:
    """Always the same action."""

    def __init__(self, action: int):
        self.action = action

    def act(self, agent: str, observation: Any, action_mask: Any = None) -> int:
        return self.action

    def __call__(self, observations: dict[str, Any], action_masks: Any = None) -> dict[str, int]:
        return dict.fromkeys(observations, self.action)


def test_eval_result_statistics():
    result = EvalResult([1.0, 3.0], [4, 6], {"a": [0.0, 2.0], "b": [1.0, 1.0]}, {"a": [4, 6], "b": [2, 2]})
    assert (result.team_return_mean, result.team_return_std, result.episode_length_mean) == (2.0, 1.0, 5.0)
    assert result.agent_return_mean == {"a": 1.0, "b": 1.0}
    assert result.agent_return_std == {"a": 1.0, "b": 0.0}
    assert result.agent_length_mean == {"a": 5.0, "b": 2.0}
    assert str(result) == "2.00 ± 1.00 (2 episodes)"


def test_parallel_episode_with_a_death_counts_as_the_vec_env():
    """Returns and lengths of an episode where an agent dies: by hand, on the raw env and on the VecEnv."""
    result = evaluate_policy(Fixed(1), death_env, n_eval_episodes=2)  # type: ignore[arg-type]
    assert result.team_returns == [153.0, 153.0]
    assert result.episode_lengths == [5, 5]
    assert result.agent_returns == {a: [r, r] for a, r in DEATH_RETURNS.items()}
    assert result.agent_lengths == {a: [n, n] for a, n in DEATH_LENGTHS.items()}

    venv = make_vec_env(death_env, n_envs=2, seed=0)
    model = DQN("MlpPolicy", venv, learning_starts=0)
    on_vec = evaluate_policy(model, venv, n_eval_episodes=3)
    assert on_vec.team_returns == [153.0] * 3
    assert on_vec.agent_returns == {a: [r] * 3 for a, r in DEATH_RETURNS.items()}
    assert on_vec.agent_lengths == {a: [n] * 3 for a, n in DEATH_LENGTHS.items()}


def test_turn_based_episode_by_hand_and_as_the_vec_env():
    """AEC: the mover gets its action, the other player ``waiting_reward``; both are in all 5 moves."""
    result = evaluate_policy(Fixed(2), TurnEnv, n_eval_episodes=1)  # type: ignore[arg-type]
    p0 = 3 * 2 + TurnEnv.waiting_reward(1, 2) + TurnEnv.waiting_reward(1, 4)
    p1 = 2 * 2 + sum(TurnEnv.waiting_reward(0, t) for t in (1, 3, 5))
    assert result.agent_returns == {"p0": [p0], "p1": [p1]}
    assert result.episode_lengths == [5]
    assert result.agent_lengths == {"p0": [5], "p1": [5]}

    venv = make_vec_env(TurnEnv, n_envs=1, seed=0)
    model = MADQN("MlpPolicy", venv, learning_starts=0, seed=0)
    raw = evaluate_policy(model, TurnEnv, n_eval_episodes=2)
    on_vec = evaluate_policy(model, venv, n_eval_episodes=2)
    assert raw.agent_returns == on_vec.agent_returns
    assert raw.agent_lengths == on_vec.agent_lengths == {"p0": [5, 5], "p1": [5, 5]}


def test_seeded_evaluation_plays_the_same_episodes_on_the_raw_env_and_the_vec_env():
    venv = make_vec_env(SPREAD, n_envs=1, seed=3, env_kwargs=SHORT)
    model = MADQN("MlpPolicy", venv, seed=0)
    raw = evaluate_policy(model, SPREAD, n_eval_episodes=3, seed=3, env_kwargs=SHORT)
    on_vec = evaluate_policy(model, venv, n_eval_episodes=3, seed=3)
    np.testing.assert_allclose(raw.team_returns, on_vec.team_returns, rtol=1e-5)
    for agent in raw.agent_returns:
        np.testing.assert_allclose(raw.agent_returns[agent], on_vec.agent_returns[agent], rtol=1e-5)
    assert raw.episode_lengths == on_vec.episode_lengths == [10, 10, 10]
    again = evaluate_policy(model, SPREAD, n_eval_episodes=3, seed=3, env_kwargs=SHORT)
    assert again.team_returns == raw.team_returns


def test_vec_env_evaluation_shares_episodes_between_copies():
    venv = make_vec_env(SPREAD, n_envs=3, seed=0, env_kwargs=SHORT)
    model = PPO("MlpPolicy", venv, n_steps=8, batch_size=36, seed=0)
    result = evaluate_policy(model, venv, n_eval_episodes=4)
    assert len(result.team_returns) == 4
    assert set(result.agent_returns) == {"agent_0", "agent_1", "agent_2"}
    np.testing.assert_allclose(result.team_returns, np.sum(list(result.agent_returns.values()), axis=0))


@pytest.mark.parametrize("options", [{}, {"agent_indicator": True}, {"action_mask_in_obs": True}])
def test_dict_policy_acts_as_the_model_does_on_the_vec_env(options):
    """The raw env's ``{agent: obs}`` give the actions the model takes on the VecEnv's slot observations,
    with the agent indicator or Dict observations found from the model's observation space."""
    venv = make_vec_env(SPREAD, n_envs=1, **options)
    if options.get("action_mask_in_obs"):  # MADQN's buffer takes no Dict observations
        model: Any = MaskablePPO("MultiInputPolicy", venv, n_steps=16, seed=0)
    else:
        model = MADQN("MlpPolicy", venv, seed=0)
    venv.seed(5)  # after the model, which seeds its env with its own seed
    expected, _ = model.predict(venv.reset(), deterministic=True, action_masks=venv.action_masks())
    env = make_env(SPREAD)
    observations, _ = env.reset(seed=5)
    actions = MultiAgentPolicy(model, env)(observations)
    assert actions == dict(zip(env.possible_agents, expected.tolist(), strict=True))
    assert all(isinstance(a, int) for a in actions.values())


def test_dict_policy_respects_masks_from_observations_and_padding():
    game = make_env(CONNECT_FOUR)
    game.reset(seed=0)
    venv = make_vec_env(CONNECT_FOUR, n_envs=1)
    policy = MultiAgentPolicy(MADQN("MlpPolicy", venv, seed=0), game)
    observation = game.observe("player_0")
    for column in range(7):
        only = np.eye(7, dtype=np.int8)[column]
        assert policy.act("player_0", {**observation, "action_mask": only}) == column
        assert policy.act("player_0", observation["observation"], only) == column

    mixed = MixedSpacesEnv([spaces.Box(0, 100, (2,))] * 2, [spaces.Discrete(2), spaces.Discrete(5)])
    mixed_venv = make_vec_env(
        lambda: MixedSpacesEnv([spaces.Box(0, 100, (2,))] * 2, [spaces.Discrete(2), spaces.Discrete(5)])
    )
    mixed_policy = MultiAgentPolicy(MADQN("MlpPolicy", mixed_venv, seed=0), mixed, deterministic=False)
    mixed_policy.model.exploration_rate = 1.0  # random legal actions
    for _ in range(50):
        assert mixed_policy.act("a0", np.zeros(2, np.float32)) < 2


def test_masked_model_never_plays_an_illegal_move():
    """A MaskablePPO trained by self-play on connect four plays it on the raw AEC env; an illegal move
    would end the game with -1 for the mover (PettingZoo's TerminateIllegalWrapper)."""
    venv = make_vec_env(CONNECT_FOUR, n_envs=1)
    model = MaskablePPO("MlpPolicy", venv, n_steps=16, batch_size=16, seed=0)
    game = make_env(CONNECT_FOUR)
    policy = MultiAgentPolicy(model, game, deterministic=False)
    for seed in range(5):
        steps, returns, _ = run_episode(policy, game, seed)
        assert steps >= 7 and sorted(returns.values()) in ([-1.0, 1.0], [0.0, 0.0])


def test_policy_for_another_env_is_refused():
    venv = make_vec_env(SPREAD, n_envs=1)
    model = MADQN("MlpPolicy", venv)
    with pytest.raises(ValueError, match="trained on this env"):
        MultiAgentPolicy(model, make_env("mpe2.simple_spread_v3", {"N": 2}))


def test_random_policy_takes_legal_actions_only():
    game = make_env(CONNECT_FOUR)
    policy = RandomPolicy(game, seed=0)
    game.reset(seed=0)
    observation = game.observe("player_0")
    observation["action_mask"] = np.eye(7, dtype=np.int8)[4]
    assert {policy.act("player_0", observation) for _ in range(20)} == {4}
    result = evaluate_policy(policy, game, n_eval_episodes=3, seed=0)
    assert len(result.team_returns) == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda policy, game, obs: policy({"player_9": obs}),
            "Agent 'player_9' is not one of the env's possible_agents",
        ),
        (
            lambda policy, game, obs: policy.act("player_0", obs, np.zeros(7)),
            "action mask of agent 'player_0' is all False",
        ),
        (
            lambda policy, game, obs: policy.act("player_0", obs, np.ones(8)),
            "agent 'player_0' has shape (8,), but its action space is Discrete(7): expected shape (7,)",
        ),
        (lambda policy, game, obs: RandomPolicy(game).act("player_0", obs, np.zeros(7)), "is all False"),
    ],
)
def test_dict_policies_refuse_bad_masks_and_unknown_agents(call, message):
    game = make_env(CONNECT_FOUR)
    game.reset(seed=0)
    policy = MultiAgentPolicy(MADQN("MlpPolicy", make_vec_env(CONNECT_FOUR, n_envs=1), seed=0), game)
    with pytest.raises(ValueError) as raised:
        call(policy, game, game.observe("player_0")["observation"])
    assert message in str(raised.value)


def test_bad_evaluation_arguments():
    venv = make_vec_env(SPREAD, n_envs=1)
    model = MADQN("MlpPolicy", venv)
    with pytest.raises(ValueError, match="at least 1"):
        evaluate_policy(model, SPREAD, n_eval_episodes=0)
    with pytest.raises(ValueError, match="do not apply"):
        evaluate_policy(model, venv, env_kwargs={"N": 2})
    with pytest.raises(TypeError, match="needs an SB3 model"):
        evaluate_policy(RandomPolicy(make_env(SPREAD)), venv)
    with pytest.raises(ValueError, match="Unknown env"):
        evaluate_policy(model, "no_such_module_v0")


def test_record_video_frames():
    venv = make_vec_env(death_env, n_envs=1)
    model = DQN("MlpPolicy", venv)
    frames, fps = record_video(model, DeathEnv, {"ends": DEATH_ENDS})
    assert frames.shape == (6, 4, 4, 3) and frames.dtype == np.uint8  # the reset and 5 steps
    assert [int(f[0, 0, 0]) for f in frames] == [0, 1, 2, 3, 4, 5]
    assert fps == 30.0

    class Blind(DeathEnv):
        def render(self) -> None:
            return None

    with pytest.raises(ValueError, match="not an rgb_array frame"):
        record_video(model, Blind)


def test_video_files(tmp_path):
    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        check_video_support("video.avi")
    frames = np.zeros((3, 8, 8, 3), dtype=np.uint8)
    path = str(tmp_path / "episode.gif")
    if importlib.util.find_spec("imageio") is None or importlib.util.find_spec("PIL") is None:
        with pytest.raises(ImportError, match="pip install"):
            write_video(frames, path, fps=10)
    else:
        write_video(frames, path, fps=10)
        assert os.path.getsize(path) > 0


def test_stats_callback_records_team_and_agent_statistics():
    """On DeathEnv every episode is the same, so every recorded statistic is known exactly."""
    venv = make_vec_env(death_env, n_envs=2, seed=0)
    model = PPO("MlpPolicy", venv, n_steps=10, batch_size=30, n_epochs=1, seed=0)
    capture = Capture()
    model.set_logger(_logger_with(capture))
    callback = MultiAgentStatsCallback()
    model.learn(120, callback=callback)
    assert list(callback.team_returns) == [153.0] * 8
    last = capture.dumps[max(capture.dumps)]
    assert last["rollout/team_return_mean"] == 153.0
    assert last["rollout/team_length_mean"] == 5.0
    for agent, value in DEATH_RETURNS.items():
        assert last[f"rollout/agents/{agent}/return_mean"] == value
        assert last[f"rollout/agents/{agent}/length_mean"] == DEATH_LENGTHS[agent]
    assert last["rollout/inactive_share"] == pytest.approx(3 / 15)  # a1 is out for 3 of the 5 steps


def _logger_with(writer: KVWriter) -> Any:
    from stable_baselines3.common.logger import Logger

    return Logger(folder=None, output_formats=[writer])


def test_eval_callback_saves_the_best_model_and_can_stop_training(tmp_path):
    venv = make_vec_env(SPREAD, n_envs=1, seed=0, env_kwargs=SHORT)
    model = PPO("MlpPolicy", venv, n_steps=10, batch_size=30, n_epochs=1, seed=0)
    capture = Capture()
    model.set_logger(_logger_with(capture))
    callback = MultiAgentEvalCallback(
        SPREAD,
        eval_freq=30,
        n_eval_episodes=2,
        seed=1,
        env_kwargs=SHORT,
        best_model_save_path=str(tmp_path),
        log_path=str(tmp_path),
        verbose=0,
    )
    model.learn(90, callback=callback)
    assert callback.evaluations_timesteps == [30, 60, 90]
    assert os.path.isfile(tmp_path / "best_model.zip") and os.path.isfile(tmp_path / "evaluations.npz")
    best = max(np.mean(r) for r in callback.evaluations_results)
    assert callback.best_mean_reward == pytest.approx(best)
    assert capture.dumps[30]["eval/team_return_mean"] == pytest.approx(
        np.mean(callback.evaluations_results[0])
    )
    assert "eval/agents/agent_0/return_mean" in capture.dumps[30]
    saved = evaluate_policy(PPO.load(tmp_path / "best_model.zip"), SPREAD, 2, seed=1, env_kwargs=SHORT)
    assert saved.team_return_mean == pytest.approx(best)

    stop = StopTrainingOnRewardThreshold(reward_threshold=-np.inf)
    stopping = MultiAgentEvalCallback(SPREAD, 30, 1, env_kwargs=SHORT, callback_on_new_best=stop, verbose=0)
    model.learn(300, callback=stopping)
    assert model.num_timesteps == 30


def test_save_model_is_all_or_nothing(tmp_path):
    venv = make_vec_env(SPREAD, n_envs=1)
    model = MADQN("MlpPolicy", venv)
    path = save_model(model, str(tmp_path / "sub" / "model"))
    assert path.endswith("model.zip") and MADQN.load(path).observation_space == model.observation_space
    before = Path(path).read_bytes()

    def broken_save(file: Any, *args: Any, **kwargs: Any) -> None:
        file.write(b"half a model")
        raise OSError("disk full")

    model.save = broken_save  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        save_model(model, path)
    assert Path(path).read_bytes() == before
    assert os.listdir(tmp_path / "sub") == ["model.zip"]
