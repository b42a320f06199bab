"""MultiAgentVecEnv: PettingZoo env copies as one SB3 VecEnv, one slot per agent per copy."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo.utils.env import AECEnv, ParallelEnv
from stable_baselines3.common.vec_env.base_vec_env import (
    CloudpickleWrapper,
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from sb3_marl.envs.copy import EnvCopy
from sb3_marl.envs.spaces import SlotSpaces, build_slot_spaces

EnvFn = Callable[[], ParallelEnv | AECEnv]


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


class _RemoteError:
    """An exception raised by an env copy, kept to be raised again once every copy has answered."""

    def __init__(self, error: BaseException, trace: str = ""):
        self.error = error
        self.trace = trace

    def raise_error(self) -> None:
        if self.trace and hasattr(self.error, "add_note"):
            self.error.add_note(f"Raised in an env copy's subprocess:\n{self.trace}")
        raise self.error


def _worker(
    remote: Connection, parent_remote: Connection, env_fn: CloudpickleWrapper, agent_indicator: bool
) -> None:
    parent_remote.close()
    copy: EnvCopy | _RemoteError
    try:
        copy = _make_copy(env_fn.var, agent_indicator)
    except Exception as error:  # answer every call with it, so the parent raises it, not an EOFError
        copy = _RemoteError(error, traceback.format_exc())
    while True:
        try:
            method, args = remote.recv()
        except (EOFError, KeyboardInterrupt):  # the parent has gone, or Ctrl-C reached the group
            return
        if isinstance(copy, _RemoteError):
            remote.send(None if method == "close" else copy)
        else:
            try:
                remote.send(getattr(copy, method)(*args))
            except Exception as error:
                remote.send(_RemoteError(error, traceback.format_exc()))
        if method == "close":
            remote.close()
            return


def _make_copy(env_fn: EnvFn, agent_indicator: bool) -> EnvCopy:
    env = check_pettingzoo_env(env_fn())
    agents = list(env.possible_agents)
    obs_spaces = [env.observation_space(a) for a in agents]
    act_spaces = [env.action_space(a) for a in agents]
    slot_spaces = build_slot_spaces(agents, obs_spaces, act_spaces, agent_indicator)
    return EnvCopy(env, slot_spaces)


class _LocalCopy:
    """An env copy in this process, behind the same send/recv calls as a subprocess. ``recv`` returns
    the result, or a ``_RemoteError`` holding what the call raised."""

    def __init__(self, env_fn: EnvFn, agent_indicator: bool):
        self.copy = _make_copy(env_fn, agent_indicator)
        self._result: Any = None

    def send(self, method: str, *args: Any) -> None:
        try:
            self._result = getattr(self.copy, method)(*args)
        except Exception as error:
            self._result = _RemoteError(error)

    def recv(self) -> Any:
        return self._result

    def stop(self) -> None:
        pass


class _RemoteCopy:
    """An env copy in a subprocess."""

    def __init__(self, env_fn: EnvFn, agent_indicator: bool, context: Any):
        self.remote, work_remote = context.Pipe()
        args = (work_remote, self.remote, CloudpickleWrapper(env_fn), agent_indicator)
        self.process = context.Process(target=_worker, args=args, daemon=True)
        self.process.start()
        work_remote.close()

    def send(self, method: str, *args: Any) -> None:
        self.remote.send((method, args))

    def recv(self) -> Any:
        return self.remote.recv()

    def stop(self) -> None:
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()


def _gather(copies: Sequence[_LocalCopy | _RemoteCopy]) -> list[Any]:
    """Every copy's answer to the call just sent; the first error is raised only after all have
    answered, so that no answer is left behind in a pipe."""
    results = [copy.recv() for copy in copies]
    for result in results:
        if isinstance(result, _RemoteError):
            result.raise_error()
    return results


class MultiAgentVecEnv(VecEnv):
    """PettingZoo env copies as one SB3 ``VecEnv`` with parameter sharing: slot ``i`` is agent
    ``possible_agents[i % num_agents]`` of copy ``i // num_agents``.

    It follows SB3's done protocol per slot (bool ``dones``, ``terminal_observation``,
    ``TimeLimit.truncated``, ``reset_infos``; with Discrete actions a done slot's info also has
    ``terminal_action_mask``, the legal actions at its terminal observation). Agents that leave early
    report their own done and are ``inactive`` until their copy resets; agents with different spaces
    share a padded space; action masks come from :meth:`action_masks`. See ``docs/design.md`` for the
    info keys.

    :param env_fns: one function per copy, each returning a PettingZoo ``ParallelEnv`` or ``AECEnv``
    :param subprocess: run each copy in its own process
    :param start_method: multiprocessing start method (default: ``forkserver`` where available)
    :param agent_indicator: append a one-hot agent id to (flat) observations
    :param action_mask_in_obs: return Dict observations ``{"observation", "action_mask"}``
    """

    def __init__(
        self,
        env_fns: Sequence[EnvFn],
        subprocess: bool = False,
        start_method: str | None = None,
        agent_indicator: bool = False,
        action_mask_in_obs: bool = False,
    ):
        if len(env_fns) == 0:
            raise ValueError("MultiAgentVecEnv needs at least one env function.")
        self.closed = False
        if subprocess:
            method = start_method or ("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
            context = mp.get_context(method)
            self._copies: list[_LocalCopy | _RemoteCopy] = [
                _RemoteCopy(fn, agent_indicator, context) for fn in env_fns
            ]
        else:
            self._copies = [_LocalCopy(fn, agent_indicator) for fn in env_fns]
        try:
            for copy in self._copies:
                copy.send("describe")
            descriptions = _gather(self._copies)
            self.possible_agents, slot_spaces, self.state_space, self.is_aec = descriptions[0]
            if any(d[:2] != descriptions[0][:2] for d in descriptions):
                raise ValueError("Every env copy must have the same possible_agents and spaces.")
            if action_mask_in_obs and not slot_spaces.discrete:
                raise ValueError("action_mask_in_obs needs a Discrete action space.")
        except Exception:
            self._stop_copies()
            raise
        self.slot_spaces: SlotSpaces = slot_spaces
        self.num_agents = len(self.possible_agents)
        self.num_copies = len(env_fns)
        n_slots = self.num_agents * self.num_copies
        self.slot_agents = [self.possible_agents[i % self.num_agents] for i in range(n_slots)]
        self.slot_copies = np.arange(n_slots) // self.num_agents
        self.action_mask_in_obs = action_mask_in_obs
        obs_space = slot_spaces.observation_space
        if action_mask_in_obs:
            mask_space = spaces.MultiBinary(slot_spaces.n_actions)
            obs_space = spaces.Dict({"observation": obs_space, "action_mask": mask_space})
        super().__init__(n_slots, obs_space, slot_spaces.action_space)
        inner = slot_spaces.observation_space
        self._obs = np.zeros((n_slots, *inner.shape), dtype=inner.dtype)  # type: ignore[misc]
        self._masks = np.ones((n_slots, slot_spaces.n_actions), dtype=bool) if slot_spaces.discrete else None

    # -- stepping -------------------------------------------------------------------------------

    def _copy_slice(self, c: int) -> slice:
        return slice(c * self.num_agents, (c + 1) * self.num_agents)

    def _store(self, c: int, obs: np.ndarray, masks: np.ndarray | None) -> None:
        self._obs[self._copy_slice(c)] = obs
        if self._masks is not None:
            self._masks[self._copy_slice(c)] = masks

    def _observations(self) -> VecEnvObs:
        if self.action_mask_in_obs:
            return {"observation": self._obs.copy(), "action_mask": self._masks.astype(np.int8)}  # type: ignore[union-attr]
        return self._obs.copy()

    def reset(self) -> VecEnvObs:
        for c, copy in enumerate(self._copies):
            first = c * self.num_agents
            copy.send("reset", self._seeds[first], self._options[first] or None)
        for c, (obs, masks, infos) in enumerate(_gather(self._copies)):
            self._store(c, obs, masks)
            self.reset_infos[self._copy_slice(c)] = infos
        self._reset_seeds()
        self._reset_options()
        return self._observations()

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions)
        if self.slot_spaces.discrete:
            actions = actions.reshape(self.num_envs)
            bad = (actions < 0) | (actions >= self.slot_spaces.n_actions)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"Action {actions[i]} for slot {i} (agent {self.slot_agents[i]!r}) is outside the action "
                    f"space {self.action_space}."
                )
        for c, copy in enumerate(self._copies):
            copy.send("step", actions[self._copy_slice(c)])

    def step_wait(self) -> VecEnvStepReturn:
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        dones = np.zeros(self.num_envs, dtype=bool)
        infos: list[dict[str, Any]] = []
        results = [copy.recv() for copy in self._copies]
        errors = [result for result in results if isinstance(result, _RemoteError)]
        for c, result in enumerate(results):
            if isinstance(result, _RemoteError):
                continue
            obs, copy_rewards, copy_dones, copy_infos, masks = result
            s = self._copy_slice(c)
            self._store(c, obs, masks)
            rewards[s], dones[s] = copy_rewards, copy_dones
            for k, info in enumerate(copy_infos):
                if masks is not None:
                    info["action_mask"] = masks[k]
                if "reset_info" in info:
                    self.reset_infos[c * self.num_agents + k] = info.pop("reset_info")
                if self.action_mask_in_obs and "terminal_observation" in info:
                    info["terminal_observation"] = {
                        "observation": info["terminal_observation"],
                        "action_mask": info["terminal_action_mask"].astype(np.int8),
                    }
            infos.extend(copy_infos)
        if errors:  # the copies that stepped are stored; the one that raised did not step
            errors[0].raise_error()
        return self._observations(), rewards, dones, infos

    # -- what a multi-agent learner reads ---------------------------------------------------------

    def action_masks(self) -> np.ndarray:
        """Legal actions of every slot for the current observations, shape ``(num_envs, n_actions)``."""
        if self._masks is None:
            raise AttributeError("action_masks() needs a Discrete action space.")
        return self._masks.copy()

    def get_state(self) -> np.ndarray:
        """The global state of every copy, shape ``(num_copies, *state_space.shape)``."""
        if self.state_space is None:
            raise AttributeError("This env has no global state (no state_space/state()).")
        for copy in self._copies:
            copy.send("state")
        return np.stack(_gather(self._copies))

    # -- the rest of the VecEnv contract ---------------------------------------------------------

    def _stop_copies(self) -> None:
        for copy in self._copies:
            with contextlib.suppress(OSError):
                copy.send("close")
        for copy in self._copies:
            with contextlib.suppress(EOFError, OSError):
                copy.recv()
            copy.stop()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._stop_copies()

    def _per_copy(self, indices: VecEnvIndices, method: str, *args: Any) -> list[Any]:
        """Call ``method`` once on each copy the slots ``indices`` belong to; one answer per slot."""
        slots = list(self._get_indices(indices))
        copies = list(dict.fromkeys(int(self.slot_copies[i]) for i in slots))
        for c in copies:
            self._copies[c].send(method, *args)
        answers = dict(zip(copies, _gather([self._copies[c] for c in copies]), strict=True))
        return [answers[int(self.slot_copies[i])] for i in slots]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Per slot: the slot's ``action_masks`` method, else the attribute of the slot's PettingZoo env."""
        if attr_name == "action_masks":
            if self._masks is None:
                raise AttributeError("action_masks() needs a Discrete action space.")
            return [lambda i=i: self.action_masks()[i] for i in self._get_indices(indices)]
        return self._per_copy(indices, "get_env_attr", attr_name)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set the attribute on the PettingZoo env of each slot's copy (shared by all slots of a copy)."""
        self._per_copy(indices, "set_env_attr", attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Per slot: ``action_masks`` gives the slot's mask; other methods run on the slot's PettingZoo
        env (once per copy)."""
        if method_name == "action_masks":
            masks = self.action_masks()
            return [masks[i] for i in self._get_indices(indices)]
        return self._per_copy(indices, "call_env_method", method_name, method_args, method_kwargs)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return self._per_copy(indices, "is_wrapped", wrapper_class)

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            return [None for _ in self._copies]
        for copy in self._copies:
            copy.send("render")
        return _gather(self._copies)
