"""Topic memberships (which papers each topic holds, walked newest first from one index), and
each search-only topic's progress (``topic_state``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from arxiv_radar.paper import Entry
from arxiv_radar.store.connection import Job
from arxiv_radar.store.papers import stored_ids
from arxiv_radar.store.rows import CODE_JOIN, iso, select_entries

__all__ = ["Topics"]


# CROSS JOIN pins the plan: walk the topic's index in order (no sort), then look each paper up.
# LIMIT -1 means no limit.
_TOPIC_ENTRIES = select_entries(
    f"""FROM topic_papers t CROSS JOIN papers p ON p.arxiv_id = t.arxiv_id {CODE_JOIN}
    WHERE t.topic = ? ORDER BY t.published DESC, t.arxiv_id DESC LIMIT ?"""
)


class Topics(Job):
    """Memberships of papers in topics, and per-topic search progress."""

    def add_matches(self, topic: str, arxiv_ids: Iterable[str], *, matched_at: datetime) -> int:
        """Record that papers belong to ``topic``; returns how many memberships are new.

        The papers must be stored first: a membership of an unknown paper is a caller bug and
        raises ``ValueError`` before anything is written.
        """
        ids = list(dict.fromkeys(arxiv_ids))
        at = iso(matched_at)
        with self.transaction():
            unknown = sorted(set(ids) - stored_ids(self._conn, ids))
            if unknown:
                raise ValueError(f"papers not in the store cannot join {topic!r}: {unknown[:5]}")
            # rowcount, not total_changes: the revision triggers' writes must not count.
            cursor = self._conn.executemany(
                """INSERT OR IGNORE INTO topic_papers (topic, arxiv_id, matched_at, published)
                SELECT ?, arxiv_id, ?, published FROM papers WHERE arxiv_id = ?""",
                [(topic, at, arxiv_id) for arxiv_id in ids],
            )
            return max(cursor.rowcount, 0)

    def topic_count(self, topic: str) -> int:
        row = self._conn.execute("SELECT count(*) FROM topic_papers WHERE topic = ?", (topic,))
        return int(row.fetchone()[0])

    def topic_entries(self, topic: str, *, limit: int | None = None) -> list[Entry]:
        """The papers of ``topic``, newest ``published`` first, ties by arxiv_id descending."""
        return list(self._stream(_TOPIC_ENTRIES, (topic, -1 if limit is None else limit)))

    def topics_in_store(self) -> list[str]:
        rows = self._conn.execute("SELECT DISTINCT topic FROM topic_papers ORDER BY topic")
        return [row[0] for row in rows]

    def topic_state(self) -> dict[str, date]:
        """Per topic without categories, the last listing day its own search covered."""
        rows = self._conn.execute("SELECT topic, searched_through FROM topic_state")
        return {row[0]: date.fromisoformat(row[1]) for row in rows}

    def set_topic_state(self, topic: str, searched_through: date, *, at: datetime) -> None:
        """Record a topic's progress; it never moves back (an older listing is no news), and
        ``updated_at`` says when it last moved, so a run that adds nothing changes no state."""
        with self.transaction():
            self._conn.execute(
                """INSERT INTO topic_state (topic, searched_through, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (topic) DO UPDATE SET
                    searched_through = max(searched_through, excluded.searched_through),
                    updated_at = CASE WHEN excluded.searched_through > searched_through
                        THEN excluded.updated_at ELSE updated_at END""",
                (topic, searched_through.isoformat(), iso(at)),
            )
