"""What MADQN's loss compares: the Q-values of the actions taken and their (n-step) Double-DQN targets,
per slot, or, with a mixer, the team Q of each joint transition."""

from __future__ import annotations

import numpy as np
import torch as th
from torch.nn import functional as F

from sb3_marl.buffers import JointReplayBufferSamples, PrioritizedReplayBufferSamples
from sb3_marl.madqn.policies import MADQNPolicy, QNetwork, masked_argmax


def td_target(policy: MADQNPolicy, samples: PrioritizedReplayBufferSamples, double_q: bool) -> th.Tensor:
    """The (n-step) TD target ``r + (1 - done) * gamma^k * Q_target(s', a*)``, where the greedy next
    action ``a*`` over the legal next actions comes from the online network with ``double_q`` and from
    the target network otherwise.

    :param policy: the Q-networks
    :param samples: a batch from the replay buffer
    :param double_q: whether the greedy next action comes from the online network
    :return: the targets, ``(batch, 1)``
    """
    with th.no_grad():
        next_q_values = policy.q_net_target(samples.next_observations)
        greedy_q_values = policy.q_net(samples.next_observations) if double_q else next_q_values
        next_actions = masked_argmax(greedy_q_values, samples.next_action_masks)
        next_q = next_q_values.gather(1, next_actions.reshape(-1, 1))
        return samples.rewards + (1 - samples.dones) * samples.discounts * next_q


def _agent_qs(q_net: QNetwork, observations: th.Tensor) -> th.Tensor:
    """Every agent's Q-values from joint observations: ``(batch, n_agents, n_actions)``."""
    batch, n_agents = observations.shape[:2]
    return q_net(observations.flatten(0, 1)).view(batch, n_agents, -1)


def team_q(policy: MADQNPolicy, samples: JointReplayBufferSamples) -> th.Tensor:
    """The team Q of the joint actions taken, ``(batch, 1)``; agents that did not act add nothing.

    :param policy: the Q-networks and the mixer
    :param samples: a batch of joint transitions
    """
    assert policy.mixer is not None
    actions = samples.actions.long().unsqueeze(2)
    agent_qs = _agent_qs(policy.q_net, samples.observations).gather(2, actions).squeeze(2)
    return policy.mixer(agent_qs * samples.active, samples.states)


def team_td_target(policy: MADQNPolicy, samples: JointReplayBufferSamples, double_q: bool) -> th.Tensor:
    """The team TD target ``r + (1 - done) * gamma * Q_tot_target(s', a*)``, ``(batch, 1)``: the agents'
    greedy legal next actions (from the online network with ``double_q``), valued by the target network,
    mixed by the target mixer on the next state; agents not bootstrapped from the next step add nothing.

    :param policy: the Q-networks and the mixer
    :param samples: a batch of joint transitions
    :param double_q: whether the greedy next actions come from the online network
    """
    assert policy.mixer_target is not None
    with th.no_grad():
        target_qs = _agent_qs(policy.q_net_target, samples.next_observations)
        greedy_qs = _agent_qs(policy.q_net, samples.next_observations) if double_q else target_qs
        next_actions = masked_argmax(greedy_qs, samples.next_action_masks)
        next_q = target_qs.gather(2, next_actions.unsqueeze(2)).squeeze(2) * samples.next_active
        mixed = policy.mixer_target(next_q, samples.next_states)
        return samples.rewards + (1 - samples.dones) * samples.discounts * mixed


def current_and_target(
    policy: MADQNPolicy, samples: PrioritizedReplayBufferSamples, double_q: bool
) -> tuple[th.Tensor, th.Tensor]:
    """The Q-values of the taken actions and their targets, ``(batch, 1)`` each: per slot, or, with a
    mixer, the team Q of each joint transition.

    :param policy: the networks
    :param samples: a batch from the replay buffer (of joint transitions with a mixer)
    :param double_q: whether greedy next actions come from the online network
    """
    if isinstance(samples, JointReplayBufferSamples):
        return team_q(policy, samples), team_td_target(policy, samples, double_q)
    current = policy.q_net(samples.observations).gather(1, samples.actions.long())
    return current, td_target(policy, samples, double_q)


def weighted_huber_loss(
    current: th.Tensor, target: th.Tensor, weights: th.Tensor
) -> tuple[th.Tensor, np.ndarray]:
    """The mean over the batch of each sample's Huber loss times its importance-sampling weight (which
    corrects the bias of prioritized sampling), and the samples' ``|TD error|``, computed once for the new
    priorities and the logged statistics.

    :param current: the Q-values of the actions taken, ``(batch, 1)``
    :param target: their TD targets, ``(batch, 1)``
    :param weights: the importance-sampling weights, ``(batch, 1)``
    :return: the loss, and ``|target - current|`` as a flat NumPy array
    """
    loss = (weights * F.smooth_l1_loss(current, target, reduction="none")).mean()
    return loss, (target - current.detach()).abs_().cpu().numpy().ravel()


def non_finite_message(
    policy: MADQNPolicy, samples: PrioritizedReplayBufferSamples, gradient_step: int
) -> str:
    """The error for a non-finite loss, naming what in the batch or the networks is not finite.

    :param policy: the networks
    :param samples: the batch whose loss is not finite
    :param gradient_step: the number of the gradient step
    """
    tensors = {
        "rewards": samples.rewards,
        "observations": samples.observations,
        "next observations": samples.next_observations,
    }
    found = [name for name, tensor in tensors.items() if not th.isfinite(tensor).all()]
    if not all(th.isfinite(p).all() for p in policy.trained_parameters()):
        found.append("network parameters (diverged)")
    cause = "the sampled " + ", ".join(found) + " hold NaN or inf" if found else "the Q-values overflowed"
    return (
        f"non-finite loss/TD error at gradient step {gradient_step} ({cause}): check the env's "
        "rewards/observations (clip or mend them) or lower the learning rate."
    )
