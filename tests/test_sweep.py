"""``sb3-marl sweep`` on an embedded Ray (2 CPUs, tiny budgets): trials, reports, table, resume."""

import csv
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from sb3_marl.cli import main
from sb3_marl.config import ConfigError
from sb3_marl.sweep import (
    INSTALL,
    RESULT_FILE,
    SweepConfig,
    grid_points,
    parse_grid,
    point_name,
    random_points,
    run_sweep,
    trial_folder,
)
from sb3_marl.training import TrainConfig

ENV = "mpe2.simple_spread_v3"
# 100 joint steps of 3 agents, evaluated at 150 and 300 timesteps and at the end
TINY = {"timesteps": 300, "n_envs": 1, "eval_freq": 150, "eval_episodes": 2}
TINY_ARGS = ["--timesteps", "300", "--n-envs", "1", "--eval-freq", "150", "--eval-episodes", "2"]


@pytest.fixture
def ray_shutdown():
    ray = pytest.importorskip("ray")
    yield
    ray.shutdown()


def test_grid_parsing_and_point_names():
    space = parse_grid(["learning_rate=1e-3,5e-4", "n_steps=1,3"])
    assert space == {"learning_rate": [0.001, 0.0005], "n_steps": [1, 3]}
    assert point_name({"learning_rate": 0.001}).startswith("learning_rate=0.001_")
    assert point_name({"a": "x/y"}) != point_name({"a": "xy"})  # the hash tells them apart
    assert random_points(space, 4, 0) == random_points(space, 4, 0)
    assert len({point_name(p) for p in random_points(space, 4, 1)}) == 4
    with pytest.raises(ConfigError, match="Bad --grid item 'learning_rate': give KEY=VALUE"):
        parse_grid(["learning_rate"])
    with pytest.raises(ConfigError, match="--samples 5 is more than the 4 combinations"):
        random_points(space, 5, 0)


def test_bad_settings_are_one_line_before_ray(capsys, tmp_path):
    code = main(
        ["sweep", "--env", ENV, "--algo", "madqn", "--grid", "no_such_key=1,2", "--output", str(tmp_path)]
    )
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err
    assert err.startswith("sb3-marl sweep: error: Point {'no_such_key': 1}:") and "no_such_key" in err
    with pytest.raises(ConfigError, match="ASHA stops trials at their evaluations: give --eval-freq"):
        SweepConfig(TrainConfig("madqn", ENV), str(tmp_path), scheduler="asha")
    assert not os.path.exists(tmp_path / "sweep.yml")


def test_without_ray_the_command_says_how_to_install(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    code = main(["sweep", "--env", ENV, "--algo", "madqn", *TINY_ARGS, "--output", str(tmp_path)])
    assert code == 1
    assert capsys.readouterr().err.strip() == f"sb3-marl sweep: error: {INSTALL}"
    assert INSTALL == 'Ray is not installed: pip install "sb3-marl[ray]"'


def test_optuna_missing_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "optuna", None)
    argv = [
        "sweep",
        "--env",
        ENV,
        "--algo",
        "madqn",
        "--grid",
        "learning_rate=1e-3,5e-4",
        "--search",
        "optuna",
    ]
    assert main([*argv, "--output", str(tmp_path)]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "sb3-marl sweep: error: --search optuna needs Optuna: pip install optuna"
    )


def test_two_seeds_two_points_make_four_trials_and_one_table(tmp_path, ray_shutdown):
    config = SweepConfig(
        TrainConfig("madqn", ENV, wandb_project="sweep-test", wandb_mode="offline", **TINY),
        str(tmp_path / "sweep"),
        seeds=[0, 1],
        space={"learning_rate": [1e-3, 5e-4]},
        cpus_per_trial=1,
        num_cpus=2,
        verbose=0,
    )
    result = run_sweep(config)
    assert len(result.results) == 4 and result.stopped == 0
    for point in ({"learning_rate": 1e-3}, {"learning_rate": 5e-4}):
        for seed in (0, 1):
            folder = trial_folder(config.output, point, seed)
            assert {"model.zip", "config.yml", RESULT_FILE} <= set(os.listdir(folder))
            assert glob.glob(os.path.join(folder, "wandb", "offline-run-*"))  # its W&B run, offline
            with open(os.path.join(folder, RESULT_FILE)) as file:
                saved = json.load(file)
            assert saved["point"] == point and saved["seed"] == seed
            assert [c["timesteps"] for c in saved["curve"]] == [150, 300, 300]
    # what Tune received: the team return at each evaluation and at the end, for each of the 4 trials
    progress = sorted((tmp_path / "sweep" / "tune").glob("*/progress.csv"))
    assert len(progress) == 4
    for path in progress:
        with open(path) as file:
            rows = list(csv.DictReader(file))
        assert [int(r["timesteps"]) for r in rows] == [150, 300, 300]
        assert all(float(r["team_return"]) < 0 for r in rows)  # simple_spread's returns are negative
    header, _, *rows = result.table
    assert header.startswith("| learning_rate | seeds | team return (final, mean ± 95% CI)")
    assert len(rows) == 2 and all("| 0, 1 |" in row and " ± " in row for row in rows)
    with open(result.table_path) as file:
        assert file.read().count("\n| 0.") == 2
    assert result.plot_path is not None and os.path.getsize(result.plot_path) > 0


def test_optuna_suggests_distinct_points_each_run_on_every_seed(tmp_path, ray_shutdown):
    # with search seed 3 Optuna's TPE suggests (5e-4, 200) twice: the second is replaced by an unseen point
    space = {"learning_rate": [1e-3, 5e-4], "target_update_interval": [100, 200]}
    config = SweepConfig(
        TrainConfig("madqn", ENV, **TINY),
        str(tmp_path / "sweep"),
        seeds=[0, 1],
        space=space,
        search="optuna",
        samples=2,
        search_seed=3,
        cpus_per_trial=1,
        num_cpus=2,
        verbose=0,
    )
    result = run_sweep(config)
    assert len(result.results) == 4 and result.stopped == 0
    seeds_of = {}
    for saved in result.results:
        seeds_of.setdefault(point_name(saved["point"]), []).append(saved["seed"])
        assert [c["timesteps"] for c in saved["curve"]] == [150, 300, 300]
    points = [r["point"] for r in result.results]
    assert len(seeds_of) == 2 and all(sorted(s) == [0, 1] for s in seeds_of.values())
    assert all(point in grid_points(space) for point in points)
    # what Tune ran: each point Optuna suggested, once per seed (Repeater's index), with the same values
    params = [json.loads(p.read_text()) for p in (tmp_path / "sweep" / "tune").glob("*/params.json")]
    indices = {}
    for trial in params:
        point = {k: trial[k] for k in space}
        indices.setdefault(point_name(point), []).append(trial["__trial_index__"])
    assert len(params) == 4 and {k: sorted(v) for k, v in indices.items()} == {k: [0, 1] for k in seeds_of}
    header, _, *rows = result.table
    assert header.startswith("| learning_rate | target_update_interval | seeds |")
    assert len(rows) == 2 and all("| 0, 1 |" in row for row in rows)


def _sweep_command(output):
    return [
        sys.executable, "-m", "sb3_marl", "sweep", "--env", ENV, "--algo", "madqn", "--seeds", "0", "1",
        *TINY_ARGS, "--cpus-per-trial", "2", "--num-cpus", "2", "--wandb-mode", "disabled", "--verbose", "0",
        "--output", str(output),
    ]  # fmt: skip


def test_a_killed_sweep_resumes_without_rerunning_its_finished_trial(tmp_path, ray_shutdown):
    output = tmp_path / "sweep"
    first, second = (os.path.join(trial_folder(str(output), {}, s), RESULT_FILE) for s in (0, 1))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(_sweep_command(output), env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not os.path.exists(first) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert os.path.exists(first), "the first trial did not finish"
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the sweep and the Ray it started (its own session)
        process.wait()
    assert not os.path.exists(second)  # one trial at a time (2 CPUs each): the second had not finished
    stamp = os.stat(first).st_mtime_ns
    model_stamp = os.stat(os.path.join(os.path.dirname(first), "model.zip")).st_mtime_ns
    done = subprocess.run(_sweep_command(output), env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 finished trials" in done.stdout
    assert os.path.exists(second)
    assert os.stat(first).st_mtime_ns == stamp  # not trained again
    assert os.stat(os.path.join(os.path.dirname(first), "model.zip")).st_mtime_ns == model_stamp


def test_asha_receives_each_evaluation_and_stops_trials_below_its_cutoff(tmp_path, ray_shutdown):
    # one trial at a time (2 CPUs each), so ASHA's decisions at its rung (150 timesteps) follow the seeds
    config = SweepConfig(
        TrainConfig("madqn", ENV, **TINY),
        str(tmp_path / "sweep"),
        seeds=[0, 1, 2],
        scheduler="asha",
        cpus_per_trial=2,
        num_cpus=2,
        verbose=0,
    )
    result = run_sweep(config)
    reported = {}
    for folder in (tmp_path / "sweep" / "tune").glob("*/"):
        if (folder / "progress.csv").is_file():
            with open(folder / "progress.csv") as file:
                rows = list(csv.DictReader(file))
            seed = json.loads((folder / "params.json").read_text())["seed"]
            reported[seed] = [(int(r["timesteps"]), float(r["team_return"])) for r in rows]
    assert sorted(reported) == [0, 1, 2]
    finished = sorted(r["seed"] for r in result.results)
    stopped = [s for s in reported if s not in finished]  # their folders hold no result.json
    assert result.stopped == len(stopped) >= 1
    assert all(os.path.isdir(trial_folder(config.output, {}, s)) for s in stopped)
    at_rung = {s: rows[0][1] for s, rows in reported.items()}
    for seed, rows in reported.items():
        if seed in stopped:  # stopped at the first evaluation, below the best return seen there
            assert [t for t, _ in rows] == [150] and at_rung[seed] < max(at_rung.values())
        else:
            assert [t for t, _ in rows] == [150, 300, 300]
    assert result.table[2].startswith(f"| {', '.join(map(str, finished))} |")  # one row, finished seeds
