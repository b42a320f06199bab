"""Settings of a run, read and checked before anything is trained: presets and the user's overlay,
schedules, env wrappers and env arguments given by name, the ``config.yml`` saved with a model, and the
dataclass configs of the example scripts.

Every bad setting raises ``ConfigError`` (a ``ValueError``) naming the key, the value and the fix.
"""

from __future__ import annotations

import argparse
import collections.abc
import dataclasses
import importlib
import inspect
import os
import types
import typing
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any, TypeVar

import yaml

from sb3_marl.algos import ALGOS, MIXERS

CONFIG_FILE = "config.yml"
# Entries of a hyperparameter file that are not arguments of the algorithm.
ENV_KEYS = (
    "n_timesteps",
    "policy",
    "n_envs",
    "env_kwargs",
    "env_wrapper",
    "agent_indicator",
    "action_mask_in_obs",
    "mixer_overrides",
)

Config = TypeVar("Config")
T = TypeVar("T")


class ConfigError(ValueError):
    """A bad setting, reported in one line."""


class _Mismatch(Exception):
    pass


# -- values against type hints -------------------------------------------------------------------------


def _coerce(value: Any, hint: Any) -> Any:
    """``value`` as a value of type ``hint`` (an integral float for an ``int``, a list for a tuple), or
    ``_Mismatch``. Types that YAML cannot write (classes, modules) are let through for the callee to judge."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin is typing.Union or origin is types.UnionType:
        for arg in typing.get_args(hint):
            try:
                return _coerce(value, arg)
            except _Mismatch:
                pass
        raise _Mismatch
    if hint is type(None) or hint is None:
        if value is None:
            return None
        raise _Mismatch
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if hint is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if hint is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if hint in (tuple, list) or origin in (tuple, list):
        if isinstance(value, list | tuple):
            return tuple(value) if tuple in (hint, origin) else list(value)
        raise _Mismatch
    if hint is dict or origin is dict:
        if isinstance(value, dict):
            return value
        raise _Mismatch
    if origin is collections.abc.Callable or hint is collections.abc.Callable:
        if callable(value):
            return value
        raise _Mismatch
    return value


def _describe(hint: Any) -> str:
    """What a value of type ``hint`` looks like, for a message."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return " or ".join(dict.fromkeys(_describe(arg) for arg in typing.get_args(hint)))
    if origin is collections.abc.Callable or hint is collections.abc.Callable:
        return "a schedule ('lin_<initial value>')"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", dict: "a mapping"}
    if hint in (tuple, list) or origin in (tuple, list):
        return "a list"
    if origin is dict:
        return "a mapping"
    return names.get(hint, "null" if hint in (None, type(None)) else getattr(hint, "__name__", str(hint)))


def _hints(function: Callable[..., Any]) -> dict[str, Any]:
    """The type of each parameter of ``function``: its annotation, else its default's type, else Any."""
    try:
        annotations = typing.get_type_hints(function)
    except (NameError, TypeError):
        annotations = {}
    hints = {}
    for name, parameter in inspect.signature(function).parameters.items():
        default = parameter.default
        fallback = type(default) if isinstance(default, bool | int | float | str) else Any
        hints[name] = annotations.get(name, fallback)
    return hints


def check_value(name: str, value: Any, hint: Any, what: str, where: str = "") -> Any:
    """``value`` coerced to ``hint`` (see ``_coerce``), or a ``ConfigError`` naming the key and the fix.

    :param what: what the key is, for the message (``"hyperparameter of madqn"``)
    :param where: where it was given, for the message (``" in config.yml"``)
    """
    try:
        return _coerce(value, hint)
    except _Mismatch:
        raise ConfigError(f"Bad {what} {name}={value!r}{where}: give {_describe(hint)}.") from None


def check_algo_kwargs(algo: str, cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The algorithm's keyword arguments, each checked against ``cls``'s signature: unknown names and
    values of the wrong type (``learning_starts: abc``) are errors."""
    hints = _hints(cls.__init__)  # type: ignore[misc]
    accepted = set(hints) - {"self", "policy", "env", "seed", "verbose"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ConfigError(f"Unknown hyperparameter(s) for {algo}: {', '.join(unknown)}.")
    return {k: check_value(k, v, hints[k], f"hyperparameter of {algo}") for k, v in kwargs.items()}


def check_env_kwargs(env_id: str, kwargs: dict[str, Any], what: str) -> dict[str, Any]:
    """The env's keyword arguments checked against its constructor (PettingZoo's ``raw_env`` where the
    module has one): unknown names and values of the wrong type are errors.

    :param what: where the arguments came from, for the message (``"--env-kwargs"``)
    """
    module = importlib.import_module(env_id)
    constructor = getattr(module, "raw_env", None) or getattr(module, "parallel_env", None) or module.env
    function = constructor.__init__ if inspect.isclass(constructor) else constructor
    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(kwargs)
    hints = _hints(function)
    accepted = [name for name in parameters if name != "self"]
    for key in kwargs:
        if key not in accepted:
            raise ConfigError(f"Unknown {what} key {key!r}: {env_id} takes {', '.join(accepted)}.")
    return {k: check_value(k, v, hints[k], what, f" for {env_id}") for k, v in kwargs.items()}


# -- hyperparameter files ------------------------------------------------------------------------------


def read_yaml(path: str) -> Any:
    """The contents of a YAML file; a missing or unreadable file or bad YAML is one ``ConfigError``."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {path}")
    try:
        with open(path) as file:
            return yaml.safe_load(file)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {' '.join(str(error).split())}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"Cannot read {path}: {error}") from None


def load_hyperparams(algo: str, env_id: str, path: str | None = None) -> dict[str, Any]:
    """The hyperparameters of ``algo`` on ``env_id``: the shipped preset (``sb3_marl/hyperparams/<algo>.yml``,
    keyed by env id, rl-baselines3-zoo style), with the entry for ``env_id`` in the file ``path`` (same
    format) laid over it."""
    preset_file = resources.files("sb3_marl") / "hyperparams" / f"{algo}.yml"
    presets = yaml.safe_load(preset_file.read_text()) if preset_file.is_file() else {}
    params = dict((presets or {}).get(env_id) or {})
    if path is not None:
        entries = read_yaml(path)
        if not isinstance(entries, dict) or env_id not in entries:
            found = ", ".join(map(str, entries)) if isinstance(entries, dict) else "none"
            raise ConfigError(
                f"{path} has no entry for env {env_id!r} (it has: {found}); key its entries by env id."
            )
        entry = entries[env_id] or {}
        if not isinstance(entry, dict):
            raise ConfigError(f"The entry for {env_id!r} in {path} must be a mapping of hyperparameters.")
        params.update(entry)
    return params


def check_env_settings(params: dict[str, Any]) -> None:
    """The entries of a hyperparameter file that are not the algorithm's (``ENV_KEYS``), checked."""
    hints: dict[str, Any] = {
        "n_timesteps": int,
        "n_envs": int,
        "policy": str,
        "env_kwargs": dict | None,
        "env_wrapper": list | None,
        "agent_indicator": bool,
        "action_mask_in_obs": bool,
        "mixer_overrides": dict | None,
    }
    for key, hint in hints.items():
        if key in params:
            params[key] = check_value(key, params[key], hint, "setting")
    for key in ("n_timesteps", "n_envs"):
        if key in params and params[key] < 1:
            raise ConfigError(f"Bad setting {key}={params[key]!r}: give a positive integer.")
    for mixer, overrides in (params.get("mixer_overrides") or {}).items():
        if mixer not in MIXERS or not isinstance(overrides, dict):
            raise ConfigError(
                f"Bad mixer_overrides entry {mixer!r}: key it by mixer ({', '.join(MIXERS)}), each a mapping."
            )


def _import_object(path: str) -> Any:
    module_name, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(f"Cannot import {path!r} (expected 'module.name').") from None


def env_wrapper(spec: list[Any] | None) -> Callable[[Any], Any] | None:
    """A wrapper applying, in order, the PettingZoo wrappers listed rl-baselines3-zoo style: each item
    a ``"module.function"`` or ``{"module.function": {kwargs}}``. The functions are imported now."""
    if not spec:
        return None
    steps: list[tuple[Callable[..., Any], dict[str, Any]]] = []
    for item in spec:
        if isinstance(item, str):
            steps.append((_import_object(item), {}))
        elif isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())) or {}, dict):
            ((name, kwargs),) = item.items()
            steps.append((_import_object(name), dict(kwargs or {})))
        else:
            raise ConfigError(
                f"Bad env_wrapper item {item!r}: give 'module.function' or {{'module.function': {{kwargs}}}}."
            )

    def wrap(env: Any) -> Any:
        for function, kwargs in steps:
            env = function(env, **kwargs)
        return env

    return wrap


def policy_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``activation_fn`` may be given by name (``ReLU``, ``Tanh``, ...): find it in ``torch.nn``."""
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("activation_fn"), str):
        from torch import nn

        name = kwargs["activation_fn"]
        kwargs["activation_fn"] = getattr(nn, name, None)
        if kwargs["activation_fn"] is None:
            raise ConfigError(
                f"Unknown activation_fn {name!r}: give a torch.nn class name such as 'ReLU' or 'Tanh'."
            )
    return kwargs


def parse_schedule(name: str, value: Any) -> Any:
    """A hyperparameter given rl-baselines3-zoo style as ``"lin_<initial>"`` becomes SB3's linear schedule
    from ``<initial>`` down to 0 over the run; any other value is returned as it is."""
    if not (isinstance(value, str) and value.startswith("lin_")):
        return value
    from stable_baselines3.common.utils import LinearSchedule

    try:
        return LinearSchedule(float(value[4:]), 0.0, 1.0)
    except ValueError:
        message = f"Bad schedule {name}={value!r}: give 'lin_<initial value>', e.g. 'lin_1e-3'."
        raise ConfigError(message) from None


def parse_env_kwargs(items: Sequence[str] | None) -> dict[str, Any]:
    """``["N=2", "continuous_actions=false"]`` -> ``{"N": 2, "continuous_actions": False}``: values read
    as YAML."""
    kwargs = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"Bad --env-kwargs item {item!r}: give KEY=VALUE.")
        try:
            kwargs[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"Bad --env-kwargs item {item!r}: its value is not valid YAML.") from None
    return kwargs


def read_run_config(path: str) -> dict[str, Any]:
    """The ``config.yml`` that ``sb3-marl train`` saved beside a model, checked."""
    config = read_yaml(path)
    fix = "give --algo and --env and move the file away, or train again"
    if not isinstance(config, dict):
        got = "nothing" if config is None else repr(config)[:60]
        raise ConfigError(f"{path} is not a config saved by sb3-marl train (it holds {got}): {fix}.")
    hints = {"algo": str | None, "env": str | None, "env_kwargs": dict | None, "env_wrapper": list | None}
    for key, hint in hints.items():
        check_value(key, config.get(key), hint, "entry", f" in {path}")
    if config.get("algo") is not None and config["algo"] not in ALGOS:
        raise ConfigError(f"{path} names an unknown algorithm {config['algo']!r}: {fix}.")
    return config


# -- dataclass configs for scripts ---------------------------------------------------------------------


def option(default: T, help: str) -> T:
    """A dataclass field with a default and the help text of its command-line option (for ``parse_config``)::

    total_timesteps: int = option(1000, "training timesteps")
    """
    return dataclasses.field(default=default, metadata={"help": help})


def parse_config(cls: type[Config], argv: Sequence[str] | None = None) -> Config:
    """Fill a dataclass from the command line with argparse: each field ``total_timesteps: int = 1000``
    becomes an option ``--total-timesteps`` (``--flag/--no-flag`` for booleans), helped by the field's
    ``metadata={"help": ...}`` (which ``option`` sets).

    :param cls: a dataclass whose fields are ``int``, ``float``, ``str``, ``bool``, or one of those or None
    :param argv: the arguments (default: ``sys.argv[1:]``)
    """
    parser = argparse.ArgumentParser(
        description=cls.__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        kind = hints[f.name]
        if typing.get_origin(kind) in (typing.Union, types.UnionType):
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        if kind not in (int, float, str, bool):
            raise TypeError(f"parse_config takes int, float, str and bool fields; {f.name} is {kind}.")
        default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
        option = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", " ")  # argparse shows defaults only with a help text
        if kind is bool:
            parser.add_argument(
                option, action=argparse.BooleanOptionalAction, default=default, help=help_text
            )
        else:
            parser.add_argument(option, type=kind, default=default, help=help_text)
    return cls(**vars(parser.parse_args(argv)))
