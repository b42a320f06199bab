"""MultiAgentVecEnv: PettingZoo env copies as one SB3 VecEnv, one slot per agent per copy."""

from __future__ import annotations

import math
import multiprocessing as mp
from collections.abc import Sequence
from itertools import chain
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from sb3_marl.envs.copy import check_pettingzoo_env
from sb3_marl.envs.spaces import SlotSpaces
from sb3_marl.envs.workers import EnvFn, _gather, _LocalCopy, _RemoteCopy, _RemoteError

__all__ = ["MultiAgentVecEnv", "check_pettingzoo_env"]  # check_pettingzoo_env: also imported from here

_FIX_NON_FINITE = (
    "NaN or inf poisons the network's weights. Mend the env, or clip or replace the values in a "
    "wrapper_class (e.g. with np.clip or np.nan_to_num); only if you know they do no harm, pass "
    "make_vec_env(..., check_finite=False)."
)


class MultiAgentVecEnv(VecEnv):
    """PettingZoo env copies as one SB3 ``VecEnv`` with parameter sharing: slot ``i`` is agent
    ``possible_agents[i % num_agents]`` of copy ``i // num_agents``.

    It follows SB3's done protocol per slot (bool ``dones``, ``terminal_observation``,
    ``TimeLimit.truncated``, ``reset_infos``; with Discrete actions a done slot's info also has
    ``terminal_action_mask``, the legal actions at its terminal observation). Agents that leave early
    report their own done and are ``inactive`` until their copy resets; agents with different spaces
    share a padded space; action masks come from :meth:`action_masks`. See ``docs/design.md`` for the
    info keys. Each reset and step checks, in one vectorized pass, that observations and rewards are
    finite and that every live agent has a legal action, and says which agent, copy and step if not.

    :param env_fns: one function per copy, each returning a PettingZoo ``ParallelEnv`` or ``AECEnv``
    :param subprocess: run each copy in a worker process of its own
    :param start_method: the workers' multiprocessing start method, ``"fork"``, ``"spawn"`` or
        ``"forkserver"`` (None: ``forkserver`` where available, else ``spawn``); only with ``subprocess``
    :param agent_indicator: append a one-hot agent id to (flat) observations
    :param action_mask_in_obs: return Dict observations ``{"observation", "action_mask"}``
    :param check_finite: raise on a NaN or infinite observation or reward; False skips the check
    """

    def __init__(
        self,
        env_fns: Sequence[EnvFn],
        subprocess: bool = False,
        start_method: str | None = None,
        agent_indicator: bool = False,
        action_mask_in_obs: bool = False,
        check_finite: bool = True,
    ):
        if len(env_fns) == 0:
            raise ValueError("MultiAgentVecEnv needs at least one env function.")
        methods = mp.get_all_start_methods()
        if start_method is not None and not subprocess:
            raise ValueError(
                f"start_method={start_method!r} is for worker processes: pass subprocess=True with it, or "
                "leave it out."
            )
        if start_method is not None and start_method not in methods:
            raise ValueError(f"Unknown start_method {start_method!r}: this platform has {methods}, or None.")
        self.closed = False
        self.subprocess = subprocess
        self.start_method: str | None = None
        if subprocess:
            self.start_method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
            context = mp.get_context(self.start_method)
            self._copies: list[_LocalCopy | _RemoteCopy] = [
                _RemoteCopy(fn, agent_indicator, context, c) for c, fn in enumerate(env_fns)
            ]
        else:
            self._copies = [_LocalCopy(fn, agent_indicator, c) for c, fn in enumerate(env_fns)]
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
        # the current masks, and their rows, which the infos hold: a new array whenever a row changes
        self._masks = np.ones((n_slots, slot_spaces.n_actions), dtype=bool) if slot_spaces.discrete else None
        self._mask_rows: list[np.ndarray] = [] if self._masks is None else list(self._masks)
        self.check_finite = check_finite
        self._check_obs = check_finite and np.issubdtype(self._obs.dtype, np.floating)  # others are finite
        self._slices = [slice(c * self.num_agents, (c + 1) * self.num_agents) for c in range(self.num_copies)]
        # steps into copy c's episode (for error messages): self._steps - self._episode_starts[c]
        self._steps = 0
        self._episode_starts = [0] * self.num_copies

    def __repr__(self) -> str:
        where = f"worker processes ({self.start_method})" if self.subprocess else "this process"
        return f"MultiAgentVecEnv({self.num_copies} copies x {self.num_agents} agents, in {where})"

    # -- stepping -------------------------------------------------------------------------------

    def _episode_step(self, c: int) -> int:
        return self._steps - self._episode_starts[c]

    def _store_masks(self, copy_masks: Sequence[np.ndarray | None]) -> None:
        """Take the copies' mask rows (None: unchanged) into a new array; earlier infos keep the old rows."""
        assert self._masks is not None
        masks = self._masks.copy()
        for c, copy_mask in enumerate(copy_masks):
            if copy_mask is not None:
                masks[self._slices[c]] = copy_mask
        self._masks = masks
        self._mask_rows = list(masks)

    def _observations(self) -> VecEnvObs:
        if self.action_mask_in_obs:
            return {"observation": self._obs.copy(), "action_mask": self._masks.astype(np.int8)}  # type: ignore[union-attr]
        return self._obs.copy()

    def reset(self) -> VecEnvObs:
        for c, copy in enumerate(self._copies):
            first = c * self.num_agents
            copy.send("reset", self._seeds[first], self._options[first] or None)
        results = _gather(self._copies)
        for c, (obs, _, infos) in enumerate(results):
            self._obs[self._slices[c]] = obs
            self.reset_infos[self._slices[c]] = infos
        if self._masks is not None:
            self._store_masks([masks for _, masks, _ in results])
        self._episode_starts = [self._steps] * self.num_copies
        self._reset_seeds()
        self._reset_options()
        self._check_values(None, None)
        return self._observations()

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions)
        copy_actions: list[Any] | np.ndarray = actions
        if self.slot_spaces.discrete:
            actions = actions.reshape(self.num_envs)
            copy_actions = actions.tolist()  # Python ints, what the envs take (and cheap to check)
            n = self.slot_spaces.n_actions
            if actions.dtype.kind in "iub":
                in_range = min(copy_actions) >= 0 and max(copy_actions) < n
            else:
                in_range = not ((actions < 0) | (actions >= n)).any()
            if not in_range:
                bad = (actions < 0) | (actions >= n)
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"Action {actions[i]} for slot {i} (agent {self.slot_agents[i]!r}) is outside the action "
                    f"space {self.action_space}."
                )
        for copy, part in zip(self._copies, self._slices, strict=True):
            copy.send("step", copy_actions[part])

    def step_wait(self) -> VecEnvStepReturn:
        results = [copy.recv() for copy in self._copies]
        self._steps += 1
        if any(isinstance(result, _RemoteError) for result in results):
            self._store_and_raise(results)
        copy_obs, copy_rewards, copy_dones, copy_infos, copy_masks = zip(*results, strict=True)
        np.concatenate(copy_obs, out=self._obs)
        rewards = np.fromiter(chain.from_iterable(copy_rewards), np.float32, self.num_envs)
        dones = np.fromiter(chain.from_iterable(copy_dones), bool, self.num_envs)
        infos: list[dict[str, Any]] = list(chain.from_iterable(copy_infos))
        masks_changed = False
        if self._masks is not None:
            masks_changed = any(m is not None for m in copy_masks)
            if masks_changed:
                self._store_masks(copy_masks)
            for info, row in zip(infos, self._mask_rows, strict=True):
                info["action_mask"] = row
        self._check_values(rewards, infos, masks_changed)
        if dones.any():  # a copy resets only at a step where one of its agents is done
            self._take_dones(dones, infos)
        return self._observations(), rewards, dones, infos

    def _take_dones(self, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """Check the terminal observations; take the reset infos and restart the step count of each
        copy that has reset."""
        for i in np.flatnonzero(dones).tolist():
            info = infos[i]
            terminal = info["terminal_observation"]
            if self._check_obs and not np.isfinite(terminal).all():
                when = f"as its terminal observation, at step {self._episode_step(i // self.num_agents)}"
                raise self._non_finite_obs_error(i, terminal, when)
            if self.action_mask_in_obs:
                info["terminal_observation"] = {
                    "observation": terminal,
                    "action_mask": info["terminal_action_mask"].astype(np.int8),
                }
        for c, part in enumerate(self._slices):
            if "copy_done" in infos[part.start]:  # the copy has reset
                self._episode_starts[c] = self._steps
                for k in range(part.start, part.stop):
                    self.reset_infos[k] = infos[k].pop("reset_info")

    def _store_and_raise(self, results: list[Any]) -> None:
        """Store the copies that stepped, then raise the first error (the copy that raised did not step)."""
        for c, result in enumerate(results):
            if isinstance(result, _RemoteError):
                self._episode_starts[c] += 1
            else:
                self._obs[self._slices[c]] = result[0]
        if self._masks is not None:
            self._store_masks([None if isinstance(result, _RemoteError) else result[4] for result in results])
        next(result for result in results if isinstance(result, _RemoteError)).raise_error()

    # -- the checks of each reset and step --------------------------------------------------------

    def _check_values(
        self, rewards: np.ndarray | None, infos: list[dict[str, Any]] | None, masks_changed: bool = True
    ) -> None:
        """Finite observations and rewards, and a legal action for every live agent (where a mask row has
        changed), each checked over all slots at once; only on failure is the slot found. A finite sum
        has finite terms; only a sum that is not (NaN, inf or an overflow) looks at each value. ``infos``
        None: at reset."""
        if self._check_obs and not math.isfinite(self._obs.sum()) and not np.isfinite(self._obs).all():
            i = int(np.flatnonzero(~np.isfinite(self._obs.reshape(self.num_envs, -1)).all(axis=1))[0])
            raise self._non_finite_obs_error(i, self._obs[i], self._when(i, infos))
        if (
            rewards is not None
            and self.check_finite
            and not math.isfinite(rewards.sum())
            and not np.isfinite(rewards).all()
        ):
            i = int(np.flatnonzero(~np.isfinite(rewards))[0])
            beyond = " (rewards are float32: one beyond ±3.4e38 becomes inf)" if np.isinf(rewards[i]) else ""
            what = f"a non-finite reward ({rewards[i]}){beyond} {self._when(i, infos)}"
            raise ValueError(f"The env gave {self._slot_name(i)} {what}. {_FIX_NON_FINITE}")
        if masks_changed and self._masks is not None and not self._masks.any(axis=1).all():
            i = int(np.flatnonzero(~self._masks.any(axis=1))[0])
            raise ValueError(
                f"The env gave {self._slot_name(i)} an all-False action mask {self._when(i, infos)}: no "
                "action is legal, so no learner can act. Mend the env's action_mask: a live agent needs at "
                "least one legal action (one with nothing to do is done, or takes a no-op)."
            )

    def _slot_name(self, i: int) -> str:
        return f"agent {self.slot_agents[i]!r} (slot {i}, env copy {self.slot_copies[i]})"

    def _when(self, i: int, infos: list[dict[str, Any]] | None) -> str:
        c = int(self.slot_copies[i])
        if infos is None:
            return "at reset"
        if "copy_done" in infos[c * self.num_agents]:
            return f"at its copy's reset after step {self._episode_step(c)} of the episode"
        return f"at step {self._episode_step(c)} of its episode"

    def _non_finite_obs_error(self, i: int, obs: np.ndarray, when: str) -> ValueError:
        bad = np.flatnonzero(~np.isfinite(obs))
        return ValueError(
            f"The env gave {self._slot_name(i)} a non-finite observation {when}: {bad.size} of its "
            f"{obs.size} values are NaN or inf (the first, at flat index {bad[0]}, is {obs.flat[bad[0]]}). "
            + _FIX_NON_FINITE
        )

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
            copy.send("close")
        for copy in self._copies:
            copy.recv()  # a worker that died answers with its error, which closing ignores
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
