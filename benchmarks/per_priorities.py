"""What prioritized replay does over a run: the spread of the priorities, the share of the sampling mass
that fresh transitions (stored at the running maximum priority) hold, and the importance-sampling weights.

Every ``--every`` env steps (joint steps on simple_spread) it reads MADQN's buffer and prints one row:
beta; the priorities ``p = (|TD| + eps) ** alpha`` of the stored transitions (ratio of the 90th to the 10th
percentile, largest over median); the share of the sampling mass held by the transitions still at the
maximum priority; the maximum over the median priority; the mean and smallest IS weight of a batch
(``(p_min / p) ** beta``) and its effective size as a share of the batch (``(sum w)^2 / sum w^2 / n``);
the share of the sampling mass held by the transitions that pay a reward, against their share of the
stored transitions (what prioritization is for on a rare-reward task); and the greedy return. The rows go
to ``--output`` (JSON) as well.

Examples::

    python benchmarks/per_priorities.py --env cartpole --seed 1      # zoo DQN settings, 50k steps
    python benchmarks/per_priorities.py --env spread --seed 0        # the simple_spread preset, 60k
    python benchmarks/per_priorities.py --env cliffwalk --every 1000 # its preset's budget, 30k
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import set_random_seed

from sb3_marl.benchmark.methods import TASKS, ZOO_CARTPOLE, build_cartpole, build_madqn, madqn_preset
from sb3_marl.benchmark.runs import evaluate_cartpole, evaluate_team, greedy
from sb3_marl.buffers import PrioritizedReplayBuffer
from sb3_marl.files import atomic_write


def priority_row(model: Any) -> dict[str, float]:
    """The priorities, the fresh transitions' share and the IS weights of ``model``'s buffer now."""
    buffer: PrioritizedReplayBuffer = model.replay_buffer
    leaves = buffer.priorities(np.arange(buffer.size() * buffer.n_envs))
    active = leaves > 0
    stored = leaves[active]
    paid = buffer.rewards[: buffer.size()].reshape(-1)[active] != 0
    fresh = buffer.max_priority**buffer.alpha
    p10, p50, p90 = np.percentile(stored, [10, 50, 90])
    weights = buffer.sample(model.batch_size, beta=model.beta).weights.cpu().numpy()
    return {
        "beta": float(model.beta),
        "p90_over_p10": float(p90 / p10),
        "max_over_median": float(stored.max() / p50),
        "fresh_share": float(stored[stored >= fresh].sum() / stored.sum()),
        "fresh_over_median": float(fresh / p50),
        "weight_mean": float(weights.mean()),
        "weight_min": float(weights.min()),
        "batch_ess": float(weights.sum() ** 2 / (weights**2).sum() / weights.size),
        "paid_share": float(stored[paid].sum() / stored.sum()),
        "paid_stored": float(paid.mean()),
    }


class PriorityProbe(BaseCallback):
    """Every ``every`` calls: a :func:`priority_row` and a greedy evaluation."""

    def __init__(self, every: int, evaluate: Any, per_step: int) -> None:
        super().__init__()
        self.every, self.evaluate, self.per_step = every, evaluate, per_step
        self.rows: list[dict[str, float]] = []

    def _on_step(self) -> bool:
        steps = self.num_timesteps // self.per_step
        due = self.n_calls % max(self.every * self.per_step // self.training_env.num_envs, 1) == 0
        if due and self.model.num_timesteps > self.model.learning_starts:
            row = {"steps": steps, **priority_row(self.model), "return": float(np.mean(self.evaluate()))}
            self.rows.append(row)
            print("  ".join(f"{k} {v:.3g}" for k, v in row.items()), flush=True)
        return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    tasks = [name for name, task in TASKS.items() if name == "cartpole" or task.env_id is not None]
    parser.add_argument("--env", choices=tasks, default="cartpole")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="(joint) env steps; default: the preset's (CartPole: 50k)")
    parser.add_argument("--every", type=int, default=2500)
    parser.add_argument("--set", nargs="*", default=[], help="MADQN settings, key=value (YAML values)")
    parser.add_argument("--output", help="JSON file for the rows")
    args = parser.parse_args(argv)
    import yaml

    changes = {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.set)}
    th.set_num_threads(1)
    set_random_seed(args.seed)
    if args.env == "cartpole":
        from stable_baselines3.common.env_util import make_vec_env

        model = build_cartpole("madqn")(args.seed, {**ZOO_CARTPOLE, **changes})
        eval_env = make_vec_env("CartPole-v1", n_envs=1, seed=100_000 + args.seed)
        evaluate = lambda: evaluate_cartpole(model, eval_env, 20, 200_000 + args.seed)  # noqa: E731
        steps, per_step = args.steps or 50_000, 1
    else:
        task = TASKS[args.env]
        preset = {**madqn_preset(task=args.env)(), **changes}
        model = build_madqn(args.env)(args.seed, preset)
        eval_env = task.make_vec_env(
            4, 100_000 + args.seed, preset.get("agent_indicator", False), preset.get("env_wrapper")
        )
        evaluate = lambda: evaluate_team(greedy(model), eval_env, 20, 200_000 + args.seed)  # noqa: E731
        steps = args.steps or int(task.preset()["n_timesteps"]) // task.n_agents
        per_step = task.n_agents
    probe = PriorityProbe(args.every, evaluate, per_step)
    model.learn(steps * per_step, callback=probe)
    if args.output:
        with atomic_write(args.output, "w") as file:
            record = {"env": args.env, "seed": args.seed, "changes": changes, "rows": probe.rows}
            json.dump(record, file, indent=1)


if __name__ == "__main__":
    main()
