"""How long a publish spends rendering its feeds: the 42 RSS and Atom files of 20 topics + "all".

A real store is filled with a few listing days of real corpus records (benchmarks/corpus_store.py:
595 papers a day, one or two of 20 topics each, a quarter with a code link), and each feed's
entries are read from it as `StoreExports.opening` reads them (fresh Entry objects per feed).
Only the rendering is timed: the median of RUNS rounds, each rendering all 42 feeds of up to 100
items the way a publish does (one FeedItems for the round, so a paper in several feeds is rendered
once per format), and for scale the same without sharing (a FeedItems per feed). ElementTree took
BEFORE_SECONDS for the same work; the target is a third of that.

Usage: python benchmarks/bench_feeds.py [RUNS] [CORPUS]   (default 9, ../shared/data/corpus/)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from arxiv_radar.paper import Entry
from arxiv_radar.publish.feeds import FeedItems, FeedSettings, render_atom, render_rss
from arxiv_radar.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from corpus_store import (
    CORPUS,
    PER_DAY,
    TOPIC_CODES,
    Filler,
    Numbers,
    corpus_available,
    listing_days_back,
    load_corpus,
)

RUNS = 9
DAYS = 5  # enough for every topic feed to fill its 100 items
TODAY = date(2026, 12, 2)
SETTINGS = FeedSettings(title="My Radar", site_url="https://owner.github.io/digest/")
BEFORE_SECONDS = 0.375  # ElementTree (main at aa2e80a), median of 9 on this 2-core machine
TARGET_SECONDS = BEFORE_SECONDS / 3

Feeds = list[tuple[str, str, Sequence[Entry]]]  # (path stem, title, entries) per feed pair


def feed_inputs(corpus: Path, folder: Path) -> Feeds:
    """Each feed pair's entries, read from a store filled with DAYS listing days."""
    with Store.open(folder / "radar.db") as store:
        with store.transaction():
            filler = Filler(store, load_corpus(corpus), seed=20261202, today=TODAY)
            numbers = Numbers()
            for day in listing_days_back(TODAY, DAYS):
                filler.add_day(day, PER_DAY, numbers, enrich=True)
        feeds: Feeds = [("feeds/all", "all topics", store.announced_entries(SETTINGS.max_items))]
        for code in TOPIC_CODES:
            entries = store.topic_entries(code, limit=SETTINGS.max_items)
            feeds.append((f"feeds/topics/{code}", code, entries))
    return feeds


def render_all(feeds: Feeds, *, shared: bool) -> int:
    """Every feed of one publish, ``shared`` item texts or not; returns the characters written."""
    written = 0
    publish = FeedItems()
    for stem, title, entries in feeds:
        items = publish if shared else FeedItems()
        for suffix, render in ((".xml", render_rss), (".atom", render_atom)):
            text = render(
                settings=SETTINGS,
                feed_title=f"{SETTINGS.title}: {title}",
                feed_path=stem + suffix,
                entries=entries,
                updated=None,
                items=items,
            )
            written += len(text)
    return written


def median_seconds(feeds: Feeds, runs: int, *, shared: bool) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        render_all(feeds, shared=shared)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else RUNS
    corpus = Path(argv[1]) / "papers.jsonl" if len(argv) > 1 else CORPUS
    if not corpus_available(corpus):
        print(f"skipped: no corpus at {corpus}")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        feeds = feed_inputs(corpus, Path(folder))
    items = 2 * sum(min(len(entries), SETTINGS.max_items) for _, _, entries in feeds)
    median = median_seconds(feeds, runs, shared=True)
    verdict = "PASS" if median <= TARGET_SECONDS else "FAIL"
    print(
        f"{2 * len(feeds)} feeds, {items} items: median {median:.3f} s over {runs} runs, "
        f"{median / items * 1e6:.1f} us per item   target <= {TARGET_SECONDS:.3f} s "
        f"(ElementTree: {BEFORE_SECONDS:.3f} s, {BEFORE_SECONDS / median:.1f}x)   {verdict}"
    )
    alone = median_seconds(feeds, runs, shared=False)
    print(f"without sharing items between feeds: median {alone:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
