"""The statements the named migrations (:mod:`arxiv_radar.store.migrations`) run: tables,
indexes, and the triggers that keep paper revisions and the state's dirty days.

Statements are built from the templates below once, at import. A shipped migration's statements
never change: a later schema change is a new statement list for a new migration.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = [
    "MARK_PAPER",
    "SCHEMA_1",
    "SCHEMA_2",
    "SCHEMA_4",
    "SCHEMA_RANK",
    "dirty_triggers",
    "schema_7",
    "schema_9",
]

SCHEMA_1 = (
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


SCHEMA_2 = (
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
SCHEMA_4 = (
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


# The papers columns the committed text state holds (see arxiv_radar.store.snapshot): everything but
# the derived ``rev`` and ``last_seen``, which every listing that shows a paper again moves.
_STATE_PAPER_COLUMNS = (*_RENDERED_PAPER_COLUMNS, "source")
_DAY_OF = "substr({row}.published, 1, 10)"
# NOT EXISTS rather than OR IGNORE: the conflict policy of the statement that fires a trigger
# (an upsert's, say) overrides the one written inside it.
_MARK = """INSERT INTO dirty_days (day) SELECT {day}
    WHERE NOT EXISTS (SELECT 1 FROM dirty_days WHERE day = {day});"""
MARK_PAPER = """INSERT INTO dirty_days (day) SELECT d FROM
    (SELECT substr(published, 1, 10) AS d FROM papers WHERE arxiv_id = {row}.arxiv_id)
    WHERE NOT EXISTS (SELECT 1 FROM dirty_days WHERE day = d);"""
_STATE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _STATE_PAPER_COLUMNS)


def dirty_triggers(table: str, mark: str) -> Iterator[str]:
    """AFTER INSERT / UPDATE / DELETE triggers on ``table`` that mark the paper's day."""
    new, old = (mark.format(row=row, day=_DAY_OF.format(row=row)) for row in ("NEW", "OLD"))
    yield f"CREATE TRIGGER {table}_dirty_insert AFTER INSERT ON {table} BEGIN {new} END"
    yield f"CREATE TRIGGER {table}_dirty_update AFTER UPDATE ON {table} BEGIN {old} {new} END"
    yield f"CREATE TRIGGER {table}_dirty_delete AFTER DELETE ON {table} BEGIN {old} END"


def schema_7() -> Iterator[str]:
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
    yield from dirty_triggers("topic_papers", _MARK)
    for table in ("code_links", "texts", "deliveries"):
        yield from dirty_triggers(table, MARK_PAPER)


SCHEMA_RANK = (
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


# --- m009: star counts apart from pages and shards; what is due, from indexes -------------------

# A code_links row as pages and the state's paper line show it: everything but the star count
# and when it was fetched, which the monthly refresh of older papers moves on every row.
_LINK_LINE_COLUMNS = ("code_url", "project_url", "source", "checked_at", "attempts", "next_check")
_LINE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _LINK_LINE_COLUMNS)
_URL_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in ("code_url", "project_url"))
_STARS_CHANGED = "NEW.stars IS NOT OLD.stars OR NEW.stars_at IS NOT OLD.stars_at"
# star_counts_json() changes when a count does, or when a link with a count appears or goes.
_COUNTS_CHANGED = "(NEW.stars IS NOT OLD.stars OR (NEW.code_url IS NULL) <> (OLD.code_url IS NULL))"
_HAS_STARS = "({row}.stars IS NOT NULL OR {row}.stars_at IS NOT NULL)"
_BUMP_STARS = "UPDATE star_revision SET counts = counts + {counts}, state = state + 1;"


def schema_9() -> Iterator[str]:
    # Star counts due by when they were fetched (NULL: never), for links that have a URL: a
    # day with nothing due reads nothing old (see Enrichments.repos_needing_stars).
    yield "CREATE INDEX code_links_by_stars_at ON code_links (stars_at) WHERE code_url IS NOT NULL"
    # A star count alone no longer changes a paper's rev: the monthly refresh of older papers'
    # counts would re-render nearly every month. Pages read counts from star_counts_json().
    yield "DROP TRIGGER code_links_rev_update"
    yield f"""CREATE TRIGGER code_links_rev_update AFTER UPDATE ON code_links WHEN {_URL_CHANGED}
        BEGIN {_BUMP.format(row="NEW")} END"""
    # Nor does it change the paper's state shard: counts are committed in their own file.
    new, old = (MARK_PAPER.format(row=row) for row in ("NEW", "OLD"))
    yield "DROP TRIGGER code_links_dirty_update"
    yield f"""CREATE TRIGGER code_links_dirty_update AFTER UPDATE ON code_links
        WHEN {_LINE_CHANGED} BEGIN {old} {new} END"""
    # ``counts`` moves whenever star_counts_json() may change (publish: stars.json), ``state``
    # whenever the committed stars file may (a count or when it was fetched).
    yield """CREATE TABLE star_revision (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        counts INTEGER NOT NULL,
        state INTEGER NOT NULL
    )"""
    yield "INSERT INTO star_revision (id, counts, state) VALUES (1, 0, 0)"
    yield f"""CREATE TRIGGER code_links_stars_insert AFTER INSERT ON code_links
        WHEN {_HAS_STARS.format(row="NEW")} BEGIN {_BUMP_STARS.format(counts=1)} END"""
    yield f"""CREATE TRIGGER code_links_stars_update AFTER UPDATE ON code_links
        WHEN {_STARS_CHANGED} OR (NEW.code_url IS NULL) <> (OLD.code_url IS NULL)
        BEGIN {_BUMP_STARS.format(counts=_COUNTS_CHANGED)} END"""
    yield f"""CREATE TRIGGER code_links_stars_delete AFTER DELETE ON code_links
        WHEN {_HAS_STARS.format(row="OLD")} BEGIN {_BUMP_STARS.format(counts=1)} END"""


# ``listing_rev`` is bumped with ``rev`` by what changes how a paper is listed (its metadata,
# its topics), not by its enrichments (code links, translations, scores): pages that show no
# enrichment, a month's compact list and its BibTeX, fingerprint their window by it, so a code
# link found for an old paper does not re-render its month there.
_BUMP_LISTED = """UPDATE revision SET n = n + 1;
    UPDATE papers SET rev = (SELECT n FROM revision), listing_rev = (SELECT n FROM revision)
    WHERE arxiv_id = {row}.arxiv_id;"""


def schema_10() -> Iterator[str]:
    # A month's citation keys are fingerprinted by the listing revisions of its year's months
    # (publish.feeds), so the stems' own revisions and their index by date are read no more.
    yield "DROP INDEX bib_stems_by_published"
    yield "ALTER TABLE bib_stems DROP COLUMN rev"
    yield "ALTER TABLE papers ADD COLUMN listing_rev INTEGER NOT NULL DEFAULT 0"
    yield "UPDATE papers SET listing_rev = rev"  # conservative: every past change counts
    yield "CREATE INDEX papers_by_published_listing_rev ON papers (published, listing_rev)"
    for trigger in (
        "papers_rev_insert",
        "papers_rev_update",
        "topic_papers_rev_insert",
        "topic_papers_rev_delete",
    ):
        yield f"DROP TRIGGER {trigger}"
    yield f"""CREATE TRIGGER papers_rev_insert AFTER INSERT ON papers
        BEGIN {_BUMP_LISTED.format(row="NEW")} END"""
    yield f"""CREATE TRIGGER papers_rev_update AFTER UPDATE OF {", ".join(_RENDERED_PAPER_COLUMNS)}
        ON papers WHEN {_CHANGED} BEGIN {_BUMP_LISTED.format(row="NEW")} END"""
    yield f"""CREATE TRIGGER topic_papers_rev_insert AFTER INSERT ON topic_papers
        BEGIN {_BUMP_LISTED.format(row="NEW")} END"""
    yield f"""CREATE TRIGGER topic_papers_rev_delete AFTER DELETE ON topic_papers
        BEGIN {_BUMP_LISTED.format(row="OLD")} END"""


def schema_11() -> Iterator[str]:
    # How far each destination's deliveries are known complete (the latest topic membership a
    # run had read when every message it sent was accepted), and an index on when memberships
    # were made: a daily notify reads only the memberships made since, not every paper since
    # the destination was added.
    yield "ALTER TABLE destinations ADD COLUMN delivered_through TEXT"
    yield "CREATE INDEX topic_papers_by_matched ON topic_papers (matched_at, arxiv_id)"
