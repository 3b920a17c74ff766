"""What `arxiv-radar rank TOPIC [--explain ID]` shows: today's ranking and one score taken apart."""

from __future__ import annotations

from dataclasses import dataclass, field

from arxiv_radar.config import Workspace
from arxiv_radar.errors import UserError
from arxiv_radar.paper import Entry, split_version
from arxiv_radar.rank import load_ranker
from arxiv_radar.store import Store

__all__ = ["RankedPaper", "RankingReport", "topic_ranking"]


@dataclass(frozen=True)
class RankedPaper:
    arxiv_id: str
    title: str
    score: float
    why: str


@dataclass(frozen=True)
class RankingReport:
    topic: str
    day: str  # the latest announcement day of the topic (UTC date of first_seen), "" if empty
    papers: list[RankedPaper]
    explanation: list[str] = field(default_factory=list)


def _check_topic(workspace: Workspace, topic: str) -> None:
    names = [t.name for t in workspace.config.topics]
    if topic not in names:
        raise UserError(f"no topic named {topic!r}", fix=f"use one of: {', '.join(names)}")


def _todays(store: Store, topic: str) -> tuple[str, list[RankedPaper]]:
    entries = store.topic_entries(topic)
    if not entries:
        return "", []
    day = max(e.first_seen.date() for e in entries)
    scores = store.topic_scores(topic)
    papers = [
        RankedPaper(
            e.paper.arxiv_id,
            e.paper.title,
            scores[e.paper.arxiv_id].score if e.paper.arxiv_id in scores else 0.0,
            scores[e.paper.arxiv_id].why if e.paper.arxiv_id in scores else "",
        )
        for e in entries
        if e.first_seen.date() == day
    ]
    papers.sort(key=lambda p: (-p.score, p.arxiv_id))
    return day.isoformat(), papers


def _explain(workspace: Workspace, store: Store, topic: str, raw_id: str) -> list[str]:
    arxiv_id = split_version(raw_id)[0] if raw_id else raw_id
    entry: Entry | None = next(
        (e for e in store.topic_entries(topic) if e.paper.arxiv_id == arxiv_id), None
    )
    if entry is None:
        raise UserError(f"topic {topic!r} has no paper {raw_id}", fix="pick an id it lists")
    lines: list[str] = load_ranker().explain(workspace, store, topic, entry)
    return lines


def topic_ranking(workspace: Workspace, topic: str, *, explain: str | None = None) -> RankingReport:
    """Today's papers of ``topic`` by stored score (run the rank step first), and optionally the
    breakdown of one paper's score recomputed from the same inputs."""
    _check_topic(workspace, topic)
    with Store.open(workspace.database) as store:
        day, papers = _todays(store, topic)
        lines = _explain(workspace, store, topic, explain) if explain else []
    return RankingReport(topic, day, papers, lines)
