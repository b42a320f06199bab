"""An Ape-X actor (Horgan et al. 2018): env copies and a CPU copy of the Q-networks, acting with its own
epsilon, sending rounds of transitions with initial priorities from its own TD errors.

The class is plain Python (testable without Ray); :class:`~sb3_marl.apex.apex.ApexMADQN` runs it as a
Ray actor (``ray.remote(ApexActor)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.vec_env import VecEnv

from sb3_marl.buffers import PrioritizedReplayBuffer
from sb3_marl.madqn import transitions
from sb3_marl.madqn.losses import current_and_target
from sb3_marl.madqn.policies import MADQNPolicy, random_actions

# What a learner's callbacks read from the infos; the rest (terminal observations, masks) travels as arrays.
INFO_KEYS = ("episode", "team_episode", "inactive", "TimeLimit.truncated", "copy_done")


def actor_epsilons(n_actors: int, epsilon: float = 0.4, alpha: float = 7.0) -> list[float]:
    """Ape-X's exploration rates: ``epsilon ** (1 + alpha * i / (n_actors - 1))`` for actor ``i``
    (``epsilon`` for a single actor)."""
    if n_actors == 1:
        return [epsilon]
    return [epsilon ** (1 + alpha * i / (n_actors - 1)) for i in range(n_actors)]


class _RoundBuffer(PrioritizedReplayBuffer):
    """One round of an actor's rows, to read their n-step samples (cut at the round's end) for the TD
    errors of the initial priorities."""

    def all_samples(self, n_rows: int) -> Any:
        """The n-step samples of every transition of the first ``n_rows`` rows, row by row."""
        leaves = np.arange(n_rows * self.n_envs)
        return self._samples_at(leaves, np.ones(len(leaves)))


class ApexActor:
    """Collects rounds of transitions from its own env copies.

    :param env_fn: makes the actor's VecEnv (called with the actor's seed)
    :param policy_class: the learner's policy class
    :param policy_kwargs: its constructor's arguments (spaces, schedule, network settings)
    :param epsilon: this actor's exploration rate
    :param n_steps: steps of the returns the priorities use (the learner's)
    :param gamma: discount factor
    :param double_q: whether the TD targets are Double DQN's
    :param eps: added to ``|TD error|``
    :param seed: seed of the env and of the exploration
    """

    def __init__(
        self,
        env_fn: Callable[[int], VecEnv],
        policy_class: type[MADQNPolicy],
        policy_kwargs: dict[str, Any],
        epsilon: float,
        n_steps: int,
        gamma: float,
        double_q: bool,
        eps: float,
        seed: int,
    ):
        th.set_num_threads(1)
        self.env = env_fn(seed)
        self.env.seed(seed)
        self.obs: np.ndarray = self.env.reset()  # type: ignore[assignment]
        self.policy = policy_class(**policy_kwargs).to("cpu")
        self.policy.set_training_mode(False)
        self.epsilon = epsilon
        self.n_steps, self.gamma, self.double_q, self.eps = n_steps, gamma, double_q, eps
        self.rng = np.random.default_rng(seed)
        self.n_actions = int(self.env.action_space.n)  # type: ignore[attr-defined]
        env_method = getattr(self.env, "action_masks", None)
        self.has_masks = is_masking_supported(self.env) or callable(env_method)

    def set_weights(self, state_dict: dict[str, th.Tensor]) -> None:
        """Load the learner's policy weights."""
        self.policy.load_state_dict(state_dict)

    def collect(self, n_rows: int, random: bool = False) -> dict[str, Any]:
        """Step the envs ``n_rows`` times and return the rows with their initial priorities.

        :param n_rows: vector steps
        :param random: take random (legal) actions, as before a learner's ``learning_starts``
        :return: per row and env: ``obs``, ``next_obs`` (the terminal one where an episode ended),
            ``actions``, ``rewards``, ``dones``, ``truncated``, ``active``, ``next_action_masks`` (or None),
            ``priorities`` (``|n-step TD error| + eps``, 0 where inactive), and ``infos`` (the keys of
            ``INFO_KEYS``)
        """
        n_envs = self.env.num_envs
        buffer = _RoundBuffer(
            n_rows * n_envs,
            self.env.observation_space,
            self.env.action_space,
            device="cpu",
            n_envs=n_envs,
            n_steps=self.n_steps,
            gamma=self.gamma,
            action_mask_dim=self.n_actions,
        )
        rows: dict[str, list[Any]] = {k: [] for k in ("obs", "next_obs", "actions", "rewards", "dones")}
        rows.update(truncated=[], active=[], next_action_masks=[], infos=[])
        for _ in range(n_rows):
            masks = get_action_masks(self.env) if self.has_masks else None
            actions = self._act(masks, random)
            new_obs, rewards, dones, infos = self.env.step(actions)
            step = transitions.read_step(new_obs, dones, infos)  # type: ignore[arg-type]
            infos_ = [{"TimeLimit.truncated": bool(t)} for t in step.truncated]
            buffer.add(
                self.obs, step.next_obs, actions, rewards, dones, infos_, step.next_action_masks, step.active
            )
            for key, value in zip(rows, (self.obs, step.next_obs, actions, rewards, dones), strict=False):
                rows[key].append(np.asarray(value))
            rows["truncated"].append(step.truncated)
            rows["active"].append(step.active)
            rows["next_action_masks"].append(step.next_action_masks)
            rows["infos"].append([{k: info[k] for k in INFO_KEYS if k in info} for info in infos])
            self.obs = new_obs  # type: ignore[assignment]
        with th.no_grad():
            current, target = current_and_target(self.policy, buffer.all_samples(n_rows), self.double_q)
        td = (target - current).abs().numpy().reshape(n_rows, n_envs)
        out: dict[str, Any] = {
            k: np.stack(v) for k, v in rows.items() if k not in ("infos", "next_action_masks")
        }
        masks_ = rows["next_action_masks"]
        out["next_action_masks"] = None if masks_[0] is None else np.stack(masks_)
        out["priorities"] = np.where(out["active"], td + self.eps, 0.0)
        out["infos"] = rows["infos"]
        return out

    def _act(self, masks: np.ndarray | None, random: bool) -> np.ndarray:
        n_envs = self.env.num_envs
        uniform = random_actions((n_envs,), self.n_actions, masks)
        if random:
            return uniform
        greedy, _ = self.policy.predict(self.obs, deterministic=True, action_masks=masks)  # type: ignore[arg-type]
        return np.where(self.rng.random(n_envs) < self.epsilon, uniform, greedy)
