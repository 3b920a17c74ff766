"""Time the store's daily queries at 100k and 400k stored papers of cs.* density.

A daily run asks the store what is due: code checks (``papers_needing_code``), links a batch
finder may settle (``papers_awaiting_code``), star counts (``repos_needing_stars``) and papers a
destination has not received (``undelivered``). Each should cost what is due, not the history:
the target is each query's median at 400k <= 1.2 x its median at 100k. The exception, shown for
comparison, is ``undelivered`` for a destination that has never had a complete delivery (no
watermark yet): it reads every paper first seen since the destination was added, once.

The stores hold papers at cs.* density (12,500 a month, so 400k papers span four times as many
months as 100k, with the same recent days), first seen a few hours after publication, with the
enrichment state a digest has after running daily: 30% of papers with a code link and a star
count (older ones refreshed at the start of the month, recent ones yesterday), the rest given up
or still on the re-check schedule, today's papers unchecked, every paper but today's delivered.
The texts come from ``benchmarks/make_store.py``'s pool. ``make_store()`` itself is not used: it
stores every paper as first seen at one instant, which makes all of history "recent".

Usage: python benchmarks/bench_daily_queries.py [WORKDIR] [SIZES...]
       (default /tmp/arxiv-radar-daily 100000 400000; each store is built once, then reused)
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from arxiv_radar.enrich.stars import stars_schedule
from arxiv_radar.paper import Paper
from arxiv_radar.records import CodeOutcome
from arxiv_radar.store import Store

UTC = timezone.utc
NOW = datetime(2026, 8, 2, 9, 0, tzinfo=UTC)  # not a month's first day: no monthly refresh due
PER_DAY = 12_500 * 12 // 365  # cs.* density
TOPICS = 20
CODE_SHARE = 0.3
REPEATS = 9
TARGET = 1.2
NEWS_LAG = timedelta(days=7)


def _make_store_module() -> Any:
    path = Path(__file__).with_name("make_store.py")
    spec = importlib.util.spec_from_file_location("make_store", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _days(rng: random.Random, n: int) -> Iterator[tuple[datetime, list[Paper]]]:
    """Per announcement day, newest last: the papers published that day (PER_DAY of them)."""
    pool: str = _make_store_module()._text_pool(rng)
    first = NOW - timedelta(days=n // PER_DAY + 1)
    made = 0
    per_month: dict[str, int] = {}
    day = first
    while made < n:
        papers = []
        for _ in range(min(PER_DAY, n - made)):
            published = day + timedelta(seconds=int(rng.random() * 20 * 3600))
            month = f"{published:%y%m}"
            per_month[month] = per_month.get(month, 0) + 1
            start = int(rng.random() * (len(pool) - 1_600))
            papers.append(
                Paper(
                    arxiv_id=f"{month}.{per_month[month]:05d}",
                    version=1,
                    title=pool[start : start + 60].strip().capitalize(),
                    authors=(f"Author{made % 997}", f"Author{(made * 7) % 991}"),
                    abstract=pool[start : start + 1_300],
                    categories=("cs.CV", "cs.LG"),
                    primary_category="cs.CV",
                    published=published,
                    updated=published,
                )
            )
            made += 1
        yield day, papers
        day += timedelta(days=1)


def _code_state(rng: random.Random, arxiv_id: str, seen: datetime) -> CodeOutcome | None:
    """What daily runs left for a paper first seen at ``seen``: None for today's papers."""
    age = NOW - seen
    if age < timedelta(days=1):
        return None
    if rng.random() < CODE_SHARE:
        url = f"https://github.com/owner/{arxiv_id.replace('.', '-')}"
        return CodeOutcome(url, None, None, "huggingface", seen, 1, None)
    if age > timedelta(days=30):
        return CodeOutcome(None, None, None, "huggingface", seen, 5, None)  # gave up
    later = NOW + timedelta(hours=rng.randrange(-12, 24 * 7))  # on the schedule, some due
    return CodeOutcome(None, None, None, "huggingface", seen, 2, later)


def build(path: Path, n: int) -> None:
    """Fill ``path`` through the Store API, in one transaction."""
    rng = random.Random(20261202)
    with Store.open(path) as store, store.transaction():
        start = NOW - timedelta(days=n // PER_DAY + 2)
        for channel in CHANNELS:
            store.destination_added(channel, at=start)
        outcomes: dict[str, CodeOutcome] = {}
        delivered: list[str] = []
        through = seen = start
        for day, papers in _days(rng, n):
            through = seen  # the day before's memberships: the last complete delivery
            seen = day + timedelta(hours=22)
            store.upsert_papers(papers, seen_at=seen, source="api")
            for t in range(TOPICS):
                store.add_matches(
                    f"Topic {t}", [p.arxiv_id for p in papers[t::TOPICS]], matched_at=seen
                )
            for paper in papers:
                outcome = _code_state(rng, paper.arxiv_id, seen)
                if outcome is not None:  # not today's paper: checked and delivered
                    outcomes[paper.arxiv_id] = outcome
                    delivered.append(paper.arxiv_id)
        store.seed_code_links(outcomes)
        urls = [o.code_url for o in outcomes.values() if o.code_url]
        recent = NOW - timedelta(days=30)
        old = {
            o.code_url: 1 + i % 500
            for i, o in enumerate(outcomes.values())
            if o.code_url and o.at < recent
        }
        store.record_stars(old, NOW.replace(day=1, hour=3))  # the monthly refresh
        store.record_stars({u: 7 for u in urls if u not in old}, NOW - timedelta(hours=12))
        for channel in CHANNELS:
            store.mark_delivered(channel, delivered, at=NOW - timedelta(hours=20))
        store.advance_delivered("email", through)  # the webhook has never had a complete one


# Both received every paper but today's; only the email's delivery watermark is recorded (the
# webhook's read is the one before a destination's first complete delivery).
CHANNELS = ("email", "webhook")


def _queries(store: Store) -> dict[str, Callable[[], list[Any]]]:
    added = store.destination_added("email", at=NOW)
    week = NOW - timedelta(days=7)
    return {
        "papers_needing_code": lambda: store.papers_needing_code(NOW),
        "papers_awaiting_code": lambda: store.papers_awaiting_code(NOW),
        "repos_needing_stars": lambda: store.repos_needing_stars(stars_schedule(NOW)),
        "undelivered (added a week ago)": lambda: store.undelivered(
            "email", since=week, published_since=week - NEWS_LAG
        ),
        "undelivered (added at the start)": lambda: store.undelivered(
            "email", since=added, published_since=added - NEWS_LAG
        ),
        "undelivered (no watermark yet)": lambda: store.undelivered(
            "webhook", since=added, published_since=added - NEWS_LAG
        ),
    }


def measure(paths: list[Path]) -> list[dict[str, tuple[float, int]]]:
    """Per store, per query: median seconds and rows returned. The stores take turns call by
    call, so a busy moment of a shared machine weighs on every size alike."""
    stores = [Store.open(path) for path in paths]
    try:
        queries = [_queries(store) for store in stores]
        times: list[dict[str, list[float]]] = [{name: [] for name in q} for q in queries]
        for _ in range(REPEATS):
            for name in queries[0]:
                for q, spent in zip(queries, times, strict=True):
                    started = time.perf_counter()
                    q[name]()
                    spent[name].append(time.perf_counter() - started)
        return [
            {name: (statistics.median(spent[name]), len(q[name]())) for name in q}
            for q, spent in zip(queries, times, strict=True)
        ]
    finally:
        for store in stores:
            store.close()


def main(argv: list[str]) -> None:
    workdir = Path(argv[0]) if argv else Path("/tmp/arxiv-radar-daily")
    sizes = [int(a) for a in argv[1:]] or [100_000, 400_000]
    workdir.mkdir(parents=True, exist_ok=True)
    paths = [workdir / f"daily-{n}.db" for n in sizes]
    for n, path in zip(sizes, paths, strict=True):
        if not path.exists():
            started = time.perf_counter()
            build(path, n)
            print(f"built {n} papers in {time.perf_counter() - started:.0f} s -> {path}")
    results = dict(zip(sizes, measure(paths), strict=True))
    low, high = sizes[0], sizes[-1]
    print(f"\nmedian of {REPEATS} calls; target: at {high:,} <= {TARGET} x at {low:,}")
    print(f"{'query':36} {low:>10,} {high:>10,}  ratio  rows ({low:,} / {high:,})")
    for name in results[low]:
        (a, rows_a), (b, rows_b) = results[low][name], results[high][name]
        ratio = b / a if a else float("inf")
        verdict = "ok" if ratio <= TARGET else "over"
        print(
            f"{name:36} {a * 1000:8.1f}ms {b * 1000:8.1f}ms  {ratio:4.2f}  "
            f"{rows_a} / {rows_b}  {verdict}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
