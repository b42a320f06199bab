"""Replay storage: a vectorized sum and min tree, a prioritized replay buffer with n-step returns, and its
joint (one entry per env copy) form for value decomposition."""

from sb3_marl.buffers.joint import JointReplayBuffer, JointReplayBufferSamples
from sb3_marl.buffers.prioritized import PrioritizedReplayBuffer, PrioritizedReplayBufferSamples
from sb3_marl.buffers.sum_tree import PriorityTree

__all__ = [
    "JointReplayBuffer",
    "JointReplayBufferSamples",
    "PrioritizedReplayBuffer",
    "PrioritizedReplayBufferSamples",
    "PriorityTree",
]
