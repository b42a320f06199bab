"""SB3's episode logging counted in team episodes on a multi-agent VecEnv."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.vec_env import VecEnv, is_vecenv_wrapped

from sb3_marl.envs.monitor import MultiAgentVecMonitor

SelfTeamEpisodeLogging = TypeVar("SelfTeamEpisodeLogging", bound="TeamEpisodeLogging")


def team_size(env: VecEnv | None) -> int | None:
    """The agents per env copy of a VecEnv whose monitor writes ``info["team_episode"]`` (a
    :class:`~sb3_marl.envs.MultiAgentVecMonitor` under any wrappers), else None.

    :param env: the training env, or None
    """
    if env is None or not is_vecenv_wrapped(env, MultiAgentVecMonitor):
        return None
    return int(env.num_agents)  # type: ignore[attr-defined]


class TeamEpisodeLogging(OffPolicyAlgorithm):
    """SB3's rollout logging with one episode per env copy on a multi-agent VecEnv. SB3 counts every done
    slot toward ``log_interval`` (12 slots ending together dump several identical tables) and averages one
    agent's returns. On a VecEnv with team episodes (:func:`team_size`), ``ep_info_buffer`` holds each
    ``info["team_episode"]`` once per copy (``r`` the team return, ``l`` the copy's episode length), so
    ``rollout/ep_rew_mean`` is the mean team return over the last ``stats_window_size`` team episodes, and
    ``dump_logs`` writes one table each time the team episodes pass a multiple of ``log_interval``
    (``time/team_episodes`` is their count; ``time/episodes`` stays SB3's count of slot episodes).
    On any other VecEnv, SB3's logging as it is."""

    _team_size: int | None = None  # agents per copy while learning on a VecEnv with team episodes
    _team_log_interval: int | None = None  # the log_interval of the current learn() call
    _team_episode_num = 0
    _team_episodes_dumped = 0  # the count at the last table

    def learn(
        self: SelfTeamEpisodeLogging,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "run",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfTeamEpisodeLogging:
        """SB3's ``learn``, with ``log_interval`` counted in team episodes on a multi-agent VecEnv.

        :param total_timesteps: the total number of samples (slot steps) to train on
        :param callback: callback(s) called at every step with state of the algorithm
        :param log_interval: episodes (team episodes on a multi-agent VecEnv) between logger tables
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param progress_bar: display a progress bar using tqdm and rich
        :return: the trained model
        """
        if log_interval < 1:
            raise ValueError(f"log_interval must be a positive number of episodes, got {log_interval}.")
        self._team_size = team_size(self.env)
        self._team_log_interval = log_interval
        if reset_num_timesteps:
            self._team_episode_num = self._team_episodes_dumped = 0
        if self._team_size is not None:
            log_interval = 1  # SB3 then asks at every done slot; dump_logs decides
        return super().learn(
            total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar
        )

    def _update_info_buffer(self, infos: list[dict[str, Any]], dones: np.ndarray | None = None) -> None:
        n_agents = self._team_size
        if n_agents is None:
            super()._update_info_buffer(infos, dones)
            return
        assert self.ep_info_buffer is not None and self.ep_success_buffer is not None
        episodes = [info["team_episode"] for info in infos[::n_agents] if "team_episode" in info]
        self.ep_info_buffer.extend(episodes)
        self._team_episode_num += len(episodes)
        if dones is not None:  # success stays per slot, as SB3 has it
            ended = (info for info, done in zip(infos, dones, strict=True) if done)
            self.ep_success_buffer.extend(info["is_success"] for info in ended if "is_success" in info)

    def dump_logs(self) -> None:
        """SB3's ``dump_logs``; on a multi-agent VecEnv only when the team episodes have passed a multiple
        of ``log_interval`` since the last table."""
        interval = self._team_log_interval
        if self._team_size is None or interval is None:
            super().dump_logs()
            return
        if self._team_episode_num // interval == self._team_episodes_dumped // interval:
            return
        self._team_episodes_dumped = self._team_episode_num
        self.logger.record("time/team_episodes", self._team_episode_num, exclude="tensorboard")
        super().dump_logs()
