"""Per-agent and team episode statistics for a MultiAgentVecEnv."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecMonitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn


class MultiAgentVecMonitor(VecMonitor):
    """SB3's ``VecMonitor`` for agent slots: ``info["episode"]`` holds an agent's own return and length
    (steps it was inactive are not counted), and at the step a copy's episode ends every slot of that
    copy gets ``info["team_episode"] = {"r": team return, "l": length, "agent_returns": {agent: r}}``,
    the team return being the sum over agents.

    :param venv: a ``MultiAgentVecEnv`` (or a wrapper of one)
    :param filename: where to write SB3's monitor CSV of per-agent episodes, None for none
    :param info_keywords: extra info keys to record with each episode
    """

    def __init__(self, venv: VecEnv, filename: str | None = None, info_keywords: tuple[str, ...] = ()):
        super().__init__(venv, filename, info_keywords)
        self._agents: list[str] = venv.possible_agents  # type: ignore[attr-defined]
        self._copy_returns = np.zeros(self.num_envs, dtype=np.float64)
        self._copy_lengths = np.zeros(self.num_envs // len(self._agents), dtype=np.int64)

    def reset(self) -> VecEnvObs:
        self._copy_returns[:] = 0
        self._copy_lengths[:] = 0
        return super().reset()

    def step_wait(self) -> VecEnvStepReturn:
        """``VecMonitor.step_wait`` (its episode dicts written into the step's infos, which are the
        step's own), with inactive steps left out of an agent's length, and the team episodes."""
        obs, rewards, dones, infos = self.venv.step_wait()
        self.episode_returns += rewards
        self.episode_lengths += 1
        self._copy_returns += rewards
        self._copy_lengths += 1
        inactive = ["inactive" in info for info in infos]
        if any(inactive):  # an inactive slot is never done: its step is not one of its episode
            self.episode_lengths[np.array(inactive)] -= 1
        if dones.any():  # a copy's episode ends only at a step where one of its agents is done
            for i in np.flatnonzero(dones).tolist():
                self._end_agent_episode(i, infos[i])
            n = len(self._agents)
            for c in range(len(self._copy_lengths)):
                if infos[c * n].get("copy_done"):
                    self._end_team_episode(c, infos[c * n : (c + 1) * n])
        return obs, rewards, dones, infos

    def _end_agent_episode(self, i: int, info: dict[str, Any]) -> None:
        episode_info = {
            "r": self.episode_returns[i],
            "l": self.episode_lengths[i],
            "t": round(time.time() - self.t_start, 6),
        }
        for key in self.info_keywords:
            episode_info[key] = info[key]
        info["episode"] = episode_info
        self.episode_count += 1
        self.episode_returns[i] = 0
        self.episode_lengths[i] = 0
        if self.results_writer:
            self.results_writer.write_row(episode_info)

    def _end_team_episode(self, c: int, infos: list[dict[str, Any]]) -> None:
        returns = self._copy_returns[c * len(self._agents) : (c + 1) * len(self._agents)]
        agent_returns = dict(zip(self._agents, returns.tolist(), strict=True))
        team_return, length = float(returns.sum()), int(self._copy_lengths[c])
        for info in infos:  # a dict of its own on each slot
            info["team_episode"] = {"r": team_return, "l": length, "agent_returns": dict(agent_returns)}
        returns[:] = 0
        self._copy_lengths[c] = 0
