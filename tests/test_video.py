"""Videos that work: MP4 through imageio-ffmpeg (its own ffmpeg binary) and GIF through Pillow, written by
one function for ``sb3-marl eval --video``, the W&B callback's ``video_env`` and SB3's ``Video`` values,
each read back frame by frame."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest
import torch as th
import yaml
from stable_baselines3.common.logger import Logger, Video

from sb3_marl.cli import main
from sb3_marl.envs import make_vec_env
from sb3_marl.madqn import MADQN
from sb3_marl.video import check_video_support, write_video

iio = pytest.importorskip("imageio.v3")
pytest.importorskip("imageio_ffmpeg")
pytest.importorskip("PIL")

SPREAD = "mpe2.simple_spread_v3"
CYCLES = 5  # an episode is the reset and 5 steps: 6 frames of 700 x 700
FRAMES = (CYCLES + 1, 700, 700, 3)


@pytest.fixture(autouse=True)
def wandb_home(tmp_path, monkeypatch):
    """Keep W&B offline and its cache, staging and settings in the test's folder."""
    for name in ("WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "wandb_home" / name.lower()))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")


def mp4_files(folder: str) -> list[str]:
    """Every MP4 file under ``folder``, once (W&B's ``latest-run`` links to the run's folder)."""
    return sorted(
        {os.path.realpath(p) for p in glob.glob(os.path.join(folder, "**", "*.mp4"), recursive=True)}
    )


def test_mp4_and_gif_read_back(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (7, 33, 50, 3), dtype=np.uint8)
    mp4 = write_video(frames, str(tmp_path / "clip.mp4"), fps=12.5)
    video = iio.imread(mp4)
    assert video.shape == (7, 34, 50, 3)  # H.264 needs an even height: the last row is repeated
    assert iio.immeta(mp4)["fps"] == 12.5 and iio.immeta(mp4)["codec"] == "h264"
    gif = write_video(frames, str(tmp_path / "clip.gif"), fps=10)
    assert iio.imread(gif).shape[:3] == (7, 33, 50) and iio.immeta(gif)["duration"] == 100
    assert sorted(os.listdir(tmp_path)) == ["clip.gif", "clip.mp4"]  # no temporary files left


def test_bad_frames_and_files_get_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"Cannot write a video to 'x\.avi': give a \.gif or \.mp4 file\."):
        check_video_support("x.avi")
    with pytest.raises(
        ValueError, match=r"must be uint8 of shape \(time, height, width, 3\).*float64 \(2, 4, 4\)"
    ):
        write_video(np.zeros((2, 4, 4)), str(tmp_path / "x.mp4"), fps=10)
    with pytest.raises(ValueError, match="fps must be positive, got 0"):
        write_video(np.zeros((2, 4, 4, 3), np.uint8), str(tmp_path / "x.mp4"), fps=0)
    assert not os.path.exists(tmp_path / "x.mp4")


def test_eval_command_films_an_episode(tmp_path, capsys):
    hyperparams = tmp_path / "hp.yml"
    hyperparams.write_text(yaml.safe_dump({SPREAD: {"learning_starts": 10_000, "buffer_size": 1000}}))
    output = tmp_path / "run"
    quiet = ["--verbose", "0", "--no-progress-bar"]
    train = ["train", "--env", SPREAD, "--algo", "madqn", "--timesteps", "30", "--n-envs", "1"]
    train += ["--env-kwargs", f"max_cycles={CYCLES}", "--hyperparams", str(hyperparams)]
    assert main([*train, "--output", str(output), "--eval-episodes", "1", *quiet]) == 0
    video = tmp_path / "episode.mp4"
    evaluate = ["eval", "--model", str(output / "model.zip"), "--episodes", "1", "--no-progress-bar"]
    assert main([*evaluate, "--video", str(video)]) == 0
    assert f"Saved a video of one episode to {video}" in capsys.readouterr().out
    assert iio.imread(video).shape == FRAMES


def test_wandb_callback_films_the_video_env_into_the_run(tmp_path):
    import wandb

    from sb3_marl.integrations.wandb import MultiAgentWandbCallback, init_wandb

    run = init_wandb("p", dir=str(tmp_path))
    venv = make_vec_env(SPREAD, n_envs=1, seed=0, env_kwargs={"max_cycles": CYCLES})
    model = MADQN("MlpPolicy", venv, learning_starts=10_000, seed=0)
    callback = MultiAgentWandbCallback(
        run, video_env=SPREAD, video_env_kwargs={"max_cycles": CYCLES}, video_freq=15
    )
    model.learn(30, callback=callback)
    run_dir = os.path.dirname(run.dir)
    run.finish()
    wandb.teardown()
    # at 15 and 30 timesteps and at the end, each once, in the run's media folder only
    videos = mp4_files(str(tmp_path))
    assert len(videos) == 3 and all(
        v.startswith(os.path.join(run_dir, "files", "media", "videos")) for v in videos
    )
    assert all(iio.imread(v).shape == FRAMES for v in videos)


def test_sb3_video_values_reach_wandb_as_mp4(tmp_path):
    """SB3's ``Video`` (TensorBoard's (batch, time, channels, height, width), floats in [0, 1])."""
    import wandb

    from sb3_marl.integrations.wandb import WandbOutputFormat, init_wandb

    run = init_wandb("p", dir=str(tmp_path))
    logger = Logger(folder=None, output_formats=[WandbOutputFormat(run)])
    frames = th.zeros(1, 4, 3, 9, 10)
    frames[0, :, 0] = 1.0  # red
    logger.record("media/clip", Video(frames, fps=5))
    logger.dump(step=1)
    run.finish()
    wandb.teardown()
    (path,) = mp4_files(str(tmp_path))
    video = iio.imread(path)
    assert video.shape == (4, 10, 10, 3)  # the odd height padded
    assert video[..., 0].mean() > 200 and video[..., 1:].mean() < 50
