"""The committed text state at scale: export, daily export, rebuild, file sizes (issue 10).

Builds a store of N synthetic papers (benchmarks/make_store.py: two years, 10 topics) with
enrichments on part of them (code links with stars, translated titles and abstracts, TL;DRs,
deliveries to two channels), plus one worst-case month at cs.* density: 12,500 papers, every one
with a code link, a translated title and abstract, a TL;DR, two topics and three deliveries.
Then measures, each figure printed beside its target:

- cold export: the first export of the whole store (an existing digest's upgrade run);
- daily export: one day of new cs.* papers (600) and a few changes to old ones (code links in
  four old months, a translation in a fifth), then an export;
- idle export: an export with nothing new (must write nothing);
- rebuild: the database built again from the shards alone;
- largest file and bytes per paper in the state.

Usage: python benchmarks/bench_snapshot.py [N] [WORKDIR]   (default 100000, /tmp/arxiv-radar-snap)
Times at 400k are extrapolated linearly from N (the rebuild is one pass over every line) unless
N is 400000.
"""

from __future__ import annotations

import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from itertools import islice
from pathlib import Path
from typing import TypeVar

from arxiv_radar.paper import Paper
from arxiv_radar.records import CodeOutcome, TextKey
from arxiv_radar.store import Store
from arxiv_radar.store.snapshot import export_state, rebuild_database

sys.path.insert(0, str(Path(__file__).parent))
from make_store import make_store

UTC = timezone.utc
DENSE_MONTH = datetime(2026, 9, 1, tzinfo=UTC)  # after make_store's two years
DENSE_PAPERS = 12_500  # cs.* papers a month
DAILY = 600  # cs.* papers an announcement day
TARGET_REBUILD_400K = 60.0
TARGET_LARGEST_MB = 50.0
_AT = datetime(2026, 10, 1, tzinfo=UTC)
_WORDS = (
    "gaussian",
    "splatting",
    "diffusion",
    "transformer",
    "robust",
    "sparse",
    "latent",
    "field",
)
_CJK = "".join(chr(0x4E00 + i) for i in range(2_000))
_CHANNELS = ("email", "chat:slack:SLACK_WEBHOOK_URL", "chat:discord:DISCORD_WEBHOOK_URL")


def _weekdays(start: datetime, days: int) -> list[datetime]:
    """Submissions cluster on weekdays: the worst day is a weekday's share of the month."""
    every = (start + timedelta(days=d) for d in range(days))
    return [day for day in every if day.weekday() < 5]


def _dense_papers(
    rng: random.Random, days: list[datetime], count: int, prefix: str
) -> Iterator[Paper]:
    words = _WORDS
    for i in range(count):
        published = rng.choice(days) + timedelta(seconds=int(rng.random() * 86_400))
        abstract = " ".join(rng.choices(words, k=170 + i % 60))  # ~1,300 characters
        yield Paper(
            arxiv_id=f"{prefix}.{i:05d}",
            version=1,
            title=" ".join(rng.choices(words, k=9)).capitalize(),
            authors=tuple(f"Author{rng.randrange(5_000)} Surname{j}" for j in range(6)),
            abstract=abstract,
            categories=("cs.CV", "cs.LG"),
            primary_category="cs.CV",
            published=published,
            updated=published,
            comment="12 pages, 8 figures, project page online",
        )


def _translation(text: str, rng: random.Random) -> str:
    """About as long in CJK characters as a real translation (half the English length)."""
    start = rng.randrange(len(_CJK) - 1_000)
    return _CJK[start : start + max(10, len(text) // 2)]


def _text(paper: Paper, field: str, rng: random.Random) -> str:
    """A translated title or abstract, or a one-sentence TL;DR (about 80 CJK characters)."""
    source = {"title": paper.title, "abstract": paper.abstract}.get(field, "x" * 160)
    return _translation(source, rng)


def _enrich(store: Store, papers: list[Paper], rng: random.Random, *, every: bool) -> None:
    """Code links, texts and deliveries: on every paper (worst case) or on a realistic share."""
    keys = [TextKey(f, "zh", "openai", "deepseek-chat") for f in ("title", "abstract", "tldr")]
    with store.transaction():
        for i, paper in enumerate(papers):
            if every or i % 3 == 0:
                url = f"https://github.com/owner{i}/repo{i}"
                outcome = CodeOutcome(url, None, rng.randrange(10_000), "huggingface", _AT, 1, None)
                store.record_code(paper.arxiv_id, outcome)
            if every or i % 2 == 0:
                for key in keys[: 3 if every else 2]:
                    store.record_text(paper, key, _text(paper, key.field, rng), _AT)
        channels = _CHANNELS if every else _CHANNELS[:2]
        for channel in channels:
            store.mark_delivered(channel, [p.arxiv_id for p in papers], at=_AT)


def _dense_month(store: Store, rng: random.Random) -> None:
    papers = list(_dense_papers(rng, _weekdays(DENSE_MONTH, 30), DENSE_PAPERS, "2609"))
    with store.transaction():
        store.upsert_papers(papers, seen_at=DENSE_MONTH + timedelta(days=30), source="listing")
        ids = [p.arxiv_id for p in papers]
        store.add_matches("Topic 0", ids, matched_at=_AT)
        store.add_matches("Topic 1", ids, matched_at=_AT)
    _enrich(store, papers, rng, every=True)


def build(path: Path, n: int) -> None:
    rng = random.Random(20261201)
    make_store(path, n)
    with Store.open(path) as store:
        sample = [entry.paper for entry in islice(store.iter_entries(), n // 5)]
        _enrich(store, sample, rng, every=False)
        _dense_month(store, rng)


T = TypeVar("T")


def _timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _daily(store: Store, rng: random.Random, day: int) -> None:
    """One announcement day in the dense month, plus changes to papers of five old months."""
    start = DENSE_MONTH + timedelta(days=28)
    papers = list(_dense_papers(rng, [start], DAILY, f"2609{day}"))
    with store.transaction():
        store.upsert_papers(papers, seen_at=start + timedelta(days=1), source="listing")
        store.add_matches("Topic 2", [p.arxiv_id for p in papers], matched_at=start)
    old = list(_old_papers(store))
    for paper in old[:4]:
        outcome = CodeOutcome("https://github.com/late/code", None, 5, "huggingface", _AT, 2, None)
        store.record_code(paper.arxiv_id, outcome)
    key = TextKey("abstract", "zh", "openai", "deepseek-chat")
    store.record_text(old[4], key, _text(old[4], "abstract", rng), _AT)


def _old_papers(store: Store) -> Iterator[Paper]:
    """One paper from each of five months spread over the history."""
    span = store.published_span()
    assert span is not None
    for step in range(5):
        month = span[0] + timedelta(days=30 * (1 + 4 * step))
        yield next(store.iter_window_entries(month, month + timedelta(days=2))).paper


def _exports(db: Path, state: Path) -> None:
    with Store.open(db) as store:
        cold, report = _timed(lambda: export_state(store, state))
        print(f"cold export: {cold:.1f} s, {report.days} day shards")
        _daily(store, random.Random(1), 1)
        daily, report = _timed(lambda: export_state(store, state))
        print(f"daily export ({DAILY} new papers, 5 old months changed): {daily:.2f} s")
        print(f"  wrote {', '.join(report.written)}")
        idle, report = _timed(lambda: export_state(store, state))
        print(f"idle export: {idle:.3f} s, wrote {len(report.written)} files (target: 0)")


def _sizes(work: Path, state: Path, papers: int) -> None:
    files = [p for p in state.rglob("*") if p.is_file()]
    largest = max(files, key=lambda p: p.stat().st_size)
    dense = (state / "papers" / f"{DENSE_MONTH:%Y-%m}").glob("*.jsonl")
    month = sum(p.stat().st_size for p in dense)
    size = sum(p.stat().st_size for p in files)
    print(
        f"largest file: {largest.relative_to(work)} {largest.stat().st_size / 1e6:.1f} MB "
        f"(target <= {TARGET_LARGEST_MB:.0f} MB; a day's size does not grow with the history)"
    )
    print(
        f"worst-case month ({DENSE_PAPERS} papers, all enriched): {month / 1e6:.1f} MB in all, "
        f"{month / DENSE_PAPERS:.0f} bytes per paper"
    )
    print(f"state: {size / 1e6:.1f} MB in {len(files)} files, {size / papers:.0f} bytes per paper")


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 100_000
    work = Path(argv[1] if len(argv) > 1 else "/tmp/arxiv-radar-snap")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, state = work / "arxiv-radar.db", work / "state"
    built, _ = _timed(lambda: build(db, n))
    print(f"store: {n} papers + a worst-case month of {DENSE_PAPERS}, built in {built:.1f} s")
    _exports(db, state)
    with Store.open(db) as store:
        papers = store.paper_count()
    _sizes(work, state, papers)
    rebuilt = work / "rebuilt.db"
    cpu = time.process_time()
    rebuild, _ = _timed(lambda: rebuild_database(rebuilt, state))
    cpu = time.process_time() - cpu
    how = "measured" if papers >= 400_000 else "extrapolated by papers"
    scale = max(1.0, 400_000 / papers)
    print(
        f"rebuild: {rebuild:.1f} s wall, {cpu:.1f} s CPU for {papers} papers; at 400k {how}: "
        f"{rebuild * scale:.1f} s wall, {cpu * scale:.1f} s CPU "
        f"(target <= {TARGET_REBUILD_400K:.0f} s)"
    )
    megabytes = db.stat().st_size / 1e6, rebuilt.stat().st_size / 1e6
    print(f"database: {megabytes[0]:.0f} MB; rebuilt from the state: {megabytes[1]:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
