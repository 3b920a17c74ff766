"""Publishing state: published-date windows and their fingerprints, the newest announcements,
and the fingerprints of the files each publish wrote (what the publish stage compares).

A paper's ``rev`` is bumped by triggers (see :mod:`arxiv_radar.store.schema`) whenever anything
a page shows of it changes, so a window's (count, max rev) changes whenever one of its pages
would."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from arxiv_radar.paper import Entry
from arxiv_radar.store.connection import Job
from arxiv_radar.store.rows import CODE_JOIN, from_iso, iso, select_entries

__all__ = ["Publishing"]


_WINDOW_ENTRIES = select_entries(
    f"""FROM papers p {CODE_JOIN} WHERE p.published >= ? AND p.published < ?
    ORDER BY p.published DESC, p.arxiv_id DESC"""
)
_WINDOW_CHANGED = select_entries(
    f"""FROM papers p {CODE_JOIN} WHERE p.published >= ? AND p.published < ? AND p.rev > ?
    ORDER BY p.published DESC, p.arxiv_id DESC"""
)
_ANNOUNCED_ENTRIES = select_entries(
    f"""FROM papers p {CODE_JOIN}
    ORDER BY p.first_seen DESC, p.published DESC, p.arxiv_id DESC LIMIT ?"""
)


class Publishing(Job):
    """Window fingerprints, window listings and the recorded output fingerprints."""

    def revision(self) -> int:
        """The global revision counter: the ``rev`` the latest change gave its paper."""
        return int(self._conn.execute("SELECT n FROM revision").fetchone()[0])

    def published_span(self) -> tuple[datetime, datetime] | None:
        """The oldest and newest ``published`` stored (from the index ends), None when empty.

        Two queries: SQLite reads a min or a max alone from an index end, both together by
        scanning the table (0.07 s at 400k papers)."""
        oldest = self._conn.execute("SELECT min(published) FROM papers").fetchone()[0]
        newest = self._conn.execute("SELECT max(published) FROM papers").fetchone()[0]
        return None if oldest is None else (from_iso(oldest), from_iso(newest))

    def window_fingerprint(self, start: datetime, end: datetime) -> tuple[int, int]:
        """(papers, highest rev) published in ``[start, end)``: changes whenever any of them does.

        A paper that moves out lowers the count; one that moves in or changes carries a new,
        higher rev. Served by a covering index, so a month costs a few milliseconds.
        """
        row = self._conn.execute(
            """SELECT count(*), coalesce(max(rev), -1) FROM papers
            WHERE published >= ? AND published < ?""",
            (iso(start), iso(end)),
        ).fetchone()
        return int(row[0]), int(row[1])

    def listing_fingerprint(self, start: datetime, end: datetime) -> tuple[int, int]:
        """(papers, highest ``listing_rev``) published in ``[start, end)``: like
        :meth:`window_fingerprint`, but blind to enrichments (code links, translations,
        scores), for the pages that show none of them."""
        row = self._conn.execute(
            """SELECT count(*), coalesce(max(listing_rev), -1) FROM papers
            WHERE published >= ? AND published < ?""",
            (iso(start), iso(end)),
        ).fetchone()
        return int(row[0]), int(row[1])

    def window_entries_changed(self, start: datetime, end: datetime, rev: int) -> list[Entry]:
        """Papers published in ``[start, end)`` whose ``rev`` is above ``rev``, newest first:
        what changed in a window since a page of it was rendered."""
        return list(self._stream(_WINDOW_CHANGED, (iso(start), iso(end), rev)))

    def window_ids_changed(self, start: datetime, end: datetime, rev: int) -> set[str]:
        """The ids of :meth:`window_entries_changed`, from the index alone."""
        rows = self._conn.execute(
            "SELECT arxiv_id FROM papers WHERE published >= ? AND published < ? AND rev > ?",
            (iso(start), iso(end), rev),
        )
        return {row[0] for row in rows}

    def iter_window_entries(self, start: datetime, end: datetime) -> Iterator[Entry]:
        """Papers published in ``[start, end)``, newest first (the topic listings' order)."""
        return self._stream(_WINDOW_ENTRIES, (iso(start), iso(end)))

    def topic_window_count(self, topic: str, start: datetime, end: datetime) -> int:
        row = self._conn.execute(
            """SELECT count(*) FROM topic_papers
            WHERE topic = ? AND published >= ? AND published < ?""",
            (topic, iso(start), iso(end)),
        )
        return int(row.fetchone()[0])

    def announced_entries(self, limit: int) -> list[Entry]:
        """The ``limit`` latest announced: by first seen, then published, then id, descending."""
        return list(self._stream(_ANNOUNCED_ENTRIES, (limit,)))

    def output_fingerprints(self) -> dict[str, str]:
        """Per output file, the fingerprint of the store content it was last rendered from."""
        return dict(self._conn.execute("SELECT path, fingerprint FROM outputs"))

    def record_outputs(self, fingerprints: Mapping[str, str]) -> None:
        with self.transaction():
            self._conn.executemany(
                """INSERT INTO outputs (path, fingerprint) VALUES (?, ?)
                ON CONFLICT (path) DO UPDATE SET fingerprint = excluded.fingerprint""",
                fingerprints.items(),
            )

    def papers_changed_since(self, rev: int) -> Iterator[tuple[str, str, str, datetime]]:
        """(id, first author, title, published) of papers changed after revision ``rev``."""
        rows = self._conn.execute(
            """SELECT arxiv_id, coalesce(json_extract(authors, '$[0]'), ''), title, published
            FROM papers WHERE rev > ?""",
            (rev,),
        )
        for row in rows:
            yield row[0], row[1], row[2], from_iso(row[3])
