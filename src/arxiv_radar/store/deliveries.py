"""Deliveries: which papers each email or chat destination received, when each destination
was added, and the intents a run commits before it sends (at most one duplicate, never a lost
message)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from arxiv_radar.paper import Entry
from arxiv_radar.store.connection import Job
from arxiv_radar.store.rows import CODE_JOIN, decode_json, from_iso, iso, select_entries

__all__ = ["Deliveries"]

# Papers in at least one topic, first seen since a cut-off and first published not long
# before it (a backfilled 2004 paper is first seen today, but it is no news), that ``channel``
# has not received yet. The announcement index bounds the read to the papers first seen since
# the cut-off and holds the published date too, so papers are filtered without reading their
# rows (INDEXED BY: the planner would otherwise walk every paper published since then). The
# cut-off is when the destination was added: this is the read before its first complete
# delivery, which for a destination added long ago is every paper since then.
_FILTERS = """p.first_seen >= ? AND p.published >= ?
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.channel = ? AND d.arxiv_id = p.arxiv_id)
    ORDER BY p.published DESC, p.arxiv_id DESC"""
_UNDELIVERED = select_entries(
    f"""FROM papers p INDEXED BY papers_by_announced {CODE_JOIN}
    WHERE EXISTS (SELECT 1 FROM topic_papers t WHERE t.arxiv_id = p.arxiv_id) AND {_FILTERS}"""
)
# The same papers once a delivery was complete: only those with a topic membership made since
# then (less a margin) can be due, so the read starts from the memberships made since, a day's
# worth, whatever the history.
_UNDELIVERED_SINCE = select_entries(
    f"""FROM papers p {CODE_JOIN}
    WHERE p.arxiv_id IN (SELECT t.arxiv_id FROM topic_papers t INDEXED BY topic_papers_by_matched
                         WHERE t.matched_at >= ?) AND {_FILTERS}"""
)
# Read again before a watermark: a clock that moved back between two runs (another runner)
# must not hide a membership made in the later one.
WATERMARK_MARGIN = timedelta(days=1)


class Deliveries(Job):
    """What each destination is still to receive, and the record of what it received."""

    def undelivered(
        self, channel: str, *, since: datetime, published_since: datetime
    ) -> list[Entry]:
        """Topic papers first seen since ``since`` and first published since
        ``published_since`` that ``channel`` has not received.

        After a complete delivery (:meth:`advance_delivered`), a paper whose every membership
        is older than it was due then and either sent or passed over (its topics were not
        configured), so only papers with a membership made since are read."""
        params = (iso(since), iso(published_since), channel)
        row = self._conn.execute(
            "SELECT delivered_through FROM destinations WHERE channel = ?", (channel,)
        ).fetchone()
        through = None if row is None or row[0] is None else from_iso(row[0]) - WATERMARK_MARGIN
        if through is None or through <= since:
            return list(self._stream(_UNDELIVERED, params))
        return list(self._stream(_UNDELIVERED_SINCE, (iso(through), *params)))

    def latest_match(self) -> datetime | None:
        """When the newest topic membership was made: read before :meth:`undelivered`, it is
        what a complete delivery then covers."""
        row = self._conn.execute("SELECT max(matched_at) FROM topic_papers").fetchone()
        return None if row[0] is None else from_iso(row[0])

    def advance_delivered(self, channel: str, through: datetime) -> None:
        """Every paper with a topic membership made by ``through`` that ``channel`` was due is
        delivered (or was passed over): later reads start there. It never moves back."""
        with self.transaction():
            self._conn.execute(
                """UPDATE destinations SET delivered_through = ?
                WHERE channel = ? AND (delivered_through IS NULL OR delivered_through < ?)""",
                (iso(through), channel, iso(through)),
            )

    def destination_added(self, channel: str, *, at: datetime) -> datetime:
        """When ``channel`` first appeared; recorded as ``at`` the first time it is asked."""
        with self.transaction():
            self._conn.execute(
                "INSERT OR IGNORE INTO destinations (channel, added_at) VALUES (?, ?)",
                (channel, iso(at)),
            )
            row = self._conn.execute(
                "SELECT added_at FROM destinations WHERE channel = ?", (channel,)
            ).fetchone()
        return from_iso(row[0])

    def record_intent(self, channel: str, arxiv_ids: Sequence[str], *, at: datetime) -> int:
        """Commit "about to send these papers to ``channel``" before sending.

        A run killed between the service accepting the message and :meth:`confirm_intent`
        leaves the intent behind: the next run sees it (``open_intents``) and sends those papers
        again, so a crash costs at most one duplicate message, never a lost one.
        """
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO delivery_intents (channel, arxiv_ids, created_at) VALUES (?, ?, ?)",
                (channel, json.dumps(list(arxiv_ids)), iso(at)),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def confirm_intent(self, intent: int, *, at: datetime) -> None:
        """The message was accepted: its papers are delivered, in the same transaction."""
        with self.transaction():
            row = self._conn.execute(
                "SELECT channel, arxiv_ids FROM delivery_intents WHERE id = ?", (intent,)
            ).fetchone()
            if row is None:
                raise ValueError(f"no delivery intent {intent}")
            self.mark_delivered(row[0], decode_json(row[1]), at=at)
            self._conn.execute("DELETE FROM delivery_intents WHERE id = ?", (intent,))

    def drop_intent(self, intent: int) -> None:
        """The message was refused before it could arrive: nothing was delivered."""
        with self.transaction():
            self._conn.execute("DELETE FROM delivery_intents WHERE id = ?", (intent,))

    def open_intents(self, channel: str) -> list[tuple[int, list[str], datetime]]:
        """(id, papers, when) of messages to ``channel`` that may or may not have arrived."""
        rows = self._conn.execute(
            """SELECT id, arxiv_ids, created_at FROM delivery_intents
            WHERE channel = ? ORDER BY id""",
            (channel,),
        )
        return [(row[0], list(decode_json(row[1])), from_iso(row[2])) for row in rows]

    def mark_delivered(self, channel: str, arxiv_ids: Iterable[str], *, at: datetime) -> None:
        with self.transaction():
            self._conn.executemany(
                "INSERT OR IGNORE INTO deliveries (channel, arxiv_id, sent_at) VALUES (?, ?, ?)",
                [(channel, arxiv_id, iso(at)) for arxiv_id in arxiv_ids],
            )
