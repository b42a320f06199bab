"""What an env is, as ``sb3-marl check`` reports it: its API, agents and spaces, the padding and masks
the VecEnv adds, whether agents die or join in random play, and which algorithms fit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sb3_marl.algos import fitting_algos


@dataclass
class EnvReport:
    """What ``sb3-marl check`` finds out about a PettingZoo env."""

    env_id: str
    name: str
    aec: bool
    agents: list[str]
    observation_spaces: dict[str, Any]
    action_spaces: dict[str, Any]
    slot_observation_space: Any
    slot_action_space: Any
    padded_observations: bool
    padded_actions: bool
    mask_source: str | None
    state_space: Any
    missing_at_reset: bool
    death_observed: bool
    join_observed: bool
    probe_steps: int
    probe_episodes: int
    problem: str | None

    @property
    def needs_masks(self) -> bool:
        return self.mask_source is not None or self.padded_actions

    def fitting_algos(self) -> list[str]:
        """The algorithms of the registry (``sb3_marl.algos``) that can learn on this env."""
        if self.problem is not None:
            return []
        return fitting_algos(self.env_id, self.slot_action_space, self.needs_masks)


def inspect_env(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    wrapper: Callable[[Any], Any] | None = None,
    probe_steps: int = 300,
) -> EnvReport:
    """Make the env, read its agents and spaces, and play ``probe_steps`` random steps (whole episodes)
    to see whether agents leave or join during an episode."""
    from gymnasium import spaces
    from pettingzoo.utils.env import AECEnv

    from sb3_marl.envs import build_slot_spaces
    from sb3_marl.evaluation import RandomPolicy, make_env, run_episode

    env = make_env(env_id, env_kwargs, wrapper)
    try:
        agents = list(env.possible_agents)
        obs_spaces = {a: env.observation_space(a) for a in agents}
        act_spaces = {a: env.action_space(a) for a in agents}
        problem, slot_obs, slot_act = None, None, None
        try:
            slot = build_slot_spaces(agents, list(obs_spaces.values()), list(act_spaces.values()))
            slot_obs, slot_act = slot.observation_space, slot.action_space
        except ValueError as error:
            problem = str(error)
        mask_source = None
        if any(isinstance(s, spaces.Dict) and "action_mask" in s.spaces for s in obs_spaces.values()):
            mask_source = "observations"
        state_space = getattr(env, "state_space", None)

        starts: list[int] = []
        probe = {"steps": -1, "death": False, "join": False}

        def watch() -> None:
            n = len(env.agents)
            if probe["steps"] < 0:
                starts.append(n)
            elif n > 0:
                probe["death"] = probe["death"] or n < starts[-1]
                probe["join"] = probe["join"] or n > starts[-1]
            probe["steps"] += 1

        if isinstance(env, AECEnv):
            env.reset(seed=0)
            infos = env.infos
        else:
            infos = env.reset(seed=0)[1]
        if mask_source is None and any("action_mask" in info for info in infos.values()):
            mask_source = "infos"
        policy = RandomPolicy(env, seed=0)
        total = episodes = 0
        while total < probe_steps and episodes < probe_steps and problem is None:  # episodes may be empty
            probe["steps"] = -1
            run_episode(policy, env, seed=episodes, on_step=watch)
            total += max(int(probe["steps"]), 0)
            episodes += 1
        return EnvReport(
            env_id=env_id,
            name=str(env.metadata.get("name", env_id)),
            aec=isinstance(env, AECEnv),
            agents=agents,
            observation_spaces=obs_spaces,
            action_spaces=act_spaces,
            slot_observation_space=slot_obs,
            slot_action_space=slot_act,
            padded_observations=len({repr(s) for s in obs_spaces.values()}) > 1,
            padded_actions=len({repr(s) for s in act_spaces.values()}) > 1,
            mask_source=mask_source,
            state_space=state_space,
            missing_at_reset=bool(starts) and min(starts) < len(agents),
            death_observed=bool(probe["death"]),
            join_observed=bool(probe["join"]),
            probe_steps=total,
            probe_episodes=len(starts),
            problem=problem,
        )
    finally:
        env.close()


def report_lines(env_id: str, env_kwargs: dict[str, Any], steps: int) -> tuple[list[str], bool]:
    """What ``sb3-marl check`` prints about an env, and whether the VecEnv can handle it.

    :param steps: random steps played to look for agents dying or joining (at most 100 of them also
        stepped through the VecEnv)
    """
    r = inspect_env(env_id, env_kwargs, None, steps)
    lines = [f"{r.env_id} ({r.name})"]
    if r.aec:
        lines.append(
            "API: AEC (turn-based). Each step the agent whose turn it is acts; the others wait, with "
            "action 0 as their only legal action."
        )
    else:
        lines.append("API: parallel. All live agents act at each step.")
    lines.append(f"Agents ({len(r.agents)}), one VecEnv slot each per env copy (parameter sharing):")
    lines += [f"  {a}: observation {r.observation_spaces[a]}, action {r.action_spaces[a]}" for a in r.agents]
    if r.problem is not None:
        lines.append(f"Cannot handle: {r.problem}")
        return lines, False
    padding = []
    if r.padded_observations:
        padding.append(f"observations zero-padded to {r.slot_observation_space}")
    if r.padded_actions:
        padding.append(f"actions padded to {r.slot_action_space}, the padding actions masked out")
    lines.append(
        f"Different spaces: {'; '.join(padding)}."
        if padding
        else "Different spaces: no, all agents share them."
    )
    lines.append(f"Slot spaces: observation {r.slot_observation_space}, action {r.slot_action_space}")
    if r.mask_source is not None:
        lines.append(f"Action masks: yes, read from the env's {r.mask_source}; available as action_masks().")
    elif r.padded_actions:
        lines.append("Action masks: from padding only; available as action_masks().")
    else:
        lines.append("Action masks: none from the env.")
    lines.append(
        f"Global state: {r.state_space}, from get_state()."
        if r.state_space is not None
        else "Global state: none."
    )
    seen = f"in {r.probe_steps} random steps ({r.probe_episodes} episodes)"
    if r.missing_at_reset:
        lines.append("Agents absent at reset: yes; their slots are inactive until they join.")
    if r.death_observed:
        lines.append(
            f"Agent death: observed {seen}; dead agents' slots are inactive (info['inactive']) until their "
            "copy resets."
        )
    else:
        lines.append(f"Agent death: not observed {seen}; if it happens, dead agents' slots become inactive.")
    if r.join_observed:
        lines.append(f"Agents joining mid-episode: observed {seen}.")
    lines.append(f"Algorithms that fit: {', '.join(r.fitting_algos())}")
    try:
        lines.append(_try_vec_env(env_id, env_kwargs, min(steps, 100)))
    except Exception as error:
        lines.append(f"Cannot handle: making or stepping the VecEnv failed: {type(error).__name__}: {error}")
        return lines, False
    return lines, True


def _try_vec_env(env_id: str, env_kwargs: dict[str, Any], steps: int) -> str:
    """Make a VecEnv of one copy and step it with random legal actions."""
    import numpy as np

    from sb3_marl.envs import make_vec_env

    venv = make_vec_env(env_id, n_envs=1, seed=0, env_kwargs=env_kwargs)
    try:
        venv.reset()
        venv.action_space.seed(0)
        rng = np.random.default_rng(0)
        masked = callable(getattr(venv, "action_masks", None)) and venv.slot_spaces.discrete  # type: ignore[attr-defined]
        for _ in range(steps):
            if masked:
                masks = venv.action_masks()  # type: ignore[attr-defined]
                actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
            else:
                actions = np.stack([venv.action_space.sample() for _ in range(venv.num_envs)])
            venv.step(actions)
        return f"VecEnv: {venv.num_envs} slots per env copy, stepped {steps} times with random legal actions."
    finally:
        venv.close()
