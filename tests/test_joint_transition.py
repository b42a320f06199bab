"""The info protocol as MADQN reads it (transitions.read_step) and the joint transition of each env copy
(transitions.joint_transition), on steps written by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sb3_marl.buffers import PrioritizedReplayBuffer
from sb3_marl.madqn.transitions import joint_transition, read_step
from tests.test_buffers import add_step, make_buffer

MASK_ALL, MASK_01, MASK_0 = np.array([1, 1, 1], bool), np.array([1, 1, 0], bool), np.array([1, 0, 0], bool)


def two_copies_step() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Two copies of two agents (slots 0-1: copy 0, slots 2-3: copy 1), observations ``[slot, 9]``.

    Copy 0 goes on: agent 1 terminates. Copy 1 ends: agent 0 is cut by a time limit, agent 1 was already
    dead (inactive, reward 0); the copy has reset, with its last global state ``[7, 7, 7]``.
    """
    new_obs = np.array([[0, 9], [1, 9], [2, 9], [3, 9]], np.float32)  # the reset one for slots 1, 2
    rewards = np.array([1.0, 2.0, 4.0, 0.0], np.float32)
    dones = np.array([False, True, True, False])
    infos: list[dict[str, Any]] = [
        {"action_mask": MASK_ALL},
        {
            "action_mask": MASK_0,
            "terminal_observation": np.array([1, -1], np.float32),
            "terminal_action_mask": MASK_01,
            "TimeLimit.truncated": False,
        },
        {
            "action_mask": MASK_ALL,
            "terminal_observation": np.array([2, -1], np.float32),
            "terminal_action_mask": MASK_0,
            "TimeLimit.truncated": True,
            "copy_done": True,
            "terminal_state": np.array([7, 7, 7]),
        },
        {"action_mask": MASK_0, "inactive": True, "copy_done": True, "terminal_state": np.array([7, 7, 7])},
    ]
    return new_obs, rewards, dones, infos


def test_read_step_by_hand() -> None:
    new_obs, _, dones, infos = two_copies_step()
    step = read_step(new_obs, dones, infos)
    np.testing.assert_array_equal(step.next_obs, [[0, 9], [1, -1], [2, -1], [3, 9]])
    assert step.ended.tolist() == [False, True, True, False]
    np.testing.assert_array_equal(step.next_action_masks, [MASK_ALL, MASK_01, MASK_0, MASK_0])
    assert step.active.tolist() == [True, True, True, False]
    assert step.truncated.tolist() == [False, False, True, False]
    assert step.copy_done.tolist() == [False, False, True, True]
    assert set(step.terminal_states) == {2, 3} and step.terminal_states[2].tolist() == [7, 7, 7]
    assert new_obs[1].tolist() == [1, 9]  # the VecEnv's array is not written


def test_read_step_without_masks_or_terminal_observation() -> None:
    step = read_step(np.zeros((2, 1)), np.array([True, False]), [{}, {}])  # e.g. a plain SB3 VecEnv
    assert step.next_action_masks is None and not step.ended.any() and step.active.all()
    # masks from some slots only: the others count as all legal
    step = read_step(np.zeros((2, 1)), np.array([False, False]), [{}, {"action_mask": MASK_0}])
    np.testing.assert_array_equal(step.next_action_masks, [MASK_ALL, MASK_0])


@pytest.mark.parametrize(("team_reward", "expected"), [("sum", [3.0, 4.0]), ("mean", [1.5, 2.0])])
def test_joint_transition_by_hand(team_reward: str, expected: list[float]) -> None:
    new_obs, rewards, dones, infos = two_copies_step()
    obs = np.array([[0, 8], [1, 8], [2, 8], [3, 8]], np.float32)
    states = np.array([[0, 0, 0], [1, 1, 1]], np.float32)
    new_states = np.array([[2, 2, 2], [3, 3, 3]], np.float32)  # copy 1: the reset state
    joint = joint_transition(
        obs, np.array([2, 1, 0, 0]), rewards, new_obs, dones, infos, states, new_states, 2, team_reward
    )
    assert joint.obs.shape == (2, 2, 2) and joint.obs[1, 0].tolist() == [2, 8]
    np.testing.assert_array_equal(joint.next_obs, [[[0, 9], [1, -1]], [[2, -1], [3, 9]]])
    assert joint.actions.tolist() == [[2, 1], [0, 0]]
    assert joint.rewards.tolist() == expected and joint.rewards.dtype == np.float32
    assert joint.dones.tolist() == [False, True]  # the copy's episode, not one agent's
    assert joint.truncated.tolist() == [False, True]
    np.testing.assert_array_equal(joint.next_action_masks, [[MASK_ALL, MASK_01], [MASK_0, MASK_0]])
    assert joint.states.tolist() == states.tolist()
    assert joint.next_states.tolist() == [[2, 2, 2], [7, 7, 7]]  # copy 1 ended: its terminal state
    assert joint.active.tolist() == [[True, True], [True, False]]
    # terminated agent 1 of copy 0 is not bootstrapped; truncated agent 0 of copy 1 is; dead ones are not
    assert joint.next_active.tolist() == [[True, False], [True, False]]


def test_joint_transition_without_env_state() -> None:
    """Without ``terminal_state`` (an env with no state()), an ended copy's next state is its agents'
    terminal observations side by side."""
    new_obs, rewards, dones, infos = two_copies_step()
    for info in infos:
        info.pop("terminal_state", None)
    joint = joint_transition(
        new_obs, np.zeros(4), rewards, new_obs, dones, infos, new_obs.reshape(2, 4), new_obs.reshape(2, 4), 2
    )
    assert joint.next_states.tolist() == [[0, 9, 1, 9], [2, -1, 3, 9]]


def test_done_slots_store_the_terminal_action_mask():
    """Moved from test_buffers: the buffer stores the masks read from the infos."""
    buffer = make_buffer(buffer_size=4, n_envs=2, action_mask_dim=2)
    reset_mask, terminal_mask = np.array([True, False]), np.array([False, True])
    infos = [
        {
            "action_mask": reset_mask,
            "terminal_observation": np.zeros(2),
            "terminal_action_mask": terminal_mask,
        },
        {"action_mask": reset_mask, "terminal_observation": np.zeros(2)},  # no terminal mask: fall back
    ]

    def add(buffer: PrioritizedReplayBuffer, t: int, dones: np.ndarray, infos: list[dict]) -> None:
        masks = read_step(np.zeros((2, 2)), dones, infos).next_action_masks
        add_step(buffer, t, 2, dones=dones, infos=infos, next_action_masks=masks)

    add(buffer, 0, np.array([1.0, 1.0]), infos)
    add(buffer, 1, np.array([0.0, 0.0]), infos)  # not done: the terminal keys are not used
    np.testing.assert_array_equal(buffer.next_action_masks[0], [terminal_mask, reset_mask])
    np.testing.assert_array_equal(buffer.next_action_masks[1], [reset_mask, reset_mask])
