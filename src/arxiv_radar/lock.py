"""One arxiv-radar process per database at a time.

Two overlapping runs (a slow cron run and a manual one) would interleave writes and publish pages
from a half-updated store; the second one waits briefly for the first, then gives up clearly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from arxiv_radar.errors import LockError

__all__ = ["workspace_lock"]


@contextmanager
def workspace_lock(database: Path, *, wait: float = 30.0) -> Iterator[None]:
    """Hold ``<database>.lock`` for the block; raise LockError after ``wait`` seconds."""
    lock_path = database.with_name(database.name + ".lock")
    lock = FileLock(lock_path, timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise LockError(
            f"another arxiv-radar process is using {database} (lock file {lock_path})",
            fix="wait for it to finish, or delete the lock file if no arxiv-radar is running",
        ) from None
    try:
        yield
    finally:
        lock.release()
