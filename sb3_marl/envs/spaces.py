"""One shared slot space for agents whose spaces may differ: padding, agent indicator, action masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces


@dataclass
class SlotSpaces:
    """The observation and action space every slot shares, and how each agent's data maps onto it.

    :param observation_space: the common observation space of a slot
    :param action_space: the common action space of a slot
    :param obs_dims: per agent, the length of its own (unpadded) flat observation, or None when
        observations are used as they are
    :param action_ns: per agent, its number of Discrete actions (None for other action spaces)
    :param agent_indicator: whether a one-hot agent id is appended to observations
    :param agents: the agents' names, in slot order (for error messages)
    """

    observation_space: spaces.Space
    action_space: spaces.Space
    obs_dims: list[int] | None
    action_ns: list[int] | None
    agent_indicator: bool
    agents: tuple[str, ...] = ()

    @property
    def discrete(self) -> bool:
        return isinstance(self.action_space, spaces.Discrete)

    @property
    def n_actions(self) -> int:
        assert isinstance(self.action_space, spaces.Discrete)
        return int(self.action_space.n)

    def write_obs(self, out: np.ndarray, row: int, agent_idx: int, obs: np.ndarray) -> None:
        """Write one agent's raw observation into row ``row`` of ``out`` (padding and indicator)."""
        if self.obs_dims is None:
            out[row] = obs
            return
        dim = self.obs_dims[agent_idx]
        out[row, :dim] = obs
        out[row, dim:] = 0
        if self.agent_indicator:
            out[row, out.shape[1] - len(self.obs_dims) + agent_idx] = 1

    def legal_mask(self, agent_idx: int, env_mask: np.ndarray | None) -> np.ndarray:
        """The slot's mask over the common Discrete space: the agent's own actions, further
        restricted by the env's mask where it gives one (of exactly the agent's number of actions)."""
        assert self.action_ns is not None
        mask = np.zeros(self.n_actions, dtype=bool)
        n = self.action_ns[agent_idx]
        if env_mask is not None and np.shape(env_mask) != (n,):
            agent = self.agents[agent_idx] if self.agents else f"#{agent_idx}"
            raise ValueError(
                f"The action mask of agent {agent!r} has shape {np.shape(env_mask)}, but its action space is "
                f"Discrete({n}): expected shape ({n},), one entry per action. Mend the env's action_mask."
            )
        mask[:n] = True if env_mask is None else env_mask
        return mask


_ARRAY_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def _raw_obs_space(space: spaces.Space) -> spaces.Space:
    """PettingZoo's masked observation dicts carry the observation under ``"observation"``."""
    if isinstance(space, spaces.Dict) and "observation" in space.spaces and "action_mask" in space.spaces:
        return space["observation"]
    return space


def build_slot_spaces(
    agents: list[str],
    observation_spaces: list[spaces.Space],
    action_spaces: list[spaces.Space],
    agent_indicator: bool = False,
) -> SlotSpaces:
    """Find one space every agent fits in, or say why there is none.

    Flat Box observations of different lengths are zero-padded to the longest; Discrete action
    spaces of different sizes are padded to the largest, and the padded actions are masked out.
    """
    obs_spaces = [_raw_obs_space(s) for s in observation_spaces]
    for agent, space in zip(agents, obs_spaces, strict=True):
        if not isinstance(space, _ARRAY_SPACES):
            raise ValueError(
                f"Agent {agent!r} has observation space {space}: only array spaces (Box, Discrete, "
                "MultiDiscrete, MultiBinary) can be stacked into slots. Flatten it first (e.g. "
                "supersuit.flatten_v0 or gymnasium.spaces.flatten)."
            )
    first = obs_spaces[0]
    same_obs = all(s == first for s in obs_spaces)
    if agent_indicator or not same_obs:
        boxes = [s for s in obs_spaces if isinstance(s, spaces.Box) and len(s.shape) == 1]
        if len(boxes) != len(obs_spaces):
            what = "an agent indicator" if agent_indicator else "padding"
            named = dict(zip(agents, obs_spaces, strict=True))
            raise ValueError(
                f"Cannot apply {what} to observation spaces {named}: only flat (1-D) Box observations can "
                "be padded or extended. Give every agent the same observation space (for images, e.g. "
                "supersuit.resize_v1 / color_reduction_v0) or flatten them."
            )
        dims = [int(s.shape[0]) for s in boxes]
        size = max(dims) + (len(agents) if agent_indicator else 0)
        low = np.zeros(size, dtype=np.float64)
        high = np.zeros(size, dtype=np.float64)
        for s, d in zip(boxes, dims, strict=True):
            low[:d] = np.minimum(low[:d], s.low)
            high[:d] = np.maximum(high[:d], s.high)
        if agent_indicator:
            high[-len(agents) :] = 1
        dtype = np.result_type(*(s.dtype for s in boxes))
        observation_space: spaces.Space = spaces.Box(low.astype(dtype), high.astype(dtype), dtype=dtype)
        obs_dims: list[int] | None = dims
    else:
        observation_space, obs_dims = first, None

    act_first = action_spaces[0]
    if all(isinstance(s, spaces.Discrete) for s in action_spaces):
        if any(int(s.start) != 0 for s in action_spaces):  # type: ignore[attr-defined]
            raise ValueError("Discrete action spaces with a non-zero start are not supported.")
        ns = [int(s.n) for s in action_spaces]  # type: ignore[attr-defined]
        discrete = spaces.Discrete(max(ns))
        return SlotSpaces(observation_space, discrete, obs_dims, ns, agent_indicator, tuple(agents))
    if not all(s == act_first for s in action_spaces):
        raise ValueError(
            f"Cannot pad action spaces {dict(zip(agents, action_spaces, strict=True))}: only Discrete "
            "action spaces of different sizes can be padded (with action masks). Give every agent the same "
            "action space."
        )
    return SlotSpaces(observation_space, act_first, obs_dims, None, agent_indicator, tuple(agents))
