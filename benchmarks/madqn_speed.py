"""Training speed of MADQN (PER on and off) against SB3's DQN with the same settings.

For each setting and env every algorithm builds one model, learns ``learning_starts`` and a little more
untimed, then goes on learning (``learn(chunk, reset_num_timesteps=False)``) in many short chunks timed
in this process's CPU time (torch limited to one thread), interleaved between the algorithms in
alternating order (benchmarks/timing.py). Ratios are medians over rounds with 95% bootstrap intervals.
``timesteps`` are SB3's: one per VecEnv slot, so a simple_spread copy adds 3 per step.

Three settings, each on CartPole-v1 and on simple_spread (2 copies, 6 slots), the same for all
algorithms (learning_starts 100, buffer 1M, target update every 500 steps):

- ``sb3-defaults``: SB3 DQN's own defaults, a gradient step every 4 env steps on batches of 32
  (64-64 net);
- ``one-step``: a gradient step per env step on batches of 128 (64-64 net), where the per-step
  overhead of prioritized replay weighs most;
- ``preset``: the simple_spread preset's learner, a gradient step per env step on batches of 256
  with a 128-128 net.

MADQN does more than DQN by design: Double DQN evaluates the online network on the next
observations too, and prioritized replay samples from and updates sum/min trees. With
``prioritized_replay=False`` it still uses its own buffer, with uniform priorities (alpha 0). The
row with ``double_q=False`` separates Double DQN's extra forward pass from the rest of the overhead.
MADQN builds Adam with ``fused=True``; "SB3 DQN, fused Adam" gives SB3's DQN the same optimizer, the
like-for-like reference of the target. "SB3 Double DQN, fused Adam" is SB3's DQN with Double DQN's
target (:class:`DoubleDQN`): it pays the same extra forward pass, so MADQN's ratio to it shows what
MADQN costs beyond Double DQN itself.

    python benchmarks/madqn_speed.py --quick
    python benchmarks/madqn_speed.py --rounds 20 --chunk-steps 400   # about 4 times as long
    python benchmarks/madqn_speed.py --settings one-step
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import torch as th
from stable_baselines3 import DQN
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from timing import (
    cpu_seconds,
    format_ratio,
    interleave,
    make_parser,
    parse,
    print_header,
    ratio,
    target_line,
    tree_path,
)

import sb3_marl
from sb3_marl.madqn import MADQN

ENVS: dict[str, Callable[[], Any]] = {
    "CartPole-v1": lambda: sb3_make_vec_env("CartPole-v1", n_envs=1, seed=0),
    "simple_spread x2": lambda: sb3_marl.make_vec_env("mpe2.simple_spread_v3", n_envs=2, seed=0),
}


def fused_adam(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with Adam's fused kernel, MADQN's default, for a like-for-like reference."""
    policy_kwargs = {**kwargs["policy_kwargs"], "optimizer_kwargs": dict(fused=True)}
    return {**kwargs, "policy_kwargs": policy_kwargs}


class DoubleTarget(th.nn.Module):
    """The target network as SB3's ``DQN.train`` reads it, answering with one column: the target's value
    of the online network's greedy action, so that DQN's ``max`` over it is Double DQN's target. It holds
    the online network outside its modules, so that its parameters, which the target update reads, are
    the target network's alone.

    :param target: the target Q-network
    :param online: the online Q-network
    """

    def __init__(self, target: th.nn.Module, online: th.nn.Module):
        super().__init__()
        self.target = target
        self.online = (online,)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        greedy = self.online[0](observations).argmax(dim=1, keepdim=True)
        return self.target(observations).gather(1, greedy)


class DoubleDQN(DQN):
    """SB3's DQN with the Double DQN target (van Hasselt et al. 2016): the greedy next action from the
    online network, valued by the target network."""

    def _create_aliases(self) -> None:
        super()._create_aliases()
        self.q_net_target = DoubleTarget(self.policy.q_net_target, self.policy.q_net)  # type: ignore[assignment]


# The target's two sides ("SB3 DQN, fused Adam" and "MADQN PER on") are neighbours in every round.
ALGOS: dict[str, Callable[[Any, dict[str, Any]], BaseAlgorithm]] = {
    "SB3 DQN": lambda env, kw: DQN("MlpPolicy", env, **kw),
    "SB3 DQN, fused Adam": lambda env, kw: DQN("MlpPolicy", env, **fused_adam(kw)),
    "MADQN PER on": lambda env, kw: MADQN("MlpPolicy", env, prioritized_replay=True, **kw),
    "SB3 Double DQN, fused": lambda env, kw: DoubleDQN("MlpPolicy", env, **fused_adam(kw)),
    "MADQN PER off": lambda env, kw: MADQN("MlpPolicy", env, prioritized_replay=False, **kw),
    "MADQN PER, no DDQN": lambda env, kw: MADQN(
        "MlpPolicy", env, prioritized_replay=True, double_q=False, **kw
    ),
}
REFERENCE, TARGETED, TARGET = "SB3 DQN, fused Adam", "MADQN PER on", 1.0
DOUBLE_REFERENCE = "SB3 Double DQN, fused"  # the same extra forward pass as MADQN's Double DQN
WARM_UP = 300  # untimed timesteps first: learning_starts (100), then the first gradient steps

SETTINGS: dict[str, dict[str, Any]] = {
    "sb3-defaults": dict(train_freq=4, batch_size=32, policy_kwargs=dict(net_arch=[64, 64])),
    "one-step": dict(train_freq=1, batch_size=128, policy_kwargs=dict(net_arch=[64, 64])),
    "preset": dict(train_freq=1, batch_size=256, policy_kwargs=dict(net_arch=[128, 128])),
}


def chunk(model: BaseAlgorithm, steps: int) -> Callable[[], float]:
    """One timed chunk of ``model``'s training: timesteps per CPU second of ``learn(steps)`` continued."""

    def run() -> float:
        before = model.num_timesteps
        seconds = cpu_seconds(lambda: model.learn(steps, reset_num_timesteps=False))
        return (model.num_timesteps - before) / seconds

    return run


def main() -> None:
    parser = make_parser(__doc__, {"rounds": 3, "chunk_steps": 200})
    parser.add_argument("--rounds", type=int, default=10, help="rounds of timed chunks (default 10)")
    parser.add_argument("--chunk-steps", type=int, default=200, help="timesteps per chunk (default 200)")
    parser.add_argument(
        "--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS), help="default: all"
    )
    args = parse(parser)
    print_header()
    th.set_num_threads(1)
    common = dict(
        learning_starts=100, buffer_size=1_000_000, target_update_interval=500, seed=0, device="cpu"
    )

    print(
        f"{args.rounds} rounds of {args.chunk_steps} timesteps per algorithm after {WARM_UP} untimed; "
        f"rates: medians over rounds; ratios: median of per-round ratios [95% bootstrap CI]; {common}; "
        f"priority tree: {tree_path()}"
    )
    print(f"{'settings':<14}{'env':<18}{'algorithm':<21}{'timesteps/s':>12}{'/ DQN':>24}{'/ DQN fused':>24}")
    for setting in args.settings:
        kwargs = {**common, **SETTINGS[setting]}
        for env_name, make_env in ENVS.items():
            models = {name: build(make_env(), kwargs) for name, build in ALGOS.items()}
            for model in models.values():
                model.learn(WARM_UP)
            rates = interleave(
                {name: chunk(model, args.chunk_steps) for name, model in models.items()}, args.rounds
            )
            for model in models.values():
                model.get_env().close()
            for name, values in rates.items():
                plain, fused = ratio(rates, name, "SB3 DQN"), ratio(rates, name, REFERENCE)
                print(
                    f"{setting:<14}{env_name:<18}{name:<21}{statistics.median(values):>12,.0f}"
                    f"{format_ratio(plain):>24}{format_ratio(fused):>24}"
                )
            print(
                f"{setting:<14}{env_name:<18}"
                + target_line(f"{TARGETED} / {REFERENCE}", ratio(rates, TARGETED, REFERENCE), TARGET)
            )
            print(
                f"{setting:<14}{env_name:<18}{TARGETED} / {DOUBLE_REFERENCE}: "
                + format_ratio(ratio(rates, TARGETED, DOUBLE_REFERENCE)).strip()
            )


if __name__ == "__main__":
    main()
