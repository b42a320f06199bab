"""Bad input on the command line: each gets one line on stderr, naming the value and the fix, and a
non-zero exit code, before anything is trained or written; a failed rerun leaves the saved pair alone."""

from __future__ import annotations

import pytest
import yaml

from sb3_marl.cli import main

SPREAD = "mpe2.simple_spread_v3"
TRAIN = ["train", "--env", SPREAD, "--verbose", "0", "--no-progress-bar"]
GOOD_CONFIG = yaml.safe_dump({"algo": "ppo", "env": SPREAD, "env_kwargs": {"max_cycles": 5}})


def run_main(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as done:  # argparse's own errors
        return int(done.code or 0)


# (arguments, files to write first (name: text), exit code, start of the message after "error: ")
BAD_INPUTS = [
    (["--algo", "ppo", "--timesteps", "0"], {}, 2, "argument --timesteps: give a positive integer, got 0"),
    (["--algo", "ppo", "--timesteps", "-5"], {}, 2, "argument --timesteps: give a positive integer, got -5"),
    (["--algo", "ppo", "--timesteps", "1e3"], {}, 2, "argument --timesteps: invalid integer: '1e3'"),
    (["--algo", "ppo", "--n-envs", "0"], {}, 2, "argument --n-envs: give a positive integer, got 0"),
    (["--algo", "ppo", "--eval-episodes", "0"], {}, 2, "argument --eval-episodes: give a positive integer"),
    (["--algo", "ppo", "--eval-freq", "-1"], {}, 2, "argument --eval-freq: give an integer of at least 0"),
    (
        ["--algo", "ppo", "--env-kwargs", "N=abc"],
        {},
        1,
        "Bad --env-kwargs N='abc' for mpe2.simple_spread_v3: give an integer.",
    ),
    (
        ["--algo", "ppo", "--env-kwargs", "M=2"],
        {},
        1,
        "Unknown --env-kwargs key 'M': mpe2.simple_spread_v3 takes N,",
    ),
    (
        ["--algo", "ppo", "--env-kwargs", "max_cycles=[1"],
        {},
        1,
        "Bad --env-kwargs item 'max_cycles=[1': its value is not valid YAML.",
    ),
    (
        ["--algo", "madqn", "--hyperparams", "{tmp}/hp.yml"],
        {"hp.yml": yaml.safe_dump({SPREAD: {"learning_starts": "abc"}})},
        1,
        "Bad hyperparameter of madqn learning_starts='abc': give an integer.",
    ),
    (
        ["--algo", "ppo", "--hyperparams", "{tmp}/hp.yml"],
        {"hp.yml": yaml.safe_dump({SPREAD: {"gamma": "high"}})},
        1,
        "Bad hyperparameter of ppo gamma='high': give a number.",
    ),
    (
        ["--algo", "ppo", "--hyperparams", "{tmp}/hp.yml"],
        {"hp.yml": yaml.safe_dump({SPREAD: {"n_timesteps": -5}})},
        1,
        "Bad setting n_timesteps=-5: give a positive integer.",
    ),
    (
        ["--algo", "ppo", "--hyperparams", "{tmp}/hp.yml"],
        {"hp.yml": yaml.safe_dump({SPREAD: {"env_kwargs": {"N": "three"}}})},
        1,
        "Bad env_kwargs of the hyperparameters N='three' for mpe2.simple_spread_v3: give an integer.",
    ),
    (
        ["--algo", "ppo", "--hyperparams", "{tmp}/hp.yml"],
        {"hp.yml": "{learning_rate: [1"},
        1,
        "{tmp}/hp.yml is not valid YAML: ",
    ),
    (
        ["--algo", "ppo", "--hyperparams", "{tmp}/hp.yml"],
        {"hp.yml": yaml.safe_dump({SPREAD: 3})},
        1,
        f"The entry for '{SPREAD}' in {{tmp}}/hp.yml must be a mapping of hyperparameters.",
    ),
    (
        ["--algo", "madqn", "--mixer", "vdn", "--hyperparams", "{tmp}/hp.yml"],
        {"hp.yml": yaml.safe_dump({SPREAD: {"mixer_overrides": {"vdn": {"n_steps": 3}}}})},
        1,
        "madqn does not take n-step returns with a mixer, and the hyperparameters set n_steps=3: set",
    ),
    (
        ["--algo", "ppo", "--output", "{tmp}/a_file"],
        {"a_file": "x"},
        1,
        "--output {tmp}/a_file is a file: give a",
    ),
    (
        ["--algo", "ppo", "--timesteps", "10", "--output", "{tmp}/a_file/run"],
        {"a_file": "x"},
        1,
        "[Errno 20] Not a directory: '{tmp}/a_file/run'",
    ),
    (
        ["eval", "--model", "{tmp}/model.zip"],
        {"model.zip": "not a zip", "config.yml": GOOD_CONFIG},
        1,
        "Cannot load {tmp}/model.zip as a ppo model (ValueError: Error: the file {tmp}/model.zip wasn't",
    ),
    (
        ["eval", "--model", "{tmp}/model.zip"],
        {"model.zip": "", "config.yml": "algo: [ppo"},
        1,
        "{tmp}/config.yml is not valid YAML: ",
    ),
    (
        ["eval", "--model", "{tmp}/model.zip"],
        {"model.zip": "", "config.yml": ""},
        1,
        "{tmp}/config.yml is not a config saved by sb3-marl train (it holds nothing): give --algo and --env",
    ),
    (
        ["eval", "--model", "{tmp}/model.zip"],
        {"model.zip": "", "config.yml": "42"},
        1,
        "{tmp}/config.yml is not a config saved by sb3-marl train (it holds 42)",
    ),
    (
        ["eval", "--model", "{tmp}/model.zip"],
        {"model.zip": "", "config.yml": yaml.safe_dump({"algo": "ppo", "env": SPREAD, "env_kwargs": [1]})},
        1,
        "Bad entry env_kwargs=[1] in {tmp}/config.yml: give a mapping or null.",
    ),
    (
        ["eval", "--model", "{tmp}/m.zip", "--episodes", "0"],
        {},
        2,
        "argument --episodes: give a positive integer",
    ),
    (
        ["check", "--env", SPREAD, "--steps", "-1"],
        {},
        2,
        "argument --steps: give an integer of at least 0, got -1",
    ),
]


@pytest.mark.parametrize(("args", "files", "code", "message"), BAD_INPUTS)
def test_bad_input_gives_one_line(args, files, code, message, tmp_path, capsys):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] not in ("eval", "check"):
        args = [*TRAIN, *args]
    assert run_main(args) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"sb3-marl {args[0]}: error: {message.replace('{tmp}', str(tmp_path))}"), err
    assert not (tmp_path / "runs").exists()


def test_traceback_shows_the_error_itself():
    with pytest.raises(ValueError, match="Bad --env-kwargs N='abc'"):
        main(["--traceback", *TRAIN, "--algo", "ppo", "--env-kwargs", "N=abc"])


def test_unpickling_error_is_one_line(tmp_path, capsys):
    """A model.zip whose pickled parts are corrupted."""
    import zipfile

    from stable_baselines3 import PPO

    from sb3_marl import make_vec_env

    good = tmp_path / "good.zip"
    PPO("MlpPolicy", make_vec_env(SPREAD, env_kwargs={"max_cycles": 5}), n_steps=8, batch_size=8).save(good)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(tmp_path / "model.zip", "w") as target:
        for item in source.infolist():
            target.writestr(item, b"\x80garbage" if item.filename.endswith(".pth") else source.read(item))
    (tmp_path / "config.yml").write_text(GOOD_CONFIG)
    assert main(["eval", "--model", str(tmp_path / "model.zip"), "--no-progress-bar"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"sb3-marl eval: error: Cannot load {tmp_path}/model.zip")


def test_a_failed_rerun_leaves_the_saved_pair(tmp_path, monkeypatch):
    """config.yml is written with the model it describes: a rerun into the same folder that fails in
    training, or while saving the model, leaves the previous model and config as they were."""
    output = tmp_path / "run"
    args = [*TRAIN, "--algo", "ppo", "--timesteps", "50", "--n-envs", "1", "--eval-episodes", "1"]
    args += ["--env-kwargs", "max_cycles=5", "--output", str(output)]
    assert main(args) == 0
    saved = {name: (output / name).read_bytes() for name in ("model.zip", "config.yml")}

    from stable_baselines3 import PPO

    import sb3_marl.callbacks

    def fail(*args, **kwargs):
        raise RuntimeError("stopped")

    rerun = [*args, "--seed", "1"]
    with monkeypatch.context() as patch:
        patch.setattr(PPO, "learn", fail)
        with pytest.raises(RuntimeError, match="stopped"):
            main(rerun)
    with monkeypatch.context() as patch:
        patch.setattr(sb3_marl.callbacks, "save_model", fail)
        with pytest.raises(RuntimeError, match="stopped"):
            main(rerun)
    assert {name: (output / name).read_bytes() for name in saved} == saved
    assert sorted(p.name for p in output.iterdir()) == ["config.yml", "model.zip"]
    assert main(rerun) == 0
    assert yaml.safe_load((output / "config.yml").read_text())["seed"] == 1
