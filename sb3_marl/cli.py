"""The ``sb3-marl`` command line: ``train``, ``eval`` and ``check`` on PettingZoo envs.

Heavy imports (torch, SB3, the envs) happen inside the commands, so that ``--help`` is quick.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import itertools
import os
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import yaml

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

ALGOS = ("madqn", "ppo", "a2c", "dqn", "qrdqn", "maskable_ppo")
MASKED_ALGOS = ("madqn", "maskable_ppo")
DISCRETE_ALGOS = ("madqn", "dqn", "qrdqn", "maskable_ppo")
# Entries of a hyperparameter file that are not arguments of the algorithm.
_ENV_KEYS = (
    "n_timesteps",
    "policy",
    "n_envs",
    "env_kwargs",
    "env_wrapper",
    "agent_indicator",
    "action_mask_in_obs",
    "mixer_overrides",
)
CONFIG_FILE = "config.yml"

Config = TypeVar("Config")


class CLIError(Exception):
    """A user error the command line reports in one line."""


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


def algo_class(algo: str) -> type[BaseAlgorithm]:
    """The SB3 class of an algorithm name."""
    if algo == "madqn":
        from sb3_marl.madqn import MADQN

        return MADQN
    if algo in ("ppo", "a2c", "dqn"):
        import stable_baselines3

        return getattr(stable_baselines3, algo.upper())
    if algo in ("qrdqn", "maskable_ppo"):
        import sb3_contrib

        return sb3_contrib.QRDQN if algo == "qrdqn" else sb3_contrib.MaskablePPO
    raise CLIError(f"Unknown algorithm {algo!r}: choose from {', '.join(ALGOS)}.")


# -- hyperparameters ---------------------------------------------------------------------------------


def _read_yaml(path: str) -> Any:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {path}")
    with open(path) as file:
        try:
            return yaml.safe_load(file)
        except yaml.YAMLError as error:
            raise CLIError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None


def load_hyperparams(algo: str, env_id: str, path: str | None = None) -> dict[str, Any]:
    """The hyperparameters of ``algo`` on ``env_id``: the shipped preset (``sb3_marl/hyperparams/<algo>.yml``,
    keyed by env id, rl-baselines3-zoo style), with the entry for ``env_id`` in the file ``path`` (same
    format) laid over it."""
    preset_file = resources.files("sb3_marl") / "hyperparams" / f"{algo}.yml"
    presets = yaml.safe_load(preset_file.read_text()) if preset_file.is_file() else {}
    params = dict((presets or {}).get(env_id) or {})
    if path is not None:
        entries = _read_yaml(path)
        if not isinstance(entries, dict) or env_id not in entries:
            found = ", ".join(map(str, entries)) if isinstance(entries, dict) else "none"
            raise CLIError(
                f"{path} has no entry for env {env_id!r} (it has: {found}); key its entries by env id."
            )
        params.update(entries[env_id] or {})
    return params


def _import_object(path: str) -> Any:
    module_name, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        raise CLIError(f"Cannot import {path!r} (expected 'module.name').") from None


def env_wrapper(spec: list[Any] | None) -> Callable[[Any], Any] | None:
    """A wrapper applying, in order, the PettingZoo wrappers listed rl-baselines3-zoo style: each item
    a ``"module.function"`` or ``{"module.function": {kwargs}}``."""
    if not spec:
        return None
    steps: list[tuple[Callable[..., Any], dict[str, Any]]] = []
    for item in spec:
        if isinstance(item, str):
            steps.append((_import_object(item), {}))
        elif isinstance(item, dict) and len(item) == 1:
            ((name, kwargs),) = item.items()
            steps.append((_import_object(name), dict(kwargs or {})))
        else:
            raise CLIError(
                f"Bad env_wrapper item {item!r}: give 'module.function' or {{'module.function': {{kwargs}}}}."
            )

    def wrap(env: Any) -> Any:
        for function, kwargs in steps:
            env = function(env, **kwargs)
        return env

    return wrap


def _policy_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``activation_fn`` may be given by name (``ReLU``, ``Tanh``, ...): find it in ``torch.nn``."""
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("activation_fn"), str):
        from torch import nn

        name = kwargs["activation_fn"]
        kwargs["activation_fn"] = getattr(nn, name, None)
        if kwargs["activation_fn"] is None:
            raise CLIError(
                f"Unknown activation_fn {name!r}: give a torch.nn class name such as 'ReLU' or 'Tanh'."
            )
    return kwargs


def parse_schedule(name: str, value: Any) -> Any:
    """A hyperparameter given rl-baselines3-zoo style as ``"lin_<initial>"`` becomes SB3's linear schedule
    from ``<initial>`` down to 0 over the run; any other value is returned as it is."""
    if not (isinstance(value, str) and value.startswith("lin_")):
        return value
    from stable_baselines3.common.utils import LinearSchedule

    try:
        return LinearSchedule(float(value[4:]), 0.0, 1.0)
    except ValueError:
        message = f"Bad schedule {name}={value!r}: give 'lin_<initial value>', e.g. 'lin_1e-3'."
        raise CLIError(message) from None


def _parse_env_kwargs(items: Sequence[str] | None) -> dict[str, Any]:
    kwargs = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"Bad --env-kwargs item {item!r}: give KEY=VALUE.")
        kwargs[key] = yaml.safe_load(value)
    return kwargs


# -- what an env is ----------------------------------------------------------------------------------


@dataclass
class EnvReport:
    """What ``sb3-marl check`` finds out about a PettingZoo env."""

    env_id: str
    name: str
    aec: bool
    agents: list[str]
    observation_spaces: dict[str, Any]
    action_spaces: dict[str, Any]
    slot_observation_space: Any
    slot_action_space: Any
    padded_observations: bool
    padded_actions: bool
    mask_source: str | None
    state_space: Any
    missing_at_reset: bool
    death_observed: bool
    join_observed: bool
    probe_steps: int
    probe_episodes: int
    problem: str | None

    @property
    def needs_masks(self) -> bool:
        return self.mask_source is not None or self.padded_actions

    def fitting_algos(self) -> list[str]:
        from gymnasium import spaces

        if self.problem is not None:
            return []
        if isinstance(self.slot_action_space, spaces.Discrete):
            return list(MASKED_ALGOS) if self.needs_masks else list(ALGOS)
        return [a for a in ALGOS if a not in DISCRETE_ALGOS]


def inspect_env(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    wrapper: Callable[[Any], Any] | None = None,
    probe_steps: int = 300,
) -> EnvReport:
    """Make the env, read its agents and spaces, and play ``probe_steps`` random steps (whole episodes)
    to see whether agents leave or join during an episode."""
    from gymnasium import spaces
    from pettingzoo.utils.env import AECEnv

    from sb3_marl.envs import build_slot_spaces
    from sb3_marl.evaluation import RandomPolicy, make_env, run_episode

    env = make_env(env_id, env_kwargs, wrapper)
    try:
        agents = list(env.possible_agents)
        obs_spaces = {a: env.observation_space(a) for a in agents}
        act_spaces = {a: env.action_space(a) for a in agents}
        problem, slot_obs, slot_act = None, None, None
        try:
            slot = build_slot_spaces(agents, list(obs_spaces.values()), list(act_spaces.values()))
            slot_obs, slot_act = slot.observation_space, slot.action_space
        except ValueError as error:
            problem = str(error)
        mask_source = None
        if any(isinstance(s, spaces.Dict) and "action_mask" in s.spaces for s in obs_spaces.values()):
            mask_source = "observations"
        state_space = getattr(env, "state_space", None)

        starts: list[int] = []
        probe = {"steps": -1, "death": False, "join": False}

        def watch() -> None:
            n = len(env.agents)
            if probe["steps"] < 0:
                starts.append(n)
            elif n > 0:
                probe["death"] = probe["death"] or n < starts[-1]
                probe["join"] = probe["join"] or n > starts[-1]
            probe["steps"] += 1

        if isinstance(env, AECEnv):
            env.reset(seed=0)
            infos = env.infos
        else:
            infos = env.reset(seed=0)[1]
        if mask_source is None and any("action_mask" in info for info in infos.values()):
            mask_source = "infos"
        policy = RandomPolicy(env, seed=0)
        total = 0
        while total < probe_steps and problem is None:
            probe["steps"] = -1
            run_episode(policy, env, seed=len(starts), on_step=watch)
            total += int(probe["steps"])
        return EnvReport(
            env_id=env_id,
            name=str(env.metadata.get("name", env_id)),
            aec=isinstance(env, AECEnv),
            agents=agents,
            observation_spaces=obs_spaces,
            action_spaces=act_spaces,
            slot_observation_space=slot_obs,
            slot_action_space=slot_act,
            padded_observations=len({repr(s) for s in obs_spaces.values()}) > 1,
            padded_actions=len({repr(s) for s in act_spaces.values()}) > 1,
            mask_source=mask_source,
            state_space=state_space,
            missing_at_reset=bool(starts) and min(starts) < len(agents),
            death_observed=bool(probe["death"]),
            join_observed=bool(probe["join"]),
            probe_steps=total,
            probe_episodes=len(starts),
            problem=problem,
        )
    finally:
        env.close()


def _check_algo(algo: str, report: EnvReport) -> None:
    fitting = report.fitting_algos()
    if report.problem is not None:
        raise CLIError(f"The VecEnv cannot handle {report.env_id}: {report.problem}")
    if algo in fitting:
        return
    if algo in DISCRETE_ALGOS and not report.needs_masks:
        why = f"it needs a Discrete action space and {report.env_id} has {report.slot_action_space}"
    else:
        why = f"{report.env_id} has action masks (or padded actions) and {algo} cannot respect them"
    raise CLIError(f"--algo {algo} does not fit: {why}. Algorithms that fit: {', '.join(fitting)}.")


def _auto_policy(observation_space: Any) -> str:
    from gymnasium import spaces
    from stable_baselines3.common.preprocessing import is_image_space

    if isinstance(observation_space, spaces.Dict):
        return "MultiInputPolicy"
    return "CnnPolicy" if is_image_space(observation_space) else "MlpPolicy"


# -- commands ----------------------------------------------------------------------------------------


def _progress_bar(args: argparse.Namespace) -> bool:
    return sys.stderr.isatty() if args.progress_bar is None else bool(args.progress_bar)


def _train(args: argparse.Namespace) -> int:
    from sb3_marl.callbacks import MultiAgentEvalCallback, MultiAgentStatsCallback, save_model
    from sb3_marl.envs import make_vec_env
    from sb3_marl.evaluation import RandomPolicy, evaluate_policy, make_env

    params = load_hyperparams(args.algo, args.env, args.hyperparams)
    env_kwargs = {**(params.get("env_kwargs") or {}), **_parse_env_kwargs(args.env_kwargs)}
    wrapper_spec = params.get("env_wrapper")
    wrapper = env_wrapper(wrapper_spec)
    report = inspect_env(args.env, env_kwargs, wrapper, probe_steps=0)
    _check_algo(args.algo, report)
    cls = algo_class(args.algo)
    algo_kwargs = {k: v for k, v in params.items() if k not in _ENV_KEYS}
    accepted = set(inspect.signature(cls).parameters) - {"policy", "env", "seed", "verbose"}
    unknown = sorted(set(algo_kwargs) - accepted)
    if unknown:
        raise CLIError(f"Unknown hyperparameter(s) for {args.algo}: {', '.join(unknown)}.")
    if "policy_kwargs" in algo_kwargs:
        algo_kwargs["policy_kwargs"] = _policy_kwargs(algo_kwargs["policy_kwargs"])
    if args.mixer:
        if args.algo != "madqn":
            raise CLIError(f"--mixer needs --algo madqn, not {args.algo}.")
        # a preset may tune each mixer: `mixer_overrides: {qmix: {...}}`
        overrides = {"mixer": args.mixer, **(params.get("mixer_overrides") or {}).get(args.mixer, {})}
        algo_kwargs.update(overrides)
        params.update(overrides)
        if int(algo_kwargs.get("n_steps", 1)) > 1:
            print("Note: n-step returns are not supported with a mixer; using n_steps=1.", file=sys.stderr)
            algo_kwargs["n_steps"] = params["n_steps"] = 1
    for name in ("learning_rate", "clip_range"):
        if name in algo_kwargs:
            algo_kwargs[name] = parse_schedule(name, algo_kwargs[name])
    n_envs = args.n_envs or int(params.get("n_envs", 1))
    timesteps = args.timesteps or int(params.get("n_timesteps", 100_000))
    output = args.output or os.path.join("runs", f"{args.algo}_{args.env.rpartition('.')[2]}_s{args.seed}")
    os.makedirs(output, exist_ok=True)
    config = {
        "algo": args.algo,
        "env": args.env,
        "env_kwargs": env_kwargs,
        "env_wrapper": wrapper_spec,
        "agent_indicator": bool(params.get("agent_indicator", False)),
        "action_mask_in_obs": bool(params.get("action_mask_in_obs", False)),
        "n_envs": n_envs,
        "n_timesteps": timesteps,
        "seed": args.seed,
        "hyperparams": {k: v for k, v in params.items() if k not in _ENV_KEYS},
    }
    with open(os.path.join(output, CONFIG_FILE), "w") as file:
        yaml.safe_dump(config, file, sort_keys=False)

    env = make_vec_env(
        args.env,
        n_envs=n_envs,
        seed=args.seed,
        env_kwargs=env_kwargs,
        wrapper_class=wrapper,
        agent_indicator=config["agent_indicator"],
        action_mask_in_obs=config["action_mask_in_obs"],
    )
    policy = params.get("policy") or _auto_policy(env.observation_space)
    model = cls(policy, env, seed=args.seed, verbose=args.verbose, **algo_kwargs)
    run = None
    callbacks: list[Any] = []
    if args.wandb_project:
        from sb3_marl.integrations.wandb import MultiAgentWandbCallback, init_wandb

        name = os.path.basename(os.path.normpath(output))
        run = init_wandb(args.wandb_project, args.wandb_mode, config=config, dir=output, name=name)
        callbacks.append(
            MultiAgentWandbCallback(run, env_id=args.env, env_kwargs=env_kwargs, save_freq=args.save_freq)
        )
    else:
        callbacks.append(MultiAgentStatsCallback())
    if args.eval_freq:
        callbacks.append(
            MultiAgentEvalCallback(
                args.env,
                args.eval_freq,
                args.eval_episodes,
                seed=args.seed,
                env_kwargs=env_kwargs,
                wrapper_class=wrapper,
                best_model_save_path=output,
                verbose=args.verbose,
            )
        )
    try:
        model.learn(timesteps, callback=callbacks, progress_bar=_progress_bar(args))
        path = save_model(model, os.path.join(output, "model.zip"))
        result = evaluate_policy(
            model, args.env, args.eval_episodes, seed=args.seed, env_kwargs=env_kwargs, wrapper_class=wrapper
        )
        random_env = make_env(args.env, env_kwargs, wrapper)
        random = evaluate_policy(
            RandomPolicy(random_env, seed=args.seed), random_env, args.eval_episodes, seed=args.seed
        )
        random_env.close()
    finally:
        env.close()
        if run is not None:
            run.finish()
    print(f"Saved {path}")
    print(f"Team return: {args.algo} {result} | random policy {random}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from sb3_marl.evaluation import check_video_support, evaluate_policy, record_video, write_video

    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"No such model file: {args.model}")
    config_path = os.path.join(os.path.dirname(os.path.abspath(args.model)), CONFIG_FILE)
    config = _read_yaml(config_path) if os.path.isfile(config_path) else {}
    algo = args.algo or config.get("algo")
    env_id = args.env or config.get("env")
    if algo is None or env_id is None:
        raise CLIError(f"No {CONFIG_FILE} beside {args.model}: give --algo and --env.")
    env_kwargs = {**(config.get("env_kwargs") or {}), **_parse_env_kwargs(args.env_kwargs)}
    wrapper = env_wrapper(config.get("env_wrapper"))
    if args.video:
        check_video_support(args.video)
    model = algo_class(algo).load(args.model, device="cpu")
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
    env_kwargs = _parse_env_kwargs(args.env_kwargs)
    r = inspect_env(args.env, env_kwargs, None, args.steps)
    lines = [f"{r.env_id} ({r.name})"]
    if r.aec:
        lines.append(
            "API: AEC (turn-based). Each step the agent whose turn it is acts; the others wait, with "
            "action 0 as their only legal action."
        )
    else:
        lines.append("API: parallel. All live agents act at each step.")
    lines.append(f"Agents ({len(r.agents)}), one VecEnv slot each per env copy (parameter sharing):")
    lines += [f"  {a}: observation {r.observation_spaces[a]}, action {r.action_spaces[a]}" for a in r.agents]
    if r.problem is not None:
        lines.append(f"Cannot handle: {r.problem}")
        print("\n".join(lines))
        return 1
    padding = []
    if r.padded_observations:
        padding.append(f"observations zero-padded to {r.slot_observation_space}")
    if r.padded_actions:
        padding.append(f"actions padded to {r.slot_action_space}, the padding actions masked out")
    lines.append(
        f"Different spaces: {'; '.join(padding)}."
        if padding
        else "Different spaces: no, all agents share them."
    )
    lines.append(f"Slot spaces: observation {r.slot_observation_space}, action {r.slot_action_space}")
    if r.mask_source is not None:
        lines.append(f"Action masks: yes, read from the env's {r.mask_source}; available as action_masks().")
    elif r.padded_actions:
        lines.append("Action masks: from padding only; available as action_masks().")
    else:
        lines.append("Action masks: none from the env.")
    lines.append(
        f"Global state: {r.state_space}, from get_state()."
        if r.state_space is not None
        else "Global state: none."
    )
    seen = f"in {r.probe_steps} random steps ({r.probe_episodes} episodes)"
    if r.missing_at_reset:
        lines.append("Agents absent at reset: yes; their slots are inactive until they join.")
    if r.death_observed:
        lines.append(
            f"Agent death: observed {seen}; dead agents' slots are inactive (info['inactive']) until their "
            "copy resets."
        )
    else:
        lines.append(f"Agent death: not observed {seen}; if it happens, dead agents' slots become inactive.")
    if r.join_observed:
        lines.append(f"Agents joining mid-episode: observed {seen}.")
    lines.append(f"Algorithms that fit: {', '.join(r.fitting_algos())}")
    try:
        lines.append(_try_vec_env(args.env, env_kwargs, min(args.steps, 100)))
    except Exception as error:
        lines.append(f"Cannot handle: making or stepping the VecEnv failed: {type(error).__name__}: {error}")
        print("\n".join(lines))
        return 1
    print("\n".join(lines))
    return 0


def _try_vec_env(env_id: str, env_kwargs: dict[str, Any], steps: int) -> str:
    """Make a VecEnv of one copy and step it with random legal actions."""
    import numpy as np

    from sb3_marl.envs import make_vec_env

    venv = make_vec_env(env_id, n_envs=1, seed=0, env_kwargs=env_kwargs)
    try:
        venv.reset()
        venv.action_space.seed(0)
        rng = np.random.default_rng(0)
        masked = callable(getattr(venv, "action_masks", None)) and venv.slot_spaces.discrete  # type: ignore[attr-defined]
        for _ in range(steps):
            if masked:
                masks = venv.action_masks()  # type: ignore[attr-defined]
                actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
            else:
                actions = np.stack([venv.action_space.sample() for _ in range(venv.num_envs)])
            venv.step(actions)
        return f"VecEnv: {venv.num_envs} slots per env copy, stepped {steps} times with random legal actions."
    finally:
        venv.close()


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
        dest="command", required=True, metavar="{train,eval,check}", parser_class=_Parser
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
        choices=ALGOS,
        help="algorithm: madqn, dqn, qrdqn need Discrete actions; on envs with action masks only madqn and "
        "maskable_ppo fit; ppo and a2c also take continuous actions",
    )
    train.add_argument(
        "--timesteps",
        type=int,
        help="total timesteps (one per agent slot and step; default: the preset's n_timesteps, else 100000)",
    )
    train.add_argument(
        "--mixer",
        choices=("vdn", "qmix"),
        help="with madqn, value decomposition: the team Q is the sum of the agents' Qs (vdn) or a monotonic "
        "mixing network of the global state (qmix); default: independent agents",
    )
    train.add_argument("--seed", type=int, default=0, help="random seed of the model and the envs")
    train.add_argument(
        "--n-envs", type=int, help="number of env copies (default: the preset's n_envs, else 1)"
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
        type=int,
        default=0,
        help="with W&B, save a checkpoint artifact every this many timesteps (0: at the end only)",
    )
    train.add_argument(
        "--eval-freq",
        type=int,
        default=0,
        help="evaluate every this many timesteps and keep best_model.zip (0: never)",
    )
    train.add_argument(
        "--eval-episodes", type=int, default=10, help="episodes of each evaluation and of the final one"
    )
    train.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="SB3 verbosity")
    _add_progress_bar_argument(train)
    train.set_defaults(func=_train)

    evaluate = commands.add_parser(
        "eval",
        help="evaluate a saved model on whole episodes",
        description="Play whole episodes with a saved model and print the team return and each agent's. The "
        "algorithm and env are read from the config.yml that `train` saved beside the model.",
        formatter_class=_HelpFormatter,
    )
    evaluate.add_argument("--model", required=True, metavar="ZIP", help="the saved model")
    _add_env_arguments(evaluate, required=False)
    evaluate.add_argument("--algo", choices=ALGOS, help="algorithm of the model (default: from config.yml)")
    evaluate.add_argument("--episodes", type=int, default=10, help="number of episodes")
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
        help="report what the VecEnv will make of a PettingZoo env",
        description="Inspect a PettingZoo env: API, agents and spaces, padding, action masks, global state, "
        "whether agents die or join (seen in random play), which algorithms fit, and what cannot be handled. "
        "Exits 1 when the VecEnv cannot handle the env.",
        formatter_class=_HelpFormatter,
    )
    _add_env_arguments(check)
    check.add_argument(
        "--steps", type=int, default=300, help="random steps played to look for agents dying or joining"
    )
    check.set_defaults(func=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sb3-marl``; a user error gives one line on stderr and a non-zero exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (CLIError, ValueError, TypeError, FileNotFoundError, ImportError) as error:
        if args.traceback:
            raise
        message = " ".join(str(error).split())
        print(f"sb3-marl {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sb3-marl {args.command}: interrupted", file=sys.stderr)
        return 130


# -- dataclass configs for scripts ---------------------------------------------------------------------


def _field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def parse_config(cls: type[Config], argv: Sequence[str] | None = None) -> Config:
    """Fill a dataclass from the command line: each field ``total_timesteps: int = 1000`` becomes an
    option ``--total-timesteps`` (``--flag/--no-flag`` for booleans), helped by the docstring under it.

    :param cls: a dataclass whose fields are ``int``, ``float``, ``str``, ``bool``, or one of those or None
    :param argv: the arguments (default: ``sys.argv[1:]``)
    """
    docs = _field_docs(cls)
    parser = argparse.ArgumentParser(description=cls.__doc__, formatter_class=_HelpFormatter)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        kind = hints[f.name]
        if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
        option = "--" + f.name.replace("_", "-")
        if kind is bool:
            parser.add_argument(
                option, action=argparse.BooleanOptionalAction, default=default, help=docs.get(f.name)
            )
        else:
            parser.add_argument(option, type=kind, default=default, help=docs.get(f.name))
    return cls(**vars(parser.parse_args(argv)))
