"""Ranking state: seed papers' metadata (fetched once) and per-topic relevance scores with
their reasons."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from arxiv_radar.paper import Paper
from arxiv_radar.store.connection import Job
from arxiv_radar.store.rows import (
    CODE_JOIN,
    decode_json,
    from_iso,
    iso,
    ordered_categories,
    select_entries,
)

__all__ = ["RankedRow", "Ranking"]


@dataclass(frozen=True)
class RankedRow:
    """A stored relevance score of one paper in one topic, with its reason."""

    arxiv_id: str
    score: float
    why: str
    basis: str


class Ranking(Job):
    """Seed metadata and scores; a score that did not change keeps its paper's revision."""

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
            categories = tuple(decode_json(row[5]))
            found[row[0]] = Paper(
                arxiv_id=row[0],
                version=row[1],
                title=row[2],
                authors=tuple(decode_json(row[3])),
                abstract=row[4],
                categories=categories,
                primary_category=categories[0] if categories else "",
                published=from_iso(row[6]),
                updated=from_iso(row[6]),
            )
        rest = [i for i in wanted if i not in found]
        if rest:
            stored = self._stream(
                select_entries(
                    f"""FROM papers p {CODE_JOIN}
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
                        json.dumps(ordered_categories(p)),
                        iso(p.published),
                        iso(at),
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
        return [(row[0], row[1], row[2], tuple(decode_json(row[3]))) for row in rows]

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
                [(topic, r.arxiv_id, r.score, r.why, r.basis, iso(at)) for r in rows],
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
