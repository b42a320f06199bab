"""Connect Four with action masks: one policy plays both sides (self-play by parameter sharing).

Connect Four is a turn-based (AEC) env whose observations carry the legal moves. The VecEnv steps the
player whose turn it is and gives the waiting player action 0 as its only legal action, so a masked
learner (sb3-contrib's MaskablePPO, or MADQN) never plays an illegal move. In a zero-sum game the team
return is 0, so the trained policy is judged by its wins as first player against a random one.

    python examples/connect_four_masked.py --algo madqn --total-timesteps 300000
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sb3_contrib import MaskablePPO

from sb3_marl import make_vec_env
from sb3_marl.callbacks import save_model
from sb3_marl.config import option, parse_config
from sb3_marl.evaluation import MultiAgentPolicy, RandomPolicy, make_env, run_episode
from sb3_marl.madqn import MADQN
from sb3_marl.terminal import TerminalLogCallback

ENV_ID = "pettingzoo.classic.connect_four_v3"


@dataclass
class Config:
    """A masked learner playing Connect Four against itself."""

    algo: str = option("maskable_ppo", "maskable_ppo or madqn")
    total_timesteps: int = option(
        300_000, "training timesteps, counted per player: each move of each env copy adds 2"
    )
    seed: int = option(0, "seed of the model and the envs")
    n_envs: int = option(8, "number of env copies")
    learning_rate: float = option(3e-4, "Adam learning rate")
    eval_games: int = option(100, "games against a random player at the end")
    output: str = option("runs/connect_four", "folder for the model")


class Match:
    """Each player acts by its own policy (both with the ``act(agent, observation, mask)`` interface)."""

    def __init__(self, policies: dict[str, Any]):
        self.policies = policies

    def act(self, agent: str, observation: Any, action_mask: Any = None) -> Any:
        return self.policies[agent].act(agent, observation, action_mask)


def main(config: Config) -> None:
    env = make_vec_env(ENV_ID, n_envs=config.n_envs, seed=config.seed)
    if config.algo == "maskable_ppo":
        model: Any = MaskablePPO(
            "MlpPolicy",
            env,
            learning_rate=config.learning_rate,
            n_steps=256,
            batch_size=256,
            seed=config.seed,
            verbose=0,
        )
    elif config.algo == "madqn":
        model = MADQN(
            "MlpPolicy",
            env,
            learning_rate=config.learning_rate,
            buffer_size=100_000,
            learning_starts=2_000,
            target_update_interval=2_000,
            exploration_fraction=0.3,
            policy_kwargs={"dueling": True},
            seed=config.seed,
            verbose=0,
        )
    else:
        raise SystemExit(f"--algo must be maskable_ppo or madqn, got {config.algo!r}")
    model.learn(config.total_timesteps, callback=TerminalLogCallback())
    save_model(model, os.path.join(config.output, "model.zip"))
    env.close()

    game = make_env(ENV_ID)
    match = Match(
        {"player_0": MultiAgentPolicy(model, game), "player_1": RandomPolicy(game, seed=config.seed)}
    )
    wins = 0
    for i in range(config.eval_games):
        _, returns, _ = run_episode(match, game, seed=config.seed + i)  # type: ignore[arg-type]
        wins += returns["player_0"] > 0
    print(f"{config.algo} as first player won {wins} of {config.eval_games} games against a random player")


if __name__ == "__main__":
    main(parse_config(Config))
