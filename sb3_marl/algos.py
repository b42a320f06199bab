"""The algorithms of ``sb3-marl``, each declaring once what it supports (BenchMARL style): the action
spaces it takes, whether it respects action masks, its value-decomposition mixers, and whether it takes
n-step returns with a mixer. ``train``, ``check`` and the tests read these declarations; nothing else
lists algorithms.

No heavy import here: the classes are imported when asked for, so that ``sb3-marl --help`` is quick.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm


@dataclass(frozen=True)
class AlgoSpec:
    """What an algorithm supports.

    :param name: the name given to ``--algo`` (and the preset file ``hyperparams/<name>.yml``)
    :param target: where the class lives, ``"module:Class"``
    :param action_spaces: names of the Gymnasium action spaces it takes (``"Discrete"``, ``"Box"``, ...)
    :param masks: whether it respects action masks (its ``predict`` takes ``action_masks``)
    :param mixers: the value-decomposition mixers it takes as ``mixer=`` (empty: none)
    :param n_steps_with_mixer: whether it takes ``n_steps > 1`` together with a mixer
    """

    name: str
    target: str
    action_spaces: tuple[str, ...]
    masks: bool = False
    mixers: tuple[str, ...] = ()
    n_steps_with_mixer: bool = False

    def load(self) -> type[BaseAlgorithm]:
        """The algorithm's class (imported now)."""
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def misfit(self, env_id: str, action_space: Any, needs_masks: bool) -> str | None:
        """Why this algorithm cannot learn on an env with this (slot) action space, or None if it can.

        :param env_id: the env's name, for the message
        :param action_space: the action space of the env's VecEnv slots
        :param needs_masks: whether the env gives action masks (or pads actions, which masks the padding)
        """
        kind = type(action_space).__name__
        if kind not in self.action_spaces:
            return (
                f"it needs a {' or '.join(self.action_spaces)} action space and {env_id} has {action_space}"
            )
        if needs_masks and not self.masks:
            return f"{env_id} has action masks (or padded actions) and {self.name} cannot respect them"
        return None

    def mixer_misfit(self, mixer: str, n_steps: int) -> str | None:
        """Why this algorithm cannot take ``mixer`` with ``n_steps``-step returns, or None if it can."""
        if mixer not in self.mixers:
            takers = [spec.name for spec in ALGOS.values() if mixer in spec.mixers]
            if not takers:
                return f"Unknown mixer {mixer!r}: give one of {', '.join(MIXERS)}"
            own = f"mixers {', '.join(self.mixers)}" if self.mixers else "no mixer"
            return f"--mixer needs --algo {' or '.join(takers)}, not {self.name}, which takes {own}"
        if n_steps > 1 and not self.n_steps_with_mixer:
            return (
                f"{self.name} does not take n-step returns with a mixer, and the hyperparameters set "
                f"n_steps={n_steps}: set n_steps: 1 (in the preset's mixer_overrides.{mixer}, or in "
                "--hyperparams)"
            )
        return None


_DISCRETE = ("Discrete",)
_ANY = ("Discrete", "Box", "MultiDiscrete", "MultiBinary")
_NOT_BOX = ("Discrete", "MultiDiscrete", "MultiBinary")

# The order is the order in which `check` lists the algorithms that fit.
ALGOS: dict[str, AlgoSpec] = {
    spec.name: spec
    for spec in (
        AlgoSpec("madqn", "sb3_marl.madqn:MADQN", _DISCRETE, masks=True, mixers=("vdn", "qmix")),
        AlgoSpec("ppo", "stable_baselines3:PPO", _ANY),
        AlgoSpec("a2c", "stable_baselines3:A2C", _ANY),
        AlgoSpec("dqn", "stable_baselines3:DQN", _DISCRETE),
        AlgoSpec("qrdqn", "sb3_contrib:QRDQN", _DISCRETE),
        AlgoSpec("maskable_ppo", "sb3_contrib:MaskablePPO", _NOT_BOX, masks=True),
    )
}
MIXERS = tuple(dict.fromkeys(mixer for spec in ALGOS.values() for mixer in spec.mixers))


def get_algo(name: str) -> AlgoSpec:
    """The declaration of algorithm ``name``."""
    if name not in ALGOS:
        raise ValueError(f"Unknown algorithm {name!r}: choose from {', '.join(ALGOS)}.")
    return ALGOS[name]


def fitting_algos(env_id: str, action_space: Any, needs_masks: bool) -> list[str]:
    """The algorithms that can learn on an env with this slot action space (see ``AlgoSpec.misfit``)."""
    return [name for name, spec in ALGOS.items() if spec.misfit(env_id, action_space, needs_masks) is None]
