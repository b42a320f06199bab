"""Proportional prioritized experience replay with n-step returns, on top of SB3's ReplayBuffer."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.vec_env import VecNormalize

from sb3_marl.buffers.sum_tree import PriorityTree


class PrioritizedReplayBufferSamples(NamedTuple):
    """
    A batch from :class:`PrioritizedReplayBuffer`.

    ``rewards`` are n-step returns and ``discounts`` the matching ``gamma ** k`` to apply to the
    bootstrapped value of ``next_observations`` (``k`` steps ahead); ``dones`` are true terminations
    only (time-outs excluded). ``weights`` ``[batch, 1]`` are the normalized importance-sampling
    weights, ``indices`` (NumPy) the leaves to pass back to ``update_priorities``, and
    ``next_action_masks`` the legal actions of ``next_observations`` (``None`` without masks).
    """

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor
    weights: th.Tensor
    indices: np.ndarray
    next_action_masks: th.Tensor | None


class PrioritizedReplayBuffer(ReplayBuffer):
    """
    Proportional prioritized replay (Schaul et al., 2016) with optional n-step returns.

    Transition ``(pos, env)`` is leaf ``pos * n_envs + env`` of a tree of sums and minima holding
    ``priority ** alpha``. New transitions get the largest priority seen so far. A transition added as
    not ``active`` gets priority 0 and is never sampled, nor made sampleable again by
    ``update_priorities``. With ``alpha=0`` sampling is uniform over the other transitions. Like SB3's
    buffer it reads only ``info["TimeLimit.truncated"]``; masks and activity come as arrays.

    :param buffer_size: Max number of transitions in the buffer (over all envs)
    :param observation_space: Observation space (Box, Discrete, MultiDiscrete or MultiBinary)
    :param action_space: Action space
    :param device: PyTorch device
    :param n_envs: Number of parallel environments
    :param optimize_memory_usage: Not supported, must be False
    :param handle_timeout_termination: Treat time-outs (``info["TimeLimit.truncated"]``) as non-terminal
    :param alpha: Prioritization exponent (0: uniform, 1: fully proportional)
    :param n_steps: Number of steps of the returns (1: one-step TD targets)
    :param gamma: Discount factor of the n-step returns
    :param action_mask_dim: When set, store the legal actions of each next observation (``add``'s
        ``next_action_masks``) and return them as ``next_action_masks``. The storage is made at the first
        ``add`` given masks (so an env without masks costs nothing); transitions added without masks
        count as all legal
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        alpha: float = 0.6,
        n_steps: int = 1,
        gamma: float = 0.99,
        action_mask_dim: int | None = None,
    ):
        supported = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
        if not isinstance(observation_space, supported):
            raise ValueError(
                f"PrioritizedReplayBuffer supports Box, Discrete, MultiDiscrete and MultiBinary observation "
                f"spaces, not {observation_space}. For a Dict space, flatten the observations "
                "(e.g. gymnasium.wrappers.FlattenObservation) and use MlpPolicy."
            )
        if optimize_memory_usage:
            raise ValueError(
                "PrioritizedReplayBuffer does not support optimize_memory_usage=True: that mode reads the "
                "next observation from the following slot of the same env column, which a prioritized sample "
                "(any column, any slot, n steps ahead) cannot guarantee is valid. "
                "Set optimize_memory_usage=False."
            )
        if not alpha >= 0:
            raise ValueError(f"alpha must be >= 0 (0 means uniform sampling), got {alpha}")
        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        if action_mask_dim is not None and action_mask_dim < 1:
            raise ValueError(f"action_mask_dim must be >= 1 or None, got {action_mask_dim}")
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            optimize_memory_usage=False,
            handle_timeout_termination=handle_timeout_termination,
        )
        self.alpha = alpha
        self.n_steps = n_steps
        self.gamma = gamma
        self.max_priority = 1.0
        self.n_leaves = self.buffer_size * self.n_envs
        self._tree = PriorityTree(self.n_leaves)
        self._env_leaves = np.arange(self.n_envs)
        self.action_mask_dim = action_mask_dim
        self.next_action_masks: np.ndarray | None = None

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
        next_action_masks: np.ndarray | None = None,
        active: np.ndarray | None = None,
    ) -> None:
        """
        Add one transition per env, as SB3's buffer does, with priority ``max_priority ** alpha``.

        :param obs: Observations ``(n_envs, *obs_shape)``
        :param next_obs: Next observations (the terminal ones where an episode ended)
        :param action: Actions
        :param reward: Rewards ``(n_envs,)``
        :param done: Dones ``(n_envs,)``
        :param infos: One dict per env; only ``TimeLimit.truncated`` is read
        :param next_action_masks: Legal actions at ``next_obs``, bool ``(n_envs, action_mask_dim)``;
            ``None``: all legal
        :param active: Which transitions are real, bool ``(n_envs,)``; the others get priority 0 and are
            never sampled. ``None``: all are
        """
        leaves = self._env_leaves + self.pos * self.n_envs
        if next_action_masks is not None:
            masks = np.asarray(next_action_masks, dtype=bool)
            if self.action_mask_dim is None or masks.shape != (self.n_envs, self.action_mask_dim):
                raise ValueError(
                    f"next_action_masks has shape {masks.shape}, expected (n_envs, action_mask_dim) = "
                    f"({self.n_envs}, {self.action_mask_dim}): make the buffer with "
                    "action_mask_dim=<number of actions> and pass one row of legal actions per env"
                )
            if self.next_action_masks is None:
                shape = (self.buffer_size, self.n_envs, self.action_mask_dim)
                self.next_action_masks = np.ones(shape, dtype=bool)
            self.next_action_masks[self.pos] = masks
        elif self.next_action_masks is not None:
            self.next_action_masks[self.pos] = True
        priority = self.max_priority**self.alpha
        if active is None:
            priorities = np.full(self.n_envs, priority)
        else:
            active = np.asarray(active, dtype=bool)
            if active.shape != (self.n_envs,):
                raise ValueError(f"active has shape {active.shape}, expected (n_envs,) = ({self.n_envs},)")
            # Inactive transitions get 0 explicitly: 0 ** 0 would be 1 with alpha=0.
            priorities = np.where(active, priority, 0.0)
        super().add(obs, next_obs, action, reward, done, infos)
        self._tree.update(leaves, priorities, checked=True, distinct=True)

    def sample(  # type: ignore[override]
        self, batch_size: int, env: VecNormalize | None = None, beta: float = 0.4
    ) -> PrioritizedReplayBufferSamples:
        """
        Sample proportionally to ``priority ** alpha``, one draw in each of ``batch_size`` equal
        segments of the total.

        :param batch_size: Number of transitions to sample
        :param env: VecNormalize to normalize the observations and rewards with
        :param beta: Importance-sampling exponent; weights are ``(p_min / p_i) ** beta``, which is
            ``(N * P(i)) ** -beta`` divided by its maximum over the stored transitions
        :return: The batch, with its weights and leaf indices
        """
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        total = self._tree.total()
        if total <= 0.0:
            raise RuntimeError(
                "No transition to sample: the buffer is empty or all its transitions are inactive"
            )
        prefixes = (np.arange(batch_size) + np.random.random(batch_size)) * (total / batch_size)
        leaves, priorities = self._tree.find(prefixes)
        weights = (self._tree.min() / priorities) ** beta
        return self._samples_at(leaves, weights, env)

    def update_priorities(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """
        Set new priorities (e.g. ``|td_error| + eps``) of sampled leaves. Leaves with priority 0
        (inactive or not yet written) are left unchanged.

        :param indices: Leaf indices, as returned in ``samples.indices``
        :param priorities: Positive, finite priorities, one per index
        """
        indices = np.asarray(indices, dtype=np.int64).ravel()
        priorities = np.asarray(priorities, dtype=np.float64).ravel()
        if indices.shape != priorities.shape:
            raise ValueError(f"Got {indices.size} indices but {priorities.size} priorities")
        if indices.size == 0:
            return
        highest = self._tree.reweight(indices, priorities, self.alpha)
        self.max_priority = max(self.max_priority, highest)

    def priorities(self, indices: np.ndarray) -> np.ndarray:
        """Stored ``priority ** alpha`` of the given leaves (0 for inactive or empty ones)."""
        return self._tree[np.asarray(indices, dtype=np.int64)]

    def reset(self) -> None:
        super().reset()
        self._tree.reset()
        self.max_priority = 1.0

    def _tensor(self, array: np.ndarray) -> th.Tensor:
        # Every array passed here is a fresh gather, so sharing its memory is safe; th.from_numpy costs
        # a third of th.as_tensor(array, device=...) (to_torch), and a batch makes eight tensors.
        tensor = th.from_numpy(array)
        return tensor if self.device.type == "cpu" else tensor.to(self.device)

    def _gather(self, array: np.ndarray, flat: np.ndarray) -> np.ndarray:
        """``array[rows, cols]`` for leaves ``flat = rows * n_envs + cols`` (one ``take``: faster)."""
        return array.reshape(array.shape[0] * array.shape[1], *array.shape[2:]).take(flat, axis=0)

    def _n_step(
        self, leaves: np.ndarray, env: VecNormalize | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """
        n-step returns from transitions ``leaves``, with the semantics of SB3's NStepReplayBuffer:
        a sequence ends at its first done or time-out, or at the last written row (the row after it
        is empty or from an older episode).

        :return: returns ``[batch, 1]``, discounts ``gamma ** k`` ``[batch, 1]``, and the leaf of the
            last transition used (whose next observation and done flag close the sequence)
        """
        if self.n_steps == 1:
            rewards = self._normalize_reward(self._gather(self.rewards, leaves).reshape(-1, 1), env)
            return rewards, np.full((len(leaves), 1), self.gamma, dtype=np.float32), leaves
        steps = np.arange(self.n_steps)
        # Step k of a sequence is k rows later in the same env column, wrapping around the buffer.
        seq = (leaves[:, None] + steps * self.n_envs) % self.n_leaves
        ends = (
            (self._gather(self.dones, seq) > 0)
            | (self._gather(self.timeouts, seq) > 0)
            | (seq // self.n_envs == (self.pos - 1) % self.buffer_size)
        )
        ends[:, -1] = True
        last = ends.argmax(axis=1)
        used = steps <= last[:, None]
        rewards = self._normalize_reward(self._gather(self.rewards, seq), env)
        returns = (rewards * self.gamma ** steps.astype(np.float32) * used).sum(axis=1, keepdims=True)
        discounts = self.gamma ** (last[:, None] + 1).astype(np.float32)
        return returns, discounts, seq[np.arange(len(leaves)), last]

    def _samples_at(
        self, leaves: np.ndarray, weights: np.ndarray, env: VecNormalize | None = None
    ) -> PrioritizedReplayBufferSamples:
        returns, discounts, last = self._n_step(leaves, env)
        obs = self._normalize_obs(self._gather(self.observations, leaves), env)
        next_obs = self._normalize_obs(self._gather(self.next_observations, last), env)
        dones = self._gather(self.dones, last) * (1.0 - self._gather(self.timeouts, last))
        next_masks = None
        if self.next_action_masks is not None:
            next_masks = self._tensor(self._gather(self.next_action_masks, last))
        return PrioritizedReplayBufferSamples(
            observations=self._tensor(obs),  # type: ignore[arg-type]
            actions=self._tensor(self._gather(self.actions, leaves)),
            next_observations=self._tensor(next_obs),  # type: ignore[arg-type]
            dones=self._tensor(dones.reshape(-1, 1)),
            rewards=self._tensor(returns),
            discounts=self._tensor(discounts),
            weights=self._tensor(weights.astype(np.float32).reshape(-1, 1)),
            indices=leaves,
            next_action_masks=next_masks,
        )
