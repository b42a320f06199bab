"""Learning curves: the mean over seeds with its 95% band, and horizontal reference levels (matplotlib,
imported here only)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sb3_marl.benchmark.methods import N_AGENTS, PUBLISHED, TASKS, from_paper, get_method
from sb3_marl.benchmark.stats import mean_ci
from sb3_marl.files import atomic_write


@dataclass(frozen=True)
class Curve:
    """A learning curve: ``mean`` ± ``half`` at joint steps ``x``."""

    label: str
    x: np.ndarray
    mean: np.ndarray
    half: np.ndarray


@dataclass(frozen=True)
class Level:
    """A horizontal reference line."""

    label: str
    value: float
    color: str
    linestyle: str


def plot_curves(
    path: str,
    items: Sequence[Curve | Level],
    title: str,
    xlabel: str,
    ylabel: str,
    fit_means: bool = False,
) -> bool:
    """Draw ``items`` in order into the PNG ``path``; nothing is written without a :class:`Curve`.

    :param path: the image file
    :param items: curves (a line and its band) and levels (a dashed or dotted line)
    :param title: the plot's title
    :param xlabel: the x axis label
    :param ylabel: the y axis label
    :param fit_means: fit the y range to the lines (with few seeds the t bands are wide)
    :return: whether the file was written
    """
    if not any(isinstance(item, Curve) for item in items):
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for item in items:
        if isinstance(item, Level):
            ax.axhline(item.value, linestyle=item.linestyle, color=item.color, linewidth=1, label=item.label)
        else:
            (line,) = ax.plot(item.x, item.mean, label=item.label)
            ax.fill_between(
                item.x, item.mean - item.half, item.mean + item.half, alpha=0.2, color=line.get_color()
            )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if fit_means:
        means = [line.get_ydata() for line in ax.get_lines()]
        ax.set_ylim(min(float(np.min(m)) for m in means) - 15, max(float(np.max(m)) for m in means) + 10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_write(path, "wb") as file:
        fig.savefig(file, format="png", dpi=120)
    plt.close(fig)
    return True


def curve_band(
    runs: Sequence[dict[str, Any]], x_key: str = "joint_steps"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The learning curve of a group: ``x_key`` (joint steps, or ``"train_wall_s"``) averaged over seeds,
    the mean over seeds at each evaluation and the half-width of its 95% CI (0 where it is undefined),
    over the evaluations every run reached."""
    n_points = min(len(r["curve"]) for r in runs)
    x = np.array([np.mean([r["curve"][k][x_key] for r in runs]) for k in range(n_points)])
    ys = np.array([[r["curve"][k]["return_mean"] for k in range(n_points)] for r in runs])
    points = [mean_ci(ys[:, k]) for k in range(n_points)]
    return x, np.array([s[0] for s in points]), np.nan_to_num(np.array([s[1] for s in points]))


UNTRAINED_COLORS = {"random": "grey", "nearest": "tab:brown", "scripted": "black"}


def learning_plots(
    groups: dict[tuple[str, str, int], list[dict[str, Any]]], env: str, quick: bool, docs: str
) -> None:
    """The learning benchmark's plot of ``env`` (``docs/learning_<env>[_quick].png``): every trained group's
    curve, the untrained methods' levels and, on simple_spread, the published ones.

    :param groups: the stored runs, grouped by (env, method, budget), in the order to draw them
    :param env: a task, a :data:`~sb3_marl.benchmark.methods.TASKS` key
    :param quick: the quick benchmark's runs and file
    :param docs: the docs folder
    """
    items: list[Curve | Level] = []
    for (g_env, method, _), group in groups.items():
        if g_env != env:
            continue
        spec = get_method(env, method)
        if not spec.trained:
            mean = mean_ci([r["curve"][-1]["return_mean"] for r in group])[0]
            items.append(Level(f"{spec.label} ({mean:.1f})", mean, UNTRAINED_COLORS[method], "--"))
            continue
        steps = max(r["curve"][-1]["joint_steps"] for r in group)
        items.append(Curve(f"{spec.label} ({len(group)} seeds, {steps // 1000}k)", *curve_band(group)))
    task = TASKS[env]
    if env == "spread":
        for name, value in PUBLISHED.items():
            color = "tab:red" if "IQL" in name else "tab:purple"
            items.append(
                Level(f"{name}, {value} paper = {from_paper(value):.1f} mpe2", from_paper(value), color, ":")
            )
    if task.env_id is None:
        labels = ("env steps", "greedy episode return")
    else:
        labels = ("joint env steps", f"greedy team return (sum over {task.n_agents} agents)")
    title = f"{task.title}{' — quick' if quick else ''}"
    name = "simple_spread" if env == "spread" else env
    path = os.path.join(docs, f"learning_{name}{'_quick' if quick else ''}.png")
    plot_curves(path, items, title, *labels, fit_means=env == "spread")


def walltime_plot(groups: dict[tuple[str, str, int], list[dict[str, Any]]], quick: bool, docs: str) -> None:
    """simple_spread's curves against training wall time, evaluation excluded, each point at its mean time
    over seeds (``docs/learning_simple_spread_walltime[_quick].png``; nothing is written without a group).

    :param groups: the groups to draw (the pairs against peers), by (env, method, budget), in order
    :param quick: the quick benchmark's runs and file
    :param docs: the docs folder
    """
    items: list[Curve | Level] = []
    for (env, method, budget), group in groups.items():
        label = f"{get_method(env, method).label} ({len(group)} seeds, {budget // 1000}k)"
        items.append(Curve(label, *curve_band(group, "train_wall_s")))
    quick_tag = "_quick" if quick else ""
    title = f"simple_spread_v3 against training wall time{' — quick' if quick else ''}"
    labels = (
        "training wall time (s; shared 2-core CPU, one torch thread)",
        f"greedy team return (sum over {N_AGENTS} agents)",
    )
    plot_curves(
        os.path.join(docs, f"learning_simple_spread_walltime{quick_tag}.png"),
        items,
        title,
        *labels,
        fit_means=True,
    )
