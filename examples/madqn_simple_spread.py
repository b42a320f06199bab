"""MADQN on MPE simple_spread: three agents cover three landmarks, one shared Q-network.

MADQN is Double DQN with prioritized replay (and here a dueling head and 3-step returns); the VecEnv
gives every agent of every env copy its own slot, so the agents share one network (parameter sharing).
The team return printed at the end is the episode return summed over the agents (random play: about -79).

    python examples/madqn_simple_spread.py --total-timesteps 300000 --wandb-project sb3-marl
    python examples/madqn_simple_spread.py --mixer qmix
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from stable_baselines3.common.callbacks import BaseCallback

from sb3_marl import make_vec_env
from sb3_marl.callbacks import save_model
from sb3_marl.config import option, parse_config
from sb3_marl.evaluation import RandomPolicy, evaluate_policy, make_env
from sb3_marl.madqn import MADQN
from sb3_marl.terminal import TerminalLogCallback

ENV_ID = "mpe2.simple_spread_v3"


@dataclass
class Config:
    """MADQN (Double DQN + prioritized replay) on mpe2 simple_spread_v3, with parameter sharing."""

    total_timesteps: int = option(
        300_000, "training timesteps, counted per agent: each step of each env copy adds 3"
    )
    seed: int = option(0, "seed of the model and the envs")
    n_envs: int = option(4, "number of env copies")
    max_cycles: int = option(25, "steps per episode")
    learning_rate: float = option(5e-4, "Adam learning rate")
    buffer_size: int = option(200_000, "replay buffer size, in transitions")
    learning_starts: int = option(5_000, "timesteps of random play before learning")
    batch_size: int = option(256, "transitions per gradient step")
    gamma: float = option(0.95, "discount factor")
    n_steps: int = option(3, "n-step returns")
    target_update_interval: int = option(2_000, "timesteps between target network updates")
    exploration_fraction: float = option(0.3, "share of training over which epsilon falls to its final value")
    prioritized_replay_alpha: float = option(0.6, "how much prioritization is used (0: uniform replay)")
    dueling: bool = option(True, "use a dueling Q-network head")
    mixer: str | None = option(
        None,
        "value decomposition: vdn or qmix (team Q from the agents' Qs; n_steps is then 1); None: independent",
    )
    eval_episodes: int = option(20, "episodes of the final evaluation")
    wandb_project: str | None = option(
        None, "log to this W&B project (offline unless WANDB_MODE says otherwise); None: no W&B"
    )
    output: str = option("runs/madqn_simple_spread", "folder for the model (and the W&B run)")


def main(config: Config) -> None:
    env_kwargs = {"max_cycles": config.max_cycles}
    env = make_vec_env(ENV_ID, n_envs=config.n_envs, seed=config.seed, env_kwargs=env_kwargs)
    model = MADQN(
        "MlpPolicy",
        env,
        learning_rate=config.learning_rate,
        buffer_size=config.buffer_size,
        learning_starts=config.learning_starts,
        batch_size=config.batch_size,
        gamma=config.gamma,
        n_steps=1 if config.mixer else config.n_steps,
        mixer=config.mixer,
        target_update_interval=config.target_update_interval,
        exploration_fraction=config.exploration_fraction,
        prioritized_replay_alpha=config.prioritized_replay_alpha,
        policy_kwargs={"dueling": config.dueling, "net_arch": [128, 128]},
        seed=config.seed,
        verbose=0,
    )
    run = None
    callbacks: list[BaseCallback] = [TerminalLogCallback()]  # a row of team and agent returns now and then
    if config.wandb_project:
        from sb3_marl.integrations.wandb import MultiAgentWandbCallback, init_wandb

        run = init_wandb(config.wandb_project, config=vars(config), dir=config.output)
        callbacks.append(MultiAgentWandbCallback(run, env_id=ENV_ID, env_kwargs=env_kwargs))
    model.learn(config.total_timesteps, callback=callbacks)
    save_model(model, os.path.join(config.output, "model.zip"))
    env.close()
    if run is not None:
        run.finish()

    result = evaluate_policy(model, ENV_ID, config.eval_episodes, seed=config.seed, env_kwargs=env_kwargs)
    eval_env = make_env(ENV_ID, env_kwargs)
    random = evaluate_policy(
        RandomPolicy(eval_env, seed=config.seed), eval_env, config.eval_episodes, seed=config.seed
    )
    print(f"Team return: MADQN {result} | random policy {random}")
    print("Per agent:", {agent: round(r, 2) for agent, r in result.agent_return_mean.items()})


if __name__ == "__main__":
    main(parse_config(Config))
