"""Weights & Biases for multi-agent SB3 runs. ``wandb`` is imported only when a run is started or used.

Everything the SB3 logger records reaches W&B through :class:`WandbOutputFormat`, an SB3 ``KVWriter``
(the same path as the console, CSV and TensorBoard outputs, at the same step). wandb's own
``WandbCallback`` is not used: it takes metrics from TensorBoard files (``sync_tensorboard``), which
needs TensorBoard and loses what is excluded from it, and it raises when no run is active.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.logger import Figure, HParam, Image, KVWriter, Video, filter_excluded_keys

from sb3_marl.callbacks import MultiAgentStatsCallback, save_model
from sb3_marl.evaluation import WrapperClass
from sb3_marl.integrations.run_config import jsonable, run_config
from sb3_marl.video import check_video_support, record_video, write_video

_MODES = ("offline", "online", "disabled", "shared")


def _warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def _warn_failure(error: Exception) -> None:
    _warn(f"W&B failed ({_describe(error)}); training goes on without W&B.")


@contextlib.contextmanager
def _blank_wandb_mode_unset() -> Iterator[None]:
    """Hide a blank ``WANDB_MODE`` from wandb, which refuses it, for the duration."""
    blank = os.environ.get("WANDB_MODE")
    if blank is None or blank.strip():
        yield
        return
    del os.environ["WANDB_MODE"]
    try:
        yield
    finally:
        os.environ["WANDB_MODE"] = blank


def init_wandb(
    project: str = "sb3-marl",
    mode: str | None = None,
    config: dict[str, Any] | None = None,
    dir: str | None = None,
    init_timeout: float = 30.0,
    **init_kwargs: Any,
) -> Any | None:
    """Start a W&B run, offline unless asked otherwise; training never waits long or stops for W&B.

    The mode is ``mode`` when given, else the ``WANDB_MODE`` environment variable when set and not
    blank, else ``"offline"``: an offline run writes everything under ``<dir>/wandb/offline-run-*`` and
    is uploaded later with ``wandb sync <that folder>``. An online run says that it waits at most
    ``init_timeout`` seconds for the server; if it cannot start, the run is offline instead. If W&B
    cannot start at all, this warns once and returns wandb's disabled run (its ``log``, ``finish``, ...
    do nothing), or None if even that fails (wandb not installed), and training goes on without W&B.

    :param project: the W&B project
    :param mode: ``"online"``, ``"offline"``, ``"disabled"`` or ``"shared"``
    :param config: the run's config
    :param dir: the folder the run's files go under (made if missing)
    :param init_timeout: seconds an online run waits for the server before it is started offline
    :param init_kwargs: more arguments for ``wandb.init`` (``name``, ``tags``, ``group``, ``settings``, ...)
    :return: the run, a disabled run, or None
    """
    # Read here, not left to wandb, which reads the environment once per process
    source = "mode" if mode else "WANDB_MODE"
    mode = mode or os.environ.get("WANDB_MODE", "").strip() or "offline"
    if mode not in _MODES:
        raise ValueError(f"Unknown W&B mode {mode!r} (from {source}): use one of {', '.join(_MODES)}.")
    settings = init_kwargs.pop("settings", None)
    if settings is None or isinstance(settings, dict):
        settings = {"init_timeout": init_timeout, **(settings or {})}
    modes = list(dict.fromkeys([mode, *(["offline"] if mode == "online" else []), "disabled"]))
    errors: dict[str, None] = {}  # the distinct failures, in order
    try:
        import wandb

        if dir is not None:
            os.makedirs(dir, exist_ok=True)
    except Exception as error:
        _warn(f"W&B did not start ({_describe(error)}); training goes on without W&B.")
        return None
    with _blank_wandb_mode_unset():
        for attempt in modes:
            if attempt == "online":
                print(
                    f"W&B: starting an online run, waiting at most {init_timeout:g} s for the server "
                    "(then the run is offline: upload it later with `wandb sync`).",
                    file=sys.stderr,
                )
            try:
                run = wandb.init(
                    project=project,
                    mode=attempt,  # type: ignore[arg-type]
                    config=config,
                    dir=dir,
                    settings=settings,
                    **init_kwargs,
                )
            except Exception as error:
                errors[_describe(error)] = None
                continue
            reason = "; ".join(errors)
            if attempt == "offline" and errors:
                run_dir = os.path.dirname(run.dir)
                _warn(
                    f"W&B did not start online ({reason}); logging offline instead (upload later: "
                    f"wandb sync {run_dir})."
                )
            elif attempt == "disabled" and attempt != mode:
                _warn(
                    f"W&B did not start ({reason}); training goes on without W&B (init_wandb returned a "
                    "disabled run, whose calls do nothing)."
                )
            return run
    _warn(f"W&B did not start ({'; '.join(errors)}); training goes on without W&B.")
    return None


def _video_frames(frames: np.ndarray) -> np.ndarray:
    """SB3's ``Video`` frames, ``(time, channels, height, width)`` or TensorBoard's ``(batch, time,
    channels, height, width)`` (the batch side by side), uint8 or floats in [0, 1], as uint8
    ``(time, height, width, 3)``."""
    if frames.ndim == 5:
        frames = np.concatenate(list(frames), axis=-1)
    if frames.ndim != 4 or frames.shape[1] not in (1, 3):
        raise ValueError(f"SB3 Video frames must be (time, 1 or 3, height, width), got shape {frames.shape}.")
    if frames.dtype != np.uint8:
        frames = (np.clip(frames, 0.0, 1.0) * 255).round().astype(np.uint8)
    frames = frames.transpose(0, 2, 3, 1)
    return np.repeat(frames, 3, axis=-1) if frames.shape[-1] == 1 else frames


def _to_wandb(value: Any, media_dir: str) -> Any:
    """A logger value as W&B logs it, or None for values W&B has no place for. Videos are written to MP4
    files in ``media_dir``, which W&B copies into the run when the value is logged."""
    import wandb

    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, th.Tensor | np.ndarray):
        array = value.detach().cpu().numpy() if isinstance(value, th.Tensor) else value
        return array.item() if array.size == 1 else wandb.Histogram(array)  # type: ignore[arg-type]
    if isinstance(value, Video):
        path = os.path.join(media_dir, f"video_{len(os.listdir(media_dir))}.mp4")
        write_video(_video_frames(th.as_tensor(value.frames).cpu().numpy()), path, float(value.fps))
        return wandb.Video(path, format="mp4")
    if isinstance(value, Figure):
        return wandb.Image(value.figure)
    if isinstance(value, Image):
        image = value.image.detach().cpu().numpy() if isinstance(value.image, th.Tensor) else value.image
        return wandb.Image(image)
    return None


class WandbOutputFormat(KVWriter):
    """An SB3 logger output that sends every recorded value to a W&B run at ``step =
    model.num_timesteps``: numbers and text as they are, arrays as histograms, SB3's ``Video``,
    ``Figure`` and ``Image`` as W&B media, ``HParam`` into the run's config. Keys excluded for
    ``"wandb"`` (``logger.record(key, value, exclude="wandb")``) are left out.

    If logging fails, it stops logging and calls ``on_error`` (default: warn); training goes on.

    :param run: the W&B run
    :param on_error: called with the exception when logging fails
    """

    def __init__(self, run: Any, on_error: Callable[[Exception], None] | None = None):
        self.run = run
        self.on_error = on_error or _warn_failure
        self.failed = False

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0
    ) -> None:
        if self.failed:
            return
        try:
            with tempfile.TemporaryDirectory(prefix="sb3_marl_media_") as media_dir:
                data = {}
                for key, value in filter_excluded_keys(key_values, key_excluded, "wandb").items():
                    if isinstance(value, HParam):
                        self.run.config.update(dict(value.hparam_dict), allow_val_change=True)
                        continue
                    converted = _to_wandb(value, media_dir)
                    if converted is not None:
                        data[key] = converted
                if data:
                    self.run.log(data, step=int(step))
        except Exception as error:
            self.failed = True
            self.on_error(error)

    def close(self) -> None:
        """The run is finished by whoever started it."""


def _next_multiple(timesteps: int, freq: int) -> int:
    """The first multiple of ``freq`` after ``timesteps`` (0 when ``freq`` is 0: never)."""
    return (timesteps // freq + 1) * freq if freq else 0


class MultiAgentWandbCallback(MultiAgentStatsCallback):
    """Logs a multi-agent run to W&B.

    - everything the SB3 logger records (losses, exploration, MADQN's ``train/priority_mean``,
      ``train/priority_max``, ``train/beta``, ``train/is_weight_mean``, ...), through a
      :class:`WandbOutputFormat` added to the model's logger
    - the team and per-agent returns and lengths and the share of inactive slots
      (:class:`~sb3_marl.callbacks.MultiAgentStatsCallback`)
    - the config: algorithm, hyperparameters, env id, kwargs and agents, package versions
    - checkpoints every ``save_freq`` timesteps and at the end, saved whole (temporary file, then
      rename) and logged as versions of the ``model-<run id>`` artifact; the artifact refers to the
      checkpoint file rather than copying it, so keep the files until an offline run is synced
    - optionally a video of one evaluation episode every ``video_freq`` timesteps and at the end, as
      MP4 in the run (``media/videos``)

    With no run or a disabled one (W&B did not start), the statistics still go to the SB3 logger and
    checkpoints to ``save_path``; if W&B fails during training, it warns once and training goes on.
    If a checkpoint cannot be saved (an unwritable folder, a full disk), it warns once and training
    goes on; later checkpoints are still tried.

    :param run: the W&B run (default: ``wandb.run``, the active one, if any)
    :param env_id: the env's id (module path), for the config
    :param env_kwargs: the env's constructor arguments, for the config
    :param config: more config for the run
    :param save_freq: save a checkpoint every this many timesteps (0: only at the end)
    :param save_path: checkpoint folder (default: ``checkpoints`` in the run's folder; with no run
        and no ``save_path``, no checkpoints)
    :param video_env: a PettingZoo env module path or constructor to film, made with
        ``render_mode="rgb_array"``, filmed to MP4 (needs ``pip install 'sb3-marl[video]'``); None: no
        videos
    :param video_env_kwargs: keyword arguments of ``video_env``
    :param video_wrapper_class: applied to the video env, as in training
    :param video_freq: film an episode every this many timesteps (0: only at the end)
    :param stats_window_size: number of episodes averaged (default: the model's)
    :param verbose: verbosity level
    """

    def __init__(
        self,
        run: Any | None = None,
        env_id: str | None = None,
        env_kwargs: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        save_freq: int = 0,
        save_path: str | None = None,
        video_env: str | Callable[..., Any] | None = None,
        video_env_kwargs: dict[str, Any] | None = None,
        video_wrapper_class: WrapperClass | None = None,
        video_freq: int = 0,
        stats_window_size: int | None = None,
        verbose: int = 0,
    ):
        super().__init__(stats_window_size, verbose)
        if save_freq < 0 or video_freq < 0:
            raise ValueError(f"save_freq and video_freq must be >= 0, got {save_freq} and {video_freq}.")
        if video_env is not None:
            check_video_support("episode.mp4")
        self.run = run
        self.env_id = env_id
        self.env_kwargs = env_kwargs
        self.extra_config = config or {}
        self.save_freq = save_freq
        self.save_path = save_path
        self.video_env = video_env
        self.video_env_kwargs = video_env_kwargs
        self.video_wrapper_class = video_wrapper_class
        self.video_freq = video_freq
        self.checkpoints: list[str] = []
        self._checkpoint_failed = False
        self._next_save = save_freq
        self._next_video = video_freq

    def _init_callback(self) -> None:
        super()._init_callback()
        if self.run is None:
            try:
                import wandb

                self.run = wandb.run
            except ImportError:
                self.run = None
        if getattr(self.run, "disabled", False):
            self.run = None
        if self.run is not None and self.save_path is None:
            self.save_path = os.path.join(os.path.dirname(self.run.dir), "checkpoints")
        self._next_save = _next_multiple(self.num_timesteps, self.save_freq)
        self._next_video = _next_multiple(self.num_timesteps, self.video_freq)
        self._with_wandb(self._start)

    def _start(self, run: Any) -> None:
        logger = self.model.logger
        if not any(isinstance(f, WandbOutputFormat) and f.run is run for f in logger.output_formats):
            logger.output_formats.append(WandbOutputFormat(run, on_error=self._fail))
        config = run_config(self.model, self.env_id, self.env_kwargs)
        config.update(jsonable(self.extra_config))
        run.config.update(config, allow_val_change=True)

    def _with_wandb(self, action: Callable[..., None], *args: Any) -> None:
        """Do ``action(run, *args)`` if there is a run; if it fails, warn once and go on without W&B."""
        if self.run is None:
            return
        try:
            action(self.run, *args)
        except Exception as error:
            self._fail(error)

    def _fail(self, error: Exception) -> None:
        """Warn once, then go on without W&B."""
        if self.run is None:
            return
        _warn_failure(error)
        self.model.logger.output_formats = [
            f for f in self.model.logger.output_formats if not isinstance(f, WandbOutputFormat)
        ]
        self.run = None

    def _on_step(self) -> bool:
        super()._on_step()
        if self.save_freq and self.num_timesteps >= self._next_save:
            self._next_save = _next_multiple(self.num_timesteps, self.save_freq)
            self.save_checkpoint()
        if self.video_env is not None and self.video_freq and self.num_timesteps >= self._next_video:
            self._next_video = _next_multiple(self.num_timesteps, self.video_freq)
            self._with_wandb(self._log_video)
        return True

    def _on_training_end(self) -> None:
        self.save_checkpoint(final=True)
        if self.video_env is not None:
            self._with_wandb(self._log_video)

    def save_checkpoint(self, final: bool = False) -> str | None:
        """Save the model now (``model_<timesteps>_steps.zip``, or ``model_final.zip``) and log it as
        an artifact version. Returns the path, or None when there is nowhere to save or saving failed
        (the first failure warns)."""
        if self.save_path is None:
            return None
        name = "model_final.zip" if final else f"model_{self.num_timesteps}_steps.zip"
        try:
            path = save_model(self.model, os.path.join(self.save_path, name))
        except Exception as error:
            if not self._checkpoint_failed:
                self._checkpoint_failed = True
                _warn(
                    f"Could not save checkpoint {name} in {self.save_path} ({_describe(error)}); training "
                    "goes on, and later checkpoints are tried without another warning."
                )
            return None
        self.checkpoints.append(path)
        self._with_wandb(self._log_artifact, path, final)
        return path

    def _log_artifact(self, run: Any, path: str, final: bool) -> None:
        import wandb

        metadata = {
            "num_timesteps": self.num_timesteps,
            "algo": type(self.model).__name__,
            "env_id": self.env_id,
        }
        artifact = wandb.Artifact(f"model-{run.id}", type="model", metadata=metadata)
        # "immutable": refer to the checkpoint instead of copying it to W&B's staging folder; only a later
        # learn() with this callback rewrites a checkpoint (model_final.zip)
        artifact.add_file(path, name="model.zip", policy="immutable")
        aliases = ["latest", f"step-{self.num_timesteps}", *(["final"] if final else [])]
        run.log_artifact(artifact, aliases=aliases)

    def _log_video(self, run: Any) -> None:
        import wandb

        assert self.video_env is not None
        env = self.video_env
        frames, fps = record_video(self.model, env, self.video_env_kwargs, self.video_wrapper_class)
        with tempfile.TemporaryDirectory(prefix="sb3_marl_media_") as folder:  # W&B copies it into the run
            path = write_video(frames, os.path.join(folder, f"episode_{self.num_timesteps}.mp4"), fps)
            run.log({"eval/video": wandb.Video(path, format="mp4")}, step=self.num_timesteps)
