"""PettingZoo envs as SB3 VecEnvs with parameter sharing. Imports no other room of sb3_marl."""

from sb3_marl.envs.make import make_vec_env, resolve_env
from sb3_marl.envs.monitor import MultiAgentVecMonitor
from sb3_marl.envs.spaces import SlotSpaces, build_slot_spaces
from sb3_marl.envs.vec_env import MultiAgentVecEnv, check_pettingzoo_env

__all__ = [
    "MultiAgentVecEnv",
    "MultiAgentVecMonitor",
    "SlotSpaces",
    "build_slot_spaces",
    "check_pettingzoo_env",
    "make_vec_env",
    "resolve_env",
]
