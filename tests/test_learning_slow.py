"""Slow learning tests (deselected by default; run with ``make test-slow``): MADQN on simple_spread, and
independent MADQN, VDN and QMIX on the two-step game of ``benchmarks/matrix_game.py``.

MADQN with the `make demo` preset (the mpe2.simple_spread_v3 entry of sb3_marl/hyperparams/madqn.yml)
trains for 300k agent steps (100k joint steps) and is evaluated greedily over 20 team episodes, beside
random play and SB3 DQN on SuperSuit's vector path trained at the same budget, all measured here with
the setup of ``benchmarks/learning.py`` (same env seeds, same evaluation episodes).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.utils import set_random_seed as seed_everything

from benchmarks.matrix_game import outcome, train
from sb3_marl.benchmark.methods import N_AGENTS, build_spread_model, make_spread_vec_env, spread_preset
from sb3_marl.benchmark.runs import evaluate_team, greedy

SEED = 0
JOINT_STEPS = 100_000  # 300k agent steps
N_EVAL = 20


def _greedy_team_return(method: str) -> float:
    """Train ``method`` for JOINT_STEPS and return its mean greedy team return over N_EVAL episodes."""
    seed_everything(SEED)
    model = build_spread_model(method, SEED, spread_preset(method))
    model.learn(total_timesteps=JOINT_STEPS * N_AGENTS)
    eval_env = make_spread_vec_env(4, 100_000 + SEED)
    try:
        return float(np.mean(evaluate_team(greedy(model), eval_env, N_EVAL, 200_000 + SEED)))
    finally:
        model.get_env().close()
        eval_env.close()


@pytest.mark.slow
@pytest.mark.timeout(2_400)
def test_madqn_learns_simple_spread() -> None:
    """MADQN's greedy team return is at least 15 points above random play's, and not more than 5 points
    below SB3 DQN's on SuperSuit at the same budget.

    Measured with ``benchmarks/learning.py --steps 100000`` over seeds 0 to 9 (this test is seed 0):
    MADQN -50.7 ± 2.5, SuperSuit+SB3 DQN -58.3 ± 5.5 (95% CIs); the difference, 7.6 ± 5.8 (Welch), is
    what shows MADQN better. Random play scores about -80, so MADQN is about 30 points above it, hence
    the 15-point margin. On one seed the gap to SuperSuit's DQN varies too much to assert "better"
    with a margin, so the second check only guards against MADQN falling clearly behind it. One run of
    this test (not bit-identical to the benchmark's, which evaluates during training): MADQN -46.6,
    SuperSuit+SB3 DQN -52.1, random -80.0, in 196 s on a shared 2-core CPU with one torch thread."""
    threads = th.get_num_threads()
    th.set_num_threads(1)
    try:
        start = time.time()
        eval_env = make_spread_vec_env(4, 100_000 + SEED)
        rng = np.random.default_rng(SEED)
        uniform = lambda obs, masks: rng.integers(0, 5, len(obs))  # noqa: E731
        random_return = float(np.mean(evaluate_team(uniform, eval_env, 100, 200_000 + SEED)))
        eval_env.close()
        madqn_return = _greedy_team_return("madqn")
        dqn_return = _greedy_team_return("supersuit_dqn")
        print(
            f"simple_spread, {JOINT_STEPS * N_AGENTS:,} agent steps: MADQN {madqn_return:.1f}, "
            f"SuperSuit+SB3 DQN {dqn_return:.1f}, random {random_return:.1f} ({time.time() - start:.0f} s)"
        )
        assert madqn_return >= random_return + 15
        assert madqn_return >= dqn_return - 5
    finally:
        th.set_num_threads(threads)


TWO_STEP_SEEDS = range(5)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_qmix_finds_the_two_step_optimum() -> None:
    """With full exploration (the uniform data of Rashid et al. 2018), QMIX takes 2B and then (1, 1),
    payoff 8, valuing (1, 1) at 8: its monotonic mixing represents 2B's payoffs (TwoStepGame's docstring).

    Measured with ``python -m benchmarks.matrix_game`` (seeds 0 to 9): the optimum on 10 of 10 seeds, the
    value of (1, 1) 8.00 on each; 11 to 19 s a seed on a shared, busy 2-core CPU."""
    outcomes = [outcome(train("qmix", seed, "full")) for seed in TWO_STEP_SEEDS]
    print("QMIX, full exploration:", outcomes)
    optimal = [result for result in outcomes if result.payoff == 8]
    assert len(optimal) >= 4
    assert all(abs(result.value_2b - 8) < 0.5 for result in optimal)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("method", ["vdn", "independent"])
def test_vdn_and_independent_agents_miss_it(method: str) -> None:
    """With the same data, VDN values (1, 1) in 2B near 6.5 (the best sum; at most 7 under the Huber
    loss) and independent agents value a0's action 1 there near 4.5 (a1's average; at most 7): both
    below 2A's 7, so a0 takes 2A and the payoff is 7.

    Measured with ``python -m benchmarks.matrix_game`` (seeds 0 to 9): the optimum on 0 of 10 seeds for
    each; VDN's value of (1, 1) between 5.4 and 7.1 (the Huber loss's flat range), independent a0's
    between 2.5 and 5.8."""
    outcomes = [outcome(train(method, seed, "full")) for seed in TWO_STEP_SEEDS]
    print(f"{method}, full exploration:", outcomes)
    assert sum(result.payoff == 8 for result in outcomes) <= 1
    assert all(result.value_2b < 7.5 for result in outcomes)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("method", ["vdn", "independent"])
def test_decaying_exploration_lets_every_method_find_it(method: str) -> None:
    """Where exploration decays (epsilon from 1 to 0.05 over half the run), the data in 2B gathers on the
    greedy (1, 1), the fits there weigh it most and approach 8, above 2A's 7: VDN and independent agents
    then find the optimum too, so this game shows the mixers' difference only on uniform data.

    Measured with ``python -m benchmarks.matrix_game`` (seeds 0 to 9): QMIX, VDN and independent agents
    each reach the optimum on 10 of 10 seeds, valuing (1, 1) between 7.9 and 8.0."""
    outcomes = [outcome(train(method, seed, "decaying")) for seed in TWO_STEP_SEEDS]
    print(f"{method}, decaying exploration:", outcomes)
    assert sum(result.payoff == 8 for result in outcomes) >= 4
