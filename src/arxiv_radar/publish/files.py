"""Atomic, write-if-changed file output for every publisher, made durable once per publish.

Publishing must be idempotent: a run with nothing new leaves every file (and its mtime) alone, so
git sees no change and Pages does not rebuild. A crash, a full disk or a failing renderer must never
leave a half-written page: content goes to a temporary file in the same folder (same filesystem, so
``os.replace`` is atomic), and only then replaces the target.

Durability is a separate question from atomicity. A lone write (``init``, the importer) fsyncs its
file and folder, as it always did. A publish writes a thousand pages inside :func:`synced_once`:
no fsync per file, one :func:`sync_written` at the end, and only after it the publisher saves the
fingerprints that say what the pages hold. That is safe because the fingerprints are the only
record that lets a later publish skip a page. If the machine dies before the sync, some renamed
pages may be old, empty or torn on disk, but their new fingerprints were never saved: the next
publish finds them stale (or, for the pages it always renders, compares the bytes anyway), renders
them again, sees the bytes differ and rewrites them. A page skipped on the strength of a saved
fingerprint was therefore written by a publish whose sync completed. The sync itself lives in
:mod:`arxiv_radar.durability`, where the committed-state export uses it too.
"""

from __future__ import annotations

import contextlib
import filecmp
import logging
import os
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path

from arxiv_radar.durability import fsync_folder, sync_written
from arxiv_radar.errors import StageError

__all__ = ["SyncBatch", "WriteSet", "synced_once", "write_if_changed"]

log = logging.getLogger(__name__)

_DEFAULT_MODE = 0o644


class SyncBatch:
    """The files written inside one :func:`synced_once` block, synced together at its end."""

    def __init__(self) -> None:
        self._paths: dict[Path, None] = {}  # insertion-ordered, each path once

    def add(self, path: Path) -> None:
        self._paths[path] = None

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)


_BATCH: ContextVar[SyncBatch | None] = ContextVar("arxiv_radar_sync_batch", default=None)


@contextlib.contextmanager
def synced_once() -> Iterator[SyncBatch]:
    """Write without an fsync per file inside the block; make everything durable at its end.

    Call it around everything one publish writes, and save what records the written state (the
    fingerprints) only after the block: see the module docstring for why a crash before the
    sync is then harmless. A block inside another joins it (one sync, at the outer end). When
    the block raises, nothing is synced: the caller records nothing, so the next run rewrites.
    """
    outer = _BATCH.get()
    if outer is not None:
        yield outer
        return
    batch = SyncBatch()
    token = _BATCH.set(batch)
    try:
        yield batch
    finally:
        _BATCH.reset(token)
    sync_written(batch.paths)


def write_if_changed(path: Path, content: str | bytes | Iterable[str]) -> bool:
    """Write ``content`` (text as UTF-8, bytes as given: a gzip file) to ``path`` atomically
    unless the bytes are identical.

    ``content`` may be an iterable of chunks so large pages can be streamed; if it raises part
    way, the temporary file is removed, the old file is intact and the error propagates.
    Returns whether the file was (re)written.
    """
    if isinstance(content, (str, bytes)):
        data = content.encode("utf-8") if isinstance(content, str) else content
        if _same_bytes(path, data):
            _discard(_temp_for(path))
            return False
        staged = _stage(path, (data,))
    else:
        staged = _stage(path, (chunk.encode("utf-8") for chunk in content))
        if _same_file(path, staged):
            _discard(staged)
            return False
    _commit(staged, path)
    return True


class WriteSet:
    """Collects the pages of one publish and writes them together.

    Every changed file is staged (written to its temporary file) before any target is replaced,
    so a failure while staging changes nothing at all, and each file is seen either old or new,
    never partial. Outside :func:`synced_once` each is fsynced as it is staged and its folder
    after its rename; inside, the block's one sync covers them all.
    """

    def __init__(self) -> None:
        self._pending: dict[Path, bytes] = {}

    def add(self, path: Path, content: str) -> None:
        """Queue ``content`` for ``path``; adding the same path again replaces the earlier one."""
        self._pending[path] = content.encode("utf-8")

    def __len__(self) -> int:
        return len(self._pending)

    def commit(self) -> list[Path]:
        """Write every queued file whose bytes changed; returns those paths in sorted order."""
        changed = sorted(p for p, data in self._pending.items() if not _same_bytes(p, data))
        for unchanged in self._pending.keys() - set(changed):
            _discard(_temp_for(unchanged))
        staged: list[tuple[Path, Path]] = []
        try:
            for path in changed:
                staged.append((_stage(path, (self._pending[path],)), path))
        except BaseException:
            for temp, _ in staged:
                _discard(temp)
            raise
        for index, (temp, path) in enumerate(staged):
            try:
                _commit(temp, path)
            except BaseException:
                for later, _ in staged[index + 1 :]:
                    _discard(later)
                raise
        self._pending.clear()
        return changed


def _same_bytes(path: Path, data: bytes) -> bool:
    """True when ``path`` is a regular file holding exactly ``data``."""
    try:
        if not path.is_file() or path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _same_file(path: Path, staged: Path) -> bool:
    try:
        return path.is_file() and filecmp.cmp(path, staged, shallow=False)
    except OSError:
        return False


def _temp_for(path: Path) -> Path:
    """The one temporary name for ``path``.

    A fixed name (one writer per workspace, under its lock) means a temporary file left by a
    killed run is found and removed by the next run, instead of piling up next to the pages.
    """
    return path.with_name(f".{path.name}.tmp")


def _stage(path: Path, chunks: Iterable[bytes]) -> Path:
    """Write ``chunks`` to a temporary file next to ``path``; removed on any failure.

    A lone write fsyncs it before it can replace the target; inside :func:`synced_once` the
    block's one sync at its end does.
    """
    temp = _temp_for(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.unlink(missing_ok=True)  # a leftover of a killed run
        # O_EXCL: never write through a file or link someone else put at this name.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            if _BATCH.get() is None:
                handle.flush()
                os.fsync(handle.fileno())
        temp.chmod(_mode_for(path))
    except BaseException as exc:
        _discard(temp)
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from exc
        raise
    return temp


def _commit(temp: Path, path: Path) -> None:
    try:
        temp.replace(path)
    except OSError as exc:
        _discard(temp)
        raise _write_error(path, exc) from exc
    batch = _BATCH.get()
    if batch is None:
        fsync_folder(path.parent)  # the rename itself, where the platform allows it
    else:
        batch.add(path)
    log.debug("wrote %s", path)


def _mode_for(path: Path) -> int:
    """Keep the mode of the file we replace; new files get the usual 0644, not mkstemp's 0600."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return _DEFAULT_MODE


def _discard(temp: Path) -> None:
    with contextlib.suppress(OSError):
        temp.unlink()


def _write_error(path: Path, exc: OSError) -> StageError:
    reason = exc.strerror or type(exc).__name__
    return StageError(
        f"cannot write {path}: {reason}",
        fix="check that the output folder exists, is writable and is not full",
    )
