"""The SQLite store keeps the enrichment contract the enrich stage was written against."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from arxiv_radar.enrich.stars import stars_schedule
from arxiv_radar.records import CodeOutcome, TextKey
from arxiv_radar.store import Store
from tests.servers.arxiv import make_paper

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
KEY = TextKey(field="abstract", language="zh-CN", provider="openai", model="deepseek-chat")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "radar.db")
    papers = [
        make_paper("2611.00001", "One", published=NOW - timedelta(days=1)),
        make_paper("2611.00002", "Two", published=NOW - timedelta(days=2)),
    ]
    opened.upsert_papers(papers, seen_at=NOW - timedelta(hours=1), source="test")
    opened.upsert_papers(
        [make_paper("2401.00003", "Old", published=NOW - timedelta(days=300))],
        seen_at=NOW - timedelta(days=300),
        source="test",
    )
    return opened


def outcome(code: str | None, *, attempts: int, next_check: datetime | None) -> CodeOutcome:
    return CodeOutcome(
        code_url=code,
        project_url=None,
        stars=None,
        source="huggingface",
        at=NOW,
        attempts=attempts,
        next_check=next_check,
    )


def test_code_schedule_round_trip(store: Store) -> None:
    due = store.papers_needing_code(NOW)
    # The year-old paper is past the re-check horizon: turning code links on costs no history.
    assert [c.paper.arxiv_id for c in due] == ["2611.00001", "2611.00002"]
    assert all(c.attempts == 0 for c in due)

    store.record_code("2611.00001", outcome(None, attempts=1, next_check=NOW + timedelta(days=1)))
    store.record_code("2611.00002", outcome("https://github.com/a/b", attempts=1, next_check=None))
    assert store.papers_needing_code(NOW) == []
    (again,) = store.papers_needing_code(NOW + timedelta(days=1))
    assert (again.paper.arxiv_id, again.attempts) == ("2611.00001", 1)

    store.record_code("2611.00001", outcome(None, attempts=2, next_check=None))  # gave up
    assert store.papers_needing_code(NOW + timedelta(days=90)) == []


def test_a_later_miss_never_erases_a_found_link_and_stars_refresh(store: Store) -> None:
    store.record_code("2611.00002", outcome("https://github.com/a/b", attempts=1, next_check=None))
    store.record_code("2611.00002", outcome(None, attempts=2, next_check=None))
    assert store.repos_needing_stars(stars_schedule(NOW)) == ["https://github.com/a/b"]
    store.record_stars({"https://github.com/a/b": 1234}, NOW)
    assert store.repos_needing_stars(stars_schedule(NOW)) == []
    tomorrow = stars_schedule(NOW + timedelta(days=1))
    assert store.repos_needing_stars(tomorrow) == ["https://github.com/a/b"]
    (entry,) = [e for e in store.iter_entries() if e.paper.arxiv_id == "2611.00002"]
    assert (entry.code_url, entry.stars) == ("https://github.com/a/b", 1234)


def test_texts_are_cached_per_version_and_shown_in_the_display_language(store: Store) -> None:
    assert [p.arxiv_id for p in store.papers_needing_text(KEY, None)] == [
        "2611.00001",
        "2611.00002",
        "2401.00003",
    ]
    assert [p.arxiv_id for p in store.papers_needing_text(KEY, 1)] == ["2611.00001"]
    paper = store.get_paper("2611.00001")
    assert paper is not None
    store.record_text(paper, KEY, "一个摘要", NOW)
    assert "2611.00001" not in {p.arxiv_id for p in store.papers_needing_text(KEY, None)}
    other_model = TextKey("abstract", "zh-CN", "openai", "gpt-4o")
    assert "2611.00001" in {p.arxiv_id for p in store.papers_needing_text(other_model, None)}

    first = next(e for e in store.iter_entries() if e.paper.arxiv_id == "2611.00001")
    assert first.abstract_translated is None  # no display language chosen
    store.display_language = "zh-CN"
    first = next(e for e in store.iter_entries() if e.paper.arxiv_id == "2611.00001")
    assert first.abstract_translated == "一个摘要"

    # A new version with the same abstract keeps its translation (only the title changed) ...
    store.upsert_papers([make_paper("2611.00001", "One v2", version=2)], seen_at=NOW, source="t")
    first = next(e for e in store.iter_entries() if e.paper.arxiv_id == "2611.00001")
    assert first.abstract_translated == "一个摘要"
    assert "2611.00001" not in {p.arxiv_id for p in store.papers_needing_text(KEY, None)}
    # ... a new abstract needs a new translation and does not show the old one.
    rewritten = make_paper("2611.00001", "One v3", version=3, abstract="A new abstract.")
    store.upsert_papers([rewritten], seen_at=NOW, source="t")
    first = next(e for e in store.iter_entries() if e.paper.arxiv_id == "2611.00001")
    assert first.abstract_translated is None
    assert "2611.00001" in {p.arxiv_id for p in store.papers_needing_text(KEY, None)}


def test_an_old_papers_stars_wait_for_the_next_month(store: Store) -> None:
    """Old months are not re-rendered every day for a changed star count."""
    store.record_code(
        "2401.00003", outcome("https://github.com/old/repo", attempts=1, next_check=None)
    )
    store.record_stars({"https://github.com/old/repo": 7}, NOW)
    for days in (1, 5):
        assert store.repos_needing_stars(stars_schedule(NOW + timedelta(days=days))) == []
    december = datetime(2026, 12, 1, 1, 17, tzinfo=timezone.utc)
    assert store.repos_needing_stars(stars_schedule(december)) == ["https://github.com/old/repo"]
