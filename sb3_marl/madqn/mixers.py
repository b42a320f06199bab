"""Value decomposition: the team Q from the agents' Qs (VDN, QMIX)."""

from __future__ import annotations

from typing import ClassVar

import torch as th
from torch import nn
from torch.nn import functional as F


class VDNMixer(nn.Module):
    """VDN (Sunehag et al., 2018): the team Q is the sum of the agents' Qs.

    :param n_agents: number of agents
    :param state_dim: size of the global state (unused; kept for a common constructor)
    """

    reads_state: ClassVar[bool] = False  # the buffer stores no global state for it

    def __init__(self, n_agents: int, state_dim: int = 0):
        super().__init__()
        self.n_agents = n_agents

    def forward(self, agent_qs: th.Tensor, states: th.Tensor) -> th.Tensor:
        """:param agent_qs: ``(batch, n_agents)``, zero for agents that are not in the episode
        :param states: ``(batch, state_dim)`` (unused)
        :return: the team Q, ``(batch, 1)``"""
        return agent_qs.sum(dim=1, keepdim=True)


class QMIXMixer(nn.Module):
    """QMIX (Rashid et al., 2018): a mixing network whose weights come from hypernetworks of the
    global state and are made non-negative, so the team Q is monotonic in every agent's Q.

    :param n_agents: number of agents
    :param state_dim: size of the global state
    :param embed_dim: width of the mixing network
    :param hypernet_dim: width of the hidden layer of the weight hypernetworks
    """

    reads_state: ClassVar[bool] = True

    def __init__(self, n_agents: int, state_dim: int, embed_dim: int = 32, hypernet_dim: int = 64):
        super().__init__()
        if state_dim <= 0:
            raise ValueError("QMIX needs a global state (state_dim > 0).")
        self.n_agents, self.embed_dim = n_agents, embed_dim
        self.hyper_w1 = nn.Sequential(
            nn.Linear(state_dim, hypernet_dim), nn.ReLU(), nn.Linear(hypernet_dim, n_agents * embed_dim)
        )
        self.hyper_b1 = nn.Linear(state_dim, embed_dim)
        self.hyper_w2 = nn.Sequential(
            nn.Linear(state_dim, hypernet_dim), nn.ReLU(), nn.Linear(hypernet_dim, embed_dim)
        )
        self.hyper_b2 = nn.Sequential(nn.Linear(state_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def mixing_weights(self, states: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """The non-negative weights of both mixing layers, ``(batch, n_agents, embed)`` and
        ``(batch, embed, 1)``."""
        w1 = th.abs(self.hyper_w1(states)).view(-1, self.n_agents, self.embed_dim)
        w2 = th.abs(self.hyper_w2(states)).view(-1, self.embed_dim, 1)
        return w1, w2

    def forward(self, agent_qs: th.Tensor, states: th.Tensor) -> th.Tensor:
        """:param agent_qs: ``(batch, n_agents)``, zero for agents that are not in the episode
        :param states: ``(batch, state_dim)``
        :return: the team Q, ``(batch, 1)``"""
        w1, w2 = self.mixing_weights(states)
        hidden = F.elu(th.bmm(agent_qs.unsqueeze(1), w1) + self.hyper_b1(states).unsqueeze(1))
        return (th.bmm(hidden, w2)).view(-1, 1) + self.hyper_b2(states)


MIXERS: dict[str, type[VDNMixer] | type[QMIXMixer]] = {"vdn": VDNMixer, "qmix": QMIXMixer}
