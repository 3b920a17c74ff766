"""A random arXiv week per seed, served as badly as the real one, and runs that miss days and
fail: after recovery the store and the published exports hold exactly the matching papers, each
once, with their first-published dates and the newest metadata.

Per seed the fake arXiv announces several days of papers in watched and unwatched categories:
cross-lists, replacements with changed titles (listed, or in unwatched categories only in the
API), many papers submitted in the same minute (whose order changes between requests), pages
that come back short or empty inside ``totalResults``, duplicates across pages, outages part-way
through a run and a failing topic search. The tool runs on some days only, each run on a fresh
store connection, as a scheduler restarts it; the last days are run without faults.

``ARXIV_RADAR_TEST_SEEDS`` raises the number of seeds (24 by default); a failure names its seed.
"""

from __future__ import annotations

import dataclasses
import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path

import pytest

from arxiv_radar.config import Workspace, load_workspace
from arxiv_radar.match import Topic, compile_topics
from arxiv_radar.paper import Paper
from arxiv_radar.pipeline import run_pipeline
from arxiv_radar.publish.export import read_json_exports
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, listing_days, make_paper, submitted_for
from tests.servers.http import LocalServer, Request

SEEDS = int(os.environ.get("ARXIV_RADAR_TEST_SEEDS", "24"))
UTC = timezone.utc
WATCHED = ("cs.CV", "cs.CL")
OTHERS = ("physics.ed-ph", "math.HO", "cs.GR")
DAYS = listing_days(date(2026, 11, 24), 8)
KEYWORDS = ("splatting", "language", "avatar")
FILLER = ("sparse", "neural", "fast", "robust", "scenes", "graphs", "models", "views", "study")

CONFIG = """\
categories: [cs.CV, cs.CL]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
  - name: Language
    query: 'ti:language'
    categories: [cs.CL]
  - name: Avatars
    query: 'ti:avatar'
output:
  readme_rows: 10000
site:
  enabled: false
code_links:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 1
  backoff_base: 0.001
"""


@dataclass
class Day:
    """One announcement: new submissions and new versions, with what the listing shows."""

    papers: list[Paper]
    revisions: list[Paper]


@dataclass
class World:
    """The papers of every day, announced one day at a time, and the faults of each run."""

    rng: random.Random
    fake: FakeArxiv
    days: list[Day] = field(default_factory=list)
    latest: dict[str, Paper] = field(default_factory=dict)

    def build(self) -> None:
        for index, day in enumerate(DAYS):
            papers = [self._paper(index, k, day) for k in range(self.rng.randint(25, 60))]
            self.latest.update((p.arxiv_id, p) for p in papers)
            self.days.append(Day(papers, self._revisions(index, day)))

    def _paper(self, index: int, k: int, day: date) -> Paper:
        rng = self.rng
        primary = rng.choice(WATCHED + WATCHED + OTHERS)
        categories = [primary]
        if rng.random() < 0.3:
            categories.append(rng.choice([c for c in WATCHED + OTHERS if c != primary]))
        words = rng.sample(FILLER, 3) + [w for w in KEYWORDS if rng.random() < 0.25]
        rng.shuffle(words)
        arxiv_id = f"2611.{index}{k:04d}"
        return make_paper(
            arxiv_id,
            f"{' '.join(words)} {arxiv_id}",
            categories=categories,
            published=submitted_for(day, minute=rng.randint(0, 15)),
        )

    def _revisions(self, index: int, day: date) -> list[Paper]:
        """New versions of earlier papers; the title changes but keeps its keywords, so whether
        a paper matches never depends on which version a run saw."""
        earlier = sorted(self.latest.values(), key=lambda p: p.arxiv_id)
        earlier = [p for p in earlier if p.published < submitted_for(day)]
        chosen = self.rng.sample(earlier, min(len(earlier), self.rng.randint(0, 4)))
        revised = [
            dataclasses.replace(
                p,
                version=p.version + 1,
                title=f"{p.title} v{p.version + 1}",
                comment=f"version {p.version + 1}",
                updated=submitted_for(day, minute=20 + self.rng.randint(0, 10)),
            )
            for p in chosen
        ]
        self.latest.update((p.arxiv_id, p) for p in revised)
        return revised

    def announce(self, index: int) -> None:
        """Day ``index``'s listing; the API learns of the day's papers and new versions."""
        day = self.days[index]

        def listed(paper: Paper) -> bool:
            return any(c in WATCHED for c in paper.categories)

        def primary(paper: Paper) -> bool:
            return paper.primary_category in WATCHED

        self.fake.announce(
            DAYS[index],
            [p for p in day.papers if primary(p)],
            cross=[p for p in day.papers if listed(p) and not primary(p)],
            replaced=[p for p in day.revisions if primary(p)],
            replaced_cross=[p for p in day.revisions if listed(p) and not primary(p)],
        )
        for paper in [*day.papers, *day.revisions]:
            self.fake.publish(paper)

    def faults(self, on: bool) -> None:
        """Bad paging always (it is arXiv's normal); outages and a failing search sometimes."""
        rng = self.rng
        self.fake.unstable_ties = random.Random(rng.random())
        self.fake.mangle = _mangler(random.Random(rng.random()), rate=0.15 if on else 0.0)
        self.fake.api_budget = rng.randint(2, 12) if on and rng.random() < 0.4 else None
        self.fake.failing_queries = ("avatar",) if on and rng.random() < 0.25 else ()

    def expected(self, topics: list[Topic]) -> dict[str, set[str]]:
        """Per topic, the ids of every paper it matches (newest version; any version agrees)."""
        return {
            topic.name: {p.arxiv_id for p in self.latest.values() if topic.matches(p)}
            for topic in topics
        }


def _mangler(rng: random.Random, *, rate: float):  # type: ignore[no-untyped-def]
    """Short, empty or duplicated pages for a share of the searches (not the id look-ups)."""

    def mangle(request: Request, page: list[Paper]) -> list[Paper]:
        if not page or rng.random() >= rate:
            return page
        fault = rng.choice(("short", "empty", "duplicate"))
        if fault == "short":
            return page[: rng.randrange(len(page))]
        if fault == "empty":
            return []
        if len(page) < 2:
            return page
        twice = rng.randrange(len(page))
        return [p if i != (twice + 1) % len(page) else page[twice] for i, p in enumerate(page)]

    return mangle


def _schedule(rng: random.Random) -> list[tuple[int, int]]:
    """(day, runs that day): day 0 always, then about half the days, the last two always."""
    runs: list[tuple[int, int]] = [(0, 1)]
    for index in range(1, len(DAYS) - 2):
        if rng.random() < 0.5:
            runs.append((index, rng.randint(1, 2)))
    return runs


def _workspace(root: Path, fake: FakeArxiv) -> Workspace:
    path = root / "arxiv-radar.yml"
    path.write_text(CONFIG.format(api=fake.api_url, rss=fake.rss_url), encoding="utf-8")
    return load_workspace(path, env={})


def _run(workspace: Workspace, index: int, attempt: int) -> int:
    now = datetime.combine(DAYS[index], time(1 + attempt, 0), tzinfo=UTC)
    return run_pipeline(workspace, ("fetch", "publish"), command="run", now=now).exit_code


def _check(workspace: Workspace, world: World, seed: int) -> None:
    topics = compile_topics(workspace.config.topics)
    expected = world.expected(topics)
    wanted = set().union(*expected.values())
    with Store.open(workspace.database) as store:
        entries = {e.paper.arxiv_id: e for e in store.iter_entries()}
        stored = {name: {e.paper.arxiv_id for e in store.topic_entries(name)} for name in expected}
    where = f"seed {seed} (ARXIV_RADAR_TEST_SEEDS, tests/test_fetch_randomized.py)"
    for name, ids in expected.items():
        assert stored[name] == ids, (
            f"{where}: topic {name}: missing {sorted(ids - stored[name])[:5]}, "
            f"extra {sorted(stored[name] - ids)[:5]}"
        )
    assert set(entries) == wanted, f"{where}: stored papers outside every topic"
    for arxiv_id, entry in entries.items():
        latest = world.latest[arxiv_id]
        got = (entry.paper.version, entry.paper.title, entry.paper.comment, entry.paper.published)
        want = (latest.version, latest.title, latest.comment, latest.published)
        assert got == want, f"{where}: {arxiv_id} is stale: {got} instead of {want}"
    exported = list(read_json_exports(workspace.root / "docs" / "exports"))
    ids = [row["arxiv_id"] for row in exported]
    assert sorted(ids) == sorted(wanted), f"{where}: the exports do not hold each paper once"
    for row in exported:
        latest = world.latest[row["arxiv_id"]]
        assert (row["version"], row["title"]) == (latest.version, latest.title), where
        assert set(row["topics"]) == {n for n, i in expected.items() if row["arxiv_id"] in i}, where


@pytest.mark.parametrize("seed", range(SEEDS))
def test_a_random_week_recovers_every_paper_exactly_once(
    seed: int, tmp_path: Path, server: LocalServer
) -> None:
    rng = random.Random(seed)
    fake = FakeArxiv(server, WATCHED)
    fake.filter_queries = True
    world = World(rng, fake)
    world.build()
    workspace = _workspace(tmp_path, fake)
    announced = -1
    for index, attempts in _schedule(rng):
        while announced < index:
            announced += 1
            world.announce(announced)
        for attempt in range(attempts):
            world.faults(on=True)
            _run(workspace, index, attempt)
    # Recovery: the last two days, without outages (arXiv's paging stays as bad as ever).
    for index in (len(DAYS) - 2, len(DAYS) - 1):
        while announced < index:
            announced += 1
            world.announce(announced)
        world.faults(on=False)
        code = _run(workspace, index, 0)
        assert code == 0 or index < len(DAYS) - 1, f"seed {seed}: the last run failed"
    _check(workspace, world, seed)
