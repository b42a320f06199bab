"""BenchMARL's IQL, QMIX and VDN on simple_spread, evaluated exactly as the learning benchmark evaluates ours.

A peer benchmark, not part of the package (nothing in ``sb3_marl`` imports it). It trains BenchMARL
(built on TorchRL) on mpe2 ``simple_spread_v3`` (3 agents, 25 cycles, discrete actions, local ratio
0.5) and evaluates its policy with ``sb3_marl.benchmark.runs.evaluate_team``: greedy actions (the
epsilon-greedy layer off), the team return summed over the 3 agents, whole episodes on a
``make_vec_env`` evaluation env of 4 copies seeded ``100_000 + seed``, re-seeded ``200_000 + seed`` at
every evaluation, 20 episodes every 5,000 joint steps: the same episodes our rows are evaluated on. Each
run is written to ``docs/learning_runs/spread__benchmarl_<algo>__<steps>steps__seed<k>.json`` in the
record format of ``benchmarks/learning.py``, so the report and the table take it like our runs; while it
runs, the record so far is kept (flagged ``"partial": true``) in ``docs/learning_runs/partial/``, which
the report does not read.

Settings: BenchMARL's defaults (its ``ExperimentConfig``, algorithm and MLP yaml files: an MLP of
[256, 256] with Tanh, Adam at 5e-5, gamma 0.99, soft target update tau 0.005, epsilon 0.8 -> 0.01 over
a third of the frames, batches of 128 joint transitions, a 1M buffer, parameter sharing), except:

- frames per batch and optimizer steps per batch matched to our simple_spread preset
  (``sb3_marl/hyperparams/madqn.yml``: 4 env copies, one gradient step per vector step, that is 0.25
  gradient steps per joint env step): 4 env copies collecting 100 frames (joint steps) per batch, then
  25 optimizer steps. One episode per copy per batch keeps BenchMARL's per-iteration overhead small;
  BenchMARL's default (6,000 frames, 1,000 steps: 0.17 per frame) updates more rarely and less.
- ``max_n_frames`` = the budget, loggers, its own evaluation, rendering and checkpoints off, all on CPU.

Training wall time at each evaluation excludes the evaluations (as ``EvalCallback`` times ours).

Install (a separate venv: BenchMARL pulls TorchRL, tensordict and hydra; pinning torch keeps the CPU
build on disk instead of a CUDA build; torchvision 0.28's wheel here is a CUDA build that fails to import
against CPU torch, and TorchRL imports it only for image transforms, so it is removed)::

    python3 -m venv /work/venvs/benchmarl
    /work/venvs/benchmarl/bin/pip install torch==2.13.0
    /work/venvs/benchmarl/bin/pip install benchmarl==1.5.2 mpe2 stable-baselines3 sb3-contrib pyyaml \\
        torch==2.13.0
    /work/venvs/benchmarl/bin/pip uninstall -y torchvision

Run (from the repository root; ``sb3_marl`` is imported from this checkout, not installed there)::

    OMP_NUM_THREADS=1 /work/venvs/benchmarl/bin/python benchmarks/benchmarl_spread.py --algos iql qmix \\
        --seeds 0 1 2                         # 100k joint steps a run
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from benchmarl.algorithms import IqlConfig, QmixConfig, VdnConfig  # noqa: E402
from benchmarl.environments.pettingzoo.common import PettingZooClass  # noqa: E402
from benchmarl.experiment import Experiment, ExperimentConfig  # noqa: E402
from benchmarl.experiment.callback import Callback  # noqa: E402
from benchmarl.models.mlp import MlpConfig  # noqa: E402
from stable_baselines3.common.utils import set_random_seed  # noqa: E402
from tensordict import TensorDict, TensorDictBase  # noqa: E402
from torchrl.envs import EnvBase, PettingZooWrapper  # noqa: E402
from torchrl.envs.utils import ExplorationType, set_exploration_type  # noqa: E402

from sb3_marl.benchmark.methods import N_AGENTS, SPREAD_KWARGS, make_spread_vec_env  # noqa: E402
from sb3_marl.benchmark.runs import curve_point, evaluate_team  # noqa: E402
from sb3_marl.files import atomic_write  # noqa: E402

ALGOS = {"iql": IqlConfig, "qmix": QmixConfig, "vdn": VdnConfig}
N_ENVS = 4
FRAMES_PER_BATCH = 100
OPTIMIZER_STEPS = 25  # 0.25 per frame, as our preset's one gradient step per vector step of 4 copies
LOCAL_RATIO = 0.5


class Mpe2Spread(PettingZooClass):
    """BenchMARL's PettingZoo task on mpe2's simple_spread (its own task imports ``pettingzoo.mpe``,
    which PettingZoo 1.27 no longer has)."""

    def get_env_fun(self, num_envs: int, continuous_actions: bool, seed: int | None, device: Any) -> Any:
        def make() -> EnvBase:
            from mpe2 import simple_spread_v3

            env = simple_spread_v3.parallel_env(**SPREAD_KWARGS, local_ratio=LOCAL_RATIO)
            return PettingZooWrapper(
                env=env, categorical_actions=True, device=device, seed=seed, return_state=True, use_mask=False
            )

        return make

    def max_steps(self, env: EnvBase) -> int:
        return int(SPREAD_KWARGS["max_cycles"])


def greedy_act(policy: Any) -> Any:
    """Our acting function (observations of every slot, copy by copy, and their masks -> their actions)
    of BenchMARL's collection policy, with its epsilon-greedy layer off."""

    def act(obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        batch = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(-1, N_AGENTS, obs.shape[-1])
        td = TensorDict({("agent", "observation"): batch}, batch_size=[batch.shape[0]])
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            actions = policy(td)["agent", "action"]
        return actions.reshape(-1).numpy()

    return act


class Evaluations(Callback):
    """Evaluates with our evaluation every ``every`` frames (after that batch's optimizer steps), timing
    training apart from evaluation.

    :param seed: the run's seed: the evaluation env is seeded ``100_000 + seed``, each evaluation
        ``200_000 + seed``, as ``sb3_marl.benchmark.runs.run_method`` does
    :param n_eval: episodes per evaluation
    :param every: frames (joint env steps) between evaluations
    :param on_point: called with the curve after each evaluation
    """

    def __init__(self, seed: int, n_eval: int, every: int, on_point: Callable[[list], None]):
        super().__init__()
        self.seed, self.n_eval, self.every, self.on_point = seed, n_eval, every, on_point
        self.env = make_spread_vec_env(N_ENVS, 100_000 + seed)
        self.frames, self.next_eval = 0, every
        self.curve: list[dict[str, float]] = []
        self.eval_time = self.start = 0.0

    def __getstate__(self) -> dict[str, Any]:
        # BenchMARL pickles its callbacks into the experiment folder: leave out what does not pickle.
        return {k: v for k, v in self.__dict__.items() if k not in ("env", "experiment", "on_point")}

    def evaluate(self, policy: Any) -> list[float]:
        """The team returns of one evaluation of BenchMARL's ``policy``."""
        return evaluate_team(greedy_act(policy), self.env, self.n_eval, 200_000 + self.seed)

    def record(self, policy: Any) -> None:
        """Evaluate ``policy`` now and append the point to ``curve``."""
        began = time.perf_counter()
        returns = self.evaluate(policy)
        self.eval_time += time.perf_counter() - began
        train_wall_s = time.perf_counter() - self.start - self.eval_time
        self.curve.append(curve_point(self.frames, returns, train_wall_s))
        self.on_point(self.curve)

    def on_batch_collected(self, batch: TensorDictBase) -> None:
        self.frames += batch.numel()

    def on_train_end(self, training_td: TensorDictBase, group: str) -> None:
        if self.frames >= self.next_eval:
            self.next_eval += self.every
            self.record(self.experiment.policy)


def experiment_config(budget: int, save_folder: str, own_batches: bool) -> ExperimentConfig:
    """BenchMARL's default experiment settings with our budget and, unless ``own_batches``, our batch
    shape (see the module doc)."""
    config = ExperimentConfig.get_from_yaml()
    config.sampling_device = config.train_device = config.buffer_device = "cpu"
    config.max_n_frames = budget
    if not own_batches:
        config.off_policy_n_envs_per_worker = N_ENVS
        config.off_policy_collected_frames_per_batch = FRAMES_PER_BATCH
        config.off_policy_n_optimizer_steps = OPTIMIZER_STEPS
    config.loggers = []
    config.create_json = config.evaluation = config.render = False
    config.checkpoint_interval, config.checkpoint_at_end = 0, False
    config.save_folder = save_folder
    return config


def hyperparams(config: ExperimentConfig, algorithm: Any, model: MlpConfig) -> dict[str, Any]:
    """The settings stored with a run."""
    return {
        "experiment": {
            k: v for k, v in dataclasses.asdict(config).items() if k not in ("save_folder", "loggers")
        },
        "algorithm": dataclasses.asdict(algorithm),
        "model": {"num_cells": list(model.num_cells), "activation": model.activation_class.__name__},
        "task": {**SPREAD_KWARGS, "local_ratio": LOCAL_RATIO},
        "versions": {name: version(name) for name in ("benchmarl", "torchrl", "tensordict", "torch")},
    }


def method_name(algo: str, own_batches: bool) -> str:
    """The registry name of ``algo``'s runs: ``benchmarl_qmix``, or ``benchmarl_qmix_own`` with
    BenchMARL's own batch shape."""
    return f"benchmarl_{algo}{'_own' if own_batches else ''}"


def run(
    algo: str, seed: int, budget: int, eval_every: int, n_eval: int, partial: str, own_batches: bool
) -> dict[str, Any]:
    """Train BenchMARL's ``algo`` for ``budget`` joint steps and return its run record, meanwhile keeping
    the record so far, flagged ``"partial": true``, in the file ``partial`` after every evaluation (a run
    stopped early leaves its curve there, out of the report's folder).

    :param own_batches: keep BenchMARL's own batch shape (10 env copies, 6,000 frames then 1,000
        optimizer steps a batch) instead of ours
    """
    set_random_seed(seed)
    record: dict[str, Any] = {
        "env": "spread",
        "method": method_name(algo, own_batches),
        "seed": seed,
        "eval_episodes": n_eval,
        "budget": budget,
        "eval_every": eval_every,
        "argv": shlex.join([sys.executable, *sys.argv]),
    }
    with tempfile.TemporaryDirectory() as folder:
        config = experiment_config(budget, folder, own_batches)
        algorithm = ALGOS[algo].get_from_yaml()
        model = MlpConfig.get_from_yaml()
        record["hyperparams"] = hyperparams(config, algorithm, model)

        def save_partial(curve: list) -> None:
            with atomic_write(partial, "w") as file:
                json.dump({**record, "curve": curve, "partial": True}, file, indent=1)

        evaluations = Evaluations(seed, n_eval, eval_every, save_partial)
        experiment = Experiment(
            task=Mpe2Spread(name="SIMPLE_SPREAD", config={}),
            algorithm_config=algorithm,
            model_config=model,
            seed=seed,
            config=config,
            callbacks=[evaluations],
        )
        evaluations.start = began = time.perf_counter()
        evaluations.record(experiment.policy)
        experiment.run()
        total = time.perf_counter() - began
        if evaluations.curve[-1]["joint_steps"] < evaluations.frames:
            evaluations.record(experiment.policy)
    evaluations.env.close()
    return {**record, "curve": evaluations.curve, "total_wall_s": total}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--algos", nargs="+", choices=sorted(ALGOS), default=["iql", "qmix"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=100_000, help="joint env steps (frames) per run")
    parser.add_argument("--eval-every", type=int, default=5_000, help="joint env steps between evaluations")
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "learning_runs"), help="run folder")
    parser.add_argument(
        "--own-batches",
        action="store_true",
        help="BenchMARL's own batch shape (6,000 frames, then 1,000 optimizer steps; evaluations after the "
        "first batch past each --eval-every, and a last batch may run past --steps)",
    )
    args = parser.parse_args(argv)
    if not args.own_batches and (args.steps % FRAMES_PER_BATCH or args.eval_every % FRAMES_PER_BATCH):
        parser.error(f"--steps and --eval-every must be multiples of {FRAMES_PER_BATCH} (frames per batch)")
    torch.set_num_threads(1)
    os.makedirs(os.path.join(args.out, "partial"), exist_ok=True)
    for algo in args.algos:
        for seed in args.seeds:
            method = method_name(algo, args.own_batches)
            print(f"spread / {method} / seed {seed}: {args.steps:,} joint steps", flush=True)
            name = f"spread__{method}__{args.steps}steps__seed{seed}.json"
            partial = os.path.join(args.out, "partial", name)
            record = run(
                algo, seed, args.steps, args.eval_every, args.eval_episodes, partial, args.own_batches
            )
            path = os.path.join(args.out, name)
            with atomic_write(path, "w") as file:
                json.dump(record, file, indent=1)
            os.remove(partial)
            print(f"  wrote {path} ({record['total_wall_s']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
