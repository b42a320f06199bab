"""W&B: a short offline run read back from its own ``.wandb`` file (history, config, artifacts), the
logger output, the offline default, and training that goes on when W&B fails."""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import json
import os
import struct
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import stable_baselines3
import torch as th
from envs_for_tests import Capture
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HParam, Logger

import sb3_marl
from sb3_marl.envs import make_vec_env
from sb3_marl.integrations.wandb import MultiAgentWandbCallback, WandbOutputFormat, init_wandb
from sb3_marl.madqn import MADQN

wandb = pytest.importorskip("wandb")
from wandb.proto import wandb_internal_pb2  # noqa: E402

SPREAD = "mpe2.simple_spread_v3"
SHORT = {"max_cycles": 10}
BLOCK = 32 * 1024  # the .wandb file is a LevelDB-style log: 32 KiB blocks of 7-byte-headed records


@pytest.fixture(autouse=True)
def wandb_home(tmp_path, monkeypatch):
    """Keep W&B's cache, staging and settings in the test's folder, and torch on one thread."""
    for name in ("WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "wandb_home" / name.lower()))
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)


def read_records(path: str) -> Iterator[Any]:
    """The protobuf records of an offline run's ``.wandb`` file."""
    with open(path, "rb") as file:
        data = file.read()
    assert data[:4] == b":W&B", "not a W&B transaction log"
    pos, chunk = 7, b""
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:  # a block's tail too short for a header is padding
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if length == 0 and kind == 0:
            pos += left
            continue
        payload = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        chunk = payload if kind in (1, 2) else chunk + payload  # FULL, FIRST | MIDDLE, LAST
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunk)
            yield record


def _items(items: Any) -> dict[str, Any]:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


def read_run(run_dir: str) -> dict[str, Any]:
    """History rows by step, the config and the artifacts (name, aliases, metadata) of an offline run."""
    (path,) = glob.glob(os.path.join(run_dir, "run-*.wandb"))
    history: dict[int, dict[str, Any]] = {}
    config: dict[str, Any] = {}
    artifacts = []
    for record in read_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            row = _items(record.history.item)
            history.setdefault(int(row["_step"]), {}).update(row)
        elif kind == "run":
            config.update(_items(record.run.config.update))
        elif kind == "config":
            config.update(_items(record.config.update))
        elif kind == "artifact":
            artifacts.append(
                (record.artifact.name, list(record.artifact.aliases), json.loads(record.artifact.metadata))
            )
    return {"history": history, "config": config, "artifacts": artifacts}


class TeamReturns(BaseCallback):
    """Collects the team return of every episode, independently of the W&B callback."""

    def __init__(self) -> None:
        super().__init__()
        self.returns: list[float] = []

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        self.returns += [info["team_episode"]["r"] for info in infos[::3] if "team_episode" in info]
        return True


class AddCapture(BaseCallback):
    """Adds a capturing writer to the model's logger (made in ``learn``)."""

    def __init__(self, capture: Capture) -> None:
        super().__init__()
        self.capture = capture

    def _init_callback(self) -> None:
        self.model.logger.output_formats.append(self.capture)

    def _on_step(self) -> bool:
        return True


def test_offline_run_logs_what_the_run_produced(tmp_path):
    env = make_vec_env(SPREAD, n_envs=2, seed=0, env_kwargs=SHORT)
    run = init_wandb("sb3-marl-tests", config={"note": "test"}, dir=str(tmp_path))
    assert run is not None and run.settings.mode == "offline"
    model = MADQN(
        "MlpPolicy", env, learning_starts=60, batch_size=16, seed=0, policy_kwargs={"dueling": True}
    )
    capture, team = Capture(), TeamReturns()
    callback = MultiAgentWandbCallback(env_id=SPREAD, env_kwargs=SHORT, save_freq=300)
    model.learn(600, callback=[AddCapture(capture), team, callback], log_interval=2)  # team episodes
    run_dir = os.path.dirname(run.dir)
    run.finish()
    wandb.teardown()  # the W&B service may still be writing the run's file after finish()
    logged = read_run(run_dir)

    # every value SB3 dumped reached W&B at its step, with the value the logger had
    history = logged["history"]
    for step, values in capture.dumps.items():
        row = history[step]
        for key, value in values.items():
            assert row[key] == pytest.approx(float(value), rel=1e-6), key
    last = history[max(capture.dumps)]
    for key in (
        "train/loss",
        "train/td_error_mean",
        "train/beta",
        "train/priority_mean",
        "train/priority_max",
        "train/is_weight_mean",
        "rollout/inactive_share",
    ):
        assert any(key in row for row in history.values()), key
    # the team return is the mean of the episodes' team returns (fewer than the 100 of the window)
    assert len(team.returns) == 20
    assert last["rollout/team_return_mean"] == pytest.approx(np.mean(team.returns))
    assert list(callback.team_returns) == pytest.approx(team.returns)
    agent_returns = [last[f"rollout/agents/agent_{k}/return_mean"] for k in range(3)]
    assert sum(agent_returns) == pytest.approx(np.mean(team.returns))
    assert last["rollout/agents/agent_0/length_mean"] == 10

    config = logged["config"]
    assert config["note"] == "test" and config["algo"] == "MADQN"
    assert config["hyperparams"]["learning_starts"] == 60 and config["hyperparams"]["batch_size"] == 16
    assert config["hyperparams"]["policy_kwargs"] == {"dueling": True}
    assert config["hyperparams"]["prioritized_replay_alpha"] == model.prioritized_replay_alpha
    assert config["env"]["id"] == SPREAD and config["env"]["kwargs"] == SHORT
    assert config["env"]["agents"] == ["agent_0", "agent_1", "agent_2"] and config["env"]["num_copies"] == 2
    assert config["versions"]["stable-baselines3"] == stable_baselines3.__version__
    assert config["versions"]["sb3-marl"] == sb3_marl.__version__
    assert config["versions"]["torch"] == th.__version__

    # checkpoints at 300 and 600 timesteps and at the end, whole, each an artifact version
    assert [os.path.basename(p) for p in callback.checkpoints] == [
        "model_300_steps.zip",
        "model_600_steps.zip",
        "model_final.zip",
    ]
    assert MADQN.load(callback.checkpoints[-1]).num_timesteps == 600
    assert [(name, set(aliases)) for name, aliases, _ in logged["artifacts"]] == [
        (f"model-{run.id}", {"latest", "step-300"}),
        (f"model-{run.id}", {"latest", "step-600"}),
        (f"model-{run.id}", {"latest", "step-600", "final"}),
    ]
    assert logged["artifacts"][0][2]["num_timesteps"] == 300
    assert not glob.glob(os.path.join(run_dir, "checkpoints", ".*tmp"))


def test_mode_is_offline_unless_chosen(tmp_path, monkeypatch):
    run = init_wandb("p", dir=str(tmp_path))
    assert run.settings.mode == "offline"
    run.finish()
    monkeypatch.setenv("WANDB_MODE", "disabled")
    run = init_wandb("p", dir=str(tmp_path))
    assert run.settings.mode == "disabled"
    run.finish()
    run = init_wandb("p", mode="offline", dir=str(tmp_path))
    assert run.settings.mode == "offline"
    run.finish()


def test_training_goes_on_when_wandb_does_not_start(tmp_path, monkeypatch):
    def failing_init(*args: Any, **kwargs: Any) -> None:
        raise wandb.errors.UsageError("no login")

    monkeypatch.setattr(wandb, "init", failing_init)
    with pytest.warns(RuntimeWarning, match="no login") as record:
        run = init_wandb("p", mode="online", dir=str(tmp_path))
    assert run is None and len(record) == 1

    env = make_vec_env(SPREAD, n_envs=1, seed=0, env_kwargs=SHORT)
    model = MADQN("MlpPolicy", env, learning_starts=30, seed=0)
    callback = MultiAgentWandbCallback(run, save_path=str(tmp_path / "checkpoints"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model.learn(90, callback=callback)
    assert model.num_timesteps >= 90
    assert [os.path.basename(p) for p in callback.checkpoints] == ["model_final.zip"]


class FakeRun:
    """Records what is logged; ``fail`` makes ``log`` raise."""

    def __init__(self, folder: str = "", fail: bool = False) -> None:
        self.fail = fail
        self.logged: list[tuple[dict[str, Any], int]] = []
        self.config = FakeConfig()
        self.dir = os.path.join(folder, "files")
        self.id = "fake"

    def log(self, data: dict[str, Any], step: int) -> None:
        if self.fail:
            raise ConnectionError("W&B is down")
        self.logged.append((data, step))


class FakeConfig(dict):
    def update(self, values: Any = (), allow_val_change: bool = False, **kwargs: Any) -> None:  # type: ignore[override]
        super().update(values, **kwargs)


def test_output_format_converts_and_excludes():
    run = FakeRun()
    logger = Logger(folder=None, output_formats=[WandbOutputFormat(run)])
    logger.record("a/float", 1.5)
    logger.record("a/numpy", np.float32(2.5))
    logger.record("a/int", 3)
    logger.record("a/tensor", th.tensor(4.0))
    logger.record("a/text", "hello")
    logger.record("a/hist", np.arange(10.0))
    logger.record("a/hidden", 5.0, exclude="wandb")
    logger.record("hparams", HParam({"lr": 0.1}, {"a/float": 0}))
    logger.dump(step=42)
    ((data, step),) = run.logged
    assert step == 42
    assert (
        data["a/float"] == 1.5 and data["a/numpy"] == 2.5 and data["a/int"] == 3 and data["a/tensor"] == 4.0
    )
    assert data["a/text"] == "hello" and isinstance(data["a/hist"], wandb.Histogram)
    assert "a/hidden" not in data and "hparams" not in data
    assert run.config == {"lr": 0.1}


def test_logging_failure_warns_once_and_training_goes_on(tmp_path):
    run = FakeRun(str(tmp_path), fail=True)
    env = make_vec_env(SPREAD, n_envs=1, seed=0, env_kwargs=SHORT)
    model = MADQN("MlpPolicy", env, learning_starts=30, seed=0)
    with pytest.warns(RuntimeWarning, match="W&B is down") as record:
        callback = MultiAgentWandbCallback(run)
        model.learn(150, callback=callback, log_interval=1)
    assert len([w for w in record if issubclass(w.category, RuntimeWarning)]) == 1
    assert model.num_timesteps >= 150
    assert callback.run is None and callback.checkpoints == [
        str(tmp_path / "checkpoints" / "model_final.zip")
    ]
    assert not any(isinstance(f, WandbOutputFormat) for f in model.logger.output_formats)


def test_videos_need_a_video_writer(monkeypatch):
    find_spec = importlib.util.find_spec
    def without_ffmpeg(name, *args):  # as on a machine without the video extra
        return None if name == "imageio_ffmpeg" else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_ffmpeg)
    with pytest.raises(ImportError, match=r"imageio\[ffmpeg\]"):
        MultiAgentWandbCallback(video_env=SPREAD)


def test_blank_wandb_mode_counts_as_unset(tmp_path, monkeypatch):
    wandb.teardown()  # wandb reads the environment when it first sets up in a process
    monkeypatch.setenv("WANDB_MODE", " ")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = init_wandb("p", dir=str(tmp_path))
    assert run.settings.mode == "offline" and not run.disabled
    assert os.environ["WANDB_MODE"] == " "  # the user's environment is left as it was
    run.finish()


def test_unknown_mode_is_refused(tmp_path, monkeypatch):
    with pytest.raises(
        ValueError, match=r"Unknown W&B mode 'ofline' \(from mode\): use one of offline, online"
    ):
        init_wandb("p", mode="ofline", dir=str(tmp_path))
    monkeypatch.setenv("WANDB_MODE", "onlin")
    with pytest.raises(ValueError, match=r"Unknown W&B mode 'onlin' \(from WANDB_MODE\)"):
        init_wandb("p", dir=str(tmp_path))


def test_wandb_that_cannot_start_gives_a_disabled_run(tmp_path, monkeypatch):
    """The README's snippet runs to its end: learn() and run.finish() on the run init_wandb returned."""
    real_init = wandb.init

    def init(*args: Any, mode: str = "online", **kwargs: Any) -> Any:
        if mode != "disabled":
            raise wandb.errors.UsageError("cannot write the run's folder")
        return real_init(*args, mode=mode, **kwargs)

    monkeypatch.setattr(wandb, "init", init)
    with pytest.warns(RuntimeWarning) as record:
        run = init_wandb("p", dir=str(tmp_path))
    assert [str(w.message) for w in record] == [
        "W&B did not start (UsageError: cannot write the run's folder); training goes on without W&B "
        "(init_wandb returned a disabled run, whose calls do nothing)."
    ]
    assert run.disabled
    env = make_vec_env(SPREAD, n_envs=1, seed=0, env_kwargs=SHORT)
    model = MADQN("MlpPolicy", env, learning_starts=30, seed=0)
    callback = MultiAgentWandbCallback(run, save_path=str(tmp_path / "checkpoints"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model.learn(60, callback=callback)
        run.finish()
    assert callback.run is None  # a disabled run counts as none: no W&B output in the logger
    assert not any(isinstance(f, WandbOutputFormat) for f in model.logger.output_formats)
    assert [os.path.basename(p) for p in callback.checkpoints] == ["model_final.zip"]


def test_online_run_waits_a_bounded_time_then_logs_offline(tmp_path, monkeypatch, capsys):
    """No server answers (a closed local port): after ``init_timeout`` seconds the run is offline."""
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    start = time.monotonic()
    with pytest.warns(RuntimeWarning) as record:
        run = init_wandb("p", mode="online", dir=str(tmp_path), init_timeout=2)
    elapsed = time.monotonic() - start
    assert capsys.readouterr().err.splitlines()[0] == (
        "W&B: starting an online run, waiting at most 2 s for the server (then the run is offline: upload "
        "it later with `wandb sync`)."
    )
    ((warning,),) = [record]
    run_dir = os.path.dirname(run.dir)
    assert str(warning.message).startswith("W&B did not start online (CommError: ")
    assert str(warning.message).endswith(f"logging offline instead (upload later: wandb sync {run_dir}).")
    assert run.settings.mode == "offline" and run_dir.startswith(str(tmp_path))
    assert elapsed < 20
    run.finish()


def test_checkpoint_failure_warns_once_and_training_goes_on(tmp_path):
    blocked = tmp_path / "checkpoints"
    blocked.write_text("a file where the checkpoint folder should be")
    env = make_vec_env(SPREAD, n_envs=1, seed=0, env_kwargs=SHORT)
    model = MADQN("MlpPolicy", env, learning_starts=30, seed=0)
    callback = MultiAgentWandbCallback(save_freq=30, save_path=str(blocked))
    with pytest.warns(RuntimeWarning) as record:
        model.learn(120, callback=callback)
    assert [str(w.message) for w in record] == [
        f"Could not save checkpoint model_30_steps.zip in {blocked} (FileExistsError: [Errno 17] File "
        f"exists: '{blocked}'); training goes on, and later checkpoints are tried without another warning."
    ]
    assert model.num_timesteps == 120 and callback.checkpoints == []
    blocked.unlink()  # the folder can be made again: the next checkpoint is saved
    assert callback.save_checkpoint(final=True) == str(blocked / "model_final.zip")


def _digest(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def test_offline_checkpoints_are_stored_once(tmp_path):
    """The artifact refers to the checkpoint file: no copy in W&B's staging or cache folders."""
    env = make_vec_env(SPREAD, n_envs=1, seed=0, env_kwargs=SHORT)
    run = init_wandb("p", dir=str(tmp_path / "run"))
    model = MADQN("MlpPolicy", env, learning_starts=30, seed=0)
    callback = MultiAgentWandbCallback(run, save_freq=60)
    model.learn(120, callback=callback)
    run_dir = os.path.dirname(run.dir)
    run.finish()
    wandb.teardown()
    assert [os.path.basename(p) for p in callback.checkpoints] == [
        "model_60_steps.zip",
        "model_120_steps.zip",
        "model_final.zip",
    ]
    # every file under the test's folder: the run, and W&B's home folders (see the wandb_home fixture)
    stored = [_digest(os.path.join(root, name)) for root, _, names in os.walk(tmp_path) for name in names]
    checkpoints = [_digest(path) for path in callback.checkpoints]
    assert all(stored.count(digest) == checkpoints.count(digest) for digest in checkpoints)
    assert [set(aliases) for _, aliases, _ in read_run(run_dir)["artifacts"]] == [
        {"latest", "step-60"},
        {"latest", "step-120"},
        {"latest", "step-120", "final"},
    ]
