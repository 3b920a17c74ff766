"""How publishers show a ranked topic: each entry with its stored score and reason, and, for
topics ordered by relevance, best first within each announcement day (the day grouping of the
date-ordered layout stays)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import tzinfo

from arxiv_radar.paper import Entry
from arxiv_radar.store import RankedRow, Store

__all__ = ["TOP_PICK_SCAN", "best_scored", "scored_entries", "top_picks"]

TOP_PICK_SCAN = 500  # newest papers per topic looked at for the latest day's top picks


def scored_entries(
    store: Store, topic: str, entries: Sequence[Entry], *, by_relevance: bool, zone: tzinfo
) -> list[Entry]:
    """``entries`` of ``topic`` carrying their score and reason; reordered when ``by_relevance``.

    The day is the paper's publish date in the display zone, the date the tables show."""
    scores = store.topic_scores(topic)
    if not scores:
        return list(entries)
    carried = _carried(entries, scores)
    if not by_relevance:
        return carried
    day = {e.paper.arxiv_id: e.paper.published.astimezone(zone).date() for e in carried}
    position = {e.paper.arxiv_id: i for i, e in enumerate(carried)}
    return sorted(
        carried,
        key=lambda e: (
            -day[e.paper.arxiv_id].toordinal(),
            -(e.score or 0.0),
            position[e.paper.arxiv_id],
        ),
    )


def _carried(entries: Sequence[Entry], scores: Mapping[str, RankedRow]) -> list[Entry]:
    return [
        dataclasses.replace(entry, score=row.score, why=row.why)
        if (row := scores.get(entry.paper.arxiv_id))
        else entry
        for entry in entries
    ]


def best_scored(store: Store, entries: Sequence[Entry]) -> list[Entry]:
    """Entries carrying their best score over the ranked topics (exports list every paper
    once); the reason names its topic: ``Topic: reason``."""
    best = store.best_scores(e.paper.arxiv_id for e in entries)
    if not best:
        return list(entries)
    return [
        dataclasses.replace(entry, score=found[1].score, why=f"{found[0]}: {found[1].why}")
        if (found := best.get(entry.paper.arxiv_id))
        else entry
        for entry in entries
    ]


def top_picks(
    store: Store,
    topics: Sequence[str],
    limit: int,
    newest: Callable[[str, int], Sequence[Entry]],
) -> list[tuple[str, Entry]]:
    """The ``limit`` best-scored papers of the latest announcement day across ranked topics,
    each once, with the topic it scored best in: (topic, entry carrying score and reason).

    ``newest(topic, n)`` reads a topic's newest ``n`` papers (the publish's shared read); a
    topic without scores is not read at all, since it has no pick to offer."""
    if limit <= 0:
        return []
    scored: list[tuple[str, Entry]] = []
    for topic in topics:
        scores = store.topic_scores(topic)
        if scores:
            carried = _carried(newest(topic, TOP_PICK_SCAN), scores)
            scored.extend((topic, e) for e in carried if (e.score or 0) > 0)
    if not scored:
        return []
    latest = max(e.first_seen.date() for _, e in scored)
    best: dict[str, tuple[str, Entry]] = {}
    for topic, entry in scored:
        held = best.get(entry.paper.arxiv_id)
        if entry.first_seen.date() == latest and (held is None or _beats(entry, held[1])):
            best[entry.paper.arxiv_id] = (topic, entry)
    ordered = sorted(
        best.values(), key=lambda pair: (-(pair[1].score or 0.0), pair[1].paper.arxiv_id)
    )
    return ordered[:limit]


def _beats(entry: Entry, held: Entry) -> bool:
    return (entry.score or 0.0) > (held.score or 0.0)
