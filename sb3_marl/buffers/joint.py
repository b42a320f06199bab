"""Prioritized replay of joint transitions: one entry per env copy, holding every agent."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecNormalize

from sb3_marl.buffers.prioritized import PrioritizedReplayBuffer


class JointReplayBufferSamples(NamedTuple):
    """A batch of joint transitions: the fields of ``PrioritizedReplayBufferSamples`` with a leading
    agent axis on observations ``(batch, n_agents, *obs_shape)``, actions ``(batch, n_agents)`` and
    next-action masks ``(batch, n_agents, n_actions)``; team rewards, dones and discounts
    ``(batch, 1)``; and the global state before and after the step, ``(batch, state_dim)``, with which
    agents acted (``active``) and which are bootstrapped from the next state (``next_active``),
    ``(batch, n_agents)`` as floats."""

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor
    weights: th.Tensor
    indices: np.ndarray
    next_action_masks: th.Tensor | None
    states: th.Tensor
    next_states: th.Tensor
    active: th.Tensor
    next_active: th.Tensor


class JointReplayBuffer(PrioritizedReplayBuffer):
    """Prioritized replay (one priority per joint transition) for value decomposition: each entry is
    one env copy at one step. An entry where no agent acted is never sampled.

    :param buffer_size: max number of joint transitions
    :param observation_space: one agent's observation space
    :param action_space: one agent's (Discrete) action space
    :param n_agents: number of agents per copy
    :param state_dim: size of the flat global state
    :param device: PyTorch device
    :param n_envs: number of env copies (joint transitions added per step)
    :param optimize_memory_usage: not supported (the parent buffer says why)
    :param alpha: how much prioritization is used (0: uniform)
    :param gamma: discount factor
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Box,
        action_space: spaces.Discrete,
        n_agents: int,
        state_dim: int,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        alpha: float = 0.6,
        gamma: float = 0.99,
    ):
        shape = (n_agents, *observation_space.shape)
        joint_obs = spaces.Box(
            np.broadcast_to(observation_space.low, shape),
            np.broadcast_to(observation_space.high, shape),
            dtype=observation_space.dtype,  # type: ignore[arg-type]
        )
        joint_actions = spaces.MultiDiscrete([int(action_space.n)] * n_agents)
        super().__init__(
            buffer_size,
            joint_obs,
            joint_actions,
            device,
            n_envs=n_envs,
            optimize_memory_usage=optimize_memory_usage,
            alpha=alpha,
            gamma=gamma,
            action_mask_dim=n_agents * int(action_space.n),
        )
        self.n_agents = n_agents
        self.n_actions = int(action_space.n)
        rows = (self.buffer_size, n_envs)
        self.states = np.zeros((*rows, state_dim), dtype=np.float32)
        self.next_states = np.zeros((*rows, state_dim), dtype=np.float32)
        self.active = np.zeros((*rows, n_agents), dtype=bool)
        self.next_active = np.zeros((*rows, n_agents), dtype=bool)

    def add(  # type: ignore[override]
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
        next_action_masks: np.ndarray | None = None,
        active: np.ndarray | None = None,
        *,
        states: np.ndarray,
        next_states: np.ndarray,
        next_active: np.ndarray | None = None,
    ) -> None:
        """Add one joint transition per copy; a copy where no agent is ``active`` is stored with
        priority 0. Observations are ``(n_envs, n_agents, *obs_shape)``, actions ``(n_envs, n_agents)``,
        team rewards and dones ``(n_envs,)``; ``infos`` (one per copy) are read for
        ``TimeLimit.truncated`` only.

        :param next_action_masks: the agents' legal next actions ``(n_envs, n_agents, n_actions)``;
            ``None``: all legal
        :param active: which agents acted ``(n_envs, n_agents)``; ``None``: all
        :param states: global states before the step ``(n_envs, state_dim)``
        :param next_states: global states after it (the terminal state where the copy ended)
        :param next_active: which agents' next Q-values count in the target; ``None``: ``active``
        """
        active = np.ones((self.n_envs, self.n_agents), bool) if active is None else np.asarray(active, bool)
        flat_masks = None
        if next_action_masks is not None:
            expected = (self.n_envs, self.n_agents, self.n_actions)
            if np.shape(next_action_masks) != expected:
                raise ValueError(
                    f"next_action_masks has shape {np.shape(next_action_masks)}, expected "
                    f"(n_envs, n_agents, n_actions) = {expected}"
                )
            flat_masks = np.reshape(next_action_masks, (self.n_envs, -1))
        self.states[self.pos] = states
        self.next_states[self.pos] = next_states
        self.active[self.pos] = active
        self.next_active[self.pos] = active if next_active is None else next_active
        super().add(obs, next_obs, action, reward, done, infos, flat_masks, np.asarray(active.any(axis=1)))

    def sample(  # type: ignore[override]
        self, batch_size: int, env: VecNormalize | None = None, beta: float = 0.4
    ) -> JointReplayBufferSamples:
        samples = super().sample(batch_size, env, beta)
        leaves = samples.indices
        masks = samples.next_action_masks
        return JointReplayBufferSamples(
            *samples[:-1],
            next_action_masks=None if masks is None else masks.reshape(batch_size, self.n_agents, -1),
            states=self._tensor(self._gather(self.states, leaves)),
            next_states=self._tensor(self._gather(self.next_states, leaves)),
            active=self._tensor(self._gather(self.active, leaves).astype(np.float32)),
            next_active=self._tensor(self._gather(self.next_active, leaves).astype(np.float32)),
        )
