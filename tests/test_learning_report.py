"""The statistics of the learning report (benchmarks/learning.py), checked by hand."""

from __future__ import annotations

import math

import pytest

from benchmarks.learning import best, difference_ci, mean_ci, t95, training_mean


def test_t_quantiles():
    assert t95(1) == 12.706 and t95(9) == 2.262 and t95(30) == 2.042
    assert t95(4.9) == t95(4)  # fractional Welch degrees of freedom round down: a wider interval
    assert t95(1000) == 2.042  # past the table: its last value, wider than the normal 1.96


def test_mean_ci_by_hand():
    mean, half = mean_ci([1.0, 2.0, 3.0])  # sd 1, n 3, t(2) = 4.303
    assert mean == 2.0 and half == pytest.approx(4.303 / math.sqrt(3))
    assert math.isnan(mean_ci([5.0])[1])


def test_welch_difference_by_hand():
    # Variances of the means 1/3 each; Welch's df = (2/3)^2 / ((1/3)^2/2 + (1/3)^2/2) = 4, t(4) = 2.776.
    diff, half = difference_ci([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert diff == 1.0 and half == pytest.approx(2.776 * math.sqrt(2 / 3))
    # Unequal spreads: df = (1/3 + 4/3)^2 / ((1/3)^2/2 + (4/3)^2/2) = 2.94..., rounded down to 2.
    diff, half = difference_ci([1.0, 2.0, 3.0], [0.0, 2.0, 4.0])
    assert diff == 0.0 and half == pytest.approx(4.303 * math.sqrt(5 / 3))
    assert difference_ci([1.0, 1.0], [0.0, 0.0]) == (1.0, 0.0)


def test_training_mean_and_best_skip_nothing_but_the_start():
    points = ((0, -100.0), (10, -50.0), (20, -40.0))
    run = {"curve": [{"joint_steps": steps, "return_mean": ret} for steps, ret in points]}
    assert training_mean(run) == -45.0  # the untrained evaluation at step 0 is left out
    assert best(run) == -40.0
