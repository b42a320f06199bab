"""check_env: play a PettingZoo env with random legal actions, within a bound of steps, episodes and
seconds, and report what would go wrong when training on it, each finding with its fix."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import signal
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from gymnasium import spaces
from pettingzoo.utils.env import AECEnv, ParallelEnv

from sb3_marl.envs.make import EnvSpec, resolve_env
from sb3_marl.envs.spaces import build_slot_spaces
from sb3_marl.envs.vec_env import MultiAgentVecEnv, check_pettingzoo_env

Level = Literal["error", "warning", "info"]
_LEVELS: tuple[Level, ...] = ("error", "warning", "info")

REPLAY_STEPS = 100  # steps of the first episode replayed to check determinism
VEC_ENV_STEPS = 50  # steps of the MultiAgentVecEnv made from the env
LARGE_REWARD = 10.0  # a typical |reward| above this suggests scaling
SLOW_STEPS_PER_SECOND = 100.0
_MAX_NAMED = 6  # agents named in one message before "and N more"


@dataclass
class Finding:
    """One thing ``check_env`` found.

    :param level: ``"error"`` (training will fail or be wrong), ``"warning"`` (likely to mislead or
        slow training) or ``"info"`` (what the env does)
    :param code: a stable identifier, e.g. ``"float64-observations"``
    :param message: what was found, with an example
    :param fix: what to do about it ("" for most infos)
    :param agents: the agents it concerns
    """

    level: Level
    code: str
    message: str
    fix: str = ""
    agents: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    """What ``check_env`` found out about an env.

    :param env_id: the env as given (module path, or the callable's name)
    :param name: the env's ``metadata["name"]`` (``env_id`` when it has none)
    :param api: ``"parallel"``, ``"aec"``, or None when the env could not be made
    :param agents: its ``possible_agents``
    :param steps: env steps of random play (AEC: calls of ``step``)
    :param episodes: episodes that ended within the bound
    :param seconds: how long the check took
    :param steps_per_second: env steps per second of ``step`` calls (None if none was timed)
    :param stopped_by: the bound that ended random play (``"max_steps"``, ``"max_episodes"``,
        ``"max_seconds"``) or ``"error"``
    :param findings: errors first, then warnings, then infos
    """

    env_id: str
    name: str
    api: str | None
    agents: list[str]
    steps: int
    episodes: int
    seconds: float
    steps_per_second: float | None
    stopped_by: str
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """False when any finding is an error."""
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def codes(self) -> list[str]:
        """The findings' codes, in order."""
        return [f.code for f in self.findings]

    def get(self, code: str) -> Finding | None:
        """The finding with this code, or None."""
        return next((f for f in self.findings if f.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_text(self, width: int = 100) -> str:
        api = {"parallel": "parallel API", "aec": "AEC (turn-based) API", None: "not made"}[self.api]
        lines = [
            f"Check of {self.env_id} ({self.name}): {api}, {len(self.agents)} agents",
            f"Random play: {self.steps} steps, {self.episodes} whole episodes, stopped by "
            f"{self.stopped_by}; {self.seconds:.1f} s in all.",
        ]
        for f in self.findings:
            lines += textwrap.wrap(
                f.message, width, initial_indent=f"{f.level.upper():8}{f.code}: ", subsequent_indent=" " * 8
            )
            if f.fix:
                lines += textwrap.wrap(
                    f.fix, width, initial_indent=" " * 8 + "fix: ", subsequent_indent=" " * 13
                )
        n_err, n_warn = len(self.errors), len(self.warnings)
        verdict = "FAILED" if n_err else "OK"
        lines.append(f"{verdict}: {n_err} error(s), {n_warn} warning(s).")
        return "\n".join(lines)


def check_env(
    env: EnvSpec,
    env_kwargs: dict[str, Any] | None = None,
    *,
    wrapper_class: Callable[[Any], ParallelEnv | AECEnv] | None = None,
    agent_indicator: bool = False,
    max_steps: int = 1000,
    max_episodes: int = 50,
    max_seconds: float = 30.0,
    seed: int = 0,
) -> CheckReport:
    """Play a PettingZoo env (parallel or AEC) with random legal actions and report what would go wrong
    when training on it with SB3: observations outside their space, non-finite or float64; the scale,
    sign and correlation of agents' rewards (cooperative, mixed or zero-sum); determinism under a seed;
    differing spaces; action masks; agents that leave early; time limits reported as terminations; and
    the env's speed. Faults of the env (a constructor or step that raises, a call that does not return)
    become error findings. It returns within about ``max_seconds`` (plus a second's grace; a single env
    call that does not return is interrupted only in the main thread on POSIX).

    :param env: a PettingZoo env module path (``"mpe2.simple_spread_v3"``) or a callable returning a
        ``ParallelEnv`` or ``AECEnv``
    :param env_kwargs: keyword arguments for the env constructor
    :param wrapper_class: applied to each env made, e.g. a SuperSuit wrapper
    :param agent_indicator: whether training appends a one-hot agent id (``make_vec_env(...,
        agent_indicator=True)``), which tells agents with different spaces apart
    :param max_steps: env steps of random play (AEC: calls of ``step``)
    :param max_episodes: episodes of random play
    :param max_seconds: the time the whole check may take
    :param seed: the seed of the first episode (episode ``e`` is reset with ``seed + e``) and of the
        random actions
    """
    for name, value in (("max_steps", max_steps), ("max_episodes", max_episodes), ("seed", seed)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {value!r}.")
    if max_steps < 1 or max_episodes < 1:
        raise ValueError(
            f"max_steps and max_episodes must be at least 1, got {max_steps} and {max_episodes}."
        )
    if not isinstance(max_seconds, int | float) or not max_seconds > 0 or not math.isfinite(max_seconds):
        raise ValueError(f"max_seconds must be a positive number of seconds, got {max_seconds!r}.")
    if env_kwargs is not None and not isinstance(env_kwargs, dict):
        raise TypeError(f"env_kwargs must be a dict or None, got {type(env_kwargs).__name__}.")
    make = resolve_env(env)
    env_id = env if isinstance(env, str) else getattr(env, "__qualname__", repr(env))
    checker = _Checker(
        make,
        dict(env_kwargs or {}),
        wrapper_class,
        agent_indicator,
        int(max_steps),
        int(max_episodes),
        float(max_seconds),
        int(seed),
    )
    return checker.run(env_id)


# -- the parts --------------------------------------------------------------------------------------


class _Timeout(BaseException):
    """Raised by the alarm into whatever runs, env code included (a BaseException: `except Exception`
    in the env does not swallow it)."""


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise ``_Timeout`` after ``seconds`` where a POSIX timer can (the main thread); an outer timer,
    such as pytest-timeout's, is kept: when it is due first nothing is set, else it is re-armed after."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old_handler = signal.getsignal(signal.SIGALRM)
    old_delay, old_interval = signal.getitimer(signal.ITIMER_REAL)
    if old_handler is None or (old_delay and old_delay <= seconds):
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise _Timeout

    start = time.monotonic()
    signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


@contextlib.contextmanager
def _closing(env: Any) -> Iterator[None]:
    """Close ``env`` after use, except after a timeout: closing a hung env may hang too."""
    timed_out = False
    try:
        yield
    except _Timeout:
        timed_out = True
        raise
    finally:
        if not timed_out:
            with contextlib.suppress(Exception):
                env.close()


class _EnvFault(Exception):
    """An env call raised or broke the PettingZoo API; ends random play with an error finding."""

    def __init__(self, code: str, message: str, fix: str):
        super().__init__(message)
        self.code, self.message, self.fix = code, message, fix


@dataclass
class _Note:
    """Occurrences of one problem: how often, the first one, and the agents concerned."""

    level: Level
    first: str
    count: int = 0
    agents: list[str] = field(default_factory=list)


@dataclass
class _Episode:
    length: int  # steps (AEC: turns)
    cycles: int  # the most steps (turns) any one agent took
    ended: bool
    end_kinds: set[str]  # "terminated" / "truncated" of the agents that ended it


@dataclass
class _Death:
    agent: str
    where: str
    kind: str
    last_obs: bool


_FIXES = {
    "obs-shape": "Return observations of the shape of observation_space(agent).",
    "obs-outside-space": "Return observations inside observation_space(agent), or widen the space.",
    "obs-non-finite": "Mend the env or clip its observations (NaN/inf poison the network).",
    "obs-dtype": "Return arrays of the space's dtype (e.g. obs.astype(space.dtype)).",
    "obs-missing": "Return an observation for every agent in env.agents.",
    "reward-non-finite": "Mend the env or clip its rewards (NaN/inf poison the value targets).",
    "reward-not-number": "Return one float reward per agent.",
    "unknown-agent": "Only agents in possible_agents may appear.",
    "mask-length": "Give a mask of one entry per action (the VecEnv would read only the first n, or fail).",
    "mask-all-false": "Leave at least one legal action for every agent that acts (or end its episode).",
    "mask-missing": "Give 'action_mask' at every step for every agent that acts.",
    "done-agent-stays": "Remove agents that are done from env.agents (PettingZoo's API; AEC: in step(None)).",
    "left-without-done": "Set terminations or truncations True for an agent at the step it leaves.",
}


def _join(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMED])
    return shown if len(names) <= _MAX_NAMED else f"{shown} and {len(names) - _MAX_NAMED} more"


def _digest(x: Any) -> Any:
    """``x`` with each array replaced by its shape, dtype and hash: small to keep, and equal exactly
    when the arrays are."""
    if isinstance(x, dict):
        return {k: _digest(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_digest(v) for v in x]
    if isinstance(x, np.ndarray | np.generic):
        a = np.ascontiguousarray(x)
        return a.shape, str(a.dtype), hashlib.sha1(a.tobytes()).hexdigest()
    return x


def _first_difference(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    return next((part for part in a if a[part] != b.get(part)), None)


class _Checker:
    def __init__(
        self,
        make: Callable[..., Any],
        env_kwargs: dict[str, Any],
        wrapper_class: Callable[[Any], Any] | None,
        agent_indicator: bool,
        max_steps: int,
        max_episodes: int,
        max_seconds: float,
        seed: int,
    ):
        self.make, self.env_kwargs, self.wrapper_class = make, env_kwargs, wrapper_class
        self.agent_indicator = agent_indicator
        self.max_steps, self.max_episodes, self.max_seconds, self.seed = (
            max_steps,
            max_episodes,
            max_seconds,
            seed,
        )
        self.rng = np.random.default_rng(seed)
        self.findings: list[Finding] = []
        self.notes: dict[str, _Note] = {}
        self.current = "the env constructor"  # the env call running now, named when it overruns
        self.env: Any = None
        self.agents: list[str] = []
        self.index: dict[str, int] = {}
        self.obs_spaces: dict[str, spaces.Space] = {}
        self.act_spaces: dict[str, spaces.Space] = {}
        self.steps = 0
        self.step_seconds = 0.0
        self.stopped_by = "max_episodes"
        self.episodes: list[_Episode] = []
        self.deaths: list[_Death] = []
        self.reward_rows: list[np.ndarray] = []  # per step (AEC: per cycle of turns, so turn-taking does not
        # read as rewards moving against each other)
        self.reward_unit = "step"
        self.obs_seen = 0
        self.obs_dtypes: dict[str, set[str]] = {}
        self.mask_source: str | None = None
        self.masks_given = 0
        self.mask_turns = 0
        self.first_frames: list[dict[str, Any]] = []  # episode 0: digests of what the env returned
        self.first_actions: list[Any] = []
        self.deadline = self.probe_deadline = math.inf  # set when the run starts

    # -- bookkeeping ----------------------------------------------------------------------------

    def add(
        self, level: Level, code: str, message: str, fix: str = "", agents: list[str] | None = None
    ) -> None:
        self.findings.append(Finding(level, code, message, fix, list(agents or [])))

    def note(self, level: Level, code: str, agent: str | None, first: str) -> None:
        """Count one occurrence of a problem; the first one's description is kept."""
        entry = self.notes.setdefault(code, _Note(level, first))
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
            raise _EnvFault(
                "env-raised",
                f"{what} raised {type(error).__name__}: {error}",
                "Mend the env (or its env_kwargs).",
            ) from error
        finally:
            if step:
                self.step_seconds += time.perf_counter() - start

    def make_env(self, what: str) -> Any:
        def build() -> Any:
            made = self.make(**self.env_kwargs)
            return check_pettingzoo_env(self.wrapper_class(made) if self.wrapper_class is not None else made)

        return self.call(what, build)

    def room(self, deadline: float) -> bool:
        if self.steps >= self.max_steps:
            self.stopped_by = "max_steps"
            return False
        if time.monotonic() >= deadline:
            self.stopped_by = "max_seconds"
            return False
        return True

    # -- the run --------------------------------------------------------------------------------

    def run(self, env_id: str) -> CheckReport:
        start = time.monotonic()
        self.deadline = start + self.max_seconds
        self.probe_deadline = start + 0.7 * self.max_seconds  # leaves time for the replay and the VecEnv
        hung = False
        with _alarm(self.max_seconds + max(1.0, 0.1 * self.max_seconds)):
            try:
                self._run()
            except _Timeout:
                hung = True
                self.stopped_by = "max_seconds"
                self.add(
                    "error",
                    "call-timeout",
                    f"{self.current} had not returned after {time.monotonic() - start:.1f} s "
                    f"(max_seconds={self.max_seconds:g}): the env hangs or is far too slow.",
                    "Find the loop in the env that does not end (e.g. a step that waits for agents that "
                    "never come), or raise max_seconds if it is only slow.",
                )
            except _EnvFault as fault:
                self.stopped_by = "error"
                self.add("error", fault.code, fault.message, fault.fix)
        if not hung and self.env is not None:
            with contextlib.suppress(Exception):
                self.env.close()
        self._summarize()
        order = {level: i for i, level in enumerate(_LEVELS)}
        findings = sorted(self.findings, key=lambda f: order[f.level])
        timed = self.steps > 0 and self.step_seconds > 0
        return CheckReport(
            env_id=env_id,
            name=str(getattr(self.env, "metadata", {}).get("name", env_id))
            if self.env is not None
            else env_id,
            api=None if self.env is None else ("aec" if isinstance(self.env, AECEnv) else "parallel"),
            agents=list(self.agents),
            steps=self.steps,
            episodes=sum(e.ended for e in self.episodes),
            seconds=round(time.monotonic() - start, 3),
            steps_per_second=round(self.steps / self.step_seconds, 1) if timed else None,
            stopped_by=self.stopped_by,
            findings=findings,
        )

    def _run(self) -> None:
        self.env = env = self.make_env("the env constructor")
        self.current = "possible_agents"
        self.agents = [str(a) for a in getattr(env, "possible_agents", None) or []]
        if not self.agents:
            raise _EnvFault(
                "no-possible-agents",
                "env.possible_agents is empty: there is no agent to train.",
                "Set possible_agents in the env's constructor.",
            )
        self.index = {a: k for k, a in enumerate(self.agents)}
        self.obs_spaces = {
            a: self.call(f"observation_space({a!r})", env.observation_space, a) for a in self.agents
        }
        self.act_spaces = {a: self.call(f"action_space({a!r})", env.action_space, a) for a in self.agents}
        for k, a in enumerate(self.agents):
            self.act_spaces[a].seed(self.seed + k)
        self._check_spaces()
        play = self._play_aec if isinstance(env, AECEnv) else self._play_parallel
        self.reward_unit = "cycle of turns" if isinstance(env, AECEnv) else "step"
        for e in range(self.max_episodes):
            if not self.room(self.probe_deadline) or not play(e):
                break
        else:
            self.stopped_by = "max_episodes"
        if not any(f.level == "error" for f in self.findings) and not any(
            n.level == "error" for n in self.notes.values()
        ):
            self._check_determinism()
            self._check_vec_env()

    # -- spaces ---------------------------------------------------------------------------------

    def _check_spaces(self) -> None:
        obs, act = self.obs_spaces, self.act_spaces
        try:
            slots = build_slot_spaces(
                self.agents, list(obs.values()), list(act.values()), self.agent_indicator
            )
        except ValueError as error:
            self.add(
                "error", "spaces-unsupported", f"The VecEnv cannot give these agents one slot space: {error}"
            )
            return
        differ = [
            f"{what} spaces differ ({'; '.join(f'{_join(names)}: {s}' for s, names in groups.items())})"
            for what, space_of in (("observation", obs), ("action", act))
            if len(groups := self._group_by_space(space_of)) > 1
        ]
        if differ and not self.agent_indicator:
            self.add(
                "warning",
                "spaces-differ",
                f"Agents' {' and their '.join(differ)}. The VecEnv pads them to one slot space "
                f"(observation {slots.observation_space}, action {slots.action_space}, padded actions "
                "masked), and one shared policy cannot tell which agent, or which kind of agent, it plays.",
                "Append a one-hot agent id: make_vec_env(..., agent_indicator=True).",
                self.agents,
            )
        elif differ:
            self.add(
                "info",
                "spaces-differ",
                f"Agents' {' and their '.join(differ)}; padded, with an agent indicator.",
            )
        float64 = [a for a in self.agents if self._raw_space(a).dtype == np.float64]
        if float64:
            self.add(
                "warning",
                "float64-observations",
                f"Observations are float64 ({_join(float64)}: {self._raw_space(float64[0])}): SB3's "
                "buffers store them at 8 bytes a value, twice float32's, and the policy casts them to "
                "float32 anyway.",
                "Cast them to float32 with a wrapper: wrapper_class=lambda env: supersuit.dtype_v0(env, "
                "np.float32) (in a preset: env_wrapper).",
                float64,
            )

    @staticmethod
    def _group_by_space(space_of: dict[str, spaces.Space]) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for agent, space in space_of.items():
            groups.setdefault(str(space), []).append(agent)
        return groups

    def _raw_space(self, agent: str) -> spaces.Space:
        space = self.obs_spaces[agent]
        if isinstance(space, spaces.Dict) and "observation" in space.spaces and "action_mask" in space.spaces:
            return space["observation"]
        return space

    # -- one observation, one action --------------------------------------------------------------

    def check_obs(self, agent: str, obs: Any, where: str) -> None:
        """Shape, dtype, bounds and finiteness of one observation (its "observation" part in a masked
        dict)."""
        self.obs_seen += 1
        space = self._raw_space(agent)
        if isinstance(self.obs_spaces[agent], spaces.Dict) and space is not self.obs_spaces[agent]:
            if not isinstance(obs, dict) or "observation" not in obs:
                self.note(
                    "error",
                    "obs-outside-space",
                    agent,
                    f"{agent}'s observation at {where} is {type(obs).__name__}, not a dict with "
                    f"'observation' and 'action_mask' as its space {self.obs_spaces[agent]} says",
                )
                return
            obs = obs["observation"]
        if not isinstance(space, spaces.Box | spaces.MultiBinary | spaces.MultiDiscrete | spaces.Discrete):
            if not space.contains(obs):
                self.note(
                    "error",
                    "obs-outside-space",
                    agent,
                    f"{agent}'s observation at {where} is not in its space {space}",
                )
            return
        arr = np.asarray(obs)
        self.obs_dtypes.setdefault(agent, set()).add(str(arr.dtype))
        if arr.shape != space.shape:
            self.note(
                "error",
                "obs-shape",
                agent,
                f"{agent}'s observation at {where} has shape {arr.shape}, its space {space}",
            )
            return
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            i = tuple(int(j) for j in np.argwhere(~np.isfinite(arr))[0])
            self.note(
                "error",
                "obs-non-finite",
                agent,
                f"{agent}'s observation at {where} holds {arr[i]} at index {i}",
            )
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
                i = tuple(int(j) for j in np.argwhere(outside)[0])
                self.note(
                    "error",
                    "obs-outside-space",
                    agent,
                    f"{agent}'s observation at {where} holds {arr[i]} at index {i}, outside its space's "
                    f"[{space.low[i]}, {space.high[i]}]",
                )
        elif not space.contains(arr.astype(space.dtype)):
            self.note(
                "error",
                "obs-outside-space",
                agent,
                f"{agent}'s observation at {where} is {arr}, not in {space}",
            )

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

    def unknown(self, names: Any, where: str) -> None:
        for agent in names:
            if agent not in self.index:
                self.note(
                    "error",
                    "unknown-agent",
                    None,
                    f"agent {agent!r}, not in possible_agents, appears at {where}",
                )

    def no_agents(self, e: int) -> None:
        self.stopped_by = "error"
        self.add(
            "error",
            "no-agents",
            f"reset(seed={self.seed + e}) left env.agents empty: the episode has no step, and no agent can "
            "be trained.",
            "Fill env.agents in reset (e.g. self.agents = list(self.possible_agents)).",
        )

    # -- playing --------------------------------------------------------------------------------

    def _play_parallel(self, e: int) -> bool:
        """Play episode ``e``; False when random play must stop."""
        env, record = self.env, e == 0
        result = self.call("reset", env.reset, seed=self.seed + e)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise _EnvFault(
                "api",
                f"reset returned {type(result).__name__}, not (observations, infos).",
                "A ParallelEnv's reset returns (observations, infos).",
            )
        obs, infos = result
        if not isinstance(obs, dict) or not isinstance(infos, dict):
            raise _EnvFault(
                "api",
                f"reset returned ({type(obs).__name__}, {type(infos).__name__}), not two dicts.",
                "A ParallelEnv's reset returns (observations, infos), dicts keyed by agent.",
            )
        acting = list(env.agents)
        if not acting:
            self.no_agents(e)
            return False
        where = f"the reset of episode {e}"
        self._after_reset(acting, obs, where)
        if record:
            self.first_frames.append({"observations": _digest(obs)})
        length = 0
        terms: dict[str, Any] = {}
        truncs: dict[str, Any] = {}
        while env.agents and self.room(self.probe_deadline):
            acting = list(env.agents)
            where = f"step {length} of episode {e}"
            actions = {a: self.act(a, obs.get(a), infos.get(a), where) for a in acting}
            result = self.call("step", env.step, actions, step=True)
            if not (isinstance(result, tuple) and len(result) == 5):
                raise _EnvFault(
                    "api",
                    f"step returned {type(result).__name__}, not a 5-tuple.",
                    "A ParallelEnv's step returns (observations, rewards, terminations, truncations, infos).",
                )
            obs, rewards, terms, truncs, infos = result
            length += 1
            self.steps += 1
            now = list(env.agents)
            if record and length <= REPLAY_STEPS:
                self.first_actions.append(actions)
                frame = {
                    "observations": obs,
                    "rewards": rewards,
                    "terminations": terms,
                    "truncations": truncs,
                }
                self.first_frames.append(_digest({**frame, "agents": now}))
            self.unknown({*obs, *rewards, *now}, where)
            self.reward_rows.append(self.rewards_row(acting, rewards, where))
            for agent, o in obs.items():
                if agent in self.index:
                    self.check_obs(agent, o, where)
            for agent in now:
                if agent in self.index and agent not in obs:
                    self.note(
                        "error",
                        "obs-missing",
                        agent,
                        f"{agent} is in env.agents after {where} but has no observation",
                    )
            done = {a for a in acting if terms.get(a) or truncs.get(a)}
            for agent in done & set(now):
                self.note(
                    "error", "done-agent-stays", agent, f"{agent} is done at {where} yet stays in env.agents"
                )
            left = [a for a in acting if a not in now]
            for agent in left:
                if agent not in done:
                    self.note(
                        "warning",
                        "left-without-done",
                        agent,
                        f"{agent} left env.agents at {where} with neither termination nor truncation set",
                    )
            self._joined(acting, now, where)
            if now:
                for agent in left:
                    kind = "terminated" if terms.get(agent) else "truncated" if truncs.get(agent) else "left"
                    self.deaths.append(_Death(agent, where, kind, agent in obs))
        kinds = {
            k for a in acting for k, flags in (("terminated", terms), ("truncated", truncs)) if flags.get(a)
        }
        self.episodes.append(_Episode(length, length, not env.agents, kinds))
        return True

    def _after_reset(self, agents: list[str], obs: dict[str, Any] | None, where: str) -> None:
        """Agents and observations after a reset (AEC: ``obs`` None, observed when each acts)."""
        self.unknown(agents, where)
        absent = [a for a in self.agents if a not in agents]
        if absent:
            self.note(
                "info",
                "agents-absent-at-reset",
                None,
                f"agents {_join(absent)} are not in env.agents after {where}",
            )
        for agent in agents:
            if agent in self.index and obs is not None:
                if agent in obs:
                    self.check_obs(agent, obs[agent], where)
                else:
                    self.note(
                        "error",
                        "obs-missing",
                        agent,
                        f"{agent} is in env.agents after {where} but has no observation",
                    )

    def _joined(self, before: list[str], now: list[str], where: str) -> None:
        joined = [a for a in now if a not in before]
        if joined:
            self.note("info", "agents-join", None, f"agents {_join(joined)} joined at {where}")

    def _aec_frame(self, env: AECEnv) -> dict[str, Any]:
        selected = env.agent_selection if env.agents else None
        observation = env.observe(selected) if selected is not None else None
        return _digest(
            {
                "agent": selected,
                "observation": observation,
                "rewards": dict(env.rewards),
                "terminations": dict(env.terminations),
                "truncations": dict(env.truncations),
            }
        )

    def _play_aec(self, e: int) -> bool:
        """Play episode ``e`` of an AEC env; False when random play must stop."""
        env, record = self.env, e == 0
        self.call("reset", env.reset, seed=self.seed + e)
        if not env.agents:
            self.no_agents(e)
            return False
        self._after_reset(list(env.agents), None, f"the reset of episode {e}")
        if record:
            self.first_frames.append(self.call("observe", self._aec_frame, env))

        def done(agent: str) -> bool:
            return bool(env.terminations.get(agent) or env.truncations.get(agent))

        def step(action: Any, where: str) -> None:
            self.call("step", env.step, action, step=True)
            self.steps += 1
            if record and len(self.first_actions) < REPLAY_STEPS:
                self.first_actions.append(action)
                self.first_frames.append(self.call("observe", self._aec_frame, env))

        turns = dict.fromkeys(self.agents, 0)
        cycle, cycle_left = np.full(len(self.agents), np.nan), 0  # rewards summed over a cycle of turns
        flagged: set[str] = set()
        kinds: set[str] = set()
        length = 0
        while env.agents and self.room(self.probe_deadline):
            agent = env.agent_selection
            where = f"turn {length} of episode {e}"
            live = [a for a in env.agents if not done(a)]
            before = list(env.agents)
            if cycle_left == 0:
                cycle, cycle_left = np.full(len(self.agents), np.nan), len(live)
            if done(agent):  # done at someone else's turn, not stepped out yet
                action = None
            else:
                obs = self.call(f"observe({agent!r})", env.observe, agent)
                self.check_obs(agent, obs, where)
                action = self.act(agent, obs, env.infos.get(agent), where)
                turns[agent] += 1
                length += 1
                cycle_left -= 1
            step(action, where)
            self.rewards_row(live, env.rewards, where, cycle)
            self.unknown(env.agents, where)
            newly = [a for a in env.agents if a in self.index and a not in flagged and done(a)]
            kinds = {"terminated" if env.terminations.get(a) else "truncated" for a in newly} or kinds
            still = [a for a in env.agents if not done(a)]
            for a in newly:
                flagged.add(a)
                last = self.call(f"observe({a!r})", env.observe, a)
                if last is not None:
                    self.check_obs(a, last, f"the end of {a}'s episode ({where})")
                if still:
                    kind = "terminated" if env.terminations.get(a) else "truncated"
                    self.deaths.append(_Death(a, where, kind, last is not None))
            while env.agents and done(env.agent_selection) and self.room(self.probe_deadline):
                dead = env.agent_selection
                step(None, where)
                self.rewards_row(live, env.rewards, where, cycle)
                if dead in env.agents and done(dead):
                    self.note(
                        "error",
                        "done-agent-stays",
                        dead,
                        f"step(None) for {dead}, done at {where}, left it in env.agents",
                    )
                    break
            if cycle_left == 0 or not env.agents:
                self.reward_rows.append(cycle)
                cycle_left = 0
            self._joined(before, list(env.agents), where)
        self.episodes.append(_Episode(length, max(turns.values()), not env.agents, kinds))
        return True

    # -- determinism and the VecEnv ---------------------------------------------------------------

    def _check_determinism(self) -> None:
        if not self.first_frames or time.monotonic() >= self.deadline:
            return
        env = self.make_env("a second env's constructor")
        with _closing(env):
            try:
                self._replay(env)
            except Exception as error:
                raise _EnvFault(
                    "env-raised",
                    f"{self.current} raised {type(error).__name__}: {error}",
                    "Mend the env (or its env_kwargs).",
                ) from error

    def _replay(self, env: Any) -> None:
        """Replay episode 0 in ``env``, a new env: the same seed and actions must give the same."""
        is_aec = isinstance(env, AECEnv)
        self.current = "the second env's reset"
        if is_aec:
            env.reset(seed=self.seed)
            first = self._aec_frame(env)
        else:
            first = {"observations": _digest(env.reset(seed=self.seed)[0])}
        n = 0
        if first != self.first_frames[0]:
            self.add(
                "warning",
                "reset-not-deterministic",
                f"reset(seed={self.seed}) of two new envs gave different first observations: runs cannot "
                "be reproduced, and evaluations under a seed differ.",
                "Draw all of the env's randomness from a generator seeded in reset (e.g. "
                "gymnasium.utils.seeding.np_random(seed)), not from global or unseeded ones.",
            )
            return
        for n, action in enumerate(self.first_actions, start=1):
            if time.monotonic() >= self.deadline:
                return
            self.current = f"the second env's step {n - 1}"
            if is_aec:
                env.step(action)
                frame = self._aec_frame(env)
            else:
                obs, rew, term, trunc, _ = env.step(action)
                frame = _digest(
                    {
                        "observations": obs,
                        "rewards": rew,
                        "terminations": term,
                        "truncations": trunc,
                        "agents": list(env.agents),
                    }
                )
            part = _first_difference(frame, self.first_frames[n])
            if part is not None:
                self.add(
                    "warning",
                    "trajectory-not-deterministic",
                    f"Under reset(seed={self.seed}) and the same actions, a new env gave other {part} at "
                    f"step {n - 1}: runs cannot be reproduced.",
                    "Draw all of the env's randomness (also in step) from a generator seeded in reset.",
                )
                return
        self.current = "the second env's second reset"
        again = env.reset(seed=self.seed)
        again_first = self._aec_frame(env) if is_aec else {"observations": _digest(again[0])}
        if again_first != self.first_frames[0]:
            self.add(
                "warning",
                "reset-not-deterministic",
                f"A second reset(seed={self.seed}) of the same env gave other first observations than the "
                "first: the env does not reseed in reset.",
                "Reseed the env's generators in every reset that is given a seed.",
            )
            return
        self.add(
            "info",
            "deterministic",
            f"reset(seed={self.seed}) gives the same first observations (in a new env and again in the "
            f"same env), and the same actions the same {n} steps.",
        )

    def _check_vec_env(self) -> None:
        if time.monotonic() >= self.deadline:
            return
        self.current = "the MultiAgentVecEnv"

        def env_fn() -> ParallelEnv | AECEnv:
            made = self.make(**self.env_kwargs)
            return self.wrapper_class(made) if self.wrapper_class is not None else made

        n = min(VEC_ENV_STEPS, self.max_steps)
        try:
            venv = MultiAgentVecEnv([env_fn], agent_indicator=self.agent_indicator)
        except Exception as error:
            self.add(
                "error",
                "vec-env-failed",
                f"Making the MultiAgentVecEnv failed: {type(error).__name__}: {error}",
            )
            return
        with _closing(venv):
            try:
                self._step_vec_env(venv, n)
            except Exception as error:
                self.add(
                    "error",
                    "vec-env-failed",
                    f"Stepping the MultiAgentVecEnv failed: {type(error).__name__}: {error}",
                )

    def _step_vec_env(self, venv: MultiAgentVecEnv, n: int) -> None:
        venv.seed(self.seed)
        venv.reset()
        venv.action_space.seed(self.seed)
        stepped = 0
        while stepped < n and time.monotonic() < self.deadline:
            if venv.slot_spaces.discrete:
                actions = np.array(
                    [self.rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in venv.action_masks()]
                )
            else:
                actions = np.stack([venv.action_space.sample() for _ in range(venv.num_envs)])
            venv.step(actions)
            stepped += 1
        self.add(
            "info",
            "vec-env",
            f"MultiAgentVecEnv: {venv.num_envs} slots per env copy (one per agent), slot observation space "
            f"{venv.observation_space}, action space {venv.action_space}; stepped {stepped} times.",
        )

    # -- what the play showed -----------------------------------------------------------------------

    def _summarize(self) -> None:
        for code, n in self.notes.items():
            if code == "mask-missing" and self.masks_given == 0:  # an env without masks: said once below
                continue
            times = f" ({n.count} times in all)" if n.count > 1 else ""
            first = (
                f"Agent {n.first}" if n.agents else n.first[0].upper() + n.first[1:]
            )  # n.first names the agent
            self.add(n.level, code, f"{first}{times}.", _FIXES.get(code, ""), n.agents)
        if self.steps == 0:
            return
        self._summarize_observations()
        self._summarize_masks()
        self._summarize_rewards()
        self._summarize_episodes()
        self._summarize_speed()

    def _summarize_observations(self) -> None:
        if not any(code.startswith("obs-") for code in self.notes):
            self.add(
                "info",
                "observations-ok",
                f"All {self.obs_seen} observations were inside their declared spaces and finite; dtypes: "
                f"{', '.join(sorted(set().union(*self.obs_dtypes.values())))}.",
            )

    def _summarize_masks(self) -> None:
        if not any(isinstance(s, spaces.Discrete) for s in self.act_spaces.values()) or not self.mask_turns:
            return
        if self.masks_given == 0:
            self.add(
                "info",
                "no-masks",
                "The env gives no action masks (no 'action_mask' in observations or infos): every action "
                "is always legal.",
            )
        elif not any(code.startswith("mask-") for code in self.notes):
            self.add(
                "info",
                "masks",
                f"Action masks come in the env's {self.mask_source}, given at all {self.mask_turns} turns "
                "an agent acted, each with a legal action and of the right length.",
            )

    def _summarize_rewards(self) -> None:
        rows = np.array(self.reward_rows)
        if rows.size == 0:
            return
        described, large = [], []
        for k, agent in enumerate(self.agents):
            r = rows[:, k][~np.isnan(rows[:, k])]
            if r.size == 0:
                continue
            nonzero = r[r != 0]
            sign = (
                "all 0"
                if not nonzero.size
                else "all ≤ 0"
                if r.max() <= 0
                else "all ≥ 0"
                if r.min() >= 0
                else "both signs"
            )
            described.append(f"{agent} [{r.min():.3g}, {r.max():.3g}], mean {r.mean():.3g} ({sign})")
            typical = float(np.abs(nonzero).mean()) if nonzero.size else 0.0
            if typical > LARGE_REWARD:
                large.append((agent, typical, float(r.min()), float(r.max())))
        if not np.nan_to_num(rows).any():
            self.add(
                "warning",
                "rewards-all-zero",
                f"No agent got a nonzero reward in {self.steps} steps of random play: a sparse reward that "
                "random exploration may not find.",
                "Check the reward, or shape it; explore longer (e.g. a slower epsilon decay).",
            )
        shown = "; ".join(described[:_MAX_NAMED]) + (
            f"; and {len(described) - _MAX_NAMED} more" if len(described) > _MAX_NAMED else ""
        )
        costs = (
            " Rewards that are all ≤ 0 (costs) are fine." if any("all ≤ 0" in d for d in described) else ""
        )
        self.add("info", "rewards", f"Rewards per {self.reward_unit} under random play: {shown}.{costs}")
        if large:
            agent, typical, low, high = max(large, key=lambda x: x[1])
            self.add(
                "warning",
                "reward-scale",
                f"Large rewards: {agent}'s typical nonzero |reward| is {typical:.3g} (range [{low:.3g}, "
                f"{high:.3g}]); {len(large)} agent(s) above {LARGE_REWARD:g}. Q-value targets and "
                "gradients grow with them.",
                "Scale rewards to about [-1, 1], e.g. wrapper_class=lambda env: "
                f"supersuit.reward_lambda_v0(env, lambda r: r / {typical:.3g}).",
                [a[0] for a in large],
            )
        self._summarize_reward_relations(rows)

    def _summarize_reward_relations(self, rows: np.ndarray) -> None:
        n_agents = len(self.agents)
        if n_agents < 2:
            return
        both = ~np.isnan(rows)
        together = both.sum(axis=1) >= 2
        values = np.nan_to_num(rows[together])
        magnitude = float(np.abs(values).sum())
        if magnitude > 0 and float(np.abs(values.sum(axis=1)).sum()) <= 0.05 * magnitude:
            self.add(
                "warning",
                "zero-sum-rewards",
                f"Rewards sum to (about) zero in every {self.reward_unit} (of {len(values)}): a zero-sum "
                "game, where one agent gains what another loses. The summed team return is always about 0 "
                "and says nothing, and one shared policy plays every side (self-play).",
                "Judge training by per-agent returns or by wins against a fixed opponent (e.g. random "
                "play), not by the team return; do not use value mixers (VDN/QMIX) here.",
                self.agents,
            )
            return
        corr = np.full((n_agents, n_agents), np.nan)
        counts = np.zeros((n_agents, n_agents), dtype=int)
        for i in range(n_agents):
            for j in range(i + 1, n_agents):
                mask = both[:, i] & both[:, j]
                x, y = rows[mask, i], rows[mask, j]
                if mask.sum() >= 10 and x.std() > 0 and y.std() > 0:
                    corr[i, j] = corr[j, i] = float(np.corrcoef(x, y)[0, 1])
                    counts[i, j] = counts[j, i] = int(mask.sum())
        significant = np.nan_to_num(np.abs(corr) * np.sqrt(counts)) >= 3
        sides = list(range(n_agents))  # union-find: agents whose rewards move together are one side

        def side(i: int) -> int:
            while sides[i] != i:
                i = sides[i]
            return i

        for a, b in zip(*np.nonzero(significant & (np.nan_to_num(corr) > 0.5)), strict=True):
            sides[side(int(a))] = side(int(b))
        opposed = significant & (np.nan_to_num(corr) < -0.1)
        if opposed.any():
            worst = np.unravel_index(np.argmin(np.where(opposed, corr, np.inf)), corr.shape)
            a_side = [a for k, a in enumerate(self.agents) if side(k) == side(int(worst[0]))]
            against = opposed[[self.index[a] for a in a_side]].any(axis=0)
            b_side = [a for k, a in enumerate(self.agents) if against[k]]
            n_pairs = int(opposed.sum()) // 2
            self.add(
                "warning",
                "opposed-rewards",
                f"Rewards move against each other: {_join(a_side)} vs {_join(b_side)} (correlation of "
                f"their rewards per {self.reward_unit} {corr[worst]:.2f}, over {counts[worst]}; {n_pairs} "
                "opposed pair(s) of agents): a mixed or adversarial game. One shared policy plays both "
                "sides, and a summed team return (the team statistics, VDN/QMIX mixers) adds up opposed "
                "goals and misleads.",
                "Read per-agent returns, not the team return; use value mixers only within a cooperative "
                "team; consider a model per side.",
                sorted({*a_side, *b_side}, key=self.index.__getitem__),
            )
            return
        full = rows[~np.isnan(rows).any(axis=1)]
        pairs: np.ndarray = corr[np.triu_indices(n_agents, 1)]
        if full.size and np.allclose(full, full[:, :1]) and np.abs(full).sum() > 0:
            what = (
                f"every agent gets the same reward in every {self.reward_unit} (a team reward; a summed "
                f"team return counts it {n_agents} times)"
            )
        elif np.isfinite(pairs).all() and (pairs > 0.5).all():
            what = (
                f"agents' rewards per {self.reward_unit} move together (lowest correlation {pairs.min():.2f})"
            )
        else:
            return
        self.add("info", "cooperative-rewards", f"A cooperative game: {what}.")

    def _summarize_episodes(self) -> None:
        ended = [e for e in self.episodes if e.ended]
        if not ended and self.stopped_by != "error":
            self.add(
                "warning",
                "no-episode-ended",
                f"No episode ended within the bound ({self.steps} steps, stopped by {self.stopped_by}): "
                "time limits, deaths and returns are unchecked.",
                "Raise max_steps / max_seconds (sb3-marl check --steps, --seconds).",
            )
        if not ended:
            return
        lengths = [e.length for e in ended]
        by_kind = {k: sum(k in e.end_kinds for e in ended) for k in ("terminated", "truncated")}
        spread = (
            f"{lengths[0]}"
            if len(set(lengths)) == 1
            else f"{min(lengths)}-{max(lengths)} (mean {np.mean(lengths):.1f})"
        )
        self.add(
            "info",
            "episodes",
            f"{len(ended)} episodes ended after {spread} steps: {by_kind['terminated']} by termination, "
            f"{by_kind['truncated']} by truncation.",
        )
        if all(n == 1 for n in lengths) and len(ended) > 1:
            self.add(
                "warning",
                "one-step-episodes",
                f"Every episode ({len(ended)}) ended after its first step.",
                "If that is not meant, check that step does not mark every agent done at once.",
            )
        max_cycles = getattr(getattr(self.env, "unwrapped", self.env), "max_cycles", None)
        if isinstance(max_cycles, int):
            at_limit = [e for e in ended if e.cycles == max_cycles]
            as_term = [e for e in at_limit if e.end_kinds == {"terminated"}]
            if as_term:
                self.add(
                    "warning",
                    "time-limit-as-termination",
                    f"{len(as_term)} of {len(ended)} episodes ended at max_cycles={max_cycles} with "
                    "terminations, not truncations: SB3 (TimeLimit.truncated) then treats the last state "
                    "as terminal and learns that time running out ends the game.",
                    "Report a time limit as truncations=True, terminations=False.",
                )
            elif at_limit:
                self.add(
                    "info",
                    "time-limit-truncation",
                    f"Episodes that reach max_cycles={max_cycles} end with truncations, as they should: "
                    "value targets bootstrap past them.",
                )
        elif (
            len(ended) >= 3
            and len(set(lengths)) == 1
            and lengths[0] > 1
            and all(e.end_kinds == {"terminated"} for e in ended)
        ):
            self.add(
                "warning",
                "time-limit-as-termination",
                f"Every episode ({len(ended)}) ended after exactly {lengths[0]} steps by termination: if "
                "that is a time limit, SB3 treats its last state as terminal.",
                "Report a time limit as truncations=True, terminations=False.",
            )
        self._summarize_deaths(len(ended))

    def _summarize_deaths(self, n_ended: int) -> None:
        if not self.deaths:
            self.add("info", "no-deaths", f"No agent left before its episode ended ({n_ended} episodes).")
            return
        agents = list(dict.fromkeys(d.agent for d in self.deaths))
        kinds = ", ".join(sorted({d.kind for d in self.deaths}))
        first = self.deaths[0]
        without = [d for d in self.deaths if not d.last_obs]
        n = len(self.deaths)
        back = (
            f"{n - len(without)} of {n} times their last observation came back"
            if without
            else ("their last observation comes back")
        )
        self.add(
            "info",
            "agents-die",
            f"Agents leave before their episode ends ({kinds}): {len(self.deaths)} times ({_join(agents)}; "
            f"first {first.agent} at {first.where}); {back}. The VecEnv passes it on as "
            "terminal_observation and keeps the slot inactive (info['inactive']) until its env copy "
            "resets.",
            agents=agents,
        )
        if without:
            d = without[0]
            self.add(
                "warning",
                "death-no-last-obs",
                f"{len(without)} times an agent's last observation did not come back at the step it left "
                f"(first {d.agent} at {d.where}): the VecEnv then uses its observation from the step "
                "before as terminal_observation.",
                "Return the observation of every agent that is done, at the step it is done.",
                list(dict.fromkeys(d.agent for d in without)),
            )

    def _summarize_speed(self) -> None:
        if self.step_seconds <= 0:
            return
        rate = self.steps / self.step_seconds
        self.add(
            "info",
            "speed",
            f"{rate:,.0f} env steps per second ({rate * len(self.agents):,.0f} agent steps) in step calls "
            "of random play, in this process.",
        )
        if rate < SLOW_STEPS_PER_SECOND and self.steps >= 20:
            self.add(
                "warning",
                "slow-env",
                f"The env makes only {rate:.0f} steps per second: 1M steps take {1e6 / rate / 3600:.1f} h "
                "of env time alone.",
                "Run several env copies in subprocesses: make_vec_env(..., n_envs=8, subprocess=True).",
            )
