"""`arxiv-radar publish` with 100,000 stored papers: time and peak memory (issue 2 target: < 3 s
and < 300 MB on a 2-core machine).

Scenarios, each run in a child process (peak RSS from getrusage(RUSAGE_CHILDREN)), median of
RUNS runs:
  (a) cold: a full publish into an empty folder;
  (b) warm: publish again with nothing new;
  (c) daily: one day of ~300 new papers over the 10 topics added through the Store API, plus a
      few changes to old papers (code links, a translation), then publish. (c) is the headline.

Usage: python benchmarks/bench_publish.py [WORKDIR] [RUNS]   (default /tmp/arxiv-radar-bench, 3)
"""

from __future__ import annotations

import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from arxiv_radar.paper import Paper
from arxiv_radar.records import CodeOutcome, TextKey
from arxiv_radar.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from make_store import make_store

N_PAPERS = 100_000
TOPICS = 10
DAILY = 300
TARGET_SECONDS = 3.0
TARGET_MB = 300.0
_CONFIG = "repository: someone/digest\ncategories: [cs.CV]\ntopics:\n" + "".join(
    f"  - {{name: Topic {i}, keywords: [x{i}]}}\n" for i in range(TOPICS)
)


_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _publish(folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `arxiv-radar publish`.

    A small wrapper process runs it and reads RUSAGE_CHILDREN: that maximum covers only this
    publish (our own RUSAGE_CHILDREN would keep the largest of all earlier runs).
    """
    exe = Path(sys.executable).with_name("arxiv-radar")
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(exe), "publish"],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    )
    wall, kilobytes = result.stdout.split()
    return float(wall), int(kilobytes) / 1024


def _workspace(base: Path, name: str, store: Path) -> Path:
    folder = base / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "arxiv-radar.yml").write_text(_CONFIG, encoding="utf-8")
    shutil.copy(store, folder / "arxiv-radar.db")
    return folder


def _add_day(db: Path, day: int, *, old_changes: bool) -> None:
    """~300 new papers on the day after the newest stored one, and maybe changes to old papers
    (code links in four old months, a translation in a fifth: each month they touch is
    rendered again)."""
    rng = random.Random(day)
    with Store.open(db) as store:
        span = store.published_span()
        assert span is not None
        when = span[1] + timedelta(days=1)
        papers = [
            Paper(
                # Four digits: make_store's ids all have five, so these never collide.
                arxiv_id=f"{when:%y%m}.{day * DAILY + i:04d}",
                version=1,
                title=f"Daily paper {day}-{i} on sparse diffusion",
                authors=(f"Author{i} Daily{day}", "Second Author"),
                abstract="We propose a method. " * 60,
                categories=("cs.CV",),
                primary_category="cs.CV",
                published=when + timedelta(seconds=i),
                updated=when + timedelta(seconds=i),
            )
            for i in range(DAILY)
        ]
        seen = when + timedelta(hours=2)
        with store.transaction():
            store.upsert_papers(papers, seen_at=seen, source="listing")
            for t in range(TOPICS):
                ids = [p.arxiv_id for i, p in enumerate(papers) if i % TOPICS == t or i % 7 == t]
                store.add_matches(f"Topic {t}", ids, matched_at=seen)
        if old_changes:
            _change_old(store, rng, seen)


def _change_old(store: Store, rng: random.Random, seen: datetime) -> None:
    old = [entry.paper for entry in store.topic_entries("Topic 3", limit=5000)[1000::900]]
    for paper in old[:4]:
        outcome = CodeOutcome(
            code_url=f"https://github.com/lab/{paper.arxiv_id}",
            project_url=None,
            stars=rng.randrange(1000),
            source="bench",
            at=seen,
            attempts=1,
            next_check=None,
        )
        store.record_code(paper.arxiv_id, outcome)
    key = TextKey("abstract", "zh", "bench", "m")
    store.record_text(old[-1], key, "翻译的摘要", seen)


def _figures(label: str, runs: list[tuple[float, float]], folder: Path) -> None:
    wall = statistics.median(r[0] for r in runs)
    rss = statistics.median(r[1] for r in runs)
    size = sum(p.stat().st_size for p in (folder / "docs").rglob("*") if p.is_file())
    verdict = "PASS" if wall < TARGET_SECONDS and rss < TARGET_MB else "FAIL"
    print(
        f"{label:<24} median wall {wall:6.2f} s   peak RSS {rss:6.0f} MB   "
        f"docs {size / 1e6:7.1f} MB ({size / N_PAPERS:,.0f} B/paper)   {verdict} "
        f"(runs: {', '.join(f'{w:.2f}s' for w, _ in runs)})"
    )


def main(argv: list[str]) -> None:
    base = Path(argv[0]) if argv else Path("/tmp/arxiv-radar-bench")
    runs = int(argv[1]) if len(argv) > 1 else 3
    base.mkdir(parents=True, exist_ok=True)
    store = base / "store-100k.db"
    if not store.exists():
        started = time.perf_counter()
        make_store(store, N_PAPERS, TOPICS)
        print(f"built {N_PAPERS} papers in {time.perf_counter() - started:.1f} s")
    cold = []
    for _ in range(runs):
        folder = _workspace(base, "work", store)
        cold.append(_publish(folder))
    _figures("cold", cold, folder)
    _figures("warm", [_publish(folder) for _ in range(runs)], folder)
    new_only, daily = [], []
    for day in range(runs):
        _add_day(folder / "arxiv-radar.db", 2 * day, old_changes=False)
        new_only.append(_publish(folder))
        _add_day(folder / "arxiv-radar.db", 2 * day + 1, old_changes=True)
        daily.append(_publish(folder))
    _figures("daily, new papers only", new_only, folder)
    _figures("daily + old changes", daily, folder)
    print(f"targets: < {TARGET_SECONDS} s and < {TARGET_MB:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
