"""Bad input to the env layer: each gets one clear error at the earliest point, naming the value (the
agent, the copy, the step) and the fix. One table of bad inputs, and the cases a table cannot hold."""

from __future__ import annotations

import os
import signal
import warnings
from typing import Any

import numpy as np
import pytest
from envs_for_tests import N_ACTIONS, DeathEnv, FaultEnv
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from sb3_marl.envs import MultiAgentVecEnv, make_vec_env

FIX_FINITE = "check_finite=False"


def play(fault: str | None, at: int = 2, steps: int = 4, **make_kwargs: Any) -> None:
    """Make a VecEnv of ``FaultEnv(fault, at)``, reset it and step it ``steps`` times with action 0."""
    venv = make_vec_env(lambda: FaultEnv(fault, at), **make_kwargs)
    try:
        venv.reset()
        for _ in range(steps):
            venv.step(np.zeros(venv.num_envs, dtype=int))
    finally:
        venv.close()


# (what goes wrong, how to make it happen, the error, every fragment its message must hold)
BAD_INPUTS = [
    # -- non-finite values, caught in the step (or reset) they enter
    (
        "nan observation",
        dict(fault="nan_obs"),
        ValueError,
        [
            "The env gave agent 'a1' (slot 1, env copy 0) a non-finite observation at step 2 of its episode",
            "1 of its 2 values are NaN or inf (the first, at flat index 1, is nan)",
            "np.nan_to_num",
            FIX_FINITE,
        ],
    ),
    ("inf observation", dict(fault="inf_obs"), ValueError, ["non-finite observation at step 2", "is inf"]),
    (
        "nan observation at reset",
        dict(fault="nan_obs", at=0),
        ValueError,
        ["agent 'a1' (slot 1, env copy 0) a non-finite observation at reset", FIX_FINITE],
    ),
    (
        "nan observation in the second copy",
        dict(fault="nan_obs", at=0, n_envs=2, check_obs_of_copy=1),
        ValueError,
        ["agent 'a1' (slot 4, env copy 1) a non-finite observation at reset"],
    ),
    (
        "nan terminal observation",
        dict(fault="nan_terminal_obs"),
        ValueError,
        ["agent 'a1' (slot 1, env copy 0) a non-finite observation as its terminal observation, at step 2"],
    ),
    (
        "nan reward",
        dict(fault="nan_reward"),
        ValueError,
        ["The env gave agent 'a1' (slot 1, env copy 0) a non-finite reward (nan) at step 2", FIX_FINITE],
    ),
    (
        "inf reward",
        dict(fault="inf_reward"),
        ValueError,
        ["a non-finite reward (-inf) (rewards are float32: one beyond ±3.4e38 becomes inf) at step 2"],
    ),
    ("reward beyond float32", dict(fault="huge_reward"), ValueError, ["a non-finite reward (inf)"]),
    # -- masks and agents
    (
        "mask too long",
        dict(fault="long_mask"),
        ValueError,
        [
            "The action mask of agent 'a1' has shape (4,), but its action space is Discrete(3): expected "
            "shape (3,)",
            "(env copy 0, step 2 of its episode)",
        ],
    ),
    (
        "mask too short",
        dict(fault="short_mask"),
        ValueError,
        ["agent 'a1' has shape (2,)", "expected shape (3,)"],
    ),
    (
        "all-False mask",
        dict(fault="empty_mask"),
        ValueError,
        ["The env gave agent 'a1' (slot 1, env copy 0) an all-False action mask at step 2 of its episode"],
    ),
    (
        "all-False mask at reset",
        dict(fault="empty_mask", at=0),
        ValueError,
        ["agent 'a1' (slot 1, env copy 0) an all-False action mask at reset"],
    ),
    (
        "agent outside possible_agents",
        dict(fault="stranger"),
        ValueError,
        [
            "Env copy 0 (fault_v0) has agent 'intruder' at step 2 of its episode, which is not one of its "
            "possible_agents ['a0', 'a1', 'a2']"
        ],
    ),
    (
        "agent outside possible_agents at reset",
        dict(fault="stranger", at=0),
        ValueError,
        ["Env copy 0 (fault_v0) has agent 'intruder' at step 0"],
    ),
    (
        "no agents after reset",
        dict(fault="no_agents"),
        ValueError,
        ["Env copy 0 (fault_v0) has no agents after reset(): env.agents is empty"],
    ),
    (
        "no possible agents",
        dict(fault="no_possible_agents"),
        ValueError,
        ["Env fault_v0 has no possible_agents"],
    ),
    # -- a worker process that dies
    (
        "dead worker",
        dict(fault="exit", subprocess=True),
        RuntimeError,
        ["The worker process of env copy 0 (pid ", "died during step() (exit code 3)", "stderr above"],
    ),
    # -- arguments
    *(
        (f"n_envs={n!r}", dict(fault=None, n_envs=n), ValueError, ["n_envs must be a positive int", repr(n)])
        for n in (2.5, 0, -1, True, "2")
    ),
    *(
        (f"seed={s!r}", dict(fault=None, seed=s), ValueError, ["seed must be a non-negative int", repr(s)])
        for s in (-1, 1.5)
    ),
    (
        "start_method without subprocess",
        dict(fault=None, start_method="fork"),
        ValueError,
        ["start_method='fork' is for worker processes: pass subprocess=True"],
    ),
    (
        "unknown start_method",
        dict(fault=None, subprocess=True, start_method="thread"),
        ValueError,
        ["Unknown start_method 'thread'", "forkserver"],
    ),
    ("env_kwargs not a dict", dict(fault=None, env_kwargs=["x"]), TypeError, ["env_kwargs must be a dict"]),
    (
        "wrapper_class not callable",
        dict(fault=None, wrapper_class=3),
        TypeError,
        ["wrapper_class must be callable"],
    ),
    (
        "flag not a bool",
        dict(fault=None, agent_indicator="yes"),
        TypeError,
        ["agent_indicator must be True or False"],
    ),
    (
        "monitor_dir without monitor",
        dict(fault=None, monitor=False, monitor_dir="out"),
        ValueError,
        ["monitor_dir is where the monitor writes: pass monitor=True"],
    ),
    (
        "vec_env_cls not a VecEnv class",
        dict(fault=None, vec_env_cls=int),
        ValueError,
        ["use subprocess=True"],
    ),
]


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # the reward beyond float32
@pytest.mark.parametrize(
    ("what", "case", "error", "fragments"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS]
)
def test_bad_input_gets_one_clear_error(what, case, error, fragments):
    case = dict(case)
    fault, at = case.pop("fault"), case.pop("at", 2)
    if case.pop("check_obs_of_copy", None) is not None:  # only the second copy goes wrong
        made = iter([FaultEnv(None), FaultEnv(fault, at)])
        case["env"] = lambda: next(made)
    with pytest.raises(error) as raised:
        if "env" in case:
            venv = make_vec_env(case.pop("env"), **case)
            venv.reset()
            venv.close()
        else:
            play(fault, at, **case)
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message


def test_check_finite_false_lets_the_values_through():
    venv = make_vec_env(lambda: FaultEnv("nan_obs"), check_finite=False)
    venv.reset()
    venv.step(np.zeros(3, dtype=int))
    obs, rewards, _, _ = venv.step(np.zeros(3, dtype=int))
    assert np.isnan(obs[1, 1]) and np.isfinite(obs[[0, 2]]).all()
    venv.close()
    venv = make_vec_env(lambda: FaultEnv("nan_reward"), check_finite=False)
    venv.reset()
    venv.step(np.zeros(3, dtype=int))
    _, rewards, _, _ = venv.step(np.zeros(3, dtype=int))
    assert np.isnan(rewards[1])
    venv.close()


def test_killed_worker_is_named():
    venv = make_vec_env(lambda: DeathEnv(), n_envs=2, subprocess=True)
    venv.reset()
    worker = venv.venv._copies[1].process
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(5)
    for _ in range(2):  # each call says so again, and the live copy is not left behind
        with pytest.raises(
            RuntimeError, match=r"env copy 1 \(pid \d+\) died during step\(\) \(killed by signal 9\)"
        ):
            venv.step(np.zeros(6, dtype=int))
    venv.close()
    assert not venv.venv._copies[0].process.is_alive()


@pytest.mark.parametrize("start_method", ["fork", "spawn", "forkserver", None])
def test_subprocess_copies_say_what_they_are(start_method):
    venv = make_vec_env(lambda: DeathEnv(), n_envs=2, subprocess=True, start_method=start_method)
    inner = venv.venv
    expected = start_method or "forkserver"
    assert inner.subprocess and inner.start_method == expected
    assert repr(inner) == f"MultiAgentVecEnv(2 copies x 3 agents, in worker processes ({expected}))"
    assert all(copy.process.is_alive() for copy in inner._copies)
    venv.reset()
    _, rewards, _, _ = venv.step(np.zeros(6, dtype=int))
    assert rewards.tolist() == [DeathEnv.reward(k, 1) for k in range(3)] * 2
    venv.close()
    local = MultiAgentVecEnv([DeathEnv])
    assert not local.subprocess and local.start_method is None
    assert repr(local) == "MultiAgentVecEnv(1 copies x 3 agents, in this process)"
    local.close()


@pytest.mark.parametrize(("cls", "subprocess"), [(SubprocVecEnv, True), (DummyVecEnv, False)])
def test_vec_env_cls_is_deprecated(cls, subprocess):
    with pytest.warns(DeprecationWarning, match=r"vec_env_cls=\.\.\.\) is deprecated .* use subprocess=True"):
        venv = make_vec_env(lambda: DeathEnv(), vec_env_cls=cls)
    assert venv.venv.subprocess is subprocess
    venv.close()
    contradiction = pytest.raises(ValueError, match="subprocess=True contradicts vec_env_cls=DummyVecEnv")
    with contradiction, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        make_vec_env(lambda: DeathEnv(), subprocess=True, vec_env_cls=DummyVecEnv)


def test_mask_of_the_right_length_from_obs_dicts_still_works():
    venv = make_vec_env(lambda: DeathEnv(obs_masks=True))
    venv.reset()
    venv.step(np.zeros(3, dtype=int))
    assert venv.action_masks().shape == (3, N_ACTIONS)
    venv.close()
