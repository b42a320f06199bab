"""Statistics over seeds (and over timed chunks): Student and Welch intervals from scipy, the interquartile
mean with stratified bootstrap intervals (Agarwal et al. 2021, "Deep RL at the edge of the statistical
precipice", as rliable computes it) and bootstrap intervals of a median.

The bootstrap intervals use ``scipy.stats.bootstrap`` (percentile method) rather than rliable itself:
rliable 1.2 pulls arch, statsmodels, pandas and seaborn and does not import with pandas 3; resampling
each stratum (task) on its own, as ``scipy.stats.bootstrap`` does with one sample per stratum, is
rliable's stratified bootstrap (``tests/test_report.py`` checks both agree where rliable is installed).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
# Fixed resampling seed, so that a table rebuilt from the same runs shows the same intervals.
BOOTSTRAP_SEED = 0


def mean_ci(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its 95% confidence interval (Student's t over seeds).

    :param values: one value per seed
    :return: ``(mean, half_width)``; the half-width is nan under 2 values and 0 when all are equal
    """
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan
    sem = float(stats.sem(x))
    if sem == 0:
        return mean, 0.0
    return mean, float(stats.t.ppf((1 + CONFIDENCE) / 2, len(x) - 1) * sem)


def difference_ci(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Mean of ``a`` minus mean of ``b`` and the half-width of its 95% confidence interval (Welch's t,
    ``scipy.stats.ttest_ind(a, b, equal_var=False)``).

    :param a: one value per seed of the first method
    :param b: one value per seed of the second method
    :return: ``(difference, half_width)``; the half-width is nan when either has under 2 values and 0 when
        neither varies
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(x.mean() - y.mean())
    if min(len(x), len(y)) < 2:
        return diff, math.nan
    if x.var() == 0 and y.var() == 0:
        return diff, 0.0
    with warnings.catch_warnings():  # scipy's warning on a sample of equal values (a solved CartPole)
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        interval = stats.ttest_ind(x, y, equal_var=False).confidence_interval(CONFIDENCE)
    return diff, float(interval.high - interval.low) / 2


def iqm(values: np.ndarray, axis: int = -1) -> Any:
    """The interquartile mean: the mean of the middle 50% (``scipy.stats.trim_mean`` cutting 25% at each
    end, rliable's ``aggregate_iqm``).

    :param values: scores
    :param axis: the axis to reduce
    """
    return stats.trim_mean(values, 0.25, axis=axis)


def bootstrap_ci(
    strata: Sequence[Sequence[float]],
    statistic: Callable[..., Any],
    n_resamples: int = 10_000,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float, float]:
    """A statistic of pooled strata and its 95% percentile bootstrap interval, each stratum resampled on
    its own (a stratified bootstrap; with one stratum, the ordinary one).

    :param strata: the values of each stratum (rliable's tasks; for a single table row, one stratum: the
        seeds)
    :param statistic: reduces an array along ``axis=-1``, e.g. :func:`iqm` or ``np.median``
    :param n_resamples: bootstrap resamples
    :param seed: seed of the resampling
    :return: ``(estimate, low, high)``; the interval is nan when every stratum has under 2 values
    """
    samples = [np.asarray(values, dtype=float) for values in strata]
    if not samples or min(len(s) for s in samples) == 0:
        raise ValueError(
            f"bootstrap_ci needs at least one value in every stratum, got sizes {[len(s) for s in samples]}"
        )
    estimate = float(statistic(np.concatenate(samples), axis=-1))
    if max(len(s) for s in samples) < 2:
        return estimate, math.nan, math.nan
    if all(np.ptp(s) == 0 for s in samples):  # every resample is the estimate itself
        return estimate, estimate, estimate

    def pooled(*resampled: np.ndarray, axis: int = -1) -> Any:
        return statistic(np.concatenate(resampled, axis=axis), axis=axis)

    result = stats.bootstrap(
        tuple(samples),
        pooled,
        n_resamples=n_resamples,
        confidence_level=CONFIDENCE,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    return estimate, float(result.confidence_interval.low), float(result.confidence_interval.high)


def iqm_ci(strata: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """The interquartile mean over all runs and its 95% stratified bootstrap interval (rliable's
    ``get_interval_estimates(..., aggregate_iqm)``).

    :param strata: the scores of each task (one task: one list of per-seed scores)
    :return: ``(iqm, low, high)``
    """
    return bootstrap_ci(strata, iqm)


def median_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """The median and its 95% percentile bootstrap interval.

    :param values: e.g. one speed ratio per round of timed chunks
    :return: ``(median, low, high)``
    """
    return bootstrap_ci([values], np.median)


def training_mean(run: dict[str, Any]) -> float:
    """A run's return averaged over its evaluations after the start (the area under its curve).

    :param run: a stored run, with ``curve``: a list of ``{"joint_steps", "return_mean", ...}`` points
    """
    return float(np.mean([point["return_mean"] for point in run["curve"] if point["joint_steps"] > 0]))


def best(run: dict[str, Any]) -> float:
    """A run's best evaluation (EPyMARL reports the maximum over training).

    :param run: a stored run, with ``curve``
    """
    return max(point["return_mean"] for point in run["curve"])
