"""MADQN: Double DQN with prioritized replay, dueling heads and action masks, for parameter-sharing
multi-agent VecEnvs (and any SB3 VecEnv with a Discrete action space)."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3 import DQN
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv

from sb3_marl.buffers import JointReplayBuffer, PrioritizedReplayBuffer, PrioritizedReplayBufferSamples
from sb3_marl.madqn import episodes, transitions
from sb3_marl.madqn.arguments import check_action_space, check_arguments
from sb3_marl.madqn.losses import current_and_target, non_finite_message, td_target, weighted_huber_loss
from sb3_marl.madqn.policies import (
    CnnPolicy,
    MADQNPolicy,
    MlpPolicy,
    MultiInputPolicy,
    check_action_masks,
    random_actions,
)
from sb3_marl.madqn.saving import SafeSavesMixin

SelfMADQN = TypeVar("SelfMADQN", bound="MADQN")


def clip_grad_norm(parameters: list[th.nn.Parameter], max_norm: float) -> None:
    """``th.nn.utils.clip_grad_norm_(parameters, max_norm)``, the same arithmetic (the 2-norm over all
    gradients, scaled down by ``max_norm / (norm + 1e-6)`` when above ``max_norm``) without its grouping of
    the tensors by device and dtype, which costs more than the math for a few small tensors on one device.

    :param parameters: the trained parameters, all on one device
    :param max_norm: the largest total norm kept
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if grads:
        norm = th.linalg.vector_norm(th.stack(th._foreach_norm(grads)))
        th._foreach_mul_(grads, (max_norm / (norm + 1e-6)).clamp_(max=1.0))


class MADQN(episodes.TeamEpisodeLogging, SafeSavesMixin, DQN):
    """
    Multi-agent Deep Q-Network: SB3's DQN with Double Q-learning, prioritized experience replay,
    an optional dueling head and action masks.

    Papers: Double DQN, van Hasselt et al. 2016, https://arxiv.org/abs/1509.06461;
    prioritized experience replay (PER), Schaul et al. 2016, https://arxiv.org/abs/1511.05952;
    dueling networks, Wang et al. 2016, https://arxiv.org/abs/1511.06581.

    On a multi-agent VecEnv with parameter sharing (one slot per agent), transitions whose info says
    ``inactive`` are stored with priority 0 and never learned from. When the env exposes
    ``action_masks()``, exploration and greedy actions pick legal actions only, and the target's greedy
    next action is taken over the legal actions given by ``info["action_mask"]`` (docs/design.md lists
    every info key read). On any other SB3 VecEnv this is Double DQN with PER. Epsilon-greedy exploration
    draws its coin per slot.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy)
    :param env: The environment to learn from (if registered in Gym, can be str); its action space
        must be Discrete
    :param learning_rate: The learning rate, it can be a function of the current progress remaining
        (from 1 to 0)
    :param buffer_size: size of the replay buffer
    :param learning_starts: how many steps of the model to collect transitions for before learning starts
    :param batch_size: Minibatch size for each gradient update
    :param tau: the soft update coefficient ("Polyak update", between 0 and 1) default 1 for hard update
    :param gamma: the discount factor
    :param train_freq: Update the model every ``train_freq`` steps. Alternatively pass a tuple of
        frequency and unit like ``(5, "step")`` or ``(2, "episode")``.
    :param gradient_steps: How many gradient steps to do after each rollout (see ``train_freq``).
        Set to ``-1`` means to do as many gradient steps as steps done in the environment during the rollout.
    :param replay_buffer_class: ``None`` (``PrioritizedReplayBuffer``) or a subclass of
        ``PrioritizedReplayBuffer``
    :param replay_buffer_kwargs: Keyword arguments to pass to the replay buffer on creation, besides
        ``alpha``, ``n_steps``, ``gamma`` and ``action_mask_dim``, which MADQN sets
    :param optimize_memory_usage: not supported by the prioritized buffer (it raises)
    :param n_steps: n-step returns, computed by the replay buffer
    :param double_q: whether the greedy next action comes from the online network (Double DQN)
        instead of the target network
    :param prioritized_replay: whether to sample in proportion to priorities (Schaul et al. 2016);
        ``False`` (the default, as in stable-baselines v2: prioritized replay wants its own settings)
        samples uniformly, the buffer then used with ``alpha = 0``, still leaving inactive transitions out
    :param prioritized_replay_alpha: how much prioritization is used (0: uniform), must be >= 0
    :param prioritized_replay_beta0: initial importance-sampling exponent, in (0, 1]
    :param prioritized_replay_beta_iters: number of timesteps over which beta is annealed linearly from
        ``prioritized_replay_beta0`` to 1; ``None`` anneals over the whole ``learn()`` call
    :param prioritized_replay_eps: added to ``|TD error|`` to give new priorities, must be > 0
    :param mixer: value decomposition on a multi-agent VecEnv: ``None`` (independent agents), ``"vdn"``
        (the team Q is the sum of the agents' Qs; Sunehag et al. 2018) or ``"qmix"`` (a monotonic mixing
        network of the global state; Rashid et al. 2018). Transitions are then stored jointly per env
        copy and the loss is on the mixed team Q; agents that are not in the episode add nothing.
    :param mixer_kwargs: keyword arguments of the mixer (QMIX: ``embed_dim``, ``hypernet_dim``)
    :param team_reward: with a mixer, how the team reward is made from the agents' rewards: ``"sum"`` or
        ``"mean"``
    :param target_update_interval: update the target network every ``target_update_interval``
        environment steps.
    :param exploration_fraction: fraction of entire training period over which the exploration rate is reduced
    :param exploration_initial_eps: initial value of random action probability
    :param exploration_final_eps: final value of random action probability
    :param max_grad_norm: The maximum value for the gradient clipping
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to
        average the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation, e.g.
        ``dict(dueling=True, net_arch=[256, 256])``
    :param verbose: Verbosity level: 0 for no output, 1 for info messages, 2 for debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    policy: MADQNPolicy
    # Aliases of the policy's mixer and its target (None without a mixer)
    mixer_net: th.nn.Module | None
    mixer_net_target: th.nn.Module | None
    replay_buffer: PrioritizedReplayBuffer | None
    action_space: spaces.Discrete
    beta_schedule: Schedule

    def __init__(
        self,
        policy: str | type[MADQNPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-4,
        buffer_size: int = 1_000_000,
        learning_starts: int = 100,
        batch_size: int = 32,
        tau: float = 1.0,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 4,
        gradient_steps: int = 1,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 1,
        double_q: bool = True,
        prioritized_replay: bool = False,
        prioritized_replay_alpha: float = 0.6,
        prioritized_replay_beta0: float = 0.4,
        prioritized_replay_beta_iters: int | None = None,
        prioritized_replay_eps: float = 1e-6,
        mixer: str | None = None,
        mixer_kwargs: dict[str, Any] | None = None,
        team_reward: str = "sum",
        target_update_interval: int = 10_000,
        exploration_fraction: float = 0.1,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.05,
        max_grad_norm: float = 10,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            buffer_size=buffer_size,
            learning_starts=learning_starts,
            batch_size=batch_size,
            tau=tau,
            gamma=gamma,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            n_steps=n_steps,
            target_update_interval=target_update_interval,
            exploration_fraction=exploration_fraction,
            exploration_initial_eps=exploration_initial_eps,
            exploration_final_eps=exploration_final_eps,
            max_grad_norm=max_grad_norm,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=False,
        )
        self.double_q = double_q
        self.prioritized_replay = prioritized_replay
        self.prioritized_replay_alpha = prioritized_replay_alpha
        self.prioritized_replay_beta0 = prioritized_replay_beta0
        self.prioritized_replay_beta_iters = prioritized_replay_beta_iters
        self.prioritized_replay_eps = prioritized_replay_eps
        # Importance-sampling exponent, annealed in `_on_step()`
        self.beta = prioritized_replay_beta0
        self.mixer = mixer
        self.mixer_kwargs = mixer_kwargs or {}
        self.team_reward = team_reward
        # (n_agents, state_dim, whether the state is the env's own), found once an env is given
        self.mixer_layout: tuple[int, int, bool] | None = None
        # The env's action masks, ``(n_envs, n_actions)``: found at each learn(), None when it gives none
        self._env_action_masks: Callable[[], np.ndarray] | None = None
        check_arguments(self)
        if _init_setup_model:
            self._setup_model()

    @staticmethod
    def _wrap_env(env: GymEnv, verbose: int = 0, monitor_wrapper: bool = True) -> VecEnv:
        check_action_space(env.action_space)
        return DQN._wrap_env(env, verbose, monitor_wrapper)

    def _setup_model(self) -> None:
        alpha = self.prioritized_replay_alpha if self.prioritized_replay else 0.0
        if self.mixer is not None:
            if self.env is not None:  # else as saved with the model
                self.mixer_layout = transitions.mixer_layout(self.env, self.mixer, self.observation_space)
            assert self.mixer_layout is not None, "a model with a mixer needs an env to be set up"
            n_agents, state_dim, _ = self.mixer_layout
            mixer_args = dict(mixer=self.mixer, mixer_kwargs=self.mixer_kwargs, n_agents=n_agents)
            self.policy_kwargs = {**self.policy_kwargs, **mixer_args, "state_dim": state_dim}
            self.replay_buffer_class = self.replay_buffer_class or JointReplayBuffer
            if self.replay_buffer is None:  # one entry per env copy
                n_copies = self.n_envs // n_agents
                layout: dict[str, Any] = dict(n_agents=n_agents, state_dim=state_dim, n_envs=n_copies)
                kwargs = dict(device=self.device, alpha=alpha, gamma=self.gamma, **self.replay_buffer_kwargs)
                self.replay_buffer = self.replay_buffer_class(  # type: ignore[call-arg, assignment]
                    self.buffer_size, self.observation_space, self.action_space, **layout, **kwargs
                )
        else:
            self.replay_buffer_class = self.replay_buffer_class or PrioritizedReplayBuffer
            self.replay_buffer_kwargs = {
                **self.replay_buffer_kwargs,
                "alpha": alpha,
                "n_steps": self.n_steps,
                "gamma": self.gamma,
                "action_mask_dim": int(self.action_space.n),
            }
        with warnings.catch_warnings():
            # SB3 warns that `n_steps` is ignored with a custom buffer class; ours takes it (above).
            warnings.filterwarnings("ignore", message=r"`n_steps=\d+` is ignored")
            super()._setup_model()

    def _create_aliases(self) -> None:
        super()._create_aliases()
        self.mixer_net = self.policy.mixer
        self.mixer_net_target = self.policy.mixer_target

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "mixer_net", "mixer_net_target", "_env_action_masks"]

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
        assert self.env is not None
        # Kept for the whole learn(): a lookup through VecEnvWrappers costs about as much as a small net's
        # forward pass. The VecEnv's own method gives one array; sb3-contrib's helper stacks a row per slot.
        env_method = getattr(self.env, "action_masks", None)
        if callable(env_method):
            self._env_action_masks = env_method
        elif is_masking_supported(self.env):
            self._env_action_masks = functools.partial(get_action_masks, self.env)
        else:
            self._env_action_masks = None
        iters = self.prioritized_replay_beta_iters
        end_fraction = 1.0 if iters is None else iters / total_timesteps
        self.beta_schedule = LinearSchedule(self.prioritized_replay_beta0, 1.0, end_fraction)
        if self.mixer is not None:
            if self._vec_normalize_env is not None:
                raise ValueError("VecNormalize is not supported with a mixer.")
            assert self.mixer_layout is not None
            self._last_states = transitions.global_states(self.env, self.mixer_layout, self._last_obs)  # type: ignore[arg-type]
        return total_timesteps, callback

    def _on_step(self) -> None:
        """DQN's ``_on_step``, with the target update done by the policy (Q-network and mixer at once)
        and beta annealed like epsilon."""
        self._n_calls += 1
        if self._n_calls % max(self.target_update_interval // self.n_envs, 1) == 0:
            self.policy.update_target(self.tau)
        self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)
        self.logger.record("rollout/exploration_rate", self.exploration_rate)
        self.beta = self.beta_schedule(self._current_progress_remaining)

    def _compute_target(self, samples: PrioritizedReplayBufferSamples) -> th.Tensor:
        """The TD targets of a batch, ``(batch, 1)``: :func:`~sb3_marl.madqn.losses.td_target`."""
        return td_target(self.policy, samples, self.double_q)

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray | dict[str, np.ndarray],
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """Store the step as SB3 does, with the next masks and which transitions are real, as
        :func:`~sb3_marl.madqn.transitions.read_step` reads them from the infos; with a mixer, one joint
        transition per env copy (:func:`~sb3_marl.madqn.transitions.joint_transition`)."""
        assert isinstance(replay_buffer, PrioritizedReplayBuffer) and isinstance(new_obs, np.ndarray)
        if isinstance(replay_buffer, JointReplayBuffer):
            assert self.env is not None and self.mixer_layout is not None
            new_states = transitions.global_states(self.env, self.mixer_layout, new_obs)
            args = (buffer_action, reward, new_obs, dones, infos, self._last_states, new_states)
            n_agents = replay_buffer.n_agents
            joint = transitions.joint_transition(self._last_obs, *args, n_agents, self.team_reward)  # type: ignore[arg-type]
            transitions.add_joint(replay_buffer, joint)
            self._last_obs, self._last_states = new_obs, new_states
            return
        normalize = self._vec_normalize_env
        if normalize is not None:
            new_obs_, reward_ = normalize.get_original_obs(), normalize.get_original_reward()
        else:
            self._last_original_obs, new_obs_, reward_ = self._last_obs, new_obs, reward
        step = transitions.read_step(new_obs_, dones, infos)  # type: ignore[arg-type]
        next_obs = step.next_obs
        if normalize is not None and step.ended.any():  # VecNormalize normalizes the terminal observation
            next_obs[step.ended] = normalize.unnormalize_obs(next_obs[step.ended])
        replay_buffer.add(
            self._last_original_obs,  # type: ignore[arg-type]
            next_obs,
            buffer_action,
            reward_,
            dones,
            infos,
            step.next_action_masks,
            step.active,
        )
        self._last_obs = new_obs
        if normalize is not None:
            self._last_original_obs = new_obs_

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """
        Gradient steps on the importance-weighted Huber loss, each followed by new priorities
        ``|TD error| + eps`` for the sampled transitions. Logs ``train/loss``, ``train/td_error_mean``
        (mean ``|TD error|``), ``train/beta``, ``train/priority_mean`` and ``train/priority_max`` (of the
        new priorities), ``train/is_weight_mean``, ``train/n_updates``, and with a mixer
        ``train/team_q_mean``.

        :param gradient_steps: number of gradient steps
        :param batch_size: minibatch size
        """
        assert self.replay_buffer is not None
        self.policy.set_training_mode(True)
        optimizer = self.policy.optimizer
        self._update_learning_rate(optimizer)

        # What the optimizer trains, as it holds them (policy.trained_parameters() walks the modules: 19 µs)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        eps = self.prioritized_replay_eps
        # Per step only what the step needs; the statistics are reduced once, after the last step.
        losses, td_errors = np.empty(gradient_steps), []
        weights: list[th.Tensor] = []
        q_values: list[th.Tensor] = []
        for step in range(gradient_steps):
            samples = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env, beta=self.beta)
            current_q_values, target_q_values = current_and_target(self.policy, samples, self.double_q)
            loss, td_error = weighted_huber_loss(current_q_values, target_q_values, samples.weights)
            losses[step] = loss.item()
            if not math.isfinite(losses[step]):  # raised before the step: networks and priorities stay
                raise FloatingPointError(non_finite_message(self.policy, samples, self._n_updates + 1))

            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm(params, self.max_grad_norm)
            optimizer.step()

            self.replay_buffer.update_priorities(samples.indices, td_error + eps)
            td_errors.append(td_error)
            weights.append(samples.weights)
            if self.mixer is not None:
                q_values.append(current_q_values.detach())

        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(losses.mean()))
        all_td_errors = np.concatenate(td_errors)
        td_mean = float(all_td_errors.mean())
        self.logger.record("train/td_error_mean", td_mean)
        self.logger.record("train/beta", self.beta)
        self.logger.record("train/priority_mean", td_mean + eps)  # the new priorities: |TD error| + eps
        self.logger.record("train/priority_max", float(all_td_errors.max()) + eps)
        self.logger.record("train/is_weight_mean", th.cat(weights).mean().item())
        if self.mixer is not None:  # the loss is then the mixer's, on the team Q
            self.logger.record("train/team_q_mean", th.cat(q_values).mean().item())

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """
        Epsilon-greedy actions (greedy when ``deterministic``), legal ones only when masks are given.

        :param observation: the input observation (a single one or a batch)
        :param state: The last states (unused, no recurrent policy), returned as it is
        :param episode_start: The last episode starts (unused)
        :param deterministic: Whether to take the greedy actions (no exploration)
        :param action_masks: bool array ``(n_actions,)`` or ``(batch, n_actions)``, True where legal
        :return: the model's actions and ``state``
        """
        actions, state = self.policy.predict(observation, state, episode_start, deterministic, action_masks)
        if not deterministic and self.exploration_rate > 0:
            explore = np.random.rand(*actions.shape) < self.exploration_rate
            actions = self._explore(actions, explore, action_masks)
        return actions, state

    def _explore(self, greedy: np.ndarray, explore: np.ndarray, masks: np.ndarray | None) -> np.ndarray:
        """``greedy`` with random (legal) actions where ``explore`` is True."""
        if not explore.any():
            return greedy
        return np.where(explore, random_actions(explore.shape, int(self.action_space.n), masks), greedy)

    def _sample_action(
        self,
        learning_starts: int,
        action_noise: ActionNoise | None = None,
        n_envs: int = 1,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Epsilon-greedy actions as :meth:`predict` gives them, the coins drawn first so that, as in SB3's
        DQN, no forward pass runs when every slot explores."""
        n_actions, masks = int(self.action_space.n), None
        if self._env_action_masks is not None:
            masks = np.asarray(self._env_action_masks())
            if masks.shape == (n_envs, n_actions) and masks.all():  # all legal: the unmasked path, the same
                masks = None
            else:
                masks = check_action_masks(masks, n_actions, n_envs, source="the env's action_masks()")
        if self.num_timesteps < learning_starts:
            actions = random_actions((n_envs,), n_actions, masks)
        else:
            assert self._last_obs is not None, "self._last_obs was not set"
            eps = self.exploration_rate
            explore = np.random.rand(n_envs) < eps if eps > 0 else np.zeros(n_envs, dtype=bool)
            if explore.all():
                actions = random_actions((n_envs,), n_actions, masks)
            else:
                greedy, _ = self.policy.predict(self._last_obs, deterministic=True, action_masks=masks)
                actions = self._explore(greedy, explore, masks)
        return actions, actions

    def learn(
        self: SelfMADQN,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "MADQN",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfMADQN:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
