"""Value decomposition on the two-step game of Rashid et al. 2018: independent MADQN, VDN and QMIX.

The game is ``tests/envs_for_tests.py``'s ``TwoStepGame`` (its docstring works out by hand what each
learner's values come to): agent ``a0``'s first action picks the second step's game, ``2A`` (7 for every
joint action) or ``2B`` (``[[0, 1], [1, 8]]``); the optimum is 8. Each method is trained on each seed
with the same settings (``SETTINGS``) and then played greedily for one episode (the game is
deterministic); the table gives the greedy joint actions of both steps, the payoff, and the method's
learned value of ``2B``'s joint action ``(1, 1)`` (whose true value is 8): the team Q with a mixer, agent
``a0``'s own Q of action 1 in ``2B`` without one.

Two kinds of exploration: ``full`` (epsilon 1 throughout, the uniform data of the paper's experiment, on
which the values of the docstring are the fixed points) and ``decaying`` (epsilon from 1 to 0.05 over
the first half, as a user would train). Run from the repository root::

    python -m benchmarks.matrix_game                          # 10 seeds, both explorations
    python -m benchmarks.matrix_game --seeds 0 1 --exploration full
"""

from __future__ import annotations

import argparse
import time
from typing import Any, NamedTuple

import numpy as np
import torch as th

from sb3_marl import MADQN, make_vec_env
from tests.envs_for_tests import TwoStepGame

METHODS = ("independent", "vdn", "qmix")
N_COPIES = 16
TIMESTEPS = 16_000  # agent steps: 500 steps of the 16 copies, one gradient step each
SETTINGS: dict[str, Any] = dict(
    learning_rate=3e-3,
    buffer_size=20_000,
    learning_starts=20 * 2 * N_COPIES,
    batch_size=64,
    train_freq=1,
    gradient_steps=1,
    target_update_interval=40 * 2 * N_COPIES,
    policy_kwargs=dict(net_arch=[64]),
)
EXPLORATION: dict[str, dict[str, Any]] = {
    "full": dict(exploration_initial_eps=1.0, exploration_final_eps=1.0),
    "decaying": dict(exploration_initial_eps=1.0, exploration_final_eps=0.05, exploration_fraction=0.5),
}


class Outcome(NamedTuple):
    """One trained model's greedy episode and one of its values.

    ``first``, ``second``: the greedy joint actions ``(a0, a1)`` of the two steps; ``payoff``: the team
    payoff they get; ``value_2b``: the learned value of the joint action ``(1, 1)`` in ``2B``.
    """

    first: tuple[int, int]
    second: tuple[int, int]
    payoff: float
    value_2b: float


def train(method: str, seed: int, exploration: str = "full") -> MADQN:
    """MADQN trained on the two-step game with ``SETTINGS``.

    :param method: ``"independent"`` (no mixer), ``"vdn"`` or ``"qmix"``; the mixers learn the team
        payoff itself (``team_reward="mean"``: every agent is given the team payoff)
    :param seed: the seed of the model and the env copies
    :param exploration: a key of ``EXPLORATION``
    """
    env = make_vec_env(TwoStepGame, n_envs=N_COPIES, seed=seed, agent_indicator=True)
    mixer: dict[str, Any] = {} if method == "independent" else dict(mixer=method, team_reward="mean")
    model = MADQN("MlpPolicy", env, seed=seed, **SETTINGS, **EXPLORATION[exploration], **mixer)
    return model.learn(TIMESTEPS)


def outcome(model: MADQN) -> Outcome:
    """Play ``model`` greedily for one episode of the two-step game and read its value of ``(1, 1)`` in
    ``2B``.

    :param model: a model trained by :func:`train`
    """
    env = make_vec_env(TwoStepGame, agent_indicator=True, monitor=False)
    first, _ = model.predict(np.asarray(env.reset()), deterministic=True)
    obs, _, _, _ = env.step(first)
    second, _ = model.predict(np.asarray(obs), deterministic=True)
    _, rewards, _, _ = env.step(second)
    env.reset()
    obs_2b, _, _, _ = env.step(np.array([1, 0]))  # a0's action 1 leads to 2B
    with th.no_grad():
        agent_qs = model.q_net(th.as_tensor(obs_2b, device=model.device))[:, 1]  # each agent's action 1
        if model.mixer_net is None:
            value = agent_qs[0]
        else:
            state = th.as_tensor(env.get_state(), device=model.device)  # type: ignore[attr-defined]
            value = model.mixer_net(agent_qs.reshape(1, -1), state.reshape(1, -1))[0, 0]
    env.close()
    return Outcome(_pair(first), _pair(second), float(rewards[0]), float(value))


def _pair(actions: np.ndarray) -> tuple[int, int]:
    return int(actions[0]), int(actions[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(10)))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--exploration", nargs="+", choices=tuple(EXPLORATION), default=list(EXPLORATION))
    args = parser.parse_args(argv)
    th.set_num_threads(1)
    print(f"TwoStepGame, {TIMESTEPS:,} agent steps, {N_COPIES} copies; optimum: 8 (2B, then (1, 1))")
    row = "{:<11} {:<12} {:>4}  {:<7} {:<7} {:>6}  {:>11}  {:>5}"
    print(row.format("exploration", "method", "seed", "step 1", "step 2", "payoff", "Q(2B,(1,1))", "time"))
    for exploration in args.exploration:
        for method in args.methods:
            payoffs = []
            for seed in args.seeds:
                start = time.time()
                result = outcome(train(method, seed, exploration))
                payoffs.append(result.payoff)
                first, second, payoff = str(result.first), str(result.second), f"{result.payoff:.0f}"
                value, seconds = f"{result.value_2b:.2f}", f"{time.time() - start:.0f}s"
                print(
                    row.format(exploration, method, seed, first, second, payoff, value, seconds), flush=True
                )
            optimal = sum(payoff == 8 for payoff in payoffs)
            print(f"{exploration:<11} {method:<12} optimum on {optimal} of {len(payoffs)} seeds", flush=True)


if __name__ == "__main__":
    main()
