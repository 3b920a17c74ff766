"""Daily store queries read indexes of what is due, and star counts stay apart from pages."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from arxiv_radar.enrich.stars import stars_schedule
from arxiv_radar.records import CodeOutcome
from arxiv_radar.store import Store, deliveries, enrichments, papers
from arxiv_radar.store.rows import from_iso, iso
from tests.servers.arxiv import make_paper

UTC = timezone.utc
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=200)


def explain(db: Path, sql: str, params: Any) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    finally:
        conn.close()


def found(
    code: str | None, *, at: datetime = NOW, next_check: datetime | None = None
) -> CodeOutcome:
    return CodeOutcome(code, None, None, "huggingface", at, 1, next_check)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "radar.db"
    Store.open(path).close()
    return path


# Each query, its parameters, and the index range reads its plan must consist of.
LANG = ("zh",) * 3
PLANS = {
    "papers_needing_code": (
        enrichments._CODE_DUE,
        (*LANG, "2026-10-01", "2026-11-25", "2026-11-25"),
        ("(first_seen>?)", "code_links_due (next_check<?)"),
    ),
    "papers_awaiting_code": (
        enrichments._CODE_AWAITING,
        (*LANG, "2026-11-25"),
        ("code_links_due (next_check>?)",),
    ),
    "repos_needing_stars": (
        enrichments._STARS_DUE,
        {"recent": "2026-10-26", "refreshed": "2026-11-24", "settled": "2026-11-01"},
        (
            "(first_seen>?)",
            "code_links_by_stars_at (stars_at=?)",
            "code_links_by_stars_at (stars_at<?)",
        ),
    ),
    "undelivered": (
        deliveries._UNDELIVERED,
        (*LANG, "2026-11-20", "2026-10-20", "email"),
        ("papers_by_announced (first_seen>?)",),
    ),
    # After a complete delivery: the memberships made since its watermark, then each paper.
    "undelivered since a watermark": (
        deliveries._UNDELIVERED_SINCE,
        (*LANG, "2026-11-23", "2026-01-20", "2025-12-20", "email"),
        ("topic_papers_by_matched (matched_at>?)", "USING INDEX sqlite_autoindex_papers_1"),
    ),
    # The home page's papers: the latest announcement's.
    "latest announcement": (
        papers._ENTRIES_SINCE,
        (*LANG, "2026-11-24"),
        ("papers_by_announced (first_seen>?)",),
    ),
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_each_daily_query_is_a_range_read_of_an_index_on_what_is_due(db: Path, name: str) -> None:
    sql, params, ranges = PLANS[name]
    plan = explain(db, sql, params)
    text = " | ".join(plan)
    for wanted in ranges:
        assert any(line.startswith("SEARCH") and wanted in line for line in plan), text
    # No table walked whole: every read of papers / code links / memberships / deliveries is a
    # SEARCH (the only SCAN allowed is of the small union of due ids), none by URL or date.
    scans = [line for line in plan if line.startswith("SCAN") and line != "SCAN due"]
    assert scans == [], text
    assert "code_links_by_url" not in text and "papers_by_published" not in text, text


def test_code_candidates_carry_their_attempts_without_reading_every_link(db: Path) -> None:
    with Store.open(db) as store:
        papers = [make_paper(f"2611.0000{i}", f"P{i}", published=NOW) for i in range(4)]
        store.upsert_papers(papers, seen_at=NOW - timedelta(hours=1), source="test")
        old = make_paper("2401.00009", "Old", published=OLD)
        store.upsert_papers([old], seen_at=OLD, source="test")
        store.record_code("2611.00001", replace(found(None), attempts=3, next_check=NOW))
        store.record_code("2611.00002", found("https://github.com/a/b"))
        later = NOW + timedelta(days=2)
        store.record_code("2611.00003", replace(found(None), attempts=2, next_check=later))
        # An imported old paper whose check is due is a backlog row, with its own attempts.
        store.record_code("2401.00009", replace(found(None), attempts=5, next_check=NOW))
        due = {c.paper.arxiv_id: c.attempts for c in store.papers_needing_code(NOW)}
        assert due == {"2611.00000": 0, "2611.00001": 3, "2401.00009": 5}
        ordered = [c.paper.arxiv_id for c in store.papers_needing_code(NOW)]
        assert ordered == ["2611.00001", "2611.00000", "2401.00009"]  # newest published first
        waiting = store.papers_awaiting_code(NOW)
        assert [(c.paper.arxiv_id, c.attempts) for c in waiting] == [("2611.00003", 2)]


def test_due_star_counts_match_the_schedule_on_every_day_of_a_month(db: Path) -> None:
    """Including the first hours of a month, when the month start is later than a recent
    paper's daily refresh limit: the index read must still follow ``StarsSchedule.due``."""
    rng = random.Random(20261201)
    start = datetime(2026, 10, 20, tzinfo=UTC)
    first_seen: dict[str, datetime] = {}
    fetched: dict[str, datetime | None] = {}
    with Store.open(db) as store:
        for i in range(60):
            arxiv_id = f"2610.{i:05d}"
            seen = start - timedelta(days=rng.choice((1, 5, 20, 40, 90, 400)))
            store.upsert_papers(
                [make_paper(arxiv_id, "T", published=seen)], seen_at=seen, source="t"
            )
            url = f"https://github.com/o/r{i}"
            store.record_code(arxiv_id, found(url, at=seen))
            at = None if i % 7 == 0 else start + timedelta(hours=rng.randrange(0, 24 * 42))
            if at is not None:
                store.record_stars({url: i}, at)
            first_seen[url], fetched[url] = seen, at
        for hours in range(0, 24 * 45, 5):
            now = start + timedelta(hours=hours)
            schedule = stars_schedule(now)
            expected = sorted(u for u in fetched if schedule.due(fetched[u], first_seen[u]))
            assert store.repos_needing_stars(schedule) == expected, now


def test_a_star_refresh_of_old_papers_changes_no_window_and_no_state_day(db: Path) -> None:
    with Store.open(db) as store:
        old = [make_paper(f"2604.{i:05d}", f"Old {i}", published=OLD) for i in range(3)]
        store.upsert_papers(old, seen_at=OLD, source="t")
        for i, paper in enumerate(old):
            store.record_code(paper.arxiv_id, found(f"https://github.com/o/r{i}", at=OLD))
        store.record_stars({"https://github.com/o/r0": 5, "https://github.com/o/r1": 6}, OLD)
        window = (OLD - timedelta(days=1), OLD + timedelta(days=1))
        before = (store.window_fingerprint(*window), store.revision())
        counts, stars_rev = json.loads(store.star_counts_json()), store.stars_revision()
        assert counts == {"2604.00000": 5, "2604.00001": 6}
        store.connection.execute("DELETE FROM dirty_days")

        store.record_stars({"https://github.com/o/r0": 50, "https://github.com/o/r2": 1}, NOW)
        assert (store.window_fingerprint(*window), store.revision()) == before
        assert json.loads(store.star_counts_json()) == {
            "2604.00000": 50,
            "2604.00001": 6,
            "2604.00002": 1,
        }
        assert store.stars_revision() > stars_rev
        assert store.connection.execute("SELECT count(*) FROM dirty_days").fetchone() == (0,)

        # The same counts fetched again: nothing a page shows changed, so no new revision.
        settled = store.stars_revision()
        store.record_stars({"https://github.com/o/r0": 50}, NOW + timedelta(days=1))
        assert store.stars_revision() == settled

        # A changed link still re-renders its pages and marks its state day.
        moved = CodeOutcome("https://github.com/o/moved", None, None, "pwc", NOW, 2, None)
        store.record_code("2604.00001", moved)
        assert store.window_fingerprint(*window) != before[0]
        days = store.connection.execute("SELECT day FROM dirty_days").fetchall()
        assert days == [(OLD.date().isoformat(),)]


def _due_by_full_read(store: Store, channel: str, since: datetime) -> list[str]:
    """The oracle: the read before any watermark, over every paper first seen since."""
    params = (*(store.display_language,) * 3, iso(since), iso(OLD - YEAR), channel)
    rows = store._conn.execute(deliveries._UNDELIVERED, params).fetchall()
    return [row[0] for row in rows]


@pytest.mark.parametrize("seed", range(6))
def test_a_watermarked_read_finds_what_the_full_read_finds(db: Path, seed: int) -> None:
    """Days of papers, late topic memberships of papers first seen months ago, deliveries
    that fail half way (the watermark stays) and a runner clock that lags by hours: after each
    run, what is due read from the watermark equals the read over every paper."""
    rng = random.Random(seed)
    channel, added = "email", OLD
    with Store.open(db) as store:
        store.destination_added(channel, at=added)
        for day in range(40):
            now = OLD + timedelta(days=5 * day, hours=rng.choice((0, 0, -6)))  # lagging clock
            fresh = [make_paper(f"26{day:02d}.{i:05d}", "T", published=now) for i in range(6)]
            store.upsert_papers(fresh, seen_at=now, source="t")
            store.add_matches("A", [p.arxiv_id for p in fresh[:4]], matched_at=now)
            stored = [row[0] for row in store._conn.execute("SELECT arxiv_id FROM papers")]
            late = rng.sample(stored, k=min(3, len(stored)))  # a new topic matches old papers
            store.add_matches(f"B{day % 3}", late, matched_at=now)
            through = store.latest_match()
            due = [
                e.paper.arxiv_id
                for e in store.undelivered(channel, since=added, published_since=OLD - YEAR)
            ]
            assert due == _due_by_full_read(store, channel, added), f"seed {seed}, day {day}"
            if rng.random() < 0.2:  # the service refused part way: nothing more is recorded
                store.mark_delivered(channel, due[: len(due) // 2], at=now)
                continue
            store.mark_delivered(channel, due, at=now)
            assert through is not None
            store.advance_delivered(channel, through)
        mark = store._conn.execute("SELECT delivered_through FROM destinations").fetchone()[0]
        assert mark is not None and from_iso(mark) > added + timedelta(days=150)  # it was used


YEAR = timedelta(days=365)


def test_the_star_counts_json_is_sorted_compact_and_complete(db: Path) -> None:
    """What stars.json holds, written by SQLite: the ids in order whatever order the counts
    came in, only links with a count, and ``{}`` when there is none."""
    rng = random.Random(20261202)
    with Store.open(db) as store:
        assert store.star_counts_json() == "{}"
        ids = [f"26{m:02d}.{n:05d}" for m in (1, 4, 11) for n in range(40)]
        rng.shuffle(ids)
        store.upsert_papers(
            [make_paper(i, "T", published=OLD) for i in ids], seen_at=OLD, source="t"
        )
        expected = {}
        for n, arxiv_id in enumerate(ids):
            store.record_code(arxiv_id, found(None if n % 5 == 0 else f"https://github.com/o/{n}"))
            if n % 5 and n % 3:
                store.record_stars({f"https://github.com/o/{n}": n * 7}, NOW)
                expected[arxiv_id] = n * 7
        text = store.star_counts_json()
    assert text == json.dumps(dict(sorted(expected.items())), separators=(",", ":"))
