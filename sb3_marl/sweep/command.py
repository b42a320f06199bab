"""The command line of ``sb3-marl sweep``."""

from __future__ import annotations

import argparse
import os

from sb3_marl.config import ConfigError
from sb3_marl.sweep.space import SCHEDULERS, SEARCHES, SweepConfig, parse_grid, read_space
from sb3_marl.sweep.tuner import run_sweep
from sb3_marl.training import TrainConfig


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sb3-marl sweep`` (besides ``--env`` and ``--env-kwargs``, which the CLI adds)."""
    from sb3_marl.algos import ALGOS, MIXERS
    from sb3_marl.cli import NON_NEGATIVE, POSITIVE

    parser.add_argument("--algo", required=True, choices=list(ALGOS), help="algorithm of every trial")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="the seeds each point runs with")
    parser.add_argument(
        "--grid",
        nargs="+",
        metavar="KEY=V1,V2",
        help="preset keys and values to try, e.g. learning_rate=1e-3,5e-4 target_update_interval=1000,10000",
    )
    parser.add_argument("--space", metavar="YAML", help="a YAML file of preset keys and lists of values")
    parser.add_argument(
        "--search",
        choices=SEARCHES,
        default="grid",
        help="grid: every combination; random: --samples combinations; optuna: --samples distinct points "
        "suggested by Optuna",
    )
    parser.add_argument("--samples", type=POSITIVE, default=10, help="points of random search and Optuna")
    parser.add_argument("--search-seed", type=int, default=0, help="seed of random search and Optuna")
    parser.add_argument(
        "--scheduler",
        choices=SCHEDULERS,
        default="fifo",
        help="fifo: every trial runs to its end; asha: stop bad trials at their evaluations",
    )
    parser.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs Ray reserves for each trial")
    parser.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="an existing Ray cluster: auto (on a cluster node) or ray://host:port (default: Ray started "
        "here, sized to the machine); --output must be a folder every node sees",
    )
    parser.add_argument("--num-cpus", type=POSITIVE, help="CPUs of the Ray started here (default: all)")
    parser.add_argument("--timesteps", type=POSITIVE, help="total timesteps of each trial")
    parser.add_argument("--n-envs", type=POSITIVE, help="env copies of each trial")
    parser.add_argument(
        "--hyperparams", metavar="YAML", help="YAML file keyed by env id, laid over the preset"
    )
    parser.add_argument("--mixer", choices=MIXERS, help="with madqn, a value-decomposition mixer")
    parser.add_argument(
        "--output", metavar="DIR", help="the sweep's folder (default: sweeps/<algo>_<env>); rerun to resume"
    )
    parser.add_argument("--wandb-project", default="sb3-marl", help="W&B project of the trials' runs")
    parser.add_argument(
        "--wandb-mode",
        choices=("offline", "online", "disabled"),
        help="W&B mode (default: $WANDB_MODE if set, else offline)",
    )
    parser.add_argument(
        "--eval-freq",
        type=NON_NEGATIVE,
        default=0,
        help="evaluate every this many timesteps and report to Tune (0: only the final evaluation)",
    )
    parser.add_argument("--eval-episodes", type=POSITIVE, default=10, help="episodes of each evaluation")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="Tune's verbosity")
    parser.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    """``sb3-marl sweep``: run the sweep and print its table."""
    from sb3_marl.config import parse_env_kwargs

    space = read_space(args.space) if args.space else {}
    grid = parse_grid(args.grid)
    if set(space) & set(grid):
        raise ConfigError(f"{', '.join(sorted(set(space) & set(grid)))} given both in --space and --grid.")
    output = args.output or os.path.join("sweeps", f"{args.algo}_{args.env.rpartition('.')[2]}")
    train = TrainConfig(
        algo=args.algo,
        env=args.env,
        timesteps=args.timesteps,
        n_envs=args.n_envs,
        env_kwargs=parse_env_kwargs(args.env_kwargs),
        hyperparams_file=args.hyperparams,
        mixer=args.mixer,
        wandb_project=args.wandb_project if args.wandb_mode != "disabled" else None,
        wandb_mode=args.wandb_mode,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
    )
    config = SweepConfig(
        train=train,
        output=output,
        seeds=args.seeds,
        space={**space, **grid},
        search=args.search,
        samples=args.samples,
        search_seed=args.search_seed,
        scheduler=args.scheduler,
        cpus_per_trial=args.cpus_per_trial,
        ray_address=args.ray_address,
        num_cpus=args.num_cpus,
        verbose=args.verbose,
    )
    result = run_sweep(config)
    print("\n".join(result.table))
    stopped = f"; {result.stopped} trials stopped early" if result.stopped else ""
    plot = f" and {result.plot_path}" if result.plot_path else ""
    if result.results and not result.plot_path:
        plot = " (pip install matplotlib for the plot)"
    print(f"{len(result.results)} finished trials{stopped}. Saved {result.table_path}{plot}")
    return 0
