"""Tables from stored runs: each group of runs (one method at one budget, over seeds) summarized as mean ±
95% CI and interquartile mean with its bootstrap interval; the learning benchmark's results page, its
CSV, its side-by-side comparisons and the README section between markers.

A run is a dict as :func:`sb3_marl.benchmark.runs.run_method` returns it (``env``, ``method``, ``seed``,
``curve``), with ``budget`` and ``eval_every`` added by ``benchmarks/learning.py``; :func:`summarize`,
:func:`format_pm`, :func:`format_interval` and :func:`markdown_table` need only ``seed`` and ``curve``
and serve any grouping (a sweep's points too).
"""

from __future__ import annotations

import json
import math
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sb3_marl.benchmark.methods import ENVS, METHODS, PUBLISHED, from_paper, get_method, to_paper
from sb3_marl.benchmark.plot import learning_plots, walltime_plot
from sb3_marl.benchmark.stats import best, difference_ci, iqm_ci, mean_ci, training_mean
from sb3_marl.files import atomic_write

GroupKey = tuple[str, str, int]  # env, method, budget (0: not trained)

# Side-by-side comparisons at equal budgets: (env, method, against).
COMPARISONS = (
    ("spread", "madqn", "supersuit_dqn"),
    ("spread", "madqn", "madqn_noper"),
    ("spread", "madqn", "ppo"),
    ("spread", "madqn_vdn", "madqn"),
    ("spread", "madqn_qmix", "madqn"),
    ("spread", "madqn", "madqn_t1k"),
    ("spread", "madqn", "benchmarl_iql"),
    ("spread", "madqn", "benchmarl_qmix"),
    ("spread", "madqn", "benchmarl_vdn"),
    ("spread", "madqn", "benchmarl_qmix_own"),
    ("speaker_listener", "madqn", "supersuit_dqn"),
    ("speaker_listener", "madqn", "madqn_noid"),
    ("speaker_listener", "madqn", "random"),
    ("pistonball", "madqn", "supersuit_dqn"),
    ("pistonball", "madqn", "random"),
    ("cliffwalk", "madqn", "madqn_noper"),
    ("cliffwalk", "madqn_decay", "madqn_noper_decay"),
    ("cliffwalk", "madqn", "random"),
    ("cartpole", "madqn", "dqn"),
    ("cartpole", "madqn", "madqn_per"),
)

README_START, README_END = "<!-- learning-results:start -->", "<!-- learning-results:end -->"


# ----------------------------------------------------------------------------------------------------
# Generic: groups of runs over seeds


def load_runs(folder: str) -> list[dict[str, Any]]:
    """Every run stored as ``*.json`` in ``folder`` (none when it does not exist), by file name."""
    if not os.path.isdir(folder):
        return []
    runs = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as file:
                runs.append(json.load(file))
    return runs


def group_runs(runs: Sequence[dict[str, Any]]) -> dict[GroupKey, list[dict[str, Any]]]:
    """The runs by (env, method, budget), each group sorted by seed."""
    groups: dict[GroupKey, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["env"], run["method"], run.get("budget", 0)), []).append(run)
    return {key: sorted(group, key=lambda r: r["seed"]) for key, group in groups.items()}


@dataclass(frozen=True)
class Summary:
    """One group of runs over seeds.

    :param seeds: the seeds, sorted
    :param joint_steps: the most joint steps any run reached
    :param final: mean and 95% CI half-width of the last evaluation
    :param iqm: interquartile mean of the last evaluation and its 95% bootstrap interval (low, high)
    :param over_training: mean and half-width of each run's evaluations after the start, averaged (nan for
        untrained groups)
    :param best: mean and half-width of each run's best evaluation (nan for untrained groups)
    :param train_wall_s: training wall time at the last evaluation, mean over seeds
    """

    seeds: list[int]
    joint_steps: int
    final: tuple[float, float]
    iqm: tuple[float, float, float]
    over_training: tuple[float, float]
    best: tuple[float, float]
    train_wall_s: float


def final_return(run: dict[str, Any]) -> float:
    """A run's last evaluation."""
    return float(run["curve"][-1]["return_mean"])


def final_wall_s(runs: Sequence[dict[str, Any]]) -> float:
    """The training wall time of a group's runs at their last evaluation, mean over seeds."""
    return float(np.mean([r["curve"][-1]["train_wall_s"] for r in runs]))


def summarize(runs: Sequence[dict[str, Any]], trained: bool = True) -> Summary:
    """The :class:`Summary` of one group of runs (one per seed).

    :param runs: the group's runs
    :param trained: False for methods evaluated without training (no curve to average)
    """
    finals = [final_return(r) for r in runs]
    nan = (math.nan, math.nan)
    return Summary(
        seeds=[r["seed"] for r in runs],
        joint_steps=max(r["curve"][-1]["joint_steps"] for r in runs),
        final=mean_ci(finals),
        iqm=iqm_ci([finals]),
        over_training=mean_ci([training_mean(r) for r in runs]) if trained else nan,
        best=mean_ci([best(r) for r in runs]) if trained else nan,
        train_wall_s=final_wall_s(runs),
    )


def format_pm(mean: float, half: float) -> str:
    """``"-53.3 ± 6.2"``; ``"-35.1 ± n/a"`` without an interval; ``""`` without a value."""
    if math.isnan(mean):
        return ""
    return f"{mean:.1f} ± {'n/a' if math.isnan(half) else f'{half:.1f}'}"


def format_interval(value: float, low: float, high: float) -> str:
    """``"-52.8 [-57.1, -50.0]"``; ``"-35.1 [n/a]"`` without an interval."""
    if math.isnan(low):
        return f"{value:.1f} [n/a]"
    return f"{value:.1f} [{low:.1f}, {high:.1f}]"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table."""
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


# ----------------------------------------------------------------------------------------------------
# The learning benchmark's page


def ordered(groups: dict[GroupKey, list[dict[str, Any]]]) -> list[tuple[GroupKey, list[dict[str, Any]]]]:
    """The groups in the registry's order (``METHODS``), then by budget."""
    rank = {(m.env, m.name): k for k, m in enumerate(METHODS)}
    return sorted(groups.items(), key=lambda item: (rank[item[0][:2]], item[0][2]))


def command_for(key: GroupKey, runs: Sequence[dict[str, Any]], quick: bool) -> str:
    """The ``benchmarks/learning.py`` command that reproduces a group."""
    env, method, _ = key
    runner = get_method(env, method).runner
    if runner is None:
        parts = ["python", "benchmarks/learning.py", "--env", env, "--methods", method, "--seeds"]
    else:
        parts = ["python", *runner.split(), "--seeds"]
    parts += [str(r["seed"]) for r in runs]
    if quick:
        parts.append("--quick")
    if get_method(env, method).trained:
        parts += ["--steps", str(runs[0]["budget"]), "--eval-every", str(runs[0]["eval_every"])]
    parts += ["--eval-episodes", str(runs[0]["eval_episodes"])]
    return shlex.join(parts)


def compared_pairs(
    groups: dict[GroupKey, list[dict[str, Any]]], peers_only: bool = False
) -> list[tuple[GroupKey, GroupKey]]:
    """The ``COMPARISONS`` pairs of stored groups, at every budget both were run with.

    :param groups: the stored runs, grouped
    :param peers_only: only the pairs against a peer trained by another script (``Method.runner``)
    """
    pairs = []
    for pair_env, method, other in COMPARISONS:
        if peers_only and get_method(pair_env, other).runner is None:
            continue
        trained = get_method(pair_env, other).trained
        for env, name, budget in dict(ordered(groups)):
            other_key = (env, other, budget if trained else 0)  # an untrained method: at any budget
            if (env, name) == (pair_env, method) and other_key in groups:
                pairs.append(((env, name, budget), other_key))
    return pairs


def difference_cell(a: Sequence[float], b: Sequence[float]) -> str:
    """``"4.0 ± 2.3 (better)"``: mean of ``a`` minus mean of ``b``, its Welch 95% CI and the verdict."""
    diff, half = difference_ci(a, b)
    verdict = "n/a" if math.isnan(half) else "no clear difference"
    if not math.isnan(half) and abs(diff) > half:
        verdict = "better" if diff > 0 else "worse"
    return f"{format_pm(diff, half)} ({verdict})"


def comparison_lines(groups: dict[GroupKey, list[dict[str, Any]]]) -> list[str]:
    """Markdown lines: each ``COMPARISONS`` pair at every budget both were run with."""
    rows = []
    for key, other_key in compared_pairs(groups):
        (env, method, budget), other = key, other_key[1]
        group, against = groups[key], groups[other_key]
        # An untrained method's level is its return at every point of the other's training.
        other_mean = training_mean if get_method(env, other).trained else final_return
        cells = [
            difference_cell([m(r) for r in group], [o(r) for r in against])
            for m, o in ((final_return, final_return), (training_mean, other_mean))
        ]
        label, other_label = get_method(env, method).label, get_method(env, other).label
        rows.append(
            [f"{label} minus {other_label}", f"{budget:,}", f"{len(group)} vs {len(against)}", *cells]
        )
    if not rows:
        return []
    header = ["comparison", "joint steps", "seeds", "final return", "over training"]
    return [
        'Side by side (difference of the means, 95% CI by Welch\'s t; "better" when the '
        "interval excludes 0):",
        "",
        *markdown_table(header, rows),
        "",
    ]


def return_at_wall(run: dict[str, Any], wall_s: float) -> float:
    """A run's last evaluation made within ``wall_s`` seconds of training (its first one if none was)."""
    made = [p for p in run["curve"] if p["train_wall_s"] <= wall_s] or run["curve"][:1]
    return float(made[-1]["return_mean"])


def walltime_lines(groups: dict[GroupKey, list[dict[str, Any]]]) -> list[str]:
    """Markdown lines: each pair against a peer at equal training wall time, the time the faster of the
    two took for the whole budget on every seed; each run counts with its last evaluation made by then."""
    rows = []
    for key, other_key in compared_pairs(groups, peers_only=True):
        group, against = groups[key], groups[other_key]
        walls = [max(r["curve"][-1]["train_wall_s"] for r in runs) for runs in (group, against)]
        wall = min(walls)
        ours, theirs = [return_at_wall(r, wall) for r in group], [return_at_wall(r, wall) for r in against]
        label, other_label = get_method(*key[:2]).label, get_method(*other_key[:2]).label
        rows.append(
            [
                f"{label} minus {other_label}",
                f"{key[2]:,}",
                f"{wall:.0f} ({walls[0]:.0f} vs {walls[1]:.0f})",
                format_pm(*mean_ci(ours)),
                format_pm(*mean_ci(theirs)),
                difference_cell(ours, theirs),
            ]
        )
    if not rows:
        return []
    header = [
        "comparison",
        "budget",
        "wall s (each's slowest seed)",
        "first then",
        "second then",
        "difference",
    ]
    return [
        "At equal training wall time (the time the faster of the two took for the whole budget on its "
        "slowest seed; each run with its last evaluation made by then; the runs shared the 2-core machine "
        "with other jobs, so their times carry its load at the time; curves against wall time: "
        "`docs/learning_simple_spread_walltime.png`):",
        "",
        *markdown_table(header, rows),
        "",
    ]


TABLE_HEADER = (
    "env",
    "method",
    "seeds",
    "joint steps",
    "return",
    "IQM [95% CI]",
    "paper scale",
    "over training",
    "best",
    "train wall (s)",
    "command",
)
CSV_HEADER = (
    "env,method,seeds,joint_steps,return_mean,return_ci95,iqm,iqm_low,iqm_high,paper_scale,training_mean,"
    "training_mean_ci95,best_mean,best_ci95,train_wall_s,command"
)


def results_page(
    groups: dict[GroupKey, list[dict[str, Any]]], quick: bool, run_folder: str
) -> tuple[list[str], list[str]]:
    """The Markdown lines of the results page and the lines of its CSV.

    :param groups: the stored runs, grouped (:func:`group_runs`)
    :param quick: the runs are the quick benchmark's
    :param run_folder: where the runs are stored, as the page names it (e.g. ``docs/learning_runs/``)
    """
    rows, csv_rows = [], [CSV_HEADER]
    for key, group in ordered(groups):
        env, method, _ = key
        spec = get_method(env, method)
        s = summarize(group, spec.trained)
        paper = f"{to_paper(s.final[0]):.1f}" if env == "spread" else ""
        cmd = command_for(key, group, quick)
        seeds = f"{len(s.seeds)} ({', '.join(map(str, s.seeds))})"
        cells = [format_pm(*s.final), format_interval(*s.iqm), paper, format_pm(*s.over_training)]
        cells += [format_pm(*s.best), f"{s.train_wall_s:.0f}", f"`{cmd}`"]
        rows.append([env, spec.label, seeds, f"{s.joint_steps:,}", *cells])
        numbers = [*s.final, *s.iqm]
        csv_rows.append(
            f"{env},{method},{' '.join(map(str, s.seeds))},{s.joint_steps},"
            + ",".join(f"{v:.3f}" for v in numbers)
            + f",{paper},{s.over_training[0]:.3f},{s.over_training[1]:.3f},{s.best[0]:.3f},{s.best[1]:.3f},"
            f'{s.train_wall_s:.1f},"{cmd}"'
        )
    lines = [
        f"# Learning results{' (QUICK: tiny budgets, 2 seeds, not the real benchmark)' if quick else ''}",
        "",
        f"Written by `benchmarks/learning.py` from the runs in `{run_folder}`; do not edit by hand.",
        "",
        "Return: greedy policy, whole episodes on a separate evaluation env, at the last evaluation of each "
        "run; mean ± 95% CI (Student's t) over seeds. IQM: the interquartile mean over seeds of the same "
        "returns with its 95% stratified bootstrap interval (Agarwal et al. 2021, as rliable computes it; "
        "with 3 seeds the IQM is the mean). PettingZoo tasks: team return summed over the agents "
        "(simple_spread: mpe2 scale; paper scale = 2 * mpe2 - 75). Over training: each run's evaluations "
        "after the start, averaged. Best: each run's best evaluation (as EPyMARL reports). Wall time: "
        "training only (evaluation excluded), mean over seeds, on a shared 2-core CPU with "
        "`torch.set_num_threads(1)`.",
        "",
        *markdown_table(TABLE_HEADER, rows),
        "",
        *comparison_lines(groups),
        *walltime_lines(groups),
        "Published reference for simple_spread (EPyMARL, Papoudakis et al. 2021, arXiv:2006.07869; "
        "as we read it, unconfirmed): "
        + ", ".join(f"{k} {v} paper = {from_paper(v):.1f} mpe2" for k, v in PUBLISHED.items())
        + ".",
        "",
    ]
    return lines, csv_rows


def write_lines(path: str, lines: Sequence[str]) -> None:
    """Write ``lines`` to ``path`` (joined by newlines, ending with one) without risking the old file."""
    with atomic_write(path, "w") as file:
        file.write("\n".join(lines).rstrip("\n") + "\n")


def replace_section(
    path: str, lines: Sequence[str], start: str = README_START, end: str = README_END
) -> None:
    """Put ``lines`` in the file ``path`` between its ``start`` and ``end`` markers.

    :raises ValueError: when the file lacks either marker
    """
    with open(path) as file:
        text = file.read()
    head, found_start, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not (found_start and found_end):
        raise ValueError(f"{path} has no {start} ... {end} section: add both markers where the table goes")
    with atomic_write(path, "w") as file:
        file.write(head + start + "\n" + "\n".join(lines) + "\n" + end + tail)


def write_results(docs: str, quick: bool, readme: str | None = None) -> list[str]:
    """Rebuild ``results[_quick].md``, its CSV and the plots in ``docs`` from the runs stored in
    ``docs/learning_runs[_quick]/``; with ``readme``, also that file's learning-results section.

    :param docs: the docs folder
    :param quick: the quick benchmark's runs and files
    :param readme: the README to rewrite between its markers (None: leave it alone)
    :return: the lines of the results page
    """
    suffix = "_quick" if quick else ""
    folder = f"learning_runs{suffix}"
    groups = group_runs(load_runs(os.path.join(docs, folder)))
    lines, csv_rows = results_page(groups, quick, f"docs/{folder}/")
    write_lines(os.path.join(docs, f"results{suffix}.md"), lines)
    write_lines(os.path.join(docs, f"results{suffix}.csv"), csv_rows)
    for env in ENVS:
        learning_plots(dict(ordered(groups)), env, quick, docs)
    pairs = compared_pairs(groups, peers_only=True)
    walltime_plot({k: groups[k] for k in dict.fromkeys(k for pair in pairs for k in pair)}, quick, docs)
    if readme is not None:
        replace_section(readme, lines[4:])
    return lines
