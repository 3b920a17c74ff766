"""The schema's history: named migration functions applied once each, in order, each in its
own transaction (``PRAGMA user_version`` records how many have run; see ``Store.open``).

Migrations are never edited after they ship: later changes are new functions appended to
``MIGRATIONS``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from arxiv_radar.store.schema import (
    MARK_PAPER,
    SCHEMA_1,
    SCHEMA_2,
    SCHEMA_4,
    SCHEMA_RANK,
    dirty_triggers,
    schema_7,
    schema_9,
    schema_10,
    schema_11,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration"]


def _m001_initial_schema(conn: sqlite3.Connection) -> None:
    """Papers, topic membership, runs, meta, per-category progress and checkpoints."""
    for statement in SCHEMA_1:
        conn.execute(statement)


def _m002_enrichments(conn: sqlite3.Connection) -> None:
    """Code links with their re-check schedule and stars; cached translations and TL;DRs."""
    for statement in SCHEMA_2:
        conn.execute(statement)


def _m003_deliveries(conn: sqlite3.Connection) -> None:
    """Which papers each email or chat destination has already received."""
    conn.execute(
        """CREATE TABLE deliveries (
            channel TEXT NOT NULL,
            arxiv_id TEXT NOT NULL REFERENCES papers (arxiv_id) ON DELETE CASCADE,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (channel, arxiv_id)
        ) WITHOUT ROWID"""
    )


def _m004_revisions(conn: sqlite3.Connection) -> None:
    """Paper revisions bumped by triggers, recorded output fingerprints, BibTeX key stems."""
    for statement in SCHEMA_4:
        conn.execute(statement)


def _m005_destinations_and_intents(conn: sqlite3.Connection) -> None:
    """When each destination first appeared (it gets papers announced since then), and the
    messages a run is about to send (committed before the POST: see ``record_intent``)."""
    conn.execute(
        """CREATE TABLE destinations (
            channel TEXT PRIMARY KEY,
            added_at TEXT NOT NULL
        ) WITHOUT ROWID"""
    )
    # A destination that already received papers has been there since its first delivery.
    conn.execute(
        """INSERT INTO destinations (channel, added_at)
        SELECT channel, min(sent_at) FROM deliveries GROUP BY channel"""
    )
    conn.execute(
        """CREATE TABLE delivery_intents (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            arxiv_ids TEXT NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX delivery_intents_by_channel ON delivery_intents (channel)")


def _m006_topic_state(conn: sqlite3.Connection) -> None:
    """Per topic without categories, the last listing day its own search covered completely: its
    searches resume from there, whatever the categories' progress."""
    conn.execute(
        """CREATE TABLE topic_state (
            topic TEXT PRIMARY KEY,
            searched_through TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )


def _m007_state_dirty_days(conn: sqlite3.Connection) -> None:
    """Triggers that record which days of the committed text state changed, so an export
    writes only those shards (work proportional to the change, not to the history)."""
    for statement in schema_7():
        conn.execute(statement)


def _m008_rank(conn: sqlite3.Connection) -> None:
    """Seed paper metadata and per-topic relevance scores with their reasons; scores are part
    of the committed state, so they mark their paper's day dirty like the other enrichments."""
    for statement in SCHEMA_RANK:
        conn.execute(statement)
    conn.execute("CREATE INDEX rank_scores_by_paper ON rank_scores (arxiv_id, topic)")
    for statement in dirty_triggers("rank_scores", MARK_PAPER):
        conn.execute(statement)


def _m009_stars_apart_and_due_indexes(conn: sqlite3.Connection) -> None:
    """Star counts no longer bump a paper's rev nor mark its state day dirty (they are
    published and committed apart, see ``star_counts_json``); a counter says when they changed; an
    index serves the star counts that are due."""
    for statement in schema_9():
        conn.execute(statement)


def _m010_listing_revisions(conn: sqlite3.Connection) -> None:
    """A second revision for what lists a paper (metadata, topics) apart from its enrichments,
    so pages that show no code link or translation skip a month where only those changed; the
    citation stems' revisions, which only the old BibTeX fingerprint read, go."""
    for statement in schema_10():
        conn.execute(statement)


def _m011_delivery_watermarks(conn: sqlite3.Connection) -> None:
    """Each destination's delivery watermark and the memberships by time, so that what is
    due to a destination is read from its last complete delivery on."""
    for statement in schema_11():
        conn.execute(statement)


Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: tuple[Migration, ...] = (
    _m001_initial_schema,
    _m002_enrichments,
    _m003_deliveries,
    _m004_revisions,
    _m005_destinations_and_intents,
    _m006_topic_state,
    _m007_state_dirty_days,
    _m008_rank,
    _m009_stars_apart_and_due_indexes,
    _m010_listing_revisions,
    _m011_delivery_watermarks,
)
SCHEMA_VERSION = len(MIGRATIONS)
