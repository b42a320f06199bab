"""PPO with parameter sharing on MPE simple_spread: one policy network acts for all three agents.

Stable-Baselines3's PPO, unchanged: the VecEnv makes each agent of each env copy one of its envs, so a
single actor-critic learns from every agent's experience. Team return = episode return summed over agents.

    python examples/ppo_simple_spread.py --total-timesteps 1000000
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from stable_baselines3 import PPO

from sb3_marl import make_vec_env
from sb3_marl.callbacks import MultiAgentEvalCallback, save_model
from sb3_marl.config import option, parse_config
from sb3_marl.evaluation import RandomPolicy, evaluate_policy, make_env
from sb3_marl.terminal import TerminalLogCallback

ENV_ID = "mpe2.simple_spread_v3"


@dataclass
class Config:
    """PPO with parameter sharing on mpe2 simple_spread_v3."""

    total_timesteps: int = option(
        1_000_000, "training timesteps, counted per agent: each step of each env copy adds 3"
    )
    seed: int = option(0, "seed of the model and the envs")
    n_envs: int = option(8, "number of env copies")
    learning_rate: float = option(3e-4, "Adam learning rate")
    n_steps: int = option(128, "steps per env slot in each rollout")
    batch_size: int = option(256, "minibatch size")
    n_epochs: int = option(10, "passes over each rollout")
    gamma: float = option(0.95, "discount factor")
    ent_coef: float = option(0.01, "entropy bonus")
    agent_indicator: bool = option(False, "append a one-hot agent id to the observations")
    eval_freq: int = option(
        100_000, "evaluate on the team return every this many timesteps, keeping the best model"
    )
    eval_episodes: int = option(20, "episodes of each evaluation")
    output: str = option("runs/ppo_simple_spread", "folder for the models")


def main(config: Config) -> None:
    env = make_vec_env(ENV_ID, n_envs=config.n_envs, seed=config.seed, agent_indicator=config.agent_indicator)
    model = PPO(
        "MlpPolicy",
        env,
        learning_rate=config.learning_rate,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        gamma=config.gamma,
        ent_coef=config.ent_coef,
        policy_kwargs={"net_arch": [128, 128]},
        seed=config.seed,
        verbose=0,
    )
    evaluation = MultiAgentEvalCallback(
        ENV_ID, config.eval_freq, config.eval_episodes, seed=config.seed, best_model_save_path=config.output
    )
    model.learn(config.total_timesteps, callback=[TerminalLogCallback(), evaluation])
    save_model(model, os.path.join(config.output, "model.zip"))
    env.close()

    result = evaluate_policy(model, ENV_ID, config.eval_episodes, seed=config.seed)
    eval_env = make_env(ENV_ID)
    random = evaluate_policy(
        RandomPolicy(eval_env, seed=config.seed), eval_env, config.eval_episodes, seed=config.seed
    )
    print(f"Team return: PPO {result} | random policy {random}")
    print(f"Best evaluation during training: {evaluation.best_mean_reward:.2f}")


if __name__ == "__main__":
    main(parse_config(Config))
