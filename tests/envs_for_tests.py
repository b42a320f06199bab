"""Test doubles: small PettingZoo envs whose every step is fixed, to pin the VecEnv's edge cases
exactly, and an SB3 logger output that keeps every dump."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv
from stable_baselines3.common.logger import KVWriter

N_ACTIONS = 3


def legal(k: int, t: int) -> np.ndarray:
    """The action mask ``MaskedEnv`` gives agent ``k`` at step ``t`` (action 0 is always legal)."""
    return np.array([True, (t + k) % 2 == 0, t % 3 != 0])


class DeathEnv(ParallelEnv):
    """Agents ``a0 .. a{n-1}``; agent ``k`` observes ``[k, t]`` at step ``t``, with reward ``reward(k, t)``.

    ``ends[agent] = (step, terminated, truncated)`` takes that agent out at that step; every agent still
    in at ``max_steps`` is truncated. The env records the actions it is given (``self.actions``, one dict
    per step) and counts its resets. Observations are Box(2,), actions Discrete(3), state ``[t, n_in]``.

    :param omit_done_obs: leave agents that are done out of the step's observations
    :param info_masks: put ``action_mask = legal(k, t)`` in each agent's info
    :param obs_masks: return ``{"observation", "action_mask"}`` dicts instead
    """

    metadata = {"name": "death_v0", "render_modes": ["rgb_array"]}

    def __init__(
        self,
        n_agents: int = 3,
        ends: dict[str, tuple[int, bool, bool]] | None = None,
        max_steps: int = 5,
        omit_done_obs: bool = False,
        info_masks: bool = False,
        obs_masks: bool = False,
        render_mode: str | None = None,
    ):
        self.possible_agents = [f"a{k}" for k in range(n_agents)]
        self.ends = ends or {}
        self.max_steps = max_steps
        self.omit_done_obs, self.info_masks, self.obs_masks = omit_done_obs, info_masks, obs_masks
        self.render_mode = render_mode
        self.state_space = spaces.Box(0, 100, (2,), np.float32)
        self.actions: list[dict[str, int]] = []
        self.n_resets = 0
        self.t = 0
        self.agents: list[str] = []

    @staticmethod
    def reward(k: int, t: int) -> float:
        return 10.0 * k + t

    def observation_space(self, agent: str) -> spaces.Space:
        box = spaces.Box(0, 100, (2,), np.float32)
        if self.obs_masks:
            return spaces.Dict({"observation": box, "action_mask": spaces.MultiBinary(N_ACTIONS)})
        return box

    def action_space(self, agent: str) -> spaces.Space:
        return spaces.Discrete(N_ACTIONS)

    def _obs(self, agent: str) -> Any:
        k = self.possible_agents.index(agent)
        obs = np.array([k, self.t], dtype=np.float32)
        if self.obs_masks:
            return {"observation": obs, "action_mask": legal(k, self.t).astype(np.int8)}
        return obs

    def _info(self, agent: str) -> dict[str, Any]:
        info: dict[str, Any] = {"t": self.t}
        if self.info_masks:
            info["action_mask"] = legal(self.possible_agents.index(agent), self.t)
        return info

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        self.t = 0
        self.n_resets += 1
        self.agents = list(self.possible_agents)
        return {a: self._obs(a) for a in self.agents}, {a: self._info(a) for a in self.agents}

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        assert set(actions) == set(self.agents), "actions must be given for exactly the live agents"
        self.actions.append({a: int(x) for a, x in actions.items()})
        self.t += 1
        terminations, truncations = {}, {}
        for a in self.agents:
            step, terminated, truncated = self.ends.get(a, (-1, False, False))
            terminations[a] = step == self.t and terminated
            truncations[a] = (step == self.t and truncated) or self.t >= self.max_steps
        rewards = {a: self.reward(self.possible_agents.index(a), self.t) for a in self.agents}
        infos = {a: self._info(a) for a in self.agents}
        done = {a for a in self.agents if terminations[a] or truncations[a]}
        observations = {a: self._obs(a) for a in self.agents if not (self.omit_done_obs and a in done)}
        self.agents = [a for a in self.agents if a not in done]
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        return np.array([self.t, len(self.agents)], dtype=np.float32)

    def render(self) -> np.ndarray:
        return np.full((4, 4, 3), self.t, dtype=np.uint8)


class MixedSpacesEnv(DeathEnv):
    """A ``DeathEnv`` whose agents have the given observation and action spaces (for the space errors)."""

    def __init__(self, obs_spaces: list[spaces.Space], act_spaces: list[spaces.Space]):
        super().__init__(n_agents=len(obs_spaces))
        self._obs_spaces, self._act_spaces = obs_spaces, act_spaces

    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_spaces[self.possible_agents.index(agent)]

    def action_space(self, agent: str) -> spaces.Space:
        return self._act_spaces[self.possible_agents.index(agent)]


class TurnEnv(AECEnv):
    """Turn-based AEC env: players ``p0 .. p{n-1}`` move in turn; player ``k`` observes ``[k, t]``.

    A move with action ``a`` by ``p{k}`` at move ``t`` gives the mover ``a`` and every other player
    ``waiting_reward(k, t)``; after ``n_moves`` moves every player is terminated (or truncated with
    ``truncate=True``). The env records the moves it is given (``self.moves``: (player, action)).
    """

    metadata = {"name": "turn_v0", "render_modes": []}

    def __init__(self, n_players: int = 2, n_moves: int = 5, truncate: bool = False):
        super().__init__()
        self.possible_agents = [f"p{k}" for k in range(n_players)]
        self.n_moves, self.truncate = n_moves, truncate
        self.moves: list[tuple[str, int]] = []
        self.render_mode = None

    @staticmethod
    def waiting_reward(k: int, t: int) -> float:
        return 100.0 + 10 * k + t

    def observation_space(self, agent: str) -> spaces.Space:
        return spaces.Box(0, 100, (2,), np.float32)

    def action_space(self, agent: str) -> spaces.Space:
        return spaces.Discrete(N_ACTIONS)

    def observe(self, agent: str) -> np.ndarray:
        return np.array([self.possible_agents.index(agent), self.t], dtype=np.float32)

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self.agents = list(self.possible_agents)
        self.t = 0
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict] = {a: {} for a in self.agents}
        self.agent_selection = self.agents[0]

    def step(self, action: int | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        assert action is not None
        self._cumulative_rewards[agent] = 0
        self._clear_rewards()
        self.moves.append((agent, int(action)))
        k = self.agents.index(agent)
        self.t += 1
        for other in self.agents:
            self.rewards[other] = float(action) if other == agent else self.waiting_reward(k, self.t)
        if self.t >= self.n_moves:
            flags = self.truncations if self.truncate else self.terminations
            for a in self.agents:
                flags[a] = True
        self.agent_selection = self.agents[(k + 1) % len(self.agents)]
        self._accumulate_rewards()


class Capture(KVWriter):
    """Keeps every dump of the SB3 logger: ``{step: {key: value}}``."""

    def __init__(self) -> None:
        self.dumps: dict[int, dict[str, Any]] = {}

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
        self.dumps.setdefault(step, {}).update(key_values)

    def close(self) -> None:
        pass


class FaultEnv(DeathEnv):
    """A ``DeathEnv`` (``info_masks=True``, metadata name ``fault_v0``) that goes wrong once, at step
    ``at`` (0: at reset), for agent ``agent``, in the way ``fault`` names:

    ``nan_obs``, ``inf_obs``, ``nan_reward``, ``inf_reward``, ``huge_reward`` (1e39, beyond float32),
    ``nan_terminal_obs`` (the agent terminates with a NaN last observation), ``long_mask``,
    ``short_mask``, ``empty_mask`` (all False), ``stranger`` (an agent outside ``possible_agents``
    appears), ``no_agents`` (reset leaves ``agents`` empty), ``no_possible_agents``, ``exit`` (the
    process ends at once with exit code 3), or None (no fault).
    """

    metadata = {"name": "fault_v0", "render_modes": []}

    def __init__(self, fault: str | None, at: int = 2, agent: str = "a1", **kwargs: Any):
        ends = {agent: (at, True, False)} if fault == "nan_terminal_obs" else {}
        super().__init__(ends=ends, info_masks=True, **kwargs)
        self.fault, self.at, self.agent = fault, at, agent
        if fault == "no_possible_agents":
            self.possible_agents = []

    def _spoil(self, observations: dict, rewards: dict, infos: dict) -> None:
        if self.t != self.at:
            return
        a = self.agent
        spoiled = {"nan_obs": np.nan, "inf_obs": np.inf, "nan_terminal_obs": np.nan}
        if self.fault in spoiled:
            observations[a] = observations[a].copy()
            observations[a][1] = spoiled[self.fault]
        bad_rewards = {"nan_reward": np.nan, "inf_reward": -np.inf, "huge_reward": 1e39}
        if self.fault in bad_rewards:
            rewards[a] = bad_rewards[self.fault]
        masks = {"long_mask": np.ones(N_ACTIONS + 1), "short_mask": np.ones(N_ACTIONS - 1)}
        if self.fault in masks:
            infos[a]["action_mask"] = masks[self.fault]
        if self.fault == "empty_mask":
            infos[a]["action_mask"] = np.zeros(N_ACTIONS, dtype=bool)
        if self.fault == "stranger":
            observations["intruder"] = np.zeros(2, dtype=np.float32)
        if self.fault == "exit":
            os._exit(3)

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        observations, infos = super().reset(seed, options)
        if self.fault == "no_agents":
            self.agents = []
            return {}, {}
        self._spoil(observations, {}, infos)
        return observations, infos

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        observations, rewards, terminations, truncations, infos = super().step(actions)
        self._spoil(observations, rewards, infos)
        return observations, rewards, terminations, truncations, infos


class TwoStepGame(ParallelEnv):
    """The two-step cooperative game of Rashid et al. 2018 (QMIX, section 6.1), for value decomposition.

    Two agents, two actions each, every agent rewarded with the team payoff. In the first step (state
    ``1``) agent ``a0`` chooses the game of the second step: action 0 leads to state ``2A``, where every
    joint action pays 7, action 1 to state ``2B``, where the joint action ``(i, j)`` pays
    ``PAYOFF_2B[i][j]``; ``a1``'s first action does nothing. The episode ends after the second step.
    Both agents observe the state (one-hot over ``1, 2A, 2B``; zeros once it ended), which is also
    ``state()``. The optimum is ``2B`` then ``(1, 1)``: 8, against 7 by way of ``2A``.

    Why two steps: in a one-step game whose payoffs are monotonic (one order of each agent's actions
    that every row and column keeps), VDN's greedy joint action is already the best one, since with
    actions drawn independently per agent its least-squares sum is a row mean plus a column mean, which
    keep that order. What the sum gets wrong is the value of the best joint action, and a first step
    whose choice rests on that value turns the wrong value into a wrong action.

    What the learners' values come to on the uniform data of full exploration (each joint action equally
    often, half the episodes in ``2B``), with ``gamma`` the discount:

    - QMIX: ``2B`` is monotonic but not additive. With ``Q_a0(2B, .) = Q_a1(2B, .) = (0, 1)`` the
      increasing ``g(x + y)``, ``g(0) = 0, g(1) = 1, g(2) = 8``, gives its payoffs exactly, so a
      monotonic mixer can value ``2B`` at 8, and state ``1`` at ``8 gamma`` for ``a0 = 1`` against
      ``7 gamma`` for ``a0 = 0``: ``a0`` takes 1, the optimum.
    - VDN: ``Q_a0(i) + Q_a1(j)`` cannot fit ``2B`` (its interaction ``0 - 1 - 1 + 8 = 6`` is not 0). The
      least-squares sum is the row mean plus the column mean minus the grand mean, ``(0.5, 4.5)`` twice
      minus 2.5: ``[[-1.5, 2.5], [2.5, 6.5]]``, every residual 1.5. Its greedy joint action in ``2B`` is
      ``(1, 1)``, but valued 6.5 < 7, so state ``1`` is valued ``6.5 gamma`` for ``a0 = 1`` against
      ``7 gamma`` for ``a0 = 0``: ``a0`` takes 0, payoff 7. Under MADQN's Huber loss (slope 1 beyond a
      residual of 1) every sum whose residuals have these signs and sizes of at least 1 fits as well;
      their value of ``(1, 1)`` is between 5 and 7, never above 7.
    - Independent agents: ``a0``'s Q of action 1 in ``2B`` averages over ``a1``'s uniform play: 4.5
      (under the Huber loss anywhere in ``[2, 7]``, between targets 1 and 8), below 7 again: payoff 7.

    With decaying exploration the data in ``2B`` gathers on the greedy ``(1, 1)``, and weighted that way
    the fits there approach 8: where each agent takes action 1 in ``2B`` with probability ``p``, VDN's
    least-squares value of ``(1, 1)`` is ``2 + 12 p - 6 p^2``, above 7 for ``p > 0.59``, and ``a0``'s
    independent Q of action 1 is ``1 + 7 p``, above 7 for ``p > 6/7``; both can then find the optimum.

    Observations Box(3,), actions Discrete(2), state Box(3,); use ``make_vec_env(...,
    agent_indicator=True)`` so that the shared Q-network tells the agents apart.
    """

    metadata = {"name": "two_step_v0", "render_modes": []}
    PAYOFF_2A = ((7.0, 7.0), (7.0, 7.0))
    PAYOFF_2B = ((0.0, 1.0), (1.0, 8.0))

    def __init__(self) -> None:
        self.possible_agents = ["a0", "a1"]
        self.render_mode = None
        self.state_space = spaces.Box(0, 1, (3,), np.float32)
        self.agents: list[str] = []
        self.position = 0  # 0: state 1, 1: 2A, 2: 2B, 3: ended

    def observation_space(self, agent: str) -> spaces.Space:
        return self.state_space

    def action_space(self, agent: str) -> spaces.Space:
        return spaces.Discrete(2)

    def state(self) -> np.ndarray:
        return np.eye(3, dtype=np.float32)[self.position] if self.position < 3 else np.zeros(3, np.float32)

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        self.agents = list(self.possible_agents)
        self.position = 0
        return {a: self.state() for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        payoff, ended = 0.0, self.position > 0
        if ended:
            matrix = self.PAYOFF_2A if self.position == 1 else self.PAYOFF_2B
            payoff = matrix[int(actions["a0"])][int(actions["a1"])]
            self.position = 3
        else:
            self.position = 1 + int(actions["a0"])
        observations = {a: self.state() for a in self.agents}
        rewards = dict.fromkeys(self.agents, payoff)
        terminations = dict.fromkeys(self.agents, ended)
        truncations = dict.fromkeys(self.agents, False)
        infos: dict[str, dict] = {a: {} for a in self.agents}
        if ended:
            self.agents = []
        return observations, rewards, terminations, truncations, infos
