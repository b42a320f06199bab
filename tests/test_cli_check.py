"""``sb3-marl check``: what the VecEnv makes of an env, then the diagnosis of ``sb3_marl.envs.check``,
as text or JSON, bounded, with a non-zero exit code on an error."""

from __future__ import annotations

import json
import time

import pytest

from sb3_marl.cli import main

SPREAD = "mpe2.simple_spread_v3"
FAULT_MODULE = """
from envs_for_tests import FaultEnv


def parallel_env(fault: str | None = None, at: int = 2):
    return FaultEnv(fault, at=at)
"""


@pytest.fixture
def fault_env(tmp_path, monkeypatch) -> str:
    """The module path of an env (``tests/envs_for_tests.FaultEnv``) that goes wrong as ``fault=`` says."""
    (tmp_path / "h2_fault_env_v0.py").write_text(FAULT_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "h2_fault_env_v0"


def test_check_describes_then_diagnoses(capsys):
    assert main(["check", "--env", SPREAD, "--steps", "100"]) == 0
    out = capsys.readouterr().out
    assert "Slot spaces: observation Box(-inf, inf, (18,), float32), action Discrete(5)" in out
    assert "Algorithms that fit: madqn, ppo, a2c, dqn, qrdqn, maskable_ppo" in out
    assert "Random play: 100 steps, 4 whole episodes, stopped by max_steps" in out
    assert "cooperative-rewards: A cooperative game" in out
    assert out.strip().endswith("OK: 0 error(s), 0 warning(s).")


def test_check_as_json_exits_1_on_an_error(fault_env, capsys):
    assert main(["check", "--env", fault_env, "--env-kwargs", "fault=nan_obs", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["vec_env"]["algorithms_that_fit"][0] == "madqn"
    errors = [f for f in report["check"]["findings"] if f["level"] == "error"]
    assert errors[0]["code"] == "obs-non-finite" and "holds nan" in errors[0]["message"] and errors[0]["fix"]


def test_check_on_episodes_without_steps_returns_within_its_bound(fault_env, capsys):
    start = time.monotonic()
    args = ["check", "--env", fault_env, "--env-kwargs", "fault=no_agents", "--steps", "100000"]
    assert main([*args, "--episodes", "100000", "--seconds", "5"]) == 1
    assert time.monotonic() - start < 10
    out = capsys.readouterr().out
    assert "ERROR   no-agents: " in out and "FAILED: " in out


def test_check_with_no_steps_reads_the_spaces_only(capsys):
    assert main(["check", "--env", SPREAD, "--steps", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "ok": True,
        "vec_env": {
            "api": "parallel",
            "slot_observation_space": "Box(-inf, inf, (18,), float32)",
            "slot_action_space": "Discrete(5)",
            "padded_observations": False,
            "padded_actions": False,
            "action_masks": None,
            "state_space": "Box(-inf, inf, (54,), float32)",
            "algorithms_that_fit": ["madqn", "ppo", "a2c", "dqn", "qrdqn", "maskable_ppo"],
            "problem": None,
        },
        "check": None,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seconds", "0"], "argument --seconds: give a positive number of seconds, got 0"),
        (["--seconds", "inf"], "argument --seconds: give a positive number of seconds, got inf"),
        (["--episodes", "0"], "argument --episodes: give a positive integer, got 0"),
    ],
)
def test_check_bounds_are_checked(args, message, capsys):
    with pytest.raises(SystemExit) as done:
        main(["check", "--env", SPREAD, *args])
    assert done.value.code == 2
    assert capsys.readouterr().err == f"sb3-marl check: error: {message} (see --help)\n"
