"""What every job of the store shares: UTC text timestamps, JSON columns, and the paper query
whose rows decode into :class:`~arxiv_radar.paper.Entry`.

Datetimes are stored as UTC ISO-8601 text, which sorts chronologically as text, so ordering and
range filters are served by plain indexes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from arxiv_radar.paper import Entry, Paper

__all__ = [
    "CODE_JOIN",
    "FETCH_BATCH",
    "TEXT_PARAMS",
    "decode_json",
    "from_iso",
    "iso",
    "ordered_categories",
    "row_to_entry",
    "select_entries",
    "stream_entries",
    "stream_rows",
]


def iso(moment: datetime) -> str:
    """UTC ISO-8601 text; naive datetimes are refused because their zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone; pass UTC")
    return moment.astimezone(timezone.utc).isoformat()


def from_iso(text: str) -> datetime:
    """Parse text written by :func:`iso` (already UTC, so no conversion: this runs per row)."""
    return datetime.fromisoformat(text)


# The store writes its JSON with json.dumps (no surrounding whitespace), so rows are decoded
# with raw_decode: json.loads spends as long again on whitespace checks, per field, per row.
_JSON_DECODER = json.JSONDecoder()


def decode_json(text: str) -> Any:
    """A JSON column's value (written compact by ``json.dumps``)."""
    return _JSON_DECODER.raw_decode(text)[0]


def ordered_categories(paper: Paper) -> list[str]:
    """Primary category first, then the others once each in their given order."""
    ordered = [paper.primary_category] if paper.primary_category else []
    ordered += [c for c in paper.categories if c not in ordered]
    return ordered


def _text_column(field: str) -> str:
    """A cached text of ``field`` for the paper's current version in the display language (the
    first bound parameters of every entry query); primary-key order picks one deterministically
    when several providers or models translated it, without a sort."""
    return f"""(SELECT x.text FROM texts x WHERE x.arxiv_id = p.arxiv_id
        AND x.version = p.version AND x.field = '{field}' AND x.language = ? LIMIT 1)"""


# Column order shared by every paper query and row_to_entry.
_ENTRY_COLUMNS = f"""p.arxiv_id, p.version, p.title, p.authors, p.abstract, p.categories,
    p.primary_category, p.published, p.updated, p.comment, p.doi, p.journal_ref, p.first_seen,
    (SELECT json_group_array(tp.topic) FROM topic_papers tp WHERE tp.arxiv_id = p.arxiv_id),
    c.code_url, c.project_url, c.stars,
    {_text_column("title")}, {_text_column("abstract")}, {_text_column("tldr")}"""
TEXT_PARAMS = 3


def select_entries(tail: str, *, extra: str = "") -> str:
    """A paper query: the entry columns (then ``extra`` columns, if any), then ``tail``
    (FROM papers p ..., with code_links c joined)."""
    columns = f"{_ENTRY_COLUMNS}, {extra}" if extra else _ENTRY_COLUMNS
    return f"SELECT {columns} {tail}"


CODE_JOIN = "LEFT JOIN code_links c ON c.arxiv_id = p.arxiv_id"
# How many rows a stream decodes at a time: entries are built while SQLite reads on.
FETCH_BATCH = 256


def row_to_entry(row: Sequence[Any]) -> Entry:
    """One row of a :func:`select_entries` query as the publishers' :class:`Entry`."""
    paper = Paper(
        arxiv_id=row[0],
        version=row[1],
        title=row[2],
        authors=tuple(decode_json(row[3])),
        abstract=row[4],
        categories=tuple(decode_json(row[5])),
        primary_category=row[6],
        published=from_iso(row[7]),
        updated=from_iso(row[8]),
        comment=row[9],
        doi=row[10],
        journal_ref=row[11],
    )
    return Entry(
        paper=paper,
        first_seen=from_iso(row[12]),
        topics=tuple(sorted(decode_json(row[13]))),
        code_url=row[14],
        project_url=row[15],
        stars=row[16],
        title_translated=row[17],
        abstract_translated=row[18],
        tldr=row[19],
    )


def stream_rows(
    conn: sqlite3.Connection, language: str | None, sql: str, params: tuple[Any, ...]
) -> Iterator[Sequence[Any]]:
    """The rows of ``sql`` (a :func:`select_entries` query), with cached texts in ``language``,
    fetched batch by batch: a 100,000-paper listing is never held as rows."""
    cursor = conn.execute(sql, (language,) * TEXT_PARAMS + params)
    try:
        while rows := cursor.fetchmany(FETCH_BATCH):
            yield from rows
    finally:
        cursor.close()


def stream_entries(
    conn: sqlite3.Connection, language: str | None, sql: str, params: tuple[Any, ...]
) -> Iterator[Entry]:
    """:func:`stream_rows` decoded into entries as they come."""
    return (row_to_entry(row) for row in stream_rows(conn, language, sql, params))
