"""A cooperative Blind Cliffwalk: the rare-reward chain on which Schaul et al. 2016 (section 3.1, Fig. 1)
show prioritized replay learning far faster than uniform replay, played by a team.

The team walks a chain of ``length`` states. At each state every agent has two actions, of which one is
right (its own fixed pattern, a row of ``RIGHT``); when every agent picks its right action the team
moves one state on, when any agent picks the other the episode ends with no reward. Leaving the last
state pays every agent 1. A uniformly random team reaches the end once in ``2 ** (n_agents * length)``
episodes, so the one rewarding transition is rare in a replay buffer. Each agent observes the one-hot
state and its own one-hot id (agents differ in what is right, so a shared network must tell them apart).

    from sb3_marl import make_vec_env
    env = make_vec_env("sb3_marl.benchmark.cliffwalk", n_envs=8, env_kwargs={"length": 5})
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

# The right action of agent k (row) at each state (column): fixed draws of fair coins.
RIGHT = (
    (1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0),
    (0, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0),
    (1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0),
    (0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1),
)


class CliffwalkEnv(ParallelEnv):
    """The cooperative Blind Cliffwalk (module docstring).

    :param n_agents: agents ``agent_0 .. agent_{n-1}``, 1 to ``len(RIGHT)``
    :param length: states of the chain, 1 to ``len(RIGHT[0])``
    """

    metadata = {"name": "cliffwalk_v0", "render_modes": []}

    def __init__(self, n_agents: int = 2, length: int = 5):
        if not 1 <= length <= len(RIGHT[0]):
            raise ValueError(f"length must be 1 to {len(RIGHT[0])}, got {length}.")
        if not 1 <= n_agents <= len(RIGHT):
            raise ValueError(f"n_agents must be 1 to {len(RIGHT)}, got {n_agents}.")
        self.length = length
        self.possible_agents = [f"agent_{k}" for k in range(n_agents)]
        self.agents: list[str] = []
        self.state_index = 0
        self.render_mode = None

    def observation_space(self, agent: str) -> spaces.Box:
        return spaces.Box(0.0, 1.0, (self.length + len(self.possible_agents),), np.float32)

    def action_space(self, agent: str) -> spaces.Discrete:
        return spaces.Discrete(2)

    def _observations(self) -> dict[str, np.ndarray]:
        observations = {}
        for k, agent in enumerate(self.agents):  # every agent or none: k is the agent's id
            obs = np.zeros(self.length + len(self.possible_agents), np.float32)
            obs[self.state_index] = obs[self.length + k] = 1.0
            observations[agent] = obs
        return observations

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        self.agents = list(self.possible_agents)
        self.state_index = 0
        return self._observations(), {agent: {} for agent in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        right = all(int(actions[agent]) == RIGHT[k][self.state_index] for k, agent in enumerate(self.agents))
        done = not right or self.state_index == self.length - 1
        reward = 1.0 if right and done else 0.0
        self.state_index = min(self.state_index + right, self.length - 1)
        obs = self._observations()
        agents, self.agents = self.agents, ([] if done else self.agents)
        return (
            obs,
            {agent: reward for agent in agents},
            {agent: done for agent in agents},
            {agent: False for agent in agents},
            {agent: {} for agent in agents},
        )


def parallel_env(n_agents: int = 2, length: int = 5) -> CliffwalkEnv:
    """The cooperative Blind Cliffwalk (:class:`CliffwalkEnv`)."""
    return CliffwalkEnv(n_agents, length)
