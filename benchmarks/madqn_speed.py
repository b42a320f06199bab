"""Training speed of MADQN (PER on and off) against SB3's DQN with the same settings.

Each run builds a fresh model and times ``learn(total_timesteps)`` in this process's CPU time
(torch limited to one thread), so other work on a busy machine disturbs the runs little and alike.
Runs alternate between the algorithms and the table reports the median over repetitions.
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
MADQN builds Adam with ``fused=True`` (one kernel per step instead of about ten ops per parameter
tensor); the last row gives SB3's DQN the same optimizer, to show what the rest of MADQN costs.

    python benchmarks/madqn_speed.py --quick
    python benchmarks/madqn_speed.py --steps 5000 --repeats 5
    python benchmarks/madqn_speed.py --settings one-step
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch as th
from stable_baselines3 import DQN
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env

import sb3_marl
from sb3_marl.madqn import MADQN

ENVS: dict[str, Callable] = {
    "CartPole-v1": lambda: sb3_make_vec_env("CartPole-v1", n_envs=1, seed=0),
    "simple_spread x2": lambda: sb3_marl.make_vec_env("mpe2.simple_spread_v3", n_envs=2, seed=0),
}
ALGOS: dict[str, Callable] = {
    "SB3 DQN": lambda env, kw: DQN("MlpPolicy", env, **kw),
    "MADQN PER on": lambda env, kw: MADQN("MlpPolicy", env, prioritized_replay=True, **kw),
    "MADQN PER off": lambda env, kw: MADQN("MlpPolicy", env, prioritized_replay=False, **kw),
    "MADQN PER, no DDQN": lambda env, kw: MADQN("MlpPolicy", env, double_q=False, **kw),
    "SB3 DQN, fused Adam": lambda env, kw: DQN("MlpPolicy", env, **fused_adam(kw)),
}


def fused_adam(kwargs: dict) -> dict:
    """``kwargs`` with Adam's fused kernel, MADQN's default, for a like-for-like reference."""
    policy_kwargs = {**kwargs["policy_kwargs"], "optimizer_kwargs": dict(fused=True)}
    return {**kwargs, "policy_kwargs": policy_kwargs}


def timed_learn(make_algo: Callable, make_env: Callable, steps: int, kwargs: dict) -> float:
    """Timesteps per second of ``learn(steps)`` for a fresh model."""
    model = make_algo(make_env(), kwargs)
    start = time.process_time()
    model.learn(steps)
    elapsed = time.process_time() - start
    model.env.close()
    return steps / elapsed


SETTINGS: dict[str, dict] = {
    "sb3-defaults": dict(train_freq=4, batch_size=32, policy_kwargs=dict(net_arch=[64, 64])),
    "one-step": dict(train_freq=1, batch_size=128, policy_kwargs=dict(net_arch=[64, 64])),
    "preset": dict(train_freq=1, batch_size=256, policy_kwargs=dict(net_arch=[128, 128])),
}


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--steps", type=int, default=5000, help="timesteps per run (default 5000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument(
        "--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS), help="default: all"
    )
    parser.add_argument("--quick", action="store_true", help="--steps 1000 --repeats 3 (a few minutes)")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeats = 1000, 3
    th.set_num_threads(1)
    common = dict(
        learning_starts=100, buffer_size=1_000_000, target_update_interval=500, seed=0, device="cpu"
    )

    print(f"{args.steps} timesteps per run, median of {args.repeats}; {common}")
    print(f"{'settings':<14}{'env':<18}{'algorithm':<20}{'timesteps/s':>12}{'/ DQN':>8}")
    for setting in args.settings:
        kwargs = {**common, **SETTINGS[setting]}
        for env_name, make_env in ENVS.items():
            for make_algo in ALGOS.values():  # warm-up
                timed_learn(make_algo, make_env, 2 * common["learning_starts"], kwargs)
            rates: dict[str, list[float]] = {name: [] for name in ALGOS}
            for r in range(args.repeats):
                for name in list(ALGOS) if r % 2 == 0 else list(reversed(ALGOS)):
                    rates[name].append(timed_learn(ALGOS[name], make_env, args.steps, kwargs))
            med = {name: statistics.median(values) for name, values in rates.items()}
            for name, rate in med.items():
                print(f"{setting:<14}{env_name:<18}{name:<20}{rate:>12,.0f}{rate / med['SB3 DQN']:>8.3f}")
            ratio = med["MADQN PER on"] / med["SB3 DQN"]
            verdict = "met" if ratio >= 0.9 else "MISSED"
            print(f"{setting:<14}{env_name:<18}target: MADQN PER on / DQN >= 0.90 -> {ratio:.3f} ({verdict})")


if __name__ == "__main__":
    main()
