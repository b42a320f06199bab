"""Evaluation on PettingZoo envs: whole episodes, team and per-agent returns, and dict-in/dict-out acting."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from gymnasium import spaces
from pettingzoo.utils.env import AECEnv, ParallelEnv
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from tqdm import tqdm

from sb3_marl.envs import (
    MultiAgentVecEnv,
    MultiAgentVecMonitor,
    SlotSpaces,
    build_slot_spaces,
    check_pettingzoo_env,
    resolve_env,
)

PettingZooEnv: TypeAlias = ParallelEnv | AECEnv
EnvLike: TypeAlias = str | Callable[..., PettingZooEnv] | PettingZooEnv | VecEnv
WrapperClass: TypeAlias = Callable[[Any], PettingZooEnv]


@dataclass
class EvalResult:
    """Returns and lengths of whole evaluation episodes.

    :param team_returns: per episode, the return summed over agents
    :param episode_lengths: per episode, its number of steps (turns, in an AEC env)
    :param agent_returns: per agent, its return in each episode
    :param agent_lengths: per agent, the number of steps it took part in, in each episode
    """

    team_returns: list[float] = field(repr=False)
    episode_lengths: list[int] = field(repr=False)
    agent_returns: dict[str, list[float]] = field(repr=False)
    agent_lengths: dict[str, list[int]] = field(repr=False)
    team_return_mean: float = field(init=False)
    team_return_std: float = field(init=False)
    episode_length_mean: float = field(init=False)
    agent_return_mean: dict[str, float] = field(init=False)
    agent_return_std: dict[str, float] = field(init=False)
    agent_length_mean: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        self.team_return_mean = float(np.mean(self.team_returns))
        self.team_return_std = float(np.std(self.team_returns))
        self.episode_length_mean = float(np.mean(self.episode_lengths))
        self.agent_return_mean = {a: float(np.mean(r)) for a, r in self.agent_returns.items()}
        self.agent_return_std = {a: float(np.std(r)) for a, r in self.agent_returns.items()}
        self.agent_length_mean = {a: float(np.mean(n)) for a, n in self.agent_lengths.items()}

    def __str__(self) -> str:
        return f"{self.team_return_mean:.2f} ± {self.team_return_std:.2f} ({len(self.team_returns)} episodes)"


def make_env(
    env: str | Callable[..., PettingZooEnv] | PettingZooEnv,
    env_kwargs: dict[str, Any] | None = None,
    wrapper_class: WrapperClass | None = None,
    render_mode: str | None = None,
) -> PettingZooEnv:
    """One PettingZoo env from a module path or constructor (given ``env_kwargs``, then wrapped in
    ``wrapper_class``), or ``env`` itself when it is already an env.

    :param render_mode: passed to the constructor when not None, e.g. ``"rgb_array"``
    """
    if isinstance(env, ParallelEnv | AECEnv):
        if env_kwargs or wrapper_class is not None or render_mode is not None:
            raise ValueError(
                "env_kwargs, wrapper_class and render_mode apply only when env is an id or a constructor."
            )
        return env
    kwargs = dict(env_kwargs or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    made = resolve_env(env)(**kwargs)
    return check_pettingzoo_env(wrapper_class(made) if wrapper_class is not None else made)


def _supports_masks(model: BaseAlgorithm) -> bool:
    return "action_masks" in inspect.signature(model.predict).parameters


def _fits(slot_space: spaces.Space, model_space: spaces.Space) -> bool:
    """Whether slot observations fit the model, which may see images channel-first (SB3 transposes
    channel-last images itself in ``predict``)."""
    shape, target = slot_space.shape, model_space.shape
    assert shape is not None and target is not None
    return shape == target or (len(shape) == 3 and target == (shape[2], shape[0], shape[1]))


def _split_mask(observation: Any, action_mask: np.ndarray | None) -> tuple[Any, np.ndarray | None]:
    """The observation and its mask, from PettingZoo's ``{"observation", "action_mask"}`` dicts."""
    if isinstance(observation, dict) and "action_mask" in observation:
        return observation["observation"], observation["action_mask"]
    return observation, action_mask


class MultiAgentPolicy:
    """A model trained on a ``MultiAgentVecEnv``, acting on the raw PettingZoo env: ``{agent: obs}`` in,
    ``{agent: action}`` out. Observations are padded (and given an agent indicator, or wrapped with
    their action mask) exactly as the VecEnv did during training, which is read from the model's
    observation space; action masks are respected when the model takes them (MADQN, MaskablePPO).

    :param model: a trained SB3 model
    :param env: the PettingZoo env it will act on (its spaces are read, it is not stepped)
    :param deterministic: take the greedy actions
    """

    def __init__(self, model: BaseAlgorithm, env: PettingZooEnv, deterministic: bool = True):
        self.model = model
        self.deterministic = deterministic
        self.agents: list[str] = list(env.possible_agents)
        self.index = {agent: k for k, agent in enumerate(self.agents)}
        self.mask_in_obs = isinstance(model.observation_space, spaces.Dict)
        target = model.observation_space["observation"] if self.mask_in_obs else model.observation_space  # type: ignore[index]
        obs_spaces = [env.observation_space(a) for a in self.agents]
        act_spaces = [env.action_space(a) for a in self.agents]
        self.slot_spaces: SlotSpaces = build_slot_spaces(self.agents, obs_spaces, act_spaces)
        if not _fits(self.slot_spaces.observation_space, target):
            try:
                with_indicator = build_slot_spaces(self.agents, obs_spaces, act_spaces, agent_indicator=True)
            except ValueError:
                with_indicator = None
            if with_indicator is None or not _fits(with_indicator.observation_space, target):
                shape = self.slot_spaces.observation_space.shape
                raise ValueError(
                    f"The model expects observations of shape {target.shape}, but this env's agents give "
                    f"{shape}: was the model trained on this env, with the same env_kwargs and wrappers?"
                )
            self.slot_spaces = with_indicator
        self.pass_masks = self.slot_spaces.discrete and _supports_masks(model)

    def __call__(
        self, observations: dict[str, Any], action_masks: dict[str, np.ndarray] | None = None
    ) -> dict[str, Any]:
        """Actions of the agents in ``observations``, in one batch.

        :param observations: ``{agent: raw observation}``, as the PettingZoo env returns them (masked
            observation dicts ``{"observation", "action_mask"}`` included)
        :param action_masks: ``{agent: mask}`` for envs that give masks in their infos
        :return: ``{agent: action}``
        """
        agents = list(observations)
        if not agents:
            return {}
        space = self.slot_spaces.observation_space
        obs = np.zeros((len(agents), *space.shape), dtype=space.dtype)  # type: ignore[misc]
        masks = (
            np.ones((len(agents), self.slot_spaces.n_actions), dtype=bool)
            if self.slot_spaces.discrete
            else None
        )
        for row, agent in enumerate(agents):
            raw, env_mask = _split_mask(observations[agent], (action_masks or {}).get(agent))
            k = self.index.get(agent)
            if k is None:
                raise ValueError(
                    f"Agent {agent!r} is not one of the env's possible_agents {self.agents}: the policy has "
                    "no slot for it."
                )
            self.slot_spaces.write_obs(obs, row, k, raw)
            if masks is not None:
                masks[row] = self.slot_spaces.legal_mask(k, env_mask)
                if not masks[row].any():
                    raise ValueError(f"The action mask of agent {agent!r} is all False: no action is legal.")
        model_obs: Any = obs
        if self.mask_in_obs:
            assert masks is not None
            model_obs = {"observation": obs, "action_mask": masks.astype(np.int8)}
        kwargs: dict[str, Any] = {"action_masks": masks} if self.pass_masks else {}
        actions, _ = self.model.predict(model_obs, deterministic=self.deterministic, **kwargs)
        if self.slot_spaces.discrete:
            return {agent: int(a) for agent, a in zip(agents, np.reshape(actions, -1), strict=True)}
        return dict(zip(agents, actions, strict=True))

    def act(self, agent: str, observation: Any, action_mask: np.ndarray | None = None) -> Any:
        """The action of one agent (for AEC envs, where one agent acts at a time)."""
        masks = None if action_mask is None else {agent: action_mask}
        return self({agent: observation}, masks)[agent]


class RandomPolicy:
    """Uniformly random legal actions, with the same interface as :class:`MultiAgentPolicy`.

    :param env: the PettingZoo env it will act on
    :param seed: seed of the action sampling
    """

    def __init__(self, env: PettingZooEnv, seed: int | None = None):
        self.env = env
        self.rng = np.random.default_rng(seed)

    def __call__(
        self, observations: dict[str, Any], action_masks: dict[str, np.ndarray] | None = None
    ) -> dict[str, Any]:
        masks = action_masks or {}
        return {agent: self.act(agent, obs, masks.get(agent)) for agent, obs in observations.items()}

    def act(self, agent: str, observation: Any, action_mask: np.ndarray | None = None) -> Any:
        space = self.env.action_space(agent)
        _, action_mask = _split_mask(observation, action_mask)
        if isinstance(space, spaces.Discrete):
            legal = np.flatnonzero(action_mask) if action_mask is not None else np.arange(space.n)
            if legal.size == 0:
                raise ValueError(f"The action mask of agent {agent!r} is all False: no action is legal.")
            return int(space.start + self.rng.choice(legal))
        space.seed(int(self.rng.integers(2**31)))
        return space.sample()


AgentPolicy: TypeAlias = MultiAgentPolicy | RandomPolicy


class _Episodes:
    """The returns and lengths of finished episodes."""

    def __init__(self, agents: list[str]):
        self.agents = agents
        self.team_returns: list[float] = []
        self.lengths: list[int] = []
        self.agent_returns: dict[str, list[float]] = {a: [] for a in agents}
        self.agent_lengths: dict[str, list[int]] = {a: [] for a in agents}

    def add(self, team_length: int, returns: dict[str, float], lengths: dict[str, int]) -> None:
        self.team_returns.append(float(sum(returns.values())))
        self.lengths.append(int(team_length))
        for a in self.agents:
            self.agent_returns[a].append(float(returns.get(a, 0.0)))
            self.agent_lengths[a].append(int(lengths.get(a, 0)))

    def result(self) -> EvalResult:
        return EvalResult(self.team_returns, self.lengths, self.agent_returns, self.agent_lengths)


def _masks_from_infos(infos: dict[str, dict]) -> dict[str, np.ndarray]:
    return {a: info["action_mask"] for a, info in infos.items() if "action_mask" in info}


def run_episode(
    policy: AgentPolicy,
    env: PettingZooEnv,
    seed: int | None = None,
    on_step: Callable[[], None] | None = None,
) -> tuple[int, dict[str, float], dict[str, int]]:
    """Play one whole episode of a PettingZoo env (parallel or AEC).

    Rewards and lengths are counted as the ``MultiAgentVecEnv`` counts them: an agent's length is the
    number of steps (AEC: turns of any agent) it was in the episode for, and a reward is credited to
    an agent that was in the episode when the step began.

    :param policy: acts on the env's dict observations
    :param env: the env, reset here with ``seed``
    :param seed: the seed of this reset
    :param on_step: called after the reset and after each step (e.g. to render)
    :return: the episode length, the return and the length of each agent
    """
    returns = dict.fromkeys(env.possible_agents, 0.0)
    lengths = dict.fromkeys(env.possible_agents, 0)
    steps = 0
    if isinstance(env, AECEnv):
        env.reset(seed=seed)
        if on_step is not None:
            on_step()
        while env.agents:
            agent = env.agent_selection
            live = [a for a in env.agents if not (env.terminations[a] or env.truncations[a])]
            env.step(policy.act(agent, env.observe(agent), env.infos[agent].get("action_mask")))
            steps += 1
            for a in live:
                lengths[a] += 1
                returns[a] += env.rewards.get(a, 0.0)
            while env.agents and (
                env.terminations[env.agent_selection] or env.truncations[env.agent_selection]
            ):
                env.step(None)  # step the agents that are done out, as the VecEnv does within one step
                for a in live:
                    returns[a] += env.rewards.get(a, 0.0)
            if on_step is not None:
                on_step()
        return steps, returns, lengths
    observations, infos = env.reset(seed=seed)
    if on_step is not None:
        on_step()
    while env.agents:
        acting = {a: observations[a] for a in env.agents}
        actions = policy(acting, _masks_from_infos(infos))
        observations, rewards, _, _, infos = env.step(actions)
        steps += 1
        for a in acting:
            lengths[a] += 1
            returns[a] += rewards.get(a, 0.0)
        if on_step is not None:
            on_step()
    return steps, returns, lengths


def unwrap_multi_agent(venv: VecEnv) -> MultiAgentVecEnv:
    """The ``MultiAgentVecEnv`` inside VecEnv wrappers (SB3 adds ``VecTransposeImage`` for images)."""
    inner = venv
    while isinstance(inner, VecEnvWrapper):
        inner = inner.venv
    if not isinstance(inner, MultiAgentVecEnv):
        raise TypeError(
            f"Expected a MultiAgentVecEnv (made with sb3_marl.make_vec_env), got {type(inner).__name__}; for "
            "a single-agent VecEnv use SB3's own tools."
        )
    return inner


def _has_monitor(venv: VecEnv) -> bool:
    while isinstance(venv, VecEnvWrapper):
        if isinstance(venv, MultiAgentVecMonitor):
            return True
        venv = venv.venv
    return False


def _evaluate_vec_env(
    model: BaseAlgorithm, venv: VecEnv, n_eval_episodes: int, deterministic: bool, seed: int | None, bar: tqdm
) -> EvalResult:
    inner = unwrap_multi_agent(venv)
    if not _has_monitor(venv):
        venv = MultiAgentVecMonitor(venv)
    n_agents = inner.num_agents
    agents = list(inner.possible_agents)
    n_copies = venv.num_envs // n_agents
    targets = [(n_eval_episodes + c) // n_copies for c in range(n_copies)]
    counts = [0] * n_copies
    slot_lengths = np.zeros(venv.num_envs, dtype=np.int64)
    masked = _supports_masks(model) and is_masking_supported(venv)
    episodes = _Episodes(agents)
    if seed is not None:
        venv.seed(seed)
    obs = venv.reset()
    while any(count < target for count, target in zip(counts, targets, strict=True)):
        kwargs: dict[str, Any] = {"action_masks": get_action_masks(venv)} if masked else {}
        actions, _ = model.predict(obs, deterministic=deterministic, **kwargs)  # type: ignore[arg-type]
        obs, _, _, infos = venv.step(actions)
        for i, info in enumerate(infos):
            if "episode" in info:
                slot_lengths[i] = info["episode"]["l"]
        for c in range(n_copies):
            first = c * n_agents
            team = infos[first].get("team_episode")
            if team is None:
                continue
            if counts[c] < targets[c]:
                episodes.add(
                    team["l"],
                    team["agent_returns"],
                    dict(zip(agents, slot_lengths[first : first + n_agents], strict=True)),
                )
                counts[c] += 1
                bar.update()
            slot_lengths[first : first + n_agents] = 0
    return episodes.result()


def evaluate_policy(
    model: BaseAlgorithm | AgentPolicy,
    env: EnvLike,
    n_eval_episodes: int = 10,
    deterministic: bool = True,
    seed: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    wrapper_class: WrapperClass | None = None,
    progress_bar: bool = False,
) -> EvalResult:
    """Run whole episodes and report team and per-agent returns (SB3's ``evaluate_policy`` for teams).

    On a PettingZoo env (given as a module path, a constructor or an env), episodes are played one
    after the other, the first reset seeded with ``seed``. On a ``MultiAgentVecEnv`` (seeded with
    ``seed`` and reset first), each copy plays its share of the episodes, so that short episodes are
    not favoured.

    :param model: an SB3 model trained on the env's ``MultiAgentVecEnv``, or a :class:`MultiAgentPolicy`
        or :class:`RandomPolicy` (PettingZoo envs only)
    :param env: ``"mpe2.simple_spread_v3"``, a constructor, a PettingZoo env or a ``MultiAgentVecEnv``
    :param n_eval_episodes: number of whole episodes
    :param deterministic: whether the model takes its greedy actions
    :param seed: seed of the env's first reset (None: not seeded)
    :param env_kwargs: keyword arguments of the env constructor (module path or constructor only)
    :param wrapper_class: applied to the env made from a module path or constructor, as in training
    :param progress_bar: show a progress bar over episodes
    :return: the returns and lengths of every episode, and their means
    """
    if n_eval_episodes < 1:
        raise ValueError(f"n_eval_episodes must be at least 1, got {n_eval_episodes}.")
    with tqdm(total=n_eval_episodes, desc="evaluation", unit="episode", disable=not progress_bar) as bar:
        if isinstance(env, VecEnv):
            if not isinstance(model, BaseAlgorithm):
                raise TypeError(
                    "Evaluating on a VecEnv needs an SB3 model; use a PettingZoo env for other policies."
                )
            if env_kwargs or wrapper_class is not None:
                raise ValueError(
                    "env_kwargs and wrapper_class do not apply to a VecEnv, which is already made."
                )
            return _evaluate_vec_env(model, env, n_eval_episodes, deterministic, seed, bar)
        pz_env = make_env(env, env_kwargs, wrapper_class)
        try:
            policy = (
                MultiAgentPolicy(model, pz_env, deterministic) if isinstance(model, BaseAlgorithm) else model
            )
            episodes = _Episodes(list(pz_env.possible_agents))
            for i in range(n_eval_episodes):
                episodes.add(*run_episode(policy, pz_env, seed if i == 0 else None))
                bar.update()
        finally:
            if pz_env is not env:
                pz_env.close()
    return episodes.result()
