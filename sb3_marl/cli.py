"""The ``sb3-marl`` command line: ``train``, ``eval`` and ``check`` on PettingZoo envs.

A thin layer: settings are read and checked in ``sb3_marl.config``, runs made in ``sb3_marl.training``,
envs inspected in ``sb3_marl.inspection``; the algorithms and what they support are declared in
``sb3_marl.algos``. Heavy imports (torch, SB3, the envs) happen inside the commands, so that ``--help``
is quick.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import zipfile
from collections.abc import Callable, Sequence
from typing import NoReturn

import yaml

from sb3_marl.algos import ALGOS, MIXERS, get_algo
from sb3_marl.config import (
    CONFIG_FILE,
    ConfigError,
    check_env_kwargs,
    env_wrapper,
    parse_env_kwargs,
    read_run_config,
)

TRUST = (
    "model.zip (a pickle, as in SB3) and config.yml (its env_wrapper functions are imported and called by "
    "name) run code when loaded: load only files you trust."
)
# What a command line can foresee going wrong: bad settings, files and folders, unreadable saved files.
_USER_ERRORS = (
    ValueError,
    TypeError,
    OSError,
    ImportError,
    EOFError,
    yaml.YAMLError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default when it has one the help text does not already tell."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """Reports a bad command line in one line on stderr (the usage is in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
        if value < minimum:
            what = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
            raise argparse.ArgumentTypeError(f"give {what}, got {value}")
        return value

    parse.__name__ = "count"  # argparse names the type in its messages
    return parse


POSITIVE, NON_NEGATIVE = _count(1), _count(0)


def _positive_seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"give a positive number of seconds, got {text}")
    return value


def _progress_bar(args: argparse.Namespace) -> bool:
    return sys.stderr.isatty() if args.progress_bar is None else bool(args.progress_bar)


# -- commands ----------------------------------------------------------------------------------------


def _train(args: argparse.Namespace) -> int:
    from sb3_marl.training import TrainConfig, train

    config = TrainConfig(
        algo=args.algo,
        env=args.env,
        seed=args.seed,
        timesteps=args.timesteps,
        n_envs=args.n_envs,
        env_kwargs=parse_env_kwargs(args.env_kwargs),
        hyperparams_file=args.hyperparams,
        mixer=args.mixer,
        output=args.output,
        wandb_project=args.wandb_project,
        wandb_mode=args.wandb_mode,
        save_freq=args.save_freq,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
        verbose=args.verbose,
        progress_bar=_progress_bar(args),
    )
    result = train(config)
    print(f"Saved {result.model_path}")
    print(f"Team return: {args.algo} {result.team_return} | random policy {result.random_return}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from sb3_marl.envs import resolve_env
    from sb3_marl.evaluation import evaluate_policy
    from sb3_marl.video import check_video_support, record_video, write_video

    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"No such model file: {args.model}")
    config_path = os.path.join(os.path.dirname(os.path.abspath(args.model)), CONFIG_FILE)
    config = read_run_config(config_path) if os.path.isfile(config_path) else {}
    algo = args.algo or config.get("algo")
    env_id = args.env or config.get("env")
    if algo is None or env_id is None:
        raise ConfigError(f"No {CONFIG_FILE} beside {args.model}: give --algo and --env.")
    resolve_env(env_id)  # an unknown env is named first
    env_kwargs = {
        **check_env_kwargs(env_id, config.get("env_kwargs") or {}, f"env_kwargs of {config_path}"),
        **check_env_kwargs(env_id, parse_env_kwargs(args.env_kwargs), "--env-kwargs"),
    }
    wrapper = env_wrapper(config.get("env_wrapper"))
    if args.video:
        check_video_support(args.video)
    try:
        model = get_algo(algo).load().load(args.model, device="cpu")
    except Exception as error:
        raise ConfigError(
            f"Cannot load {args.model} as a {algo} model ({type(error).__name__}: {error}); give a model.zip "
            "saved by sb3-marl train or SB3, and --algo if it is not the one in config.yml."
        ) from error
    deterministic = not args.stochastic
    result = evaluate_policy(
        model,
        env_id,
        args.episodes,
        deterministic,
        args.seed,
        env_kwargs,
        wrapper,
        progress_bar=_progress_bar(args),
    )
    print(f"Team return: {result}; episode length {result.episode_length_mean:.1f}")
    for agent, mean in result.agent_return_mean.items():
        std, length = result.agent_return_std[agent], result.agent_length_mean[agent]
        print(f"  {agent}: return {mean:.2f} ± {std:.2f}, length {length:.1f}")
    if args.video:
        frames, fps = record_video(model, env_id, env_kwargs, wrapper, deterministic, args.seed)
        write_video(frames, args.video, fps)
        print(f"Saved a video of one episode to {args.video}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from sb3_marl.envs import resolve_env
    from sb3_marl.envs.check import check_env
    from sb3_marl.inspection import inspect_env, report_lines

    resolve_env(args.env)  # an unknown env is named first
    env_kwargs = check_env_kwargs(args.env, parse_env_kwargs(args.env_kwargs), "--env-kwargs")
    vec_env = inspect_env(args.env, env_kwargs)
    found = None
    if args.steps > 0:
        found = check_env(
            args.env,
            env_kwargs,
            agent_indicator=args.agent_indicator,
            max_steps=args.steps,
            max_episodes=args.episodes,
            max_seconds=args.seconds,
            seed=args.seed,
        )
    ok = vec_env.problem is None and (found is None or found.ok)
    if args.json:
        check = None if found is None else found.to_dict()
        print(json.dumps({"ok": ok, "vec_env": vec_env.to_dict(), "check": check}, indent=2))
    else:
        print("\n".join(report_lines(vec_env)))
        if found is not None:
            print(f"\n{found.to_text()}")
    return 0 if ok else 1


# -- the parser ----------------------------------------------------------------------------------------


def _add_env_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--env",
        required=required,
        metavar="MODULE",
        help="PettingZoo env module path, e.g. mpe2.simple_spread_v3, pettingzoo.classic.connect_four_v3 "
        "(its parallel_env is used where it has one, else its AEC env)",
    )
    parser.add_argument(
        "--env-kwargs",
        nargs="+",
        metavar="KEY=VALUE",
        help="env constructor arguments, values read as YAML (e.g. N=2 continuous_actions=false); "
        "they override the preset's env_kwargs",
    )


def _add_progress_bar_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress-bar",
        action=argparse.BooleanOptionalAction,
        help="show a progress bar (default: when stderr is a terminal)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``sb3-marl``."""
    parser = _Parser(
        prog="sb3-marl",
        description="Cooperative multi-agent RL on PettingZoo with Stable-Baselines3: parameter sharing "
        "and MADQN.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--traceback", action="store_true", help="show the full traceback of errors")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{train,eval,check,sweep}", parser_class=_Parser
    )

    train = commands.add_parser(
        "train",
        help="train a model and compare its team return with a random policy's",
        description="Train one model shared by all agents (parameter sharing), save it with its config in "
        "--output, and print its team return (summed over agents) next to a random policy's.",
        formatter_class=_HelpFormatter,
    )
    _add_env_arguments(train)
    train.add_argument(
        "--algo",
        required=True,
        choices=list(ALGOS),
        help="algorithm (`sb3-marl check --env ...` lists those that fit the env): "
        + "; ".join(
            f"{s.name}: {'/'.join(s.action_spaces)} actions{', masks' if s.masks else ''}"
            + (f", mixers {'/'.join(s.mixers)}" if s.mixers else "")
            for s in ALGOS.values()
        ),
    )
    train.add_argument(
        "--timesteps",
        type=POSITIVE,
        help="total timesteps (one per agent slot and step; default: the preset's n_timesteps, else 100000)",
    )
    train.add_argument(
        "--mixer",
        choices=MIXERS,
        help="with madqn, value decomposition: the team Q is the sum of the agents' Qs (vdn) or a monotonic "
        "mixing network of the global state (qmix); default: independent agents",
    )
    train.add_argument("--seed", type=int, default=0, help="random seed of the model and the envs")
    train.add_argument(
        "--n-envs", type=POSITIVE, help="number of env copies (default: the preset's n_envs, else 1)"
    )
    train.add_argument(
        "--hyperparams",
        metavar="YAML",
        help="YAML file keyed by env id, as rl-baselines3-zoo's (see sb3_marl/hyperparams/); its entry for "
        "--env is laid over the shipped preset",
    )
    train.add_argument(
        "--output",
        metavar="DIR",
        help="folder for model.zip, config.yml and the W&B run (default: runs/<algo>_<env>_s<seed>)",
    )
    train.add_argument("--wandb-project", help="log to this W&B project (default: no W&B)")
    train.add_argument(
        "--wandb-mode",
        choices=("offline", "online", "disabled"),
        help="W&B mode (default: $WANDB_MODE if set, else offline; upload an offline run later with "
        "`wandb sync <output>/wandb/offline-run-*`)",
    )
    train.add_argument(
        "--save-freq",
        type=NON_NEGATIVE,
        default=0,
        help="with W&B, save a checkpoint artifact every this many timesteps (0: at the end only)",
    )
    train.add_argument(
        "--eval-freq",
        type=NON_NEGATIVE,
        default=0,
        help="evaluate every this many timesteps and keep best_model.zip (0: never)",
    )
    train.add_argument(
        "--eval-episodes", type=POSITIVE, default=10, help="episodes of each evaluation and of the final one"
    )
    train.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="0: quiet; 1: a row of the team return, each agent's return, exploration and loss every few "
        "seconds; 2: SB3's own output and logger tables instead (their ep_rew_mean: the team return for "
        "madqn, one agent's return for the others)",
    )
    _add_progress_bar_argument(train)
    train.set_defaults(func=_train)

    evaluate = commands.add_parser(
        "eval",
        help="evaluate a saved model on whole episodes",
        description="Play whole episodes with a saved model and print the team return and each agent's. The "
        f"algorithm and env are read from the config.yml that `train` saved beside the model. {TRUST}",
        formatter_class=_HelpFormatter,
    )
    evaluate.add_argument("--model", required=True, metavar="ZIP", help="the saved model")
    _add_env_arguments(evaluate, required=False)
    evaluate.add_argument(
        "--algo", choices=list(ALGOS), help="algorithm of the model (default: from config.yml)"
    )
    evaluate.add_argument("--episodes", type=POSITIVE, default=10, help="number of episodes")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    evaluate.add_argument(
        "--stochastic", action="store_true", help="sample actions instead of taking the greedy ones"
    )
    evaluate.add_argument(
        "--video", metavar="FILE", help="also film one episode to a .gif or .mp4 file (needs imageio)"
    )
    _add_progress_bar_argument(evaluate)
    evaluate.set_defaults(func=_eval)

    check = commands.add_parser(
        "check",
        help="diagnose a PettingZoo env, and say what the VecEnv will make of it",
        description="Read a PettingZoo env's API, agents and spaces, and what the VecEnv makes of them "
        "(padding, action masks, global state, the algorithms that fit); then play it with random legal "
        "actions, bounded by --steps, --episodes and --seconds, and report each finding with its fix: "
        "observations outside their space, non-finite or float64; reward scale and sign per agent, and "
        "agents whose rewards move against each other; determinism under a seed; masks; agents that die; "
        "time limits; speed. Exits 1 on an error or when the VecEnv cannot handle the env.",
        formatter_class=_HelpFormatter,
    )
    _add_env_arguments(check)
    check.add_argument(
        "--steps",
        type=NON_NEGATIVE,
        default=1000,
        help="most env steps of random play (0: read the spaces only)",
    )
    check.add_argument("--episodes", type=POSITIVE, default=50, help="most episodes of random play")
    check.add_argument(
        "--seconds", type=_positive_seconds, default=30.0, help="the most seconds the check may take"
    )
    check.add_argument("--seed", type=int, default=0, help="seed of the first episode and of the actions")
    check.add_argument(
        "--agent-indicator",
        action="store_true",
        help="you train with agent_indicator=True (one-hot agent ids tell different spaces apart)",
    )
    check.add_argument("--json", action="store_true", help="print the findings as one JSON object")
    check.set_defaults(func=_check)

    from sb3_marl.sweep import add_sweep_arguments

    sweep = commands.add_parser(
        "sweep",
        help="run seeds and hyperparameter sweeps as Ray Tune trials (needs sb3-marl[ray])",
        description="Run every (seed, point) as one Ray Tune trial of `sb3-marl train`, each in its own "
        "folder, then write a table (mean ± 95% CI over seeds per point) and the learning curves. Rerun "
        "the same command to resume a stopped sweep.",
        formatter_class=_HelpFormatter,
    )
    _add_env_arguments(sweep)
    add_sweep_arguments(sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sb3-marl``; a user error gives one line on stderr and a non-zero exit code (``--traceback``
    shows the full error)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except _USER_ERRORS as error:
        if args.traceback:
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"sb3-marl {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sb3-marl {args.command}: interrupted", file=sys.stderr)
        return 130
