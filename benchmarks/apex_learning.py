"""The same learning curve single-process and distributed: MADQN and Ape-X MADQN (sb3_marl.apex) on
simple_spread, team return against joint env steps and against wall seconds.

Both take the `make demo` preset (the mpe2.simple_spread_v3 entry of sb3_marl/hyperparams/madqn.yml) and
are trained and evaluated as the learning benchmark does (``sb3_marl.benchmark.runs.run_method``:
greedy, whole episodes on a separate evaluation env, the team return summed over agents, training wall
time without the evaluations). Ape-X keeps the preset's replay ratio: each actor's env has the preset's
``n_envs`` copies, and after each round (``--rows`` rows of every actor) the learner takes one gradient
step per row (the preset's ``gradient_steps / train_freq``) and pushes its weights. What differs is
how transitions are collected: by ``--actors`` Ray actors with Ape-X's fixed epsilons
(0.4^(1 + 7i/(K-1))) instead of the preset's decaying one, while the learner trains.

Each run is written to ``benchmarks/results/apex_learning/<method>__<steps>steps__seed<k>.json`` (the
learning benchmark's run record, plus the Ape-X settings); after each run the two plots
``benchmarks/results/apex_simple_spread_{steps,wall}.png`` are redrawn from all stored runs of the
budget. The methods alternate their order between seeds.

    python benchmarks/apex_learning.py --steps 60000 --seeds 0      # both methods, seed 0
    python benchmarks/apex_learning.py --steps 60000 --report       # only redraw the plots
"""

from __future__ import annotations

import argparse
import functools
import glob
import json
import os
import shlex
import sys
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_marl.benchmark.methods import Method, get_method, madqn_preset, make_spread_vec_env
from sb3_marl.benchmark.plot import Curve, curve_band, plot_curves
from sb3_marl.benchmark.runs import run_method
from sb3_marl.config import parse_schedule
from sb3_marl.files import atomic_write

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


def apex_method(n_actors: int, rows: int) -> Method:
    """Ape-X MADQN with ``n_actors`` actors and rounds of ``rows`` rows, on the MADQN preset."""

    def build(seed: int, preset: dict[str, Any]) -> BaseAlgorithm:
        from sb3_marl.apex import ApexMADQN

        config = dict(preset)
        env_fn = functools.partial(make_spread_vec_env, config.pop("n_envs"))
        per_row = config.pop("gradient_steps") / config.pop("train_freq")
        steps = max(1, round(per_row * rows * n_actors))
        config["learning_rate"] = parse_schedule("learning_rate", config["learning_rate"])
        return ApexMADQN(
            "MlpPolicy",
            env_fn,
            n_actors=n_actors,
            rollout_rows=rows,
            gradient_steps=steps,
            weight_push_interval=steps,
            seed=seed,
            device="cpu",
            **config,
        )

    label = f"Ape-X MADQN, {n_actors} actor{'s' * (n_actors > 1)}"
    return Method("spread", f"apex{n_actors}", label, madqn_preset(), build)


def runs_of(steps: int) -> dict[str, list[dict[str, Any]]]:
    """The stored runs of budget ``steps``, by label, seeds in order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(glob.glob(os.path.join(RESULTS, "apex_learning", f"*__{steps}steps__seed*.json"))):
        with open(path) as file:
            run = json.load(file)
        groups.setdefault(run["label"], []).append(run)
    return groups


def plot(steps: int) -> list[str]:
    """Redraw the two plots from the stored runs of budget ``steps``; a summary line per method."""
    groups = runs_of(steps)
    lines, by_steps, by_wall = [], [], []
    for label, runs in groups.items():
        x, mean, half = curve_band(runs)
        walls = np.mean([[p["train_wall_s"] for p in r["curve"][: len(x)]] for r in runs], axis=0)
        by_steps.append(Curve(label, x, mean, half))
        by_wall.append(Curve(label, walls, mean, half))
        finals = ", ".join(f"{r['curve'][-1]['return_mean']:.1f}" for r in runs)
        total = ", ".join(f"{r['total_wall_s']:.0f}" for r in runs)
        lines.append(f"{label}: seeds {[r['seed'] for r in runs]}, final team return {finals}; "
                     f"wall s (training, total) {walls[-1]:.0f}, {total}")  # fmt: skip
    title = f"MADQN on simple_spread, {steps:,} joint steps: single-process and Ape-X"
    ylabel = "team return (summed over agents)"
    for name, curves, xlabel in (("steps", by_steps, "joint env steps"), ("wall", by_wall, "wall seconds")):
        path = os.path.join(RESULTS, f"apex_simple_spread_{name}.png")
        if plot_curves(path, curves, title, xlabel, ylabel, fit_means=True):
            lines.append(f"saved {os.path.relpath(path)}")
    return lines


def run_all(args: argparse.Namespace) -> None:
    """Train and store every (seed, method) run, the methods' order alternating between seeds."""
    import ray
    from timing import print_header

    for attempt in range(3):  # on a busy machine the node can miss Ray's 30 s start-up limit
        try:
            ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    print_header()
    methods = [get_method("spread", "madqn"), apex_method(args.actors, args.rows)]
    apex = {"n_actors": args.actors, "rollout_rows": args.rows}
    os.makedirs(os.path.join(RESULTS, "apex_learning"), exist_ok=True)
    for k, seed in enumerate(args.seeds):
        for method in methods if k % 2 == 0 else methods[::-1]:
            print(f"{method.label} / seed {seed}: {args.steps:,} joint steps", flush=True)
            record = run_method(method, seed, args.steps, args.eval_every, args.eval_episodes)
            record.update(
                label=method.label,
                budget=args.steps,
                apex=None if method.name == "madqn" else apex,
                load_average=os.getloadavg(),
                argv=shlex.join([sys.executable, *sys.argv]),
            )
            name = f"{method.name}__{args.steps}steps__seed{seed}.json"
            with atomic_write(os.path.join(RESULTS, "apex_learning", name), "w") as file:
                json.dump(record, file, indent=1)
            plot(args.steps)
    ray.shutdown()


def main(argv: list[str] | None = None) -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--steps", type=int, default=60_000, help="joint env steps per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--actors", type=int, default=2, help="Ape-X actors")
    parser.add_argument("--rows", type=int, default=50, help="rows of each actor's round")
    parser.add_argument("--eval-every", type=int, default=5_000, help="joint env steps between evaluations")
    parser.add_argument("--eval-episodes", type=int, default=20, help="episodes per evaluation")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the embedded Ray (one per actor)")
    parser.add_argument("--report", action="store_true", help="only redraw the plots")
    args = parser.parse_args(argv)
    th.set_num_threads(1)
    if not args.report:
        run_all(args)
    print("\n".join(plot(args.steps)))


if __name__ == "__main__":
    main()
