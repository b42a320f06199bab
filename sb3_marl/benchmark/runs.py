"""One run of the learning benchmark: a method trained for a budget and evaluated greedily along the way.

Every method is evaluated the same way: greedy actions, whole episodes on a separate evaluation env (for
a PettingZoo task a ``make_vec_env`` env; the TEAM return summed over agents, from the monitor's
``info["team_episode"]``), every ``eval_every`` env steps. Budgets are in joint env steps (one step of
one env copy = 3 agent steps on simple_spread).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import set_random_seed

from sb3_marl.benchmark.methods import TASKS, Act, Method


def curve_point(joint_steps: int, returns: list[float], train_wall_s: float) -> dict[str, Any]:
    """One evaluation point of a learning curve, printed as a progress row.

    :param joint_steps: joint env steps trained so far
    :param returns: the evaluation's episode returns
    :param train_wall_s: training wall time so far, evaluations excluded
    """
    point = {
        "joint_steps": joint_steps,
        "return_mean": float(np.mean(returns)),
        "return_std": float(np.std(returns)),
        "train_wall_s": train_wall_s,
    }
    print(
        f"  joint steps {joint_steps:>9,d}  return {point['return_mean']:8.2f}  train {train_wall_s:7.1f}s",
        flush=True,
    )
    return point


def evaluate_team(act: Act, venv: Any, n_episodes: int, seed: int) -> list[float]:
    """Team returns (summed over agents) of ``n_episodes`` whole episodes on a monitored ``make_vec_env``
    env, each copy playing its share (``info["team_episode"]["r"]``). The env is re-seeded each time, so
    every evaluation of a run sees the same episodes.

    :param act: observations and action masks of every slot -> their actions
    :param venv: a monitored ``make_vec_env`` env of a task with discrete actions
    :param n_episodes: team episodes to play
    :param seed: the env's seed for this evaluation
    """
    n_copies = venv.num_copies
    n_agents = venv.num_envs // n_copies
    targets = [(n_episodes + c) // n_copies for c in range(n_copies)]
    counts = [0] * n_copies
    returns: list[float] = []
    venv.seed(seed)
    obs = venv.reset()
    while any(n < t for n, t in zip(counts, targets, strict=True)):
        obs, _, _, infos = venv.step(act(obs, venv.action_masks()))
        for c in range(n_copies):
            team = infos[c * n_agents].get("team_episode")
            if team is not None and counts[c] < targets[c]:
                returns.append(float(team["r"]))
                counts[c] += 1
    return returns


def evaluate_cartpole(model: BaseAlgorithm, env: Any, n_episodes: int, seed: int) -> list[float]:
    """Greedy episode returns of ``model`` on a CartPole VecEnv re-seeded with ``seed``."""
    from stable_baselines3.common.evaluation import evaluate_policy

    env.seed(seed)
    returns, _ = evaluate_policy(
        model, env, n_eval_episodes=n_episodes, deterministic=True, return_episode_rewards=True
    )
    return [float(r) for r in returns]  # type: ignore[union-attr]


def greedy(model: BaseAlgorithm) -> Act:
    """The deterministic acting function of ``model``: MADQN takes the masks; a model that cannot (SB3's
    DQN on SuperSuit's padded actions) has its illegal actions mapped to action 0, as SuperSuit's
    ``pad_action_space_v0`` maps them."""
    if "action_masks" in inspect.signature(model.predict).parameters:
        return lambda obs, masks: model.predict(obs, deterministic=True, action_masks=masks)[0]  # type: ignore

    def act(obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        actions = np.asarray(model.predict(obs, deterministic=True)[0])
        return np.where(masks[np.arange(len(actions)), actions], actions, 0)

    return act


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
        """Evaluate now and append the point to ``curve``."""
        began = time.perf_counter()
        returns = self.evaluate()
        self.eval_time += time.perf_counter() - began
        train_wall_s = time.perf_counter() - self.start - self.eval_time
        self.curve.append(curve_point(self.num_timesteps // self.per_joint, returns, train_wall_s))

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_eval:
            self.next_eval += self.every
            self.record()
        return True


def run_method(method: Method, seed: int, joint_steps: int, eval_every: int, n_eval: int) -> dict[str, Any]:
    """Seed ``random``, NumPy and torch with ``seed``, train (or, untrained, only evaluate) ``method`` and
    return its run record: ``env``, ``method``, ``seed``, ``eval_episodes``, ``curve`` (the evaluations),
    ``hyperparams`` and, trained, ``total_wall_s``. The evaluation env is seeded ``100_000 + seed`` and
    each evaluation ``200_000 + seed``.

    :param method: the registry entry
    :param seed: the run's seed
    :param joint_steps: the training budget in joint env steps
    :param eval_every: joint env steps between evaluations
    :param n_eval: episodes per evaluation
    """
    set_random_seed(seed)
    preset = method.preset()
    record: dict[str, Any] = {"env": method.env, "method": method.name, "seed": seed, "eval_episodes": n_eval}
    task = TASKS[method.env]
    per_joint = task.n_agents
    if task.env_id is not None:
        eval_env = task.make_vec_env(
            4, 100_000 + seed, preset.get("agent_indicator", False), preset.get("env_wrapper")
        )
    else:
        from stable_baselines3.common.env_util import make_vec_env

        eval_env = make_vec_env("CartPole-v1", n_envs=1, seed=100_000 + seed)
    eval_seed = 200_000 + seed
    try:
        if method.build is None:
            assert method.policy is not None, f"{method.name} has neither a builder nor a policy"
            returns = evaluate_team(method.policy(np.random.default_rng(seed)), eval_env, n_eval, eval_seed)
            mean, std = float(np.mean(returns)), float(np.std(returns))
            point = {"joint_steps": 0, "return_mean": mean, "return_std": std, "train_wall_s": 0.0}
            record.update(curve=[point], hyperparams={})
            print(f"  {method.name}: {mean:.2f} ± {std:.2f} over {n_eval} episodes")
            return record
        model = method.build(seed, preset)
        if task.env_id is not None:
            evaluate = lambda: evaluate_team(greedy(model), eval_env, n_eval, eval_seed)  # noqa: E731
        else:
            evaluate = lambda: evaluate_cartpole(model, eval_env, n_eval, eval_seed)  # noqa: E731
        callback = EvalCallback(evaluate, eval_every * per_joint, per_joint)
        began = time.perf_counter()
        model.learn(total_timesteps=joint_steps * per_joint, callback=callback)
        if callback.curve[-1]["joint_steps"] < model.num_timesteps // per_joint:
            callback.record()
        record.update(curve=callback.curve, hyperparams=preset, total_wall_s=time.perf_counter() - began)
        model.get_env().close()  # type: ignore[union-attr]
        return record
    finally:
        eval_env.close()
