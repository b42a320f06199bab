"""The learning benchmark as a library: its registry, the interquartile mean and bootstrap intervals, the
results table, the README section and the plots (sb3_marl.benchmark)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from benchmarks.learning import main as learning_main
from sb3_marl.benchmark.methods import METHODS, Method, build_spread_model, env_methods, get_method
from sb3_marl.benchmark.report import (
    README_END,
    README_START,
    format_interval,
    group_runs,
    load_runs,
    replace_section,
    results_page,
    return_at_wall,
    summarize,
)
from sb3_marl.benchmark.stats import bootstrap_ci, iqm, iqm_ci, median_ci

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_iqm_by_hand():
    # Sorted 1..7, 100: a quarter (2 values) cut at each end leaves 3, 4, 5, 6.
    values = np.array([7.0, 1.0, 100.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert iqm(values) == 4.5
    estimate, low, high = iqm_ci([values])
    assert estimate == 4.5 and low <= 4.5 <= high and high < 100


def test_stratified_bootstrap_resamples_each_stratum_alone():
    # Two tasks of very different scales: resampling within each keeps 5 runs of each in every resample,
    # so the pooled IQM barely moves; pooled resampling would swing between the tasks.
    strata = [[0.0, 0.1, 0.0, 0.1, 0.0], [10.0, 10.1, 10.0, 10.1, 10.0]]
    estimate, low, high = iqm_ci(strata)
    assert low <= estimate <= high and high - low < 0.2
    pooled = bootstrap_ci([strata[0] + strata[1]], iqm)
    assert pooled[2] - pooled[1] > 3


def test_median_ci_and_its_edges():
    median, low, high = median_ci([0.9, 1.0, 1.1, 1.2, 0.8])
    assert median == 1.0 and 0.8 <= low <= 1.0 <= high <= 1.2
    assert median_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    assert all(math.isnan(v) for v in median_ci([2.0])[1:])
    with pytest.raises(ValueError, match=r"needs at least one value in every stratum, got sizes \[3, 0\]"):
        bootstrap_ci([[1.0, 2.0, 3.0], []], np.median)


def test_registry_is_one_structure_with_clear_errors():
    assert len({(m.env, m.name) for m in METHODS}) == len(METHODS)
    assert [m.name for m in env_methods("cartpole")] == ["madqn", "madqn_per", "dqn"]
    with pytest.raises(
        ValueError, match=r"Unknown method 'madqnn' for env 'spread'; choose from: madqn, madqn_noper"
    ):
        get_method("spread", "madqnn")
    vdn = get_method("spread", "madqn_vdn").preset()
    assert (vdn["mixer"], vdn["n_steps"], vdn["target_update_interval"]) == ("vdn", 1, 10_000)
    t1k = get_method("spread", "madqn_t1k").preset()
    assert t1k["learning_rate"] == "lin_1e-3" and t1k["buffer_size"] == 1_000_000
    assert t1k["target_update_interval"] == 1000 and "n_timesteps" not in t1k
    dqn = get_method("spread", "supersuit_dqn").preset()
    assert "dueling" not in dqn["policy_kwargs"] and "double_q" not in dqn and "prioritized_replay" not in dqn
    assert not get_method("spread", "scripted").trained and get_method("spread", "ppo").trained


def test_peers_are_registered_but_trained_elsewhere(capsys):
    iql = get_method("spread", "benchmarl_iql")
    assert iql.trained and iql.build is None and iql.policy is None
    assert iql.runner == "benchmarks/benchmarl_spread.py --algos iql"
    assert "benchmarl_qmix" not in [m.name for m in env_methods("spread", runnable=True)]
    assert "benchmarl_qmix" in [m.name for m in env_methods("spread")]
    with pytest.raises(ValueError, match=r"'benchmarl_iql' is trained by benchmarks/benchmarl_spread\.py"):
        build_spread_model("benchmarl_iql", 0, {})
    with pytest.raises(ValueError, match="x: a method with a runner has neither a builder nor a policy"):
        Method("spread", "x", "x", policy=lambda rng: np.zeros, runner="elsewhere.py")
    with pytest.raises(SystemExit):
        learning_main(["--env", "spread", "--methods", "madqn", "benchmarl_qmix", "--steps", "1"])
    assert "benchmarl_qmix is a peer trained outside this script, in a venv of its own: run `python " in (
        capsys.readouterr().err
    )


def _run(method: str, seed: int, final: float, budget: int = 1000, walls: tuple = (10.0, 10.0)) -> dict:
    half = {
        "joint_steps": budget // 2,
        "return_mean": (final - 80) / 2,
        "return_std": 1.0,
        "train_wall_s": walls[0],
    }
    curve = [
        {"joint_steps": 0, "return_mean": -80.0, "return_std": 1.0, "train_wall_s": 0.0},
        *([half] if walls[0] != walls[1] else []),
        {"joint_steps": budget, "return_mean": final, "return_std": 1.0, "train_wall_s": walls[1] + seed},
    ]
    return {
        "env": "spread",
        "method": method,
        "seed": seed,
        "budget": budget,
        "eval_every": budget,
        "eval_episodes": 20,
        "curve": curve,
    }


def test_results_table_by_hand():
    runs = [_run("madqn", s, f) for s, f in ((0, -1.0), (1, -2.0), (2, -3.0))]
    runs += [_run("madqn_noper", s, f) for s, f in ((0, -5.0), (1, -6.0), (2, -7.0))]
    lines, csv_rows = results_page(group_runs(runs), quick=False, run_folder="docs/learning_runs/")
    row = next(line for line in lines if line.startswith("| spread | MADQN (PER, double, dueling) |"))
    # Mean -2, sd 1, t(2) = 4.303: half-width 4.303 / sqrt(3) = 2.48; paper scale 2 * -2 - 75 = -79.
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells[2:7] == ["3 (0, 1, 2)", "1,000", "-2.0 ± 2.5", cells[5], "-79.0"]
    assert cells[5].startswith("-2.0 [") and cells[9] == "11"
    assert cells[10] == (
        "`python benchmarks/learning.py --env spread --methods madqn --seeds 0 1 2 --steps 1000 "
        "--eval-every 1000 --eval-episodes 20`"
    )
    # Difference 4, both sd 1: Welch's df 4, t(4) = 2.776, half-width 2.776 * sqrt(2/3) = 2.27.
    assert any("minus MADQN without PER | 1,000 | 3 vs 3 | 4.0 ± 2.3 (better)" in line for line in lines)
    assert csv_rows[1].startswith("spread,madqn,0 1 2,1000,-2.000,2.484,-2.000,")


def test_peer_rows_and_equal_wall_time_by_hand():
    # MADQN takes 10-12 s for the budget; IQL 40-42 s, and by 11 s it is halfway (-60, -61, -62).
    runs = [_run("madqn", s, f) for s, f in ((0, -30.0), (1, -31.0), (2, -32.0))]
    runs += [_run("benchmarl_iql", s, f, walls=(11.0, 40.0)) for s, f in ((0, -40.0), (1, -42.0), (2, -44.0))]
    assert return_at_wall(runs[3], 10.5) == -80.0 and return_at_wall(runs[3], 11.0) == -60.0
    lines, _ = results_page(group_runs(runs), quick=False, run_folder="docs/learning_runs/")
    row = next(line for line in lines if line.startswith("| spread | BenchMARL IQL"))
    assert row.endswith(
        "`python benchmarks/benchmarl_spread.py --algos iql --seeds 0 1 2 --steps 1000 --eval-every 1000 "
        "--eval-episodes 20` |"
    )
    pair = "| MADQN (PER, double, dueling) minus BenchMARL IQL (its defaults, our batch shape) | 1,000 |"
    # Equal steps: -31 minus -42 = 11; sds 1 and 2, Welch's df 2.94: half-width 3.23 * sqrt(5/3) = 4.17.
    # Over training: -31 minus IQL's -51.5 (its -60/-40, -61/-42, -62/-44 halfway/final); sds 1 and 1.5,
    # Welch's df 3.48: half-width 2.97 * sqrt(1/3 + 2.25/3) = 3.09.
    assert f"{pair} 3 vs 3 | 11.0 ± 4.2 (better) | 20.5 ± 3.1 (better) |" in lines
    # Equal wall time, 12 s (MADQN's slowest seed): -31 against IQL's -61; both sds 1, df 4, half-width
    # 2.776 * sqrt(2/3) = 2.27; each mean's own: 4.303 / sqrt(3) = 2.48.
    assert f"{pair} 12 (12 vs 42) | -31.0 ± 2.5 | -61.0 ± 2.5 | 30.0 ± 2.3 (better) |" in lines


def test_summary_of_one_seed_has_no_interval():
    summary = summarize([_run("madqn", 0, -35.0)])
    assert math.isnan(summary.final[1]) and format_interval(*summary.iqm) == "-35.0 [n/a]"


def test_replace_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"head\n{README_START}\nold\n{README_END}\ntail\n")
    replace_section(str(readme), ["new 1", "new 2"])
    assert readme.read_text() == f"head\n{README_START}\nnew 1\nnew 2\n{README_END}\ntail\n"
    readme.write_text("no markers\n")
    with pytest.raises(
        ValueError, match=r"has no <!-- learning-results:start --> \.\.\. <!-- learning-results:end -->"
    ):
        replace_section(str(readme), ["x"])


def test_readme_shows_the_table_of_the_stored_runs():
    """README.md's learning-results section is what ``benchmarks/learning.py --report --write-readme``
    writes from ``docs/learning_runs/``."""
    runs = load_runs(os.path.join(ROOT, "docs", "learning_runs"))
    lines, _ = results_page(group_runs(runs), quick=False, run_folder="docs/learning_runs/")
    with open(os.path.join(ROOT, "README.md")) as file:
        section = file.read().split(README_START)[1].split(README_END)[0]
    assert section == "\n" + "\n".join(lines[4:]) + "\n"


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    from sb3_marl.benchmark.plot import Level, learning_plots, plot_curves

    groups = group_runs([_run("madqn", 0, -40.0), _run("madqn", 1, -45.0), _run("random", 0, -80.0, 0)])
    learning_plots(groups, "spread", quick=True, docs=str(tmp_path))
    assert (tmp_path / "learning_simple_spread_quick.png").read_bytes()[:4] == b"\x89PNG"
    assert not plot_curves(str(tmp_path / "none.png"), [Level("x", 1.0, "grey", "--")], "t", "x", "y")
    assert not (tmp_path / "none.png").exists()


def test_comparison_with_an_untrained_method_takes_its_level():
    # MADQN on speaker_listener ends at -30, -31, -32 after halfway points of (final - 80) / 2: over
    # training it averages -42.5, -43.25, -44. Random play (budget 0) scores -80 on every seed.
    runs = [_run("madqn", s, f, walls=(5.0, 10.0)) for s, f in ((0, -30.0), (1, -31.0), (2, -32.0))]
    runs += [_run("random", s, -80.0, budget=0) for s in (0, 1, 2)]
    runs = [{**run, "env": "speaker_listener"} for run in runs]
    lines, _ = results_page(group_runs(runs), quick=False, run_folder="docs/learning_runs/")
    # Final: -31 minus -80 = 49, sd 1 against 0 (Welch's df 2): half-width 4.303 / sqrt(3) = 2.48.
    # Over training: -43.25 minus -80 = 36.75, sd 0.75: half-width 4.303 * 0.75 / sqrt(3) = 1.86.
    pair = "| MADQN (double, dueling, agent id) minus random | 1,000 | 3 vs 3 |"
    assert f"{pair} 49.0 ± 2.5 (better) | 36.8 ± 1.9 (better) |" in lines
