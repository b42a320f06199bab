"""MADQN with a CNN on Pistonball: pistons see pixels and push a ball to the left wall together.

Pistonball (discrete actions, a few pistons) is turned into small stacked grey images by SuperSuit's
per-env wrappers (colour reduction, resize, frame stack), given to ``make_vec_env(wrapper_class=...)``
so that every env copy is wrapped the same way; the evaluation uses the same wrapper.

    python examples/madqn_pistonball_cnn.py --total-timesteps 200000
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import Any

import supersuit as ss

from sb3_marl import make_vec_env
from sb3_marl.callbacks import save_model
from sb3_marl.config import option, parse_config
from sb3_marl.evaluation import RandomPolicy, evaluate_policy, make_env
from sb3_marl.madqn import MADQN
from sb3_marl.terminal import TerminalLogCallback

ENV_ID = "pettingzoo.butterfly.pistonball_v6"


@dataclass
class Config:
    """MADQN with a CNN Q-network on pettingzoo pistonball_v6 (discrete actions)."""

    total_timesteps: int = option(
        200_000, "training timesteps, counted per agent: each step of each env copy adds n_pistons"
    )
    seed: int = option(0, "seed of the model and the envs")
    n_pistons: int = option(5, "number of pistons (agents)")
    max_cycles: int = option(125, "steps per episode")
    image_size: int = option(84, "side of the square grey images the pistons see")
    frame_stack: int = option(3, "number of stacked frames")
    n_envs: int = option(1, "number of env copies")
    learning_rate: float = option(1e-4, "Adam learning rate")
    buffer_size: int = option(20_000, "replay buffer size, in transitions (each holds two images)")
    learning_starts: int = option(2_000, "timesteps of random play before learning")
    batch_size: int = option(32, "transitions per gradient step")
    target_update_interval: int = option(2_000, "timesteps between target network updates")
    exploration_fraction: float = option(0.2, "share of training over which epsilon falls to its final value")
    eval_episodes: int = option(5, "episodes of the final evaluation")
    output: str = option("runs/madqn_pistonball", "folder for the model")


def preprocess(env: Any, image_size: int, frame_stack: int) -> Any:
    """Grey (blue channel), resized, stacked frames: observations (image_size, image_size, frame_stack)."""
    env = ss.color_reduction_v0(env, mode="B")
    env = ss.resize_v1(env, x_size=image_size, y_size=image_size)
    return ss.frame_stack_v1(env, frame_stack)


def main(config: Config) -> None:
    env_kwargs = {"n_pistons": config.n_pistons, "continuous": False, "max_cycles": config.max_cycles}
    wrapper = partial(preprocess, image_size=config.image_size, frame_stack=config.frame_stack)
    env = make_vec_env(
        ENV_ID, n_envs=config.n_envs, seed=config.seed, env_kwargs=env_kwargs, wrapper_class=wrapper
    )
    model = MADQN(
        "CnnPolicy",
        env,
        learning_rate=config.learning_rate,
        buffer_size=config.buffer_size,
        learning_starts=config.learning_starts,
        batch_size=config.batch_size,
        target_update_interval=config.target_update_interval,
        exploration_fraction=config.exploration_fraction,
        exploration_final_eps=0.02,
        policy_kwargs={"dueling": True},
        seed=config.seed,
        verbose=0,
    )
    model.learn(config.total_timesteps, callback=TerminalLogCallback())
    save_model(model, os.path.join(config.output, "model.zip"))
    env.close()

    result = evaluate_policy(
        model, ENV_ID, config.eval_episodes, seed=config.seed, env_kwargs=env_kwargs, wrapper_class=wrapper
    )
    eval_env = make_env(ENV_ID, env_kwargs, wrapper)
    random = evaluate_policy(
        RandomPolicy(eval_env, seed=config.seed), eval_env, config.eval_episodes, seed=config.seed
    )
    print(f"Team return: MADQN {result} | random policy {random}")


if __name__ == "__main__":
    main(parse_config(Config))
