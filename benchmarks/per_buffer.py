"""sb3_marl's PrioritizedReplayBuffer against cpprb's, and its memory against SB3's ReplayBuffer.

Throughput: ``add`` of one VecEnv step (``--n-envs`` transitions, 18-float32 observations as in
simple_spread, Discrete(5) actions) and ``sample(batch) + update_priorities`` at capacity 1M with
alpha 0.6 and beta 0.4, for both buffers. Ours defers the tree's node updates to the next query,
so every 64th timed add also makes one query, which does the work deferred since. The two buffers
alternate in short chunks timed in this process's CPU time, in alternating order
(benchmarks/timing.py): the adds fill both buffers side by side, so each round's ratio compares
them at the same fill. Ratios are medians over rounds with 95% bootstrap intervals. Higher is better;
ours/cpprb is the number to read.

Memory: the bytes of every NumPy array a 1M-transition buffer holds (storage and sum/min trees),
ours against SB3's ReplayBuffer with the same spaces, and the same comparison by tracemalloc.

    python benchmarks/per_buffer.py --quick
    python benchmarks/per_buffer.py              # fills the whole 1M
"""

from __future__ import annotations

import statistics
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from timing import (
    cpu_seconds,
    format_ratio,
    interleave,
    make_parser,
    parse,
    print_header,
    ratio,
    target_line,
    tree_path,
)

from sb3_marl.buffers import PrioritizedReplayBuffer

OBS_SPACE = spaces.Box(-np.inf, np.inf, (18,), np.float32)
ACT_SPACE = spaces.Discrete(5)
ALPHA, BETA = 0.6, 0.4
TARGET_ADD, TARGET_SAMPLE, TARGET_MEMORY = 2.0, 2.0, 1.10


def make_ours(capacity: int, n_envs: int) -> PrioritizedReplayBuffer:
    return PrioritizedReplayBuffer(capacity, OBS_SPACE, ACT_SPACE, device="cpu", n_envs=n_envs, alpha=ALPHA)


def make_cpprb(capacity: int) -> Any:
    import cpprb

    obs = {"shape": 18, "dtype": np.float32}
    env_dict = {
        "obs": obs,
        "next_obs": obs,
        "act": {"dtype": np.int64},
        "rew": {"dtype": np.float32},
        "done": {"dtype": np.float32},
    }
    return cpprb.PrioritizedReplayBuffer(capacity, env_dict, alpha=ALPHA)


def array_bytes(obj: object, depth: int = 3, seen: set[int] | None = None) -> int:
    """Bytes of the distinct NumPy arrays held by ``obj`` (attributes, lists), ``depth`` levels down."""
    seen = set() if seen is None else seen
    while isinstance(obj, np.ndarray) and isinstance(obj.base, np.ndarray):  # a view: its array, once
        obj = obj.base
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if depth == 0:
        return 0
    if isinstance(obj, list | tuple):
        return sum(array_bytes(item, depth - 1, seen) for item in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return sum(array_bytes(value, depth - 1, seen) for value in vars(obj).values())
    return 0


def traced_bytes(build: Callable[[], object]) -> int:
    tracemalloc.start()
    buffer = build()
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del buffer
    return size


def timed(fn: Callable[[], None], calls: int, per_call: int = 1) -> Callable[[], float]:
    """A chunk: ``calls`` calls of ``fn``, returning ``per_call * calls`` per CPU second."""

    def calls_of_fn() -> None:
        for _ in range(calls):
            fn()

    return lambda: per_call * calls / max(cpu_seconds(calls_of_fn), 1e-9)


def main() -> None:
    parser = make_parser(__doc__, {"fill": 120_000, "samples": 1000})
    parser.add_argument("--capacity", type=int, default=1_000_000)
    parser.add_argument("--n-envs", type=int, default=6, help="transitions per add (VecEnv slots)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--fill", type=int, default=None, help="transitions added (default: capacity)")
    parser.add_argument("--samples", type=int, default=10_000, help="sample+update calls per buffer")
    parser.add_argument("--chunk", type=int, default=100, help="calls per timed chunk")
    args = parse(parser)
    print_header()
    fill = args.fill or args.capacity
    n, batch = args.n_envs, args.batch_size

    rng = np.random.default_rng(0)
    obs = rng.standard_normal((64, n, 18)).astype(np.float32)  # cycled through, so adds copy real data
    acts = rng.integers(0, 5, (64, n, 1))
    rews = rng.standard_normal((64, n)).astype(np.float32)
    dones = (rng.random((64, n)) < 0.04).astype(np.float32)
    infos = [{} for _ in range(n)]
    prios = rng.random((64, batch)) + 1e-6

    ours, theirs = make_ours(args.capacity, n), make_cpprb(args.capacity)
    step = {"ours": 0, "cpprb": 0}

    def add_ours() -> None:
        i = step["ours"] = (step["ours"] + 1) % 64
        ours.add(obs[i], obs[i - 1], acts[i], rews[i], dones[i], infos)
        if i == 0:  # the tree recomputes its nodes lazily, at the next query: count that work here
            ours._tree.total()

    def add_cpprb() -> None:
        i = step["cpprb"] = (step["cpprb"] + 1) % 64
        theirs.add(obs=obs[i], next_obs=obs[i - 1], act=acts[i], rew=rews[i], done=dones[i])

    def sample_ours() -> None:
        i = step["ours"] = (step["ours"] + 1) % 64
        ours.update_priorities(ours.sample(batch, beta=BETA).indices, prios[i])

    def sample_cpprb() -> None:
        i = step["cpprb"] = (step["cpprb"] + 1) % 64
        theirs.update_priorities(theirs.sample(batch, beta=BETA)["indexes"], prios[i])

    add_rounds, sample_rounds = max(fill // n // args.chunk, 2), max(args.samples // args.chunk, 2)
    adds = interleave(
        {"ours": timed(add_ours, args.chunk, n), "cpprb": timed(add_cpprb, args.chunk, n)}, add_rounds
    )
    samples = interleave(
        {"ours": timed(sample_ours, args.chunk), "cpprb": timed(sample_cpprb, args.chunk)}, sample_rounds
    )

    print(
        f"capacity {args.capacity:,}, {fill:,} transitions added ({n} per add), batch {batch}, "
        f"alpha {ALPHA}, beta {BETA}; chunks of {args.chunk} calls, {add_rounds} rounds of adds and "
        f"{sample_rounds} of sample+update; rates: medians over rounds; ratios: median of per-round ratios "
        f"[95% bootstrap CI]; tree: {tree_path()}"
    )
    print(f"{'operation':<34}{'sb3_marl':>12}{'cpprb':>12}{'ours/cpprb':>26}")
    for what, rates in (("add (transitions/s)", adds), ("sample+update (batches/s)", samples)):
        ours_rate, cpprb_rate = statistics.median(rates["ours"]), statistics.median(rates["cpprb"])
        both = f"{ours_rate:>12,.0f}{cpprb_rate:>12,.0f}"
        print(f"{what:<34}{both}{format_ratio(ratio(rates, 'ours', 'cpprb')):>26}")
    print(target_line("add ours/cpprb", ratio(adds, "ours", "cpprb"), TARGET_ADD))
    print(target_line("sample+update ours/cpprb", ratio(samples, "ours", "cpprb"), TARGET_SAMPLE))

    size = 1_000_000
    sb3 = lambda: ReplayBuffer(size, OBS_SPACE, ACT_SPACE, device="cpu", n_envs=n)  # noqa: E731
    per = lambda: make_ours(size, n)  # noqa: E731
    nbytes = array_bytes(per()), array_bytes(sb3())
    traced = traced_bytes(per), traced_bytes(sb3)
    print(f"\nmemory of a {size:,}-transition buffer (MB)")
    print(f"{'measure':<34}{'PER (ours)':>12}{'SB3 Replay':>12}{'ours/SB3':>12}")
    for name, (a, b) in (("NumPy array nbytes", nbytes), ("tracemalloc", traced)):
        print(f"{name:<34}{a / 1e6:>12.1f}{b / 1e6:>12.1f}{a / b:>12.3f}")
    memory = nbytes[0] / nbytes[1]
    verdict = "met" if memory <= TARGET_MEMORY else "MISSED"
    print(f"target: memory ours/SB3 <= {TARGET_MEMORY:.2f} -> {memory:.3f} ({verdict})")


if __name__ == "__main__":
    main()
