"""Every example script runs to its end on a tiny budget."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RUNS = {
    "madqn_simple_spread.py": ["--learning-starts", "60", "--n-envs", "1", "--max-cycles", "10"],
    "ppo_simple_spread.py": ["--n-envs", "1", "--n-steps", "32", "--batch-size", "48", "--eval-freq", "100"],
    "madqn_pistonball_cnn.py": ["--learning-starts", "100", "--max-cycles", "20", "--image-size", "36"],
    "connect_four_masked.py": ["--n-envs", "2", "--eval-games", "2"],
}
LAST_LINES = {
    "madqn_simple_spread.py": "Per agent:",
    "ppo_simple_spread.py": "Best evaluation during training:",
    "madqn_pistonball_cnn.py": "Team return: MADQN",
    "connect_four_masked.py": "maskable_ppo as first player won",
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(RUNS)


@pytest.mark.parametrize(
    "script, extra",
    [*((script, []) for script in sorted(RUNS)), ("madqn_simple_spread.py", ["--mixer", "qmix"])],
)
def test_example_runs(script, extra, tmp_path):
    args = ["--total-timesteps", "200", "--output", str(tmp_path / "run"), *RUNS[script], *extra]
    if script != "connect_four_masked.py":
        args += ["--eval-episodes", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1].startswith(LAST_LINES[script]), done.stdout[-2000:]
    assert (tmp_path / "run" / "model.zip").is_file()
