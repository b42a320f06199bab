"""Throughput of Ape-X MADQN (sb3_marl.apex) with 1 and 2 Ray actors against single-process MADQN, and a
projection of how many actors one learner can feed (the learning curves: ``apex_learning.py``).

Rates are in wall time (the actors run in other processes), in SB3 timesteps (one per VecEnv slot: a
simple_spread copy adds 3 per step) per second, measured inside ``learn`` between the ends of its first
and last collections (so actor start-up is left out), with the rivals interleaved in alternating order
(benchmarks/timing.py); ratios are medians over rounds with 95% bootstrap intervals.

- collection: no gradient step (``learning_starts`` past the budget): env stepping, acting and storing;
- training: the same replay ratio for all, ``--grad-per-row`` gradient steps per vector step;
- projection: the learner's gradient steps per second (``train``), and its sample + priority update
  rate alone; one actor's collection rate; hence how many actors keep one learner busy at that ratio.

Embedded Ray is started with ``--cpus`` CPUs (each actor reserves one; the learner is this process); on
a machine with fewer cores than actors + 1 the distributed rates measure sharing, not scaling (the
header prints the CPU count and load).

    python benchmarks/apex_throughput.py --quick
    python benchmarks/apex_throughput.py                 # 6 rounds of 6000 timesteps per rival and mode
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from timing import format_ratio, interleave, make_parser, parse, print_header, ratio

from sb3_marl import MADQN, make_vec_env
from sb3_marl.apex import ApexActor, ApexMADQN

ENV = "mpe2.simple_spread_v3"
ENV_KWARGS = {"N": 3, "max_cycles": 25, "continuous_actions": False}
N_COPIES, ROWS = 2, 50  # each env (learner's, each actor's) has 2 copies (6 slots); rounds of 50 rows
# PER for both (MADQN has it off by default, ApexMADQN on)
NET = {
    "policy_kwargs": {"net_arch": [128, 128]},
    "batch_size": 256,
    "n_steps": 3,
    "gamma": 0.95,
    "prioritized_replay": True,
}


def spread(seed: int) -> Any:
    """simple_spread, ``N_COPIES`` copies."""
    return make_vec_env(ENV, n_envs=N_COPIES, seed=seed, env_kwargs=ENV_KWARGS)


class Clock(BaseCallback):
    """Wall time and timesteps at the end of each collection past ``after`` timesteps."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self.marks: list[tuple[float, int]] = []

    def _on_rollout_end(self) -> None:
        if self.num_timesteps > self.after:
            self.marks.append((time.perf_counter(), self.num_timesteps))

    def _on_step(self) -> bool:
        return True

    def rate(self) -> float:
        (t0, n0), (t1, n1) = self.marks[0], self.marks[-1]
        return (n1 - n0) / (t1 - t0)


def build(actors: int, learning_starts: int, grad_per_row: float, seed: int = 0) -> MADQN:
    """Single-process MADQN (``actors=0``) or Ape-X MADQN with ``actors`` actors, at one replay ratio."""
    common = dict(learning_starts=learning_starts, buffer_size=200_000, seed=seed, device="cpu", **NET)
    if actors == 0:
        steps = max(1, round(grad_per_row * ROWS))
        return MADQN("MlpPolicy", spread(seed), train_freq=ROWS, gradient_steps=steps, **common)
    steps = max(1, round(grad_per_row * ROWS * actors))
    return ApexMADQN("MlpPolicy", spread, n_actors=actors, rollout_rows=ROWS, gradient_steps=steps, **common)


def rival(actors: int, timesteps: int, training: bool, grad_per_row: float) -> Callable[[], float]:
    """One timed chunk: a fresh model learns ``timesteps``; its timesteps per wall second."""

    def run() -> float:
        starts = 1000 if training else 10**9
        model = build(actors, starts, grad_per_row)
        clock = Clock(1000 if training else 0)
        model.learn(timesteps + 1000 * training, callback=clock)
        return clock.rate()

    return run


def learner_rates(grad_per_row: float, batches: int) -> tuple[float, float]:
    """The learner's gradient steps per second, and its sample + priority update rate (batches per second)."""
    model = build(0, 1000, grad_per_row)
    model.learn(3000)  # fills the buffer past learning_starts
    start = time.perf_counter()
    model.train(batches, model.batch_size)
    grad_rate = batches / (time.perf_counter() - start)
    buffer = model.replay_buffer
    assert buffer is not None
    start = time.perf_counter()
    for _ in range(batches):
        samples = buffer.sample(model.batch_size, beta=0.4)
        buffer.update_priorities(samples.indices, np.random.random(len(samples.indices)) + 1e-6)
    return grad_rate, batches / (time.perf_counter() - start)


def actor_rate(rounds: int) -> float:
    """One actor's collection rate on its own (this process, no Ray, no learner): timesteps per second of
    ``ApexActor.collect`` with its TD-error priorities."""
    model = build(0, 10**9, 0.25)
    kwargs = dict(observation_space=model.observation_space, action_space=model.action_space,
                  lr_schedule=model.lr_schedule, **model.policy_kwargs)  # fmt: skip
    actor = ApexActor(spread, type(model.policy), kwargs, 0.4, model.n_steps, model.gamma, model.double_q,
                      model.prioritized_replay_eps, seed=1)  # fmt: skip
    actor.collect(ROWS)
    start = time.perf_counter()
    for _ in range(rounds):
        actor.collect(ROWS)
    return rounds * ROWS * actor.env.num_envs / (time.perf_counter() - start)


def main() -> None:
    parser = make_parser(__doc__, {"rounds": 2, "timesteps": 1200, "batches": 20})
    parser.add_argument("--rounds", type=int, default=6, help="timed chunks per rival")
    parser.add_argument("--timesteps", type=int, default=6000, help="timesteps of each timed chunk")
    parser.add_argument("--grad-per-row", type=float, default=0.25, help="gradient steps per vector step")
    parser.add_argument("--batches", type=int, default=200, help="batches timed for the learner's rates")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the embedded Ray (one per actor)")
    args = parse(parser)
    import ray

    th.set_num_threads(1)
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    print_header()
    names = {"single-process": 0, "Ape-X, 1 actor": 1, "Ape-X, 2 actors": 2}
    print(
        f"\n{ENV}, {N_COPIES} copies per env, rounds of {ROWS} rows, "
        f"{args.grad_per_row} gradient steps per row"
    )
    print("| | collection timesteps/s | ratio | training timesteps/s | ratio |")
    print("| --- | --- | --- | --- | --- |")
    table = {}
    for training in (False, True):
        rivals = {n: rival(k, args.timesteps, training, args.grad_per_row) for n, k in names.items()}
        table[training] = interleave(rivals, args.rounds)
    for name in names:
        cells = []
        for training in (False, True):
            rates = table[training]
            cells += [f"{np.median(rates[name]):.0f}", format_ratio(ratio(rates, name, "single-process"))]
        print(f"| {name} | " + " | ".join(cells) + " |")
    grad_rate, sample_rate = learner_rates(args.grad_per_row, args.batches)
    alone = actor_rate(max(2, args.batches // 10))
    seen = float(np.median(table[False]["Ape-X, 1 actor"]))
    slots = 3 * N_COPIES
    feed = grad_rate / args.grad_per_row * slots  # timesteps/s the learner keeps up with at this ratio
    batch = NET["batch_size"]
    print(f"\nlearner: {grad_rate:.0f} gradient steps/s (batch {batch}); sample + priority update alone "
          f"{sample_rate:.0f} batches/s")  # fmt: skip
    print(f"one actor: {alone:.0f} timesteps/s on its own (ApexActor.collect in this process), {seen:.0f} "
          "timesteps/s as the learner receives them (Ape-X, 1 actor, collection)")  # fmt: skip
    bound = sample_rate / grad_rate * feed / alone  # if the gradient step cost nothing more
    print(f"projection: at {args.grad_per_row} gradient steps per row ({slots} slots) one learner keeps up "
          f"with {feed:.0f} timesteps/s, about {feed / alone:.1f} actors on their own cores (at most "
          f"{bound:.1f} if sampling and priority updates alone bound it, as with a fast GPU)")  # fmt: skip
    ray.shutdown()


if __name__ == "__main__":
    main()
