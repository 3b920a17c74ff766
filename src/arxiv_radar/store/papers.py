"""Papers: one row per arXiv id (without version) whatever the number of topics it belongs to.

A new version updates the metadata but keeps the first-announced date, and the cached texts
whose source fields did not change follow the paper to its new version.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from arxiv_radar.paper import Entry, Paper
from arxiv_radar.store.connection import Job
from arxiv_radar.store.rows import (
    CODE_JOIN,
    TEXT_PARAMS,
    from_iso,
    iso,
    ordered_categories,
    row_to_entry,
    select_entries,
)

__all__ = ["PROVISIONAL_SOURCE", "Papers", "UpsertResult", "stored_ids"]


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert changed: ids inserted, ids whose stored row changed, others seen again."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


_PAPER_BY_ID = select_entries(f"FROM papers p {CODE_JOIN} WHERE p.arxiv_id = ?")
_ALL_ENTRIES = select_entries(
    f"FROM papers p {CODE_JOIN} ORDER BY p.published DESC, p.arxiv_id DESC"
)
# The latest announcement's papers: a range of the first_seen index, then sorted. Left to
# itself, SQLite walks the published index for the order and tests every paper's first_seen,
# which at 400k papers took 0.7 s of every publish for 600 rows.
_ENTRIES_SINCE = select_entries(
    f"""FROM papers p INDEXED BY papers_by_announced {CODE_JOIN} WHERE p.first_seen >= ?
    ORDER BY p.published DESC, p.arxiv_id DESC"""
)

# Id lists travel as one JSON parameter: no bound-parameter limit, no SQL built per call.
_STORED_ROWS = """SELECT arxiv_id, published, source, version, title, authors, abstract, comment,
        categories, primary_category, doi, journal_ref, updated
    FROM papers WHERE arxiv_id IN (SELECT value FROM json_each(?))"""
# Rows built from the daily listing alone (the API had no record yet): their metadata is
# requested again on later runs, and any API answer for the same version replaces it.
PROVISIONAL_SOURCE = "listing-only"
# Texts made from a field, and the fields they are made from: a new version whose fields are
# unchanged keeps its translations and summary, a changed one has them made again.
_TEXT_SOURCES = {"title": ("title",), "abstract": ("abstract",), "tldr": ("title", "abstract")}
_KNOWN_IDS = "SELECT arxiv_id FROM papers WHERE arxiv_id IN (SELECT value FROM json_each(?))"


def stored_ids(conn: sqlite3.Connection, ids: Iterable[str]) -> set[str]:
    """The subset of ``ids`` stored (any version); topics check memberships against it."""
    return {row[0] for row in conn.execute(_KNOWN_IDS, (json.dumps(list(ids)),))}


def _merge_batch(papers: Iterable[Paper]) -> dict[str, Paper]:
    """One paper per id: the highest version, dated by the earliest ``published`` seen."""
    merged: dict[str, Paper] = {}
    for paper in papers:
        held = merged.get(paper.arxiv_id)
        if held is None:
            merged[paper.arxiv_id] = paper
            continue
        best = paper if paper.version > held.version else held
        earliest = min(paper.published, held.published)
        if best.published != earliest:
            best = dataclasses.replace(best, published=earliest)
        merged[paper.arxiv_id] = best
    return merged


@dataclass(frozen=True)
class _StoredRow:
    """What an upsert compares a paper with: its stored date, source and metadata columns."""

    published: str
    source: str
    metadata: tuple[Any, ...]  # as :func:`_metadata` writes them

    def text(self, name: str) -> str:
        return str(self.metadata[_METADATA_FIELDS.index(name)])

    def replaced_by(self, paper: Paper, *, provisional: bool) -> bool:
        """A higher version always replaces the row; the same version only with the API's
        record (never the listing's), when the row is provisional or something differs."""
        version = int(self.metadata[0])
        if paper.version != version:
            return paper.version > version
        if provisional:
            return False
        return self.source == PROVISIONAL_SOURCE or _metadata(paper) != self.metadata


_METADATA_FIELDS = (
    "version",
    "title",
    "authors",
    "abstract",
    "comment",
    "categories",
    "primary_category",
    "doi",
    "journal_ref",
    "updated",
)


def _metadata(paper: Paper) -> tuple[Any, ...]:
    """The columns a new version replaces, in the order both write statements use."""
    return (
        paper.version,
        paper.title,
        json.dumps(list(paper.authors)),
        paper.abstract,
        paper.comment,
        json.dumps(ordered_categories(paper)),
        paper.primary_category,
        paper.doi,
        paper.journal_ref,
        iso(paper.updated),
    )


class Papers(Job):
    """Paper rows: upserts of new versions, lookups, and listings in published order."""

    def upsert_papers(
        self, papers: Iterable[Paper], *, seen_at: datetime, source: str
    ) -> UpsertResult:
        """Insert new papers, update changed ones, touch ``last_seen`` on the rest.

        A paper changes with a higher version, or at the same version when its metadata differs
        (a comment, DOI or journal ref added, or a row built from the listing alone meeting the
        API's record). An update keeps ``first_seen`` and the earliest ``published`` ever seen:
        that is the v1 date readers know the paper by. A paper whose only change is an earlier
        ``published`` (a source that knew v1) counts as updated. With ``source`` equal to
        :data:`PROVISIONAL_SOURCE` the papers carry listing data only: they are inserted or
        take a new version, but never overwrite a stored record of the same version.
        """
        seen = iso(seen_at)
        merged = _merge_batch(papers)
        provisional = source == PROVISIONAL_SOURCE
        with self.transaction():
            stored = self._stored_rows(list(merged))
            new = [p for i, p in merged.items() if i not in stored]
            changed = [
                p
                for i, p in merged.items()
                if i in stored and stored[i].replaced_by(p, provisional=provisional)
            ]
            changed_ids = {p.arxiv_id for p in changed}
            redated = [
                p
                for i, p in merged.items()
                if i in stored and i not in changed_ids and iso(p.published) < stored[i].published
            ]
            self._insert_papers(new, seen, source)
            self._carry_texts(changed, stored)
            self._update_papers(changed, seen, source)
            self._conn.executemany(
                "UPDATE papers SET published = min(published, ?) WHERE arxiv_id = ?",
                [(iso(p.published), p.arxiv_id) for p in redated],
            )
            self._conn.executemany(
                "UPDATE papers SET last_seen = max(last_seen, ?) WHERE arxiv_id = ?",
                [(seen, arxiv_id) for arxiv_id in stored],
            )
        updated = [p.arxiv_id for p in changed] + [p.arxiv_id for p in redated]
        return UpsertResult(
            new=[p.arxiv_id for p in new],
            updated=updated,
            unchanged=len(stored) - len(updated),
        )

    def _stored_rows(self, ids: Sequence[str]) -> dict[str, _StoredRow]:
        rows = self._conn.execute(_STORED_ROWS, (json.dumps(list(ids)),))
        return {row[0]: _StoredRow(row[1], row[2], tuple(row[3:])) for row in rows}

    def _carry_texts(self, papers: Sequence[Paper], stored: Mapping[str, _StoredRow]) -> None:
        """Translations and summaries follow a paper to its new version when the text they were
        made from is unchanged; otherwise they are dropped, so enrichment makes them again."""
        for paper in papers:
            old = stored[paper.arxiv_id]
            for made, sources in _TEXT_SOURCES.items():
                if all(old.text(name) == getattr(paper, name) for name in sources):
                    self._conn.execute(
                        """UPDATE OR REPLACE texts SET version = ?
                        WHERE arxiv_id = ? AND field = ? AND version <> ?""",
                        (paper.version, paper.arxiv_id, made, paper.version),
                    )
                else:
                    self._conn.execute(
                        "DELETE FROM texts WHERE arxiv_id = ? AND field = ?",
                        (paper.arxiv_id, made),
                    )

    def provisional_ids(self) -> list[str]:
        """Papers stored from the listing alone, whose API record is still to be read."""
        rows = self._conn.execute(
            "SELECT arxiv_id FROM papers WHERE source = ? ORDER BY arxiv_id", (PROVISIONAL_SOURCE,)
        )
        return [row[0] for row in rows]

    def _insert_papers(self, papers: Sequence[Paper], seen: str, source: str) -> None:
        self._conn.executemany(
            """INSERT INTO papers (arxiv_id, version, title, authors, abstract, comment,
                categories, primary_category, doi, journal_ref, updated, published,
                first_seen, last_seen, source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(p.arxiv_id, *_metadata(p), iso(p.published), seen, seen, source) for p in papers],
        )

    def _update_papers(self, papers: Sequence[Paper], seen: str, source: str) -> None:
        self._conn.executemany(
            """UPDATE papers SET version = ?, title = ?, authors = ?, abstract = ?,
                comment = ?, categories = ?, primary_category = ?, doi = ?, journal_ref = ?,
                updated = ?, published = min(published, ?), last_seen = max(last_seen, ?),
                source = ?
            WHERE arxiv_id = ?""",
            [(*_metadata(p), iso(p.published), seen, source, p.arxiv_id) for p in papers],
        )

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        """The subset of ``ids`` already stored (any version)."""
        return stored_ids(self._conn, ids)

    def get_paper(self, arxiv_id: str) -> Paper | None:
        params = (self.display_language,) * TEXT_PARAMS + (arxiv_id,)
        row = self._conn.execute(_PAPER_BY_ID, params).fetchone()
        return None if row is None else row_to_entry(row).paper

    def paper_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    def iter_entries(self, *, since: datetime | None = None) -> Iterator[Entry]:
        """Every paper, newest ``published`` first, with its topics; ``since`` bounds first_seen."""
        if since is None:
            return self._stream(_ALL_ENTRIES, ())
        return self._stream(_ENTRIES_SINCE, (iso(since),))

    def newest_first_seen(self) -> datetime | None:
        """When the latest paper was first stored (from the index end), None when empty."""
        row = self._conn.execute("SELECT max(first_seen) FROM papers").fetchone()
        return None if row[0] is None else from_iso(row[0])
