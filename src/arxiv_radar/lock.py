"""One arxiv-radar process per database at a time.

Two overlapping runs (a slow cron run and a manual one) would interleave writes and publish pages
from a half-updated store; the second one waits briefly for the first, then gives up clearly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from arxiv_radar.errors import LockError

__all__ = ["is_locked", "workspace_lock"]

log = logging.getLogger(__name__)


@contextmanager
def workspace_lock(database: Path, *, wait: float = 30.0) -> Iterator[None]:
    """Hold ``<database>.lock`` for the block; raise LockError after ``wait`` seconds."""
    lock_path = _lock_path(database)
    lock = FileLock(lock_path, timeout=wait)
    try:
        _acquire(lock, lock_path, timeout=0)
    except Timeout:
        # Say why nothing happens for a while: a silent wait looks like a hang.
        log.warning(
            "another arxiv-radar process is using %s; waiting up to %g s for it", database, wait
        )
        try:
            _acquire(lock, lock_path)
        except Timeout:
            raise LockError(
                f"another arxiv-radar process is still using {database} after {wait:g} s "
                f"(lock file {lock_path})",
                fix="let it finish and try again; the lock is freed when that process exits",
            ) from None
    try:
        yield
    finally:
        lock.release()


def is_locked(database: Path) -> bool:
    """Whether a process holds the lock now (a run marked "running" without one was killed)."""
    lock_path = _lock_path(database)
    lock = FileLock(lock_path, timeout=0)
    try:
        _acquire(lock, lock_path)
    except Timeout:
        return True
    lock.release()
    return False


def _acquire(lock: FileLock, lock_path: Path, *, timeout: float | None = None) -> None:
    """``lock.acquire``, with the filesystem's refusals told as a user error naming the path."""
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise  # an OSError too, but the caller's to handle: another process holds the lock
    except IsADirectoryError:
        raise LockError(
            f"the lock file {lock_path} is a folder",
            fix=f"remove or rename the folder {lock_path}: arxiv-radar creates that file itself",
        ) from None
    except OSError as err:
        raise LockError(
            f"cannot create the lock file {lock_path}: {err.strerror or err}",
            fix=f"make {lock_path.parent} a writable folder, or set `database:` in the config "
            "to a path in one (the lock file sits beside the database)",
        ) from None


def _lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")
