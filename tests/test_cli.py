"""The ``sb3-marl`` command line: train, eval and check on small budgets, bad arguments in one line,
presets, and the dataclass configs of the example scripts."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from sb3_marl.algos import ALGOS
from sb3_marl.cli import main
from sb3_marl.config import load_hyperparams, option, parse_config

SPREAD = "mpe2.simple_spread_v3"
CONNECT_FOUR = "pettingzoo.classic.connect_four_v3"
QUIET = ["--verbose", "0", "--no-progress-bar"]


def run_cli(*args: str, entry_point: bool = False) -> subprocess.CompletedProcess:
    """The command line in a fresh process (``sb3-marl`` or ``python -m sb3_marl``)."""
    command = [shutil.which("sb3-marl") or "sb3-marl"] if entry_point else [sys.executable, "-m", "sb3_marl"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=300)


def test_train_then_eval(tmp_path, capsys):
    """A tiny MADQN run: the user's YAML is laid over the preset, model and config are saved, the team
    return is printed beside a random policy's; eval reads algorithm and env from the saved config."""
    hyperparams = tmp_path / "hp.yml"
    hyperparams.write_text(yaml.safe_dump({SPREAD: {"learning_starts": 60, "batch_size": 16}}))
    output = tmp_path / "run"
    code = main(
        [
            "train",
            "--env",
            SPREAD,
            "--algo",
            "madqn",
            "--timesteps",
            "300",
            "--n-envs",
            "1",
            "--env-kwargs",
            "max_cycles=10",
            "--hyperparams",
            str(hyperparams),
            "--output",
            str(output),
            "--eval-episodes",
            "2",
            *QUIET,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Team return: madqn" in out and "| random policy" in out
    config = yaml.safe_load((output / "config.yml").read_text())
    assert config["algo"] == "madqn" and config["env"] == SPREAD and config["n_envs"] == 1
    assert config["env_kwargs"] == {"N": 3, "max_cycles": 10, "continuous_actions": False}
    assert config["hyperparams"]["learning_starts"] == 60  # from the user's file
    assert config["hyperparams"]["buffer_size"] == 1_000_000  # from the preset
    assert (output / "model.zip").is_file()

    assert main(["eval", "--model", str(output / "model.zip"), "--episodes", "2", "--no-progress-bar"]) == 0
    out = capsys.readouterr().out
    assert "Team return:" in out and "(2 episodes)" in out
    assert all(f"agent_{k}: return" in out for k in range(3))


def test_train_with_a_mixer(tmp_path, capsys):
    output = tmp_path / "qmix"
    args = ["train", "--env", SPREAD, "--algo", "madqn", "--mixer", "qmix", "--timesteps", "150"]
    args += ["--env-kwargs", "max_cycles=5", "--output", str(output), "--eval-episodes", "1", *QUIET]
    assert main(args) == 0
    assert "Team return: madqn" in capsys.readouterr().out
    hyperparams = yaml.safe_load((output / "config.yml").read_text())["hyperparams"]
    assert hyperparams["mixer"] == "qmix"
    # the preset's settings for QMIX are laid over its own
    assert hyperparams["n_steps"] == 1 and hyperparams["target_update_interval"] == 10_000
    from sb3_marl import MADQN

    assert MADQN.load(output / "model.zip").mixer == "qmix"


def test_train_with_wandb_and_evaluations(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    for name in ("WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    output = tmp_path / "run"
    code = main(
        [
            "train",
            "--env",
            SPREAD,
            "--algo",
            "ppo",
            "--timesteps",
            "200",
            "--n-envs",
            "1",
            "--env-kwargs",
            "max_cycles=10",
            "--output",
            str(output),
            "--eval-episodes",
            "1",
            "--wandb-project",
            "tests",
            "--eval-freq",
            "100",
            *QUIET,
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert (output / "best_model.zip").is_file()
    (run_dir,) = (output / "wandb").glob("offline-run-*")
    assert (run_dir / "checkpoints" / "model_final.zip").is_file()


def test_check_reports_what_the_vec_env_does(capsys):
    assert main(["check", "--env", SPREAD, "--steps", "30"]) == 0
    out = capsys.readouterr().out
    assert "API: parallel" in out and "Global state: Box" in out and "Action masks: none" in out
    assert "Algorithms that fit: madqn, ppo, a2c, dqn, qrdqn, maskable_ppo" in out
    assert "VecEnv: 3 slots" in out

    assert main(["check", "--env", CONNECT_FOUR, "--steps", "30"]) == 0
    out = capsys.readouterr().out
    assert "API: AEC" in out and "Action masks: yes, read from the env's observations" in out
    assert "Algorithms that fit: madqn, maskable_ppo" in out

    assert main(["check", "--env", "mpe2.simple_world_comm_v3", "--steps", "0"]) == 0
    out = capsys.readouterr().out
    assert "observations zero-padded" in out and "actions padded to Discrete(20)" in out

    args = ["check", "--env", "mpe2.simple_world_comm_v3", "--env-kwargs", "continuous_actions=true"]
    assert main(args) == 1
    assert "Cannot handle: Cannot pad action spaces" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--env", "no_such_env_v0", "--algo", "madqn"], "Unknown env 'no_such_env_v0'"),
        (
            ["train", "--env", SPREAD, "--algo", "madqn", "--env-kwargs", "continuous_actions=true"],
            "--algo madqn does not fit: it needs a Discrete action space",
        ),
        (["train", "--env", CONNECT_FOUR, "--algo", "dqn"], "has action masks"),
        (
            ["train", "--env", SPREAD, "--algo", "ppo", "--hyperparams", "missing.yml"],
            "No such file: missing.yml",
        ),
        (["eval", "--model", "missing/model.zip"], "No such model file: missing/model.zip"),
        (
            ["eval", "--model", __file__, "--algo", "ppo", "--env", SPREAD, "--video", "x.avi"],
            "give a .gif or .mp4",
        ),
        (["check", "--env", SPREAD, "--env-kwargs", "N"], "Bad --env-kwargs item 'N'"),
        (["train", "--env", SPREAD, "--algo", "ppo", "--mixer", "vdn"], "--mixer needs --algo madqn"),
    ],
)
def test_bad_arguments_give_one_line(args, message, capsys):
    assert main(args) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err
    assert captured.err.startswith(f"sb3-marl {args[0]}: error: ")


def test_overlay_and_schedules(tmp_path, capsys):
    """A hyperparameter file laid over the preset, with a linear schedule."""
    overlay = tmp_path / "overlay.yml"
    entry = {"learning_rate": "lin_5e-4", "target_update_interval": 2000}
    overlay.write_text(yaml.safe_dump({SPREAD: entry}))
    output = tmp_path / "overlaid"
    args = ["train", "--env", SPREAD, "--algo", "madqn", "--hyperparams", str(overlay)]
    args += ["--timesteps", "150", "--env-kwargs", "max_cycles=5", "--output", str(output)]
    args += ["--eval-episodes", "1", *QUIET]
    assert main(args) == 0
    hyperparams = yaml.safe_load((output / "config.yml").read_text())["hyperparams"]
    assert hyperparams["learning_rate"] == "lin_5e-4" and hyperparams["target_update_interval"] == 2000
    assert hyperparams["n_steps"] == 3  # from the preset underneath
    from sb3_marl import MADQN

    model = MADQN.load(output / "model.zip")
    assert model.lr_schedule(1.0) == pytest.approx(5e-4) and model.lr_schedule(0.25) == pytest.approx(1.25e-4)
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump({SPREAD: {"learning_rate": "lin_fast"}}))
    assert main(["train", "--env", SPREAD, "--algo", "madqn", "--hyperparams", str(path), *QUIET]) == 1
    assert "Bad schedule learning_rate='lin_fast'" in capsys.readouterr().err


def test_unknown_hyperparameter_and_file_without_the_env(tmp_path, capsys):
    path = tmp_path / "hp.yml"
    path.write_text(yaml.safe_dump({SPREAD: {"learning_rat": 0.1}}))
    assert main(["train", "--env", SPREAD, "--algo", "ppo", "--hyperparams", str(path), *QUIET]) == 1
    assert "Unknown hyperparameter(s) for ppo: learning_rat" in capsys.readouterr().err
    assert main(["train", "--env", CONNECT_FOUR, "--algo", "madqn", "--hyperparams", str(path), *QUIET]) == 1
    assert f"has no entry for env '{CONNECT_FOUR}'" in capsys.readouterr().err


def test_bad_arguments_in_a_fresh_process():
    """No traceback and no other noise: exactly one line on stderr, and a non-zero exit code."""
    unknown_algo = run_cli("train", "--env", SPREAD, "--algo", "sac")
    assert unknown_algo.returncode == 2
    assert unknown_algo.stderr.count("\n") == 1 and "invalid choice: 'sac'" in unknown_algo.stderr
    unknown_env = run_cli("train", "--env", "no_such_env_v0", "--algo", "ppo", entry_point=True)
    assert unknown_env.returncode == 1
    assert unknown_env.stderr.count("\n") == 1 and "Unknown env" in unknown_env.stderr
    assert "Traceback" not in unknown_algo.stderr + unknown_env.stderr


def test_help_explains_every_option():
    for command in ("train", "eval", "check"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0


def test_every_algorithm_has_a_simple_spread_preset():
    for algo in ALGOS:
        preset = load_hyperparams(algo, SPREAD)
        assert preset["policy"] == "MlpPolicy" and preset["n_timesteps"] > 0
    assert load_hyperparams("madqn", "pettingzoo.butterfly.pistonball_v6")["policy"] == "CnnPolicy"
    assert load_hyperparams("maskable_ppo", CONNECT_FOUR)["n_envs"] == 8
    assert load_hyperparams("a2c", "no_preset_env") == {}


@dataclasses.dataclass
class ExampleConfig:
    """An example's settings."""

    total_timesteps: int = dataclasses.field(default=1000, metadata={"help": "training timesteps"})
    learning_rate: float = option(1e-3, "Adam learning rate")
    dueling: bool = option(True, "use a dueling head")
    wandb_project: str | None = option(None, "W&B project, None for none")


def test_parse_config_from_dataclass_fields(capsys):
    config = parse_config(ExampleConfig, ["--total-timesteps", "5", "--no-dueling", "--wandb-project", "p"])
    assert config == ExampleConfig(total_timesteps=5, learning_rate=1e-3, dueling=False, wandb_project="p")
    assert parse_config(ExampleConfig, []) == ExampleConfig()
    with pytest.raises(SystemExit):
        parse_config(ExampleConfig, ["--help"])
    out = capsys.readouterr().out
    assert "training timesteps (default: 1000)" in out and "use a dueling head" in out


def test_train_prints_a_short_log_off_a_terminal(tmp_path):
    """Off a terminal, `sb3-marl train` prints a few rows of team and agent returns, not SB3's logger
    tables (which would print hundreds of lines for this budget), and ends with the team return."""
    command = [sys.executable, "-m", "sb3_marl", "train", "--env", SPREAD, "--algo", "madqn"]
    command += ["--timesteps", "4500", "--eval-episodes", "2", "--output", str(tmp_path / "run")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=300
    )
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout[-3000:]
    assert lines[-1].startswith("Team return: madqn") and "| random policy" in lines[-1]
    assert len(lines) <= 40, done.stdout
    assert lines[0].startswith("Team return: summed over agents")
    assert "team return" in lines[1] and "agent_0" in lines[1] and "exploration" in lines[1]
    assert not any("ep_rew_mean" in line or "\r" in line for line in lines)
