"""make_vec_env: a PettingZoo env id or constructor -> a monitored, parameter-sharing SB3 VecEnv."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from pettingzoo.utils.env import AECEnv, ParallelEnv
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from sb3_marl.envs.monitor import MultiAgentVecMonitor
from sb3_marl.envs.vec_env import MultiAgentVecEnv, check_pettingzoo_env

EnvSpec = str | Callable[..., ParallelEnv | AECEnv]


def resolve_env(env: EnvSpec) -> Callable[..., ParallelEnv | AECEnv]:
    """An env constructor from a module path such as ``"mpe2.simple_spread_v3"`` (its ``parallel_env``
    where it has one, else its AEC ``env``) or a callable, returned as it is."""
    if callable(env):
        return env
    if not isinstance(env, str):
        check_pettingzoo_env(env)  # a TypeError that says what to use, unless it is a PettingZoo env
        raise TypeError(
            f"Got a PettingZoo env instance ({type(env).__name__}); each copy needs an env of its own: pass "
            "its module path or a callable that returns a new env (e.g. `lambda: my_env_v1.parallel_env()`)."
        )
    if env in gym.envs.registry:
        raise TypeError(
            f"{env!r} is a Gymnasium env id, not a PettingZoo env. For a single-agent Gymnasium env use "
            "stable_baselines3.common.env_util.make_vec_env."
        )
    try:
        module = importlib.import_module(env)
    except ImportError as error:
        raise ValueError(
            f"Unknown env {env!r}: cannot import it ({error}). Give a PettingZoo env module path such as "
            "'mpe2.simple_spread_v3' or 'pettingzoo.classic.connect_four_v3' (installing the package that "
            "provides it), or a callable returning a PettingZoo env."
        ) from None
    for name in ("parallel_env", "env"):
        if callable(getattr(module, name, None)):
            return getattr(module, name)
    raise ValueError(
        f"Module {env!r} has neither `parallel_env` nor `env`: it is not a PettingZoo env module."
    )


def make_vec_env(
    env: EnvSpec,
    n_envs: int = 1,
    seed: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    vec_env_cls: type[DummyVecEnv] | type[SubprocVecEnv] | None = None,
    vec_env_kwargs: dict[str, Any] | None = None,
    wrapper_class: Callable[[Any], ParallelEnv | AECEnv] | None = None,
    agent_indicator: bool = False,
    action_mask_in_obs: bool = False,
    monitor: bool = True,
    monitor_dir: str | None = None,
) -> VecEnv:
    """Create a monitored ``VecEnv`` of ``n_envs`` copies of a PettingZoo env, one slot per agent per
    copy (parameter sharing), as SB3's ``make_vec_env`` does for Gymnasium envs.

    :param env: a PettingZoo env module path (``"mpe2.simple_spread_v3"``) or a callable returning a
        ``ParallelEnv`` or ``AECEnv``
    :param n_envs: number of env copies (the VecEnv has ``n_envs * num_agents`` slots)
    :param seed: the seed of the first copy; copy ``c`` is seeded from ``seed + c * num_agents``
    :param env_kwargs: keyword arguments for the env constructor
    :param vec_env_cls: ``SubprocVecEnv`` to run each copy in its own process; ``DummyVecEnv`` or None
        to run them in this process
    :param vec_env_kwargs: keyword arguments for ``MultiAgentVecEnv`` (e.g. ``start_method``)
    :param wrapper_class: applied to each PettingZoo env, e.g. a SuperSuit per-env wrapper
    :param agent_indicator: append a one-hot agent id to observations
    :param action_mask_in_obs: Dict observations ``{"observation", "action_mask"}``
    :param monitor: wrap in ``MultiAgentVecMonitor`` (per-agent and team episode statistics)
    :param monitor_dir: where the monitor writes its CSV (None: no file)
    """
    if n_envs < 1:
        raise ValueError(f"n_envs must be at least 1, got {n_envs}.")
    if vec_env_cls not in (None, DummyVecEnv, SubprocVecEnv):
        raise ValueError(f"vec_env_cls must be DummyVecEnv, SubprocVecEnv or None, got {vec_env_cls}.")
    make = resolve_env(env)
    kwargs = env_kwargs or {}

    def env_fn() -> ParallelEnv | AECEnv:
        made = make(**kwargs)
        return wrapper_class(made) if wrapper_class is not None else made

    vec_env: VecEnv = MultiAgentVecEnv(
        [env_fn] * n_envs,
        subprocess=vec_env_cls is SubprocVecEnv,
        agent_indicator=agent_indicator,
        action_mask_in_obs=action_mask_in_obs,
        **(vec_env_kwargs or {}),
    )
    if seed is not None:
        vec_env.seed(seed)
    if monitor:
        filename = None
        if monitor_dir is not None:
            os.makedirs(monitor_dir, exist_ok=True)
            filename = os.path.join(monitor_dir, "monitor.csv")
        vec_env = MultiAgentVecMonitor(vec_env, filename)
    return vec_env
