"""One PettingZoo env (parallel or AEC) stepped as an array of agent slots."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from pettingzoo.utils.env import AECEnv, ParallelEnv

from sb3_marl.envs.spaces import SlotSpaces

# observations, rewards, dones, infos, and the masks (None where no row changed since the last result)
Actions = list[Any] | np.ndarray  # a slot's actions: Python ints for Discrete spaces, else array rows
StepResult = tuple[np.ndarray, list[float], list[bool], list[dict[str, Any]], np.ndarray | None]


def env_name(env: ParallelEnv | AECEnv) -> str:
    """The env's ``metadata["name"]``, else its class name (for error messages)."""
    name = getattr(env, "metadata", {}).get("name")
    return str(name) if name else type(env.unwrapped).__name__


def check_pettingzoo_env(env: Any) -> ParallelEnv | AECEnv:
    """Return ``env`` if it is a PettingZoo env, else raise an error that says what to use instead."""
    if isinstance(env, ParallelEnv | AECEnv):
        return env
    hint = (
        " For a single-agent Gymnasium env use stable_baselines3.common.env_util.make_vec_env."
        if isinstance(env, gym.Env)
        else ""
    )
    raise TypeError(
        f"Expected a PettingZoo ParallelEnv or AECEnv, got {type(env).__module__}.{type(env).__name__}.{hint}"
    )


class _AgentIndex(dict):
    """``{agent: slot}`` whose lookup of an agent outside ``possible_agents`` says so, instead of a bare
    ``KeyError`` (found agents cost what a dict lookup costs)."""

    def __init__(self, copy: EnvCopy):
        super().__init__((agent, k) for k, agent in enumerate(copy.agents))
        self.owner = copy

    def __missing__(self, agent: str) -> int:
        raise self.owner.unknown_agent_error(agent)


class EnvCopy:
    """One env copy: takes an action per agent slot, returns arrays per slot, and resets itself when
    every agent is done.

    A slot whose agent is not in the episode (dead, or not yet spawned) reports ``inactive`` in its
    info, a zero observation and reward, and allows action 0 only. In an AEC env the agent whose turn
    it is acts; the other live agents wait (their action is ignored and only action 0 is legal), and
    the rewards they get meanwhile are reported on their own slot at the step they arrive.

    :param env: a PettingZoo ``ParallelEnv`` or ``AECEnv``
    :param slot_spaces: the shared slot spaces of the env's agents
    :param copy_index: which copy of the VecEnv this is (for error messages)
    """

    def __init__(self, env: ParallelEnv | AECEnv, slot_spaces: SlotSpaces, copy_index: int = 0):
        self.env = env
        self.is_aec = isinstance(env, AECEnv)
        self.agents: list[str] = list(env.possible_agents)
        self.copy_index = copy_index
        self.t = 0  # steps into the current episode
        self.index = _AgentIndex(self)
        self.spaces = slot_spaces
        n = len(self.agents)
        space = slot_spaces.observation_space
        self.obs = np.zeros((n, *space.shape), dtype=space.dtype)  # type: ignore[misc]
        self.masks = np.ones((n, slot_spaces.n_actions), dtype=bool) if slot_spaces.discrete else None
        self.alive = np.zeros(n, dtype=bool)
        self.n_alive = 0
        self.state_space: gym.Space | None = (
            getattr(env, "state_space", None) if hasattr(env, "state") else None
        )
        self._rows = np.arange(n)
        self._plain_obs = slot_spaces.obs_dims is None  # observations used as they are: no padding
        self._own_masks = [slot_spaces.legal_mask(k, None) for k in range(n)] if slot_spaces.discrete else []
        # whether a slot's mask row holds its own mask (skip rewriting it); without masks, always
        self._own_mask_set = [self.masks is None] * n
        self._masks_changed = True  # whether a mask row was written since the last step's result
        # no env mask seen yet and every agent has all actions: any action in range is legal (no check)
        self._all_legal = slot_spaces.discrete and all(mask.all() for mask in self._own_masks)

    # -- reading the env ------------------------------------------------------------------------

    def unknown_agent_error(self, agent: str) -> ValueError:
        return ValueError(
            f"Env copy {self.copy_index} ({env_name(self.env)}) has agent {agent!r} at step {self.t} of its "
            f"episode, which is not one of its possible_agents {self.agents}. List every agent that can "
            "appear in possible_agents: each one gets a slot."
        )

    def _observe(self, k: int, raw: Any, info: dict[str, Any] | None, can_act: bool = True) -> None:
        """Store agent ``k``'s observation and its mask."""
        env_mask = None
        if isinstance(raw, dict) and "action_mask" in raw:
            env_mask, raw = raw["action_mask"], raw["observation"]
        elif info is not None and "action_mask" in info:
            env_mask = info["action_mask"]
        if self._plain_obs:
            self.obs[k] = raw
        else:
            self.spaces.write_obs(self.obs, k, k, raw)
        if self.masks is None:
            return
        if not can_act:
            self._noop(k)
        elif env_mask is None:
            if not self._own_mask_set[k]:
                self.masks[k] = self._own_masks[k]
                self._own_mask_set[k] = True
                self._masks_changed = True
        else:
            self._all_legal = False
            self._masks_changed = True
            try:
                self.masks[k] = self.spaces.legal_mask(k, env_mask)
            except ValueError as error:
                where = f"env copy {self.copy_index}, step {self.t} of its episode"
                raise ValueError(f"{error} ({where})") from None
            self._own_mask_set[k] = False

    def _noop(self, k: int) -> None:
        if self.masks is not None:
            self.masks[k] = False
            self.masks[k, 0] = True
            self._own_mask_set[k] = False
            self._masks_changed = True

    def _join(self, k: int) -> None:
        self.alive[k] = True
        self.n_alive += 1

    def _leave(self, k: int) -> None:
        """Agent ``k`` is out of the episode: zero observation, action 0 only."""
        if self.alive[k]:
            self.alive[k] = False
            self.n_alive -= 1
        self.obs[k] = 0
        self._noop(k)

    def _env_action(self, k: int, action: Any) -> Any:
        if self.masks is None:
            return action
        a = int(action)
        agent = self.agents[k]
        assert self.spaces.action_ns is not None
        if a >= self.spaces.action_ns[k]:
            raise ValueError(
                f"Action {a} was given to agent {agent!r} (slot {k}), whose action space is "
                f"Discrete({self.spaces.action_ns[k]}): it is a padding action. Use a learner that respects "
                "action_masks() (MADQN, sb3-contrib's MaskablePPO) when agents have different action spaces."
            )
        if not self.masks[k, a]:
            legal = np.flatnonzero(self.masks[k]).tolist()
            raise ValueError(
                f"Action {a} is illegal for agent {agent!r} (slot {k}); its legal actions are {legal}. Use a "
                "learner that respects action_masks() (MADQN, sb3-contrib's MaskablePPO)."
            )
        return a

    # -- the slot interface ---------------------------------------------------------------------

    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, np.ndarray | None, list[dict]]:
        """Reset the env; return slot observations, masks and per-slot reset infos."""
        self.obs[:] = 0
        self.alive[:] = False
        self.n_alive = 0
        self.t = 0
        if self.is_aec:
            self.env.reset(seed=seed, options=options)
            env_infos = self.env.infos
        else:
            raw_obs, env_infos = self.env.reset(seed=seed, options=options)
        if not self.env.agents:
            raise ValueError(
                f"Env copy {self.copy_index} ({env_name(self.env)}) has no agents after reset(): env.agents "
                f"is empty (possible_agents {self.agents}). reset() must put the agents that start the "
                "episode in env.agents."
            )
        for agent in [*self.env.agents, *([] if self.is_aec else raw_obs)]:
            if agent not in self.index:
                raise self.unknown_agent_error(agent)
        for k, agent in enumerate(self.agents):
            if agent in self.env.agents:
                self._join(k)
                raw = self.env.observe(agent) if self.is_aec else raw_obs[agent]
                can_act = not self.is_aec or agent == self.env.agent_selection
                self._observe(k, raw, env_infos.get(agent), can_act)
            else:
                self._leave(k)
        infos = [dict(env_infos.get(agent, {})) for agent in self.agents]
        return self.obs.copy(), None if self.masks is None else self.masks.copy(), infos

    def step(self, actions: Actions) -> StepResult:
        """Step with one action per slot (a list of ints for Discrete actions); reset when every agent is
        done (``copy_done`` in the infos, reset infos under ``reset_info``, the env's last global state
        under ``terminal_state``)."""
        n = len(self.agents)
        self.t += 1
        rewards = [0.0] * n
        dones = [False] * n
        infos: list[dict[str, Any]] = [{} for _ in range(n)]
        was_alive = None if self.n_alive == n else self.alive.copy()
        if self.is_aec:
            self._step_aec(actions, rewards, dones, infos)
        else:
            self._step_parallel(actions, rewards, dones, infos)
        if was_alive is not None:
            for k in np.flatnonzero(~was_alive).tolist():
                infos[k]["inactive"] = True
                rewards[k] = 0.0
        if self.n_alive == 0:
            terminal_state = None if self.state_space is None else self.state()
            _, _, reset_infos = self.reset()
            for info, reset_info in zip(infos, reset_infos, strict=True):
                info["copy_done"] = True
                info["reset_info"] = reset_info
                if terminal_state is not None:
                    info["terminal_state"] = terminal_state
        masks = self.masks if self._masks_changed else None
        self._masks_changed = False
        return self.obs, rewards, dones, infos, masks

    def _finish(self, k: int, terminated: bool, truncated: bool, info: dict[str, Any]) -> None:
        """Agent ``k`` is done this step: report its real last observation (and, with Discrete actions,
        its legal actions there as ``terminal_action_mask``), then leave."""
        info["TimeLimit.truncated"] = truncated and not terminated
        info["terminal_observation"] = self.obs[k].copy()
        if self.masks is not None:
            info["terminal_action_mask"] = self.masks[k].copy()
        self._leave(k)

    def _step_parallel(
        self, actions: Actions, rewards: list[float], dones: list[bool], infos: list[dict[str, Any]]
    ) -> None:
        env = self.env
        index = self.index
        if self.masks is not None and not self._all_legal:  # every live agent acts: check them at once
            illegal = self.alive & ~self.masks[self._rows, actions]
            if illegal.any():
                k = int(np.flatnonzero(illegal)[0])
                self._env_action(k, actions[k])  # raises, saying why
        agents = env.agents
        everyone = agents == self.agents and self.n_alive == len(agents)  # all live, in the slots' order
        if everyone:
            acting = dict(zip(agents, actions, strict=True))
        else:
            acting = {a: actions[index[a]] for a in agents}
        result = env.step(acting)
        if everyone and self._quiet_step(result, rewards, infos):
            return
        raw_obs, env_rewards, terminations, truncations, env_infos = result
        for agent, raw in raw_obs.items():
            k = index[agent]
            info = infos[k]
            env_info = env_infos.get(agent)
            if env_info:
                info.update(env_info)
            if agent not in acting:  # an agent that joins the episode
                if agent in env.agents:
                    self._join(k)
                    self._observe(k, raw, info)
                continue
            self._observe(k, raw, info)
            rewards[k] = env_rewards.get(agent, 0.0)
            terminated, truncated = terminations.get(agent, False), truncations.get(agent, False)
            if terminated or truncated:
                dones[k] = True
                self._finish(k, terminated, truncated, info)
            else:
                info["TimeLimit.truncated"] = False
        for agent in acting.keys() - raw_obs.keys():  # left without a last observation: keep the one before
            k = index[agent]
            dones[k] = True
            rewards[k] = env_rewards.get(agent, 0.0)
            infos[k].update(env_infos.get(agent, ()))
            self._finish(k, terminations.get(agent, True), truncations.get(agent, False), infos[k])

    def _quiet_step(
        self, result: tuple[dict[str, Any], ...], rewards: list[float], infos: list[dict[str, Any]]
    ) -> bool:
        """The step every agent acted in, when nothing happened but observations and rewards: no agent is
        done, joins or leaves, no info or env mask came, no mask row changes and observations need no
        padding. Then take it in one short pass and return True; else False, and the general reading
        takes it (it writes every row again). ``result``: what the env's ``step`` returned."""
        raw_obs, env_rewards, terminations, truncations, env_infos = result
        if (
            not self._plain_obs
            or not all(self._own_mask_set)
            or any(terminations.values())
            or any(truncations.values())
            or any(env_infos.values())
            or len(raw_obs) != len(self.agents)
        ):
            return False
        obs = self.obs
        for k, agent in enumerate(self.agents):
            raw = raw_obs.get(agent)
            if raw is None or isinstance(raw, dict):  # gone without a last observation; or a mask dict
                return False
            obs[k] = raw
            rewards[k] = env_rewards.get(agent, 0.0)
            infos[k]["TimeLimit.truncated"] = False
        return True

    def _step_aec(
        self, actions: Actions, rewards: list[float], dones: list[bool], infos: list[dict[str, Any]]
    ) -> None:
        env = self.env
        k_acting = self.index[env.agent_selection]
        action: Any = self._env_action(k_acting, actions[k_acting])
        while True:
            env.step(action)
            for agent, reward in env.rewards.items():
                rewards[self.index[agent]] += reward
            for agent in env.agents:
                k = self.index[agent]
                if self.alive[k] and (env.terminations[agent] or env.truncations[agent]):
                    dones[k] = True
                    infos[k].update(env.infos.get(agent, ()))
                    self._observe(k, env.observe(agent), infos[k])
                    self._finish(k, env.terminations[agent], env.truncations[agent], infos[k])
            selected = env.agent_selection
            if not env.agents or not (env.terminations[selected] or env.truncations[selected]):
                break
            action = None  # step the agents that are done out of the env
        for agent in env.agents:
            k = self.index[agent]
            if self.alive[k]:
                infos[k].update(env.infos.get(agent, ()))
                infos[k]["TimeLimit.truncated"] = False
                self._observe(k, env.observe(agent), infos[k], can_act=agent == env.agent_selection)

    # -- what the VecEnv asks of a copy ----------------------------------------------------------

    def describe(self) -> tuple[list[str], SlotSpaces, gym.Space | None, bool]:
        """The agents, slot spaces, global state space (None if the env has none) and whether it is AEC."""
        return self.agents, self.spaces, self.state_space, self.is_aec

    def state(self) -> np.ndarray:
        return np.asarray(self.env.state())

    def get_env_attr(self, name: str) -> Any:
        return getattr(self.env, name)

    def set_env_attr(self, name: str, value: Any) -> None:
        setattr(self.env, name, value)

    def call_env_method(self, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        return getattr(self.env, name)(*args, **kwargs)

    def is_wrapped(self, wrapper_class: type) -> bool:
        """Whether a wrapper of this class is anywhere in the env's chain of wrapped envs (``.env``, or
        ``.aec_env`` for PettingZoo's AEC-to-parallel conversion)."""
        env: Any = self.env
        seen: set[int] = set()
        while env is not None and id(env) not in seen:
            if isinstance(env, wrapper_class):
                return True
            seen.add(id(env))
            inner = getattr(env, "env", None)
            env = inner if inner is not None else getattr(env, "aec_env", None)
        return False

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()
