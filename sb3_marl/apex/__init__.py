"""Ape-X style distributed MADQN: Ray actors collect, one learner trains (``pip install "sb3-marl[ray]"``)."""

from sb3_marl.apex.actor import ApexActor, actor_epsilons
from sb3_marl.apex.apex import ApexMADQN

__all__ = ["ApexActor", "ApexMADQN", "actor_epsilons"]
