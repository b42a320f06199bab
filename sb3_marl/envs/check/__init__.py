"""check_env: play a PettingZoo env with random legal actions, within a bound of steps, episodes and
seconds, and report what would go wrong when training on it, each finding with its fix.

The parts: ``report`` (``Finding``, ``CheckReport``), ``guard`` (the timer on env calls), ``probe``
(the state of a check and the checks of each observation, mask and reward), ``play`` (episodes of
parallel and AEC envs), ``replay`` (determinism, the VecEnv) and ``findings`` (the analyses)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pettingzoo.utils.env import AECEnv, ParallelEnv

from sb3_marl.envs.check.findings import check_spaces, summarize
from sb3_marl.envs.check.guard import EnvFault, Timeout, alarm, closing
from sb3_marl.envs.check.play import play_aec, play_parallel
from sb3_marl.envs.check.probe import Probe
from sb3_marl.envs.check.replay import check_determinism, check_vec_env
from sb3_marl.envs.check.report import LEVELS, CheckReport, Finding
from sb3_marl.envs.make import EnvSpec, resolve_env

__all__ = ["CheckReport", "Finding", "check_env"]


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
    probe = Probe(
        make,
        dict(env_kwargs or {}),
        wrapper_class,
        agent_indicator,
        int(max_steps),
        int(max_episodes),
        float(max_seconds),
        int(seed),
    )
    return _run(probe, env_id)


def _run(probe: Probe, env_id: str) -> CheckReport:
    """The whole check under its timer, and the report."""
    start = time.monotonic()
    probe.deadline = start + probe.max_seconds
    probe.probe_deadline = start + 0.7 * probe.max_seconds  # leaves time for the replay and the VecEnv
    with alarm(probe.max_seconds + max(1.0, 0.1 * probe.max_seconds)):
        try:
            _check(probe)
        except Timeout:
            probe.stopped_by = "max_seconds"
            probe.add(
                "error",
                "call-timeout",
                f"{probe.current} had not returned after {time.monotonic() - start:.1f} s "
                f"(max_seconds={probe.max_seconds:g}): the env hangs or is far too slow.",
                "Find the loop in the env that does not end (e.g. a step that waits for agents that "
                "never come), or raise max_seconds if it is only slow.",
            )
        except EnvFault as fault:
            probe.stopped_by = "error"
            probe.add("error", fault.code, fault.message, fault.fix)
    summarize(probe)
    env, timed = probe.env, probe.steps > 0 and probe.step_seconds > 0
    return CheckReport(
        env_id=env_id,
        name=env_id if env is None else str(getattr(env, "metadata", {}).get("name", env_id)),
        api=None if env is None else ("aec" if isinstance(env, AECEnv) else "parallel"),
        agents=list(probe.agents),
        steps=probe.steps,
        episodes=sum(e.ended for e in probe.episodes),
        seconds=round(time.monotonic() - start, 3),
        steps_per_second=round(probe.steps / probe.step_seconds, 1) if timed else None,
        stopped_by=probe.stopped_by,
        findings=sorted(probe.findings, key=lambda f: LEVELS.index(f.level)),
    )


def _check(probe: Probe) -> None:
    """Make the env, check its spaces, play it, then (without errors) replay it and try the VecEnv; the
    env is closed unless it hung."""
    probe.env = env = probe.make_env("the env constructor")
    with closing(env):
        probe.current = "possible_agents"
        probe.agents = [str(a) for a in getattr(env, "possible_agents", None) or []]
        if not probe.agents:
            raise EnvFault(
                "no-possible-agents",
                "env.possible_agents is empty: there is no agent to train.",
                "Set possible_agents in the env's constructor.",
            )
        probe.index = {a: k for k, a in enumerate(probe.agents)}

        def spaces_of(method: str) -> dict[str, Any]:
            return {a: probe.call(f"{method}({a!r})", getattr(env, method), a) for a in probe.agents}

        probe.obs_spaces, probe.act_spaces = spaces_of("observation_space"), spaces_of("action_space")
        for k, a in enumerate(probe.agents):
            probe.act_spaces[a].seed(probe.seed + k)
        check_spaces(probe)
        play = play_aec if isinstance(env, AECEnv) else play_parallel
        probe.reward_unit = "cycle of turns" if isinstance(env, AECEnv) else "step"
        for e in range(probe.max_episodes):
            if not probe.room(probe.probe_deadline) or not play(probe, e):
                break
        else:
            probe.stopped_by = "max_episodes"
        if not any(f.level == "error" for f in probe.findings) and not any(
            n.level == "error" for n in probe.notes.values()
        ):
            check_determinism(probe)
            check_vec_env(probe)
