"""Learning benchmarks: MADQN against its ablation and the usual baselines, several seeds, greedy evaluation.

simple_spread (mpe2 ``simple_spread_v3``: 3 agents, 25 cycles, discrete actions):

- ``madqn``: MADQN (Double DQN, PER, dueling, n-step) with parameter sharing on our VecEnv
- ``madqn_noper``: the same with ``prioritized_replay=False`` (the PER ablation)
- ``madqn_vdn``, ``madqn_qmix``: the same preset with value decomposition (``mixer="vdn"`` / ``"qmix"``)
  and the preset's ``mixer_overrides``: ``n_steps=1`` (a mixer takes 1-step returns only) and a target
  update every 10k timesteps; QMIX with its default mixer sizes; the loss is on the mixed team Q of the
  summed team reward
- ``madqn_lrdecay``, ``madqn_agentid``: tuning trials, the preset with a learning rate decaying linearly
  from 1e-3 to 0 over the run, or with a one-hot agent id appended to observations (``agent_indicator``)
- ``madqn_long``: the preset for long runs (1M joint steps): the decaying learning rate and a replay
  buffer of 1M agent transitions (the preset's 200k hold the last 67k joint steps only)
- ``madqn_long_t10k``: ``madqn_long`` with a target update every 10k timesteps (833 gradient steps)
  instead of 1k (83), as the mixers need: the preset with ``benchmarks/hyperparams/madqn_long.yml``
  laid over it, as ``sb3-marl train --hyperparams`` does
- ``ppo``: SB3 PPO with parameter sharing on our VecEnv
- ``supersuit_dqn``: SB3 DQN on SuperSuit's vector path (``pettingzoo_env_to_vec_env_v1`` +
  ``concat_vec_envs_v1``), whose time-outs are terminal (it never sets ``TimeLimit.truncated``); it has
  no ``seed()``, so torch/numpy/random are seeded here and the env's first reset is seeded
- ``random``, ``nearest`` (each agent heads for its nearest landmark) and ``scripted`` (each agent heads
  for the nearest landmark no other agent is closer to): floor and references

CartPole-v1: ``madqn`` against SB3 ``dqn``, both with the rl-baselines3-zoo CartPole-v1 settings.

Every method is evaluated the same way: greedy actions, whole episodes on a separate evaluation env
(for simple_spread a ``make_vec_env`` env; the TEAM return summed over agents, from the monitor's
``info["team_episode"]``), every ``--eval-every`` env steps. Budgets are in joint env steps (one step of
one env copy = 3 agent steps on simple_spread). Published MPE numbers convert as
``paper = 2 * mpe2 - 75`` for this setting.

Each run is written to ``docs/learning_runs[_quick]/<env>__<method>__seed<k>.json`` (with
``__<steps>steps`` after the method at a budget other than the default); after every run
(and with ``--report``) the table ``docs/results[_quick].md``, its CSV and the plots
``docs/learning_<env>[_quick].png`` are rebuilt from all stored runs, so every number in them comes from
this script.

MADQN, MADQN without PER and SuperSuit's DQN use the `make demo` preset (the mpe2.simple_spread_v3 entry of
sb3_marl/hyperparams/madqn.yml; SB3 DQN has no dueling, Double DQN or PER, and takes the rest); the default
simple_spread budget is that preset's, 60k joint steps. Run longer with ``--steps``; for runs of 1M
joint steps use ``madqn_long_t10k`` (the preset with ``benchmarks/hyperparams/madqn_long.yml``).

Examples::

    python benchmarks/learning.py --quick                      # a few minutes, 2 seeds, everything
    python benchmarks/learning.py --env spread --methods madqn madqn_noper --seeds 0 1 2
    python benchmarks/learning.py --env spread --methods madqn_long_t10k --steps 1000000 \
        --eval-every 50000 --eval-episodes 50                  # about 19 minutes a seed on a free core
    python benchmarks/learning.py --report                     # rebuild table and plots only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shlex
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th
import yaml
from stable_baselines3.common.callbacks import BaseCallback

SPREAD_ID = "mpe2.simple_spread_v3"
SPREAD_KWARGS: dict[str, Any] = {"N": 3, "max_cycles": 25, "continuous_actions": False}
N_AGENTS = 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")

# Published reference, EPyMARL (Papoudakis et al. 2021, arXiv:2006.07869), MPE Spread, paper scale;
# as we read it, not confirmed against the paper's table here.
PUBLISHED = {"QMIX (EPyMARL)": -126.6, "IQL (EPyMARL)": -132.6}


def to_paper(mpe2_return: float) -> float:
    """The published (old MPE, per-agent average) scale of a 3-agent 25-step simple_spread team return."""
    return 2 * mpe2_return - 75


def from_paper(paper_return: float) -> float:
    return (paper_return + 75) / 2


# MADQN (and the DQN baselines) on simple_spread: the `make demo` preset, i.e. the mpe2.simple_spread_v3
# entry of sb3_marl/hyperparams/madqn.yml (see demo_preset()). Its n_timesteps (agent steps) / 3 is the
# default budget in joint env steps.

# SB3 PPO on simple_spread: the project's ppo.yml entry.
PPO_SPREAD: dict[str, Any] = {
    "n_envs": 8,
    "learning_rate": 3e-4,
    "n_steps": 128,
    "batch_size": 256,
    "n_epochs": 10,
    "gamma": 0.95,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.01,
    "policy_kwargs": {"net_arch": [128, 128]},
}

# rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1 (n_timesteps 5e4).
ZOO_CARTPOLE: dict[str, Any] = {
    "learning_rate": 2.3e-3,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 1000,
    "gamma": 0.99,
    "target_update_interval": 10,
    "train_freq": 256,
    "gradient_steps": 128,
    "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04,
    "policy_kwargs": {"net_arch": [256, 256]},
}

SPREAD_METHODS = (
    "madqn",
    "madqn_noper",
    "madqn_vdn",
    "madqn_qmix",
    "madqn_lrdecay",
    "madqn_agentid",
    "madqn_long",
    "madqn_long_t10k",
    "ppo",
    "supersuit_dqn",
    "random",
    "nearest",
    "scripted",
)
UNTRAINED = ("random", "nearest", "scripted")
CARTPOLE_METHODS = ("madqn", "dqn")
LABELS = {
    ("spread", "madqn"): "MADQN (PER, double, dueling)",
    ("spread", "madqn_noper"): "MADQN without PER",
    ("spread", "madqn_vdn"): "MADQN + VDN (n_steps 1, target update 10k)",
    ("spread", "madqn_qmix"): "MADQN + QMIX (n_steps 1, target update 10k)",
    ("spread", "madqn_lrdecay"): "MADQN, learning rate 1e-3 decaying linearly to 0",
    ("spread", "madqn_agentid"): "MADQN, one-hot agent id in observations",
    ("spread", "madqn_long"): "MADQN, long-run settings: learning rate 1e-3 decaying to 0, buffer 1M",
    ("spread", "madqn_long_t10k"): "MADQN, long-run settings and a target update every 10k timesteps",
    ("spread", "ppo"): "SB3 PPO, parameter sharing",
    ("spread", "supersuit_dqn"): "SB3 DQN on SuperSuit's vector path",
    ("spread", "random"): "random",
    ("spread", "nearest"): "scripted: nearest landmark",
    ("spread", "scripted"): "scripted: nearest unclaimed landmark",
    ("cartpole", "madqn"): "MADQN (zoo DQN settings)",
    ("cartpole", "dqn"): "SB3 DQN (zoo settings)",
}


def demo_preset() -> dict[str, Any]:
    """The `make demo` preset: the mpe2.simple_spread_v3 entry of sb3_marl/hyperparams/madqn.yml."""
    path = os.path.join(ROOT, "sb3_marl", "hyperparams", "madqn.yml")
    with open(path) as file:
        entry = dict(yaml.safe_load(file)[SPREAD_ID])
    for key in ("policy", "env_kwargs"):
        entry.pop(key, None)
    return entry


def long_run_settings() -> dict[str, Any]:
    """The long-run overlay (benchmarks/hyperparams/madqn_long.yml) without its budget."""
    with open(os.path.join(ROOT, "benchmarks", "hyperparams", "madqn_long.yml")) as file:
        entry = dict(yaml.safe_load(file)[SPREAD_ID])
    entry.pop("n_timesteps", None)
    return entry


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    th.manual_seed(seed)


# ----------------------------------------------------------------------------------------------------
# Policies without training


def _steer(targets: np.ndarray, vel: np.ndarray) -> np.ndarray:
    """Discrete actions toward relative ``targets``: mpe2's ``_set_action`` maps 0 no-op, 1 left (-x),
    2 right (+x), 3 down (-y), 4 up (+y). The agent steers on ``target - 0.3 * velocity``, so that it
    brakes before it overshoots (0.3 did best among 0, 0.3, 0.5, 1)."""
    steer = targets - 0.3 * vel
    horizontal = np.abs(steer[:, 0]) >= np.abs(steer[:, 1])
    return np.where(horizontal, np.where(steer[:, 0] > 0, 2, 1), np.where(steer[:, 1] > 0, 4, 3)).astype(
        np.int64
    )


def nearest_landmark_actions(obs: np.ndarray) -> np.ndarray:
    """Each agent moves toward its nearest landmark (two agents may pick the same one). simple_spread
    observations are ``[self_vel(2), self_pos(2), landmark_rel(3*2), other_agent_rel(2*2), comm(4)]``."""
    obs = np.asarray(obs).reshape(len(obs), -1)
    rel = obs[:, 4:10].reshape(-1, 3, 2)
    nearest = rel[np.arange(len(obs)), np.linalg.norm(rel, axis=2).argmin(axis=1)]
    return _steer(nearest, obs[:, 0:2])


def scripted_actions(obs: np.ndarray) -> np.ndarray:
    """Each agent moves toward the nearest landmark that no other agent is closer to: from its own
    observation it computes the greedy assignment (closest agent-landmark pair first, then the closest
    of the rest, ...), which every agent computes alike, and heads for the landmark it is assigned."""
    obs = np.asarray(obs).reshape(len(obs), -1)
    landmarks = obs[:, 4:10].reshape(-1, 3, 2)
    agents = np.concatenate([np.zeros((len(obs), 1, 2)), obs[:, 10:14].reshape(-1, 2, 2)], axis=1)
    targets = np.zeros((len(obs), 2))
    for row in range(len(obs)):
        dist = np.linalg.norm(landmarks[row][None, :, :] - agents[row][:, None, :], axis=2)
        while True:
            agent, landmark = np.unravel_index(np.argmin(dist), dist.shape)
            if agent == 0:
                targets[row] = landmarks[row, landmark]
                break
            dist[agent, :] = np.inf
            dist[:, landmark] = np.inf
    return _steer(targets, obs[:, 0:2])


# ----------------------------------------------------------------------------------------------------
# Evaluation


def make_spread_vec_env(n_envs: int, seed: int, agent_indicator: bool = False) -> Any:
    from sb3_marl.envs import make_vec_env

    return make_vec_env(
        SPREAD_ID, n_envs=n_envs, seed=seed, env_kwargs=SPREAD_KWARGS, agent_indicator=agent_indicator
    )


def evaluate_spread(
    act: Callable[[np.ndarray], np.ndarray], venv: Any, n_episodes: int, seed: int
) -> list[float]:
    """Team returns (summed over agents) of ``n_episodes`` whole episodes on a monitored ``make_vec_env``
    env, each copy playing its share (``info["team_episode"]["r"]``). The env is re-seeded each time, so
    every evaluation of a run sees the same episodes."""
    n_copies = venv.num_envs // N_AGENTS
    targets = [(n_episodes + c) // n_copies for c in range(n_copies)]
    counts = [0] * n_copies
    returns: list[float] = []
    venv.seed(seed)
    obs = venv.reset()
    while any(n < t for n, t in zip(counts, targets, strict=True)):
        obs, _, _, infos = venv.step(act(obs))
        for c in range(n_copies):
            team = infos[c * N_AGENTS].get("team_episode")
            if team is not None and counts[c] < targets[c]:
                returns.append(float(team["r"]))
                counts[c] += 1
    return returns


def evaluate_cartpole(model: Any, env: Any, n_episodes: int, seed: int) -> list[float]:
    from stable_baselines3.common.evaluation import evaluate_policy

    env.seed(seed)
    returns, _ = evaluate_policy(
        model, env, n_eval_episodes=n_episodes, deterministic=True, return_episode_rewards=True
    )
    return [float(r) for r in returns]


def greedy(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    return lambda obs: model.predict(obs, deterministic=True)[0]


class EvalCallback(BaseCallback):
    """Evaluates at the start and every ``every`` SB3 timesteps (agent steps) during ``learn()``, timing
    training apart from evaluation.

    :param evaluate: returns the episode returns of one evaluation
    :param every: SB3 timesteps between evaluations
    :param per_joint: SB3 timesteps per joint env step (the number of agents)
    """

    def __init__(self, evaluate: Callable[[], list[float]], every: int, per_joint: int):
        super().__init__()
        self.evaluate, self.every, self.per_joint = evaluate, every, per_joint
        self.next_eval = every
        self.curve: list[dict[str, float]] = []
        self.eval_time = 0.0
        self.start = 0.0

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()
        self.record()

    def record(self) -> None:
        began = time.perf_counter()
        returns = self.evaluate()
        self.eval_time += time.perf_counter() - began
        point = {
            "joint_steps": self.num_timesteps // self.per_joint,
            "return_mean": float(np.mean(returns)),
            "return_std": float(np.std(returns)),
            "train_wall_s": time.perf_counter() - self.start - self.eval_time,
        }
        self.curve.append(point)
        print(
            f"  joint steps {point['joint_steps']:>9,d}  return {point['return_mean']:8.2f}  "
            f"train {point['train_wall_s']:7.1f}s",
            flush=True,
        )

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_eval:
            self.next_eval += self.every
            self.record()
        return True


# ----------------------------------------------------------------------------------------------------
# Runs


def build_spread_model(method: str, seed: int, preset: dict[str, Any]) -> Any:
    """The model of one simple_spread method and its training env."""
    config = dict(preset)
    n_envs = config.pop("n_envs")
    if method in MADQN_METHODS:
        from sb3_marl.cli import parse_schedule
        from sb3_marl.madqn import MADQN

        env = make_spread_vec_env(n_envs, seed, config.pop("agent_indicator", False))
        config["learning_rate"] = parse_schedule("learning_rate", config["learning_rate"])
        return MADQN("MlpPolicy", env, seed=seed, device="cpu", **config)
    if method == "ppo":
        from stable_baselines3 import PPO

        return PPO("MlpPolicy", make_spread_vec_env(n_envs, seed), seed=seed, device="cpu", **config)
    if method == "supersuit_dqn":
        import supersuit
        from mpe2 import simple_spread_v3
        from stable_baselines3 import DQN

        for key in ("double_q", "prioritized_replay"):
            config.pop(key, None)
        config["policy_kwargs"] = {k: v for k, v in config.get("policy_kwargs", {}).items() if k != "dueling"}
        env = supersuit.pettingzoo_env_to_vec_env_v1(simple_spread_v3.parallel_env(**SPREAD_KWARGS))
        env = supersuit.concat_vec_envs_v1(env, n_envs, num_cpus=0, base_class="stable_baselines3")
        seed_everything(seed)  # DQN(seed=...) raises: SuperSuit's VecEnv has no seed()
        # Its reset(seed=...) calls the missing seed() too: seed the copies' generators through the inner
        # ConcatVecEnv; SB3's unseeded reset in learn() keeps them.
        env.venv.reset(seed=seed)
        return DQN("MlpPolicy", env, device="cpu", **config)
    raise ValueError(method)


# MADQN variants on simple_spread: changes to the demo preset.
MADQN_METHODS: dict[str, dict[str, Any]] = {
    "madqn": {},
    "madqn_noper": {"prioritized_replay": False},
    "madqn_vdn": {"mixer": "vdn"},
    "madqn_qmix": {"mixer": "qmix"},
    "madqn_lrdecay": {"learning_rate": "lin_1e-3"},
    "madqn_agentid": {"agent_indicator": True},
    "madqn_long": {"learning_rate": "lin_1e-3", "buffer_size": 1_000_000},
    "madqn_long_t10k": long_run_settings(),
}


def spread_preset(method: str) -> dict[str, Any]:
    """The hyperparameters of a trained simple_spread method (as stored with its runs)."""
    if method == "ppo":
        return dict(PPO_SPREAD)
    base = demo_preset()
    base.pop("n_timesteps", None)
    mixer_overrides = base.pop("mixer_overrides", {})
    base.update(MADQN_METHODS.get(method, {}))
    base.update(mixer_overrides.get(base.get("mixer"), {}))  # the preset's settings for the mixer
    return base


def run_spread(method: str, seed: int, joint_steps: int, eval_every: int, n_eval: int) -> dict[str, Any]:
    eval_env = make_spread_vec_env(
        4, 100_000 + seed, MADQN_METHODS.get(method, {}).get("agent_indicator", False)
    )
    eval_seed = 200_000 + seed
    record: dict[str, Any] = {"env": "spread", "method": method, "seed": seed, "eval_episodes": n_eval}
    if method in UNTRAINED:
        rng = np.random.default_rng(seed)
        act = {
            "random": lambda obs: rng.integers(0, 5, len(obs)),
            "nearest": nearest_landmark_actions,
            "scripted": scripted_actions,
        }[method]
        returns = evaluate_spread(act, eval_env, n_eval, eval_seed)
        record.update(
            curve=[
                {
                    "joint_steps": 0,
                    "return_mean": float(np.mean(returns)),
                    "return_std": float(np.std(returns)),
                    "train_wall_s": 0.0,
                }
            ],
            hyperparams={},
        )
        print(
            f"  {method}: {np.mean(returns):.2f} ± {np.std(returns):.2f} over {n_eval} episodes", flush=True
        )
        eval_env.close()
        return record
    preset = spread_preset(method)
    model = build_spread_model(method, seed, preset)
    callback = EvalCallback(
        lambda: evaluate_spread(greedy(model), eval_env, n_eval, eval_seed), eval_every * N_AGENTS, N_AGENTS
    )
    began = time.perf_counter()
    model.learn(total_timesteps=joint_steps * N_AGENTS, callback=callback)
    if callback.curve[-1]["joint_steps"] < model.num_timesteps // N_AGENTS:
        callback.record()
    record.update(curve=callback.curve, hyperparams=preset, total_wall_s=time.perf_counter() - began)
    model.get_env().close()
    eval_env.close()
    return record


def run_cartpole(method: str, seed: int, steps: int, eval_every: int, n_eval: int) -> dict[str, Any]:
    from stable_baselines3 import DQN
    from stable_baselines3.common.env_util import make_vec_env

    from sb3_marl.madqn import MADQN

    env = make_vec_env("CartPole-v1", n_envs=1, seed=seed)
    eval_env = make_vec_env("CartPole-v1", n_envs=1, seed=100_000 + seed)
    cls = MADQN if method == "madqn" else DQN
    model = cls("MlpPolicy", env, seed=seed, device="cpu", **ZOO_CARTPOLE)
    callback = EvalCallback(lambda: evaluate_cartpole(model, eval_env, n_eval, 200_000 + seed), eval_every, 1)
    began = time.perf_counter()
    model.learn(total_timesteps=steps, callback=callback)
    if callback.curve[-1]["joint_steps"] < model.num_timesteps:
        callback.record()
    record = {
        "env": "cartpole",
        "method": method,
        "seed": seed,
        "eval_episodes": n_eval,
        "curve": callback.curve,
        "hyperparams": ZOO_CARTPOLE,
        "total_wall_s": time.perf_counter() - began,
    }
    env.close()
    eval_env.close()
    return record


# ----------------------------------------------------------------------------------------------------
# Report

# Two-sided 95% quantiles of Student's t by degrees of freedom; past 30 the value at 30 (conservative).
T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145)
T95 += (2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048)
T95 += (2.045, 2.042)


def t95(df: float) -> float:
    """The 95% t quantile for ``df`` degrees of freedom, rounded down (so a wider interval)."""
    return T95[min(max(int(df), 1), len(T95)) - 1]


def mean_ci(values: list[float] | np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its 95% confidence interval (Student's t over seeds; nan for one value)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float(values.mean()), math.nan
    half = t95(len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return float(values.mean()), float(half)


def difference_ci(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean of ``a`` minus mean of ``b`` and the half-width of its 95% CI (Welch; nan under 2 seeds)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if min(len(x), len(y)) < 2:
        return float(x.mean() - y.mean()), math.nan
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    if vx + vy == 0:
        return float(x.mean() - y.mean()), 0.0
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    return float(x.mean() - y.mean()), t95(df) * math.sqrt(vx + vy)


def training_mean(run: dict[str, Any]) -> float:
    """A run's return averaged over its evaluations after the start (the area under its curve)."""
    return float(np.mean([point["return_mean"] for point in run["curve"] if point["joint_steps"] > 0]))


def best(run: dict[str, Any]) -> float:
    """A run's best evaluation (EPyMARL reports the maximum over training)."""
    return max(point["return_mean"] for point in run["curve"])


# Side-by-side comparisons at equal budgets: (env, method, against).
COMPARISONS = (
    ("spread", "madqn", "supersuit_dqn"),
    ("spread", "madqn", "madqn_noper"),
    ("spread", "madqn", "ppo"),
    ("spread", "madqn_vdn", "madqn"),
    ("spread", "madqn_qmix", "madqn"),
    ("spread", "madqn_long_t10k", "madqn_long"),
    ("cartpole", "madqn", "dqn"),
)


def run_dir(quick: bool) -> str:
    return os.path.join(DOCS, "learning_runs_quick" if quick else "learning_runs")


def load_runs(quick: bool) -> list[dict[str, Any]]:
    folder = run_dir(quick)
    if not os.path.isdir(folder):
        return []
    runs = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as file:
                runs.append(json.load(file))
    return runs


def command_for(env: str, method: str, seeds: list[int], run: dict[str, Any], quick: bool) -> str:
    parts = [
        "python",
        "benchmarks/learning.py",
        "--env",
        env,
        "--methods",
        method,
        "--seeds",
        *map(str, seeds),
    ]
    if quick:
        parts.append("--quick")
    if method not in UNTRAINED:
        parts += ["--steps", str(run["budget"]), "--eval-every", str(run["eval_every"])]
    parts += ["--eval-episodes", str(run["eval_episodes"])]
    return shlex.join(parts)


def _order(item: tuple[tuple[str, str, int], Any]) -> tuple[int, int]:
    """Table and legend order: the methods as listed in SPREAD_METHODS and CARTPOLE_METHODS, then budget."""
    env, method, budget = item[0]
    methods = SPREAD_METHODS if env == "spread" else CARTPOLE_METHODS
    return methods.index(method), budget


def report(quick: bool, echo: bool = True) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = load_runs(quick)
    suffix = "_quick" if quick else ""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["env"], run["method"], run.get("budget", 0)), []).append(run)

    rows, csv_rows = (
        [],
        [
            "env,method,seeds,joint_steps,return_mean,return_ci95,paper_scale,training_mean,training_mean_ci95,"
            "best_mean,best_ci95,train_wall_s,command"
        ],
    )
    for env in ("spread", "cartpole"):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        plotted = False
        for (g_env, method, _budget), group in sorted(groups.items(), key=_order):
            if g_env != env:
                continue
            group = sorted(group, key=lambda r: r["seed"])
            seeds = [r["seed"] for r in group]
            finals = [r["curve"][-1]["return_mean"] for r in group]
            walls = [r["curve"][-1]["train_wall_s"] for r in group]
            steps = max(r["curve"][-1]["joint_steps"] for r in group)
            mean, half = mean_ci(finals)
            paper = f"{to_paper(mean):.1f}" if env == "spread" else ""
            cmd = command_for(env, method, seeds, group[0], quick)
            label = LABELS[(env, method)]
            if method in UNTRAINED:
                over_training = over_best = (math.nan, math.nan)
            else:
                over_training = mean_ci([training_mean(r) for r in group])
                over_best = mean_ci([best(r) for r in group])
            rows.append(
                f"| {env} | {label} | {len(seeds)} ({', '.join(map(str, seeds))}) | {steps:,} | "
                f"{_pm(mean, half)} | {paper} | {_pm(*over_training)} | {_pm(*over_best)} | "
                f"{np.mean(walls):.0f} | `{cmd}` |"
            )
            csv_rows.append(
                f"{env},{method},{' '.join(map(str, seeds))},{steps},{mean:.3f},{half:.3f},{paper},"
                f"{over_training[0]:.3f},{over_training[1]:.3f},{over_best[0]:.3f},{over_best[1]:.3f},"
                f'{np.mean(walls):.1f},"{cmd}"'
            )
            if method in UNTRAINED:
                ax.axhline(
                    mean,
                    linestyle="--",
                    color={"random": "grey", "nearest": "tab:brown", "scripted": "black"}[method],
                    linewidth=1,
                    label=f"{label} ({mean:.1f})",
                )
                continue
            n_points = min(len(r["curve"]) for r in group)
            x = np.array([group[0]["curve"][k]["joint_steps"] for k in range(n_points)])
            ys = np.array([[r["curve"][k]["return_mean"] for k in range(n_points)] for r in group])
            stats = [mean_ci(ys[:, k]) for k in range(n_points)]
            mu = np.array([s[0] for s in stats])
            hw = np.nan_to_num(np.array([s[1] for s in stats]))
            (line,) = ax.plot(x, mu, label=f"{label} ({len(seeds)} seeds, {steps // 1000}k)")
            ax.fill_between(x, mu - hw, mu + hw, alpha=0.2, color=line.get_color())
            plotted = True
        if env == "spread":
            for name, value in PUBLISHED.items():
                ax.axhline(
                    from_paper(value),
                    linestyle=":",
                    linewidth=1,
                    color="tab:red" if "IQL" in name else "tab:purple",
                    label=f"{name}, {value} paper = {from_paper(value):.1f} mpe2",
                )
            ax.set_ylabel("greedy team return (sum over 3 agents)")
            ax.set_title("simple_spread_v3 (3 agents, 25 cycles)" + (" — quick" if quick else ""))
        else:
            ax.set_ylabel("greedy episode return")
            ax.set_title("CartPole-v1" + (" — quick" if quick else ""))
        ax.set_xlabel("joint env steps" if env == "spread" else "env steps")
        if plotted and env == "spread":  # with few seeds the t bands are wide: keep the means in view
            means = [line.get_ydata() for line in ax.get_lines()]
            low = min(float(np.min(m)) for m in means) - 15
            high = max(float(np.max(m)) for m in means) + 10
            ax.set_ylim(low, high)
        if plotted:
            ax.legend(fontsize=7, loc="lower right")
            ax.grid(alpha=0.3)
            fig.tight_layout()
            fig.savefig(
                os.path.join(DOCS, f"learning_{'simple_spread' if env == 'spread' else env}{suffix}.png"),
                dpi=120,
            )
        plt.close(fig)

    lines = [
        f"# Learning results{' (QUICK: tiny budgets, 2 seeds, not the real benchmark)' if quick else ''}",
        "",
        "Written by `benchmarks/learning.py` from the runs in "
        f"`docs/{os.path.basename(run_dir(quick))}/`; do not edit by hand.",
        "",
        "Return: greedy policy, whole episodes on a separate evaluation env, at the last evaluation of each "
        "run; mean ± 95% CI (Student's t) over seeds. simple_spread: team return summed over the 3 agents "
        "(mpe2 scale); paper scale = 2 * mpe2 - 75. Over training: each run's evaluations after the start, "
        "averaged. Best: each run's best evaluation (as EPyMARL reports). Wall time: training only "
        "(evaluation excluded), mean over seeds, on a shared 2-core CPU with `torch.set_num_threads(1)`.",
        "",
        "| env | method | seeds | joint steps | return | paper scale | over training | best "
        "| train wall (s) | command |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        *_comparisons(groups),
        "Published reference for simple_spread (EPyMARL, Papoudakis et al. 2021, arXiv:2006.07869; "
        "as we read it, unconfirmed): "
        + ", ".join(f"{k} {v} paper = {from_paper(v):.1f} mpe2" for k, v in PUBLISHED.items())
        + ".",
        "",
    ]
    with open(os.path.join(DOCS, f"results{suffix}.md"), "w") as file:
        file.write("\n".join(lines))
    with open(os.path.join(DOCS, f"results{suffix}.csv"), "w") as file:
        file.write("\n".join(csv_rows) + "\n")
    if not quick:
        _update_readme(lines[4:])
    if echo:
        print("\n".join(lines))


def _pm(mean: float, half: float) -> str:
    if math.isnan(mean):
        return ""
    return f"{mean:.1f} ± {'n/a' if math.isnan(half) else f'{half:.1f}'}"


def _comparisons(groups: dict[tuple[str, str, int], list[dict[str, Any]]]) -> list[str]:
    """Markdown lines: each COMPARISONS pair at every budget both were run with."""
    rows = []
    for pair_env, method, other in COMPARISONS:
        for (env, name, budget), group in sorted(groups.items(), key=_order):
            against = groups.get((env, other, budget))
            if env != pair_env or name != method or not against:
                continue
            cells = []
            for metric in (lambda r: r["curve"][-1]["return_mean"], training_mean):
                diff, half = difference_ci([metric(r) for r in group], [metric(r) for r in against])
                verdict = "n/a" if math.isnan(half) else "no clear difference"
                if not math.isnan(half) and abs(diff) > half:
                    verdict = "better" if diff > 0 else "worse"
                cells.append(f"{_pm(diff, half)} ({verdict})")
            rows.append(
                f"| {LABELS[(env, method)]} minus {LABELS[(env, other)]} | {budget:,} | "
                f"{len(group)} vs {len(against)} | {cells[0]} | {cells[1]} |"
            )
    if not rows:
        return []
    return [
        "Side by side (difference of the means, 95% CI by Welch's t; \"better\" when the "
        "interval excludes 0):",
        "",
        "| comparison | joint steps | seeds | final return | over training |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]


README_START, README_END = "<!-- learning-results:start -->", "<!-- learning-results:end -->"


def _update_readme(lines: list[str]) -> None:
    """Put the results table in the README between its markers, so the README shows what was measured."""
    path = os.path.join(ROOT, "README.md")
    with open(path) as file:
        text = file.read()
    head, start, rest = text.partition(README_START)
    _, end, tail = rest.partition(README_END)
    if not (start and end):
        return
    with open(path, "w") as file:
        file.write(head + start + "\n" + "\n".join(lines) + "\n" + end + tail)


# ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets, 2 seeds, files flagged _quick")
    parser.add_argument("--env", choices=("spread", "cartpole", "all"), default="all")
    parser.add_argument("--methods", nargs="+", help="default: all of the env's methods")
    parser.add_argument("--seeds", nargs="+", type=int, help="default: 0 1 2 (quick: 0 1)")
    parser.add_argument(
        "--steps",
        type=int,
        help="joint env steps per run (default: spread 60k (the demo preset's), cartpole 50k)",
    )
    parser.add_argument("--eval-every", type=int, help="joint env steps between evaluations")
    parser.add_argument(
        "--eval-episodes", type=int, help="episodes per evaluation (default 20; 100 untrained)"
    )
    parser.add_argument("--report", action="store_true", help="only rebuild the table and plots")
    args = parser.parse_args(argv)

    th.set_num_threads(1)
    os.makedirs(run_dir(args.quick), exist_ok=True)
    if args.report:
        report(args.quick)
        return
    seeds = args.seeds or ([0, 1] if args.quick else [0, 1, 2])
    envs = ["spread", "cartpole"] if args.env == "all" else [args.env]
    for env in envs:
        methods = args.methods or list(SPREAD_METHODS if env == "spread" else CARTPOLE_METHODS)
        valid = SPREAD_METHODS if env == "spread" else CARTPOLE_METHODS
        for method in methods:
            if method not in valid:
                parser.error(f"unknown method {method!r} for {env}; choose from {valid}")
        if env == "spread":
            default_steps = 6_000 if args.quick else int(demo_preset()["n_timesteps"]) // N_AGENTS
            default_every = 2_000 if args.quick else 5_000
        else:
            default_steps = 5_000 if args.quick else 50_000
            default_every = 1_000 if args.quick else 2_500
        steps = int(args.steps or default_steps)
        # Runs at another budget than the default are stored beside the default ones, not over them.
        budget_tag = "" if steps == default_steps else f"__{steps}steps"
        every = args.eval_every or default_every
        for method in methods:
            untrained = method in UNTRAINED
            n_eval = args.eval_episodes or (100 if untrained else (10 if args.quick else 20))
            for seed in seeds:
                print(f"{env} / {method} / seed {seed}: {steps:,} joint steps", flush=True)
                seed_everything(seed)
                if env == "spread":
                    record = run_spread(method, seed, steps, every, n_eval)
                else:
                    record = run_cartpole(method, seed, steps, every, n_eval)
                record.update(
                    budget=0 if untrained else steps,
                    eval_every=every,
                    argv=shlex.join([sys.executable, *sys.argv]),
                )
                tag = "" if untrained else budget_tag
                path = os.path.join(run_dir(args.quick), f"{env}__{method}{tag}__seed{seed}.json")
                with open(path, "w") as file:
                    json.dump(record, file, indent=1)
                report(args.quick, echo=False)
    report(args.quick)


if __name__ == "__main__":
    main()
