"""MADQN's constructor arguments, checked at construction: one ValueError per bad value, naming the value
and its valid range."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

from gymnasium import spaces

from sb3_marl.buffers import JointReplayBuffer, PrioritizedReplayBuffer
from sb3_marl.madqn.mixers import MIXERS

if TYPE_CHECKING:
    from sb3_marl.madqn.madqn import MADQN

# Buffer arguments MADQN sets from its own parameters.
OWN_BUFFER_KWARGS = {
    "alpha": "prioritized_replay_alpha",
    "n_steps": "n_steps",
    "gamma": "gamma",
    "action_mask_dim": "the action space",
}

# name, smallest valid value, the valid values in words
INTEGERS = (
    ("buffer_size", 1, "an integer >= 1"),
    ("learning_starts", 0, "an integer >= 0"),
    ("batch_size", 1, "an integer >= 1"),
    ("n_steps", 1, "an integer >= 1 (1: one-step TD targets)"),
    ("target_update_interval", 1, "an integer >= 1 (environment steps)"),
)
# name, bounds, whether the lower bound is excluded, the valid values in words
REALS = (
    ("gamma", 0.0, 1.0, False, "in [0, 1]"),
    ("tau", 0.0, 1.0, True, "in (0, 1] (1: hard target update)"),
    ("exploration_fraction", 0.0, 1.0, False, "in [0, 1]"),
    ("exploration_initial_eps", 0.0, 1.0, False, "in [0, 1]"),
    ("exploration_final_eps", 0.0, 1.0, False, "in [0, 1]"),
    ("prioritized_replay_alpha", 0.0, float("inf"), False, ">= 0 (0: uniform)"),
    ("prioritized_replay_beta0", 0.0, 1.0, True, "in (0, 1]"),
    ("prioritized_replay_eps", 0.0, float("inf"), True, "> 0 (priorities must stay positive)"),
)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_action_space(action_space: spaces.Space) -> None:
    """Refuse an action space MADQN cannot act in.

    :param action_space: the env's action space
    """
    if not isinstance(action_space, spaces.Discrete):
        raise ValueError(
            f"MADQN needs a Discrete action space, but the env has {action_space}. For continuous "
            "actions use PPO or SAC, or discretize the actions (e.g. with a gymnasium ActionWrapper)."
        )


def check_arguments(model: MADQN) -> None:
    """Raise a ``ValueError`` naming the first bad argument of a new :class:`~sb3_marl.madqn.MADQN` (see
    there for their meaning), read from its attributes before anything is built.

    :param model: the MADQN being made
    """
    for name, smallest, valid in INTEGERS:
        value = getattr(model, name)
        if not (_is_int(value) and value >= smallest):
            raise ValueError(f"{name} must be {valid}, got {value!r}")
    for name, low, high, low_open, valid in REALS:
        value = getattr(model, name)
        if not (_is_real(value) and (low < value if low_open else low <= value) and value <= high):
            raise ValueError(f"{name} must be {valid}, got {value!r}")
    steps = model.gradient_steps
    if not (_is_int(steps) and (steps >= 1 or steps == -1)):
        raise ValueError(
            f"gradient_steps must be an integer >= 1, or -1 (as many as env steps), got {steps!r}"
        )
    train_freq = model.train_freq
    frequency = train_freq[0] if isinstance(train_freq, tuple) else train_freq
    if not (_is_int(frequency) and frequency >= 1):
        raise ValueError(
            "train_freq must be an integer >= 1 or a tuple (frequency >= 1, 'step' or 'episode'), "
            f"got {train_freq!r}"
        )
    iters = model.prioritized_replay_beta_iters
    if iters is not None and not (_is_int(iters) and iters > 0):
        raise ValueError(
            f"prioritized_replay_beta_iters must be > 0 or None (None: the whole run), got {iters!r}"
        )
    if model.mixer not in (None, *MIXERS):
        raise ValueError(f"Unknown mixer {model.mixer!r}: use None, " + ", ".join(map(repr, MIXERS)) + ".")
    expected = PrioritizedReplayBuffer if model.mixer is None else JointReplayBuffer
    buffer_class = model.replay_buffer_class
    if buffer_class is not None and not (
        isinstance(buffer_class, type) and issubclass(buffer_class, expected)
    ):
        raise ValueError(
            f"MADQN needs a {expected.__name__}, got replay_buffer_class={buffer_class}. Leave it None, or "
            f"pass a subclass of sb3_marl.buffers.{expected.__name__} (prioritized_replay=False gives "
            "uniform sampling)."
        )
    if model.team_reward not in ("sum", "mean"):
        raise ValueError(f"team_reward must be 'sum' or 'mean', got {model.team_reward!r}.")
    if model.mixer is not None and model.n_steps > 1:
        raise ValueError("n_steps > 1 is not supported with a mixer: use n_steps=1.")
    for key, owner in OWN_BUFFER_KWARGS.items():
        if key in model.replay_buffer_kwargs:
            raise ValueError(f"replay_buffer_kwargs must not set {key!r}: MADQN sets it from {owner}.")
