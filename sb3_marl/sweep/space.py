"""What a sweep searches: its settings, its points (a grid, random draws, a YAML file) and their names."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from sb3_marl.config import ConfigError, read_yaml
from sb3_marl.training import TrainConfig

SEARCHES = ("grid", "random", "optuna")
SCHEDULERS = ("fifo", "asha")


@dataclass
class SweepConfig:
    """A sweep, as ``sb3-marl sweep`` takes it.

    :param train: the settings every trial shares (its ``seed``, ``hyperparams`` and ``output`` are set
        per trial; its ``hyperparams`` are laid under each point's)
    :param output: the sweep's folder (trials, Tune's experiment, table and plot)
    :param seeds: the seeds each point runs with
    :param space: preset keys and the values to try, e.g. ``{"learning_rate": [1e-3, 5e-4]}``
    :param search: ``"grid"`` (every combination), ``"random"`` (``samples`` distinct combinations) or
        ``"optuna"`` (``samples`` distinct points suggested by Optuna through Tune's searcher, each over all
        seeds)
    :param samples: distinct points drawn by random search and Optuna
    :param search_seed: seed of random search and of Optuna's sampler
    :param scheduler: ``"fifo"`` (every trial runs to its end) or ``"asha"`` (stops bad trials at their
        evaluations; needs ``train.eval_freq``)
    :param cpus_per_trial: CPUs Tune reserves for each trial
    :param ray_address: None: start Ray here (embedded); ``"auto"`` or ``"ray://host:port"``: a cluster
    :param num_cpus: CPUs of the embedded Ray (None: this machine's)
    :param verbose: Tune's verbosity (0: silent)
    """

    train: TrainConfig
    output: str
    seeds: list[int] = field(default_factory=lambda: [0])
    space: dict[str, list[Any]] = field(default_factory=dict)
    search: str = "grid"
    samples: int = 10
    search_seed: int = 0
    scheduler: str = "fifo"
    cpus_per_trial: float = 1.0
    ray_address: str | None = None
    num_cpus: int | None = None
    verbose: int = 1

    def __post_init__(self) -> None:
        if self.search not in SEARCHES:
            raise ConfigError(f"Unknown search {self.search!r}: use one of {', '.join(SEARCHES)}.")
        if self.scheduler not in SCHEDULERS:
            raise ConfigError(f"Unknown scheduler {self.scheduler!r}: use one of {', '.join(SCHEDULERS)}.")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"Give distinct seeds, got {self.seeds}.")
        if self.scheduler == "asha" and not self.train.eval_freq:
            raise ConfigError("ASHA stops trials at their evaluations: give --eval-freq.")
        if self.search != "grid" and not self.space:
            raise ConfigError(f"--search {self.search} needs values to search: give --grid or --space.")
        if not self.cpus_per_trial > 0:
            raise ConfigError(f"cpus_per_trial must be positive, got {self.cpus_per_trial}.")
        for key, values in self.space.items():
            if not isinstance(values, list) or not values:
                raise ConfigError(f"The values of {key!r} must be a non-empty list, got {values!r}.")


def parse_grid(items: Sequence[str] | None) -> dict[str, list[Any]]:
    """``["learning_rate=1e-3,5e-4", "n_steps=1,3"]`` -> ``{"learning_rate": [0.001, 0.0005], ...}``:
    values read as YAML (so ``1e-3`` is a number)."""
    space: dict[str, list[Any]] = {}
    for item in items or ():
        key, sep, values = item.partition("=")
        if not sep or not key or not values:
            raise ConfigError(f"Bad --grid item {item!r}: give KEY=VALUE,VALUE,...")
        try:
            space[key] = [_yaml_number(text) for text in values.split(",")]
        except yaml.YAMLError:
            raise ConfigError(f"Bad --grid item {item!r}: a value is not valid YAML.") from None
    return space


def _yaml_number(text: str) -> Any:
    """A YAML value, with ``1e-3`` (which YAML 1.1 reads as a string) read as a float."""
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def read_space(path: str) -> dict[str, list[Any]]:
    """The search space of a YAML file: a mapping of preset keys to lists of values."""
    space = read_yaml(path)
    if not isinstance(space, dict) or not all(isinstance(v, list) and v for v in space.values()):
        raise ConfigError(
            f"{path} must map preset keys to non-empty lists of values, e.g. learning_rate: [1e-3]"
        )
    return {str(k): [_yaml_number(x) if isinstance(x, str) else x for x in v] for k, v in space.items()}


def grid_points(space: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values, in order (one point without keys for an empty space)."""
    keys = list(space)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*space.values())]


def check_samples(space: dict[str, list[Any]], samples: int) -> None:
    """A ``ConfigError`` where ``samples`` distinct points are more than the combinations of the values."""
    combinations = math.prod(len(values) for values in space.values())
    if samples > combinations:
        raise ConfigError(
            f"--samples {samples} is more than the {combinations} combinations: use --search grid."
        )


def random_points(space: dict[str, list[Any]], samples: int, seed: int) -> list[dict[str, Any]]:
    """``samples`` distinct combinations drawn at random with ``seed``."""
    import numpy as np

    check_samples(space, samples)
    grid = grid_points(space)
    chosen = np.random.default_rng(seed).choice(len(grid), size=samples, replace=False)
    return [grid[int(k)] for k in sorted(chosen)]


def point_name(point: dict[str, Any]) -> str:
    """A folder name for a point: its values, readable, with a short hash that tells apart values
    the readable part would mix up."""
    if not point:
        return "default"
    readable = "_".join(f"{key}={value}" for key, value in point.items())
    readable = re.sub(r"[^A-Za-z0-9_.=+-]", "", readable)[:80]
    digest = hashlib.sha1(json.dumps(point, sort_keys=True, default=str).encode()).hexdigest()[:6]
    return f"{readable}_{digest}"
