"""The sweep on Ray Tune: Ray imported lazily, the points planned and checked, the same sweep checked on
resume, the ``Tuner`` built or restored, and :func:`run_sweep`, which runs it and sums it up."""

from __future__ import annotations

import os
from dataclasses import asdict, replace
from typing import Any

import yaml

from sb3_marl.config import ConfigError, read_yaml
from sb3_marl.sweep.results import PLOT_FILE, TABLE_FILE, SweepResult, plot_sweep, read_results, summary_table
from sb3_marl.sweep.space import SweepConfig, check_samples, grid_points, point_name, random_points
from sb3_marl.sweep.trial import METRIC, tune_trial

INSTALL = 'Ray is not installed: pip install "sb3-marl[ray]"'
SWEEP_FILE = "sweep.yml"


def import_ray() -> Any:
    """``ray`` with Tune, or an ``ImportError`` saying in one line how to install it."""
    try:
        import ray
        import ray.tune
    except ImportError:
        raise ImportError(INSTALL) from None
    return ray


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
        check_samples(config.space, config.samples)
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


def _optuna_search(config: SweepConfig) -> Any:
    """Tune's ``OptunaSearch`` (TPE seeded with ``search_seed``) suggesting each point once: TPE may
    suggest a point again (two points would share their trials' folders), so such a suggestion is told
    to Optuna as failed and replaced by a point not suggested yet, drawn at random."""
    import numpy as np
    from optuna.trial import TrialState
    from ray.tune.search.optuna import OptunaSearch

    def name(params: dict[str, Any]) -> str:
        return point_name({k: params[k] for k in config.space})

    class DistinctOptunaSearch(OptunaSearch):
        def __init__(self) -> None:
            super().__init__(metric=METRIC, mode="max", seed=config.search_seed)
            self.suggested: set[str] = set()
            self.rng = np.random.default_rng(config.search_seed)

        def suggest(self, trial_id: str) -> dict[str, Any] | None:
            params = super().suggest(trial_id)
            if params is not None and name(params) in self.suggested:
                study: Any = self._ot_study  # Ray's annotation says None: the study is made by then
                study.tell(self._ot_trials.pop(trial_id), state=TrialState.FAIL)
                unseen = [p for p in grid_points(config.space) if name(p) not in self.suggested]
                study.enqueue_trial(unseen[self.rng.integers(len(unseen))])
                params = super().suggest(trial_id)
            if params is not None:
                self.suggested.add(name(params))
            return params

    return DistinctOptunaSearch()


def _tuner(config: SweepConfig, points: list[dict[str, Any]], timesteps: int) -> Any:
    """The Tune ``Tuner`` of the sweep, restored where an earlier run of it left its experiment."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    base = _base_settings(config)
    group = os.path.basename(os.path.normpath(base["output"]))
    keys = list(config.space) if config.search == "optuna" else None
    trainable = tune.with_resources(
        tune.with_parameters(tune_trial, base=base, seeds=config.seeds, group=group, keys=keys),
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

        search_alg = Repeater(_optuna_search(config), repeat=len(config.seeds), set_index=True)
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
