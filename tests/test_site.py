"""The static site: structure, links, escaping, determinism, golden files and the writer."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import posixpath
import random
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from arxiv_radar.errors import ConfigError
from arxiv_radar.paper import Entry, Paper
from arxiv_radar.publish.cards import mathify
from arxiv_radar.publish.chart import week_start, weekly_chart_svg, weekly_series
from arxiv_radar.publish.feeds import FeedSettings, StoreExports
from arxiv_radar.publish.incremental import Calendar, Fingerprints, MonthEntries, NewestInTopics
from arxiv_radar.publish.site import (
    MANIFEST_NAME,
    TOPIC_PAGE_LIMIT,
    SiteSettings,
    StoreSite,
    write_site,
)
from arxiv_radar.store import RankedRow, Store
from tests.filling import LANGUAGE, fill_store

FIXTURE = Path(__file__).parent / "fixtures" / "site" / "entries.json"
GOLDEN = Path(__file__).parent / "golden" / "site"
UPDATED = date(2026, 11, 21)
Scores = Mapping[str, Mapping[str, tuple[float, str]]]  # topic -> paper id -> (score, reason)
# Stored relevance of some fixture papers: Vision ranks its second-newest paper of 2026-11-20
# first and leaves hep-th/9711200 unscored; NLP scores the paper it shares with Vision on its own.
FIXTURE_SCORES: Scores = {
    "Vision": {
        "2611.10002": (0.8123, 'nearest seed "Sparse attention" (0.81)'),
        "2611.10003": (0.3, "shared terms <b>detection</b> & 'robust'"),
        "2611.00001": (0.5, "followed author A. Author"),
    },
    "NLP": {"2611.10002": (0.4, 'nearest seed "Token budgets" (0.40)')},
}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def load_fixture() -> tuple[list[str], list[Entry]]:
    """Topics and entries of tests/fixtures/site/entries.json (the browser tests use it too)."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    entries = []
    for row in data["entries"]:
        paper = Paper(
            arxiv_id=row["id"],
            version=row["version"],
            title=row["title"],
            authors=tuple(row["authors"]),
            abstract=row["abstract"],
            categories=tuple(row["categories"]),
            primary_category=row["categories"][0],
            published=_utc(row["published"]),
            updated=_utc(row["updated"]),
        )
        entries.append(
            Entry(
                paper=paper,
                first_seen=_utc(row["published"]),
                topics=tuple(row["topics"]),
                code_url=row.get("code_url"),
                project_url=row.get("project_url"),
                stars=row.get("stars"),
                title_translated=row.get("title_translated"),
                abstract_translated=row.get("abstract_translated"),
                tldr=row.get("tldr"),
            )
        )
    return data["topics"], entries


# Written beside the site by publish.feeds, not by StoreSite: tests/test_cli_site_links.py
# follows these links on disk after a real run.
FEED_FILES = ("feeds/", "exports/")
DAY_DATA = "../exports/2026-11/papers-2026-11-20.json.gz"  # as days/2026-11-20.html names it


def build(
    settings: SiteSettings | None = None,
    entries: Sequence[Entry] | None = None,
    topics: Sequence[str] | None = None,
    updated_on: date | None = UPDATED,
    status_line: str = "3 new papers; 1 source failed & was retried",
    *,
    scores: Scores | None = None,
) -> dict[str, str]:
    """Every site file publish_all generates, from a real store filled with ``entries`` (and
    relevance ``scores`` recorded as the rank step records them)."""
    fixture_topics, fixture_entries = load_fixture()
    entries = fixture_entries if entries is None else entries
    topics = fixture_topics if topics is None else topics
    settings = settings or SiteSettings(title="Radar <test>", repository="octo/papers")
    members = {t: [e for e in entries if t in e.topics] for e in entries for t in e.topics}
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "radar.db") as store:
        fill_store(store, entries, members)
        store.display_language = LANGUAGE
        record_scores(store, scores or {})
        months = Calendar.build(store, _zone_or_utc(settings.timezone), tuple(topics))
        site = StoreSite(
            store=store,
            settings=settings,
            topics=topics,
            calendar=months,
            newest=NewestInTopics(store, TOPIC_PAGE_LIMIT),
            fingerprints=Fingerprints(store),
            out_dir=Path(folder) / "docs",
        )
        # The site's search and star badges read these (written with feeds off too).
        data = StoreExports(
            store=store,
            settings=FeedSettings(title=settings.title, site_url=""),
            topics=topics,
            calendar=months,
            newest=NewestInTopics(store, TOPIC_PAGE_LIMIT),
            fingerprints=Fingerprints(store),
            out_dir=Path(folder) / "docs",
            feeds=False,
        )
        pages: list[tuple[str, object]] = []
        for month in months.months:
            entries = MonthEntries(store, month)
            pages += [*site.month(entries), *data.month(entries)]
        pages += [*site.closing(updated_on, status_line), *data.closing()]
    assert all(text is not None for _, text in pages)  # a first publish renders everything
    return {path: _text(content) for path, content in sorted(pages)}


def _text(content: object) -> str:
    """A rendered file as text; the gzip data files unpacked (tests read them as JSON)."""
    if isinstance(content, bytes):
        assert content[:2] == b"\x1f\x8b"
        return gzip.decompress(content).decode("utf-8")
    return str(content)


def record_scores(store: Store, scores: Scores) -> None:
    for topic, rows in scores.items():
        ranked = [RankedRow(i, score, why, "seeds") for i, (score, why) in rows.items()]
        store.record_scores(topic, ranked, at=_utc("2026-11-21T00:00:00Z"))


def _zone_or_utc(name: str) -> tzinfo:
    """The calendar's zone; an unknown one falls back to UTC so that StoreSite reports it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def synthetic(
    count: int, *, start: datetime, topics: tuple[str, ...], step_hours: int = 6
) -> list[Entry]:
    """``count`` plain entries, newest first, one every ``step_hours`` going back from ``start``."""
    entries = []
    for n in range(count):
        when = start - timedelta(hours=step_hours * n)
        paper = Paper(
            f"2611.{n:05d}",
            1,
            f"Paper {n}",
            ("A. Author",),
            "Text.",
            ("cs.CV",),
            "cs.CV",
            when,
            when,
        )
        entries.append(Entry(paper=paper, first_seen=when, topics=topics))
    return entries


class Page(HTMLParser):
    """Links, element ids, scripts and event-handler attributes of one HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self.tags: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        self.elements.append((tag, values))
        for name in ("href", "src", "action", "data-index"):
            if values.get(name) is not None:
                self.links.append(str(values[name]))
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "script":
            self.scripts.append(values)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def internal_target(page: str, link: str, base_path: str = "") -> tuple[str, str] | None:
    """``(file, fragment)`` a link points to inside the site, or None for external links."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None
    if not parts.path:
        return page, parts.fragment
    if parts.path.startswith("/"):
        assert parts.path.startswith(base_path + "/"), link
        return parts.path[len(base_path) + 1 :], parts.fragment
    return posixpath.normpath(posixpath.join(posixpath.dirname(page), parts.path)), parts.fragment


def html_pages(files: dict[str, str]) -> dict[str, Page]:
    return {path: Page(text) for path, text in files.items() if path.endswith(".html")}


# --- structure and links ------------------------------------------------------------------------


def test_site_has_every_page_of_the_layout() -> None:
    files = build()
    assert sorted(files) == [
        ".nojekyll",
        "404.html",
        "abstracts.js",
        "archive/2026-09.html",
        "archive/2026-10.html",
        "archive/2026-11.html",
        "archive/index.html",
        "days/2026-09-30.html",
        "days/2026-10-15.html",
        "days/2026-11-01.html",
        "days/2026-11-02.html",
        "days/2026-11-19.html",
        "days/2026-11-20.html",
        "exports/2026-09/papers-2026-09-30.json.gz",
        "exports/2026-10/papers-2026-10-15.json.gz",
        "exports/2026-11/papers-2026-11-01.json.gz",
        "exports/2026-11/papers-2026-11-02.json.gz",
        "exports/2026-11/papers-2026-11-19.json.gz",
        "exports/2026-11/papers-2026-11-20.json.gz",
        "exports/stars.json",
        "index.html",
        "search-index.json",
        "search.html",
        "search.js",
        "sort.js",
        "stars.js",
        "style.css",
        "topics/c-graphs.html",
        "topics/nlp.html",
        "topics/quiet-topic.html",
        "topics/vision.html",
    ]
    assert files[".nojekyll"] == ""


@pytest.mark.parametrize("base_path", ["", "/papers"])
def test_every_internal_link_and_anchor_resolves(base_path: str) -> None:
    files = build(SiteSettings(base_path=base_path))
    pages = html_pages(files)
    checked = 0
    for path, page in pages.items():
        for link in page.links:
            target = internal_target(path, link, base_path)
            if target is None:
                assert link.startswith("https://") or link == "data:,", (path, link)
                continue
            file, fragment = target
            if file.startswith(FEED_FILES):
                continue
            assert file in files, f"{path} links to missing {link}"
            if fragment:
                assert fragment in pages[file].ids, f"{path} links to missing anchor {link}"
            checked += 1
    assert checked > 100


def test_every_page_is_reachable_from_the_home_page() -> None:
    files = build()
    pages = html_pages(files)
    seen, todo = {"index.html"}, ["index.html"]
    while todo:
        path = todo.pop()
        for link in pages[path].links:
            target = internal_target(path, link)
            if target and target[0].endswith(".html") and target[0] not in seen:
                seen.add(target[0])
                todo.append(target[0])
    assert set(pages) - seen == {"404.html"}


def test_not_found_page_uses_base_path_because_it_is_served_at_any_depth() -> None:
    page = Page(build(SiteSettings(base_path="/papers/"))["404.html"])
    assert "/papers/style.css" in page.links
    assert "/papers/search.html" in page.links


def test_home_page_shows_the_newest_day_per_topic_with_counts_and_status() -> None:
    home = build()["index.html"]
    assert "Papers announced 2026-11-20" in home
    assert 'Updated on <time datetime="2026-11-21">2026-11-21</time>' in home
    assert "3 new papers; 1 source failed &amp; was retried" in home
    assert '<a href="topics/vision.html">Vision</a> <span class="count">2 new</span>' in home
    assert '<a href="topics/nlp.html">NLP</a> <span class="count">1 new</span>' in home
    assert 'C++ &amp; &lt;Graphs&gt;</a> <span class="count">1 new</span>' in home
    assert (
        '<a href="topics/quiet-topic.html">Quiet topic</a> <span class="count">0 new</span>' in home
    )
    assert "2611.10002" in home
    assert "2611.10001" not in home  # the day before
    assert "2611.00500" not in home


def test_home_page_shows_the_whole_latest_announcement_whatever_the_submission_day() -> None:
    """A Tuesday listing carries Friday's and Monday's submissions and an older cross-list: the
    home page shows all of them (it used to show the newest submission day only)."""
    _, fixture = load_fixture()
    template = fixture[0]
    tuesday_run = _utc("2026-11-24T01:17:00Z")  # 20:17 Monday in New York: Tuesday's listing

    def entry(arxiv_id: str, published: str, topics: tuple[str, ...], seen: datetime) -> Entry:
        paper = dataclasses.replace(
            template.paper, arxiv_id=arxiv_id, published=_utc(published), updated=_utc(published)
        )
        return dataclasses.replace(
            template, paper=paper, first_seen=seen, topics=topics, code_url=None
        )

    entries = [
        entry("2611.20001", "2026-11-23T16:00:00Z", ("Vision",), tuesday_run),  # Monday
        entry("2611.20002", "2026-11-20T18:00:00Z", ("Vision", "NLP"), tuesday_run),  # Friday
        entry("2611.20003", "2026-11-16T12:00:00Z", ("NLP",), tuesday_run),  # a cross-list
        entry("2611.20004", "2026-11-20T10:00:00Z", ("Vision",), _utc("2026-11-21T01:17:00Z")),
    ]
    home = build(entries=entries)["index.html"]
    assert "Papers announced 2026-11-24" in home
    assert '<a href="topics/vision.html">Vision</a> <span class="count">2 new</span>' in home
    assert '<a href="topics/nlp.html">NLP</a> <span class="count">2 new</span>' in home
    for arxiv_id in ("2611.20001", "2611.20002", "2611.20003"):
        assert arxiv_id in home
    assert "2611.20004" not in home  # Friday's announcement
    assert 'href="days/2026-11-16.html"' in home and 'href="days/2026-11-23.html"' in home


def test_paper_in_no_configured_topic_is_still_listed_on_its_day_and_month() -> None:
    files = build()
    assert "A paper that matched no configured topic" in files["days/2026-11-19.html"]
    assert "Other papers" in files["archive/2026-11.html"]
    assert "removed from the config" not in files["days/2026-11-19.html"]


def test_days_and_months_follow_the_configured_time_zone() -> None:
    utc = build()
    new_york = build(SiteSettings(timezone="America/New_York"))
    assert "Late-night upload" in utc["days/2026-11-01.html"]
    assert "days/2026-11-01.html" not in new_york
    assert "Late-night upload" in new_york["days/2026-10-31.html"]
    assert "Late-night upload" in new_york["archive/2026-10.html"]
    halloween = json.loads(new_york["exports/2026-10/papers-2026-10-31.json.gz"])["papers"]
    late = next(paper for paper in halloween if paper["arxiv_id"] == "2611.00001")
    assert late["day"] == "2026-10-31"
    assert "exports/2026-11/papers-2026-11-01.json.gz" not in new_york


def test_topic_page_shows_newest_papers_chart_and_month_links() -> None:
    entries = synthetic(
        TOPIC_PAGE_LIMIT + 30, start=_utc("2026-11-20T12:00:00Z"), topics=("Vision",)
    )
    page = build(entries=entries, topics=["Vision"])["topics/vision.html"]
    assert page.count('<li class="paper">') == TOPIC_PAGE_LIMIT
    assert f"Newest {TOPIC_PAGE_LIMIT} papers" in page
    assert f"{TOPIC_PAGE_LIMIT + 30} papers." in page
    assert "Paper 0<" in page
    assert f"Paper {TOPIC_PAGE_LIMIT}<" not in page  # older ones are on the month pages
    assert '<a href="../archive/2026-10.html#t-vision">2026-10</a> <span class="count">(' in page
    assert page.count("<svg") == 1


def test_topic_with_nothing_yet_has_a_page_without_a_broken_chart() -> None:
    page = build()["topics/quiet-topic.html"]
    assert "No papers for this topic yet." in page
    assert "0 papers in the 26 weeks" in page


def test_topic_slugs_are_unique_and_file_safe() -> None:
    files = build(entries=[], topics=["C++", "C", "", "Ünïcode / Topic"])
    assert {p for p in files if p.startswith("topics/")} == {
        "topics/c.html",
        "topics/c-2.html",
        "topics/topic.html",
        "topics/unicode-topic.html",
    }


def test_empty_store_still_builds_a_working_site() -> None:
    files = build(entries=[], updated_on=None)
    assert "No papers yet" in files["index.html"]
    assert "Updated on" not in files["index.html"]
    assert json.loads(files["search-index.json"])["data"] == []
    assert "<svg" not in files["topics/vision.html"]  # no date to end a chart on
    pages = html_pages(files)
    for path, page in pages.items():
        for link in page.links:
            target = internal_target(path, link)
            assert target is None or target[0] in files or target[0].startswith(FEED_FILES)


# --- escaping and math --------------------------------------------------------------------------


def test_hostile_titles_abstracts_and_urls_stay_inert_on_every_page() -> None:
    files = build()
    for path, page in html_pages(files).items():
        expected = [{"src": "search.js", "defer": None}] if path == "search.html" else []
        if path.startswith("days/"):  # its abstracts come from its own day file
            data = f"../exports/{path[5:12]}/papers-{path[5:15]}.json.gz"
            expected = [{"src": "../abstracts.js", "data-src": data, "defer": None}]
        if any("data-stars" in attrs for _, attrs in page.elements):  # Code links, our own script
            expected.append({"src": "../stars.js", "defer": None})
        assert page.scripts == expected, path
        assert page.handlers == [], path
        assert "img" not in page.tags, path
        assert not any(link.lower().startswith("javascript:") for link in page.links), path
        assert "ftp://" not in files[path], path
    home = files["index.html"]
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in home
    assert "&lt;img src=x onerror=&#34;window.__xss=2&#34;&gt;" in home
    assert "&amp; &#39;quotes&#39;" in home
    assert "Ada &#34;The&#34; Lovelace, Bob O&#39;Brien" in home


def test_only_http_urls_become_links() -> None:
    files = build()
    month = Page(files["archive/2026-10.html"])
    assert not any("example.org" in link for link in month.links)  # the ftp:// code link
    assert "https://gitlab.com/fei/sheep" in Page(files["days/2026-11-02.html"]).links
    codes = {paper["arxiv_id"]: paper["code_url"] for paper in search_papers(files)}
    assert codes["2610.04444"] is None
    assert codes["2611.10003"] == "https://github.com/example/robust"


def test_math_is_kept_verbatim_in_a_span() -> None:
    files = build()
    page = files["topics/nlp.html"]
    assert '<span class="math">$\\mathcal{O}(n \\log n)$</span>' in page
    assert '<span class="math">$$\\sum_{i=1}^n x_i$$</span>' in page
    assert '<span class="math">$\\alpha&lt;\\beta$</span>' in page
    assert "costs \\$5 only" in page  # an escaped dollar is not math


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("no math", "no math"),
        ("$a$ and $b$", '<span class="math">$a$</span> and <span class="math">$b$</span>'),
        ("price $5 and $", "price $5 and $"),
        ("from $5 to $10", "from $5 to $10"),
        ("$$\\int_0^1 f$$", '<span class="math">$$\\int_0^1 f$$</span>'),
        ("<$x$>", '&lt;<span class="math">$x$</span>&gt;'),
        ("$<script>$", '<span class="math">$&lt;script&gt;$</span>'),
    ],
)
def test_mathify(text: str, html: str) -> None:
    assert str(mathify(text)) == html


# --- search index -------------------------------------------------------------------------------


def search_papers(files: dict[str, str]) -> list[dict[str, Any]]:
    """Every paper search.js reads: the day data files search-index.json lists, in order."""
    data = json.loads(files["search-index.json"])["data"]
    return [paper for path in data for paper in json.loads(files[path])["papers"]]


def test_search_reads_the_day_exports_and_the_site_has_no_other_copy() -> None:
    files = build()
    index = json.loads(files["search-index.json"])
    assert index["v"] == 5
    days = ["11-20", "11-19", "11-02", "11-01", "10-15", "09-30"]  # newest first
    assert index["data"] == [f"exports/2026-{d[:2]}/papers-2026-{d}.json.gz" for d in days]
    assert all(path in files for path in index["data"])
    assert index["topics"] == [
        ["vision", "Vision"],
        ["nlp", "NLP"],
        ["c-graphs", "C++ & <Graphs>"],
        ["quiet-topic", "Quiet topic"],
    ]
    assert not [path for path in files if path.startswith("search/")]
    papers = {paper["arxiv_id"]: paper for paper in search_papers(files)}
    shared = papers["2611.10002"]
    assert (shared["day"], sorted(shared["topics"])) == ("2026-11-20", ["NLP", "Vision"])
    assert shared["authors"] == ["Chen Wei", "Dana Kim", "Émile Zola"]
    # search.js shows only configured topics; the export keeps what the store matched.
    assert papers["2611.10001"]["topics"] == ["A topic that was removed from the config"]
    assert papers["2610.04444"]["abstract"].startswith("A long abstract. Lorem ipsum")
    assert shared["title_translated"] == "Spärliche Aufmerksamkeit"
    assert shared["abstract_translated"] == "Wir zeigen etwas."
    assert "stars" not in shared  # in exports/stars.json: day files are not re-rendered for it


def test_search_data_holds_the_whole_abstract_and_translation() -> None:
    """A word far into an abstract (or its translation) is searchable: nothing is cut."""
    _, entries = load_fixture()
    words = [f"word{i:04d}" for i in range(200)]  # 1,800 characters, near arXiv's 1,920
    text = " ".join([*words, "farawayword"])
    long = dataclasses.replace(
        entries[0],
        paper=dataclasses.replace(entries[0].paper, abstract=text),
        abstract_translated="翻译 " * 300 + "远处的词",
    )
    papers = {p["arxiv_id"]: p for p in search_papers(build(entries=[long, *entries[1:]]))}
    paper = papers[long.paper.arxiv_id]
    assert paper["abstract"] == text
    assert paper["abstract_translated"].endswith("远处的词")


def test_star_counts_are_published_once_and_not_baked_into_day_or_month_pages() -> None:
    files = build()
    assert json.loads(files["exports/stars.json"]) == {"v": 1, "stars": {"2611.10003": 42}}
    page = Page(files["days/2026-11-20.html"])
    assert "★" not in files["days/2026-11-20.html"]
    codes = [attrs for _, attrs in page.elements if attrs.get("class") == "code"]
    assert {
        "class": "code",
        "href": "https://github.com/example/robust",
        "data-stars": "2611.10003",
    } in codes
    assert {"src": "../stars.js", "defer": None} in page.scripts
    month = files["archive/2026-11.html"]  # compact list: no code links, so no counts either
    assert "★" not in month and "github.com/example" not in month
    assert "★ 42" in files["index.html"]  # rendered every publish: counts shown directly


# --- determinism and input checks ---------------------------------------------------------------


def test_output_is_deterministic_and_independent_of_order_within_a_month() -> None:
    _, entries = load_fixture()
    first = build()
    november = entries[:5]
    random.Random(7).shuffle(november)
    assert build(entries=november + entries[5:]) == first
    assert build() == first


def test_month_and_day_pages_do_not_change_when_only_the_date_does() -> None:
    today = build()
    tomorrow = build(updated_on=UPDATED + timedelta(days=1))
    changed = {path for path in today if today[path] != tomorrow[path]}
    assert changed == {"index.html", "search.html", "archive/index.html", "404.html"} | {
        path for path in today if path.startswith("topics/")
    }


def test_unknown_time_zone_is_a_config_error_with_a_fix() -> None:
    with pytest.raises(ConfigError, match="Mars/Olympus") as caught:
        build(SiteSettings(timezone="Mars/Olympus"))
    assert "Europe/Berlin" in caught.value.fix


@pytest.mark.parametrize("repository", ["javascript:alert(1)", "not a repo"])
def test_repository_must_be_owner_name_or_http_url(repository: str) -> None:
    with pytest.raises(ConfigError, match="repository") as caught:
        build(SiteSettings(repository=repository))
    assert "octocat/papers" in caught.value.fix


def test_repository_url_is_linked_in_the_footer() -> None:
    assert "https://github.com/octo/papers" in Page(build()["index.html"]).links
    url = "https://codeberg.org/me/radar"
    assert url in Page(build(SiteSettings(repository=url))["index.html"]).links
    assert "source and configuration" not in build(SiteSettings())["index.html"]


# --- chart --------------------------------------------------------------------------------------


def test_weekly_series_buckets_by_monday_and_fills_gaps() -> None:
    monday = date(2026, 11, 16)
    assert week_start(date(2026, 11, 22)) == monday
    series = weekly_series({monday: 3, date(2026, 11, 2): 1}, end=date(2026, 11, 20), weeks=4)
    assert series == [
        (date(2026, 10, 26), 0),
        (date(2026, 11, 2), 1),
        (date(2026, 11, 9), 0),
        (monday, 3),
    ]


def test_chart_is_accessible_well_formed_svg_with_escaped_title() -> None:
    series = weekly_series({date(2026, 11, 16): 4, date(2026, 11, 9): 2}, end=date(2026, 11, 20))
    svg = ET.fromstring(str(weekly_chart_svg(series, title="A & <B>", chart_id="c1")))
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.findtext("s:title", namespaces=ns) == "A & <B>"
    assert "6 papers in the 26 weeks" in (svg.findtext("s:desc", namespaces=ns) or "")
    bars = svg.findall("s:rect", ns)
    assert len(bars) == 26
    heights = [float(bar.get("height", "")) for bar in bars]
    assert heights[-1] == 2 * heights[-2] > 0
    assert heights[:-2] == [0.0] * 24
    assert bars[-1].findtext("s:title", namespaces=ns) == "Week of 2026-11-16: 4"


# --- golden files -------------------------------------------------------------------------------


def test_rendered_pages_match_golden_files() -> None:
    """Set UPDATE_GOLDEN=1 to rewrite them; the diff then shows what a change did to the pages."""
    static = ("abstracts.js", "search.js", "sort.js", "stars.js", "style.css", ".nojekyll")
    # The gzip data files are compared unpacked (golden "exports/YYYY-MM/papers-YYYY-MM-DD.json").
    built = build(scores=FIXTURE_SCORES)
    files = {k.removesuffix(".gz"): v for k, v in built.items() if k not in static}
    if os.environ.get("UPDATE_GOLDEN"):
        for path, content in files.items():
            target = GOLDEN / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
    stored = {
        p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8")
        for p in GOLDEN.rglob("*")
        if p.is_file()
    }
    assert sorted(stored) == sorted(files)
    for path, content in files.items():
        assert content == stored[path], f"{path} differs from its golden file"


# --- writer -------------------------------------------------------------------------------------


def test_write_site_writes_everything_then_nothing_when_unchanged(tmp_path: Path) -> None:
    files = build()
    written = write_site(files, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(files)
    assert (tmp_path / "days" / "2026-11-20.html").read_text(encoding="utf-8") == files[
        "days/2026-11-20.html"
    ]
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert write_site(files, tmp_path) == []
    assert stamps == {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}


def test_write_site_rewrites_only_changed_files(tmp_path: Path) -> None:
    write_site(build(), tmp_path)
    tomorrow = build(updated_on=UPDATED + timedelta(days=1))
    written = {
        p.relative_to(tmp_path).as_posix() for p in write_site(iter(tomorrow.items()), tmp_path)
    }
    assert "index.html" in written
    assert not any(path.startswith(("days/", "archive/2")) for path in written)


def test_write_site_removes_its_stale_files_but_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine", encoding="utf-8")
    (tmp_path / "CNAME").write_text("papers.example.org", encoding="utf-8")
    write_site(build(), tmp_path)
    (tmp_path / "topics" / "notes.html").write_text("user page", encoding="utf-8")
    _, entries = load_fixture()
    write_site(build(entries=entries[:3], topics=["Vision", "NLP"]), tmp_path)
    assert not (tmp_path / "topics" / "quiet-topic.html").exists()
    assert not (tmp_path / "archive" / "2026-10.html").exists()
    assert not (tmp_path / "days" / "2026-10-15.html").exists()
    assert (tmp_path / "topics" / "vision.html").exists()
    assert (tmp_path / "topics" / "notes.html").read_text(encoding="utf-8") == "user page"
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "CNAME").read_text(encoding="utf-8") == "papers.example.org"


def test_write_site_removes_folders_it_emptied_only(tmp_path: Path) -> None:
    write_site({"index.html": "a", "extra/one.html": "b"}, tmp_path)
    write_site({"index.html": "a"}, tmp_path)
    assert not (tmp_path / "extra").exists()
    assert (tmp_path / "index.html").exists()


def test_write_site_ignores_unsafe_or_unreadable_manifests(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep", encoding="utf-8")
    site = tmp_path / "site"
    site.mkdir()
    (site / "old.html").write_text("old", encoding="utf-8")
    manifest = {"files": ["../outside.txt", "/etc/hostname", "old.html", 3]}
    (site / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    write_site({"index.html": "x"}, site)
    assert outside.read_text(encoding="utf-8") == "keep"
    assert not (site / "old.html").exists()  # it was listed safely, so it was ours
    (site / "older.html").write_text("old", encoding="utf-8")
    (site / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    write_site({}, site)
    assert (site / "index.html").exists()  # unreadable manifest: delete nothing
    assert json.loads((site / MANIFEST_NAME).read_text(encoding="utf-8")) == {"files": []}


@pytest.mark.parametrize("path", ["../escape.html", "/abs.html", "", "a\\b.html"])
def test_write_site_refuses_paths_outside_the_folder(tmp_path: Path, path: str) -> None:
    with pytest.raises(ValueError, match="unsafe site path"):
        write_site({path: "x"}, tmp_path / "site")
    assert not (tmp_path / "escape.html").exists()


def test_a_paper_in_several_topics_has_its_abstract_once_on_a_day_page() -> None:
    entries = synthetic(2, start=_utc("2026-11-20T12:00:00Z"), topics=("Vision", "Robots"))
    files = build(entries=entries, topics=["Vision", "Robots"])
    page = files["days/2026-11-20.html"]
    assert "Text." not in page  # abstracts.js fills the slots from the day file
    data = json.loads(files["exports/2026-11/papers-2026-11-20.json.gz"])["papers"]
    assert [paper["abstract"] for paper in data] == ["Text.", "Text."]
    for n in range(2):
        assert page.count(f'data-abstract="2611.{n:05d}"') == 1  # one full card, one slot
        card, reference = f'id="p-2611.{n:05d}"', f'href="#p-2611.{n:05d}"'
        assert page.count(card) == page.count(reference) == 1
        assert page.index(card) < page.index('id="h-robots"') < page.index(reference)


def test_day_pages_carry_no_abstract_text_but_a_slot_linking_arxiv() -> None:
    """The one copy of an abstract is its day file; home and topic pages (bounded) keep theirs."""
    files = build()
    day = files["days/2026-11-20.html"]
    shared = next(
        paper
        for paper in json.loads(files["exports/2026-11/papers-2026-11-20.json.gz"])["papers"]
        if paper["arxiv_id"] == "2611.10002"
    )
    for text in (shared["abstract"], shared["abstract_translated"]):
        assert str(mathify(" ".join(text.split()))) not in day
        assert str(mathify(" ".join(text.split()))) in files["index.html"]
    slot = day[day.index('data-abstract="2611.10002"') :]
    slot = slot[: slot.index("</details>")]
    assert (
        '<p class="slot"><a href="https://arxiv.org/abs/2611.10002">Abstract on arXiv</a></p>'
        in slot
    )
    assert Page(day).scripts[0]["src"] == "../abstracts.js"


# --- sorting a ranked topic's cards -------------------------------------------------------------


def sortable(page: str, slug: str) -> list[dict[str, str | None]]:
    """The cards of the sortable list ``papers-<slug>`` of ``page``, in page order."""
    parsed = Page(page)
    lists = [a for tag, a in parsed.elements if tag == "ol" and a.get("id") == f"papers-{slug}"]
    if not lists:
        return []
    start = next(n for n, (_, a) in enumerate(parsed.elements) if a is lists[0])
    cards = []
    for tag, values in parsed.elements[start + 1 :]:
        if tag in ("ol", "ul", "section", "h2"):
            break
        if tag == "li":
            cards.append(values)
    return cards


def sort_controls(page: str) -> list[tuple[dict[str, str | None], list[dict[str, str | None]]]]:
    """Each Sort control of ``page`` with its buttons."""
    controls: list[tuple[dict[str, str | None], list[dict[str, str | None]]]] = []
    for tag, values in Page(page).elements:
        if tag == "div" and "sort-control" in (values.get("class") or ""):
            controls.append((values, []))
        elif tag == "button" and values.get("data-sort") and controls:
            controls[-1][1].append(values)
    return controls


def test_ranked_topic_page_has_a_hidden_sort_control_and_cards_carry_score_day_and_reason() -> None:
    page = build(scores=FIXTURE_SCORES)["topics/vision.html"]
    [(control, buttons)] = sort_controls(page)
    assert control["data-list"] == "papers-vision" and "hidden" in control  # sort.js shows it
    assert control["role"] == "group" and control["aria-label"] == "Sort Vision papers"
    assert [(b["data-sort"], b["type"], b["aria-pressed"]) for b in buttons] == [
        ("date", "button", "true"),
        ("relevance", "button", "false"),
    ]
    assert Page(page).scripts == [{"src": "../sort.js", "defer": None}]
    assert Page(page).handlers == []
    cards = sortable(page, "vision")
    assert [(c["data-id"], c["data-day"], c["data-score"]) for c in cards] == [
        ("2611.10003", "2026-11-20", "0.3000"),  # the configured order: date, newest first
        ("2611.10002", "2026-11-20", "0.8123"),
        ("2611.00001", "2026-11-01", "0.5000"),
        ("hep-th/9711200", "2026-09-30", "0.0000"),  # unscored: ranked as 0, as in the tables
    ]
    assert "<strong>Why:</strong> nearest seed &#34;Sparse attention&#34; (0.81)" in page
    assert "shared terms &lt;b&gt;detection&lt;/b&gt; &amp; &#39;robust&#39;" in page


def test_relevance_ordered_topic_lists_best_first_within_each_day_and_presses_relevance() -> None:
    settings = SiteSettings(title="Radar", relevance_topics=("Vision",))
    files = build(settings, scores=FIXTURE_SCORES)
    page = files["topics/vision.html"]
    [(_, buttons)] = sort_controls(page)
    assert [b["aria-pressed"] for b in buttons] == ["false", "true"]
    assert [c["data-id"] for c in sortable(page, "vision")] == [
        "2611.10002",  # best of 2026-11-20 first; the day groups keep their date order
        "2611.10003",
        "2611.00001",
        "hep-th/9711200",
    ]
    assert [c["data-id"] for c in sortable(files["index.html"], "vision")] == [
        "2611.10002",
        "2611.10003",
    ]
    day = files["days/2026-11-20.html"]
    assert [c["data-id"] for c in sortable(day, "vision")] == ["2611.10002", "2611.10003"]
    assert [c["data-list"] for c, _ in sort_controls(day)] == ["papers-vision", "papers-nlp"]
    assert Page(day).scripts == [
        {"src": "../sort.js", "defer": None},
        {"src": "../abstracts.js", "data-src": DAY_DATA, "defer": None},
        {"src": "../stars.js", "defer": None},
    ]
    nlp = files["topics/nlp.html"]  # ranked, but ordered by date as configured
    assert [b["aria-pressed"] for b in sort_controls(nlp)[0][1]] == ["true", "false"]


def test_home_page_offers_sorting_for_each_ranked_topic_section_only() -> None:
    home = build(scores=FIXTURE_SCORES)["index.html"]
    assert [c["data-list"] for c, _ in sort_controls(home)] == ["papers-vision", "papers-nlp"]
    assert Page(home).scripts == [{"src": "sort.js", "defer": None}]
    # NLP's paper is shown in full under Vision; its one-line reference still carries NLP's score.
    [reference] = sortable(home, "nlp")
    assert reference["class"] == "paper repeat" and reference["data-score"] == "0.4000"
    assert sortable(home, "c-graphs") == []


def test_each_topic_page_shows_its_own_score_and_reason_for_a_shared_paper() -> None:
    files = build(scores=FIXTURE_SCORES)
    nlp, vision = files["topics/nlp.html"], files["topics/vision.html"]
    assert [c["data-score"] for c in sortable(nlp, "nlp") if c["data-id"] == "2611.10002"] == [
        "0.4000"
    ]
    assert "Token budgets" in nlp and "Token budgets" not in vision
    assert "Sparse attention&#34; (0.81)" in vision and "Sparse attention&#34; (0.81)" not in nlp


@pytest.mark.parametrize("scores", [None, FIXTURE_SCORES], ids=["unranked", "ranked"])
def test_pages_without_a_ranked_topic_s_scores_show_no_sort_control_nor_script(
    scores: Scores | None,
) -> None:
    """Only pages listing cards of a topic with scores offer sorting: not the days whose papers
    have none, nor the month pages (one line per paper, no cards)."""
    files = build(scores=scores)
    ranked = {"index.html", "topics/vision.html", "topics/nlp.html"}
    with_control = ranked | {"days/2026-11-20.html", "days/2026-11-01.html"} if scores else set()
    for path in html_pages(files):
        text = files[path]
        for mark in ('class="sort-control"', "data-score=", 'sort.js"'):
            assert (mark in text) == (path in with_control), (path, mark)


def test_a_changed_score_re_renders_its_day_page_only(tmp_path: Path) -> None:
    """Day pages are rendered only when their papers change; a new score or reason is such a
    change, so no day page keeps a stale score."""
    topics, entries = load_fixture()
    members = {t: [e for e in entries if t in e.topics] for e in entries for t in e.topics}
    docs = tmp_path / "docs"
    with Store.open(tmp_path / "radar.db") as store:
        fill_store(store, entries, members)
        store.display_language = LANGUAGE
        record_scores(store, FIXTURE_SCORES)

        def publish() -> dict[str, str | None]:
            months = Calendar.build(store, timezone.utc, tuple(topics))
            fingerprints = Fingerprints(store)
            site = StoreSite(
                store=store,
                settings=SiteSettings(title="Radar"),
                topics=topics,
                calendar=months,
                newest=NewestInTopics(store, TOPIC_PAGE_LIMIT),
                fingerprints=fingerprints,
                out_dir=docs,
            )
            pages = dict(p for m in months.months for p in site.month(MonthEntries(store, m)))
            pages.update(site.closing(UPDATED))
            write_site(pages.items(), docs)
            fingerprints.save()
            return pages

        publish()
        assert publish()["days/2026-11-01.html"] is None  # nothing changed: nothing rendered
        record_scores(store, {"Vision": {"2611.00001": (0.9, "followed author B. Other")}})
        pages = publish()
    assert "followed author B. Other" in str(pages["days/2026-11-01.html"])
    assert 'data-score="0.9000"' in str(pages["days/2026-11-01.html"])
    assert pages["days/2026-11-20.html"] is None
