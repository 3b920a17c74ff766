"""The SQLite store: the only module that speaks SQL.

Every paper is stored once (one row per arXiv id, without version) whatever the number of topics
it belongs to. Datetimes are stored as UTC ISO-8601 text, which sorts chronologically as text, so
ordering and range filters are served by plain indexes. The schema evolves through named migration
functions applied once each, in order, each in its own transaction; ``PRAGMA user_version`` records
how many have run. Migrations are never edited after they ship: later changes are new functions
appended to ``MIGRATIONS``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from arxiv_radar.enrich.model import (
    CODE_CHECK_HORIZON,
    CodeCandidate,
    CodeOutcome,
    StarsSchedule,
    TextKey,
)
from arxiv_radar.errors import StoreError
from arxiv_radar.paper import Entry, Paper

__all__ = [
    "MIGRATIONS",
    "PROVISIONAL_SOURCE",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "RankedRow",
    "RunRecord",
    "Store",
    "UpsertResult",
]

log = logging.getLogger(__name__)

RUN_STATUSES = ("running", "ok", "partial", "failed", "nothing")
_BUSY_TIMEOUT_MS = 30_000
_FETCH_BATCH = 256


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert changed: ids inserted, ids whose stored row changed, others seen again."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


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


@dataclass(frozen=True)
class RankedRow:
    """A stored relevance score of one paper in one topic, with its reason."""

    arxiv_id: str
    score: float
    why: str
    basis: str


# --- migrations -------------------------------------------------------------------------------

_SCHEMA_1 = (
    """CREATE TABLE papers (
        arxiv_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        title TEXT NOT NULL,
        authors TEXT NOT NULL,
        abstract TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        categories TEXT NOT NULL,
        primary_category TEXT NOT NULL,
        doi TEXT NOT NULL DEFAULT '',
        journal_ref TEXT NOT NULL DEFAULT '',
        published TEXT NOT NULL,
        updated TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        source TEXT NOT NULL
    )""",
    # Serves every "newest first" listing without a sort; carries arxiv_id so topic membership
    # can be probed from the index alone.
    "CREATE INDEX papers_by_published ON papers (published DESC, arxiv_id DESC)",
    "CREATE INDEX papers_by_first_seen ON papers (first_seen)",
    # ``published`` is a copy of papers.published (kept equal by the trigger below) so that one
    # index walks a topic newest first: no sort, no scan of other topics' papers.
    """CREATE TABLE topic_papers (
        topic TEXT NOT NULL,
        arxiv_id TEXT NOT NULL REFERENCES papers (arxiv_id) ON DELETE CASCADE,
        matched_at TEXT NOT NULL,
        published TEXT NOT NULL,
        PRIMARY KEY (topic, arxiv_id)
    ) WITHOUT ROWID""",
    """CREATE INDEX topic_papers_by_published
        ON topic_papers (topic, published DESC, arxiv_id DESC)""",
    # The topics of one paper (Entry.topics) from the index alone.
    "CREATE INDEX topic_papers_by_paper ON topic_papers (arxiv_id, topic)",
    """CREATE TRIGGER topic_papers_follow_published
        AFTER UPDATE OF published ON papers WHEN NEW.published <> OLD.published
    BEGIN
        UPDATE topic_papers SET published = NEW.published WHERE arxiv_id = NEW.arxiv_id;
    END""",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL
            CHECK (status IN ('running', 'ok', 'partial', 'failed', 'nothing')),
        stats TEXT NOT NULL DEFAULT '{}',
        errors TEXT NOT NULL DEFAULT '[]'
    )""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE category_state (
        category TEXT PRIMARY KEY,
        last_announced TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE checkpoints (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
)


def _m001_initial_schema(conn: sqlite3.Connection) -> None:
    """Papers, topic membership, runs, meta, per-category progress and checkpoints."""
    for statement in _SCHEMA_1:
        conn.execute(statement)


_SCHEMA_2 = (
    # One row per paper once a code-link finder has looked at it; ``next_check`` NULL with
    # ``code_url`` NULL means "stop looking" (the re-check schedule ran out).
    """CREATE TABLE code_links (
        arxiv_id TEXT PRIMARY KEY REFERENCES papers (arxiv_id) ON DELETE CASCADE,
        code_url TEXT,
        project_url TEXT,
        stars INTEGER,
        stars_at TEXT,
        source TEXT NOT NULL,
        checked_at TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_check TEXT
    )""",
    "CREATE INDEX code_links_due ON code_links (next_check) WHERE code_url IS NULL",
    "CREATE INDEX code_links_by_url ON code_links (code_url) WHERE code_url IS NOT NULL",
    # Translations and summaries, cached by everything that changes their text: a paper is
    # never translated twice for the same version, field, language, provider and model.
    """CREATE TABLE texts (
        arxiv_id TEXT NOT NULL REFERENCES papers (arxiv_id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        field TEXT NOT NULL,
        language TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (arxiv_id, version, field, language, provider, model)
    ) WITHOUT ROWID""",
)


def _m002_enrichments(conn: sqlite3.Connection) -> None:
    """Code links with their re-check schedule and stars; cached translations and TL;DRs."""
    for statement in _SCHEMA_2:
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


# One statement pair bumps a paper's ``rev`` to the next value of the global counter; ``{row}``
# is NEW or OLD. Anything that changes what a paper looks like in any output bumps it, so a
# published-date window's (count, max rev) changes whenever one of its pages would.
_BUMP = """UPDATE revision SET n = n + 1;
    UPDATE papers SET rev = (SELECT n FROM revision) WHERE arxiv_id = {row}.arxiv_id;"""
_RENDERED_PAPER_COLUMNS = (
    "version",
    "title",
    "authors",
    "abstract",
    "comment",
    "categories",
    "primary_category",
    "doi",
    "journal_ref",
    "published",
    "updated",
    "first_seen",
)
_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _RENDERED_PAPER_COLUMNS)
_LINK_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in ("code_url", "project_url", "stars"))
_SCHEMA_4 = (
    "ALTER TABLE papers ADD COLUMN rev INTEGER NOT NULL DEFAULT 0",
    "CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)",
    "INSERT INTO revision (id, n) VALUES (1, 0)",
    # Covering index for window fingerprints: count and max(rev) without reading paper rows.
    "CREATE INDEX papers_by_published_rev ON papers (published, rev)",
    "CREATE INDEX papers_by_rev ON papers (rev)",
    # The newest announcements for the feeds without sorting the whole table.
    "CREATE INDEX papers_by_announced ON papers (first_seen DESC, published DESC, arxiv_id DESC)",
    f"CREATE TRIGGER papers_rev_insert AFTER INSERT ON papers BEGIN {_BUMP.format(row='NEW')} END",
    f"""CREATE TRIGGER papers_rev_update AFTER UPDATE OF {", ".join(_RENDERED_PAPER_COLUMNS)}
        ON papers WHEN {_CHANGED} BEGIN {_BUMP.format(row="NEW")} END""",
    f"""CREATE TRIGGER topic_papers_rev_insert AFTER INSERT ON topic_papers
        BEGIN {_BUMP.format(row="NEW")} END""",
    f"""CREATE TRIGGER topic_papers_rev_delete AFTER DELETE ON topic_papers
        BEGIN {_BUMP.format(row="OLD")} END""",
    f"""CREATE TRIGGER code_links_rev_insert AFTER INSERT ON code_links
        BEGIN {_BUMP.format(row="NEW")} END""",
    f"""CREATE TRIGGER code_links_rev_update AFTER UPDATE ON code_links WHEN {_LINK_CHANGED}
        BEGIN {_BUMP.format(row="NEW")} END""",
    f"CREATE TRIGGER texts_rev_insert AFTER INSERT ON texts BEGIN {_BUMP.format(row='NEW')} END",
    f"""CREATE TRIGGER texts_rev_update AFTER UPDATE ON texts
        BEGIN {_BUMP.format(row="NEW")} END""",
    f"CREATE TRIGGER texts_rev_delete AFTER DELETE ON texts BEGIN {_BUMP.format(row='OLD')} END",
    # What each published file was rendered from (see arxiv_radar.publish.incremental).
    "CREATE TABLE outputs (path TEXT PRIMARY KEY, fingerprint TEXT NOT NULL) WITHOUT ROWID",
    # BibTeX key stems (a pure function of first author, year and title), kept so that unique
    # keys come from an index instead of recomputing 100,000 stems per publish. ``rev`` is the
    # paper revision the stem or date last changed at: a month's keys change only when it does.
    """CREATE TABLE bib_stems (
        arxiv_id TEXT PRIMARY KEY REFERENCES papers (arxiv_id) ON DELETE CASCADE,
        stem TEXT NOT NULL,
        published TEXT NOT NULL,
        rev INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX bib_stems_by_stem ON bib_stems (stem, published, arxiv_id)",
    "CREATE INDEX bib_stems_by_published ON bib_stems (published, rev)",
)


def _m004_revisions(conn: sqlite3.Connection) -> None:
    """Paper revisions bumped by triggers, recorded output fingerprints, BibTeX key stems."""
    for statement in _SCHEMA_4:
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


# The papers columns the committed text state holds (see arxiv_radar.snapshot): everything but
# the derived ``rev`` and ``last_seen``, which every listing that shows a paper again moves.
_STATE_PAPER_COLUMNS = (*_RENDERED_PAPER_COLUMNS, "source")
_DAY_OF = "substr({row}.published, 1, 10)"
# NOT EXISTS rather than OR IGNORE: the conflict policy of the statement that fires a trigger
# (an upsert's, say) overrides the one written inside it.
_MARK = """INSERT INTO dirty_days (day) SELECT {day}
    WHERE NOT EXISTS (SELECT 1 FROM dirty_days WHERE day = {day});"""
_MARK_PAPER = """INSERT INTO dirty_days (day) SELECT d FROM
    (SELECT substr(published, 1, 10) AS d FROM papers WHERE arxiv_id = {row}.arxiv_id)
    WHERE NOT EXISTS (SELECT 1 FROM dirty_days WHERE day = d);"""
_STATE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _STATE_PAPER_COLUMNS)


def _dirty_triggers(table: str, mark: str) -> Iterator[str]:
    """AFTER INSERT / UPDATE / DELETE triggers on ``table`` that mark the paper's day."""
    new, old = (mark.format(row=row, day=_DAY_OF.format(row=row)) for row in ("NEW", "OLD"))
    yield f"CREATE TRIGGER {table}_dirty_insert AFTER INSERT ON {table} BEGIN {new} END"
    yield f"CREATE TRIGGER {table}_dirty_update AFTER UPDATE ON {table} BEGIN {old} {new} END"
    yield f"CREATE TRIGGER {table}_dirty_delete AFTER DELETE ON {table} BEGIN {old} END"


def _schema_7() -> Iterator[str]:
    # Days (YYYY-MM-DD of the UTC published date) whose state shard must be written again.
    yield "CREATE TABLE dirty_days (day TEXT PRIMARY KEY) WITHOUT ROWID"
    # A paper's deliveries for its state line, without scanning every channel's rows.
    yield "CREATE INDEX deliveries_by_paper ON deliveries (arxiv_id, channel)"
    new, old = (_MARK.format(day=_DAY_OF.format(row=row)) for row in ("NEW", "OLD"))
    yield f"CREATE TRIGGER papers_dirty_insert AFTER INSERT ON papers BEGIN {new} END"
    # Both days: a paper dated earlier leaves its old day's shard.
    yield f"""CREATE TRIGGER papers_dirty_update AFTER UPDATE OF {", ".join(_STATE_PAPER_COLUMNS)}
        ON papers WHEN {_STATE_CHANGED} BEGIN {old} {new} END"""
    yield f"CREATE TRIGGER papers_dirty_delete AFTER DELETE ON papers BEGIN {old} END"
    # topic_papers carries its paper's published date; the others look it up.
    yield from _dirty_triggers("topic_papers", _MARK)
    for table in ("code_links", "texts", "deliveries"):
        yield from _dirty_triggers(table, _MARK_PAPER)


def _m007_state_dirty_days(conn: sqlite3.Connection) -> None:
    """Triggers that record which days of the committed text state changed, so an export
    writes only those shards (work proportional to the change, not to the history)."""
    for statement in _schema_7():
        conn.execute(statement)


_SCHEMA_RANK = (
    # Metadata of seed papers, fetched once from the arXiv API. Seeds are kept apart from
    # ``papers`` so that a seed never shows up in a digest it was not matched into.
    """CREATE TABLE seed_papers (
        arxiv_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        title TEXT NOT NULL,
        authors TEXT NOT NULL,
        abstract TEXT NOT NULL,
        categories TEXT NOT NULL,
        published TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    # One score and reason per (topic, paper). ``basis`` fingerprints what produced it (seeds,
    # followed authors, feedback, scorer version): a paper is scored again only when it changes,
    # so scores are stable between runs and pages are not re-rendered every day.
    """CREATE TABLE rank_scores (
        topic TEXT NOT NULL,
        arxiv_id TEXT NOT NULL REFERENCES papers (arxiv_id) ON DELETE CASCADE,
        score REAL NOT NULL,
        why TEXT NOT NULL,
        basis TEXT NOT NULL,
        scored_at TEXT NOT NULL,
        PRIMARY KEY (topic, arxiv_id)
    ) WITHOUT ROWID""",
    f"""CREATE TRIGGER rank_scores_rev_insert AFTER INSERT ON rank_scores
        BEGIN {_BUMP.format(row="NEW")} END""",
    f"""CREATE TRIGGER rank_scores_rev_update AFTER UPDATE ON rank_scores
        WHEN NEW.score IS NOT OLD.score OR NEW.why IS NOT OLD.why
        BEGIN {_BUMP.format(row="NEW")} END""",
    f"""CREATE TRIGGER rank_scores_rev_delete AFTER DELETE ON rank_scores
        BEGIN {_BUMP.format(row="OLD")} END""",
)


def _m008_rank(conn: sqlite3.Connection) -> None:
    """Seed paper metadata and per-topic relevance scores with their reasons; scores are part
    of the committed state, so they mark their paper's day dirty like the other enrichments."""
    for statement in _SCHEMA_RANK:
        conn.execute(statement)
    conn.execute("CREATE INDEX rank_scores_by_paper ON rank_scores (arxiv_id, topic)")
    for statement in _dirty_triggers("rank_scores", _MARK_PAPER):
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
)
SCHEMA_VERSION = len(MIGRATIONS)


# --- value conversions ------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    """UTC ISO-8601 text; naive datetimes are refused because their zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone; pass UTC")
    return moment.astimezone(timezone.utc).isoformat()


def _from_iso(text: str) -> datetime:
    """Parse text written by :func:`_iso` (already UTC, so no conversion: this runs per row)."""
    return datetime.fromisoformat(text)


# The store writes its JSON with json.dumps (no surrounding whitespace), so rows are decoded
# with raw_decode: json.loads spends as long again on whitespace checks, per field, per row.
_JSON_DECODER = json.JSONDecoder()


def _json(text: str) -> Any:
    return _JSON_DECODER.raw_decode(text)[0]


def _ordered_categories(paper: Paper) -> list[str]:
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


# Column order shared by every paper query and _row_to_entry.
_ENTRY_COLUMNS = f"""p.arxiv_id, p.version, p.title, p.authors, p.abstract, p.categories,
    p.primary_category, p.published, p.updated, p.comment, p.doi, p.journal_ref, p.first_seen,
    (SELECT json_group_array(tp.topic) FROM topic_papers tp WHERE tp.arxiv_id = p.arxiv_id),
    c.code_url, c.project_url, c.stars,
    {_text_column("title")}, {_text_column("abstract")}, {_text_column("tldr")}"""
_TEXT_PARAMS = 3


def _select_entries(tail: str) -> str:
    return f"SELECT {_ENTRY_COLUMNS} {tail}"


_CODE_JOIN = "LEFT JOIN code_links c ON c.arxiv_id = p.arxiv_id"
_PAPER_BY_ID = _select_entries(f"FROM papers p {_CODE_JOIN} WHERE p.arxiv_id = ?")
# CROSS JOIN pins the plan: walk the topic's index in order (no sort), then look each paper up.
# LIMIT -1 means no limit.
_TOPIC_ENTRIES = _select_entries(
    f"""FROM topic_papers t CROSS JOIN papers p ON p.arxiv_id = t.arxiv_id {_CODE_JOIN}
    WHERE t.topic = ? ORDER BY t.published DESC, t.arxiv_id DESC LIMIT ?"""
)
_ALL_ENTRIES = _select_entries(
    f"FROM papers p {_CODE_JOIN} ORDER BY p.published DESC, p.arxiv_id DESC"
)
_ENTRIES_SINCE = _select_entries(
    f"""FROM papers p {_CODE_JOIN} WHERE p.first_seen >= ?
    ORDER BY p.published DESC, p.arxiv_id DESC"""
)
_WINDOW_ENTRIES = _select_entries(
    f"""FROM papers p {_CODE_JOIN} WHERE p.published >= ? AND p.published < ?
    ORDER BY p.published DESC, p.arxiv_id DESC"""
)
_ANNOUNCED_ENTRIES = _select_entries(
    f"""FROM papers p {_CODE_JOIN}
    ORDER BY p.first_seen DESC, p.published DESC, p.arxiv_id DESC LIMIT ?"""
)
_BIB_RANKS = """SELECT b.arxiv_id, b.stem, (SELECT count(*) FROM bib_stems o WHERE o.stem = b.stem
        AND (o.published < b.published OR (o.published = b.published AND o.arxiv_id < b.arxiv_id)))
    FROM bib_stems b WHERE b.arxiv_id IN (SELECT value FROM json_each(?))"""
# Papers whose code links are due: never looked at (and still young enough for the re-check
# schedule to matter), or scheduled again. Newest first so today's papers go first.
_CODE_DUE = _select_entries(
    f"""FROM papers p {_CODE_JOIN}
    WHERE (c.arxiv_id IS NULL AND p.first_seen >= ?)
       OR (c.code_url IS NULL AND c.next_check IS NOT NULL AND c.next_check <= ?)
    ORDER BY p.published DESC, p.arxiv_id DESC"""
)
# Papers without code still on the re-check schedule but not due yet: a batch finder (one
# request for a whole day's list) may settle them between two scheduled checks.
_CODE_AWAITING = _select_entries(
    f"""FROM papers p {_CODE_JOIN}
    WHERE c.code_url IS NULL AND c.next_check IS NOT NULL AND c.next_check > ?
    ORDER BY p.published DESC, p.arxiv_id DESC"""
)
_TEXT_DUE = _select_entries(
    f"""FROM papers p {_CODE_JOIN}
    WHERE NOT EXISTS (SELECT 1 FROM texts x WHERE x.arxiv_id = p.arxiv_id
        AND x.version = p.version AND x.field = ? AND x.language = ? AND x.provider = ?
        AND x.model = ?)
    ORDER BY p.published DESC, p.arxiv_id DESC LIMIT ?"""
)
# Papers in at least one topic, first seen since a cut-off and first published not long
# before it (a backfilled 2004 paper is first seen today, but it is no news), that ``channel``
# has not received yet.
_UNDELIVERED = _select_entries(
    f"""FROM papers p {_CODE_JOIN}
    WHERE p.first_seen >= ? AND p.published >= ?
      AND EXISTS (SELECT 1 FROM topic_papers t WHERE t.arxiv_id = p.arxiv_id)
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.channel = ? AND d.arxiv_id = p.arxiv_id)
    ORDER BY p.published DESC, p.arxiv_id DESC"""
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


def _row_to_entry(row: Sequence[Any]) -> Entry:
    paper = Paper(
        arxiv_id=row[0],
        version=row[1],
        title=row[2],
        authors=tuple(_json(row[3])),
        abstract=row[4],
        categories=tuple(_json(row[5])),
        primary_category=row[6],
        published=_from_iso(row[7]),
        updated=_from_iso(row[8]),
        comment=row[9],
        doi=row[10],
        journal_ref=row[11],
    )
    return Entry(
        paper=paper,
        first_seen=_from_iso(row[12]),
        topics=tuple(sorted(_json(row[13]))),
        code_url=row[14],
        project_url=row[15],
        stars=row[16],
        title_translated=row[17],
        abstract_translated=row[18],
        tldr=row[19],
    )


def _row_to_run(row: Sequence[Any]) -> RunRecord:
    return RunRecord(
        id=row[0],
        command=row[1],
        started_at=_from_iso(row[2]),
        finished_at=_from_iso(row[3]) if row[3] is not None else None,
        status=row[4],
        stats=json.loads(row[5]),
        errors=json.loads(row[6]),
    )


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


def _wrap(path: Path, exc: sqlite3.Error) -> StoreError:
    """Turn an SQLite failure into a one-line StoreError that names the file and the fix."""
    text = " ".join(str(exc).split())
    if "locked" in text or "busy" in text:
        fix = "another arxiv-radar process is writing; wait for it to finish and retry"
    elif "full" in text:
        fix = (
            f"free some space on the disk holding {path.parent}, then run again "
            "(the interrupted step was rolled back: nothing is half-written)"
        )
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        fix = (
            "restore the file from a backup, or move it away to start a new store "
            "(`arxiv-radar doctor` checks its integrity)"
        )
    elif "readonly" in text or "read-only" in text:
        fix = "make the file and its directory writable for this user"
    else:
        fix = "check that the file and its directory are readable and writable"
    return StoreError(f"store {path}: {text}", fix=fix)


class _Cursor(sqlite3.Cursor):
    """Rows are read lazily, so a corrupted page can surface while iterating: name the file."""

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            raise _wrap(_path_of(self.connection), exc) from exc

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise _wrap(_path_of(self.connection), exc) from exc

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except sqlite3.Error as exc:
            raise _wrap(_path_of(self.connection), exc) from exc


class _Connection(sqlite3.Connection):
    """Every statement's SQLite error becomes a StoreError naming the file and the fix, so no
    command shows a traceback or a bare ``sqlite3.OperationalError`` (full disk, corruption)."""

    store_path = Path()

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return self.cursor(_Cursor).execute(sql, parameters)
        except sqlite3.Error as exc:
            raise _wrap(self.store_path, exc) from exc

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        try:
            return self.cursor(_Cursor).executemany(sql, parameters)
        except sqlite3.Error as exc:
            raise _wrap(self.store_path, exc) from exc


def _path_of(conn: sqlite3.Connection) -> Path:
    return conn.store_path if isinstance(conn, _Connection) else Path("(unknown)")


def _connect(path: Path, *, readonly: bool) -> _Connection:
    """A connection whose errors name ``path``; read-only opens never create or change it."""
    target = f"{path.resolve().as_uri()}?mode=ro" if readonly else str(path)
    try:
        conn = sqlite3.connect(
            target,
            isolation_level=None,
            timeout=_BUSY_TIMEOUT_MS / 1000,
            factory=_Connection,
            uri=readonly,
        )
    except sqlite3.Error as exc:
        raise _wrap(path, exc) from exc
    conn.store_path = path
    return conn


# --- the store --------------------------------------------------------------------------------


class Store:
    """A connection to one store file. Not shared across threads (SQLite's default)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        # Language whose cached translations and TL;DRs entries carry; None shows none.
        self.display_language: str | None = None
        self._depth = 0
        self.schema_version = SCHEMA_VERSION

    @property
    def pending_migrations(self) -> list[str]:
        """Migrations a read-only open found missing (a writing command applies them)."""
        return [migration.__name__ for migration in MIGRATIONS[self.schema_version :]]

    @property
    def path(self) -> Path:
        return self._path

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for :mod:`arxiv_radar.snapshot` only: the store's text twin reads
        and writes whole tables (export, bulk rebuild), which no per-job method would serve."""
        return self._conn

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False) -> Store:
        """Open (creating if needed) and migrate the store at ``path``; its directory must exist.

        ``readonly`` (``status``, ``doctor``) opens an existing file without ever writing it: no
        migration runs, :attr:`pending_migrations` says which ones the next run will apply.
        """
        if not path.parent.is_dir():
            raise StoreError(
                f"store {path}: directory {path.parent} does not exist",
                fix="create the directory or change the store path in the config",
            )
        if readonly and not path.is_file():
            raise StoreError(f"store {path} does not exist", fix="run `arxiv-radar run` first")
        conn = _connect(path, readonly=readonly)
        store = cls(conn, path)
        try:
            if readonly:
                store._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                store.schema_version = store._user_version()
                store._check_not_newer(store.schema_version)
            else:
                store._configure()
                store._migrate()
        except BaseException:
            conn.close()
            raise
        return store

    def quick_check(self) -> list[str]:
        """SQLite's ``PRAGMA quick_check``: [] when the file is sound, else what is damaged."""
        try:
            rows = [str(row[0]) for row in self._conn.execute("PRAGMA quick_check(20)")]
        except StoreError as exc:  # damage bad enough to stop the check itself
            return [exc.message.removeprefix(f"store {self._path}: ")]
        return [] if rows == ["ok"] else rows

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _configure(self) -> None:
        self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA foreign_keys = ON")
        mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        # WAL makes NORMAL safe against corruption; it only risks the last commit on power loss.
        self._conn.execute("PRAGMA synchronous = NORMAL")
        if mode != "wal":
            log.warning("store %s: journal mode is %s, not WAL", self._path, mode)

    def _user_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_not_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self._path} has schema version {version}, newer than this "
                f"arxiv-radar knows ({SCHEMA_VERSION})",
                fix="upgrade arxiv-radar",
            )

    def _migrate(self) -> None:
        """Apply the missing migrations, each in its own transaction.

        The version is read again inside each write transaction, so two processes opening a new
        file at once never apply a migration twice.
        """
        self._check_not_newer(self._user_version())
        for number, migration in enumerate(MIGRATIONS, start=1):
            with self.transaction():
                current = self._user_version()
                self._check_not_newer(current)
                if current >= number:
                    continue
                log.info("store %s: applying migration %s", self._path, migration.__name__)
                migration(self._conn)
                self._conn.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; nested calls join the outer one through a savepoint.

        ``BEGIN IMMEDIATE`` takes the write lock up front so a concurrent writer waits (up to the
        busy timeout) at the start instead of failing half-way. An inner block that raises undoes
        only its own writes; nothing is committed before the outermost block ends.
        """
        if self._depth:
            yield from self._savepoint()
            return
        self._conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            self._commit()
        finally:
            self._depth = 0

    def _commit(self) -> None:
        try:
            self._conn.execute("COMMIT")
        except StoreError:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already (it rolls back by itself on a
        full disk, and a ROLLBACK then would replace the real error by "no transaction")."""
        if not self._conn.in_transaction:
            return
        try:
            self._conn.execute("ROLLBACK")
        except StoreError as exc:
            log.warning("%s", exc)

    def _savepoint(self) -> Iterator[None]:
        name = f"sp{self._depth}"
        self._conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute(f"ROLLBACK TO {name}")
            raise
        finally:
            self._depth -= 1
            if self._conn.in_transaction:
                self._conn.execute(f"RELEASE {name}")

    # --- papers -------------------------------------------------------------------------------

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
        seen = _iso(seen_at)
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
                if i in stored and i not in changed_ids and _iso(p.published) < stored[i].published
            ]
            self._insert_papers(new, seen, source)
            self._carry_texts(changed, stored)
            self._update_papers(changed, seen, source)
            self._conn.executemany(
                "UPDATE papers SET published = min(published, ?) WHERE arxiv_id = ?",
                [(_iso(p.published), p.arxiv_id) for p in redated],
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
            [(p.arxiv_id, *_metadata(p), _iso(p.published), seen, seen, source) for p in papers],
        )

    def _update_papers(self, papers: Sequence[Paper], seen: str, source: str) -> None:
        self._conn.executemany(
            """UPDATE papers SET version = ?, title = ?, authors = ?, abstract = ?,
                comment = ?, categories = ?, primary_category = ?, doi = ?, journal_ref = ?,
                updated = ?, published = min(published, ?), last_seen = max(last_seen, ?),
                source = ?
            WHERE arxiv_id = ?""",
            [(*_metadata(p), _iso(p.published), seen, source, p.arxiv_id) for p in papers],
        )

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        """The subset of ``ids`` already stored (any version)."""
        rows = self._conn.execute(_KNOWN_IDS, (json.dumps(list(ids)),))
        return {row[0] for row in rows}

    def get_paper(self, arxiv_id: str) -> Paper | None:
        params = (self.display_language,) * _TEXT_PARAMS + (arxiv_id,)
        row = self._conn.execute(_PAPER_BY_ID, params).fetchone()
        return None if row is None else _row_to_entry(row).paper

    def paper_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    # --- topics -------------------------------------------------------------------------------

    def add_matches(self, topic: str, arxiv_ids: Iterable[str], *, matched_at: datetime) -> int:
        """Record that papers belong to ``topic``; returns how many memberships are new.

        The papers must be stored first: a membership of an unknown paper is a caller bug and
        raises ``ValueError`` before anything is written.
        """
        ids = list(dict.fromkeys(arxiv_ids))
        at = _iso(matched_at)
        with self.transaction():
            unknown = sorted(set(ids) - self.known_ids(ids))
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

    def iter_entries(self, *, since: datetime | None = None) -> Iterator[Entry]:
        """Every paper, newest ``published`` first, with its topics; ``since`` bounds first_seen."""
        if since is None:
            return self._stream(_ALL_ENTRIES, ())
        return self._stream(_ENTRIES_SINCE, (_iso(since),))

    def _stream(self, sql: str, params: tuple[Any, ...]) -> Iterator[Entry]:
        cursor = self._conn.execute(sql, (self.display_language,) * _TEXT_PARAMS + params)
        try:
            while rows := cursor.fetchmany(_FETCH_BATCH):
                yield from (_row_to_entry(row) for row in rows)
        finally:
            cursor.close()

    def newest_first_seen(self) -> datetime | None:
        """When the latest paper was first stored (from the index end), None when empty."""
        row = self._conn.execute("SELECT max(first_seen) FROM papers").fetchone()
        return None if row[0] is None else _from_iso(row[0])

    def topics_in_store(self) -> list[str]:
        rows = self._conn.execute("SELECT DISTINCT topic FROM topic_papers ORDER BY topic")
        return [row[0] for row in rows]

    # --- publishing: published-date windows, fingerprints, recorded outputs ---------------------

    def revision(self) -> int:
        """The global revision counter: the ``rev`` the latest change gave its paper."""
        return int(self._conn.execute("SELECT n FROM revision").fetchone()[0])

    def published_span(self) -> tuple[datetime, datetime] | None:
        """The oldest and newest ``published`` stored (from the index ends), None when empty."""
        row = self._conn.execute("SELECT min(published), max(published) FROM papers").fetchone()
        return None if row[0] is None else (_from_iso(row[0]), _from_iso(row[1]))

    def window_fingerprint(self, start: datetime, end: datetime) -> tuple[int, int]:
        """(papers, highest rev) published in ``[start, end)``: changes whenever any of them does.

        A paper that moves out lowers the count; one that moves in or changes carries a new,
        higher rev. Served by a covering index, so a month costs a few milliseconds.
        """
        row = self._conn.execute(
            """SELECT count(*), coalesce(max(rev), -1) FROM papers
            WHERE published >= ? AND published < ?""",
            (_iso(start), _iso(end)),
        ).fetchone()
        return int(row[0]), int(row[1])

    def iter_window_entries(self, start: datetime, end: datetime) -> Iterator[Entry]:
        """Papers published in ``[start, end)``, newest first (the topic listings' order)."""
        return self._stream(_WINDOW_ENTRIES, (_iso(start), _iso(end)))

    def topic_window_count(self, topic: str, start: datetime, end: datetime) -> int:
        row = self._conn.execute(
            """SELECT count(*) FROM topic_papers
            WHERE topic = ? AND published >= ? AND published < ?""",
            (topic, _iso(start), _iso(end)),
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

    def papers_changed_since(self, rev: int) -> Iterator[tuple[str, int, str, str, datetime]]:
        """(id, rev, first author, title, published) of papers changed after revision ``rev``."""
        rows = self._conn.execute(
            """SELECT arxiv_id, rev, coalesce(json_extract(authors, '$[0]'), ''), title,
            published FROM papers WHERE rev > ?""",
            (rev,),
        )
        for row in rows:
            yield row[0], row[1], row[2], row[3], _from_iso(row[4])

    def record_bib_stems(self, stems: Iterable[tuple[str, str, datetime, int]]) -> None:
        """Store (id, stem, published, rev); a row whose stem and date are unchanged keeps its
        old rev, so the keys of later papers are not thought to have changed."""
        with self.transaction():
            self._conn.executemany(
                """INSERT INTO bib_stems (arxiv_id, stem, published, rev) VALUES (?, ?, ?, ?)
                ON CONFLICT (arxiv_id) DO UPDATE SET stem = excluded.stem,
                    published = excluded.published, rev = excluded.rev
                WHERE stem IS NOT excluded.stem OR published IS NOT excluded.published""",
                [(i, stem, _iso(published), rev) for i, stem, published, rev in stems],
            )

    def bib_stem_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM bib_stems").fetchone()[0])

    def bib_fingerprint(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Like :meth:`window_fingerprint`, over the stems and dates citation keys come from."""
        row = self._conn.execute(
            """SELECT count(*), coalesce(max(rev), -1) FROM bib_stems
            WHERE published >= ? AND published < ?""",
            (_iso(start), _iso(end)),
        ).fetchone()
        return int(row[0]), int(row[1])

    def bib_ranks(self, ids: Iterable[str]) -> dict[str, tuple[str, int]]:
        """Per id: its stem and how many papers with the same stem come before it (by published
        date, then id): the oldest keeps the bare stem, a later namesake never renames it."""
        rows = self._conn.execute(_BIB_RANKS, (json.dumps(list(ids)),))
        return {row[0]: (row[1], int(row[2])) for row in rows}

    # --- enrichments (the arxiv_radar.enrich.stage.EnrichmentStore protocol) --------------------

    def papers_needing_code(self, now: datetime) -> list[CodeCandidate]:
        """Papers without code whose check is due (see ``CODE_CHECK_HORIZON``)."""
        attempts = dict(self._conn.execute("SELECT arxiv_id, attempts FROM code_links"))
        due = self._stream(_CODE_DUE, (_iso(now - CODE_CHECK_HORIZON), _iso(now)))
        return [
            CodeCandidate(entry.paper, entry.first_seen, attempts.get(entry.paper.arxiv_id, 0))
            for entry in due
        ]

    def papers_awaiting_code(self, now: datetime) -> list[CodeCandidate]:
        """Papers without code whose next scheduled check is still to come."""
        attempts = dict(self._conn.execute("SELECT arxiv_id, attempts FROM code_links"))
        return [
            CodeCandidate(entry.paper, entry.first_seen, attempts[entry.paper.arxiv_id])
            for entry in self._stream(_CODE_AWAITING, (_iso(now),))
        ]

    def record_code(self, arxiv_id: str, outcome: CodeOutcome) -> None:
        """Store one check; a found link or star count is never erased by a later miss."""
        at = _iso(outcome.at)
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
                    "next": _iso(outcome.next_check) if outcome.next_check else None,
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
                        _iso(o.at),
                        o.attempts,
                        _iso(o.next_check) if o.next_check else None,
                    )
                    for arxiv_id, o in outcomes.items()
                ],
            )
            return max(cursor.rowcount, 0)

    def repos_needing_stars(self, schedule: StarsSchedule) -> list[str]:
        """Code URLs whose star count is unknown or due (see :class:`StarsSchedule`)."""
        rows = self._conn.execute(
            """SELECT DISTINCT c.code_url FROM code_links c JOIN papers p ON p.arxiv_id = c.arxiv_id
            WHERE c.code_url IS NOT NULL AND (c.stars_at IS NULL
                OR (p.first_seen >= :recent AND c.stars_at < :refreshed)
                OR (p.first_seen < :recent AND c.stars_at < :settled))
            ORDER BY c.code_url""",
            {
                "recent": _iso(schedule.recent_since),
                "refreshed": _iso(schedule.refreshed_before),
                "settled": _iso(schedule.settled_before),
            },
        )
        return [row[0] for row in rows]

    def record_stars(self, stars: Mapping[str, int], at: datetime) -> None:
        with self.transaction():
            self._conn.executemany(
                "UPDATE code_links SET stars = ?, stars_at = ? WHERE code_url = ?",
                [(count, _iso(at), url) for url, count in stars.items()],
            )

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
                    _iso(at),
                ),
            )

    def star_counts(self) -> dict[str, int]:
        """Stars per paper with a code link (arxiv_id -> stars), for the one published
        ``stars.json``: counts change monthly and must not re-render old pages."""
        rows = self._conn.execute(
            """SELECT arxiv_id, stars FROM code_links
            WHERE code_url IS NOT NULL AND stars IS NOT NULL ORDER BY arxiv_id"""
        )
        return {arxiv_id: stars for arxiv_id, stars in rows}

    # --- ranking: seed metadata and per-topic scores --------------------------------------------

    def seed_papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        """Stored metadata of seed ids: from ``seed_papers``, else from ``papers`` (a seed the
        store already holds needs no request)."""
        wanted = list(ids)
        found: dict[str, Paper] = {}
        rows = self._conn.execute(
            """SELECT arxiv_id, version, title, authors, abstract, categories, published
            FROM seed_papers WHERE arxiv_id IN (SELECT value FROM json_each(?))""",
            (json.dumps(wanted),),
        )
        for row in rows:
            categories = tuple(_json(row[5]))
            found[row[0]] = Paper(
                arxiv_id=row[0],
                version=row[1],
                title=row[2],
                authors=tuple(_json(row[3])),
                abstract=row[4],
                categories=categories,
                primary_category=categories[0] if categories else "",
                published=_from_iso(row[6]),
                updated=_from_iso(row[6]),
            )
        rest = [i for i in wanted if i not in found]
        if rest:
            stored = self._stream(
                _select_entries(
                    f"""FROM papers p {_CODE_JOIN}
                    WHERE p.arxiv_id IN (SELECT value FROM json_each(?))"""
                ),
                (json.dumps(rest),),
            )
            found.update((entry.paper.arxiv_id, entry.paper) for entry in stored)
        return found

    def record_seed_papers(self, papers: Iterable[Paper], *, at: datetime) -> None:
        with self.transaction():
            self._conn.executemany(
                """INSERT OR REPLACE INTO seed_papers
                (arxiv_id, version, title, authors, abstract, categories, published, fetched_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        p.arxiv_id,
                        p.version,
                        p.title,
                        json.dumps(list(p.authors)),
                        p.abstract,
                        json.dumps(_ordered_categories(p)),
                        _iso(p.published),
                        _iso(at),
                    )
                    for p in papers
                ],
            )

    def rank_corpus(self, limit: int) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(id, title, abstract, categories) of the ``limit`` latest announced papers: what the
        ranking vocabulary and term weights are fitted on."""
        rows = self._conn.execute(
            """SELECT arxiv_id, title, abstract, categories FROM papers
            ORDER BY first_seen DESC, published DESC, arxiv_id DESC LIMIT ?""",
            (limit,),
        )
        return [(row[0], row[1], row[2], tuple(_json(row[3]))) for row in rows]

    def topic_scores(self, topic: str) -> dict[str, RankedRow]:
        """Every stored score of ``topic`` by paper id."""
        rows = self._conn.execute(
            "SELECT arxiv_id, score, why, basis FROM rank_scores WHERE topic = ?", (topic,)
        )
        return {row[0]: RankedRow(row[0], float(row[1]), row[2], row[3]) for row in rows}

    def record_scores(self, topic: str, rows: Iterable[RankedRow], *, at: datetime) -> None:
        """Store scores of ``topic`` in one transaction; unchanged rows keep their revision."""
        with self.transaction():
            self._conn.executemany(
                """INSERT INTO rank_scores (topic, arxiv_id, score, why, basis, scored_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (topic, arxiv_id) DO UPDATE SET score = excluded.score,
                    why = excluded.why, basis = excluded.basis, scored_at = excluded.scored_at""",
                [(topic, r.arxiv_id, r.score, r.why, r.basis, _iso(at)) for r in rows],
            )

    def best_scores(self, ids: Iterable[str]) -> dict[str, tuple[str, RankedRow]]:
        """Per paper id, its highest score over the ranked topics: (topic, row); ties go to the
        first topic by name."""
        rows = self._conn.execute(
            """SELECT topic, arxiv_id, score, why, basis FROM rank_scores
            WHERE arxiv_id IN (SELECT value FROM json_each(?))
            ORDER BY arxiv_id, score DESC, topic""",
            (json.dumps(list(ids)),),
        )
        best: dict[str, tuple[str, RankedRow]] = {}
        for row in rows:
            if row[1] not in best:
                best[row[1]] = (row[0], RankedRow(row[1], float(row[2]), row[3], row[4]))
        return best

    def clear_scores(self, keep_topics: Iterable[str]) -> int:
        """Drop the scores of topics that are no longer ranked; returns how many went."""
        with self.transaction():
            cursor = self._conn.execute(
                "DELETE FROM rank_scores WHERE topic NOT IN (SELECT value FROM json_each(?))",
                (json.dumps(list(keep_topics)),),
            )
        return int(cursor.rowcount)

    # --- deliveries -----------------------------------------------------------------------------

    def undelivered(
        self, channel: str, *, since: datetime, published_since: datetime
    ) -> list[Entry]:
        """Topic papers first seen since ``since`` and first published since
        ``published_since`` that ``channel`` has not received."""
        return list(self._stream(_UNDELIVERED, (_iso(since), _iso(published_since), channel)))

    def destination_added(self, channel: str, *, at: datetime) -> datetime:
        """When ``channel`` first appeared; recorded as ``at`` the first time it is asked."""
        with self.transaction():
            self._conn.execute(
                "INSERT OR IGNORE INTO destinations (channel, added_at) VALUES (?, ?)",
                (channel, _iso(at)),
            )
            row = self._conn.execute(
                "SELECT added_at FROM destinations WHERE channel = ?", (channel,)
            ).fetchone()
        return _from_iso(row[0])

    def record_intent(self, channel: str, arxiv_ids: Sequence[str], *, at: datetime) -> int:
        """Commit "about to send these papers to ``channel``" before sending.

        A run killed between the service accepting the message and :meth:`confirm_intent`
        leaves the intent behind: the next run sees it (``open_intents``) and sends those papers
        again, so a crash costs at most one duplicate message, never a lost one.
        """
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO delivery_intents (channel, arxiv_ids, created_at) VALUES (?, ?, ?)",
                (channel, json.dumps(list(arxiv_ids)), _iso(at)),
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
            self.mark_delivered(row[0], _json(row[1]), at=at)
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
        return [(row[0], list(_json(row[1])), _from_iso(row[2])) for row in rows]

    def mark_delivered(self, channel: str, arxiv_ids: Iterable[str], *, at: datetime) -> None:
        with self.transaction():
            self._conn.executemany(
                "INSERT OR IGNORE INTO deliveries (channel, arxiv_id, sent_at) VALUES (?, ?, ?)",
                [(channel, arxiv_id, _iso(at)) for arxiv_id in arxiv_ids],
            )

    # --- runs ---------------------------------------------------------------------------------

    def start_run(self, command: str, *, started_at: datetime) -> int:
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO runs (command, started_at, status) VALUES (?, ?, 'running')",
                (command, _iso(started_at)),
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
                (status, json.dumps(stats), json.dumps(errors), _iso(finished_at), run_id),
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

    # --- meta, category state, checkpoints ----------------------------------------------------

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
                (category, announced.isoformat(), _iso(at)),
            )

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
                (topic, searched_through.isoformat(), _iso(at)),
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
                (name, json.dumps(value), _iso(at)),
            )

    def clear_checkpoint(self, name: str) -> None:
        with self.transaction():
            self._conn.execute("DELETE FROM checkpoints WHERE name = ?", (name,))


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
        json.dumps(_ordered_categories(paper)),
        paper.primary_category,
        paper.doi,
        paper.journal_ref,
        _iso(paper.updated),
    )
