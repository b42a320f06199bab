"""The statistics of the learning report (sb3_marl.benchmark.stats), checked by hand.

The hand values are two-sided 95% t quantiles as printed tables give them, to 3 decimals: the intervals
(scipy's exact quantiles) must match them to that rounding."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from sb3_marl.benchmark.stats import best, difference_ci, mean_ci, training_mean


def t_table(value: float) -> object:
    """A t quantile as a 3-decimal table prints it."""
    return pytest.approx(value, abs=5e-4)


def test_t_quantiles():
    assert stats.t.ppf(0.975, 1) == t_table(12.706)
    assert stats.t.ppf(0.975, 9) == t_table(2.262)
    assert stats.t.ppf(0.975, 30) == t_table(2.042)


def test_mean_ci_by_hand():
    mean, half = mean_ci([1.0, 2.0, 3.0])  # sd 1, n 3, t(2) = 4.303
    assert mean == 2.0 and half * math.sqrt(3) == t_table(4.303)
    assert math.isnan(mean_ci([5.0])[1])
    assert mean_ci([4.0, 4.0]) == (4.0, 0.0)


def test_welch_difference_by_hand():
    # Variances of the means 1/3 each; Welch's df = (2/3)^2 / ((1/3)^2/2 + (1/3)^2/2) = 4, t(4) = 2.776.
    diff, half = difference_ci([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert diff == 1.0 and half / math.sqrt(2 / 3) == t_table(2.776)
    # Unequal spreads: df = (1/3 + 4/3)^2 / ((1/3)^2/2 + (4/3)^2/2) = 50/17 = 2.94..., between t(3) = 3.182
    # and t(2) = 4.303, and no longer rounded down to 2.
    diff, half = difference_ci([1.0, 2.0, 3.0], [0.0, 2.0, 4.0])
    assert diff == 0.0 and half == pytest.approx(stats.t.ppf(0.975, 50 / 17) * math.sqrt(5 / 3))
    assert 3.182 < half / math.sqrt(5 / 3) < 4.303
    assert difference_ci([1.0, 1.0], [0.0, 0.0]) == (1.0, 0.0)
    assert math.isnan(difference_ci([1.0], [0.0, 2.0])[1])


def test_training_mean_and_best_skip_nothing_but_the_start():
    points = ((0, -100.0), (10, -50.0), (20, -40.0))
    run = {"curve": [{"joint_steps": steps, "return_mean": ret} for steps, ret in points]}
    assert training_mean(run) == -45.0  # the untrained evaluation at step 0 is left out
    assert best(run) == -40.0
