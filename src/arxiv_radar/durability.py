"""Making written files durable: one sync for many files, or an fsync of each where that is all
the platform has.

Atomic replacement (temporary file, then rename) decides what a reader can see; this module
decides what survives a power cut. Both writers of many files use it after writing a batch: the
publisher (:func:`arxiv_radar.publish.files.synced_once`) and the committed-state export. It
sits low in the flow, beside :mod:`arxiv_radar.errors`, so the store may use it too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from arxiv_radar.errors import StageError

__all__ = ["fsync_each", "fsync_folder", "sync_written"]

# Windows flushes only a handle opened for writing; POSIX fsyncs any descriptor.
_FSYNC_FLAGS = os.O_RDWR if os.name == "nt" else os.O_RDONLY


def sync_written(paths: Iterable[Path]) -> None:
    """Make these written (closed) files durable, and their renames, in one step.

    ``os.sync()`` where it exists: one call flushes every file and every rename, however many.
    Elsewhere (Windows) each file and each of their folders is fsynced once, in one pass.
    Nothing to sync costs nothing: a publish that changed no file makes no call.
    """
    paths = list(paths)
    if not paths:
        return
    if hasattr(os, "sync"):
        os.sync()
    else:  # pragma: no cover - Windows
        fsync_each(paths)


def fsync_each(paths: Iterable[Path]) -> None:
    """fsync each file, then each distinct folder holding one (so the renames are durable too).

    A file that cannot be flushed is a :class:`StageError` naming it; a folder that cannot be
    opened (Windows has no folder handles) is skipped, as the platform allows nothing more.
    """
    folders: dict[Path, None] = {}
    for path in paths:
        try:
            _fsync_path(path, _FSYNC_FLAGS)
        except OSError as exc:
            raise StageError(
                f"cannot flush {path} to disk: {exc.strerror or type(exc).__name__}",
                fix="check that the output folder exists, is writable and is not full",
            ) from exc
        folders[path.parent] = None
    for folder in folders:
        fsync_folder(folder)


def fsync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable where the platform allows it (not on Windows)."""
    with contextlib.suppress(OSError):
        _fsync_path(folder, os.O_RDONLY)


def _fsync_path(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
