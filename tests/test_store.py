from __future__ import annotations

import dataclasses
import importlib.util
import logging
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from arxiv_radar.errors import StoreError
from arxiv_radar.paper import Paper
from arxiv_radar.store import SCHEMA_VERSION, Store
from arxiv_radar.store import papers as papers_module
from arxiv_radar.store import topics as topics_module

T0 = datetime(2026, 8, 13, 17, 59, 59, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[1]


def make_paper(
    arxiv_id: str,
    *,
    version: int = 1,
    published: datetime = T0,
    title: str = "",
    categories: tuple[str, ...] = ("cs.CV", "cs.LG"),
) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title or f"Title of {arxiv_id} v{version}",
        authors=("Ada Lovelace", "Alan Turing"),
        abstract=f"Abstract of {arxiv_id} v{version}.",
        categories=categories,
        primary_category=categories[0],
        published=published,
        updated=published + timedelta(days=version - 1),
        comment="10 pages",
        doi="10.1000/xyz",
        journal_ref="J. Test 1 (2026)",
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "radar.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_path) as opened:
        yield opened


def raw(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the file behind the store's back, for columns the API does not expose."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --- opening and migrations -------------------------------------------------------------------


def test_fresh_store_is_migrated_in_wal_mode(db_path: Path) -> None:
    Store.open(db_path).close()
    assert raw(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert raw(db_path, "PRAGMA journal_mode") == [("wal",)]
    tables = {row[0] for row in raw(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"papers", "topic_papers", "runs", "meta", "category_state", "checkpoints"} <= tables


def test_connection_enforces_foreign_keys_and_waits_for_locks(store: Store) -> None:
    assert store._conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert store._conn.execute("PRAGMA busy_timeout").fetchone() == (30_000,)


def test_matches_of_unknown_papers_are_refused(store: Store, db_path: Path) -> None:
    with pytest.raises(ValueError, match=r"2608\.00001"):
        store.add_matches("Vision", ["2608.00001"], matched_at=T0)
    assert raw(db_path, "SELECT count(*) FROM topic_papers") == [(0,)]


def test_reopen_keeps_data_and_applies_nothing(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Store.open(db_path) as first:
        first.upsert_papers([make_paper("2608.00001")], seen_at=T0, source="rss")
    caplog.set_level(logging.INFO, logger="arxiv_radar.store")
    with Store.open(db_path) as again:
        assert again.paper_count() == 1
    assert not [r for r in caplog.records if "migration" in r.getMessage()]
    assert raw(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_newer_schema_is_refused(db_path: Path) -> None:
    Store.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError) as caught:
        Store.open(db_path)
    assert caught.value.fix == "upgrade arxiv-radar"
    assert str(db_path) in caught.value.message


def test_corrupt_file_names_the_path(db_path: Path) -> None:
    db_path.write_bytes(b"this is not an SQLite database at all" * 200)
    with pytest.raises(StoreError) as caught:
        Store.open(db_path)
    assert str(db_path) in caught.value.message
    assert caught.value.fix


def test_missing_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "radar.sqlite"
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(path)
    assert not path.parent.exists()


# --- papers -----------------------------------------------------------------------------------


def test_upsert_is_idempotent(store: Store) -> None:
    papers = [make_paper("2608.00001"), make_paper("2608.00002")]
    first = store.upsert_papers(papers, seen_at=T0, source="rss")
    second = store.upsert_papers(papers, seen_at=T0 + timedelta(days=1), source="rss")
    assert first.new == ["2608.00001", "2608.00002"]
    assert (first.updated, first.unchanged) == ([], 0)
    assert (second.new, second.updated, second.unchanged) == ([], [], 2)
    assert store.paper_count() == 2
    assert store.get_paper("2608.00001") == papers[0]
    assert store.get_paper("2608.99999") is None


def test_primary_category_is_stored_first(store: Store) -> None:
    paper = dataclasses.replace(make_paper("2608.00001"), primary_category="cs.LG")
    store.upsert_papers([paper], seen_at=T0, source="api")
    stored = store.get_paper("2608.00001")
    assert stored is not None
    assert stored.categories == ("cs.LG", "cs.CV")


def test_new_version_updates_metadata_but_keeps_dates(store: Store, db_path: Path) -> None:
    store.upsert_papers([make_paper("2608.00001")], seen_at=T0, source="rss")
    later = T0 + timedelta(days=20)
    v2 = make_paper("2608.00001", version=2, published=later, title="Better title")
    result = store.upsert_papers([v2], seen_at=later, source="api")
    assert (result.new, result.updated, result.unchanged) == ([], ["2608.00001"], 0)
    stored = store.get_paper("2608.00001")
    assert stored is not None
    assert (stored.version, stored.title, stored.updated) == (2, "Better title", v2.updated)
    assert stored.published == T0
    row = raw(db_path, "SELECT first_seen, last_seen, source FROM papers")
    assert row == [(T0.isoformat(), later.isoformat(), "api")]


def test_same_or_lower_version_only_touches_last_seen(store: Store, db_path: Path) -> None:
    store.upsert_papers([make_paper("2608.00001", version=3)], seen_at=T0, source="api")
    later = T0 + timedelta(hours=5)
    stale = make_paper("2608.00001", version=2, title="Old title")
    result = store.upsert_papers([stale], seen_at=later, source="rss")
    assert (result.updated, result.unchanged) == ([], 1)
    stored = store.get_paper("2608.00001")
    assert stored is not None
    assert (stored.version, stored.title) == (3, "Title of 2608.00001 v3")
    assert raw(db_path, "SELECT last_seen, source FROM papers") == [(later.isoformat(), "api")]


def test_earlier_published_date_wins(store: Store) -> None:
    announced = T0 + timedelta(days=2)
    store.upsert_papers([make_paper("2608.00001", published=announced)], seen_at=T0, source="rss")
    result = store.upsert_papers([make_paper("2608.00001")], seen_at=T0, source="api")
    assert result.updated == ["2608.00001"]
    stored = store.get_paper("2608.00001")
    assert stored is not None
    assert stored.published == T0
    again = store.upsert_papers([make_paper("2608.00001")], seen_at=T0, source="api")
    assert again.unchanged == 1


def test_batch_with_repeated_id_keeps_highest_version_and_earliest_date(store: Store) -> None:
    early = T0 - timedelta(days=3)
    batch = [
        make_paper("2608.00001", version=2),
        make_paper("2608.00001", version=1, published=early),
    ]
    result = store.upsert_papers(batch, seen_at=T0, source="gapfill")
    assert result.new == ["2608.00001"]
    stored = store.get_paper("2608.00001")
    assert stored is not None
    assert (stored.version, stored.published) == (2, early)


def test_known_ids(store: Store) -> None:
    store.upsert_papers(
        [make_paper("2608.00001"), make_paper("hep-th/9711200")], seen_at=T0, source="api"
    )
    ids = (i for i in ["2608.00001", "2608.00003", "hep-th/9711200"])
    assert store.known_ids(ids) == {"2608.00001", "hep-th/9711200"}
    assert store.known_ids([]) == set()


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="time zone"):
        store.upsert_papers([make_paper("2608.00001")], seen_at=datetime(2026, 8, 13), source="rss")
    assert store.paper_count() == 0


def test_offsets_are_stored_as_utc(store: Store, db_path: Path) -> None:
    eastern = timezone(timedelta(hours=-4))
    store.upsert_papers([make_paper("2608.00001")], seen_at=T0.astimezone(eastern), source="rss")
    assert raw(db_path, "SELECT first_seen FROM papers") == [("2026-08-13T17:59:59+00:00",)]


# --- topics -----------------------------------------------------------------------------------


def fill(store: Store, count: int, topics: tuple[str, ...] = ("Vision",)) -> list[str]:
    """``count`` papers, one per hour backwards from T0, every one in ``topics``."""
    papers = [make_paper(f"2608.{i:05d}", published=T0 - timedelta(hours=i)) for i in range(count)]
    store.upsert_papers(papers, seen_at=T0, source="api")
    ids = [p.arxiv_id for p in papers]
    for topic in topics:
        store.add_matches(topic, ids, matched_at=T0)
    return ids


def test_membership_is_idempotent(store: Store) -> None:
    ids = fill(store, 3, topics=())
    assert store.add_matches("Vision", ids[:2], matched_at=T0) == 2
    assert store.add_matches("Vision", ids, matched_at=T0) == 1
    assert store.add_matches("Vision", ids + ids, matched_at=T0) == 0
    assert store.topic_count("Vision") == 3
    assert store.topic_count("Robots") == 0


def test_topic_entries_newest_first_ties_by_id_descending(store: Store) -> None:
    same_day = [make_paper(f"2608.0000{i}", published=T0) for i in (1, 3, 2)]
    older = make_paper("2608.00009", published=T0 - timedelta(days=1))
    newer = make_paper("2607.00001", published=T0 + timedelta(days=1))
    store.upsert_papers([*same_day, older, newer], seen_at=T0, source="rss")
    store.add_matches(
        "Vision",
        ["2608.00009", "2608.00001", "2608.00003", "2608.00002", "2607.00001"],
        matched_at=T0,
    )
    store.add_matches("Robots", ["2608.00003"], matched_at=T0)
    entries = store.topic_entries("Vision")
    assert [e.paper.arxiv_id for e in entries] == [
        "2607.00001",
        "2608.00003",
        "2608.00002",
        "2608.00001",
        "2608.00009",
    ]
    assert entries[1].topics == ("Robots", "Vision")
    assert entries[0].first_seen == T0
    assert entries[0].code_url is None
    assert [e.paper.arxiv_id for e in store.topic_entries("Vision", limit=2)] == [
        "2607.00001",
        "2608.00003",
    ]
    assert store.topic_entries("Nobody") == []


def test_topic_order_follows_a_corrected_published_date(store: Store) -> None:
    fill(store, 3)
    assert store.topic_entries("Vision")[-1].paper.arxiv_id == "2608.00002"
    earlier = make_paper("2608.00000", published=T0 - timedelta(days=30))
    store.upsert_papers([earlier], seen_at=T0, source="api")
    assert [e.paper.arxiv_id for e in store.topic_entries("Vision")] == [
        "2608.00001",
        "2608.00002",
        "2608.00000",
    ]


def test_streaming_matches_the_list(store: Store) -> None:
    # More rows than one fetch batch, so the iterator really pages.
    fill(store, 600, topics=("Vision", "Robots"))
    listed = store.topic_entries("Vision")
    assert len(listed) == 600
    assert list(store.iter_entries()) == listed


def test_iter_entries_fills_topics_and_filters_on_first_seen(store: Store) -> None:
    fill(store, 2, topics=("Vision",))
    store.add_matches("Robots", ["2608.00001"], matched_at=T0)
    late = make_paper("2608.00099", published=T0 - timedelta(days=9))
    store.upsert_papers([late], seen_at=T0 + timedelta(days=1), source="rss")
    entries = list(store.iter_entries())
    assert [(e.paper.arxiv_id, e.topics) for e in entries] == [
        ("2608.00000", ("Vision",)),
        ("2608.00001", ("Robots", "Vision")),
        ("2608.00099", ()),
    ]
    since = [e.paper.arxiv_id for e in store.iter_entries(since=T0 + timedelta(hours=1))]
    assert since == ["2608.00099"]
    assert store.topics_in_store() == ["Robots", "Vision"]


def test_topic_queries_need_no_sort(store: Store, db_path: Path) -> None:
    """The publish benchmark relies on index order; a temp B-tree would sort 100,000 rows."""
    plans = [
        raw(
            db_path,
            "EXPLAIN QUERY PLAN " + topics_module._TOPIC_ENTRIES,
            ("zh", "zh", "zh", "Vision", 50),
        ),
        raw(db_path, "EXPLAIN QUERY PLAN " + papers_module._ALL_ENTRIES, ("zh", "zh", "zh")),
    ]
    for plan in plans:
        details = " | ".join(str(row[-1]) for row in plan)
        assert "TEMP B-TREE" not in details
        assert "SCAN t" not in details


# --- runs, meta, category state, checkpoints --------------------------------------------------


def test_runs_round_trip(store: Store) -> None:
    first = store.start_run("run", started_at=T0)
    second = store.start_run("fetch", started_at=T0 + timedelta(minutes=5))
    stats = {"fetch": {"new": 3, "updated": 1}, "publish": {"files": ["README.md"]}}
    errors = [{"stage": "enrich", "url": "http://127.0.0.1/x", "message": "timeout"}]
    store.finish_run(
        first, status="partial", stats=stats, errors=errors, finished_at=T0 + timedelta(minutes=1)
    )
    latest, earlier = store.recent_runs()
    assert (latest.id, latest.command, latest.status, latest.finished_at) == (
        second,
        "fetch",
        "running",
        None,
    )
    assert (earlier.id, earlier.started_at, earlier.finished_at) == (
        first,
        T0,
        T0 + timedelta(minutes=1),
    )
    assert (earlier.stats, earlier.errors) == (stats, errors)
    assert [r.id for r in store.recent_runs(limit=1)] == [second]


def test_finish_run_rejects_bad_status_and_unknown_id(store: Store) -> None:
    run_id = store.start_run("run", started_at=T0)
    with pytest.raises(ValueError, match="status"):
        store.finish_run(run_id, status="done", stats={}, errors=[], finished_at=T0)
    with pytest.raises(ValueError, match="no run"):
        store.finish_run(run_id + 1, status="ok", stats={}, errors=[], finished_at=T0)
    assert store.recent_runs()[0].status == "running"


def test_meta_round_trip(store: Store) -> None:
    assert store.get_meta("last_fetch_ok") is None
    store.set_meta("last_fetch_ok", T0.isoformat())
    store.set_meta("last_fetch_ok", "2026-08-14T00:00:00+00:00")
    assert store.get_meta("last_fetch_ok") == "2026-08-14T00:00:00+00:00"


def test_category_state_round_trip(store: Store) -> None:
    assert store.category_state() == {}
    store.set_category_state("cs.CV", date(2026, 8, 12), at=T0)
    store.set_category_state("cs.CV", date(2026, 8, 13), at=T0)
    store.set_category_state("cs.LG", date(2026, 8, 10), at=T0)
    assert store.category_state() == {"cs.CV": date(2026, 8, 13), "cs.LG": date(2026, 8, 10)}


def test_checkpoints_round_trip(store: Store) -> None:
    assert store.get_checkpoint("backfill:cs.CV") is None
    store.set_checkpoint("backfill:cs.CV", {"start": 100, "token": "abc"}, at=T0)
    store.set_checkpoint("backfill:cs.CV", {"start": 200, "done": ["x"]}, at=T0)
    assert store.get_checkpoint("backfill:cs.CV") == {"start": 200, "done": ["x"]}
    store.clear_checkpoint("backfill:cs.CV")
    store.clear_checkpoint("backfill:cs.CV")
    assert store.get_checkpoint("backfill:cs.CV") is None


# --- transactions and concurrency -------------------------------------------------------------


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        fill(store, 2)
        store.set_meta("k", "v")
        raise RuntimeError("stage crashed")
    assert (store.paper_count(), store.topic_count("Vision"), store.get_meta("k")) == (0, 0, None)


def test_inner_failure_undoes_only_the_inner_block(store: Store) -> None:
    with store.transaction():
        store.set_meta("outer", "kept")
        with pytest.raises(RuntimeError), store.transaction():
            store.set_meta("inner", "lost")
            raise RuntimeError("one paper failed")
    assert (store.get_meta("outer"), store.get_meta("inner")) == ("kept", None)


def test_second_connection_sees_only_committed_data(db_path: Path) -> None:
    with Store.open(db_path) as writer, Store.open(db_path) as reader:
        with writer.transaction():
            writer.upsert_papers([make_paper("2608.00001")], seen_at=T0, source="rss")
            writer.set_meta("k", "v")
            assert (reader.paper_count(), reader.get_meta("k")) == (0, None)
        assert reader.get_paper("2608.00001") == make_paper("2608.00001")
        assert reader.get_meta("k") == "v"


# --- benchmark helper -------------------------------------------------------------------------


def test_make_store_builds_a_realistic_store(db_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_store", REPO / "benchmarks/make_store.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_store(db_path, n=300, topics=3)
    with Store.open(db_path) as built:
        assert built.paper_count() == 300
        assert built.topics_in_store() == ["Topic 0", "Topic 1", "Topic 2"]
        entries = list(built.iter_entries())
    assert all(1 <= len(e.topics) <= 2 for e in entries)
    assert all(1_000 <= len(e.paper.abstract) <= 1_500 for e in entries)
    assert all(3 <= len(e.paper.authors) <= 10 for e in entries)
    assert all(1 <= len(e.paper.categories) <= 3 for e in entries)
