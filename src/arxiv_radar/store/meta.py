"""Meta values, per-category ingest progress (``category_state``) and the checkpoints of
interrupted jobs (gap fill, backfill)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from arxiv_radar.store.connection import Job
from arxiv_radar.store.rows import iso

__all__ = ["Meta"]


class Meta(Job):
    """Key-value meta, per-category progress and named checkpoints."""

    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._conn.execute(
                """INSERT INTO meta (key, value) VALUES (?, ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
                (key, value),
            )

    def category_state(self) -> dict[str, date]:
        """The last announcement day ingested completely, per category."""
        rows = self._conn.execute("SELECT category, last_announced FROM category_state")
        return {row[0]: date.fromisoformat(row[1]) for row in rows}

    def set_category_state(self, category: str, announced: date, *, at: datetime) -> None:
        with self.transaction():
            self._conn.execute(
                """INSERT INTO category_state (category, last_announced, updated_at)
                VALUES (?, ?, ?)
                ON CONFLICT (category) DO UPDATE SET
                    last_announced = excluded.last_announced, updated_at = excluded.updated_at""",
                (category, announced.isoformat(), iso(at)),
            )

    def get_checkpoint(self, name: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT value FROM checkpoints WHERE name = ?", (name,))
        found = row.fetchone()
        if found is None:
            return None
        value: dict[str, Any] = json.loads(found[0])
        return value

    def set_checkpoint(self, name: str, value: dict[str, Any], *, at: datetime) -> None:
        with self.transaction():
            self._conn.execute(
                """INSERT INTO checkpoints (name, value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET
                    value = excluded.value, updated_at = excluded.updated_at""",
                (name, json.dumps(value), iso(at)),
            )

    def clear_checkpoint(self, name: str) -> None:
        with self.transaction():
            self._conn.execute("DELETE FROM checkpoints WHERE name = ?", (name,))
