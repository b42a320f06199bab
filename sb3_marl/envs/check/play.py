"""Random play of one episode of a parallel or an AEC env, checked call by call and recorded in the
``Probe`` (episode 0 also as digests, for the determinism replay)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pettingzoo.utils.env import AECEnv

from sb3_marl.envs.check.guard import EnvFault
from sb3_marl.envs.check.probe import Death, Episode, Probe, digest

REPLAY_STEPS = 100  # steps of the first episode recorded to check determinism
_STEP_PARTS = ("observations", "rewards", "terminations", "truncations")


def reset_frame(observations: Any) -> dict[str, Any]:
    """What a parallel env's reset returned, as recorded."""
    return digest({"observations": observations})


def step_frame(result: tuple[Any, ...], agents: list[str]) -> dict[str, Any]:
    """What a parallel env's step returned (its infos left out) and the agents after it, as recorded."""
    return digest({**dict(zip(_STEP_PARTS, result[:4], strict=True)), "agents": agents})


def aec_frame(env: AECEnv) -> dict[str, Any]:
    """The agent to act, its observation and the env's rewards and done flags, as recorded."""
    selected = env.agent_selection if env.agents else None
    observation = env.observe(selected) if selected is not None else None
    return digest(
        {
            "agent": selected,
            "observation": observation,
            "rewards": dict(env.rewards),
            "terminations": dict(env.terminations),
            "truncations": dict(env.truncations),
        }
    )


def play_parallel(probe: Probe, e: int) -> bool:
    """Play episode ``e`` of a parallel env; False when random play must stop."""
    env, record = probe.env, e == 0
    result = probe.call("reset", env.reset, seed=probe.seed + e)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise EnvFault(
            "api",
            f"reset returned {type(result).__name__}, not (observations, infos).",
            "A ParallelEnv's reset returns (observations, infos).",
        )
    obs, infos = result
    if not isinstance(obs, dict) or not isinstance(infos, dict):
        raise EnvFault(
            "api",
            f"reset returned ({type(obs).__name__}, {type(infos).__name__}), not two dicts.",
            "A ParallelEnv's reset returns (observations, infos), dicts keyed by agent.",
        )
    acting = list(env.agents)
    if not acting:
        probe.no_agents(e)
        return False
    probe.after_reset(acting, obs, f"the reset of episode {e}")
    if record:
        probe.first_frames.append(reset_frame(obs))
    length = 0
    terms: dict[str, Any] = {}
    truncs: dict[str, Any] = {}
    while env.agents and probe.room(probe.probe_deadline):
        acting = list(env.agents)
        where = f"step {length} of episode {e}"
        actions = {a: probe.act(a, obs.get(a), infos.get(a), where) for a in acting}
        result = probe.call("step", env.step, actions, step=True)
        if not (isinstance(result, tuple) and len(result) == 5):
            raise EnvFault(
                "api",
                f"step returned {type(result).__name__}, not a 5-tuple.",
                "A ParallelEnv's step returns (observations, rewards, terminations, truncations, infos).",
            )
        obs, rewards, terms, truncs, infos = result
        length += 1
        probe.steps += 1
        now = list(env.agents)
        if record and length <= REPLAY_STEPS:
            probe.first_actions.append(actions)
            probe.first_frames.append(step_frame(result, now))
        probe.unknown({*obs, *rewards, *now}, where)
        probe.reward_rows.append(probe.rewards_row(acting, rewards, where))
        for agent, o in obs.items():
            if agent in probe.index:
                probe.check_obs(agent, o, where)
        for agent in now:
            if agent in probe.index and agent not in obs:
                probe.missing_obs(agent, where)
        done = {a for a in acting if terms.get(a) or truncs.get(a)}
        for agent in done & set(now):
            probe.note(
                "error", "done-agent-stays", agent, f"{agent} is done at {where} yet stays in env.agents"
            )
        left = [a for a in acting if a not in now]
        for agent in left:
            if agent not in done:
                probe.note(
                    "warning",
                    "left-without-done",
                    agent,
                    f"{agent} left env.agents at {where} with neither termination nor truncation set",
                )
        probe.joined(acting, now, where)
        if now:
            for agent in left:
                kind = "terminated" if terms.get(agent) else "truncated" if truncs.get(agent) else "left"
                probe.deaths.append(Death(agent, where, kind, agent in obs))
    kinds = {k for a in acting for k, flags in (("terminated", terms), ("truncated", truncs)) if flags.get(a)}
    probe.episodes.append(Episode(length, length, not env.agents, kinds))
    return True


def play_aec(probe: Probe, e: int) -> bool:
    """Play episode ``e`` of an AEC env; False when random play must stop."""
    env, record = probe.env, e == 0
    probe.call("reset", env.reset, seed=probe.seed + e)
    if not env.agents:
        probe.no_agents(e)
        return False
    probe.after_reset(list(env.agents), None, f"the reset of episode {e}")
    if record:
        probe.first_frames.append(probe.call("observe", aec_frame, env))

    def done(agent: str) -> bool:
        return bool(env.terminations.get(agent) or env.truncations.get(agent))

    def kind(agent: str) -> str:
        return "terminated" if env.terminations.get(agent) else "truncated"

    def step(action: Any) -> None:
        probe.call("step", env.step, action, step=True)
        probe.steps += 1
        if record and len(probe.first_actions) < REPLAY_STEPS:
            probe.first_actions.append(action)
            probe.first_frames.append(probe.call("observe", aec_frame, env))

    turns = dict.fromkeys(probe.agents, 0)
    cycle, cycle_left = np.full(len(probe.agents), np.nan), 0  # rewards summed over a cycle of turns
    flagged: set[str] = set()
    kinds: set[str] = set()
    length = 0
    while env.agents and probe.room(probe.probe_deadline):
        agent = env.agent_selection
        where = f"turn {length} of episode {e}"
        live = [a for a in env.agents if not done(a)]
        before = list(env.agents)
        if cycle_left == 0:
            cycle, cycle_left = np.full(len(probe.agents), np.nan), len(live)
        if done(agent):  # done at someone else's turn, not stepped out yet
            action = None
        else:
            obs = probe.call(f"observe({agent!r})", env.observe, agent)
            probe.check_obs(agent, obs, where)
            action = probe.act(agent, obs, env.infos.get(agent), where)
            turns[agent] += 1
            length += 1
            cycle_left -= 1
        step(action)
        probe.rewards_row(live, env.rewards, where, cycle)
        probe.unknown(env.agents, where)
        newly = [a for a in env.agents if a in probe.index and a not in flagged and done(a)]
        kinds = {kind(a) for a in newly} or kinds
        still = [a for a in env.agents if not done(a)]
        for a in newly:
            flagged.add(a)
            last = probe.call(f"observe({a!r})", env.observe, a)
            if last is not None:
                probe.check_obs(a, last, f"the end of {a}'s episode ({where})")
            if still:
                probe.deaths.append(Death(a, where, kind(a), last is not None))
        while env.agents and done(env.agent_selection) and probe.room(probe.probe_deadline):
            dead = env.agent_selection
            step(None)
            probe.rewards_row(live, env.rewards, where, cycle)
            if dead in env.agents and done(dead):
                probe.note(
                    "error",
                    "done-agent-stays",
                    dead,
                    f"step(None) for {dead}, done at {where}, left it in env.agents",
                )
                break
        if cycle_left == 0 or not env.agents:
            probe.reward_rows.append(cycle)
            cycle_left = 0
        probe.joined(before, list(env.agents), where)
    probe.episodes.append(Episode(length, max(turns.values()), not env.agents, kinds))
    return True
