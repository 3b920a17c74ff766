"""Fill a store with synthetic papers for the publish benchmarks.

Goes through the public Store API (the store stays the only module that speaks SQL); the upsert
and matches use executemany, and the whole fill is one transaction, so 100,000 papers take a few
seconds. The data is seeded, so two stores built with the same arguments are identical.

Usage: python benchmarks/make_store.py PATH [N] [TOPICS]
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from arxiv_radar.paper import Paper
from arxiv_radar.store import Store

_VOCABULARY = (
    "learning model neural network data training image graph language transformer attention "
    "diffusion robust efficient sparse optimal bound convex gradient stochastic inference "
    "representation latent adversarial benchmark dataset method results we propose show that "
    "the of and a in for with on to by from this our approach performance state art novel"
)
_WORDS = _VOCABULARY.split()
_CATEGORIES = ("cs.CV", "cs.LG", "cs.CL", "cs.AI", "cs.RO", "stat.ML", "eess.IV", "math.OC")
_EPOCH = datetime(2024, 8, 1, tzinfo=timezone.utc)
_SPAN_SECONDS = 2 * 365 * 24 * 3600


def _text_pool(rng: random.Random, size: int = 200_000) -> str:
    """One long text; abstracts are slices of it, far cheaper than joining words per paper."""
    return " ".join(rng.choices(_WORDS, k=size // 6))


def _papers(rng: random.Random, n: int) -> Iterator[Paper]:
    pool = _text_pool(rng)
    names = [f"Author{i} Surname{i % 997}" for i in range(5_000)]
    rng.shuffle(names)
    # Slices and precomputed choices instead of rng.sample per paper: generation is half the time.
    category_sets = [tuple(rng.sample(_CATEGORIES, 1 + i % 3)) for i in range(64)]
    for i in range(n):
        start = int(rng.random() * (len(pool) - 1_600))
        first_author = int(rng.random() * (len(names) - 10))
        published = _EPOCH + timedelta(seconds=int(rng.random() * _SPAN_SECONDS))
        version = 1 + (i % 5) // 3
        categories = category_sets[i % 64]
        yield Paper(
            arxiv_id=f"{published:%y%m}.{i:05d}",
            version=version,
            title=pool[start : start + 40 + i % 80].strip().capitalize(),
            authors=tuple(names[first_author : first_author + 3 + i % 8]),
            abstract=pool[start : start + 1_000 + int(rng.random() * 500)],
            categories=categories,
            primary_category=categories[0],
            published=published,
            updated=published + timedelta(days=30 * (version - 1)),
            comment=f"{5 + i % 25} pages, {1 + i % 12} figures",
        )


def make_store(path: Path, n: int = 100_000, topics: int = 10) -> None:
    """Create (or extend) the store at ``path`` with ``n`` papers, each in 1-2 of ``topics``."""
    rng = random.Random(20260813)
    papers = list(_papers(rng, n))
    members: dict[str, list[str]] = {f"Topic {t}": [] for t in range(topics)}
    for paper in papers:
        first = int(rng.random() * topics)
        members[f"Topic {first}"].append(paper.arxiv_id)
        if topics > 1 and rng.random() < 0.5:
            members[f"Topic {(first + 1 + int(rng.random() * (topics - 1))) % topics}"].append(
                paper.arxiv_id
            )
    seen = _EPOCH + timedelta(seconds=_SPAN_SECONDS)
    with Store.open(path) as store, store.transaction():
        store.upsert_papers(papers, seen_at=seen, source="backfill")
        for topic, ids in members.items():
            store.add_matches(topic, ids, matched_at=seen)


def main(argv: list[str]) -> None:
    path = Path(argv[0])
    n = int(argv[1]) if len(argv) > 1 else 100_000
    topics = int(argv[2]) if len(argv) > 2 else 10
    started = time.perf_counter()
    make_store(path, n, topics)
    print(f"{n} papers over {topics} topics in {time.perf_counter() - started:.1f} s -> {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
