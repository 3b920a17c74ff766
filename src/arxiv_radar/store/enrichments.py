"""Enrichments: code links with their re-check schedule, star counts, cached translations and
TL;DRs: the enrich stage's ``EnrichmentStore`` protocol, implemented without importing the
stage (the records both sides exchange live below them, in :mod:`arxiv_radar.records`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from arxiv_radar.paper import Paper
from arxiv_radar.records import (
    CODE_CHECK_HORIZON,
    CodeCandidate,
    CodeOutcome,
    StarsSchedule,
    TextKey,
)
from arxiv_radar.store.connection import Job
from arxiv_radar.store.rows import CODE_JOIN, iso, row_to_entry, select_entries, stream_rows

__all__ = ["Enrichments"]


# Papers whose code links are due, newest first so today's papers go first: never looked at
# (and still young enough for the re-check schedule to matter), or scheduled again. Both are
# range reads of an index on what is due (first_seen; next_check of links not found yet), so the
# work follows what is due, not the history; ``attempts`` comes with each row.
_CODE_DUE = select_entries(
    f"""FROM (SELECT arxiv_id FROM papers WHERE first_seen >= ?
        UNION SELECT arxiv_id FROM code_links WHERE code_url IS NULL AND next_check <= ?) due
    CROSS JOIN papers p ON p.arxiv_id = due.arxiv_id {CODE_JOIN}
    WHERE c.arxiv_id IS NULL OR (c.code_url IS NULL AND c.next_check <= ?)
    ORDER BY p.published DESC, p.arxiv_id DESC""",
    extra="coalesce(c.attempts, 0)",
)
# Papers without code still on the re-check schedule but not due yet: a batch finder (one
# request for a whole day's list) may settle them between two scheduled checks.
_CODE_AWAITING = select_entries(
    """FROM code_links c CROSS JOIN papers p ON p.arxiv_id = c.arxiv_id
    WHERE c.code_url IS NULL AND c.next_check > ?
    ORDER BY p.published DESC, p.arxiv_id DESC""",
    extra="c.attempts",
)
# Code URLs whose star count is due (see StarsSchedule): a recent paper's (from the first_seen
# index), a count never fetched, an older paper's fetched before the month (both from the
# stars_at index; INDEXED BY, as the planner would otherwise walk every link by URL). A day
# with nothing due reads no old row.
_STARS_DUE = """SELECT c.code_url FROM papers p CROSS JOIN code_links c ON c.arxiv_id = p.arxiv_id
        WHERE p.first_seen >= :recent AND c.code_url IS NOT NULL
            AND (c.stars_at IS NULL OR c.stars_at < :refreshed)
    UNION SELECT code_url FROM code_links WHERE code_url IS NOT NULL AND stars_at IS NULL
    UNION SELECT c.code_url FROM code_links c INDEXED BY code_links_by_stars_at
        CROSS JOIN papers p ON p.arxiv_id = c.arxiv_id
        WHERE c.code_url IS NOT NULL AND c.stars_at < :settled AND p.first_seen < :recent
    ORDER BY 1"""
_TEXT_DUE = select_entries(
    f"""FROM papers p {CODE_JOIN}
    WHERE NOT EXISTS (SELECT 1 FROM texts x WHERE x.arxiv_id = p.arxiv_id
        AND x.version = p.version AND x.field = ? AND x.language = ? AND x.provider = ?
        AND x.model = ?)
    ORDER BY p.published DESC, p.arxiv_id DESC LIMIT ?"""
)
_RECORD_CODE = """INSERT INTO code_links
        (arxiv_id, code_url, project_url, stars, stars_at, source, checked_at, attempts, next_check)
    VALUES (:id, :code, :project, :stars, :stars_at, :source, :at, :attempts, :next)
    ON CONFLICT (arxiv_id) DO UPDATE SET
        code_url = coalesce(excluded.code_url, code_url),
        project_url = coalesce(excluded.project_url, project_url),
        stars = coalesce(excluded.stars, stars),
        stars_at = coalesce(excluded.stars_at, stars_at),
        source = excluded.source,
        checked_at = excluded.checked_at,
        attempts = excluded.attempts,
        next_check = excluded.next_check"""


class Enrichments(Job):
    """What is due for a code check, a star count or a text, and the results written back."""

    def papers_needing_code(self, now: datetime) -> list[CodeCandidate]:
        """Papers without code whose check is due (see ``CODE_CHECK_HORIZON``)."""
        since = iso(now - CODE_CHECK_HORIZON)
        return self._candidates(_CODE_DUE, (since, iso(now), iso(now)))

    def papers_awaiting_code(self, now: datetime) -> list[CodeCandidate]:
        """Papers without code whose next scheduled check is still to come."""
        return self._candidates(_CODE_AWAITING, (iso(now),))

    def _candidates(self, sql: str, params: tuple[Any, ...]) -> list[CodeCandidate]:
        """Rows of a code query (entry columns, then attempts) as candidates."""
        rows = stream_rows(self._conn, self.display_language, sql, params)
        candidates = []
        for row in rows:
            entry = row_to_entry(row)
            candidates.append(CodeCandidate(entry.paper, entry.first_seen, int(row[-1])))
        return candidates

    def record_code(self, arxiv_id: str, outcome: CodeOutcome) -> None:
        """Store one check; a found link or star count is never erased by a later miss."""
        at = iso(outcome.at)
        with self.transaction():
            self._conn.execute(
                _RECORD_CODE,
                {
                    "id": arxiv_id,
                    "code": outcome.code_url,
                    "project": outcome.project_url,
                    "stars": outcome.stars,
                    "stars_at": at if outcome.stars is not None else None,
                    "source": outcome.source,
                    "at": at,
                    "attempts": outcome.attempts,
                    "next": iso(outcome.next_check) if outcome.next_check else None,
                },
            )

    def seed_code_links(self, outcomes: Mapping[str, CodeOutcome]) -> int:
        """Rows for papers that have none yet (an imported history's links and schedule);
        returns how many were added. A paper already looked up keeps what its checks found, so
        importing the same history again changes nothing."""
        with self.transaction():
            cursor = self._conn.executemany(
                """INSERT OR IGNORE INTO code_links (arxiv_id, code_url, project_url, stars,
                    stars_at, source, checked_at, attempts, next_check)
                VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?)""",
                [
                    (
                        arxiv_id,
                        o.code_url,
                        o.project_url,
                        o.stars,
                        o.source,
                        iso(o.at),
                        o.attempts,
                        iso(o.next_check) if o.next_check else None,
                    )
                    for arxiv_id, o in outcomes.items()
                ],
            )
            return max(cursor.rowcount, 0)

    def repos_needing_stars(self, schedule: StarsSchedule) -> list[str]:
        """Code URLs whose star count is unknown or due (see :class:`StarsSchedule`)."""
        rows = self._conn.execute(
            _STARS_DUE,
            {
                "recent": iso(schedule.recent_since),
                "refreshed": iso(schedule.refreshed_before),
                "settled": iso(schedule.settled_before),
            },
        )
        return [row[0] for row in rows]

    def record_stars(self, stars: Mapping[str, int], at: datetime) -> None:
        with self.transaction():
            self._conn.executemany(
                "UPDATE code_links SET stars = ?, stars_at = ? WHERE code_url = ?",
                [(count, iso(at), url) for url, count in stars.items()],
            )

    def star_counts_json(self) -> str:
        """Paper id -> star count, for papers with a code link and a known count, as one compact
        JSON object sorted by id (SQLite writes it: at 400k papers, 100,000 counts, a third of
        the time of decoding the rows and encoding them again in Python).

        Counts are published apart from the pages (which a count no longer re-renders: it does
        not bump a paper's rev), so the monthly refresh of older papers rewrites one small file.
        """
        row = self._conn.execute(
            """SELECT json_group_object(arxiv_id, stars) FROM (SELECT arxiv_id, stars
            FROM code_links WHERE code_url IS NOT NULL AND stars IS NOT NULL ORDER BY arxiv_id)"""
        ).fetchone()
        return str(row[0])

    def stars_revision(self) -> int:
        """A counter that moves whenever :meth:`star_counts_json` may have changed (a count, or a
        link with a count appearing): a publish that recorded it can skip rendering the counts
        when it is unchanged. Not a count of changes, and not kept across a database rebuild
        (the rebuilt store has no recorded outputs either, so its first publish renders all)."""
        return int(self._conn.execute("SELECT counts FROM star_revision").fetchone()[0])

    def papers_needing_text(self, key: TextKey, limit: int | None) -> list[Paper]:
        """Current versions with no cached text for ``key``, newest first (today's papers are
        translated before the backlog when a budget runs out)."""
        params = (key.field, key.language, key.provider, key.model, -1 if limit is None else limit)
        return [entry.paper for entry in self._stream(_TEXT_DUE, params)]

    def record_text(self, paper: Paper, key: TextKey, text: str, at: datetime) -> None:
        with self.transaction():
            self._conn.execute(
                """INSERT OR REPLACE INTO texts
                (arxiv_id, version, field, language, provider, model, text, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    paper.arxiv_id,
                    paper.version,
                    key.field,
                    key.language,
                    key.provider,
                    key.model,
                    text,
                    iso(at),
                ),
            )
