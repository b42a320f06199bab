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
from stable_baselines3.common.utils import get_parameters_by_name, polyak_update
from stable_baselines3.dqn.policies import DQNPolicy
from stable_baselines3.dqn.policies import QNetwork as DQNQNetwork
from torch import nn

from sb3_marl.madqn.mixers import MIXERS


def masked_argmax(q_values: th.Tensor, action_masks: th.Tensor | None = None) -> th.Tensor:
    """Greedy actions over the legal actions only.

    :param q_values: Q-values, shape ``(..., n_actions)``
    :param action_masks: bool tensor of the same shape, True where an action is legal (None: all are)
    :return: the index of the best legal action, shape ``(...)``
    """
    if action_masks is not None:
        q_values = q_values.masked_fill(~action_masks, -th.inf)
    return q_values.argmax(dim=-1)


def check_finite_observation(observation: np.ndarray | dict[str, np.ndarray]) -> None:
    """Refuse an observation holding NaN or inf (a network would turn it into an arbitrary action).

    :param observation: an observation or a batch, or a dict of them
    """
    items = observation.items() if isinstance(observation, dict) else [("", observation)]
    for key, value in items:
        array = np.asarray(value)
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
            name = f"observation[{key!r}]" if key else "observation"
            raise ValueError(
                f"The {name} holds a non-finite value ({array[where]} at index {where}): a Q-network cannot "
                "act on NaN or inf. Clip or mend the observations (in the env or an observation wrapper)."
            )


def check_action_masks(
    action_masks: np.ndarray,
    n_actions: int,
    n_obs: int,
    vectorized: bool = True,
    source: str = "action_masks",
) -> np.ndarray:
    """The masks as a bool array ``(n_obs, n_actions)``, or a clear error for a wrong shape or a row that
    allows no action.

    :param action_masks: True where an action is legal, one row per observation (a single row for a
        single observation)
    :param n_actions: size of the Discrete action space
    :param n_obs: number of observations
    :param vectorized: whether the observations are a batch (else one observation, one row)
    :param source: what the masks are, for the messages
    :return: the masks, ``(n_obs, n_actions)``
    """
    masks = np.asarray(action_masks, dtype=bool)
    expected = (n_obs, n_actions) if vectorized else (n_actions,)
    if masks.shape != expected and (vectorized or masks.shape != (1, n_actions)):
        raise ValueError(
            f"{source} has shape {masks.shape}, expected {expected}: one row of {n_actions} legal-action "
            "flags (True where legal) per observation."
        )
    masks = masks.reshape(n_obs, n_actions)
    empty = np.flatnonzero(~masks.any(axis=1))
    if empty.size:
        raise ValueError(
            f"{source} row {int(empty[0])} allows no action (all False): every observation needs at least "
            "one legal action. For an agent that cannot act, allow a no-op (e.g. action 0 only)."
        )
    return masks


def random_actions(shape: tuple[int, ...], n_actions: int, action_masks: np.ndarray | None) -> np.ndarray:
    """Uniformly random actions, among the legal ones when masks are given.

    :param shape: the shape of the actions
    :param n_actions: size of the Discrete action space
    :param action_masks: bool, ``(*shape, n_actions)`` (or any shape of that size); ``None``: all legal
    """
    scores = np.random.rand(*shape, n_actions)
    if action_masks is not None:
        scores = np.where(np.reshape(action_masks, (*shape, n_actions)), scores, -1.0)
    return scores.argmax(axis=-1)


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
    :param mixer: value decomposition: ``None``, ``"vdn"`` or ``"qmix"`` (see :data:`MIXERS`); the mixer
        and its target are built, saved, trained by the optimizer and target-updated with the Q-networks
    :param mixer_kwargs: keyword arguments of the mixer (QMIX: ``embed_dim``, ``hypernet_dim``)
    :param n_agents: agents the mixer mixes (with a mixer)
    :param state_dim: size of the global state the mixer reads (with a mixer)
    """

    q_net: QNetwork
    q_net_target: QNetwork
    mixer: nn.Module | None
    mixer_target: nn.Module | None
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
        mixer: str | None = None,
        mixer_kwargs: dict[str, Any] | None = None,
        n_agents: int = 1,
        state_dim: int = 0,
    ) -> None:
        if mixer not in (None, *MIXERS):
            raise ValueError(f"Unknown mixer {mixer!r}: use None, " + ", ".join(map(repr, MIXERS)) + ".")
        # Read by _build(), which DQNPolicy.__init__ calls
        self.dueling = dueling
        self.mixer_name, self.mixer_kwargs = mixer, dict(mixer_kwargs or {})
        self.n_agents, self.state_dim = n_agents, state_dim
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

    def _build(self, lr_schedule: Schedule) -> None:
        """DQN's Q-network, target and optimizer; with a mixer, the mixer and its target too, the
        mixer's parameters a second group of the same optimizer."""
        self.mixer = self.mixer_target = None
        super()._build(lr_schedule)
        if self.mixer_name is None:
            return
        mixer_class = MIXERS[self.mixer_name]
        self.mixer = mixer_class(self.n_agents, self.state_dim, **self.mixer_kwargs)
        self.mixer_target = mixer_class(self.n_agents, self.state_dim, **self.mixer_kwargs)
        self.mixer_target.load_state_dict(self.mixer.state_dict())
        self.mixer_target.train(False)
        if any(True for _ in self.mixer.parameters()):
            self.optimizer.add_param_group({"params": list(self.mixer.parameters())})

    def _online_and_target(self) -> tuple[list[nn.Module], list[nn.Module]]:
        if self.mixer is None:
            return [self.q_net], [self.q_net_target]
        assert self.mixer_target is not None
        return [self.q_net, self.mixer], [self.q_net_target, self.mixer_target]

    def trained_parameters(self) -> list[nn.Parameter]:
        """The parameters the optimizer trains: the Q-network's, then the mixer's."""
        return [p for module in self._online_and_target()[0] for p in module.parameters()]

    def update_target(self, tau: float) -> None:
        """Move the target networks (Q-network and mixer) towards the online ones, in one Polyak
        update; batch-norm statistics are copied (SB3 GH issue #996).

        :param tau: the soft update coefficient, 1 for a hard copy
        """
        online, target = self._online_and_target()
        polyak_update(self.trained_parameters(), [p for m in target for p in m.parameters()], tau)
        polyak_update(
            [stat for m in online for stat in get_parameters_by_name(m, ["running_"])],
            [stat for m in target for stat in get_parameters_by_name(m, ["running_"])],
            1.0,
        )

    def set_training_mode(self, mode: bool) -> None:
        """Put the Q-network in training or evaluation mode, as SB3's policy does.

        SB3 switches modes twice per step (to act, then to train), and ``Module.train`` sets each
        submodule's flag through torch's slow ``__setattr__``: here the flags are set directly, and only
        modules that override ``train`` are called.
        """
        if mode == self.training and mode == self.q_net.training:
            return
        for network in self._online_and_target()[0]:
            for module in network.modules():
                if type(module).train is nn.Module.train:
                    object.__setattr__(module, "training", mode)  # all Module.train does for one module
                else:
                    module.train(mode)
        self.training = mode

    @property
    def device(self) -> th.device:
        """SB3's device (that of the first parameter), looked up once and kept until the policy is moved:
        SB3 walks every submodule to find it on each ``predict``, which costs more than a small net's
        forward pass."""
        device = self.__dict__.get("_device")
        if device is None:
            device = self.__dict__["_device"] = super().device
        return device

    def _apply(self, fn: Any, recurse: bool = True) -> MADQNPolicy:
        self.__dict__.pop("_device", None)  # `to()`, `cuda()`, ...: looked up again
        return super()._apply(fn, recurse)

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
        """Greedy actions, over the legal actions only when masks are given. Non-finite observations, masks
        of the wrong shape and mask rows that allow no action are refused with a ``ValueError``.

        :param observation: the observation (a single one or a batch)
        :param state: unused (no recurrent state), returned as it is
        :param episode_start: unused
        :param deterministic: unused: the greedy action is deterministic
        :param action_masks: bool array ``(n_actions,)`` or ``(batch, n_actions)``, True where legal
        :return: the actions and ``state``
        """
        check_finite_observation(observation)
        if action_masks is None:
            return super().predict(observation, state, episode_start, deterministic)
        self.set_training_mode(False)
        obs_tensor, vectorized_env = self.obs_to_tensor(observation)
        first = next(iter(obs_tensor.values())) if isinstance(obs_tensor, dict) else obs_tensor
        checked = check_action_masks(action_masks, int(self.action_space.n), len(first), vectorized_env)
        masks = th.as_tensor(checked, device=self.device)
        with th.no_grad():
            actions = self._predict(obs_tensor, action_masks=masks).cpu().numpy()
        return (actions if vectorized_env else actions.squeeze(axis=0)), state

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {
            **super()._get_constructor_parameters(),
            "dueling": self.dueling,
            "mixer": self.mixer_name,
            "mixer_kwargs": self.mixer_kwargs,
            "n_agents": self.n_agents,
            "state_dim": self.state_dim,
        }


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
        mixer: str | None = None,
        mixer_kwargs: dict[str, Any] | None = None,
        n_agents: int = 1,
        state_dim: int = 0,
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
            mixer,
            mixer_kwargs,
            n_agents,
            state_dim,
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
        mixer: str | None = None,
        mixer_kwargs: dict[str, Any] | None = None,
        n_agents: int = 1,
        state_dim: int = 0,
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
            mixer,
            mixer_kwargs,
            n_agents,
            state_dim,
        )
