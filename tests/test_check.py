"""check_env: bounded in steps, episodes and seconds, and each finding right on small faulty envs and on
simple_spread, connect_four, knights_archers_zombies and simple_world_comm."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv

from sb3_marl.envs.check import CheckReport, check_env

SPREAD = "mpe2.simple_spread_v3"
CONNECT_FOUR = "pettingzoo.classic.connect_four_v3"
KAZ = "pettingzoo.butterfly.knights_archers_zombies_v11"  # v10 is deprecated in PettingZoo 1.27
WORLD_COMM = "mpe2.simple_world_comm_v3"


class FaultyEnv(ParallelEnv):
    """Agents ``a0``, ``a1``: Box(0, 1, (2,)) observations, Discrete(3) actions, episodes of ``length``
    steps ending in truncation. Every fault is off unless asked for.

    :param nan_at: the step whose observations hold a NaN
    :param outside_at: the step whose observations hold 2.0 (above the space's high)
    :param dtype: the observations' dtype (space and arrays)
    :param mask: ``"good"``, ``"long"`` (4 entries), ``"all_false"`` or ``"sometimes"`` (even steps only)
        action masks in infos; None: none
    :param reward_scale: both agents get ``reward_scale * u`` for a seeded uniform ``u``
    :param zero_sum: ``a1`` gets minus ``a0``'s reward instead
    :param terminate_at_limit: end episodes with terminations instead of truncations
    :param max_cycles: set as the env's ``max_cycles`` attribute
    :param unseeded: ``"reset"``: draw observations, ``"step"``: rewards from NumPy's global generator
    :param nan_reward_at: the step whose rewards are NaN
    :param death_at: ``a1`` leaves (terminated) at this step
    :param omit_last_obs: leave the dying ``a1`` out of that step's observations
    :param no_agents: reset leaves ``env.agents`` empty
    :param step_sleep: seconds each step sleeps; ``float("inf")``: step never returns
    """

    metadata = {"name": "faulty_v0"}
    render_mode = None

    def __init__(
        self,
        length: int = 4,
        nan_at: int | None = None,
        outside_at: int | None = None,
        dtype: Any = np.float32,
        mask: str | None = None,
        reward_scale: float = 1.0,
        zero_sum: bool = False,
        terminate_at_limit: bool = False,
        max_cycles: int | None = None,
        unseeded: str | None = None,
        nan_reward_at: int | None = None,
        death_at: int | None = None,
        omit_last_obs: bool = False,
        no_agents: bool = False,
        step_sleep: float = 0.0,
    ):
        self.possible_agents = ["a0", "a1"]
        self.length, self.nan_at, self.outside_at, self.dtype, self.mask = (
            length,
            nan_at,
            outside_at,
            dtype,
            mask,
        )
        self.reward_scale, self.zero_sum, self.terminate_at_limit = reward_scale, zero_sum, terminate_at_limit
        if max_cycles is not None:
            self.max_cycles = max_cycles
        self.unseeded, self.death_at, self.omit_last_obs = unseeded, death_at, omit_last_obs
        self.no_agents, self.step_sleep, self.nan_reward_at = no_agents, step_sleep, nan_reward_at
        self.rng = np.random.default_rng(0)
        self.t = 0
        self.agents: list[str] = []

    def observation_space(self, agent: str) -> spaces.Space:
        return spaces.Box(0, 1, (2,), self.dtype)

    def action_space(self, agent: str) -> spaces.Space:
        return spaces.Discrete(3)

    def _obs(self) -> dict[str, np.ndarray]:
        draw = np.random.random if self.unseeded == "reset" else self.rng.random
        obs = {a: draw(2).astype(self.dtype) for a in self.agents}
        for a in obs:
            if self.t == self.nan_at:
                obs[a][1] = np.nan
            if self.t == self.outside_at:
                obs[a][0] = 2.0
        return obs

    def _infos(self) -> dict[str, dict[str, Any]]:
        masks = {
            "good": np.array([1, 0, 1], np.int8),
            "long": np.ones(4, np.int8),
            "all_false": np.zeros(3, np.int8),
            "sometimes": np.ones(3, np.int8) if self.t % 2 == 0 else None,
        }
        mask = masks.get(self.mask) if self.mask else None
        return {a: {} if mask is None else {"action_mask": mask} for a in self.agents}

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        self.rng = np.random.default_rng(seed)
        self.t = 0
        self.agents = [] if self.no_agents else list(self.possible_agents)
        return self._obs(), self._infos()

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        while self.step_sleep == float("inf"):
            time.sleep(0.01)
        time.sleep(self.step_sleep)
        self.t += 1
        u = self.reward_scale * float(np.random.random() if self.unseeded == "step" else self.rng.random())
        if self.t == self.nan_reward_at:
            u = float("nan")
        rewards = {"a0": u, "a1": -u if self.zero_sum else u}
        rewards = {a: rewards[a] for a in self.agents}
        end = self.t >= self.length
        terms = dict.fromkeys(self.agents, end and self.terminate_at_limit)
        truncs = dict.fromkeys(self.agents, end and not self.terminate_at_limit)
        if self.t == self.death_at and "a1" in self.agents:
            terms["a1"] = True
        obs, infos = self._obs(), self._infos()
        if self.t == self.death_at and self.omit_last_obs:
            obs.pop("a1", None)
        self.agents = [a for a in self.agents if not (terms[a] or truncs[a])]
        return obs, rewards, terms, truncs, infos


class StuckDeadAEC(AECEnv):
    """An AEC env whose one agent is done at once and never removed by ``step(None)``."""

    metadata = {"name": "stuck_dead_v0"}
    render_mode = None

    def __init__(self) -> None:
        self.possible_agents = ["p0"]

    def observation_space(self, agent: str) -> spaces.Space:
        return spaces.Box(0, 1, (1,), np.float32)

    def action_space(self, agent: str) -> spaces.Space:
        return spaces.Discrete(2)

    def observe(self, agent: str) -> np.ndarray:
        return np.zeros(1, np.float32)

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self.agents = ["p0"]
        self.agent_selection = "p0"
        self.rewards = {"p0": 0.0}
        self._cumulative_rewards = {"p0": 0.0}
        self.terminations, self.truncations, self.infos = {"p0": False}, {"p0": False}, {"p0": {}}

    def step(self, action: Any) -> None:
        self.terminations["p0"] = True  # done, but never leaves env.agents


class DyingTurnEnv(AECEnv):
    """Players ``p0, p1, p2`` move in turn (the mover gets reward 1); ``p2`` is terminated at move 2,
    the others are truncated after move ``n_moves``."""

    metadata = {"name": "dying_turn_v0"}
    render_mode = None

    def __init__(self, n_moves: int = 7) -> None:
        self.possible_agents = ["p0", "p1", "p2"]
        self.n_moves = n_moves

    def observation_space(self, agent: str) -> spaces.Space:
        return spaces.Box(0, 100, (1,), np.float32)

    def action_space(self, agent: str) -> spaces.Space:
        return spaces.Discrete(2)

    def observe(self, agent: str) -> np.ndarray:
        return np.array([self.t], np.float32)

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self.agents = list(self.possible_agents)
        self.t = 0
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict] = {a: {} for a in self.agents}
        self.agent_selection = "p0"

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:  # step it out
            for flags in (
                self.rewards,
                self._cumulative_rewards,
                self.terminations,
                self.truncations,
                self.infos,
            ):
                del flags[agent]
            self.agents.remove(agent)
            self._clear_rewards()
            self._select(agent)
            return
        self._clear_rewards()
        self.t += 1
        self.rewards[agent] = 1.0
        if self.t == 2:
            self.terminations["p2"] = True
        if self.t >= self.n_moves:
            self.truncations = dict.fromkeys(self.agents, True)
        self._select(agent)

    def _select(self, last: str) -> None:
        """Next: an agent that is done (to be stepped out), else the next live one after ``last``."""
        dead = [a for a in self.agents if self.terminations[a] or self.truncations[a]]
        order = self.possible_agents[self.possible_agents.index(last) + 1 :] + self.possible_agents
        self.agent_selection = dead[0] if dead else next((a for a in order if a in self.agents), last)


def check(env_kwargs: dict[str, Any] | None = None, **bounds: Any) -> CheckReport:
    return check_env(FaultyEnv, env_kwargs, **{"max_steps": 200, "max_seconds": 10.0, **bounds})


def message(report: CheckReport, code: str) -> str:
    finding = report.get(code)
    assert finding is not None, f"no {code!r} in {report.codes()}:\n{report.to_text()}"
    return finding.message


# -- never hangs ------------------------------------------------------------------------------------


def test_an_env_whose_episodes_have_no_steps_returns_at_once_with_an_error():
    start = time.monotonic()
    report = check({"no_agents": True}, max_steps=10_000, max_episodes=10_000)
    assert time.monotonic() - start < 2
    assert not report.ok and report.codes()[0] == "no-agents"
    assert "reset(seed=0) left env.agents empty" in message(report, "no-agents")
    assert report.steps == 0 and report.stopped_by == "error"


def test_episodes_that_end_at_once_stop_at_max_episodes():
    report = check({"length": 1}, max_steps=10_000, max_episodes=30)
    assert report.stopped_by == "max_episodes" and report.episodes == 30 and report.steps == 30
    assert message(report, "one-step-episodes") == "Every episode (30) ended after its first step."


def test_a_slow_endless_env_stops_at_max_seconds():
    start = time.monotonic()
    report = check({"length": 10**9, "step_sleep": 0.02}, max_steps=10**9, max_seconds=1.0)
    assert time.monotonic() - start < 2.5
    assert report.stopped_by == "max_seconds" and 10 < report.steps < 60
    assert "No episode ended within the bound" in message(report, "no-episode-ended")
    assert message(report, "slow-env").startswith("The env makes only ")


def test_a_step_that_never_returns_is_interrupted():
    start = time.monotonic()
    report = check({"step_sleep": float("inf")}, max_seconds=1.0)
    assert time.monotonic() - start < 3.5
    assert not report.ok and report.stopped_by == "max_seconds"
    assert message(report, "call-timeout").startswith("step had not returned after ")


def test_an_aec_agent_that_never_leaves_stops_at_max_steps():
    report = check_env(StuckDeadAEC, max_steps=50, max_episodes=50, max_seconds=10.0)
    assert report.api == "aec" and report.steps == 50 and report.stopped_by == "max_steps"
    assert "step(None) for p0, done at turn 0 of episode 0, left it in env.agents" in message(
        report, "done-agent-stays"
    )


def test_an_aec_agent_that_dies():
    report = check_env(DyingTurnEnv, max_steps=200, max_seconds=10.0)
    assert report.ok and report.api == "aec"
    died = message(report, "agents-die")
    assert died.startswith("Agents leave before their episode ends (terminated): ")
    assert "(p2; first p2 at turn 1 of episode 0); their last observation comes back" in died
    assert "by truncation" in message(report, "episodes")
    assert "deterministic" in report.codes()
    assert "opposed-rewards" not in report.codes()  # taking turns (rewards per cycle of turns)


# -- findings on faulty envs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env_kwargs, code, level, text",
    [
        (
            {"nan_at": 2},
            "obs-non-finite",
            "error",
            "Agent a0's observation at step 1 of episode 0 holds nan at index (1,)",
        ),
        ({"outside_at": 0}, "obs-outside-space", "error", "outside its space's [0.0, 1.0]"),
        ({"dtype": np.float64}, "float64-observations", "warning", "Observations are float64 (a0, a1: Box("),
        (
            {"mask": "long"},
            "mask-length",
            "error",
            "has 4 entries, its action space Discrete(3) has 3 actions",
        ),
        (
            {"mask": "all_false"},
            "mask-all-false",
            "error",
            "Agent a0's action mask at step 0 of episode 0 allows no action, yet it must act",
        ),
        (
            {"mask": "sometimes"},
            "mask-missing",
            "warning",
            "Agent a0 has no action mask at step 1 of episode 0",
        ),
        (
            {"reward_scale": 50.0},
            "reward-scale",
            "warning",
            "Large rewards: a0's typical nonzero |reward| is",
        ),
        ({"reward_scale": 0.0}, "rewards-all-zero", "warning", "No agent got a nonzero reward in 200 steps"),
        (
            {"zero_sum": True},
            "zero-sum-rewards",
            "warning",
            "Rewards sum to (about) zero in every step (of 200)",
        ),
        ({}, "cooperative-rewards", "info", "every agent gets the same reward in every step (a team reward"),
        (
            {"unseeded": "reset"},
            "reset-not-deterministic",
            "warning",
            "reset(seed=0) of two new envs gave different",
        ),
        (
            {"unseeded": "step"},
            "trajectory-not-deterministic",
            "warning",
            "Under reset(seed=0) and the same actions, a new env gave other rewards at step 0",
        ),
        (
            {"nan_reward_at": 3},
            "reward-non-finite",
            "error",
            "Agent a0's reward at step 2 of episode 0 is nan",
        ),
        (
            {"terminate_at_limit": True, "max_cycles": 4},
            "time-limit-as-termination",
            "warning",
            "50 of 50 episodes ended at max_cycles=4 with terminations, not truncations",
        ),
        (
            {"terminate_at_limit": True},
            "time-limit-as-termination",
            "warning",
            "Every episode (50) ended after exactly 4 steps by termination: if that is a time limit",
        ),
        (
            {"max_cycles": 4},
            "time-limit-truncation",
            "info",
            "Episodes that reach max_cycles=4 end with truncations",
        ),
        (
            {"death_at": 2},
            "agents-die",
            "info",
            "(terminated): 50 times (a1; first a1 at step 1 of episode 0); their last",
        ),
        (
            {"death_at": 2, "omit_last_obs": True},
            "death-no-last-obs",
            "warning",
            "50 times an agent's last observation did not come back at the step it left (first a1 at step 1",
        ),
    ],
)
def test_each_fault_gets_its_finding(env_kwargs, code, level, text):
    report = check(env_kwargs)
    finding = report.get(code)
    assert finding is not None, f"no {code!r} in {report.codes()}:\n{report.to_text()}"
    assert finding.level == level
    assert text in finding.message
    if level != "info":
        assert finding.fix
    assert report.ok == (not report.errors) == (level != "error")


def test_a_well_behaved_env_gets_no_warnings():
    report = check({"mask": "good", "max_cycles": 4}, max_steps=150)
    assert report.ok and report.warnings == []
    assert {
        "deterministic",
        "observations-ok",
        "masks",
        "no-deaths",
        "time-limit-truncation",
        "speed",
    } <= set(report.codes())
    assert "Action masks come in the env's infos, given at all" in message(report, "masks")
    assert report.episodes == 37 and report.stopped_by == "max_steps" and report.steps_per_second


def test_the_report_as_text_and_json():
    report = check({"nan_at": 2})
    text = report.to_text()
    assert text.splitlines()[0] == "Check of FaultyEnv (faulty_v0): parallel API, 2 agents"
    assert "ERROR   obs-non-finite: Agent a0's observation at step 1" in text
    assert "        fix: Mend the env or clip its observations" in text
    assert text.splitlines()[-1].startswith("FAILED: 1 error(s), ")
    data = json.loads(report.to_json())
    assert data["ok"] is False and data["api"] == "parallel" and data["agents"] == ["a0", "a1"]
    assert data["findings"][0]["level"] == "error" and data["findings"][0]["code"] == "obs-non-finite"
    assert set(data["findings"][0]) == {"level", "code", "message", "fix", "agents"}


def test_a_constructor_that_raises_is_an_error_finding():
    report = check({"no_such_argument": 1})
    assert not report.ok and report.api is None
    assert message(report, "env-raised").startswith("the env constructor raised TypeError: ")


@pytest.mark.parametrize(
    "bounds, error",
    [
        ({"max_steps": 0}, "max_steps and max_episodes must be at least 1, got 0 and 50."),
        ({"max_seconds": -1}, "max_seconds must be a positive number of seconds, got -1."),
        ({"max_episodes": 2.5}, "max_episodes must be an int, got 2.5."),
    ],
)
def test_bad_bounds_are_one_clear_error(bounds, error):
    with pytest.raises((ValueError, TypeError)) as info:
        check_env(FaultyEnv, **bounds)
    assert str(info.value) == error


# -- the envs users run ---------------------------------------------------------------------------------


def test_simple_spread():
    report = check_env(SPREAD, max_steps=300, max_seconds=20.0)
    print(report.to_text())
    assert report.ok and report.api == "parallel" and report.agents == ["agent_0", "agent_1", "agent_2"]
    assert "float64-observations" not in report.codes()  # mpe2's observations are float32
    assert "dtypes: float32." in message(report, "observations-ok")
    assert "agents' rewards per step move together" in message(report, "cooperative-rewards")
    assert "agent_0 [" in message(report, "rewards") and "(all ≤ 0)" in message(report, "rewards")
    assert "Episodes that reach max_cycles=25 end with truncations" in message(
        report, "time-limit-truncation"
    )
    assert {"deterministic", "no-masks", "no-deaths", "vec-env", "speed"} <= set(report.codes())
    assert not {"spaces-differ", "opposed-rewards", "zero-sum-rewards"} & set(report.codes())


def test_connect_four():
    report = check_env(CONNECT_FOUR, max_steps=300, max_seconds=20.0)
    print(report.to_text())
    assert report.ok and report.api == "aec"
    assert "Action masks come in the env's observations, given at all" in message(report, "masks")
    assert not any(code.startswith("mask-") for code in report.codes())
    assert "a zero-sum game" in message(report, "zero-sum-rewards")
    assert report.get("zero-sum-rewards").agents == ["player_0", "player_1"]  # type: ignore[union-attr]
    assert "by termination, 0 by truncation" in message(report, "episodes")
    assert "deterministic" in report.codes()


def test_knights_archers_zombies():
    report = check_env(KAZ, {"spawn_delay": 3, "max_cycles": 200}, max_steps=300, max_seconds=20.0)
    print(report.to_text())
    assert report.ok
    assert (
        "Observations are float64 (archer_0, archer_1, knight_0, knight_1: Box(-1.0, 1.0, (27, 5)"
        in message(report, "float64-observations")
    )
    assert "supersuit.dtype_v0" in report.get("float64-observations").fix  # type: ignore[union-attr]
    died = message(report, "agents-die")
    assert "Agents leave before their episode ends (terminated)" in died
    assert "their last observation comes back" in died
    assert "death-no-last-obs" not in report.codes()


def test_simple_world_comm():
    report = check_env(WORLD_COMM, max_steps=300, max_seconds=20.0)
    print(report.to_text())
    assert report.ok
    differ = message(report, "spaces-differ")
    assert "observation spaces differ (leadadversary_0, adversary_0, adversary_1, adversary_2: Box(" in differ
    assert "agent_0, agent_1: Box(-inf, inf, (28,), float32)" in differ
    assert "agent_indicator=True" in report.get("spaces-differ").fix  # type: ignore[union-attr]
    opposed = message(report, "opposed-rewards")
    adversaries = "leadadversary_0, adversary_0, adversary_1, adversary_2"
    assert opposed.startswith(f"Rewards move against each other: {adversaries} vs agent_0, agent_1 (")
    assert "a mixed or adversarial game" in opposed
    assert "cooperative-rewards" not in report.codes()
    with_indicator = check_env(WORLD_COMM, agent_indicator=True, max_steps=30, max_seconds=20.0)
    assert with_indicator.get("spaces-differ").level == "info"  # type: ignore[union-attr]
