"""atomic_write: the target holds the old or the new content, never part of one, and no temporary file
stays behind, on each of its paths (Linux's unnamed file, a named temporary file, a copied link)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sb3_marl import files


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@pytest.mark.parametrize("path", ["unnamed", "named", "copied link"])
def test_atomic_write_replaces_or_keeps_and_leaves_nothing(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path == "named":
        monkeypatch.setattr(files, "_open_unnamed", lambda folder: None)
    elif path == "copied link":  # (where there is no O_TMPFILE this is the named path again)

        def refuse(*args: object, **kwargs: object) -> None:
            raise OSError("link refused")

        monkeypatch.setattr(files.os, "link", refuse)
    target = tmp_path / "model.zip"
    target.write_bytes(b"old")
    with files.atomic_write(target) as file:
        file.write(b"new")
    assert target.read_bytes() == b"new" and os.stat(target).st_mode & 0o777 == _new_file_mode()
    with pytest.raises(RuntimeError, match="mid-save"), files.atomic_write(target) as file:
        file.write(b"half")
        raise RuntimeError("mid-save")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["model.zip"]
