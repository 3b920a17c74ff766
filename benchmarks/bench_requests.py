"""arXiv requests per daily run: 10 topics over 3 categories, against a local fake arXiv.

The target (issue 2) is 1 + ceil(matched / 100): one RSS listing for every watched category, then
the metadata of the papers that matched, 100 ids per API request. cv-arxiv-daily style trackers
make one API search per topic (10+) whatever matched, and still cap each at 10 results.

Run from the repository root: python -m benchmarks.bench_requests
"""

from __future__ import annotations

import math
import random
import tempfile
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import local_server

from arxiv_radar.config import load_workspace
from arxiv_radar.pipeline import run_pipeline
from arxiv_radar.store import Store

CATEGORIES = ("cs.CV", "cs.CL", "cs.LG")
TOPICS = 10
DAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 25, 1, 17, tzinfo=timezone.utc)
FILLER = ["we", "study", "a", "method", "and", "report", "results", "on", "standard", "benchmarks"]


def _config(api: str, rss: str, *, searching_topic: bool) -> str:
    lines = [
        f"categories: [{', '.join(CATEGORIES)}]",
        "topics:",
        *(
            f'  - name: Topic {i}\n    keywords: ["subject{i} phrase"]\n'
            f"    categories: [{CATEGORIES[i % 3]}]"
            for i in range(TOPICS)
        ),
    ]
    if searching_topic:
        lines.append('  - name: Anywhere\n    keywords: ["subject0 phrase"]')
    lines += [
        f"endpoints:\n  api_url: {api}\n  rss_url: {rss}",
        "http:\n  request_interval: 0",
        "lookback_days: 2",
    ]
    return "\n".join(lines) + "\n"


def _listing(rng: random.Random, size: int, match_rate: float) -> list:  # type: ignore[type-arg]
    published = NOW - timedelta(hours=8)
    papers = []
    for number in range(size):
        category = CATEGORIES[number % 3]
        words = rng.choices(FILLER, k=12)
        if rng.random() < match_rate:
            topic = rng.randrange(TOPICS)
            category = CATEGORIES[topic % 3]
            words.insert(3, f"subject{topic} phrase")
        papers.append(
            make_paper(
                f"2611.{number:05d}",
                " ".join(words[:6]).capitalize(),
                abstract=" ".join(words),
                categories=[category],
                published=published,
            )
        )
    return papers


def measure(size: int, match_rate: float, *, searching_topic: bool = False) -> None:
    rng = random.Random(size)
    with local_server() as server, tempfile.TemporaryDirectory() as folder:
        fake = FakeArxiv(server, CATEGORIES)
        fake.announce(DAY, _listing(rng, size, match_rate))
        config = Path(folder) / "arxiv-radar.yml"
        config.write_text(
            _config(fake.api_url, fake.rss_url, searching_topic=searching_topic), encoding="utf-8"
        )
        workspace = load_workspace(config, env={})
        outcome = run_pipeline(workspace, ("fetch",), command="fetch", now=NOW)
        assert outcome.exit_code == 0, outcome.errors
        with Store.open(workspace.database) as store:
            matched = store.paper_count()
        kinds = Counter(_kind(request.path, request.query) for request in server.requests)
    total = sum(kinds.values())
    target = 1 + math.ceil(matched / 100)
    label = "+1 topic without categories" if searching_topic else "all topics with categories"
    # A topic without categories costs its own search pages by design (back to known papers).
    allowed = target + kinds["search"] if searching_topic else target
    verdict = "PASS" if total <= allowed else "FAIL"
    print(
        f"listing {size:>5} papers, {matched:>4} matched ({label}): {total:>3} requests "
        f"(rss {kinds['rss']}, id_list {kinds['id_list']}, search {kinds['search']}); "
        f"target 1 + ceil({matched}/100) = {target}  {verdict}"
    )


def _kind(path: str, query: dict[str, list[str]]) -> str:
    if path.startswith("/rss/"):
        return "rss"
    return "id_list" if query.get("id_list") else "search"


def main() -> None:
    print(f"arXiv requests per daily run, {TOPICS} topics over {len(CATEGORIES)} categories")
    for size, rate in ((300, 0.1), (1500, 0.2), (1500, 0.6), (4000, 0.5)):
        measure(size, rate)
    measure(1500, 0.2, searching_topic=True)


if __name__ == "__main__":
    main()
