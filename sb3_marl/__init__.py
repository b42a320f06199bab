"""sb3_marl: cooperative multi-agent RL on PettingZoo for Stable-Baselines3."""

import os

from sb3_marl.envs import MultiAgentVecEnv, make_vec_env

with open(os.path.join(os.path.dirname(__file__), "version.txt")) as file_handler:
    __version__ = file_handler.read().strip()

__all__ = ["MultiAgentVecEnv", "__version__", "make_vec_env"]
