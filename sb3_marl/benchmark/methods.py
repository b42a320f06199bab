"""The methods of the learning benchmark, one registry entry each: name, label, preset and builder.

simple_spread (mpe2 ``simple_spread_v3``: 3 agents, 25 cycles, discrete actions):

- ``madqn``: MADQN (Double DQN, PER, dueling, n-step) with parameter sharing on our VecEnv, with the
  `make demo` preset (the mpe2.simple_spread_v3 entry of sb3_marl/hyperparams/madqn.yml)
- ``madqn_noper``: the same with ``prioritized_replay=False`` (the PER ablation)
- ``madqn_vdn``, ``madqn_qmix``: the same preset with value decomposition (``mixer="vdn"`` / ``"qmix"``)
  and the preset's ``mixer_overrides``: ``n_steps=1``
- ``madqn_agentid``: the preset with a one-hot agent id appended to observations (``agent_indicator``)
- ``madqn_t1k``: the preset with a target update every 1k timesteps (the preset's before 1M-step runs
  showed it diverging)
- ``ppo``: SB3 PPO with parameter sharing on our VecEnv
- ``supersuit_dqn``: SB3 DQN on SuperSuit's vector path (``pettingzoo_env_to_vec_env_v1`` +
  ``concat_vec_envs_v1``), whose time-outs are terminal; it has no ``seed()``, so torch, NumPy and
  ``random`` are seeded here and the env's first reset is seeded. It takes the MADQN preset without
  dueling, Double DQN and PER.
- ``random``, ``nearest`` (each agent heads for its nearest landmark) and ``scripted`` (each agent heads
  for the nearest landmark no other agent is closer to): floor and references, not trained
- ``benchmarl_iql``, ``benchmarl_qmix``, ``benchmarl_vdn``: peers, BenchMARL's IQL, QMIX and VDN with its
  defaults and our batch shape, trained and evaluated by ``benchmarks/benchmarl_spread.py`` in a venv of
  their own (BenchMARL pulls TorchRL); here only their labels and their runner, to read their runs;
  ``benchmarl_qmix_own``: its QMIX with its own batch shape too (6,000 frames, then 1,000 steps)

simple_speaker_listener (mpe2 ``simple_speaker_listener_v4``, 25 cycles, discrete actions: a speaker
that only talks, 3 actions, and a listener that only moves, 5 actions, padded into one shared space with
the speaker's extra actions masked): ``madqn`` (its preset, with a one-hot agent id), ``madqn_noid``
(without it), ``supersuit_dqn`` (SuperSuit's padding and agent indicator, its extra actions mapped to
action 0 as SuperSuit maps them) and ``random``.

pistonball (``pettingzoo.butterfly.pistonball_v6``, 5 pistons, 125 cycles, discrete actions, 84x84
grey pixels stacked 3 frames deep): ``madqn`` (its preset, a CNN), ``supersuit_dqn`` (the PettingZoo
tutorial's SuperSuit wrappers) and ``random``.

cliffwalk (:mod:`sb3_marl.benchmark.cliffwalk`, the cooperative Blind Cliffwalk of 2 agents and 6
states, whose one reward a random team finds once in 4,096 episodes: the rare-reward task for PER):
``madqn`` (its preset: PER on, a behaviour that stays uniformly random), ``madqn_noper`` (without PER),
``madqn_decay`` and ``madqn_noper_decay`` (the same with epsilon decaying to 0.05 over half the run)
and ``random``.

CartPole-v1: ``madqn`` (MADQN's defaults: PER off) and ``madqn_per`` against SB3 ``dqn``, all with the
rl-baselines3-zoo CartPole-v1 settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.utils import set_random_seed

from sb3_marl.config import load_hyperparams, parse_schedule

SPREAD_ID = "mpe2.simple_spread_v3"
SPREAD_KWARGS: dict[str, Any] = {"N": 3, "max_cycles": 25, "continuous_actions": False}
N_AGENTS = 3

# Acting function: observations of every slot and their action masks (True: legal) -> actions.
Act = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Task:
    """A task of the learning benchmark.

    :param name: its key in run files and on the command line
    :param title: its plots' title
    :param env_id: the PettingZoo env module; None for CartPole-v1 (Gymnasium, one agent)
    :param env_kwargs: the env's arguments (the MADQN preset's ``env_kwargs``)
    :param n_agents: agents of one copy: SB3 timesteps per joint env step
    """

    name: str
    title: str
    env_id: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    n_agents: int = 1

    def preset(self) -> dict[str, Any]:
        """The env's entry of ``sb3_marl/hyperparams/madqn.yml`` without its policy and env kwargs, with
        its budget ``n_timesteps`` (agent steps)."""
        assert self.env_id is not None, f"{self.name} has no MADQN preset"
        entry = load_hyperparams("madqn", self.env_id)
        for key in ("policy", "env_kwargs"):
            entry.pop(key, None)
        return entry

    def make_vec_env(
        self, n_envs: int, seed: int, agent_indicator: bool = False, wrapper: list[Any] | None = None
    ) -> Any:
        """A monitored ``make_vec_env`` env of ``n_envs`` copies.

        :param n_envs: env copies
        :param seed: seed of the copies
        :param agent_indicator: append a one-hot agent id to observations
        :param wrapper: the run's preset's ``env_wrapper`` (what its model was trained on), None for none
        """
        from sb3_marl.config import env_wrapper
        from sb3_marl.envs import make_vec_env

        assert self.env_id is not None, f"{self.name} is not a PettingZoo task"
        return make_vec_env(
            self.env_id,
            n_envs=n_envs,
            seed=seed,
            env_kwargs=self.env_kwargs,
            wrapper_class=env_wrapper(wrapper),
            agent_indicator=agent_indicator,
        )


TASKS: dict[str, Task] = {
    "spread": Task("spread", f"simple_spread_v3 ({N_AGENTS} agents, 25 cycles)", SPREAD_ID, SPREAD_KWARGS, 3),
    "speaker_listener": Task(
        "speaker_listener",
        "simple_speaker_listener_v4 (a speaker and a listener, 25 cycles)",
        "mpe2.simple_speaker_listener_v4",
        {"max_cycles": 25, "continuous_actions": False},
        2,
    ),
    "pistonball": Task(
        "pistonball",
        "pistonball_v6 (5 pistons, 125 cycles, 84x84 pixels)",
        "pettingzoo.butterfly.pistonball_v6",
        {"n_pistons": 5, "continuous": False, "max_cycles": 125},
        5,
    ),
    "cliffwalk": Task(
        "cliffwalk",
        "cooperative Blind Cliffwalk (2 agents, 6 states)",
        "sb3_marl.benchmark.cliffwalk",
        {"n_agents": 2, "length": 6},
        2,
    ),
    "cartpole": Task("cartpole", "CartPole-v1"),
}
ENVS = tuple(TASKS)

# Published reference, EPyMARL (Papoudakis et al. 2021, arXiv:2006.07869), MPE Spread, paper scale;
# as we read it, not confirmed against the paper's table here.
PUBLISHED = {"QMIX (EPyMARL)": -126.6, "IQL (EPyMARL)": -132.6}


def to_paper(mpe2_return: float) -> float:
    """The published (old MPE, per-agent average) scale of a 3-agent 25-step simple_spread team return."""
    return 2 * mpe2_return - 75


def from_paper(paper_return: float) -> float:
    """The mpe2 team return of a published (paper scale) simple_spread return."""
    return (paper_return + 75) / 2


@dataclass(frozen=True)
class Method:
    """One method of the learning benchmark.

    :param env: its task, a :data:`TASKS` key
    :param name: its name on the command line and in run files
    :param label: its name in tables and plots
    :param preset: its hyperparameters (stored with its runs); for a method that is not trained, ``{}``
    :param build: ``build(seed, preset)`` -> the model, on its training env; None when not trained or
        trained by another script (``runner``)
    :param policy: for a method that is not trained: ``policy(rng)`` -> the acting function
    :param runner: for a method trained outside ``benchmarks/learning.py`` (a peer library's), the script
        and the arguments that train it and store its runs, e.g.
        ``"benchmarks/benchmarl_spread.py --algos iql"``; it has neither ``build`` nor ``policy``
    """

    env: str
    name: str
    label: str
    preset: Callable[[], dict[str, Any]] = field(default=dict)
    build: Callable[[int, dict[str, Any]], BaseAlgorithm] | None = None
    policy: Callable[[np.random.Generator], Act] | None = None
    runner: str | None = None

    def __post_init__(self) -> None:
        if self.runner is not None and (self.build is not None or self.policy is not None):
            raise ValueError(f"{self.name}: a method with a runner has neither a builder nor a policy")

    @property
    def trained(self) -> bool:
        """Whether the method learns (its runs have learning curves), here or by its ``runner``."""
        return self.build is not None or self.runner is not None


# ----------------------------------------------------------------------------------------------------
# Presets

# SB3 PPO on simple_spread: the project's ppo.yml entry.
PPO_SPREAD: dict[str, Any] = {
    "n_envs": 8,
    "learning_rate": 3e-4,
    "n_steps": 128,
    "batch_size": 256,
    "n_epochs": 10,
    "gamma": 0.95,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.01,
    "policy_kwargs": {"net_arch": [128, 128]},
}

# rl-baselines3-zoo hyperparams/dqn.yml, CartPole-v1 (n_timesteps 5e4).
ZOO_CARTPOLE: dict[str, Any] = {
    "learning_rate": 2.3e-3,
    "batch_size": 64,
    "buffer_size": 100_000,
    "learning_starts": 1000,
    "gamma": 0.99,
    "target_update_interval": 10,
    "train_freq": 256,
    "gradient_steps": 128,
    "exploration_fraction": 0.16,
    "exploration_final_eps": 0.04,
    "policy_kwargs": {"net_arch": [256, 256]},
}


def demo_preset() -> dict[str, Any]:
    """The `make demo` preset (the mpe2.simple_spread_v3 entry of sb3_marl/hyperparams/madqn.yml), with
    its budget ``n_timesteps`` (agent steps) and without its policy and env kwargs."""
    return TASKS["spread"].preset()


def madqn_preset(changes: dict[str, Any] | None = None, task: str = "spread") -> Callable[[], dict]:
    """The preset of a MADQN variant: the task's preset with ``changes``, then the preset's settings for
    a mixer (``mixer_overrides``) when it has one.

    :param changes: hyperparameters changed from the preset
    :param task: the task whose preset it is
    """

    def preset() -> dict[str, Any]:
        base = TASKS[task].preset()
        base.pop("n_timesteps", None)
        mixer_overrides = base.pop("mixer_overrides", {})
        base.update(changes or {})
        base.update(mixer_overrides.get(base.get("mixer"), {}))
        return base

    return preset


def supersuit_dqn_preset(task: str = "spread") -> Callable[[], dict]:
    """The task's MADQN preset as SB3's DQN takes it: no dueling, Double DQN or PER (SuperSuit's route
    applies the preset's ``env_wrapper`` itself, and its agent indicator where the preset has one)."""

    def preset() -> dict[str, Any]:
        config = madqn_preset(task=task)()
        for key in ("double_q", "prioritized_replay"):
            config.pop(key, None)
        kwargs = config.get("policy_kwargs", {})
        config["policy_kwargs"] = {k: v for k, v in kwargs.items() if k != "dueling"}
        return config

    return preset


# ----------------------------------------------------------------------------------------------------
# Builders


def make_spread_vec_env(n_envs: int, seed: int, agent_indicator: bool = False) -> Any:
    """A monitored ``make_vec_env`` simple_spread env of ``n_envs`` copies (:meth:`Task.make_vec_env`)."""
    return TASKS["spread"].make_vec_env(n_envs, seed, agent_indicator)


def build_madqn(task: str) -> Callable[[int, dict[str, Any]], BaseAlgorithm]:
    """The builder of MADQN on ``task``'s ``make_vec_env`` env, with the preset's policy."""

    def build(seed: int, preset: dict[str, Any]) -> BaseAlgorithm:
        from sb3_marl.madqn import MADQN

        spec = TASKS[task]
        config = dict(preset)
        indicator, wrapper = config.pop("agent_indicator", False), config.pop("env_wrapper", None)
        env = spec.make_vec_env(config.pop("n_envs"), seed, indicator, wrapper)
        config["learning_rate"] = parse_schedule("learning_rate", config["learning_rate"])
        policy = load_hyperparams("madqn", spec.env_id).get("policy", "MlpPolicy")  # type: ignore[arg-type]
        return MADQN(policy, env, seed=seed, device="cpu", **config)

    return build


def build_ppo_spread(seed: int, preset: dict[str, Any]) -> BaseAlgorithm:
    from stable_baselines3 import PPO

    config = dict(preset)
    return PPO(
        "MlpPolicy", make_spread_vec_env(config.pop("n_envs"), seed), seed=seed, device="cpu", **config
    )


def supersuit_env(task: str, agent_indicator: bool, wrapper: list[Any] | None = None) -> Any:
    """One PettingZoo parallel env of ``task`` as the PettingZoo tutorials prepare it for SB3 with
    SuperSuit's per-env wrappers: speaker_listener padded (observations with zeros, the speaker's actions
    to the listener's, SuperSuit mapping the extra ones to action 0), and the preset's ``env_wrapper``
    (pistonball's: one colour channel, resized, frames stacked).

    :param agent_indicator: add SuperSuit's agent indicator (a one-hot agent id after the observation)
    :param wrapper: the preset's ``env_wrapper``, None for none
    """
    import importlib

    import supersuit

    from sb3_marl.config import env_wrapper

    spec = TASKS[task]
    env = importlib.import_module(spec.env_id).parallel_env(**spec.env_kwargs)  # type: ignore[arg-type]
    if task == "speaker_listener":
        env = supersuit.pad_observations_v0(supersuit.pad_action_space_v0(env))
    wrap = env_wrapper(wrapper)
    env = env if wrap is None else wrap(env)
    return supersuit.agent_indicator_v0(env) if agent_indicator else env


def build_supersuit_dqn(task: str) -> Callable[[int, dict[str, Any]], BaseAlgorithm]:
    """The builder of SB3's DQN on SuperSuit's vector path (``pettingzoo_env_to_vec_env_v1`` +
    ``concat_vec_envs_v1``) of ``task``'s env."""

    def build(seed: int, preset: dict[str, Any]) -> BaseAlgorithm:
        import supersuit
        from stable_baselines3 import DQN

        config = dict(preset)
        indicator, wrapper = config.pop("agent_indicator", False), config.pop("env_wrapper", None)
        env = supersuit.pettingzoo_env_to_vec_env_v1(supersuit_env(task, indicator, wrapper))
        env = supersuit.concat_vec_envs_v1(
            env, config.pop("n_envs"), num_cpus=0, base_class="stable_baselines3"
        )
        config["learning_rate"] = parse_schedule("learning_rate", config["learning_rate"])
        set_random_seed(seed)  # DQN(seed=...) raises: SuperSuit's VecEnv has no seed()
        # Its reset(seed=...) calls the missing seed() too: seed the copies' generators through the inner
        # ConcatVecEnv; SB3's unseeded reset in learn() keeps them.
        env.venv.reset(seed=seed)
        policy = load_hyperparams("madqn", TASKS[task].env_id).get("policy", "MlpPolicy")  # type: ignore[arg-type]
        return DQN(policy, env, device="cpu", **config)

    return build


def build_cartpole(algo: str) -> Callable[[int, dict[str, Any]], BaseAlgorithm]:
    """The builder of ``algo`` (``"madqn"`` or ``"dqn"``) on CartPole-v1, one env."""

    def build(seed: int, preset: dict[str, Any]) -> BaseAlgorithm:
        from stable_baselines3 import DQN
        from stable_baselines3.common.env_util import make_vec_env

        from sb3_marl.madqn import MADQN

        env = make_vec_env("CartPole-v1", n_envs=1, seed=seed)
        return (MADQN if algo == "madqn" else DQN)("MlpPolicy", env, seed=seed, device="cpu", **preset)

    return build


def build_spread_model(method: str, seed: int, preset: dict[str, Any]) -> BaseAlgorithm:
    """The model of the trained simple_spread method ``method`` on its training env.

    :param method: a registry name, e.g. ``"madqn"``
    :param seed: the run's seed
    :param preset: its hyperparameters (:func:`spread_preset`)
    """
    spec = get_method("spread", method)
    if spec.runner is not None:
        raise ValueError(f"{method!r} is trained by {spec.runner.split()[0]}: it has no model to build here")
    if spec.build is None:
        raise ValueError(f"{method!r} is not trained: it has no model to build")
    return spec.build(seed, preset)


def spread_preset(method: str) -> dict[str, Any]:
    """The hyperparameters of the simple_spread method ``method`` (as stored with its runs).

    :param method: a registry name
    """
    return get_method("spread", method).preset()


# ----------------------------------------------------------------------------------------------------
# Policies without training


def _steer(targets: np.ndarray, vel: np.ndarray) -> np.ndarray:
    """Discrete actions toward relative ``targets``: mpe2's ``_set_action`` maps 0 no-op, 1 left (-x),
    2 right (+x), 3 down (-y), 4 up (+y). The agent steers on ``target - 0.3 * velocity``, so that it
    brakes before it overshoots (0.3 did best among 0, 0.3, 0.5, 1)."""
    steer = targets - 0.3 * vel
    horizontal = np.abs(steer[:, 0]) >= np.abs(steer[:, 1])
    return np.where(horizontal, np.where(steer[:, 0] > 0, 2, 1), np.where(steer[:, 1] > 0, 4, 3)).astype(
        np.int64
    )


def nearest_landmark_actions(obs: np.ndarray) -> np.ndarray:
    """Each agent moves toward its nearest landmark (two agents may pick the same one). simple_spread
    observations are ``[self_vel(2), self_pos(2), landmark_rel(3*2), other_agent_rel(2*2), comm(4)]``.

    :param obs: one observation row per slot
    """
    obs = np.asarray(obs).reshape(len(obs), -1)
    rel = obs[:, 4:10].reshape(-1, 3, 2)
    nearest = rel[np.arange(len(obs)), np.linalg.norm(rel, axis=2).argmin(axis=1)]
    return _steer(nearest, obs[:, 0:2])


def scripted_actions(obs: np.ndarray) -> np.ndarray:
    """Each agent moves toward the nearest landmark that no other agent is closer to: from its own
    observation it computes the greedy assignment (closest agent-landmark pair first, then the closest
    of the rest, ...), which every agent computes alike, and heads for the landmark it is assigned.

    :param obs: one observation row per slot
    """
    obs = np.asarray(obs).reshape(len(obs), -1)
    landmarks = obs[:, 4:10].reshape(-1, 3, 2)
    agents = np.concatenate([np.zeros((len(obs), 1, 2)), obs[:, 10:14].reshape(-1, 2, 2)], axis=1)
    targets = np.zeros((len(obs), 2))
    for row in range(len(obs)):
        dist = np.linalg.norm(landmarks[row][None, :, :] - agents[row][:, None, :], axis=2)
        while True:
            agent, landmark = np.unravel_index(np.argmin(dist), dist.shape)
            if agent == 0:
                targets[row] = landmarks[row, landmark]
                break
            dist[agent, :] = np.inf
            dist[:, landmark] = np.inf
    return _steer(targets, obs[:, 0:2])


def _random_policy(rng: np.random.Generator) -> Act:
    """Uniform over each slot's legal actions (a uniform draw per action, the largest legal one wins)."""
    return lambda obs, masks: (rng.random(np.shape(masks)) * masks).argmax(axis=1)


def _scripted(actions: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.random.Generator], Act]:
    return lambda rng: lambda obs, masks: actions(obs)


# ----------------------------------------------------------------------------------------------------
# The registry: the table's and the plots' order is this order.


def _madqn(name: str, label: str, changes: dict[str, Any] | None = None, task: str = "spread") -> Method:
    return Method(task, name, label, madqn_preset(changes, task), build_madqn(task))


def _supersuit_dqn(task: str) -> Method:
    return Method(
        task,
        "supersuit_dqn",
        "SB3 DQN on SuperSuit's vector path",
        supersuit_dqn_preset(task),
        build_supersuit_dqn(task),
    )


BENCHMARL_RUNNER = "benchmarks/benchmarl_spread.py"


def _benchmarl(algo: str, label: str, own_batches: bool = False) -> Method:
    name, flag = (f"benchmarl_{algo}_own", " --own-batches") if own_batches else (f"benchmarl_{algo}", "")
    return Method("spread", name, f"BenchMARL {label}", runner=f"{BENCHMARL_RUNNER} --algos {algo}{flag}")


# The cliffwalk with a behaviour that turns greedy (to 0.05 over half the run, as MADQN's defaults do
# over a tenth): finding the reward then competes with replaying it.
DECAYING_EPSILON = {"exploration_final_eps": 0.05, "exploration_fraction": 0.5}

METHODS: tuple[Method, ...] = (
    _madqn("madqn", "MADQN (PER, double, dueling)"),
    _madqn("madqn_noper", "MADQN without PER", {"prioritized_replay": False}),
    _madqn("madqn_vdn", "MADQN + VDN (n_steps 1)", {"mixer": "vdn"}),
    _madqn("madqn_qmix", "MADQN + QMIX (n_steps 1)", {"mixer": "qmix"}),
    _madqn("madqn_agentid", "MADQN, one-hot agent id in observations", {"agent_indicator": True}),
    _madqn("madqn_t1k", "MADQN, target update every 1k timesteps", {"target_update_interval": 1000}),
    Method("spread", "ppo", "SB3 PPO, parameter sharing", lambda: dict(PPO_SPREAD), build_ppo_spread),
    _supersuit_dqn("spread"),
    Method("spread", "random", "random", policy=_random_policy),
    Method("spread", "nearest", "scripted: nearest landmark", policy=_scripted(nearest_landmark_actions)),
    Method("spread", "scripted", "scripted: nearest unclaimed landmark", policy=_scripted(scripted_actions)),
    _benchmarl("iql", "IQL (its defaults, our batch shape)"),
    _benchmarl("qmix", "QMIX (its defaults, our batch shape)"),
    _benchmarl("vdn", "VDN (its defaults, our batch shape)"),
    _benchmarl("qmix", "QMIX (all its defaults)", own_batches=True),
    _madqn("madqn", "MADQN (double, dueling, agent id)", task="speaker_listener"),
    _madqn("madqn_noid", "MADQN without agent id", {"agent_indicator": False}, "speaker_listener"),
    _supersuit_dqn("speaker_listener"),
    Method("speaker_listener", "random", "random", policy=_random_policy),
    _madqn("madqn", "MADQN (double, dueling, CNN)", task="pistonball"),
    _supersuit_dqn("pistonball"),
    Method("pistonball", "random", "random", policy=_random_policy),
    _madqn("madqn", "MADQN (PER, 1-step)", task="cliffwalk"),
    _madqn("madqn_noper", "MADQN without PER", {"prioritized_replay": False}, "cliffwalk"),
    _madqn("madqn_decay", "MADQN (PER), decaying epsilon", DECAYING_EPSILON, "cliffwalk"),
    _madqn(
        "madqn_noper_decay",
        "MADQN without PER, decaying epsilon",
        {**DECAYING_EPSILON, "prioritized_replay": False},
        "cliffwalk",
    ),
    Method("cliffwalk", "random", "random", policy=_random_policy),
    Method(
        "cartpole", "madqn", "MADQN (zoo DQN settings)", lambda: dict(ZOO_CARTPOLE), build_cartpole("madqn")
    ),
    Method(
        "cartpole",
        "madqn_per",
        "MADQN with PER (zoo DQN settings)",
        lambda: {**ZOO_CARTPOLE, "prioritized_replay": True},
        build_cartpole("madqn"),
    ),
    Method("cartpole", "dqn", "SB3 DQN (zoo settings)", lambda: dict(ZOO_CARTPOLE), build_cartpole("dqn")),
)


def env_methods(env: str, runnable: bool = False) -> list[Method]:
    """The registered methods of ``env``, in order.

    :param runnable: only those ``benchmarks/learning.py`` runs (not the peers another script trains)
    """
    return [m for m in METHODS if m.env == env and not (runnable and m.runner is not None)]


def get_method(env: str, name: str) -> Method:
    """The registered method ``name`` of ``env``.

    :raises ValueError: naming the methods of ``env`` when ``name`` is not one of them
    """
    for method in METHODS:
        if (method.env, method.name) == (env, name):
            return method
    names = ", ".join(method.name for method in env_methods(env))
    raise ValueError(f"Unknown method {name!r} for env {env!r}; choose from: {names}")
