"""The site links its feeds and exports: ``<link rel="alternate">`` for feed autodiscovery on every
page (and the topic's own feed on topic pages), visible links in the footer, the topic pages and
the archive. Checked after a real `arxiv-radar run`: every link is followed on disk and every feed
is opened with feedparser, as a feed reader would."""

from __future__ import annotations

import os
import posixpath
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from tests.servers.arxiv import FakeArxiv, make_paper, submitted_for
from tests.servers.http import LocalServer

DAY = date(2026, 11, 27)
CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
  - name: C++ / CUDA
    query: 'ti:cuda'
    categories: [cs.CV]
code_links:
  enabled: false
feeds:
  enabled: {feeds}
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 0
"""
RSS, ATOM = "application/rss+xml", "application/atom+xml"


@dataclass
class Page:
    """The feed links a reader's browser sees: ``<link rel=alternate>`` and every ``<a href>``."""

    alternates: list[tuple[str, str, str]] = field(default_factory=list)  # type, title, href
    anchors: list[str] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__()
        self.page = page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "link" and values.get("rel") == "alternate":
            self.page.alternates.append((values["type"], values["title"], values["href"]))
        elif tag == "a" and "href" in values:
            self.page.anchors.append(values["href"])


def parse(path: Path) -> Page:
    page = Page()
    _Parser(page).feed(path.read_text(encoding="utf-8"))
    return page


def on_disk(docs: Path, page: Path, href: str) -> Path:
    """The file ``href`` on ``page`` names (404.html links from the site root)."""
    if href.startswith("/"):
        return docs / href.lstrip("/")
    folder = posixpath.dirname(page.relative_to(docs).as_posix())
    path = href.split("#", 1)[0].split("?", 1)[0]
    return docs / posixpath.normpath(posixpath.join(folder, path))


def local(hrefs: list[str]) -> list[str]:
    return [h for h in hrefs if "://" not in h and not h.startswith(("data:", "mailto:", "#"))]


def publish(root: Path, fake: FakeArxiv, *, feeds: bool) -> Path:
    text = CONFIG.format(feeds=str(feeds).lower(), api=fake.api_url, rss=fake.rss_url)
    (root / "arxiv-radar.yml").write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "arxiv_radar", "run"],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return root / "docs"


@pytest.fixture
def fake(server: LocalServer) -> FakeArxiv:
    arxiv = FakeArxiv(server, ["cs.CV"])
    titles = ["Splatting fast", "Splatting slow", "CUDA kernels for splatting", "CUDA graphs"]
    papers = [
        make_paper(f"2611.{n:05d}", title, published=submitted_for(DAY, n))
        for n, title in enumerate(titles)
    ]
    arxiv.announce(DAY, papers)
    return arxiv


def open_feed(path: Path, kind: str) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    assert parsed.version.startswith("rss" if kind == RSS else "atom"), (path, parsed.version)
    return parsed


def test_every_page_advertises_and_links_the_feeds_and_exports(
    tmp_path: Path, fake: FakeArxiv
) -> None:
    docs = publish(tmp_path, fake, feeds=True)
    pages = sorted(docs.rglob("*.html"))
    assert len(pages) >= 8
    for path in pages:
        page = parse(path)
        kinds = {(kind, Path(href).name) for kind, _, href in page.alternates}
        assert {(RSS, "all.xml"), (ATOM, "all.atom")} <= kinds, path
        for kind, _, href in page.alternates:
            entries = open_feed(on_disk(docs, path, href), kind).entries
            assert len(entries) >= 2, (path, href)
        visible = {on_disk(docs, path, href) for href in local(page.anchors)}
        assert {docs / "feeds/all.xml", docs / "feeds/all.atom"} <= visible, path
        assert docs / "exports/index.json" in visible, path
        for target in visible:  # every local link resolves, feeds and exports included
            assert target.exists(), (path, target)


def test_topic_pages_advertise_their_own_feed(tmp_path: Path, fake: FakeArxiv) -> None:
    docs = publish(tmp_path, fake, feeds=True)
    topics = {  # name: (site page, a word every paper of its feed has in its title)
        "Splatting": (docs / "topics/splatting.html", "splatting"),
        "C++ / CUDA": (docs / "topics/c-cuda.html", "cuda"),
    }
    for name, (path, word) in topics.items():
        page = parse(path)
        own = [(kind, href) for kind, title, href in page.alternates if name in title]
        assert sorted(kind for kind, _ in own) == [ATOM, RSS], (path, page.alternates)
        for kind, href in own:
            target = on_disk(docs, path, href)
            assert target.parent == docs / "feeds" / "topics" and target in {
                on_disk(docs, path, a) for a in page.anchors
            }
            feed = open_feed(target, kind)
            assert name in feed.feed.title
            assert feed.entries and all(word in e.title.lower() for e in feed.entries)
        bib = [a for a in page.anchors if a.endswith(".bib")]
        assert bib and on_disk(docs, path, bib[0]).read_text("utf-8").startswith("@")


def test_the_archive_links_each_months_exports(tmp_path: Path, fake: FakeArxiv) -> None:
    docs = publish(tmp_path, fake, feeds=True)
    month = DAY.strftime("%Y-%m")
    for page in (docs / "archive/index.html", docs / f"archive/{month}.html"):
        targets = {on_disk(docs, page, href).name for href in parse(page).anchors}
        expected = {f"papers-{month}.bib"}  # CSV is opt-in; JSON is per day
        assert expected <= targets, page
        assert all((docs / "exports" / name).exists() for name in expected)
    month_page = docs / f"archive/{month}.html"
    days = [href for href in parse(month_page).anchors if href.endswith(".json.gz")]
    assert days and all(href.startswith(f"../exports/{month}/papers-{month}-") for href in days)
    assert all(on_disk(docs, month_page, href).is_file() for href in days)


def test_without_feeds_no_page_links_one(tmp_path: Path, fake: FakeArxiv) -> None:
    docs = publish(tmp_path, fake, feeds=False)
    assert not (docs / "feeds").exists()
    for path in sorted(docs.rglob("*.html")):
        page = parse(path)
        assert page.alternates == [], path
        assert not [a for a in page.anchors if "feeds/" in a or "exports/" in a], path
