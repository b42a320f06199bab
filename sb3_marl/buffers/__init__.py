"""Replay storage: vectorized segment trees and a prioritized replay buffer with n-step returns."""

from sb3_marl.buffers.prioritized import PrioritizedReplayBuffer, PrioritizedReplayBufferSamples
from sb3_marl.buffers.sum_tree import MinTree, SegmentTree, SumTree

__all__ = [
    "MinTree",
    "PrioritizedReplayBuffer",
    "PrioritizedReplayBufferSamples",
    "SegmentTree",
    "SumTree",
]
