"""Probe: the state of one check, its bookkeeping, and the checks of each observation, action mask and
reward that random play meets."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces

from sb3_marl.envs.check.guard import EnvFault
from sb3_marl.envs.check.report import Finding, Level
from sb3_marl.envs.vec_env import check_pettingzoo_env

_MAX_NAMED = 6  # items named in one message before "and N more"


def join_names(names: list[str], sep: str = ", ", more: str = " and") -> str:
    """The first few of ``names``, joined by ``sep``, and how many more there are."""
    shown = sep.join(names[:_MAX_NAMED])
    return shown if len(names) <= _MAX_NAMED else f"{shown}{more} {len(names) - _MAX_NAMED} more"


def digest(x: Any) -> Any:
    """``x`` with each array replaced by its shape, dtype and hash: small to keep, and equal exactly
    when the arrays are."""
    if isinstance(x, dict):
        return {k: digest(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [digest(v) for v in x]
    if isinstance(x, np.ndarray | np.generic):
        a = np.ascontiguousarray(x)
        return a.shape, str(a.dtype), hashlib.sha1(a.tobytes()).hexdigest()
    return x


def _first_index(where: np.ndarray) -> tuple[int, ...]:
    return tuple(int(j) for j in np.argwhere(where)[0])


@dataclass
class Note:
    """Occurrences of one problem: how often, the first one, and the agents concerned."""

    level: Level
    first: str
    count: int = 0
    agents: list[str] = field(default_factory=list)


@dataclass
class Episode:
    length: int  # steps (AEC: turns)
    cycles: int  # the most steps (turns) any one agent took
    ended: bool
    end_kinds: set[str]  # "terminated" / "truncated" of the agents that ended it


@dataclass
class Death:
    agent: str
    where: str
    kind: str
    last_obs: bool


@dataclass
class Probe:
    """One check of an env: its settings (as ``check_env`` takes them), what random play recorded, and
    the findings so far.

    :param make: returns a new env from ``env_kwargs``
    :param env_kwargs: keyword arguments of ``make``
    :param wrapper_class: applied to each env made, or None
    :param agent_indicator: whether training appends a one-hot agent id
    :param max_steps: env steps of random play
    :param max_episodes: episodes of random play
    :param max_seconds: the time the whole check may take
    :param seed: the seed of the first episode and of the random actions
    """

    make: Callable[..., Any]
    env_kwargs: dict[str, Any]
    wrapper_class: Callable[[Any], Any] | None
    agent_indicator: bool
    max_steps: int
    max_episodes: int
    max_seconds: float
    seed: int
    findings: list[Finding] = field(default_factory=list)
    notes: dict[str, Note] = field(default_factory=dict)
    current: str = "the env constructor"  # the env call running now, named when it overruns
    env: Any = None
    agents: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    obs_spaces: dict[str, spaces.Space] = field(default_factory=dict)
    act_spaces: dict[str, spaces.Space] = field(default_factory=dict)
    steps: int = 0
    step_seconds: float = 0.0
    stopped_by: str = "max_episodes"
    episodes: list[Episode] = field(default_factory=list)
    deaths: list[Death] = field(default_factory=list)
    # rewards per step (AEC: per cycle of turns, so turn-taking does not read as rewards moving against
    # each other); NaN where an agent is absent
    reward_rows: list[np.ndarray] = field(default_factory=list)
    reward_unit: str = "step"
    obs_seen: int = 0
    obs_dtypes: dict[str, set[str]] = field(default_factory=dict)
    mask_source: str | None = None
    masks_given: int = 0
    mask_turns: int = 0
    first_frames: list[dict[str, Any]] = field(default_factory=list)  # episode 0: digests of what came back
    first_actions: list[Any] = field(default_factory=list)
    deadline: float = math.inf  # of the whole check, set when it starts
    probe_deadline: float = math.inf  # of random play

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    # -- bookkeeping ----------------------------------------------------------------------------

    def add(
        self, level: Level, code: str, message: str, fix: str = "", agents: list[str] | None = None
    ) -> None:
        self.findings.append(Finding(level, code, message, fix, list(agents or [])))

    def note(self, level: Level, code: str, agent: str | None, first: str) -> None:
        """Count one occurrence of a problem; the first one's description is kept."""
        entry = self.notes.setdefault(code, Note(level, first))
        entry.count += 1
        if agent is not None and agent not in entry.agents:
            entry.agents.append(agent)

    def call(self, what: str, fn: Callable[..., Any], *args: Any, step: bool = False, **kwargs: Any) -> Any:
        """Run one env call (``step``: timed as a step); what it raises ends random play as an error
        finding."""
        self.current = what
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            raise EnvFault.raised(what, error) from error
        finally:
            if step:
                self.step_seconds += time.perf_counter() - start

    def build(self) -> Any:
        """A new env, wrapped (the env function of the VecEnv)."""
        made = self.make(**self.env_kwargs)
        return self.wrapper_class(made) if self.wrapper_class is not None else made

    def make_env(self, what: str) -> Any:
        return self.call(what, lambda: check_pettingzoo_env(self.build()))

    def room(self, deadline: float) -> bool:
        """Whether random play may go on; if not, the bound that ends it is kept."""
        if self.steps >= self.max_steps:
            self.stopped_by = "max_steps"
            return False
        if time.monotonic() >= deadline:
            self.stopped_by = "max_seconds"
            return False
        return True

    def raw_space(self, agent: str) -> spaces.Space:
        """The agent's observation space, its "observation" part where it is a masked dict."""
        space = self.obs_spaces[agent]
        if isinstance(space, spaces.Dict) and "observation" in space.spaces and "action_mask" in space.spaces:
            return space["observation"]
        return space

    # -- one observation, one action, one reward ---------------------------------------------------

    def check_obs(self, agent: str, obs: Any, where: str) -> None:
        """Shape, dtype, bounds and finiteness of one observation (its "observation" part in a masked
        dict)."""
        self.obs_seen += 1
        space, declared = self.raw_space(agent), self.obs_spaces[agent]

        def bad(what: str, code: str = "obs-outside-space") -> None:
            self.note("error", code, agent, f"{agent}'s observation at {where} {what}")

        if space is not declared:
            if not isinstance(obs, dict) or "observation" not in obs:
                bad(
                    f"is {type(obs).__name__}, not a dict with 'observation' and 'action_mask' as its space "
                    f"{declared} says"
                )
                return
            obs = obs["observation"]
        if not isinstance(space, spaces.Box | spaces.MultiBinary | spaces.MultiDiscrete | spaces.Discrete):
            if not space.contains(obs):
                bad(f"is not in its space {space}")
            return
        arr = np.asarray(obs)
        self.obs_dtypes.setdefault(agent, set()).add(str(arr.dtype))
        if arr.shape != space.shape:
            bad(f"has shape {arr.shape}, its space {space}", "obs-shape")
            return
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            i = _first_index(~np.isfinite(arr))
            bad(f"holds {arr[i]} at index {i}", "obs-non-finite")
            return
        if arr.dtype != space.dtype and not (arr.dtype.kind == space.dtype.kind == "b"):
            self.note(
                "warning",
                "obs-dtype",
                agent,
                f"{agent}'s observations are {arr.dtype}, its space says {space.dtype}",
            )
        if isinstance(space, spaces.Box):
            outside = (arr < space.low) | (arr > space.high)
            if outside.any():
                i = _first_index(outside)
                bad(f"holds {arr[i]} at index {i}, outside its space's [{space.low[i]}, {space.high[i]}]")
        elif not space.contains(arr.astype(space.dtype)):
            bad(f"is {arr}, not in {space}")

    def act(self, agent: str, obs: Any, info: dict[str, Any] | None, where: str) -> Any:
        """A random action for an agent that acts, legal under its mask; the mask is checked."""
        space = self.act_spaces[agent]
        if not isinstance(space, spaces.Discrete):
            return space.sample()
        n, start = int(space.n), int(space.start)
        self.mask_turns += 1
        mask = None
        if isinstance(obs, dict) and "action_mask" in obs:
            mask, self.mask_source = obs["action_mask"], "observations"
        elif isinstance(info, dict) and "action_mask" in info:
            mask, self.mask_source = info["action_mask"], self.mask_source or "infos"
        if mask is None:
            self.note("warning", "mask-missing", agent, f"{agent} has no action mask at {where}")
            return start + int(self.rng.integers(n))
        self.masks_given += 1
        legal = np.flatnonzero(np.asarray(mask).ravel()[:n].astype(bool))
        if np.size(mask) != n:
            self.note(
                "error",
                "mask-length",
                agent,
                f"{agent}'s action mask at {where} has {np.size(mask)} entries, its action space {space} "
                f"has {n} actions",
            )
        elif legal.size == 0:
            self.note(
                "error",
                "mask-all-false",
                agent,
                f"{agent}'s action mask at {where} allows no action, yet it must act (the VecEnv and "
                "predict() then have no legal action to take)",
            )
        return start + int(self.rng.choice(legal) if legal.size else self.rng.integers(n))

    def rewards_row(
        self, present: list[str], rewards: Any, where: str, row: np.ndarray | None = None
    ) -> np.ndarray:
        """Add one step's rewards of the agents ``present`` to ``row``, a new one if None (NaN: absent)."""
        if row is None:
            row = np.full(len(self.agents), np.nan)
        for agent in present:
            if np.isnan(row[self.index[agent]]):
                row[self.index[agent]] = 0.0
            value = rewards.get(agent, 0.0) if isinstance(rewards, dict) else None
            try:
                reward = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                self.note("error", "reward-not-number", agent, f"{agent}'s reward at {where} is {value!r}")
                continue
            if not math.isfinite(reward):
                self.note("error", "reward-non-finite", agent, f"{agent}'s reward at {where} is {reward}")
                continue
            row[self.index[agent]] += reward
        return row

    # -- who is there ---------------------------------------------------------------------------------

    def unknown(self, names: Any, where: str) -> None:
        for agent in names:
            if agent not in self.index:
                self.note(
                    "error",
                    "unknown-agent",
                    None,
                    f"agent {agent!r}, not in possible_agents, appears at {where}",
                )

    def missing_obs(self, agent: str, where: str) -> None:
        self.note(
            "error", "obs-missing", agent, f"{agent} is in env.agents after {where} but has no observation"
        )

    def after_reset(self, agents: list[str], obs: dict[str, Any] | None, where: str) -> None:
        """Agents and observations after a reset (AEC: ``obs`` None, observed when each acts)."""
        self.unknown(agents, where)
        absent = [a for a in self.agents if a not in agents]
        if absent:
            self.note(
                "info",
                "agents-absent-at-reset",
                None,
                f"agents {join_names(absent)} are not in env.agents after {where}",
            )
        for agent in agents:
            if agent in self.index and obs is not None:
                if agent in obs:
                    self.check_obs(agent, obs[agent], where)
                else:
                    self.missing_obs(agent, where)

    def joined(self, before: list[str], now: list[str], where: str) -> None:
        joined = [a for a in now if a not in before]
        if joined:
            self.note("info", "agents-join", None, f"agents {join_names(joined)} joined at {where}")

    def no_agents(self, e: int) -> None:
        self.stopped_by = "error"
        self.add(
            "error",
            "no-agents",
            f"reset(seed={self.seed + e}) left env.agents empty: the episode has no step, and no agent can "
            "be trained.",
            "Fill env.agents in reset (e.g. self.agents = list(self.possible_agents)).",
        )
