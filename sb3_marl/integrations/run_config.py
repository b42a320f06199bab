"""What a run records about itself, for any tracker: the algorithm, its hyperparameters, the env and the
versions of the packages it ran with."""

from __future__ import annotations

import importlib.metadata
import inspect
import platform
from enum import Enum
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_marl.evaluation import unwrap_multi_agent

_VERSIONED = (
    "sb3-marl",
    "stable-baselines3",
    "sb3-contrib",
    "torch",
    "pettingzoo",
    "gymnasium",
    "numpy",
    "wandb",
)
# Constructor arguments that are not hyperparameters.
_NOT_HYPERPARAMETERS = {"self", "policy", "env", "verbose", "tensorboard_log", "_init_setup_model"}


def jsonable(value: Any) -> Any:
    """``value`` as config a tracker can store: numbers, text, lists and dicts; other objects by name or
    repr.

    :param value: any value
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return jsonable(value._asdict())
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return repr(value)


def hyperparameters(model: BaseAlgorithm) -> dict[str, Any]:
    """The model's constructor arguments, as the model holds them (schedules by their repr).

    :param model: the model
    """
    params = {}
    for name in inspect.signature(type(model).__init__).parameters:
        if name in _NOT_HYPERPARAMETERS:
            continue
        for attr in (name, f"_{name}"):
            if hasattr(model, attr):
                params[name] = jsonable(getattr(model, attr))
                break
    return params


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages a run depends on."""
    versions = {"python": platform.python_version()}
    for package in _VERSIONED:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def run_config(
    model: BaseAlgorithm, env_id: str | None = None, env_kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The config of a training run: algorithm, hyperparameters, env and package versions.

    :param model: the model, with its env
    :param env_id: the env's id (module path)
    :param env_kwargs: the env's constructor arguments
    """
    env_config: dict[str, Any] = {"id": env_id, "kwargs": jsonable(env_kwargs or {})}
    vec_env = model.get_env()
    if vec_env is not None:
        env = unwrap_multi_agent(vec_env)
        env_config.update(
            name=env.get_attr("metadata", [0])[0].get("name"),
            agents=list(env.possible_agents),
            num_copies=env.num_copies,
            num_slots=env.num_envs,
            aec=env.is_aec,
            observation_space=repr(env.observation_space),
            action_space=repr(env.action_space),
        )
    return {
        "algo": type(model).__name__,
        "policy_class": jsonable(model.policy_class),
        "hyperparams": hyperparameters(model),
        "env": env_config,
        "versions": package_versions(),
    }
