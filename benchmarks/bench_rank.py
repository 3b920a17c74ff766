"""Ranking quality and cost on real arXiv records (../shared/data/corpus/papers.jsonl).

Two kinds of proxy tasks, each with 5 seeds from earlier days than its pool (see SOURCES.md):
- category tasks: seeds from one fine category, a pool of 2,000 later papers in which that
  category is a 5% minority (relevant = the paper carries the category);
- trait tasks: seeds of one primary category sharing a title term, a pool of 2,000 later papers
  of the same primary category, 5% of them with the term in the title (relevant).
- mixed tasks (extra): one topic with two interests, the seeds of two tasks above together, a
  pool of 1,000 papers from each task's pool; relevant = relevant to either.
Rankers: ours (TF-IDF fitted on the 10,000 latest papers, maximum over the topic's seed groups),
its variants, date order, random order, and zotero-arxiv-daily's recency-weighted mean
similarity to every topic's seeds pooled into one library. Then seconds (wall and CPU) and extra
peak memory to score 1,000 new papers for 20 topics.

Usage: python benchmarks/bench_rank.py [CORPUS_DIR]
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arxiv_radar.rank.features import TermSpace, document_text
from arxiv_radar.rank.reasons import reason
from arxiv_radar.rank.run import CORPUS_LIMIT
from arxiv_radar.rank.scorer import Candidate, Profile, Seed, score

SEEDS_BEFORE = "2026-04-01"  # seeds are listed before this day
POOL_FROM = "2026-05-01"  # pools are listed on or after it
POOL, RELEVANT, SEEDS, K = 2000, 100, 5, 20
CATEGORY_TASKS = (
    "cs.IT", "cs.GT", "cs.CE", "cs.GR", "cs.RO", "cs.MA", "cs.IR", "cs.HC", "cs.CY", "cs.CR",
    "cs.MM", "cs.LG",
)  # fmt: skip
TRAIT_TASKS = (
    ("cs.CV", "segmentation"), ("cs.CV", "tracking"), ("cs.CV", "splatting"),
    ("cs.CV", "depth"), ("cs.CV", "detection"), ("cs.CV", "super-resolution"),
    ("cs.CL", "translation"), ("cs.CL", "retrieval"), ("cs.CL", "hallucination"),
    ("cs.CL", "speech"), ("cs.AI", "planning"), ("cs.AI", "multi-agent"),
)  # fmt: skip
TARGET_P20, TARGET_RATIO, TARGET_SECONDS = 0.75, 1.5, 2.0
KINDS = ("category", "trait", "mixed")
OURS = "ours: max over seed groups"


@dataclass(frozen=True)
class Task:
    kind: str
    name: str
    seeds: list[dict[str, Any]]
    pool: list[dict[str, Any]]
    relevant: set[str]


def load(corpus: Path) -> list[dict[str, Any]]:
    with (corpus / "papers.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _pool(rng: random.Random, hits: list[dict[str, Any]], rest: list[dict[str, Any]]) -> Any:
    chosen = rng.sample(hits, min(RELEVANT, len(hits)))
    pool = chosen + rng.sample(rest, POOL - len(chosen))
    rng.shuffle(pool)
    return pool, {p["id"] for p in chosen}


def category_task(papers: list[dict[str, Any]], code: str, rng: random.Random) -> Task:
    early = [p for p in papers if p["listed"] < SEEDS_BEFORE and code in p["categories"]]
    late = [p for p in papers if p["listed"] >= POOL_FROM]
    hits = [p for p in late if code in p["categories"]]
    pool, relevant = _pool(rng, hits, [p for p in late if code not in p["categories"]])
    return Task("category", code, rng.sample(early, SEEDS), pool, relevant)


def trait_task(papers: list[dict[str, Any]], code: str, term: str, rng: random.Random) -> Task:
    has = re.compile(rf"\b{re.escape(term)}\b", re.IGNORECASE)
    same = [p for p in papers if p["categories"][0] == code]
    early = [p for p in same if p["listed"] < SEEDS_BEFORE and has.search(p["title"])]
    late = [p for p in same if p["listed"] >= POOL_FROM]
    hits = [p for p in late if has.search(p["title"])]
    pool, relevant = _pool(rng, hits, [p for p in late if not has.search(p["title"])])
    return Task("trait", f"{code} '{term}'", rng.sample(early, SEEDS), pool, relevant)


def text(paper: dict[str, Any]) -> str:
    return document_text(paper["title"], paper["abstract"])


def candidates(pool: Sequence[dict[str, Any]]) -> list[Candidate]:
    return [
        Candidate(p["id"], p["title"], text(p), tuple(p["authors"]), tuple(p["categories"]))
        for p in pool
    ]


def profile(task: Task) -> Profile:
    seeds = tuple(Seed(p["id"], p["title"], text(p), tuple(p["categories"])) for p in task.seeds)
    return Profile(topic=task.name, seeds=seeds)


def precision(order: Sequence[str], relevant: set[str]) -> float:
    return sum(1 for i in order[:K] if i in relevant) / K


def ndcg(order: Sequence[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(rank + 2) for rank, i in enumerate(order[:K]) if i in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(K, len(relevant))))
    return dcg / ideal if ideal else 0.0


Ranker = Callable[[Task], list[str]]


def ours(space: TermSpace) -> Ranker:
    return lambda task: [s.arxiv_id for s in score(space, profile(task), candidates(task.pool))]


def ours_without_categories(space: TermSpace) -> Ranker:
    """Ablation: our scorer on words alone (no categories on either side)."""

    def rank(task: Task) -> list[str]:
        plain = [dataclasses.replace(c, categories=()) for c in candidates(task.pool)]
        seeds = tuple(dataclasses.replace(s, categories=()) for s in profile(task).seeds)
        chosen = dataclasses.replace(profile(task), seeds=seeds)
        return [s.arxiv_id for s in score(space, chosen, plain)]

    return rank


def own_seeds(space: TermSpace, combine: Callable[[Any], Any]) -> Ranker:
    """Ablations on the same features: combine the pool x seed cosines another way."""

    def rank(task: Task) -> list[str]:
        pool = space.vectors([text(p) for p in task.pool])
        sims = (pool @ space.vectors([text(p) for p in task.seeds]).T).toarray()
        return _by_score(task, combine(sims))

    return rank


def mixed(first: Task, second: Task) -> Task:
    pool = first.pool[: POOL // 2] + second.pool[: POOL // 2]
    relevant = {p["id"] for p in pool} & (first.relevant | second.relevant)
    name = f"{first.name} + {second.name}"
    return Task("mixed", name, first.seeds + second.seeds, pool, relevant)


def _by_score(task: Task, values: Any) -> list[str]:
    ids = [p["id"] for p in task.pool]
    return [ids[i] for i in sorted(range(len(ids)), key=lambda i: (-values[i], ids[i]))]


def pooled_mean(space: TermSpace, tasks: Sequence[Task]) -> Ranker:
    """zotero-arxiv-daily: every topic's seeds in one library, newest first, weighted by
    1 / (1 + log10(position + 1)) normalised, and the weighted mean similarity as the score
    (it uses a sentence-embedding model; here the same TF-IDF space, so only the pooling
    differs)."""
    library = sorted((p for t in tasks for p in t.seeds), key=lambda p: p["listed"], reverse=True)
    weights = 1 / (1 + np.log10(np.arange(len(library)) + 1))
    weights /= weights.sum()
    library_rows = space.vectors([text(p) for p in library])

    def rank(task: Task) -> list[str]:
        sims = space.vectors([text(p) for p in task.pool]) @ library_rows.T
        return _by_score(task, np.asarray(sims @ weights).ravel())

    return rank


def by_date(task: Task) -> list[str]:
    ordered = sorted(task.pool, key=lambda p: (p["listed"], p["id"]), reverse=True)
    return [p["id"] for p in ordered]


def at_random(task: Task) -> list[str]:
    ids = [p["id"] for p in task.pool]
    random.Random(task.name).shuffle(ids)
    return ids


def evaluate(rankers: dict[str, Ranker], tasks: Sequence[Task]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for name, ranker in rankers.items():
        per_task = {t.name: ranker(t) for t in tasks}
        table[name] = {
            kind: (
                statistics.mean(precision(per_task[t.name], t.relevant) for t in group),
                statistics.mean(ndcg(per_task[t.name], t.relevant) for t in group),
            )
            for kind in KINDS
            if (group := [t for t in tasks if t.kind == kind])
        }
        table[name]["tasks"] = {t.name: precision(per_task[t.name], t.relevant) for t in tasks}
    return table


def _score_all(space: TermSpace, profiles: Sequence[Profile], new: Sequence[Candidate]) -> None:
    rows = space.vectors([c.text for c in new])
    for topic in profiles:
        for result in score(space, topic, new, rows):
            reason(result.evidence)


def cost(space: TermSpace, tasks: Sequence[Task]) -> tuple[float, float, float]:
    """Wall and CPU seconds, extra peak MiB: 1,000 new papers scored for 20 topics, with reasons.

    Memory is measured in a second pass: tracemalloc slows every allocation down."""
    new = candidates(tasks[0].pool[:1000])
    profiles = [profile(t) for t in tasks[:20]]
    started, cpu = time.perf_counter(), time.process_time()
    _score_all(space, profiles, new)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    tracemalloc.start()
    _score_all(space, profiles, new)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, cpu, peak


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/corpus")
    papers = load(corpus)
    rng = random.Random(12)
    tasks = [category_task(papers, code, rng) for code in CATEGORY_TASKS]
    tasks += [trait_task(papers, code, term, rng) for code, term in TRAIT_TASKS]
    categories, traits = tasks[: len(CATEGORY_TASKS)], tasks[len(CATEGORY_TASKS) :]
    tasks += [mixed(traits[i], traits[(i + 6) % 12]) for i in range(6)]
    tasks += [mixed(categories[i], traits[i]) for i in range(6)]
    store = sorted((p for p in papers), key=lambda p: (p["listed"], p["id"]))[-CORPUS_LIMIT:]
    seeds = [p for t in tasks for p in t.seeds]
    started = time.process_time()
    space = TermSpace.fit(
        [text(p) for p in store + seeds], [p["categories"] for p in store + seeds]
    )
    fit_seconds = time.process_time() - started
    rankers: dict[str, Ranker] = {
        OURS: ours(space),
        "ours without the category lift": ours_without_categories(space),
        "ablation: max over single seeds": own_seeds(space, lambda sims: sims.max(axis=1)),
        "ablation: mean over own seeds": own_seeds(space, lambda sims: sims.mean(axis=1)),
        "zotero-arxiv-daily pooled mean": pooled_mean(space, tasks),
        "date order": by_date,
        "random order": at_random,
    }
    report(evaluate(rankers, tasks), tasks, fit_seconds, cost(space, tasks[:20]))


def report(
    table: dict[str, dict[str, Any]],
    tasks: Sequence[Task],
    fit_seconds: float,
    measured: tuple[float, float, float],
) -> None:
    seconds, cpu, peak = measured
    counts = ", ".join(f"{sum(1 for t in tasks if t.kind == k)} {k}" for k in KINDS)
    print(f"tasks: {counts}; pool {POOL}, {RELEVANT} relevant, {SEEDS} seeds, K={K}")
    print("| ranker | " + " | ".join(f"{k} P@20 | {k} nDCG@20" for k in KINDS) + " |")
    print("|---|" + "---:|" * (2 * len(KINDS)))
    for name, row in table.items():
        cells = " | ".join(f"{row[k][0]:.3f} | {row[k][1]:.3f}" for k in KINDS)
        print(f"| {name} | {cells} |")
    ours_row, base = table[OURS], table["zotero-arxiv-daily pooled mean"]
    for kind in KINDS:
        p20, ratio = ours_row[kind][0], ours_row[kind][0] / max(base[kind][0], 1e-9)
        print(f"{kind}: P@20 {p20:.3f} (target >= {TARGET_P20}), "
              f"{ratio:.2f}x the pooled mean (target >= {TARGET_RATIO}x)")  # fmt: skip
    print(f"score 1,000 papers x 20 topics with reasons: {seconds:.2f} s wall, {cpu:.2f} s CPU "
          f"(target <= {TARGET_SECONDS} s), extra peak memory {peak:.1f} MiB; "
          f"fitting on {CORPUS_LIMIT} papers: {fit_seconds:.2f} s CPU")  # fmt: skip
    print("per task P@20 (ours | pooled mean):")
    for t in tasks:
        print(f"  {t.kind:8} {t.name:44} {ours_row['tasks'][t.name]:.2f} | "
              f"{base['tasks'][t.name]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
