"""Ape-X MADQN (Horgan et al. 2018): K Ray actors collect, one learner keeps SB3's ``learn()``.

The learner is :class:`~sb3_marl.madqn.MADQN` with ``collect_rollouts`` replaced: each round, every actor
steps its own env copies ``rollout_rows`` times with its own epsilon and sends the rows with initial
priorities from its own TD errors; while the actors collect the next round, the learner stores this one
and trains. Actor ``i`` owns columns ``i * n_envs ... (i + 1) * n_envs - 1`` of the prioritized buffer,
and row ``t`` of a round is written as one buffer row for all actors, so each column holds its env's
steps in order and the buffer's n-step returns, truncation and masks are as in single-process MADQN.
Callbacks see each (actor, step) as one env step of ``n_envs`` slots (the layout of ``env``). Weights
go to the actors through Ray's object store every ``weight_push_interval`` gradient steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.type_aliases import MaybeCallback, RolloutReturn, TrainFreq
from stable_baselines3.common.vec_env import VecEnv

from sb3_marl.apex.actor import ApexActor, actor_epsilons
from sb3_marl.buffers import PrioritizedReplayBuffer
from sb3_marl.madqn import MADQN

SelfApexMADQN = TypeVar("SelfApexMADQN", bound="ApexMADQN")
INSTALL = 'ApexMADQN needs Ray: pip install "sb3-marl[ray]"'


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError(INSTALL) from None
    return ray


class ApexMADQN(MADQN):
    """MADQN whose transitions come from ``n_actors`` Ray actors (Ape-X).

    :param policy: as MADQN's
    :param env_fn: makes a VecEnv from a seed; each actor makes its own with seed ``seed + 1 + i`` (``seed``
        or 0), and the learner one (with ``seed``) for its spaces and callbacks
    :param n_actors: number of actors
    :param rollout_rows: vector steps each actor takes per round
    :param actor_epsilon: Ape-X's base epsilon: actor ``i`` explores with
        ``actor_epsilon ** (1 + 7 i / (n_actors - 1))``
    :param weight_push_interval: send the learner's weights to the actors every this many gradient steps
    :param actor_cpus: CPUs Ray reserves for each actor
    :param gradient_steps: gradient steps after each round (SB3's ``train_freq`` is not used: a round is
        the unit of collection)
    :param env: the learner's env (default: ``env_fn(seed)``; ``load`` passes the one it is given)
    :param kwargs: MADQN's other arguments (no ``mixer``); ``prioritized_replay`` is on unless set
    """

    def __init__(
        self,
        policy: str | type,
        env_fn: Callable[[int], VecEnv] | None = None,
        n_actors: int = 2,
        rollout_rows: int = 50,
        actor_epsilon: float = 0.4,
        weight_push_interval: int = 50,
        actor_cpus: float = 1.0,
        gradient_steps: int = 50,
        seed: int | None = None,
        env: VecEnv | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("mixer") is not None:
            raise ValueError("ApexMADQN stores per-slot transitions: mixers are not supported, use MADQN.")
        for name, value in (("n_actors", n_actors), ("rollout_rows", rollout_rows)):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}.")
        if weight_push_interval < 1:
            raise ValueError(
                f"weight_push_interval must be at least 1 gradient step, got {weight_push_interval}."
            )
        if not 0 <= actor_epsilon <= 1:
            raise ValueError(f"actor_epsilon must lie in [0, 1], got {actor_epsilon}.")
        self.env_fn = env_fn
        self.n_actors = n_actors
        self.rollout_rows = rollout_rows
        self.actor_epsilon = actor_epsilon
        self.weight_push_interval = weight_push_interval
        self.actor_cpus = actor_cpus
        self._actors: list[Any] = []
        self._pending: list[Any] = []
        self._pushed_at = 0
        if env is None and env_fn is not None:
            env = env_fn(seed or 0)
        kwargs.setdefault("prioritized_replay", True)  # Ape-X: actors' priorities feed a prioritized buffer
        super().__init__(policy, env, seed=seed, gradient_steps=gradient_steps, **kwargs)  # type: ignore[arg-type]

    def _setup_model(self) -> None:
        super()._setup_model()
        assert isinstance(self.replay_buffer, PrioritizedReplayBuffer)
        # one block of columns per actor
        self.replay_buffer = type(self.replay_buffer)(
            self.buffer_size,
            self.observation_space,
            self.action_space,
            device=self.device,
            n_envs=self.n_envs * self.n_actors,
            **self.replay_buffer_kwargs,
        )

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_actors", "_pending"]

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ) -> tuple[int, BaseCallback]:
        total_timesteps, callback = super()._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        if self._vec_normalize_env is not None:
            raise ValueError("ApexMADQN does not support VecNormalize.")
        self._start_actors()
        return total_timesteps, callback

    def _start_actors(self) -> None:
        if self.env_fn is None:
            raise ValueError(
                "ApexMADQN needs env_fn, the function that makes each actor's VecEnv from a seed."
            )
        ray = _ray()
        if not ray.is_initialized():
            ray.init()
        remote = ray.remote(num_cpus=self.actor_cpus)(ApexActor)
        policy_kwargs = dict(
            observation_space=self.observation_space,
            action_space=self.action_space,
            lr_schedule=self.lr_schedule,
            **self.policy_kwargs,
        )
        base = 0 if self.seed is None else self.seed
        self._actors = [
            remote.remote(
                self.env_fn,
                type(self.policy),
                policy_kwargs,
                epsilon,
                self.n_steps,
                self.gamma,
                self.double_q,
                self.prioritized_replay_eps,
                base + 1 + i,
            )
            for i, epsilon in enumerate(actor_epsilons(self.n_actors, self.actor_epsilon))
        ]
        self._push_weights()
        self._pending = self._request()

    def close_actors(self) -> None:
        """End the actors (``learn`` does at its end; the next ``learn`` starts new ones)."""
        ray = _ray()
        for actor in self._actors:
            ray.kill(actor)
        self._actors, self._pending = [], []

    def _push_weights(self) -> None:
        ray = _ray()
        weights = ray.put({k: v.detach().cpu() for k, v in self.policy.state_dict().items()})
        for actor in self._actors:
            actor.set_weights.remote(weights)
        self._pushed_at = self._n_updates

    def _request(self) -> list[Any]:
        random = self.num_timesteps < self.learning_starts
        return [actor.collect.remote(self.rollout_rows, random) for actor in self._actors]

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        train_freq: TrainFreq,
        replay_buffer: ReplayBuffer,
        action_noise: ActionNoise | None = None,
        learning_starts: int = 0,
        log_interval: int | None = None,
    ) -> RolloutReturn:
        """Store the actors' round and pass its steps to the callbacks, while the actors collect the
        next round."""
        assert isinstance(replay_buffer, PrioritizedReplayBuffer)
        rounds = _ray().get(self._pending)
        self._pending = self._request()
        self.policy.set_training_mode(False)
        callback.on_rollout_start()
        steps = episodes = 0
        for t in range(self.rollout_rows):
            for batch in rounds:
                infos, dones = batch["infos"][t], batch["dones"][t]
                self.num_timesteps += env.num_envs
                steps += 1
                callback.update_locals({"infos": infos, "dones": dones, "rewards": batch["rewards"][t]})
                if not callback.on_step():
                    return RolloutReturn(steps * env.num_envs, episodes, continue_training=False)
                self._update_info_buffer(infos, dones)
                self._update_current_progress_remaining(self.num_timesteps, self._total_timesteps)
                self._on_step()
                for _ in np.flatnonzero(dones):
                    episodes += 1
                    self._episode_num += 1
                    if log_interval is not None and self._episode_num % log_interval == 0:
                        self.dump_logs()
            self._store_row(replay_buffer, rounds, t)
        callback.on_rollout_end()
        return RolloutReturn(steps * env.num_envs, episodes, continue_training=True)

    def _store_row(self, buffer: PrioritizedReplayBuffer, rounds: list[dict[str, Any]], t: int) -> None:
        """Row ``t`` of every actor's round as one buffer row, with the actors' priorities."""

        def row(key: str) -> np.ndarray:
            return np.concatenate([batch[key][t] for batch in rounds])

        masks = None if rounds[0]["next_action_masks"] is None else row("next_action_masks")
        leaves = np.arange(buffer.n_envs) + buffer.pos * buffer.n_envs
        infos = [{"TimeLimit.truncated": bool(x)} for x in row("truncated")]
        buffer.add(
            row("obs"),
            row("next_obs"),
            row("actions"),
            row("rewards"),
            row("dones"),
            infos,
            masks,
            row("active"),
        )
        priorities = row("priorities")
        active = priorities > 0
        buffer.update_priorities(leaves[active], priorities[active])

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        super().train(gradient_steps, batch_size)
        if self._n_updates - self._pushed_at >= self.weight_push_interval:
            self._push_weights()

    def learn(
        self: SelfApexMADQN,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "ApexMADQN",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfApexMADQN:
        try:
            return super().learn(
                total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar
            )
        finally:
            self.close_actors()
