"""Agent-steps per second of sb3_marl.make_vec_env against the raw PettingZoo loop and SuperSuit.

All three step the same number of copies of ``mpe2.simple_spread_v3`` in this process, with the
same pre-generated random actions, resetting a copy when its episode ends. Repetitions alternate
between the implementations and the table reports medians of this process's CPU time
(``time.process_time``), so other work on a busy machine disturbs them little and alike; the
ratios are the numbers to read.

    python benchmarks/env_throughput.py --quick
    python benchmarks/env_throughput.py --n-envs 8 --steps 5000 --repeats 7
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable

import numpy as np

import sb3_marl

ENV_ID = "mpe2.simple_spread_v3"


def raw_loop(make: Callable, n_envs: int, actions: np.ndarray) -> float:
    """The plain PettingZoo parallel loop: a dict of actions per copy, reset when no agent is left."""
    envs = [make() for _ in range(n_envs)]
    for c, env in enumerate(envs):
        env.reset(seed=c)
    agents = envs[0].possible_agents
    n = len(agents)
    start = time.process_time()
    for row in actions:
        row = row.tolist()
        for c, env in enumerate(envs):
            env.step(dict(zip(agents, row[c * n : (c + 1) * n], strict=True)))
            if not env.agents:
                env.reset()
    elapsed = time.process_time() - start
    for env in envs:
        env.close()
    return elapsed


def vec_loop(venv, actions: np.ndarray) -> float:
    """Any SB3 VecEnv: reset once, then step (it resets its copies itself)."""
    venv.reset()
    start = time.process_time()
    for row in actions:
        venv.step(row)
    elapsed = time.process_time() - start
    venv.close()
    return elapsed


def supersuit_venv(make: Callable, n_envs: int):
    import supersuit as ss

    # No seed(): SuperSuit's SB3 wrapper has none.
    return ss.concat_vec_envs_v1(
        ss.pettingzoo_env_to_vec_env_v1(make()), n_envs, num_cpus=0, base_class="stable_baselines3"
    )


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--n-envs", type=int, default=8, help="env copies (default 8)")
    parser.add_argument("--steps", type=int, default=5000, help="vector steps per repetition (default 5000)")
    parser.add_argument("--repeats", type=int, default=7, help="repetitions of each (default 7)")
    parser.add_argument("--quick", action="store_true", help="--steps 600 --repeats 5 (under a minute)")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeats = 600, 5

    make = importlib.import_module(ENV_ID).parallel_env
    n_agents = len(make().possible_agents)
    n_slots = args.n_envs * n_agents
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 5, size=(args.steps, n_slots))

    n = args.n_envs
    runs: dict[str, Callable[[np.ndarray], float]] = {
        "raw PettingZoo loop": lambda a: raw_loop(make, n, a),
        "SuperSuit concat_vec_envs": lambda a: vec_loop(supersuit_venv(make, n), a),
        "sb3_marl (monitor off)": lambda a: vec_loop(
            sb3_marl.make_vec_env(ENV_ID, n, seed=0, monitor=False), a
        ),
        "sb3_marl (monitor on)": lambda a: vec_loop(sb3_marl.make_vec_env(ENV_ID, n, seed=0), a),
    }
    for run in runs.values():  # warm-up: imports, first allocations
        run(actions[:50])
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(args.repeats):  # alternate the order so drifting load hits all alike
        for name in list(runs) if r % 2 == 0 else list(reversed(runs)):
            times[name].append(runs[name](actions))

    agent_steps = args.steps * n_slots
    rate = {name: agent_steps / statistics.median(t) for name, t in times.items()}
    raw, ss_rate = rate["raw PettingZoo loop"], rate["SuperSuit concat_vec_envs"]
    print(f"{ENV_ID}: {args.n_envs} copies x {n_agents} agents, {args.steps} steps, median of {args.repeats}")
    print(f"{'implementation':<28}{'agent-steps/s':>14}{'/ raw':>8}{'/ SuperSuit':>13}")
    for name, value in rate.items():
        print(f"{name:<28}{value:>14,.0f}{value / raw:>8.3f}{value / ss_rate:>13.3f}")
    ours = rate["sb3_marl (monitor on)"]
    print(
        f"targets: ours/raw >= 0.90 -> {ours / raw:.3f} ({'met' if ours / raw >= 0.9 else 'MISSED'}); "
        f"ours/SuperSuit >= 1.00 -> {ours / ss_rate:.3f} ({'met' if ours / ss_rate >= 1.0 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
