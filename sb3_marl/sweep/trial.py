"""One trial of a sweep: a (seed, point) run of :func:`sb3_marl.training.train` in its own folder, its
evaluations reported to Tune, its ``result.json`` replayed when a resumed sweep meets it again."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sb3_marl.sweep.space import point_name
from sb3_marl.training import TrainConfig

if TYPE_CHECKING:
    from stable_baselines3.common.logger import KVWriter

METRIC = "team_return"
RESULT_FILE = "result.json"


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


def tune_trial(
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
