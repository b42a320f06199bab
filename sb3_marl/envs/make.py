"""make_vec_env: a PettingZoo env id or constructor -> a monitored, parameter-sharing SB3 VecEnv."""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
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


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}.")


def make_vec_env(
    env: EnvSpec,
    n_envs: int = 1,
    seed: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    subprocess: bool = False,
    start_method: str | None = None,
    vec_env_kwargs: dict[str, Any] | None = None,
    wrapper_class: Callable[[Any], ParallelEnv | AECEnv] | None = None,
    agent_indicator: bool = False,
    action_mask_in_obs: bool = False,
    monitor: bool = True,
    monitor_dir: str | os.PathLike | None = None,
    check_finite: bool = True,
    vec_env_cls: type[DummyVecEnv] | type[SubprocVecEnv] | None = None,
) -> VecEnv:
    """Create a monitored ``VecEnv`` of ``n_envs`` copies of a PettingZoo env, one slot per agent per
    copy (parameter sharing), as SB3's ``make_vec_env`` does for Gymnasium envs.

    :param env: a PettingZoo env module path (``"mpe2.simple_spread_v3"``) or a callable returning a
        ``ParallelEnv`` or ``AECEnv``
    :param n_envs: number of env copies, a positive int (the VecEnv has ``n_envs * num_agents`` slots)
    :param seed: the seed of the first copy, a non-negative int; copy ``c`` is seeded from
        ``seed + c * num_agents``
    :param env_kwargs: keyword arguments for the env constructor
    :param subprocess: run each copy in a worker process of its own (sb3_marl's, not SB3's
        ``SubprocVecEnv``: one process steps all the agents of its copy)
    :param start_method: the workers' start method, ``"fork"``, ``"spawn"`` or ``"forkserver"`` (None:
        ``forkserver`` where available, else ``spawn``); only with ``subprocess=True``
    :param vec_env_kwargs: further keyword arguments for ``MultiAgentVecEnv``
    :param wrapper_class: applied to each PettingZoo env, e.g. a SuperSuit per-env wrapper
    :param agent_indicator: append a one-hot agent id to observations
    :param action_mask_in_obs: Dict observations ``{"observation", "action_mask"}``
    :param monitor: wrap in ``MultiAgentVecMonitor`` (per-agent and team episode statistics)
    :param monitor_dir: where the monitor writes its CSV (None: no file)
    :param check_finite: raise when the env gives a NaN or infinite observation or reward (False: trust it)
    :param vec_env_cls: deprecated, use ``subprocess=True``: ``SubprocVecEnv`` meant subprocess copies
    """
    if vec_env_cls is not None:
        if vec_env_cls not in (DummyVecEnv, SubprocVecEnv):
            raise ValueError(
                f"vec_env_cls must be DummyVecEnv, SubprocVecEnv or None, got {vec_env_cls}; it is "
                "deprecated: use subprocess=True (and start_method=...) for copies in worker processes."
            )
        warnings.warn(
            "make_vec_env(vec_env_cls=...) is deprecated and will be removed in the next release: use "
            "subprocess=True (and start_method=...) instead of SubprocVecEnv, and nothing instead of "
            "DummyVecEnv.",
            DeprecationWarning,
            stacklevel=2,
        )
        if subprocess and vec_env_cls is DummyVecEnv:
            raise ValueError("subprocess=True contradicts vec_env_cls=DummyVecEnv: pass subprocess alone.")
        subprocess = vec_env_cls is SubprocVecEnv
    if isinstance(n_envs, bool) or not isinstance(n_envs, int | np.integer) or n_envs < 1:
        raise ValueError(f"n_envs must be a positive int (the number of env copies), got {n_envs!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}.")
    for name, given in (("env_kwargs", env_kwargs), ("vec_env_kwargs", vec_env_kwargs)):
        if given is not None and not isinstance(given, dict):
            raise TypeError(f"{name} must be a dict of keyword arguments or None, got {given!r}.")
    if wrapper_class is not None and not callable(wrapper_class):
        raise TypeError(f"wrapper_class must be callable (env -> wrapped env) or None: {wrapper_class!r}.")
    flags = {
        "subprocess": subprocess,
        "agent_indicator": agent_indicator,
        "action_mask_in_obs": action_mask_in_obs,
        "monitor": monitor,
        "check_finite": check_finite,
    }
    for name, value in flags.items():
        _check_bool(name, value)
    if monitor_dir is not None and not monitor:
        raise ValueError(
            "monitor_dir is where the monitor writes: pass monitor=True with it, or leave it out."
        )
    make = resolve_env(env)
    kwargs = env_kwargs or {}

    def env_fn() -> ParallelEnv | AECEnv:
        made = make(**kwargs)
        return wrapper_class(made) if wrapper_class is not None else made

    vec_env: VecEnv = MultiAgentVecEnv(
        [env_fn] * int(n_envs),
        subprocess=bool(subprocess),
        start_method=start_method,
        agent_indicator=agent_indicator,
        action_mask_in_obs=action_mask_in_obs,
        check_finite=check_finite,
        **(vec_env_kwargs or {}),
    )
    if seed is not None:
        vec_env.seed(int(seed))
    if monitor:
        filename = None
        if monitor_dir is not None:
            os.makedirs(monitor_dir, exist_ok=True)
            filename = os.path.join(monitor_dir, "monitor.csv")
        vec_env = MultiAgentVecMonitor(vec_env, filename)
    return vec_env
