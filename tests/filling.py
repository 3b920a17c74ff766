"""Fill a real SQLite store from fixture entries, as the pipeline would (for publisher tests)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from arxiv_radar.paper import Entry
from arxiv_radar.records import CodeOutcome, TextKey
from arxiv_radar.store import Store

__all__ = ["FETCHED", "LANGUAGE", "fill_store"]

UTC = timezone.utc
LANGUAGE = "zh"
FETCHED = datetime(2026, 10, 7, 1, 30, tzinfo=UTC)


def fill_store(
    store: Store, entries: Iterable[Entry], members: Mapping[str, Iterable[Entry]]
) -> None:
    """Store the entries with their topics, code links and texts, as the pipeline would."""
    papers = {e.paper.arxiv_id: e for e in entries}
    for entry in papers.values():
        store.upsert_papers([entry.paper], seen_at=entry.first_seen, source="api")
    for name, rows in members.items():
        store.add_matches(name, [e.paper.arxiv_id for e in rows], matched_at=FETCHED)
    for arxiv_id, entry in papers.items():
        if entry.code_url or entry.project_url or entry.stars is not None:
            outcome = CodeOutcome(
                entry.code_url, entry.project_url, entry.stars, "test", FETCHED, 1, None
            )
            store.record_code(arxiv_id, outcome)
        texts = (
            ("title", entry.title_translated),
            ("abstract", entry.abstract_translated),
            ("tldr", entry.tldr),
        )
        for field, text in texts:
            if text:
                key = TextKey(field, LANGUAGE, "test", "m")
                store.record_text(entry.paper, key, text, FETCHED)
