"""What the VecEnv makes of an env, read from its spaces without playing it: the API, agents and
spaces, the padding and masks the VecEnv adds, the global state, and which algorithms fit. ``train``
reads it to refuse an algorithm that does not fit; ``sb3-marl check`` prints it before the diagnosis of
``sb3_marl.envs.check``, which plays the env."""

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
    problem: str | None

    @property
    def needs_masks(self) -> bool:
        return self.mask_source is not None or self.padded_actions

    def fitting_algos(self) -> list[str]:
        """The algorithms of the registry (``sb3_marl.algos``) that can learn on this env."""
        if self.problem is not None:
            return []
        return fitting_algos(self.env_id, self.slot_action_space, self.needs_masks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: spaces as their text."""
        return {
            "api": "aec" if self.aec else "parallel",
            "slot_observation_space": str(self.slot_observation_space),
            "slot_action_space": str(self.slot_action_space),
            "padded_observations": self.padded_observations,
            "padded_actions": self.padded_actions,
            "action_masks": self.mask_source or ("padding" if self.padded_actions else None),
            "state_space": None if self.state_space is None else str(self.state_space),
            "algorithms_that_fit": self.fitting_algos(),
            "problem": self.problem,
        }


def inspect_env(
    env_id: str, env_kwargs: dict[str, Any] | None = None, wrapper: Callable[[Any], Any] | None = None
) -> EnvReport:
    """Make the env, reset it once and read its agents, spaces, masks and global state."""
    from gymnasium import spaces
    from pettingzoo.utils.env import AECEnv

    from sb3_marl.envs import build_slot_spaces
    from sb3_marl.evaluation import make_env

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
        if isinstance(env, AECEnv):
            env.reset(seed=0)
            infos = env.infos
        else:
            infos = env.reset(seed=0)[1]
        if mask_source is None and any("action_mask" in info for info in infos.values()):
            mask_source = "infos"
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
            state_space=getattr(env, "state_space", None),
            problem=problem,
        )
    finally:
        env.close()


def report_lines(r: EnvReport) -> list[str]:
    """What ``sb3-marl check`` prints about what the VecEnv makes of an env."""
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
        return lines
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
    lines.append(f"Algorithms that fit: {', '.join(r.fitting_algos())}")
    return lines
