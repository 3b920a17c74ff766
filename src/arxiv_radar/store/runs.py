"""Run records: each pipeline run's start, end, status, counts per stage and errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arxiv_radar.store.connection import Job
from arxiv_radar.store.rows import from_iso, iso

__all__ = ["RUN_STATUSES", "RunRecord", "Runs"]


RUN_STATUSES = ("running", "ok", "partial", "failed", "nothing")


@dataclass(frozen=True)
class RunRecord:
    """One recorded pipeline run; ``finished_at`` is None while it is still running (or crashed)."""

    id: int
    command: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    stats: dict[str, Any]
    errors: list[dict[str, Any]]


def _row_to_run(row: Sequence[Any]) -> RunRecord:
    return RunRecord(
        id=row[0],
        command=row[1],
        started_at=from_iso(row[2]),
        finished_at=from_iso(row[3]) if row[3] is not None else None,
        status=row[4],
        stats=json.loads(row[5]),
        errors=json.loads(row[6]),
    )


class Runs(Job):
    """Start, finish and list runs."""

    def start_run(self, command: str, *, started_at: datetime) -> int:
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO runs (command, started_at, status) VALUES (?, ?, 'running')",
                (command, iso(started_at)),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        stats: dict[str, Any],
        errors: list[dict[str, Any]],
        finished_at: datetime,
    ) -> None:
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"a run cannot finish with status {status!r}")
        with self.transaction():
            cursor = self._conn.execute(
                "UPDATE runs SET status = ?, stats = ?, errors = ?, finished_at = ? WHERE id = ?",
                (status, json.dumps(stats), json.dumps(errors), iso(finished_at), run_id),
            )
            if cursor.rowcount != 1:
                raise ValueError(f"no run with id {run_id}")

    def recent_runs(self, limit: int = 10) -> list[RunRecord]:
        """The latest runs, most recent first."""
        rows = self._conn.execute(
            """SELECT id, command, started_at, finished_at, status, stats, errors
            FROM runs ORDER BY id DESC LIMIT ?""",
            (limit,),
        )
        return [_row_to_run(row) for row in rows]
