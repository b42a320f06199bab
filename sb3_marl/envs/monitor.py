"""Per-agent and team episode statistics for a MultiAgentVecEnv."""

from __future__ import annotations

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
        obs, rewards, dones, infos = super().step_wait()
        inactive = [info.get("inactive", False) for info in infos]
        if any(inactive):  # an inactive slot is never done, so VecMonitor counted the step: take it back
            self.episode_lengths[np.array(inactive)] -= 1
        self._copy_returns += rewards
        self._copy_lengths += 1
        for c in range(len(self._copy_lengths)):
            first = c * len(self._agents)
            if not infos[first].get("copy_done"):
                continue
            returns = self._copy_returns[first : first + len(self._agents)]
            agent_returns = dict(zip(self._agents, returns.tolist(), strict=True))
            team_return, length = float(returns.sum()), int(self._copy_lengths[c])
            for info in infos[first : first + len(self._agents)]:  # a dict of its own on each slot
                info["team_episode"] = {"r": team_return, "l": length, "agent_returns": dict(agent_returns)}
            returns[:] = 0
            self._copy_lengths[c] = 0
        return obs, rewards, dones, infos
