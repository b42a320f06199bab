"""Sweep points, trials and the Tune experiment: what each (seed, point) trial runs and where it keeps it."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import yaml

from sb3_marl.config import ConfigError, read_yaml
from sb3_marl.training import TrainConfig

if TYPE_CHECKING:
    from stable_baselines3.common.logger import KVWriter

INSTALL = 'Ray is not installed: pip install "sb3-marl[ray]"'
SEARCHES = ("grid", "random", "optuna")
SCHEDULERS = ("fifo", "asha")
METRIC = "team_return"
RESULT_FILE = "result.json"
SWEEP_FILE = "sweep.yml"
TABLE_FILE = "results.md"
PLOT_FILE = "curves.png"


def import_ray() -> Any:
    """``ray`` with Tune, or an ``ImportError`` saying in one line how to install it."""
    try:
        import ray
        import ray.tune
    except ImportError:
        raise ImportError(INSTALL) from None
    return ray


@dataclass
class SweepConfig:
    """A sweep, as ``sb3-marl sweep`` takes it.

    :param train: the settings every trial shares (its ``seed``, ``hyperparams`` and ``output`` are set
        per trial; its ``hyperparams`` are laid under each point's)
    :param output: the sweep's folder (trials, Tune's experiment, table and plot)
    :param seeds: the seeds each point runs with
    :param space: preset keys and the values to try, e.g. ``{"learning_rate": [1e-3, 5e-4]}``
    :param search: ``"grid"`` (every combination), ``"random"`` (``samples`` distinct combinations) or
        ``"optuna"`` (``samples`` points suggested by Optuna through Tune's searcher, each over all seeds)
    :param samples: points drawn by random search and Optuna
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


# -- the search space ------------------------------------------------------------------------------------


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


def random_points(space: dict[str, list[Any]], samples: int, seed: int) -> list[dict[str, Any]]:
    """``samples`` distinct combinations drawn at random with ``seed``."""
    import numpy as np

    grid = grid_points(space)
    if samples > len(grid):
        raise ConfigError(
            f"--samples {samples} is more than the {len(grid)} combinations: use --search grid."
        )
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


# -- a trial ---------------------------------------------------------------------------------------------


def _eval_writer(on_eval: Callable[[int, float], None]) -> KVWriter:
    """An SB3 logger output that calls ``on_eval(timesteps, team_return)`` at each dump holding an
    evaluation (``MultiAgentEvalCallback`` dumps right after recording one)."""
    from stable_baselines3.common.logger import KVWriter

    class EvalWriter(KVWriter):
        def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
            if "eval/team_return_mean" in key_values:
                on_eval(int(step), float(key_values["eval/team_return_mean"]))

        def close(self) -> None:
            pass

    return EvalWriter()


def report_callback(report: Callable[[dict[str, Any]], None]) -> Any:
    """An SB3 callback that passes each evaluation's team return to ``report`` (e.g. ``ray.tune.report``)
    as ``{"team_return", "timesteps", "joint_steps"}`` and keeps the curve in ``.curve``."""
    from stable_baselines3.common.callbacks import BaseCallback

    from sb3_marl.evaluation import unwrap_multi_agent

    class ReportCallback(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.curve: list[dict[str, Any]] = []

        def _init_callback(self) -> None:
            assert self.training_env is not None
            self.num_agents = unwrap_multi_agent(self.training_env).num_agents
            self.model.logger.output_formats.append(_eval_writer(self.on_eval))

        def on_eval(self, timesteps: int, team_return: float) -> None:
            point = {METRIC: team_return, "timesteps": timesteps, "joint_steps": timesteps // self.num_agents}
            self.curve.append(point)
            report(dict(point))

        def _on_step(self) -> bool:
            return True

    return ReportCallback()


def trial_folder(output: str, point: dict[str, Any], seed: int) -> str:
    """The folder of the trial of ``point`` with ``seed``."""
    return os.path.join(output, "trials", f"{point_name(point)}_s{seed}")


def run_trial(config: TrainConfig, point: dict[str, Any], report: Callable[[dict[str, Any]], None]) -> dict:
    """Train ``config`` at ``point`` in ``config.output`` and write its ``result.json``; if that file is
    there already (a finished trial of a resumed sweep), report its curve again instead.

    :param config: the trial's settings (its seed and output folder set)
    :param point: the trial's hyperparameters, laid over ``config.hyperparams``
    :param report: called with the metrics of each evaluation and of the final one
    :return: the trial's result (as saved)
    """
    from sb3_marl.files import atomic_write
    from sb3_marl.training import train

    path = os.path.join(str(config.output), RESULT_FILE)
    if os.path.isfile(path):
        with open(path) as file:
            result: dict[str, Any] = json.load(file)
        for metrics in result["curve"]:
            report({**metrics, "resumed": True})
        return result
    reporter = report_callback(report)
    trained = train(replace(config, hyperparams={**config.hyperparams, **point}, callbacks=[reporter]))
    final = {
        METRIC: trained.team_return.team_return_mean,
        "timesteps": trained.model.num_timesteps,
        "joint_steps": trained.model.num_timesteps // reporter.num_agents,
        "final": True,
    }
    result = {
        "point": point,
        "seed": config.seed,
        "curve": [*reporter.curve, final],
        "team_returns": trained.team_return.team_returns,
        "random_return": trained.random_return.team_return_mean,
        "model": trained.model_path,
    }
    report(dict(final))
    with atomic_write(path, "w") as file:
        json.dump(result, file, indent=1)
    return result


def _tune_trial(
    params: dict[str, Any], base: dict[str, Any], seeds: list[int], group: str, keys: list[str] | None
) -> None:
    """The Tune trainable: ``params`` is ``{"point", "seed"}`` (grid, random) or Optuna's values with
    Tune's ``__trial_index__`` (the seed's index, from ``Repeater``)."""
    from ray import tune

    if keys is None:
        point, seed = params["point"], params["seed"]
    else:
        point, seed = {k: params[k] for k in keys}, seeds[params["__trial_index__"]]
    os.environ["WANDB_RUN_GROUP"] = group
    config = TrainConfig(**{**base, "seed": seed, "output": trial_folder(base["output"], point, seed)})
    run_trial(config, point, tune.report)


# -- the sweep -------------------------------------------------------------------------------------------


def _base_settings(config: SweepConfig) -> dict[str, Any]:
    """What every trial shares, as plain data (paths made absolute: Tune runs trials in other folders)."""
    base = asdict(replace(config.train, callbacks=[]))
    del base["callbacks"]
    if base["hyperparams_file"]:
        base["hyperparams_file"] = os.path.abspath(base["hyperparams_file"])
    base.update(output=os.path.abspath(config.output), verbose=0, progress_bar=False)
    return base


def _check_same_sweep(config: SweepConfig, points: list[dict[str, Any]]) -> None:
    """Write ``sweep.yml``, or check that the one there describes this sweep (a resumed one)."""
    from sb3_marl.files import atomic_write

    described = {
        "train": {k: v for k, v in _base_settings(config).items() if k != "output"},
        "seeds": config.seeds,
        "space": config.space,
        "search": config.search,
        "samples": config.samples if config.search != "grid" else None,
        "search_seed": config.search_seed if config.search != "grid" else None,
        "scheduler": config.scheduler,
        "points": points if config.search != "optuna" else None,
    }
    described = yaml.safe_load(yaml.safe_dump(described))
    path = os.path.join(config.output, SWEEP_FILE)
    if os.path.isfile(path):
        if read_yaml(path) != described:
            raise ConfigError(
                f"{config.output} holds another sweep (its {SWEEP_FILE} differs): give the same settings to "
                "resume it, or another --output."
            )
        return
    os.makedirs(config.output, exist_ok=True)
    with atomic_write(path, "w") as file:
        yaml.safe_dump(described, file, sort_keys=False)


def plan_sweep(config: SweepConfig) -> tuple[list[dict[str, Any]], int]:
    """The sweep's points (none for Optuna, which suggests them) and each trial's total timesteps; every
    point (for Optuna, every value) is checked as ``sb3-marl train`` checks its settings, so that a bad
    key or value is one clear error before Ray starts."""
    from sb3_marl.training import plan_run

    if config.search == "optuna":
        try:
            import optuna  # noqa: F401
        except ImportError:
            raise ImportError("--search optuna needs Optuna: pip install optuna") from None
        first = {k: v[0] for k, v in config.space.items()}
        points, checked = [], [{**first, k: value} for k, values in config.space.items() for value in values]
    else:
        points = (
            grid_points(config.space)
            if config.search == "grid"
            else random_points(config.space, config.samples, config.search_seed)
        )
        checked = points
    timesteps = 0
    for point in checked:
        try:
            plan = plan_run(replace(config.train, hyperparams={**config.train.hyperparams, **point}))
        except ConfigError as error:
            raise ConfigError(f"Point {point}: {error}") from None
        timesteps = max(timesteps, plan.timesteps)
    return points, timesteps


def _tuner(config: SweepConfig, points: list[dict[str, Any]], timesteps: int) -> Any:
    """The Tune ``Tuner`` of the sweep, restored where an earlier run of it left its experiment."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    base = _base_settings(config)
    group = os.path.basename(os.path.normpath(base["output"]))
    keys = list(config.space) if config.search == "optuna" else None
    trainable = tune.with_resources(
        tune.with_parameters(_tune_trial, base=base, seeds=config.seeds, group=group, keys=keys),
        {"cpu": config.cpus_per_trial},
    )
    storage, name = base["output"], "tune"
    if tune.Tuner.can_restore(os.path.join(storage, name)):
        return tune.Tuner.restore(
            os.path.join(storage, name), trainable, resume_unfinished=True, resume_errored=True
        )
    scheduler: Any = FIFOScheduler()
    if config.scheduler == "asha":
        # max_t past the last evaluation: a trial that reaches it ends itself (final evaluation, result.json)
        scheduler = ASHAScheduler(
            time_attr="timesteps", max_t=timesteps + 1, grace_period=min(config.train.eval_freq, timesteps)
        )
    search_alg = None
    if config.search == "optuna":
        from ray.tune.search import Repeater
        from ray.tune.search.optuna import OptunaSearch

        optuna = OptunaSearch(metric=METRIC, mode="max", seed=config.search_seed)
        search_alg = Repeater(optuna, repeat=len(config.seeds), set_index=True)
        param_space: dict[str, Any] = {k: tune.choice(v) for k, v in config.space.items()}
        num_samples = config.samples * len(config.seeds)
    else:
        param_space = {"point": tune.grid_search(points), "seed": tune.grid_search(config.seeds)}
        num_samples = 1
    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=METRIC, mode="max", scheduler=scheduler, search_alg=search_alg, num_samples=num_samples
        ),
        run_config=tune.RunConfig(name=name, storage_path=storage, verbose=config.verbose),
    )
