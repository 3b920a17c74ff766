"""The store: one SQLite file, opened and migrated here, its jobs composed into one class.

Each job (papers, topics, publishing, BibTeX stems, enrichments, ranking, deliveries, runs,
meta) lives in its own module as a :class:`~arxiv_radar.store.connection.Job`; :class:`Store`
inherits them all, so a stage calls ``store.upsert_papers(...)`` and ``store.add_matches(...)``
inside one ``with store.transaction():`` and both commit together.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from types import TracebackType

from arxiv_radar.errors import StoreError
from arxiv_radar.store.bib import Bib
from arxiv_radar.store.connection import BUSY_TIMEOUT_MS, connect
from arxiv_radar.store.deliveries import Deliveries
from arxiv_radar.store.enrichments import Enrichments
from arxiv_radar.store.meta import Meta
from arxiv_radar.store.migrations import MIGRATIONS, SCHEMA_VERSION
from arxiv_radar.store.papers import Papers
from arxiv_radar.store.publishing import Publishing
from arxiv_radar.store.ranking import Ranking
from arxiv_radar.store.runs import Runs
from arxiv_radar.store.topics import Topics

__all__ = ["Store"]

log = logging.getLogger(__name__)


class Store(Papers, Topics, Publishing, Bib, Enrichments, Ranking, Deliveries, Runs, Meta):
    """A connection to one store file, with every job's methods over one connection and one
    transaction. Not shared across threads (SQLite's default)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        super().__init__(conn, path)
        self.schema_version = SCHEMA_VERSION

    @property
    def pending_migrations(self) -> list[str]:
        """Migrations a read-only open found missing (a writing command applies them)."""
        return [migration.__name__ for migration in MIGRATIONS[self.schema_version :]]

    @property
    def path(self) -> Path:
        return self._path

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for :mod:`arxiv_radar.store.snapshot` only: the store's text twin
        reads and writes whole tables (export, bulk rebuild), which no per-job method serves."""
        return self._conn

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False) -> Store:
        """Open (creating if needed) and migrate the store at ``path``; its directory must exist.

        ``readonly`` (``status``, ``doctor``) opens an existing file without ever writing it: no
        migration runs, :attr:`pending_migrations` says which ones the next run will apply.
        """
        if not path.parent.is_dir():
            raise StoreError(
                f"store {path}: directory {path.parent} does not exist",
                fix="create the directory or change the store path in the config",
            )
        if readonly and not path.is_file():
            raise StoreError(f"store {path} does not exist", fix="run `arxiv-radar run` first")
        conn = connect(path, readonly=readonly)
        store = cls(conn, path)
        try:
            if readonly:
                store._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                store.schema_version = store._user_version()
                store._check_not_newer(store.schema_version)
            else:
                store._configure()
                store._migrate()
        except BaseException:
            conn.close()
            raise
        return store

    def quick_check(self) -> list[str]:
        """SQLite's ``PRAGMA quick_check``: [] when the file is sound, else what is damaged."""
        try:
            rows = [str(row[0]) for row in self._conn.execute("PRAGMA quick_check(20)")]
        except StoreError as exc:  # damage bad enough to stop the check itself
            return [exc.message.removeprefix(f"store {self._path}: ")]
        return [] if rows == ["ok"] else rows

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _configure(self) -> None:
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA foreign_keys = ON")
        mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        # WAL makes NORMAL safe against corruption; it only risks the last commit on power loss.
        self._conn.execute("PRAGMA synchronous = NORMAL")
        if mode != "wal":
            log.warning("store %s: journal mode is %s, not WAL", self._path, mode)

    def _user_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_not_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self._path} has schema version {version}, newer than this "
                f"arxiv-radar knows ({SCHEMA_VERSION})",
                fix="upgrade arxiv-radar",
            )

    def _migrate(self) -> None:
        """Apply the missing migrations, each in its own transaction.

        The version is read again inside each write transaction, so two processes opening a new
        file at once never apply a migration twice.
        """
        self._check_not_newer(self._user_version())
        for number, migration in enumerate(MIGRATIONS, start=1):
            with self.transaction():
                current = self._user_version()
                self._check_not_newer(current)
                if current >= number:
                    continue
                log.info("store %s: applying migration %s", self._path, migration.__name__)
                migration(self._conn)
                self._conn.execute(f"PRAGMA user_version = {number}")
