"""Saves that cannot lose the last good file, and replay-buffer loads that keep the model's buffer when
the loaded one does not fit."""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
from collections.abc import Iterable, Iterator
from typing import cast

from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.save_util import load_from_pkl, save_to_pkl

from sb3_marl.buffers import PrioritizedReplayBuffer
from sb3_marl.files import atomic_write


@contextlib.contextmanager
def saving_to(path: str | os.PathLike[str] | io.BufferedIOBase, suffix: str) -> Iterator[io.BufferedIOBase]:
    """The file to save to: a file object as it is; for a path, as SB3 saves it (``.suffix`` added when it
    has none, its folder made if missing), a temporary file that replaces it once written.

    :param path: a path or a file object
    :param suffix: ``"zip"`` or ``"pkl"``
    """
    if isinstance(path, io.BufferedIOBase):
        yield path
        return
    target = pathlib.Path(path)
    if target.suffix == "":
        target = target.with_name(f"{target.name}.{suffix}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target) as file:
        yield cast(io.BufferedIOBase, file)


class SafeSavesMixin(OffPolicyAlgorithm):
    """SB3's ``save``, ``save_replay_buffer`` and ``load_replay_buffer`` for an algorithm with a
    :class:`~sb3_marl.buffers.PrioritizedReplayBuffer`: a save to a path goes through a temporary file
    renamed over it, so a crash mid-save keeps the last good file; a loaded buffer unlike the model's is
    refused before the model's is replaced."""

    # The buffer attributes a loaded buffer must share with the model's.
    buffer_settings = ("n_steps", "alpha", "gamma", "n_envs")

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """Save the model (``.zip`` added to a path without suffix).

        :param path: a path or a file object
        :param exclude: names of parameters to exclude besides the default ones
        :param include: names of parameters to save even if excluded by default
        """
        with saving_to(path, "zip") as file:
            super().save(file, exclude, include)

    def save_replay_buffer(self, path: str | pathlib.Path | io.BufferedIOBase) -> None:
        """Pickle the replay buffer, priorities included (``.pkl`` added to a path without suffix).

        :param path: a path or a file object
        """
        assert self.replay_buffer is not None, "The replay buffer is not defined"
        with saving_to(path, "pkl") as file:
            save_to_pkl(file, self.replay_buffer, self.verbose)

    def load_replay_buffer(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        truncate_last_traj: bool = True,
    ) -> None:
        """Load a buffer saved by :meth:`save_replay_buffer`. One whose type, ``n_steps``, ``alpha``,
        ``gamma`` or number of envs differ from the model's buffer is refused, and the model keeps its own.

        :param path: the pickled buffer
        :param truncate_last_traj: unused (for HER buffers only)
        """
        buffer = load_from_pkl(path, self.verbose)
        own = self.replay_buffer
        assert isinstance(own, PrioritizedReplayBuffer), "the model has no buffer to replace"
        if not isinstance(buffer, PrioritizedReplayBuffer) or type(buffer) is not type(own):
            raise TypeError(
                f"{type(self).__name__} needs a PrioritizedReplayBuffer: this model uses a "
                f"{type(own).__name__}, {path} holds a {type(buffer).__name__}. Load a buffer saved by a "
                "model of the same settings."
            )
        for name in self.buffer_settings:
            if getattr(buffer, name) != getattr(own, name):
                raise ValueError(
                    f"The replay buffer in {path} has {name}={getattr(buffer, name)}, this model's "
                    f"{getattr(own, name)}: load it into a model made with the same {name}, or keep this "
                    "model's buffer."
                )
        buffer.device = self.device
        self.replay_buffer = buffer
