"""``sb3-marl sweep``: seeds and hyperparameter sweeps as Ray Tune trials.

Every (seed, point) is one Tune trial that runs :func:`sb3_marl.training.train`, exactly what
``sb3-marl train`` runs, in its own folder ``<output>/trials/<point>_s<seed>`` (model, ``config.yml``,
W&B run grouped by sweep, ``result.json``). Each evaluation's team return is reported to Tune (so that a
scheduler such as ASHA can stop bad trials). At the end one table (mean ± 95% CI over seeds per point)
and a plot of the learning curves are written to the sweep folder.

Running the same command again resumes a stopped sweep: Tune's experiment is restored
(``Tuner.restore``), and a trial whose folder holds a ``result.json`` replays it instead of training
again (the experiment's last snapshot may predate the trial's end).

Ray is imported lazily: without it the command says how to install it.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
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


@dataclass
class SweepResult:
    """What a sweep made: the results of its finished trials, the table's lines and the files written."""

    results: list[dict[str, Any]]
    stopped: int
    table: list[str]
    table_path: str
    plot_path: str | None


def read_results(output: str) -> tuple[list[dict[str, Any]], int]:
    """The ``result.json`` of every finished trial under ``output``, and the number of trial folders
    without one (stopped early by the scheduler, or failed)."""
    folder = os.path.join(output, "trials")
    results, stopped = [], 0
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        path = os.path.join(folder, name, RESULT_FILE)
        if os.path.isfile(path):
            with open(path) as file:
                results.append(json.load(file))
        else:
            stopped += 1
    return results, stopped


def summary_table(results: Sequence[dict[str, Any]]) -> list[str]:
    """One row per point: its values, the seeds finished, and the final and best evaluation's team
    return, each as the mean ± the half-width of its 95% CI over seeds."""
    from sb3_marl.benchmark.report import format_pm, markdown_table
    from sb3_marl.benchmark.stats import mean_ci

    groups = _by_point(results)
    keys = list(dict.fromkeys(k for r in results for k in r["point"]))
    rows = []
    for runs in groups.values():
        final = [r["curve"][-1][METRIC] for r in runs]
        best = [max(c[METRIC] for c in r["curve"]) for r in runs]
        values = [str(runs[0]["point"].get(k, "")) for k in keys]
        seeds = ", ".join(str(r["seed"]) for r in runs)
        rows.append([*values, seeds, format_pm(*mean_ci(final)), format_pm(*mean_ci(best))])
    order = sorted(range(len(rows)), key=lambda k: -_mean(groups, k))
    header = [*keys, "seeds", "team return (final, mean ± 95% CI)", "best evaluation"]
    return markdown_table(header, [rows[k] for k in order])


def _by_point(results: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for result in sorted(results, key=lambda r: r["seed"]):
        groups.setdefault(point_name(result["point"]), []).append(result)
    return groups


def _mean(groups: dict[str, list[dict[str, Any]]], k: int) -> float:
    runs = list(groups.values())[k]
    value = sum(r["curve"][-1][METRIC] for r in runs) / len(runs)
    return value if math.isfinite(value) else -math.inf


def plot_sweep(results: Sequence[dict[str, Any]], path: str, title: str) -> bool:
    """The learning curve of each point (mean over seeds with its 95% band, as the learning report
    draws them) into the PNG ``path``; False where matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    from sb3_marl.benchmark.plot import Curve, curve_band, plot_curves

    curves = []
    for name, runs in _by_point(results).items():
        as_runs = [
            {"curve": [{"joint_steps": c["joint_steps"], "return_mean": c[METRIC]} for c in r["curve"]]}
            for r in runs
        ]
        x, mean, half = curve_band(as_runs)
        curves.append(Curve(name.rpartition("_")[0] or name, x, mean, half))
    return plot_curves(path, curves, title, "joint steps", "team return (summed over agents)")


def run_sweep(config: SweepConfig) -> SweepResult:
    """Run (or resume) the sweep on Ray Tune, then write its table and plot.

    Starts an embedded Ray sized to the machine (or ``num_cpus``) unless ``ray_address`` names a cluster
    or Ray is already started, and shuts down what it started.
    """
    points, timesteps = plan_sweep(config)
    ray = import_ray()
    _check_same_sweep(config, points)
    started = not ray.is_initialized()
    if started:
        if config.ray_address is None:
            ray.init(num_cpus=config.num_cpus or os.cpu_count(), include_dashboard=False)
        else:
            ray.init(address=config.ray_address)
    try:
        _tuner(config, points, timesteps).fit()
    finally:
        if started:
            ray.shutdown()
    results, stopped = read_results(config.output)
    table = summary_table(results)
    table_path = os.path.join(config.output, TABLE_FILE)
    from sb3_marl.benchmark.report import write_lines

    title = f"{config.train.algo} on {config.train.env}"
    write_lines(table_path, [f"# Sweep: {title}", "", *table])
    plot_path = os.path.join(config.output, PLOT_FILE)
    plotted = plot_sweep(results, plot_path, title) if results else False
    return SweepResult(results, stopped, table, table_path, plot_path if plotted else None)


# -- the command line ------------------------------------------------------------------------------------


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sb3-marl sweep`` (besides ``--env`` and ``--env-kwargs``, which the CLI adds)."""
    from sb3_marl.algos import ALGOS, MIXERS
    from sb3_marl.cli import NON_NEGATIVE, POSITIVE

    parser.add_argument("--algo", required=True, choices=list(ALGOS), help="algorithm of every trial")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="the seeds each point runs with")
    parser.add_argument(
        "--grid",
        nargs="+",
        metavar="KEY=V1,V2",
        help="preset keys and values to try, e.g. learning_rate=1e-3,5e-4 target_update_interval=1000,10000",
    )
    parser.add_argument("--space", metavar="YAML", help="a YAML file of preset keys and lists of values")
    parser.add_argument(
        "--search",
        choices=SEARCHES,
        default="grid",
        help="grid: every combination; random: --samples combinations; optuna: --samples points suggested "
        "by Optuna (pip install optuna)",
    )
    parser.add_argument("--samples", type=POSITIVE, default=10, help="points of random search and Optuna")
    parser.add_argument("--search-seed", type=int, default=0, help="seed of random search and Optuna")
    parser.add_argument(
        "--scheduler",
        choices=SCHEDULERS,
        default="fifo",
        help="fifo: every trial runs to its end; asha: stop bad trials at their evaluations",
    )
    parser.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs Ray reserves for each trial")
    parser.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="an existing Ray cluster: auto (on a cluster node) or ray://host:port (default: Ray started "
        "here, sized to the machine); --output must be a folder every node sees",
    )
    parser.add_argument("--num-cpus", type=POSITIVE, help="CPUs of the Ray started here (default: all)")
    parser.add_argument("--timesteps", type=POSITIVE, help="total timesteps of each trial")
    parser.add_argument("--n-envs", type=POSITIVE, help="env copies of each trial")
    parser.add_argument(
        "--hyperparams", metavar="YAML", help="YAML file keyed by env id, laid over the preset"
    )
    parser.add_argument("--mixer", choices=MIXERS, help="with madqn, a value-decomposition mixer")
    parser.add_argument(
        "--output", metavar="DIR", help="the sweep's folder (default: sweeps/<algo>_<env>); rerun to resume"
    )
    parser.add_argument("--wandb-project", default="sb3-marl", help="W&B project of the trials' runs")
    parser.add_argument(
        "--wandb-mode",
        choices=("offline", "online", "disabled"),
        help="W&B mode (default: $WANDB_MODE if set, else offline)",
    )
    parser.add_argument(
        "--eval-freq",
        type=NON_NEGATIVE,
        default=0,
        help="evaluate every this many timesteps and report to Tune (0: only the final evaluation)",
    )
    parser.add_argument("--eval-episodes", type=POSITIVE, default=10, help="episodes of each evaluation")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="Tune's verbosity")
    parser.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    """``sb3-marl sweep``: run the sweep and print its table."""
    from sb3_marl.config import parse_env_kwargs

    space = read_space(args.space) if args.space else {}
    grid = parse_grid(args.grid)
    if set(space) & set(grid):
        raise ConfigError(f"{', '.join(sorted(set(space) & set(grid)))} given both in --space and --grid.")
    output = args.output or os.path.join("sweeps", f"{args.algo}_{args.env.rpartition('.')[2]}")
    train = TrainConfig(
        algo=args.algo,
        env=args.env,
        timesteps=args.timesteps,
        n_envs=args.n_envs,
        env_kwargs=parse_env_kwargs(args.env_kwargs),
        hyperparams_file=args.hyperparams,
        mixer=args.mixer,
        wandb_project=args.wandb_project if args.wandb_mode != "disabled" else None,
        wandb_mode=args.wandb_mode,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
    )
    config = SweepConfig(
        train=train,
        output=output,
        seeds=args.seeds,
        space={**space, **grid},
        search=args.search,
        samples=args.samples,
        search_seed=args.search_seed,
        scheduler=args.scheduler,
        cpus_per_trial=args.cpus_per_trial,
        ray_address=args.ray_address,
        num_cpus=args.num_cpus,
        verbose=args.verbose,
    )
    result = run_sweep(config)
    print("\n".join(result.table))
    stopped = f"; {result.stopped} trials stopped early" if result.stopped else ""
    plot = f" and {result.plot_path}" if result.plot_path else ""
    if result.results and not result.plot_path:
        plot = " (pip install matplotlib for the plot)"
    print(f"{len(result.results)} finished trials{stopped}. Saved {result.table_path}{plot}")
    return 0
