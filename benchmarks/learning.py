"""Learning benchmarks: MADQN against its ablations and the usual baselines, several seeds, greedy evaluation.

The methods (their labels, presets and builders) are the registry in ``sb3_marl/benchmark/methods.py``;
how a run is trained and evaluated is ``sb3_marl/benchmark/runs.py``; the statistics, the table and
the plots are ``sb3_marl/benchmark/{stats,report,plot}.py``. This script runs them and stores the runs.

Each run is written to ``docs/learning_runs[_quick]/<env>__<method>__seed<k>.json`` (with
``__<steps>steps`` after the method at a budget other than the default); after every run (and with
``--report``) the table ``docs/results[_quick].md``, its CSV and the plots
``docs/learning_<env>[_quick].png`` are rebuilt from all stored runs, so every number in them comes from
this script. ``--write-readme`` also puts the table into README.md's learning-results section.

The peers in the registry (BenchMARL's ``benchmarl_iql``, ``benchmarl_qmix``, ``benchmarl_vdn``) are trained
in a venv of their own by ``benchmarks/benchmarl_spread.py``, which stores their runs beside ours: this
script refuses to run them, and its report includes them.

The default budget of a PettingZoo task is its MADQN preset's (``n_timesteps`` in
``sb3_marl/hyperparams/madqn.yml`` over its agents): simple_spread 60k joint steps (`make demo`'s),
speaker_listener 200k, pistonball 40k; CartPole's is 50k env steps.

Examples::

    python benchmarks/learning.py --quick                      # a few minutes, 2 seeds, everything
    python benchmarks/learning.py --env spread --methods madqn madqn_noper --seeds 0 1 2
    python benchmarks/learning.py --env spread --methods madqn --steps 1000000 \\
        --eval-every 50000 --eval-episodes 50                  # about 19 minutes a seed on a free core
    python benchmarks/learning.py --env speaker_listener --seeds 0 1 2
    python benchmarks/learning.py --report --write-readme      # rebuild table, plots and README section
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

import torch as th

from sb3_marl.benchmark.methods import ENVS, TASKS, env_methods, get_method
from sb3_marl.benchmark.report import write_results
from sb3_marl.benchmark.runs import run_method
from sb3_marl.files import atomic_write

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
README = os.path.join(ROOT, "README.md")


def default_budget(env: str, quick: bool) -> tuple[int, int]:
    """The default budget and evaluation interval of ``env``, in joint env steps: a PettingZoo task's
    preset budget (``n_timesteps`` over its agents), CartPole's 50k env steps."""
    task = TASKS[env]
    if task.env_id is None:
        return (5_000, 1_000) if quick else (50_000, 2_500)
    return (6_000, 2_000) if quick else (int(task.preset()["n_timesteps"]) // task.n_agents, 5_000)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny budgets, 2 seeds, files flagged _quick")
    parser.add_argument("--env", choices=(*ENVS, "all"), default="all")
    parser.add_argument("--methods", nargs="+", help="default: all of the env's methods (each env's)")
    parser.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 2 (quick: 0 1)")
    parser.add_argument(
        "--steps",
        type=int,
        help="joint env steps per run (default: the task's preset budget; cartpole 50k)",
    )
    parser.add_argument("--eval-every", type=int, help="joint env steps between evaluations")
    parser.add_argument(
        "--eval-episodes", type=int, help="episodes per evaluation (default 20; 100 untrained)"
    )
    parser.add_argument("--report", action="store_true", help="only rebuild the table and plots")
    parser.add_argument(
        "--write-readme", action="store_true", help="also rewrite README.md's learning-results section"
    )
    args = parser.parse_args(argv)
    if args.write_readme and args.quick:
        parser.error("--write-readme takes the full benchmark's runs: leave out --quick")
    envs = list(ENVS) if args.env == "all" else [args.env]
    methods = {env: args.methods or [m.name for m in env_methods(env, runnable=True)] for env in envs}
    try:
        specs = {env: [get_method(env, name) for name in names] for env, names in methods.items()}
    except ValueError as error:
        parser.error(str(error))
    for method in (m for names in specs.values() for m in names if m.runner is not None):
        parser.error(
            f"{method.name} is a peer trained outside this script, in a venv of its own: "
            f"run `python {method.runner}` (see that script's docstring)"
        )
    readme = README if args.write_readme else None

    th.set_num_threads(1)
    folder = os.path.join(DOCS, "learning_runs_quick" if args.quick else "learning_runs")
    os.makedirs(folder, exist_ok=True)
    if args.report:
        print("\n".join(write_results(DOCS, args.quick, readme)))
        return
    seeds = args.seeds or ([0, 1] if args.quick else [0, 1, 2])
    for env in envs:
        default_steps, default_every = default_budget(env, args.quick)
        steps = int(args.steps or default_steps)
        # Runs at another budget than the default are stored beside the default ones, not over them.
        budget_tag = "" if steps == default_steps else f"__{steps}steps"
        every = args.eval_every or default_every
        for method in specs[env]:
            n_eval = args.eval_episodes or ((10 if args.quick else 20) if method.trained else 100)
            for seed in seeds:
                print(f"{env} / {method.name} / seed {seed}: {steps:,} joint steps", flush=True)
                record = run_method(method, seed, steps, every, n_eval)
                record.update(
                    budget=steps if method.trained else 0,
                    eval_every=every,
                    argv=shlex.join([sys.executable, *sys.argv]),
                )
                tag = budget_tag if method.trained else ""
                with atomic_write(
                    os.path.join(folder, f"{env}__{method.name}{tag}__seed{seed}.json"), "w"
                ) as file:
                    json.dump(record, file, indent=1)
                write_results(DOCS, args.quick)
    print("\n".join(write_results(DOCS, args.quick, readme)))


if __name__ == "__main__":
    main()
