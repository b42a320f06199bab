"""sb3_marl's PrioritizedReplayBuffer against cpprb's, and its memory against SB3's ReplayBuffer.

Throughput: ``add`` of one VecEnv step (``--n-envs`` transitions, 18-float32 observations as in
simple_spread, Discrete(5) actions) and ``sample(batch) + update_priorities`` at capacity 1M with
alpha 0.6 and beta 0.4, for both buffers. Ours defers the tree's node updates to the next query,
so every 64th timed add also makes one query, which does the work deferred since. The two buffers
alternate in short timed chunks and the table reports the median rate over chunks, in this
process's CPU time, so other work on a busy machine disturbs them little and alike. Higher is
better; ours/cpprb is the number to read.

Memory: the bytes of every NumPy array a 1M-transition buffer holds (storage and sum/min trees),
ours against SB3's ReplayBuffer with the same spaces, and the same comparison by tracemalloc.

    python benchmarks/per_buffer.py --quick
    python benchmarks/per_buffer.py              # fills the whole 1M
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer

from sb3_marl.buffers import PrioritizedReplayBuffer

OBS_SPACE = spaces.Box(-np.inf, np.inf, (18,), np.float32)
ACT_SPACE = spaces.Discrete(5)
ALPHA, BETA = 0.6, 0.4


def make_ours(capacity: int, n_envs: int) -> PrioritizedReplayBuffer:
    return PrioritizedReplayBuffer(capacity, OBS_SPACE, ACT_SPACE, device="cpu", n_envs=n_envs, alpha=ALPHA)


def make_cpprb(capacity: int):
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


def timed(fn: Callable[[], None], calls: int) -> float:
    """Calls per second of ``fn`` over ``calls`` calls, in CPU time."""
    start = time.process_time()
    for _ in range(calls):
        fn()
    return calls / max(time.process_time() - start, 1e-9)


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--capacity", type=int, default=1_000_000)
    parser.add_argument("--n-envs", type=int, default=6, help="transitions per add (VecEnv slots)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--fill", type=int, default=None, help="transitions added (default: capacity)")
    parser.add_argument("--samples", type=int, default=3000, help="sample+update calls per buffer")
    parser.add_argument("--chunk", type=int, default=100, help="calls per timed chunk")
    parser.add_argument("--quick", action="store_true", help="--fill 120000 --samples 1000 (under a minute)")
    args = parser.parse_args()
    if args.quick:
        args.fill, args.samples = 120_000, 1000
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

    keys = ("add ours", "add cpprb", "sample ours", "sample cpprb")
    rates: dict[str, list[float]] = {key: [] for key in keys}
    for c in range(max(fill // n // args.chunk, 1)):  # alternate which goes first
        pair = [("add ours", add_ours), ("add cpprb", add_cpprb)]
        for key, fn in pair if c % 2 == 0 else pair[::-1]:
            rates[key].append(timed(fn, args.chunk) * n)
    for c in range(max(args.samples // args.chunk, 1)):
        pair = [("sample ours", sample_ours), ("sample cpprb", sample_cpprb)]
        for key, fn in pair if c % 2 == 0 else pair[::-1]:
            rates[key].append(timed(fn, args.chunk))
    med = {key: statistics.median(values) for key, values in rates.items()}

    print(
        f"capacity {args.capacity:,}, {fill:,} transitions added ({n} per add), batch {batch}, "
        f"alpha {ALPHA}, beta {BETA}; medians over timed chunks of {args.chunk} calls"
    )
    print(f"{'operation':<34}{'sb3_marl':>12}{'cpprb':>12}{'ours/cpprb':>12}")
    print(
        f"{'add (transitions/s)':<34}{med['add ours']:>12,.0f}{med['add cpprb']:>12,.0f}"
        f"{med['add ours'] / med['add cpprb']:>12.3f}"
    )
    print(
        f"{'sample+update (batches/s)':<34}{med['sample ours']:>12,.0f}{med['sample cpprb']:>12,.0f}"
        f"{med['sample ours'] / med['sample cpprb']:>12.3f}"
    )

    size = 1_000_000
    sb3 = lambda: ReplayBuffer(size, OBS_SPACE, ACT_SPACE, device="cpu", n_envs=n)  # noqa: E731
    per = lambda: make_ours(size, n)  # noqa: E731
    nbytes = array_bytes(per()), array_bytes(sb3())
    traced = traced_bytes(per), traced_bytes(sb3)
    print(f"\nmemory of a {size:,}-transition buffer (MB)")
    print(f"{'measure':<34}{'PER (ours)':>12}{'SB3 Replay':>12}{'ours/SB3':>12}")
    for name, (a, b) in (("NumPy array nbytes", nbytes), ("tracemalloc", traced)):
        print(f"{name:<34}{a / 1e6:>12.1f}{b / 1e6:>12.1f}{a / b:>12.3f}")
    print(
        f"target: memory ours/SB3 <= 1.10 -> {nbytes[0] / nbytes[1]:.3f} "
        f"({'met' if nbytes[0] / nbytes[1] <= 1.1 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
