"""BibTeX key stems, kept so that unique citation keys come from an index instead of 100,000
stems recomputed per publish."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from arxiv_radar.store.connection import Job
from arxiv_radar.store.rows import iso

__all__ = ["Bib"]


_BIB_RANKS = """SELECT b.arxiv_id, b.stem, (SELECT count(*) FROM bib_stems o WHERE o.stem = b.stem
        AND (o.published < b.published OR (o.published = b.published AND o.arxiv_id < b.arxiv_id)))
    FROM bib_stems b WHERE b.arxiv_id IN (SELECT value FROM json_each(?))"""


class Bib(Job):
    """Stems per paper and each key's rank among namesakes."""

    def record_bib_stems(self, stems: Iterable[tuple[str, str, datetime]]) -> None:
        """Store (id, stem, published); a row whose stem and date are unchanged is not
        rewritten."""
        with self.transaction():
            self._conn.executemany(
                """INSERT INTO bib_stems (arxiv_id, stem, published) VALUES (?, ?, ?)
                ON CONFLICT (arxiv_id) DO UPDATE SET stem = excluded.stem,
                    published = excluded.published
                WHERE stem IS NOT excluded.stem OR published IS NOT excluded.published""",
                [(i, stem, iso(published)) for i, stem, published in stems],
            )

    def bib_stem_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM bib_stems").fetchone()[0])

    def bib_ranks(self, ids: Iterable[str]) -> dict[str, tuple[str, int]]:
        """Per id: its stem and how many papers with the same stem come before it (by published
        date, then id): the oldest keeps the bare stem, a later namesake never renames it."""
        rows = self._conn.execute(_BIB_RANKS, (json.dumps(list(ids)),))
        return {row[0]: (row[1], int(row[2])) for row in rows}
