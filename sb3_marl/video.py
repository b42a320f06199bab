"""Videos of episodes, written with ``imageio``: ``.mp4`` through ``imageio-ffmpeg``, which brings its own
ffmpeg binary (``pip install 'sb3-marl[video]'``), and ``.gif`` through Pillow."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import Any, BinaryIO, cast

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_marl.evaluation import (
    AgentPolicy,
    MultiAgentPolicy,
    PettingZooEnv,
    WrapperClass,
    make_env,
    run_episode,
)
from sb3_marl.files import atomic_write

# What each format needs: the modules, and the pip arguments that install them.
_NEEDS = {
    ".mp4": (("imageio", "imageio_ffmpeg"), "'imageio[ffmpeg]'"),
    ".gif": (("imageio", "PIL"), "imageio pillow"),
}


def check_video_support(path: str) -> None:
    """Raise a clear error now, rather than after an episode was filmed, if ``path`` cannot be written:
    ``.gif`` needs ``imageio`` (with Pillow), ``.mp4`` needs ``imageio[ffmpeg]``.

    :param path: the video file to be written
    """
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in _NEEDS:
        raise ValueError(f"Cannot write a video to {path!r}: give a .gif or .mp4 file.")
    modules, pip_args = _NEEDS[suffix]
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"Writing {suffix} videos needs {', '.join(missing)}: pip install {pip_args} "
            "(or the extra: pip install 'sb3-marl[video]')"
        )


def write_video(frames: np.ndarray, path: str, fps: float) -> str:
    """Write frames to a ``.gif`` or ``.mp4`` file, whole (a temporary file renamed when complete). An
    MP4 frame of odd height or width gets one more row or column, a copy of its last, as H.264 needs.

    :param frames: shape ``(time, height, width, 3)``, uint8
    :param path: the file to write
    :param fps: frames per second
    :return: the path written
    """
    check_video_support(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(
            f"Video frames must be uint8 of shape (time, height, width, 3) with at least one frame, got "
            f"{frames.dtype} {frames.shape}."
        )
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}.")
    import imageio.v3 as iio

    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".mp4":
        odd = ((0, 0), (0, frames.shape[1] % 2), (0, frames.shape[2] % 2), (0, 0))
        frames = np.pad(frames, odd, mode="edge")
        kwargs: dict[str, Any] = {"fps": fps, "macro_block_size": 2}
    else:
        kwargs = {"duration": 1000 / fps, "loop": 0}
    with atomic_write(path) as file:
        iio.imwrite(cast(BinaryIO, file), frames, extension=suffix, **kwargs)
    return path


def record_video(
    model: BaseAlgorithm | AgentPolicy,
    env: str | Callable[..., PettingZooEnv],
    env_kwargs: dict[str, Any] | None = None,
    wrapper_class: WrapperClass | None = None,
    deterministic: bool = True,
    seed: int | None = None,
) -> tuple[np.ndarray, float]:
    """Frames of one episode, the env made with ``render_mode="rgb_array"``.

    :return: the frames, shape ``(time, height, width, 3)``, uint8, and the env's frame rate
    """
    pz_env = make_env(env, env_kwargs, wrapper_class, render_mode="rgb_array")
    try:
        policy = MultiAgentPolicy(model, pz_env, deterministic) if isinstance(model, BaseAlgorithm) else model
        frames: list[np.ndarray] = []

        def film() -> None:
            frame = pz_env.render()
            if not isinstance(frame, np.ndarray):
                raise ValueError(f"The env's render() gave {type(frame).__name__}, not an rgb_array frame.")
            frames.append(frame)

        run_episode(policy, pz_env, seed, on_step=film)
        fps = float(pz_env.metadata.get("render_fps", 30))
    finally:
        pz_env.close()
    return np.stack(frames).astype(np.uint8), fps
