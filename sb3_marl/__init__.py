"""sb3_marl: cooperative multi-agent RL on PettingZoo for Stable-Baselines3."""

import os

from sb3_marl.callbacks import MultiAgentEvalCallback, MultiAgentStatsCallback
from sb3_marl.envs import MultiAgentVecEnv, make_vec_env
from sb3_marl.evaluation import EvalResult, MultiAgentPolicy, RandomPolicy, evaluate_policy
from sb3_marl.madqn import MADQN

with open(os.path.join(os.path.dirname(__file__), "version.txt")) as file_handler:
    __version__ = file_handler.read().strip()

__all__ = [
    "MADQN",
    "EvalResult",
    "MultiAgentEvalCallback",
    "MultiAgentPolicy",
    "MultiAgentStatsCallback",
    "MultiAgentVecEnv",
    "RandomPolicy",
    "__version__",
    "evaluate_policy",
    "make_vec_env",
]
