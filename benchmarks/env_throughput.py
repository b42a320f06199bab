"""Agent-steps per second of sb3_marl.make_vec_env against the raw PettingZoo loop and SuperSuit.

All step the same number of copies of ``mpe2.simple_spread_v3`` in this process, with the same
pre-generated random actions in every chunk, resetting a copy when its episode ends. Each
implementation keeps its envs for the whole run and is timed in many short chunks of this process's
CPU time, interleaved between the implementations in alternating order (benchmarks/timing.py); the
ratios are medians over rounds with 95% bootstrap intervals, and they are the numbers to read.

    python benchmarks/env_throughput.py --quick
    python benchmarks/env_throughput.py --n-envs 8 --rounds 60 --chunk-steps 400   # 4 times as long
"""

from __future__ import annotations

import importlib
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
from timing import cpu_seconds, format_ratio, interleave, make_parser, parse, print_header, ratio, target_line

import sb3_marl

ENV_ID = "mpe2.simple_spread_v3"
TARGET_RAW, TARGET_SUPERSUIT = 0.95, 1.05


class RawLoop:
    """The plain PettingZoo parallel loop: a dict of actions per copy, reset when no agent is left.

    :param make: the env's ``parallel_env``
    :param n_envs: copies
    """

    def __init__(self, make: Callable[[], Any], n_envs: int):
        self.envs = [make() for _ in range(n_envs)]
        for c, env in enumerate(self.envs):
            env.reset(seed=c)
        self.agents = self.envs[0].possible_agents

    def __call__(self, actions: np.ndarray) -> None:
        n = len(self.agents)
        for row in actions:
            row = row.tolist()
            for c, env in enumerate(self.envs):
                env.step(dict(zip(self.agents, row[c * n : (c + 1) * n], strict=True)))
                if not env.agents:
                    env.reset()


class VecLoop:
    """Any SB3 VecEnv: reset once, then step (it resets its copies itself).

    :param venv: the VecEnv
    """

    def __init__(self, venv: Any):
        self.venv = venv
        venv.reset()

    def __call__(self, actions: np.ndarray) -> None:
        for row in actions:
            self.venv.step(row)


def supersuit_venv(make: Callable[[], Any], n_envs: int) -> Any:
    import supersuit as ss

    # No seed(): SuperSuit's SB3 wrapper has none.
    return ss.concat_vec_envs_v1(
        ss.pettingzoo_env_to_vec_env_v1(make()), n_envs, num_cpus=0, base_class="stable_baselines3"
    )


def main() -> None:
    parser = make_parser(__doc__, {"rounds": 10, "chunk_steps": 100})
    parser.add_argument("--n-envs", type=int, default=8, help="env copies (default 8)")
    parser.add_argument("--rounds", type=int, default=30, help="rounds of timed chunks (default 30)")
    parser.add_argument("--chunk-steps", type=int, default=200, help="vector steps per chunk (default 200)")
    args = parse(parser)
    print_header()

    make = importlib.import_module(ENV_ID).parallel_env
    n_agents = len(make().possible_agents)
    n_slots = args.n_envs * n_agents
    n = args.n_envs
    # Ours (monitor on) sits between the two references, so that each of its ratios is of neighbours.
    loops: dict[str, Callable[[np.ndarray], None]] = {
        "raw PettingZoo loop": RawLoop(make, n),
        "sb3_marl (monitor on)": VecLoop(sb3_marl.make_vec_env(ENV_ID, n, seed=0)),
        "SuperSuit concat_vec_envs": VecLoop(supersuit_venv(make, n)),
        "sb3_marl (monitor off)": VecLoop(sb3_marl.make_vec_env(ENV_ID, n, seed=0, monitor=False)),
    }
    rng = np.random.default_rng(0)
    for loop in loops.values():  # warm-up: imports, first allocations
        loop(rng.integers(0, 5, size=(50, n_slots)))
    actions = rng.integers(0, 5, size=(args.chunk_steps, n_slots))
    agent_steps = args.chunk_steps * n_slots

    def chunk(loop: Callable[[np.ndarray], None]) -> Callable[[], float]:
        return lambda: agent_steps / cpu_seconds(lambda: loop(actions))

    rates = interleave({name: chunk(loop) for name, loop in loops.items()}, args.rounds)
    for loop in loops.values():
        if isinstance(loop, VecLoop):
            loop.venv.close()

    print(
        f"{ENV_ID}: {n} copies x {n_agents} agents; {args.rounds} rounds of {args.chunk_steps} vector steps"
        " per implementation; rates: medians over rounds; ratios: median of per-round ratios"
        " [95% bootstrap CI]"
    )
    print(f"{'implementation':<28}{'agent-steps/s':>14}{'/ raw':>26}{'/ SuperSuit':>26}")
    raw, ss = "raw PettingZoo loop", "SuperSuit concat_vec_envs"
    for name, values in rates.items():
        print(
            f"{name:<28}{statistics.median(values):>14,.0f}{format_ratio(ratio(rates, name, raw)):>26}"
            f"{format_ratio(ratio(rates, name, ss)):>26}"
        )
    ours = "sb3_marl (monitor on)"
    print(target_line("ours/raw", ratio(rates, ours, raw), TARGET_RAW))
    print(target_line("ours/SuperSuit", ratio(rates, ours, ss), TARGET_SUPERSUIT))


if __name__ == "__main__":
    main()
