"""Callbacks for multi-agent training: team and per-agent statistics, evaluation on team return, and
checkpoints written whole."""

from __future__ import annotations

import io
import os
from collections import deque
from typing import Any, cast

import numpy as np
from pettingzoo.utils.env import AECEnv, ParallelEnv
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, EventCallback
from stable_baselines3.common.vec_env import VecEnv

from sb3_marl.evaluation import (
    EnvLike,
    EvalResult,
    PettingZooEnv,
    WrapperClass,
    evaluate_policy,
    make_env,
    unwrap_multi_agent,
)
from sb3_marl.files import atomic_write

# Per-agent keys go to every output but the console table, which they would make long.
_NOT_ON_CONSOLE = ("stdout", "log")


def save_model(model: BaseAlgorithm, path: str) -> str:
    """Save ``model`` to ``path`` (``.zip`` added when missing, the folder made when missing) with
    :func:`~sb3_marl.files.atomic_write`, so that the path never holds a half-written model.

    :param model: the model
    :param path: the file to write
    :return: the path written
    """
    path = os.fspath(path)
    if not path.endswith(".zip"):
        path += ".zip"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_write(path) as file:
        model.save(cast(io.BufferedIOBase, file))
    return path


class MultiAgentStatsCallback(BaseCallback):
    """Records what only a multi-agent run has into the SB3 logger (and so into every output format:
    console, CSV, TensorBoard, W&B), up to date at each of the logger's dumps:

    - ``rollout/team_return_mean``, ``rollout/team_length_mean``: over the last ``stats_window_size``
      team episodes (SB3's own ``rollout/ep_rew_mean`` is an agent's return, except MADQN's)
    - ``rollout/agents/<agent>/return_mean`` and ``.../length_mean``: the same per agent (not shown
      in the console table)
    - ``rollout/inactive_share``: the share of slot transitions since the last dump that were inactive
      (dead agents)

    :param stats_window_size: number of episodes averaged (default: the model's ``stats_window_size``)
    :param verbose: verbosity level
    """

    def __init__(self, stats_window_size: int | None = None, verbose: int = 0):
        super().__init__(verbose)
        self.stats_window_size = stats_window_size
        self.team_returns: deque[float] = deque()
        self.team_lengths: deque[int] = deque()
        self.agent_returns: dict[str, deque[float]] = {}
        self.agent_lengths: dict[str, deque[int]] = {}

    def _init_callback(self) -> None:
        assert self.training_env is not None
        env = unwrap_multi_agent(self.training_env)
        self.slot_agents = list(env.slot_agents)
        self.num_agents = env.num_agents
        window = self.stats_window_size or getattr(self.model, "_stats_window_size", 100)
        self.team_returns, self.team_lengths = deque(maxlen=window), deque(maxlen=window)
        agents = self.slot_agents[: self.num_agents]
        self.agent_returns = {a: deque(maxlen=window) for a in agents}
        self.agent_lengths = {a: deque(maxlen=window) for a in agents}

    def _on_step(self) -> bool:
        infos: list[dict[str, Any]] = self.locals["infos"]
        inactive = sum(bool(info.get("inactive", False)) for info in infos)
        self.logger.record_mean("rollout/inactive_share", inactive / len(infos))
        ended = False
        for i, info in enumerate(infos):
            if "episode" in info:
                self.agent_returns[self.slot_agents[i]].append(float(info["episode"]["r"]))
                self.agent_lengths[self.slot_agents[i]].append(int(info["episode"]["l"]))
                ended = True
            if i % self.num_agents == 0 and "team_episode" in info:
                self.team_returns.append(float(info["team_episode"]["r"]))
                self.team_lengths.append(int(info["team_episode"]["l"]))
                ended = True
        if ended:
            self._record_episodes()
        return True

    def _record_episodes(self) -> None:
        if self.team_returns:
            self.logger.record("rollout/team_return_mean", float(np.mean(self.team_returns)))
            self.logger.record("rollout/team_length_mean", float(np.mean(self.team_lengths)))
        for agent, returns in self.agent_returns.items():
            if returns:
                prefix = f"rollout/agents/{agent}"
                self.logger.record(f"{prefix}/return_mean", float(np.mean(returns)), exclude=_NOT_ON_CONSOLE)
                lengths = self.agent_lengths[agent]
                self.logger.record(f"{prefix}/length_mean", float(np.mean(lengths)), exclude=_NOT_ON_CONSOLE)


class MultiAgentEvalCallback(EventCallback):
    """SB3's ``EvalCallback`` for teams: every ``eval_freq`` timesteps, evaluate whole episodes on the
    team return (:func:`sb3_marl.evaluation.evaluate_policy`), record ``eval/team_return_mean`` (and
    std, episode length, per-agent returns) and save the best model.

    :param eval_env: a PettingZoo env module path, constructor or env, or a ``MultiAgentVecEnv``
    :param eval_freq: evaluate every this many timesteps (``model.num_timesteps``, which counts one
        per agent slot and step)
    :param n_eval_episodes: number of whole episodes per evaluation
    :param deterministic: whether the model takes its greedy actions
    :param seed: seed of each evaluation's first reset, so that every evaluation plays the same
        episodes (None: not seeded)
    :param env_kwargs: keyword arguments of the env constructor
    :param wrapper_class: applied to the env made from a module path or constructor, as in training
    :param best_model_save_path: folder where ``best_model.zip`` is saved (None: not saved)
    :param log_path: folder where ``evaluations.npz`` (timesteps, team returns, lengths) is saved
    :param callback_on_new_best: called when the team return is a new best (it can stop training,
        e.g. SB3's ``StopTrainingOnRewardThreshold``, which reads ``best_mean_reward``)
    :param verbose: 1 prints each evaluation
    """

    def __init__(
        self,
        eval_env: EnvLike,
        eval_freq: int = 10_000,
        n_eval_episodes: int = 5,
        deterministic: bool = True,
        seed: int | None = None,
        env_kwargs: dict[str, Any] | None = None,
        wrapper_class: WrapperClass | None = None,
        best_model_save_path: str | None = None,
        log_path: str | None = None,
        callback_on_new_best: BaseCallback | None = None,
        verbose: int = 1,
    ):
        super().__init__(callback_on_new_best, verbose=verbose)
        if eval_freq < 1:
            raise ValueError(f"eval_freq must be at least 1 timestep, got {eval_freq}.")
        self.eval_env_spec = eval_env
        self.eval_freq = eval_freq
        self.n_eval_episodes = n_eval_episodes
        self.deterministic = deterministic
        self.seed = seed
        self.env_kwargs = env_kwargs
        self.wrapper_class = wrapper_class
        self.best_model_save_path = best_model_save_path
        self.log_path = log_path
        self.best_mean_reward = -np.inf
        self.last_mean_reward = -np.inf
        self.last_result: EvalResult | None = None
        self.evaluations_timesteps: list[int] = []
        self.evaluations_results: list[list[float]] = []
        self.evaluations_length: list[list[int]] = []
        self._eval_env: PettingZooEnv | VecEnv | None = None
        self._next_eval = eval_freq

    def _init_callback(self) -> None:
        spec = self.eval_env_spec
        if isinstance(spec, VecEnv | ParallelEnv | AECEnv):
            if self.env_kwargs or self.wrapper_class is not None:
                raise ValueError(
                    "env_kwargs and wrapper_class apply only when eval_env is an id or a constructor."
                )
            self._eval_env = spec
        else:
            self._eval_env = make_env(spec, self.env_kwargs, self.wrapper_class)
        for folder in (self.best_model_save_path, self.log_path):
            if folder is not None:
                os.makedirs(folder, exist_ok=True)
        self._next_eval = self._next_multiple()
        super()._init_callback()

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next_eval:
            return True
        self._next_eval = self._next_multiple()
        return self.evaluate()

    def _next_multiple(self) -> int:
        return (self.num_timesteps // self.eval_freq + 1) * self.eval_freq

    def evaluate(self) -> bool:
        """Evaluate now; record, save and call ``callback_on_new_best``. Returns whether to go on."""
        assert self._eval_env is not None
        result = evaluate_policy(
            self.model, self._eval_env, self.n_eval_episodes, self.deterministic, self.seed
        )
        self.last_result = result
        self.last_mean_reward = result.team_return_mean
        self.evaluations_timesteps.append(self.num_timesteps)
        self.evaluations_results.append(result.team_returns)
        self.evaluations_length.append(result.episode_lengths)
        if self.log_path is not None:
            with atomic_write(os.path.join(self.log_path, "evaluations.npz")) as file:
                np.savez(
                    file,
                    timesteps=self.evaluations_timesteps,
                    results=self.evaluations_results,
                    ep_lengths=self.evaluations_length,
                )
        if self.verbose >= 1:
            print(f"Eval num_timesteps={self.num_timesteps}, team return {result}")
        self.logger.record("eval/team_return_mean", result.team_return_mean)
        self.logger.record("eval/team_return_std", result.team_return_std)
        self.logger.record("eval/episode_length_mean", result.episode_length_mean)
        for agent, value in result.agent_return_mean.items():
            self.logger.record(f"eval/agents/{agent}/return_mean", value, exclude=_NOT_ON_CONSOLE)
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(self.num_timesteps)
        if result.team_return_mean <= self.best_mean_reward:
            return True
        self.best_mean_reward = result.team_return_mean
        if self.best_model_save_path is not None:
            save_model(self.model, os.path.join(self.best_model_save_path, "best_model.zip"))
            if self.verbose >= 1:
                print("New best team return: saved best_model.zip")
        return self.callback is None or self._on_event()

    def _on_training_end(self) -> None:
        if self._eval_env is not None and self._eval_env is not self.eval_env_spec:
            self._eval_env.close()
            self._eval_env = None
