"""Q-networks for MADQN: SB3's DQN policies with an optional dueling head and action masks."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
    create_mlp,
)
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.dqn.policies import DQNPolicy
from stable_baselines3.dqn.policies import QNetwork as DQNQNetwork
from torch import nn


def masked_argmax(q_values: th.Tensor, action_masks: th.Tensor | None = None) -> th.Tensor:
    """Greedy actions over the legal actions only.

    :param q_values: Q-values, shape ``(..., n_actions)``
    :param action_masks: bool tensor of the same shape, True where an action is legal (None: all are)
    :return: the index of the best legal action, shape ``(...)``
    """
    if action_masks is not None:
        q_values = q_values.masked_fill(~action_masks, -th.inf)
    return q_values.argmax(dim=-1)


class DuelingHead(nn.Module):
    """Dueling streams (Wang et al. 2016): ``Q = V + A - mean(A)``.

    :param features_dim: size of the features both streams read
    :param n_actions: number of actions
    :param net_arch: hidden layer sizes of each stream
    :param activation_fn: activation function
    """

    def __init__(
        self, features_dim: int, n_actions: int, net_arch: list[int], activation_fn: type[nn.Module]
    ) -> None:
        super().__init__()
        self.value_net = nn.Sequential(*create_mlp(features_dim, 1, net_arch, activation_fn))
        self.advantage_net = nn.Sequential(*create_mlp(features_dim, n_actions, net_arch, activation_fn))

    def forward(self, features: th.Tensor) -> th.Tensor:
        advantage = self.advantage_net(features)
        return self.value_net(features) + advantage - advantage.mean(dim=1, keepdim=True)


class QNetwork(DQNQNetwork):
    """SB3's Q-network, with an optional dueling head and masked greedy actions.

    :param observation_space: observation space
    :param action_space: action space
    :param features_extractor: features extractor
    :param features_dim: number of features
    :param net_arch: hidden layer sizes (of each stream when dueling)
    :param activation_fn: activation function
    :param normalize_images: whether to divide images by 255
    :param dueling: whether to split the head into value and advantage streams
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        dueling: bool = False,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            features_extractor,
            features_dim,
            net_arch,
            activation_fn,
            normalize_images,
        )
        self.dueling = dueling
        if dueling:
            head = DuelingHead(features_dim, int(action_space.n), self.net_arch, activation_fn)
            self.q_net = nn.Sequential(head)

    def _predict(
        self, observation: PyTorchObs, deterministic: bool = True, action_masks: th.Tensor | None = None
    ) -> th.Tensor:
        return masked_argmax(self(observation), action_masks)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "dueling": self.dueling}


class MADQNPolicy(DQNPolicy):
    """DQN policy (Q-network and target network) with an optional dueling head and action masks.

    :param observation_space: observation space
    :param action_space: action space
    :param lr_schedule: learning rate schedule
    :param net_arch: hidden layer sizes (of each stream when dueling)
    :param activation_fn: activation function
    :param features_extractor_class: features extractor class
    :param features_extractor_kwargs: keyword arguments for the features extractor
    :param normalize_images: whether to divide images by 255
    :param optimizer_class: optimizer class
    :param optimizer_kwargs: keyword arguments for the optimizer, besides the learning rate. Adam and
        AdamW get ``fused=True`` unless these set ``fused``, ``foreach`` or ``differentiable``: the same
        update in one kernel instead of about ten small ops per parameter tensor, which on small
        networks costs more than the math
    :param dueling: whether the Q-networks have a dueling head (Wang et al. 2016)
    """

    q_net: QNetwork
    q_net_target: QNetwork
    action_space: spaces.Discrete

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        dueling: bool = False,
    ) -> None:
        self.dueling = dueling  # read by make_q_net(), which DQNPolicy.__init__ calls
        optimizer_kwargs = dict(optimizer_kwargs or {})
        chosen = {"fused", "foreach", "differentiable"} & optimizer_kwargs.keys()
        if optimizer_class in (th.optim.Adam, th.optim.AdamW) and not chosen:
            optimizer_kwargs["fused"] = True
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch,
            activation_fn,
            features_extractor_class,
            features_extractor_kwargs,
            normalize_images,
            optimizer_class,
            optimizer_kwargs,
        )

    def set_training_mode(self, mode: bool) -> None:
        """Put the Q-network in training or evaluation mode, as SB3's policy does.

        SB3 switches modes twice per step (to act, then to train), and ``Module.train`` sets each
        submodule's flag through torch's slow ``__setattr__``: here the flags are set directly, and only
        modules that override ``train`` are called.
        """
        if mode == self.training and mode == self.q_net.training:
            return
        for module in self.q_net.modules():
            if type(module).train is nn.Module.train:
                object.__setattr__(module, "training", mode)  # all Module.train does for one module
            else:
                module.train(mode)
        self.training = mode

    def make_q_net(self) -> QNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return QNetwork(**net_args, dueling=self.dueling).to(self.device)

    def _predict(
        self, obs: PyTorchObs, deterministic: bool = True, action_masks: th.Tensor | None = None
    ) -> th.Tensor:
        return self.q_net._predict(obs, deterministic, action_masks)

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Greedy actions, over the legal actions only when masks are given.

        :param observation: the observation (a single one or a batch)
        :param state: unused (no recurrent state), returned as it is
        :param episode_start: unused
        :param deterministic: unused: the greedy action is deterministic
        :param action_masks: bool array ``(n_actions,)`` or ``(batch, n_actions)``, True where legal
        :return: the actions and ``state``
        """
        if action_masks is None:
            return super().predict(observation, state, episode_start, deterministic)
        self.set_training_mode(False)
        obs_tensor, vectorized_env = self.obs_to_tensor(observation)
        masks = th.as_tensor(np.asarray(action_masks, dtype=bool), device=self.device)
        masks = masks.reshape(-1, int(self.action_space.n))
        with th.no_grad():
            actions = self._predict(obs_tensor, action_masks=masks).cpu().numpy()
        return (actions if vectorized_env else actions.squeeze(axis=0)), state

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "dueling": self.dueling}


MlpPolicy = MADQNPolicy


class CnnPolicy(MADQNPolicy):
    """MADQN policy for image observations (NatureCNN features); parameters as :class:`MADQNPolicy`."""

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = NatureCNN,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        dueling: bool = False,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch,
            activation_fn,
            features_extractor_class,
            features_extractor_kwargs,
            normalize_images,
            optimizer_class,
            optimizer_kwargs,
            dueling,
        )


class MultiInputPolicy(MADQNPolicy):
    """MADQN policy for Dict observations (CombinedExtractor features); parameters as :class:`MADQNPolicy`."""

    def __init__(
        self,
        observation_space: spaces.Dict,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        dueling: bool = False,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch,
            activation_fn,
            features_extractor_class,
            features_extractor_kwargs,
            normalize_images,
            optimizer_class,
            optimizer_kwargs,
            dueling,
        )
