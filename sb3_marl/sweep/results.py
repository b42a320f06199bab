"""What a sweep leaves: the finished trials' results, one table (mean ± 95% CI over seeds per point) and
the learning curves per point, drawn with :mod:`sb3_marl.benchmark`."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sb3_marl.sweep.space import point_name
from sb3_marl.sweep.trial import METRIC, RESULT_FILE

TABLE_FILE = "results.md"
PLOT_FILE = "curves.png"


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
