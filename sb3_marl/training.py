"""``train(config)``: exactly what ``sb3-marl train`` runs, as a function (for scripts and sweeps).

Every setting is read and checked first (``plan_run``), so that a bad one fails before anything is
made or written; the model and its ``config.yml`` are saved together after training.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from sb3_marl.algos import AlgoSpec, get_algo
from sb3_marl.config import (
    CONFIG_FILE,
    ENV_KEYS,
    ConfigError,
    check_algo_kwargs,
    check_env_kwargs,
    check_env_settings,
    env_wrapper,
    load_hyperparams,
    parse_schedule,
    policy_kwargs,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from stable_baselines3.common.base_class import BaseAlgorithm

    from sb3_marl.evaluation import EvalResult

MODEL_FILE = "model.zip"


@dataclass
class TrainConfig:
    """A training run, as ``sb3-marl train`` takes it (see ``sb3-marl train --help``).

    :param algo: an algorithm of ``sb3_marl.algos.ALGOS``
    :param env: a PettingZoo env module path, e.g. ``"mpe2.simple_spread_v3"``
    :param seed: seed of the model and the envs
    :param timesteps: total timesteps (None: the preset's ``n_timesteps``, else 100000)
    :param n_envs: env copies (None: the preset's ``n_envs``, else 1)
    :param env_kwargs: env constructor arguments, laid over the preset's
    :param hyperparams_file: a YAML file keyed by env id whose entry is laid over the preset
    :param hyperparams: hyperparameters laid over the preset and the file (e.g. a sweep's)
    :param mixer: a value-decomposition mixer (with the preset's ``mixer_overrides`` for it)
    :param output: folder of ``model.zip`` and ``config.yml`` (None: ``runs/<algo>_<env>_s<seed>``)
    :param wandb_project: log to this W&B project (None: no W&B)
    :param wandb_mode: W&B mode (None: ``$WANDB_MODE``, else offline)
    :param save_freq: with W&B, a checkpoint every this many timesteps (0: at the end only)
    :param eval_freq: evaluate every this many timesteps and keep ``best_model.zip`` (0: never)
    :param eval_episodes: episodes of each evaluation and of the final one
    :param verbose: 0: quiet; 1: a row of team and agent returns, exploration and loss every few seconds
        (``sb3_marl.terminal``); 2: SB3's own output and logger tables instead (their ``ep_rew_mean``: the
        team return for MADQN, one agent's return for the others)
    :param progress_bar: show a progress bar (on stderr)
    :param callbacks: more SB3 callbacks, run after the built-in ones (e.g. a sweep's reporter; not saved)
    """

    algo: str
    env: str
    seed: int = 0
    timesteps: int | None = None
    n_envs: int | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    hyperparams_file: str | None = None
    hyperparams: dict[str, Any] = field(default_factory=dict)
    mixer: str | None = None
    output: str | None = None
    wandb_project: str | None = None
    wandb_mode: str | None = None
    save_freq: int = 0
    eval_freq: int = 0
    eval_episodes: int = 10
    verbose: int = 1
    progress_bar: bool = False
    callbacks: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("timesteps", "n_envs", "eval_episodes"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
        for name in ("save_freq", "eval_freq"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer (0: never), got {value!r}.")


@dataclass
class RunPlan:
    """A ``TrainConfig`` resolved and checked: what ``train`` makes, and the ``config.yml`` it saves."""

    spec: AlgoSpec
    algo_kwargs: dict[str, Any]
    policy: str | None
    env_kwargs: dict[str, Any]
    wrapper: Callable[[Any], Any] | None
    n_envs: int
    timesteps: int
    output: str
    saved_config: dict[str, Any]
    notes: list[str]


@dataclass
class TrainResult:
    """What ``train`` made: the model, where it is saved, and its team return beside a random policy's."""

    model: BaseAlgorithm
    model_path: str
    config_path: str
    team_return: EvalResult
    random_return: EvalResult
    config: dict[str, Any]


def _apply_mixer(config: TrainConfig, params: dict[str, Any], notes: list[str]) -> None:
    """Lay the hyperparameters' ``mixer_overrides`` for ``config.mixer`` over ``params``, saying when
    they change ``n_steps``."""
    if config.mixer is None:
        return
    why = get_algo(config.algo).mixer_misfit(config.mixer, 1)
    if why is not None:
        raise ConfigError(f"{why}.")
    overrides = (params.get("mixer_overrides") or {}).get(config.mixer) or {}
    if "n_steps" in overrides and overrides["n_steps"] != params.get("n_steps", 1):
        notes.append(
            f"sb3-marl: using n_steps={overrides['n_steps']} with --mixer {config.mixer} "
            f"(mixer_overrides.{config.mixer} of the {config.algo} hyperparameters)"
        )
    params.update({"mixer": config.mixer, **overrides})


def plan_run(config: TrainConfig) -> RunPlan:
    """Resolve ``config`` against the presets and check every setting, making nothing but one env (to
    read its spaces) and writing nothing."""
    from sb3_marl.envs import resolve_env
    from sb3_marl.inspection import inspect_env

    spec = get_algo(config.algo)
    resolve_env(config.env)  # an unknown env is named first
    params = load_hyperparams(config.algo, config.env, config.hyperparams_file)
    params.update(config.hyperparams)
    check_env_settings(params)
    notes: list[str] = []
    _apply_mixer(config, params, notes)
    env_kwargs = {
        **check_env_kwargs(config.env, params.get("env_kwargs") or {}, "env_kwargs of the hyperparameters"),
        **check_env_kwargs(config.env, config.env_kwargs, "--env-kwargs"),
    }
    wrapper = env_wrapper(params.get("env_wrapper"))
    report = inspect_env(config.env, env_kwargs, wrapper)
    if report.problem is not None:
        raise ConfigError(f"The VecEnv cannot handle {config.env}: {report.problem}")
    why = spec.misfit(config.env, report.slot_action_space, report.needs_masks)
    if why is not None:
        fitting = ", ".join(report.fitting_algos())
        raise ConfigError(f"--algo {config.algo} does not fit: {why}. Algorithms that fit: {fitting}.")
    algo_kwargs = {k: parse_schedule(k, v) for k, v in params.items() if k not in ENV_KEYS}
    algo_kwargs = check_algo_kwargs(config.algo, spec.load(), algo_kwargs)
    if algo_kwargs.get("mixer") is not None:  # what the library would refuse, refused now
        why = spec.mixer_misfit(algo_kwargs["mixer"], algo_kwargs.get("n_steps", 1))
        if why is not None:
            raise ConfigError(f"{why}.")
    if "policy_kwargs" in algo_kwargs:
        algo_kwargs["policy_kwargs"] = policy_kwargs(algo_kwargs["policy_kwargs"] or {})
    n_envs = config.n_envs if config.n_envs is not None else params.get("n_envs", 1)
    timesteps = config.timesteps if config.timesteps is not None else params.get("n_timesteps", 100_000)
    output = config.output or os.path.join(
        "runs", f"{config.algo}_{config.env.rpartition('.')[2]}_s{config.seed}"
    )
    if os.path.exists(output) and not os.path.isdir(output):
        raise ConfigError(f"--output {output} is a file: give a folder for {MODEL_FILE} and {CONFIG_FILE}.")
    saved_config = {
        "algo": config.algo,
        "env": config.env,
        "env_kwargs": env_kwargs,
        "env_wrapper": params.get("env_wrapper"),
        "agent_indicator": bool(params.get("agent_indicator", False)),
        "action_mask_in_obs": bool(params.get("action_mask_in_obs", False)),
        "n_envs": n_envs,
        "n_timesteps": timesteps,
        "seed": config.seed,
        "hyperparams": {k: v for k, v in params.items() if k not in ENV_KEYS},
    }
    return RunPlan(
        spec,
        algo_kwargs,
        params.get("policy"),
        env_kwargs,
        wrapper,
        n_envs,
        timesteps,
        output,
        saved_config,
        notes,
    )


def _auto_policy(observation_space: Any) -> str:
    from gymnasium import spaces
    from stable_baselines3.common.preprocessing import is_image_space

    if isinstance(observation_space, spaces.Dict):
        return "MultiInputPolicy"
    return "CnnPolicy" if is_image_space(observation_space) else "MlpPolicy"


def save_run(model: BaseAlgorithm, saved_config: dict[str, Any], output: str) -> tuple[str, str]:
    """Save the model, then the ``config.yml`` that describes it, each through a temporary file renamed
    into place: a failure leaves the folder's previous pair as it was.

    :return: the paths of the model and of the config
    """
    from sb3_marl.callbacks import save_model
    from sb3_marl.files import atomic_write

    config_path = os.path.join(output, CONFIG_FILE)
    with atomic_write(config_path, "w") as file:  # renamed into place after the model
        yaml.safe_dump(saved_config, file, sort_keys=False)
        model_path = save_model(model, os.path.join(output, MODEL_FILE))
    return model_path, config_path


def train(config: TrainConfig) -> TrainResult:
    """Train as ``sb3-marl train`` does: check the settings, train one model shared by all agents, save
    it with its ``config.yml`` in the output folder, and evaluate it beside a random policy.

    Notes on what was resolved (e.g. ``n_steps`` from a mixer's overrides) go to stderr.
    """
    from sb3_marl.callbacks import MultiAgentEvalCallback, MultiAgentStatsCallback
    from sb3_marl.envs import make_vec_env
    from sb3_marl.evaluation import RandomPolicy, evaluate_policy, make_env

    plan = plan_run(config)
    for note in plan.notes:
        print(note, file=sys.stderr)
    os.makedirs(plan.output, exist_ok=True)
    saved = plan.saved_config
    env = make_vec_env(
        config.env,
        n_envs=plan.n_envs,
        seed=config.seed,
        env_kwargs=plan.env_kwargs,
        wrapper_class=plan.wrapper,
        agent_indicator=saved["agent_indicator"],
        action_mask_in_obs=saved["action_mask_in_obs"],
    )
    run = None
    try:
        policy = plan.policy or _auto_policy(env.observation_space)
        sb3_verbose = 2 if config.verbose >= 2 else 0
        model = plan.spec.load()(policy, env, seed=config.seed, verbose=sb3_verbose, **plan.algo_kwargs)
        callbacks: list[Any] = []
        if config.verbose == 1:
            from sb3_marl.terminal import TerminalLogCallback

            callbacks.append(TerminalLogCallback(progress_bar=config.progress_bar))
        if config.wandb_project:
            from sb3_marl.integrations.wandb import MultiAgentWandbCallback, init_wandb

            name = os.path.basename(os.path.normpath(plan.output))
            run = init_wandb(
                config.wandb_project, config.wandb_mode, config=saved, dir=plan.output, name=name
            )
            callbacks.append(
                MultiAgentWandbCallback(
                    run, env_id=config.env, env_kwargs=plan.env_kwargs, save_freq=config.save_freq
                )
            )
        else:
            callbacks.append(MultiAgentStatsCallback())
        if config.eval_freq:
            callbacks.append(
                MultiAgentEvalCallback(
                    config.env,
                    config.eval_freq,
                    config.eval_episodes,
                    seed=config.seed,
                    env_kwargs=plan.env_kwargs,
                    wrapper_class=plan.wrapper,
                    best_model_save_path=plan.output,
                    verbose=min(config.verbose, 1),
                )
            )
        callbacks.extend(config.callbacks)
        # the terminal callback draws its own bar
        sb3_bar = config.progress_bar and config.verbose != 1
        model.learn(plan.timesteps, callback=callbacks, progress_bar=sb3_bar)
        model_path, config_path = save_run(model, saved, plan.output)
        result = evaluate_policy(
            model,
            config.env,
            config.eval_episodes,
            seed=config.seed,
            env_kwargs=plan.env_kwargs,
            wrapper_class=plan.wrapper,
        )
        random_env = make_env(config.env, plan.env_kwargs, plan.wrapper)
        try:
            random = evaluate_policy(
                RandomPolicy(random_env, seed=config.seed), random_env, config.eval_episodes, seed=config.seed
            )
        finally:
            random_env.close()
    finally:
        env.close()
        if run is not None:
            run.finish()
    return TrainResult(model, model_path, config_path, result, random, saved)
