"""Saves that cannot lose the last good file: write a temporary file beside the target, flush and
fsync it, then rename it over the target in one step."""

from __future__ import annotations

import contextlib
import os
import pathlib
import secrets
import sys
import tempfile
from collections.abc import Iterator
from typing import IO, Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _open_unnamed(folder: pathlib.Path) -> int | None:
    """A file descriptor of an unnamed file in ``folder`` (Linux's ``O_TMPFILE``), or None where there is
    none."""
    if sys.platform != "linux" or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, os.O_TMPFILE | os.O_RDWR, 0o600)
    except OSError:  # a file system without O_TMPFILE
        return None


def _name_unnamed(fd: int, path: str) -> None:
    """Give the unnamed file ``fd`` the name ``path``. A ``src_dir_fd`` makes ``os.link`` call ``linkat``
    with ``AT_SYMLINK_FOLLOW``, which follows ``/proc/self/fd/<fd>`` to the file itself. Where the link is
    refused, its content is copied into ``path`` instead."""
    proc = os.open("/proc", os.O_RDONLY)
    try:
        os.link(f"self/fd/{fd}", path, src_dir_fd=proc)
        return
    except OSError:
        pass
    finally:
        os.close(proc)
    copy = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(copy, os.fstat(fd).st_mode & 0o777)
        offset = 0
        while chunk := os.pread(fd, 1 << 20, offset):
            os.write(copy, chunk)
            offset += len(chunk)
        os.fsync(copy)
    except BaseException:
        os.unlink(path)
        raise
    finally:
        os.close(copy)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file in ``path``'s folder for writing; on a clean exit it replaces ``path``
    (with the mode a new file gets, ``0o666`` less the umask), on any error it is removed and ``path``
    keeps what it held.

    :param path: the file to write
    :param mode: ``"wb"`` or ``"w"``
    :param open_kwargs: passed to ``open`` (e.g. ``encoding``)
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write writes whole files: mode must be 'wb' or 'w', got {mode!r}")
    target = pathlib.Path(path)
    new_file_mode = 0o666 & ~_umask()
    unnamed = _open_unnamed(target.parent)
    if unnamed is None:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    else:  # Linux: a file with no name until complete; a kill leaves nothing but between two calls below
        fd, tmp = unnamed, str(target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as file:
            yield file
            file.flush()
            if unnamed is not None:
                os.fchmod(fd, new_file_mode)
                os.fsync(fd)
                # Named, then renamed at once: a kill between these two calls is the only one that leaves
                # a (complete) temporary file behind.
                _name_unnamed(fd, tmp)
                unnamed = None
                os.replace(tmp, target)
                tmp = ""
            else:
                os.fsync(fd)
        if tmp:  # a named temporary file, renamed once closed (Windows renames no open file)
            os.chmod(tmp, new_file_mode)
            os.replace(tmp, target)
    except BaseException:
        if unnamed is None:  # an unnamed file vanishes with its descriptor
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself is durable once the folder is synced
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
