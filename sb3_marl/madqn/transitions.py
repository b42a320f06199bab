"""What MADQN reads from a VecEnv step: the info protocol of a multi-agent VecEnv (docs/design.md), read
here and nowhere else, and the joint transition of each env copy that value decomposition stores."""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv

from sb3_marl.buffers import JointReplayBuffer
from sb3_marl.madqn.mixers import MIXERS


class SlotStep(NamedTuple):
    """One VecEnv step as the replay buffer needs it, per slot.

    ``next_obs``: the observation each transition ends in (``info["terminal_observation"]`` where the
    slot's episode ended, ``new_obs`` elsewhere); ``ended``: where it was swapped in;
    ``next_action_masks``: the legal actions at ``next_obs`` (``info["action_mask"]``, or
    ``info["terminal_action_mask"]`` where the episode ended), ``None`` when no slot has a mask;
    ``active``: not ``info["inactive"]``; ``truncated``: ``info["TimeLimit.truncated"]``;
    ``copy_done``: ``info["copy_done"]``; ``terminal_states``: ``info["terminal_state"]`` by slot, where
    given.
    """

    next_obs: np.ndarray
    ended: np.ndarray
    next_action_masks: np.ndarray | None
    active: np.ndarray
    truncated: np.ndarray
    copy_done: np.ndarray
    terminal_states: dict[int, np.ndarray]


def read_step(new_obs: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> SlotStep:
    """Read one step's infos (the only place MADQN reads them).

    :param new_obs: the observations the VecEnv returned, ``(n_slots, *obs_shape)`` (after an auto-reset,
        the reset one)
    :param dones: the VecEnv's dones, ``(n_slots,)``
    :param infos: the VecEnv's infos, one per slot
    :return: the step, per slot
    """
    next_obs = np.array(new_obs)  # a copy: the terminal observations are written into it
    ended = np.zeros(len(infos), dtype=bool)
    with_mask = [i for i, info in enumerate(infos) if "action_mask" in info]
    masks = None
    if with_mask:
        n_actions = len(infos[with_mask[0]]["action_mask"])
        masks = np.ones((len(infos), n_actions), dtype=bool)
        for i in with_mask:
            masks[i] = infos[i]["action_mask"]
    terminal_states: dict[int, np.ndarray] = {}
    for i in np.flatnonzero(dones).tolist():
        info = infos[i]
        if info.get("terminal_observation") is not None:
            next_obs[i] = info["terminal_observation"]
            ended[i] = True
            if masks is not None and "terminal_action_mask" in info:
                masks[i] = info["terminal_action_mask"]
    copy_done = np.array([info.get("copy_done", False) for info in infos], dtype=bool)
    for i in np.flatnonzero(copy_done).tolist():
        if "terminal_state" in infos[i]:
            terminal_states[i] = np.asarray(infos[i]["terminal_state"])
    return SlotStep(
        next_obs=next_obs,
        ended=ended,
        next_action_masks=masks,
        active=np.array([not info.get("inactive", False) for info in infos], dtype=bool),
        truncated=np.array([info.get("TimeLimit.truncated", False) for info in infos], dtype=bool),
        copy_done=copy_done,
        terminal_states=terminal_states,
    )


class JointTransition(NamedTuple):
    """One transition per env copy, every agent in it.

    ``obs``, ``next_obs``: ``(n_copies, n_agents, *obs_shape)``; ``actions``: ``(n_copies, n_agents)``;
    ``rewards``: the team rewards, ``dones``: whether the copy's episode ended, ``truncated``: whether a
    time limit cut it (some slot's ``TimeLimit.truncated``), each ``(n_copies,)``;
    ``next_action_masks``: ``(n_copies, n_agents, n_actions)`` or ``None``; ``states``, ``next_states``:
    the global states before and after the step (the one the copy ended in where it ended),
    ``(n_copies, state_dim)``; ``active``: which agents acted, ``next_active``: which are bootstrapped
    from the next step (still in the episode, or cut by a time limit), ``(n_copies, n_agents)``.
    """

    obs: np.ndarray
    next_obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    truncated: np.ndarray
    next_action_masks: np.ndarray | None
    states: np.ndarray
    next_states: np.ndarray
    active: np.ndarray
    next_active: np.ndarray


def joint_transition(
    obs: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    new_obs: np.ndarray,
    dones: np.ndarray,
    infos: list[dict[str, Any]],
    states: np.ndarray,
    new_states: np.ndarray,
    n_agents: int,
    team_reward: str = "sum",
) -> JointTransition:
    """The joint transitions of one step of a multi-agent VecEnv (slot ``i`` is agent ``i % n_agents`` of
    copy ``i // n_agents``).

    :param obs: the observations acted on, ``(n_slots, *obs_shape)``
    :param actions: the actions taken, ``(n_slots,)``
    :param rewards: the agents' rewards, ``(n_slots,)``
    :param new_obs: the observations returned (reset ones where a copy reset)
    :param dones: the slots' dones
    :param infos: the slots' infos
    :param states: each copy's global state before the step, ``(n_copies, state_dim)``
    :param new_states: each copy's global state returned with ``new_obs``: the env's own state, or, for
        an env without one, the copy's observations side by side (then, where a copy ended, its next state
        is its agents' terminal observations side by side, unless the info gives ``terminal_state``)
    :param n_agents: agents per copy
    :param team_reward: ``"sum"`` or ``"mean"`` of the agents' rewards
    :return: the joint transitions, one per copy
    """
    step = read_step(new_obs, dones, infos)
    n_copies = len(infos) // n_agents

    def joint(array: np.ndarray) -> np.ndarray:
        return array.reshape(n_copies, n_agents, *array.shape[1:])

    copy_rewards = joint(np.asarray(rewards, dtype=np.float32))
    team_rewards = copy_rewards.sum(axis=1) if team_reward == "sum" else copy_rewards.mean(axis=1)
    copy_done = np.asarray(joint(step.copy_done).any(axis=1))
    next_states = np.array(new_states, dtype=np.float32)
    for c in np.flatnonzero(copy_done) if next_states.shape[1] else ():  # VDN's states are empty
        first = c * n_agents
        ended = step.terminal_states.get(int(first), step.next_obs[first : first + n_agents])
        next_states[c] = np.reshape(ended, -1)
    next_active = step.active & (~np.asarray(dones, dtype=bool) | step.truncated)
    return JointTransition(
        obs=joint(np.asarray(obs)),
        next_obs=joint(step.next_obs),
        actions=joint(np.asarray(actions)),
        rewards=team_rewards.astype(np.float32),
        dones=copy_done,
        truncated=np.asarray(joint(step.truncated).any(axis=1)),
        next_action_masks=None if step.next_action_masks is None else joint(step.next_action_masks),
        states=np.asarray(states),
        next_states=next_states,
        active=joint(step.active),
        next_active=joint(next_active),
    )


def mixer_layout(env: VecEnv, mixer: str, observation_space: spaces.Space) -> tuple[int, int, bool]:
    """What a mixer mixes on ``env``: the number of agents, the size of the global state (0 for a mixer
    that reads none, such as VDN), and whether the state is the env's own (``get_state()``) or the
    agents' observations side by side.

    :param env: a multi-agent VecEnv (``num_agents``, ``get_state()``, ``state_space``)
    :param mixer: the mixer's name, for the messages
    :param observation_space: one agent's observation space
    """
    n_agents = getattr(env, "num_agents", None)
    if not isinstance(n_agents, int) or not hasattr(env, "get_state"):
        raise ValueError(
            f"mixer={mixer!r} needs a multi-agent VecEnv from sb3_marl.make_vec_env, got "
            f"{type(env).__name__}. Without a mixer MADQN learns on any VecEnv."
        )
    if not MIXERS[mixer].reads_state:
        return n_agents, 0, False
    state_space = env.state_space  # type: ignore[attr-defined]
    if state_space is not None:
        return n_agents, int(np.prod(state_space.shape)), True
    if mixer == "qmix" and len(observation_space.shape or ()) != 1:
        raise ValueError(
            "QMIX needs a global state: this env has no state() and its observations are not flat "
            "vectors to concatenate instead. Use mixer='vdn', or an env with a state()."
        )
    warnings.warn(
        f"The env has no global state: the {mixer} mixer is conditioned on the "
        "concatenation of the agents' observations instead."
    )
    return n_agents, n_agents * int(np.prod(observation_space.shape)), False  # type: ignore[arg-type]


def global_states(env: VecEnv, layout: tuple[int, int, bool], slot_obs: np.ndarray) -> np.ndarray:
    """Each copy's global state, ``(n_copies, state_dim)``: the env's ``get_state()``, or, for an env
    without one, the agents' observations side by side; empty for a mixer that reads none.

    :param env: the multi-agent VecEnv
    :param layout: as :func:`mixer_layout` gives it
    :param slot_obs: the slots' observations
    """
    n_copies = env.num_envs // layout[0]
    if layout[1] == 0:
        return np.zeros((n_copies, 0), np.float32)
    return (env.get_state() if layout[2] else slot_obs).reshape(n_copies, -1)  # type: ignore[attr-defined]


def add_joint(buffer: JointReplayBuffer, joint: JointTransition) -> None:
    """Add a step's joint transitions to a joint replay buffer.

    :param buffer: the buffer, one env per copy
    :param joint: the transitions, from :func:`joint_transition`
    """
    buffer.add(
        joint.obs,
        joint.next_obs,
        joint.actions,
        joint.rewards,
        joint.dones,
        [{"TimeLimit.truncated": bool(truncated)} for truncated in joint.truncated],
        joint.next_action_masks,
        joint.active,
        states=joint.states,
        next_states=joint.next_states,
        next_active=joint.next_active,
    )
