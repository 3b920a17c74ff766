"""SIGKILL `arxiv-radar run` at many points (fetch, store, publish), then re-run to completion.

Each stage commits whole or not at all and every output is written atomically, so whatever the
moment of the kill the store passes SQLite's integrity check, every page on disk is complete, and
the next run finishes the job: every paper once, no temporary files left, and the killed runs'
records say they were interrupted.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from arxiv_radar.paper import Paper
from arxiv_radar.pipeline import INTERRUPTED
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import LocalServer, Reply, Request
from tests.test_pipeline import cli

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 24)
LISTING_DELAY = 0.3
API_DELAY = 0.2
BACKLOG = 3000  # papers already in the store, so publishing takes a while
CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
  - name: Avatars
    query: 'ti:avatar'
    categories: [cs.CV]
code_links:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 0
"""


@dataclass(frozen=True)
class KillPoint:
    """Kill ``offset`` seconds after ``event``: spawn, the listing request, the first or the
    last metadata request reaching the server."""

    event: str
    offset: float

    def __str__(self) -> str:
        return f"{self.event}+{self.offset:g}s"


_AFTER_API = API_DELAY + 0.02
KILL_POINTS = [
    KillPoint("spawn", 0.1),  # still importing: no run record yet
    KillPoint("listing", 0.05),  # waiting for the listing
    KillPoint("first lookup", 0.05),  # waiting for metadata
    KillPoint("last lookup", 0.05),
    KillPoint("last lookup", _AFTER_API),  # parsing, matching, committing
    KillPoint("last lookup", _AFTER_API + 0.1),
    *(KillPoint("last lookup", _AFTER_API + t) for t in (0.3, 0.55, 0.8, 1.05, 1.3)),  # publish
]


class Radar:
    """A workspace with a large store, a slow fake arXiv whose listing grows before every run."""

    def __init__(self, root: Path, server: LocalServer) -> None:
        self.root = root
        self.server = server
        self.arxiv = FakeArxiv(server, ["cs.CV"])
        self.listed: list[Paper] = []
        self.expected: dict[str, set[str]] = {"Splatting": set(), "Avatars": set()}
        self._slow_down()
        (root / "arxiv-radar.yml").write_text(
            CONFIG.format(api=self.arxiv.api_url, rss=self.arxiv.rss_url), encoding="utf-8"
        )
        self._fill_store()

    def _slow_down(self) -> None:
        for path, delay in (("/rss/cs.CV", LISTING_DELAY), ("/api/query", API_DELAY)):
            route = self.server.routes[("GET", path)]
            self.server.route("GET", path, _delayed(route.next, delay))

    def _fill_store(self) -> None:
        start = datetime(2026, 7, 1, tzinfo=timezone.utc)
        papers = [
            make_paper(
                f"2607.{k:05d}",
                f"{'Splatting' if k % 2 else 'Avatar'} backlog {k}",
                published=start - timedelta(hours=k),
            )
            for k in range(BACKLOG)
        ]
        with Store.open(self.root / "arxiv-radar.db") as store, store.transaction():
            store.upsert_papers(papers, seen_at=start, source="test")
            for topic, word in (("Splatting", "Splatting"), ("Avatars", "Avatar")):
                ids = [p.arxiv_id for p in papers if p.title.startswith(word)]
                store.add_matches(topic, ids, matched_at=start)
                self.expected[topic].update(ids)

    def grow_listing(self, batch: int) -> None:
        """Today's listing gets 12 more papers (8 matching), so every run has pages to rewrite."""
        recent = datetime.now(timezone.utc) - timedelta(hours=1)
        for n in range(12):
            word = ("Splatting", "Avatar", "Optics")[n % 3]
            paper = make_paper(f"2611.{batch:03d}{n:02d}", f"{word} {batch}.{n}", published=recent)
            self.listed.append(paper)
            if word != "Optics":
                self.expected["Avatars" if word == "Avatar" else "Splatting"].add(paper.arxiv_id)
        self.arxiv.announce(DAY, self.listed)

    def spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "arxiv_radar", "run"],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ),
        )

    def kill_at(self, point: KillPoint) -> None:
        seen = len(self.server.requests)
        lookups = -(-sum(1 for p in self.listed if not p.title.startswith("Optics")) // 100)
        process = self.spawn()
        try:
            self._wait_for(point.event, seen, lookups, process)
            time.sleep(point.offset)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)

    def _wait_for(
        self, event: str, seen: int, lookups: int, process: subprocess.Popen[bytes]
    ) -> None:
        needed: dict[str, Callable[[list[Request]], bool]] = {
            "spawn": lambda new: True,
            "listing": lambda new: any(r.path == "/rss/cs.CV" for r in new),
            "first lookup": lambda new: _lookups(new) >= 1,
            "last lookup": lambda new: _lookups(new) >= lookups,
        }
        deadline = time.monotonic() + 30
        while not needed[event](self.server.requests[seen:]):
            assert process.poll() is None, f"the run ended before {event}"
            assert time.monotonic() < deadline, f"no {event} within 30 s"
            time.sleep(0.005)


def _delayed(source: Callable[[Request], Reply], delay: float) -> Callable[[Request], Reply]:
    def slow(request: Request) -> Reply:
        reply = source(request)
        return Reply(reply.status, reply.body, reply.headers, delay=delay)

    return slow


def _lookups(requests: list[Request]) -> int:
    return sum(1 for r in requests if r.path == "/api/query" and r.param("id_list"))


def check_store_integrity(database: Path) -> None:
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def check_outputs_complete(root: Path, *, temporaries_allowed: bool) -> None:
    """Every published file is whole: parses, and ends where its format ends."""
    outputs = [p for p in root.rglob("*") if p.is_file() and not p.name.startswith("arxiv-radar")]
    temporaries = [p for p in outputs if p.name.endswith(".tmp")]
    assert temporaries_allowed or temporaries == []
    for path in set(outputs) - set(temporaries):
        _check_complete(path)


def _check_complete(path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".gz":  # the month data files: a cut gzip stream fails to decompress
        data, path = gzip.decompress(data), path.with_suffix("")
    if path.suffix in {".md", ".csv", ".bib", ".css", ".js", ".json", ".html", ".xml"}:
        assert data.endswith(b"\n"), f"{path} does not end with a newline"
    text = data.decode("utf-8")
    if path.suffix == ".md":
        MarkdownIt().parse(text)
    elif path.suffix == ".json":
        json.loads(text)
    elif path.suffix == ".xml":
        ET.fromstring(data)
    elif path.suffix == ".html":
        assert text.rstrip().endswith("</html>"), f"{path} is cut short"


def test_killed_runs_leave_a_consistent_store_and_complete_pages(
    tmp_path: Path, server: LocalServer
) -> None:
    radar = Radar(tmp_path, server)
    radar.grow_listing(0)
    assert cli("run", cwd=tmp_path).returncode == 0  # a first full publish to overwrite later
    check_outputs_complete(tmp_path, temporaries_allowed=False)

    for batch, point in enumerate(KILL_POINTS, start=1):
        radar.grow_listing(batch)
        radar.kill_at(point)
        check_store_integrity(tmp_path / "arxiv-radar.db")
        check_outputs_complete(tmp_path, temporaries_allowed=True)

    final = cli("run", cwd=tmp_path)
    assert final.returncode == 0, final.stderr

    check_store_integrity(tmp_path / "arxiv-radar.db")
    check_outputs_complete(tmp_path, temporaries_allowed=False)
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        everything = set().union(*radar.expected.values())
        assert store.paper_count() == len(everything)
        for topic, ids in radar.expected.items():
            stored = [entry.paper.arxiv_id for entry in store.topic_entries(topic)]
            assert len(stored) == len(set(stored)) and set(stored) == ids, topic
        runs = store.recent_runs(50)
    assert runs[0].status == "ok" and runs[-1].status == "ok"
    for run in runs[1:-1]:  # the killed ones: finished before the kill, or marked interrupted
        assert run.finished_at is not None
        assert run.status == "ok" or {"stage": "run", "error": INTERRUPTED} in run.errors
    assert sum(INTERRUPTED in json.dumps(run.errors) for run in runs) >= len(KILL_POINTS) // 2

    readme = (tmp_path / "README.md").read_text("utf-8")
    assert f"Splatting {len(KILL_POINTS)}.0" in readme
    status = cli("status", "-n", "20", cwd=tmp_path)
    assert "interrupted" in status.stdout


def test_a_temporary_file_left_by_a_killed_run_is_removed(
    tmp_path: Path, server: LocalServer
) -> None:
    radar = Radar(tmp_path, server)
    radar.grow_listing(0)
    assert cli("run", cwd=tmp_path).returncode == 0
    leftovers = [tmp_path / ".README.md.tmp", tmp_path / "docs" / "exports" / ".index.json.tmp"]
    for leftover in leftovers:
        leftover.write_text("half a page", encoding="utf-8")
    assert cli("publish", cwd=tmp_path).returncode == 0  # nothing changed, nothing rewritten
    assert not any(path.exists() for path in leftovers)
