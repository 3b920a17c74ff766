"""The store's one SQLite connection, and the transaction every job of the store shares.

Every SQLite error a statement raises becomes a :class:`~arxiv_radar.errors.StoreError` that
names the file and the fix, so no command shows a bare ``sqlite3.OperationalError``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from arxiv_radar.errors import StoreError
from arxiv_radar.paper import Entry
from arxiv_radar.store.rows import stream_entries

__all__ = ["BUSY_TIMEOUT_MS", "Job", "connect"]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000


def _wrap(path: Path, exc: sqlite3.Error) -> StoreError:
    """Turn an SQLite failure into a one-line StoreError that names the file and the fix."""
    text = " ".join(str(exc).split())
    if "locked" in text or "busy" in text:
        fix = "another arxiv-radar process is writing; wait for it to finish and retry"
    elif "full" in text:
        fix = (
            f"free some space on the disk holding {path.parent}, then run again "
            "(the interrupted step was rolled back: nothing is half-written)"
        )
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        fix = (
            "restore the file from a backup, or move it away to start a new store "
            "(`arxiv-radar doctor` checks its integrity)"
        )
    elif "readonly" in text or "read-only" in text:
        fix = "make the file and its directory writable for this user"
    else:
        fix = "check that the file and its directory are readable and writable"
    return StoreError(f"store {path}: {text}", fix=fix)


class _Cursor(sqlite3.Cursor):
    """Rows are read lazily, so a corrupted page can surface while iterating: name the file."""

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            raise _wrap(_path_of(self.connection), exc) from exc

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise _wrap(_path_of(self.connection), exc) from exc

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except sqlite3.Error as exc:
            raise _wrap(_path_of(self.connection), exc) from exc

    def fetchall(self) -> list[Any]:
        """All rows in one call: iterating costs this class's ``__next__`` per row (100,000 star
        counts: 0.2 s)."""
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            raise _wrap(_path_of(self.connection), exc) from exc


class _Connection(sqlite3.Connection):
    """Every statement's SQLite error becomes a StoreError naming the file and the fix, so no
    command shows a traceback or a bare ``sqlite3.OperationalError`` (full disk, corruption)."""

    store_path = Path()

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return self.cursor(_Cursor).execute(sql, parameters)
        except sqlite3.Error as exc:
            raise _wrap(self.store_path, exc) from exc

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        try:
            return self.cursor(_Cursor).executemany(sql, parameters)
        except sqlite3.Error as exc:
            raise _wrap(self.store_path, exc) from exc


def _path_of(conn: sqlite3.Connection) -> Path:
    return conn.store_path if isinstance(conn, _Connection) else Path("(unknown)")


def connect(path: Path, *, readonly: bool) -> _Connection:
    """A connection whose errors name ``path``; read-only opens never create or change it."""
    target = f"{path.resolve().as_uri()}?mode=ro" if readonly else str(path)
    try:
        conn = sqlite3.connect(
            target,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            factory=_Connection,
            uri=readonly,
        )
    except sqlite3.Error as exc:
        raise _wrap(path, exc) from exc
    conn.store_path = path
    return conn


class Job:
    """One job's share of the store: the connection every job uses and its one transaction.

    Each job (papers, topics, publishing, ...) is a subclass holding its own queries;
    :class:`arxiv_radar.store.Store` composes them all over one instance, so a stage's writes
    to several jobs' tables still commit together, in one ``with store.transaction():``.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        # Language whose cached translations and TL;DRs entries carry; None shows none.
        self.display_language: str | None = None
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; nested calls join the outer one through a savepoint.

        ``BEGIN IMMEDIATE`` takes the write lock up front so a concurrent writer waits (up to the
        busy timeout) at the start instead of failing half-way. An inner block that raises undoes
        only its own writes; nothing is committed before the outermost block ends.
        """
        if self._depth:
            yield from self._savepoint()
            return
        self._conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            self._commit()
        finally:
            self._depth = 0

    def _commit(self) -> None:
        try:
            self._conn.execute("COMMIT")
        except StoreError:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already (it rolls back by itself on a
        full disk, and a ROLLBACK then would replace the real error by "no transaction")."""
        if not self._conn.in_transaction:
            return
        try:
            self._conn.execute("ROLLBACK")
        except StoreError as exc:
            log.warning("%s", exc)

    def _savepoint(self) -> Iterator[None]:
        name = f"sp{self._depth}"
        self._conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute(f"ROLLBACK TO {name}")
            raise
        finally:
            self._depth -= 1
            if self._conn.in_transaction:
                self._conn.execute(f"RELEASE {name}")

    def _stream(self, sql: str, params: tuple[Any, ...]) -> Iterator[Entry]:
        return stream_entries(self._conn, self.display_language, sql, params)
