"""RSS/Atom feeds and the feed/export file layout, checked by parsing them back with feedparser."""

from __future__ import annotations

import calendar
import gzip
import html
import json
import os
import random
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import pytest

from arxiv_radar.paper import Entry, Paper
from arxiv_radar.publish.cells import safe_url
from arxiv_radar.publish.feeds import (
    Content,
    FeedItems,
    FeedSettings,
    StoreExports,
    render_atom,
    render_rss,
    topic_slugs,
    xml_text,
)
from arxiv_radar.publish.incremental import Calendar, Fingerprints, MonthEntries, NewestInTopics
from arxiv_radar.store import Store
from tests.filling import LANGUAGE, fill_store

FIXTURE = Path(__file__).parent / "fixtures" / "feeds" / "entries.json"
GOLDEN = Path(__file__).parent / "golden" / "feeds"
TOPICS = ("LLM", "C++ & Systems", "Vision", "Strings", "Empty Topic")
UPDATED = datetime(2024, 5, 7, 6, 30, tzinfo=timezone.utc)
SETTINGS = FeedSettings(title="My Radar", site_url="https://owner.github.io/repo/", max_items=100)
CSV_ON = replace(SETTINGS, csv=True)


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _entry(row: dict[str, Any]) -> Entry:
    paper = Paper(
        arxiv_id=row["arxiv_id"],
        version=row["version"],
        title=row["title"],
        authors=tuple(row["authors"]),
        abstract=row["abstract"],
        categories=tuple(row["categories"]),
        primary_category=row["primary_category"],
        published=_time(row["published"]),
        updated=_time(row["updated"]),
        comment=row.get("comment", ""),
        doi=row.get("doi", ""),
        journal_ref=row.get("journal_ref", ""),
    )
    return Entry(
        paper=paper,
        first_seen=_time(row["first_seen"]),
        topics=tuple(row["topics"]),
        code_url=row.get("code_url"),
        project_url=row.get("project_url"),
        stars=row.get("stars"),
        title_translated=row.get("title_translated"),
        abstract_translated=row.get("abstract_translated"),
        tldr=row.get("tldr"),
    )


def load_entries() -> list[Entry]:
    """The small shared dataset: nasty titles, an old-style id, namesakes, a translated title."""
    return [_entry(row) for row in json.loads(FIXTURE.read_text(encoding="utf-8"))]


def _per_topic(entries: list[Entry]) -> dict[str, list[Entry]]:
    return {t: [e for e in entries if t in e.topics] for t in TOPICS}


def _rss(entries: list[Entry], settings: FeedSettings = SETTINGS) -> str:
    return render_rss(
        settings=settings,
        feed_title="All",
        feed_path="feeds/all.xml",
        entries=entries,
        updated=UPDATED,
    )


def _atom(entries: list[Entry], settings: FeedSettings = SETTINGS) -> str:
    return render_atom(
        settings=settings,
        feed_title="All",
        feed_path="feeds/all.atom",
        entries=entries,
        updated=UPDATED,
    )


def _parse(text: str) -> Any:
    parsed = feedparser.parse(text)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def _as_utc(struct: Any) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)


@pytest.mark.parametrize("render", [_rss, _atom], ids=["rss", "atom"])
def test_feed_parses_back_with_titles_links_and_dates(render: Any) -> None:
    entries = load_entries()
    parsed = _parse(render(entries))
    by_link = {item.link: item for item in parsed.entries}
    assert len(by_link) == len(entries)
    for entry in entries:
        item = by_link[entry.paper.abs_url]
        assert item.title == xml_text(entry.paper.title)
        assert item.id == entry.paper.abs_url
        assert _as_utc(item.published_parsed) == entry.paper.published
        assert [tag.term for tag in item.tags] == list(entry.topics)
    assert parsed.feed.title == "All"


@pytest.mark.parametrize("render", [_rss, _atom], ids=["rss", "atom"])
def test_nasty_title_comes_back_as_text(render: Any) -> None:
    nasty = next(e for e in load_entries() if e.paper.arxiv_id == "2405.02345")
    nasty = replace(nasty, paper=replace(nasty.paper, abstract="a <script>x()</script> & b"))
    text = render([nasty])
    assert "<script>" not in text
    item = _parse(text).entries[0]
    assert (
        item.title == "Fast & Furious: 50% Fewer FLOPs with #Hash_Tables <script>alert(1)</script>"
    )
    # The summary is HTML; the abstract's markup must arrive as escaped text, not as a tag.
    assert "<p>a &lt;script&gt;x()&lt;/script&gt; &amp; b</p>" in item.summary


def test_rss_guid_is_permalink_and_dates_are_rfc822() -> None:
    text = _rss(load_entries())
    assert '<guid isPermaLink="true">https://arxiv.org/abs/hep-th/9711200</guid>' in text
    assert "<pubDate>Thu, 27 Nov 1997 19:07:34 GMT</pubDate>" in text
    assert "<lastBuildDate>Tue, 07 May 2024 06:30:00 GMT</lastBuildDate>" in text
    assert _parse(text).version == "rss20"


def test_atom_dates_are_rfc3339_and_updated_is_the_latest_version() -> None:
    text = _atom(load_entries())
    parsed = _parse(text)
    assert parsed.version == "atom10"
    assert "<updated>2024-05-07T06:30:00Z</updated>" in text
    item = next(i for i in parsed.entries if i.id.endswith("2405.01234"))
    assert _as_utc(item.updated_parsed) == datetime(2024, 5, 9, 10, tzinfo=timezone.utc)
    assert [a.name for a in item.authors] == ["Jürgen Müller", "Ana-María López"]


@pytest.mark.parametrize("render", [_rss, _atom], ids=["rss", "atom"])
def test_self_link_points_at_the_feed(render: Any) -> None:
    parsed = _parse(render(load_entries()))
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert len(self_links) == 1
    assert self_links[0].startswith("https://owner.github.io/repo/feeds/all.")


def test_without_site_url_feeds_stay_valid_with_a_stable_id() -> None:
    bare = FeedSettings(title="Radar", site_url="", repository="https://github.com/o/r")
    rss, atom = _rss(load_entries(), bare), _atom(load_entries(), bare)
    assert 'rel="self"' not in rss
    assert _parse(rss).feed.link == "https://github.com/o/r"
    feed_id = _parse(atom).feed.id
    assert feed_id.startswith("urn:uuid:")
    assert _parse(_atom(load_entries()[:1], bare)).feed.id == feed_id


@pytest.mark.parametrize("render", [_rss, _atom], ids=["rss", "atom"])
def test_items_newest_first_whatever_the_input_order(render: Any) -> None:
    entries = load_entries()
    forward, backward = render(entries), render(list(reversed(entries)))
    assert forward == backward
    links = [item.link for item in _parse(forward).entries]
    # first_seen decides; the tie on 2024-05-06 goes to the more recently published paper.
    order = ["2405.04567", "2405.03456", "2405.02345", "2405.01234", "hep-th/9711200"]
    assert links == [f"https://arxiv.org/abs/{arxiv_id}" for arxiv_id in order]


@pytest.mark.parametrize("render", [_rss, _atom], ids=["rss", "atom"])
def test_max_items_keeps_the_newest(render: Any) -> None:
    settings = replace(SETTINGS, max_items=2)
    links = [item.link for item in _parse(render(load_entries(), settings)).entries]
    assert links == ["https://arxiv.org/abs/2405.04567", "https://arxiv.org/abs/2405.03456"]


@pytest.mark.parametrize("render", [_rss, _atom], ids=["rss", "atom"])
def test_control_characters_everywhere_are_dropped(render: Any) -> None:
    entry = load_entries()[0]
    dirty = replace(entry.paper, authors=("A\x00li\x1b",), abstract="x\x0cy\ufffe")
    text = render([replace(entry, paper=dirty, tldr="t\x01")])
    assert not any(ch in text for ch in "\x00\x01\x0c\x1b\ufffe")
    assert _parse(text).entries[0].author == "Ali"


def test_huge_author_lists_are_capped() -> None:
    entry = load_entries()[0]
    crowd = replace(entry.paper, authors=tuple(f"Author {i}" for i in range(3000)))
    parsed = _parse(_atom([replace(entry, paper=crowd)]))
    assert len(parsed.entries[0].authors) == 25
    assert "and 2975 more" in parsed.entries[0].summary


def test_feed_date_without_updated_comes_from_entries_not_the_clock() -> None:
    entries = load_entries()
    kwargs: dict[str, Any] = {"settings": SETTINGS, "feed_title": "t", "feed_path": "f.atom"}
    derived = render_atom(entries=entries, updated=None, **kwargs)
    assert "<updated>2024-05-09T10:00:00Z</updated>" in derived.split("<entry>")[0]
    empty = render_atom(entries=[], updated=None, **kwargs)
    assert "<updated>1970-01-01T00:00:00Z</updated>" in empty
    _parse(empty)


def test_naive_and_non_utc_datetimes_are_normalised() -> None:
    entry = load_entries()[0]
    plus2 = timezone(timedelta(hours=2))
    local = replace(entry.paper, published=datetime(2024, 5, 2, 19, 59, 1, 123, tzinfo=plus2))
    text = _rss([replace(entry, paper=local, first_seen=datetime(2024, 5, 3))])
    assert "<pubDate>Thu, 02 May 2024 17:59:01 GMT</pubDate>" in text


def test_topic_slugs_are_unique_and_never_empty() -> None:
    slugs = topic_slugs(
        ["C++ & Systems", "C & Systems", "All", "???", "???", "Vision Transformers"]
    )
    assert slugs == {
        "C++ & Systems": "c--systems",
        "C & Systems": "c--systems-1",
        "All": "all",
        "???": "topic",
        "Vision Transformers": "vision-transformers",
    }


def store_files(
    tmp_path: Path, topics: tuple[str, ...] = TOPICS, settings: FeedSettings = CSV_ON
) -> dict[str, str]:
    """Every feed and export file publish_all writes, from a real store filled with the dataset
    (gzip files unpacked); with the monthly CSV unless ``settings`` turn it off."""
    entries = load_entries()
    tmp_path.mkdir(parents=True, exist_ok=True)
    with Store.open(tmp_path / "radar.db") as store:
        fill_store(store, entries, _per_topic(entries))
        store.display_language = LANGUAGE
        months = Calendar.build(store, timezone.utc, topics)
        exports = StoreExports(
            store=store,
            settings=settings,
            topics=topics,
            calendar=months,
            newest=NewestInTopics(store, settings.max_items),
            fingerprints=Fingerprints(store),
            out_dir=tmp_path / "docs",
        )
        pages = [*exports.opening()]
        for month in months.months:
            pages += exports.month(MonthEntries(store, month))
        pages += exports.closing()
    return {path: _text(content) for path, content in pages}


def _text(content: Content) -> str:
    assert content is not None  # a first publish renders every file
    if isinstance(content, bytes):
        return gzip.decompress(content).decode("utf-8")
    return content if isinstance(content, str) else "".join(content)


def test_store_files_layout(tmp_path: Path) -> None:
    files = store_files(tmp_path, (*TOPICS, "All"))
    stems = ["feeds/all", *(f"feeds/topics/{s}" for s in ("llm", "c--systems", "vision"))]
    stems += ["feeds/topics/strings", "feeds/topics/empty-topic", "feeds/topics/all"]
    expected = {f"{stem}.{ext}" for stem in stems for ext in ("xml", "atom")}
    expected |= {"exports/index.json", "exports/stars.json"}
    months = [m["month"] for m in json.loads(files["exports/index.json"])["months"]]
    expected |= {f"exports/papers-{m}.{ext}" for m in months for ext in ("csv", "bib")}
    days = [d for m in json.loads(files["exports/index.json"])["months"] for d in m["days"]]
    day_file = r"\d{4}-\d\d/papers-\d{4}-\d\d-\d\d\.json\.gz"
    assert days and all(re.fullmatch(day_file, day) for day in days)
    expected |= {f"exports/{day}" for day in days}
    expected |= {f"exports/topics/{s}.bib" for s in ("llm", "c--systems", "vision", "strings")}
    expected |= {"exports/topics/empty-topic.bib", "exports/topics/all.bib"}
    assert set(files) == expected
    assert len(_parse(files["feeds/all.xml"]).entries) == 5
    assert len(_parse(files["feeds/topics/all.atom"]).entries) == 0
    assert len(_parse(files["feeds/topics/llm.xml"]).entries) == 3
    assert _parse(files["feeds/topics/vision.atom"]).feed.title == "My Radar: Vision"
    assert files["exports/topics/empty-topic.bib"] == ""


def test_topic_bibtex_uses_the_same_keys_as_the_month_files(tmp_path: Path) -> None:
    files = store_files(tmp_path)
    every_month = "".join(
        text for path, text in files.items() if path.startswith("exports/papers-")
    )
    # Both Müller papers collide on "muller2024sparse"; alone in a topic file, the later one
    # would have no collision, yet it must keep the key it has in the month files.
    assert "@misc{muller2024sparseb," in every_month
    assert "@misc{muller2024sparseb," in files["exports/topics/llm.bib"]


def test_golden_files(tmp_path: Path) -> None:
    """Run with UPDATE_GOLDEN=1 to rewrite; the diff shows what a change does to subscribers."""
    # The gzip day files are compared unpacked (golden exports/YYYY-MM/papers-YYYY-MM-DD.json).
    files = {path.removesuffix(".gz"): text for path, text in store_files(tmp_path).items()}
    if os.environ.get("UPDATE_GOLDEN") == "1":
        for relative, text in files.items():
            target = GOLDEN / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
    on_disk = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file()}
    assert on_disk == set(files)
    for relative, text in files.items():
        assert (GOLDEN / relative).read_bytes() == text.encode("utf-8"), relative


def test_same_input_same_bytes(tmp_path: Path) -> None:
    assert store_files(tmp_path / "a") == store_files(tmp_path / "b")


def test_monthly_csv_is_opt_in(tmp_path: Path) -> None:
    files = store_files(tmp_path, settings=SETTINGS)
    assert not [path for path in files if path.endswith(".csv")]
    months = json.loads(files["exports/index.json"])["months"]
    assert months and all("csv" not in month for month in months)
    assert all(day.endswith(".json.gz") for month in months for day in month["days"])


def test_star_counts_live_in_one_file_not_in_the_day_files(tmp_path: Path) -> None:
    files = store_files(tmp_path)
    stars = json.loads(files["exports/stars.json"])
    assert stars == {"v": 1, "stars": {"2405.01234": 42}}
    month = next(text for path, text in files.items() if path.endswith(".json.gz"))
    assert all("stars" not in paper for paper in json.loads(month)["papers"])
    assert all(
        "stars" not in line.split("\r\n", 1)[0]
        for line in [files[p] for p in files if p.endswith(".csv")]
    )


def test_an_unsafe_code_link_never_becomes_a_feed_link() -> None:
    paper = Paper(
        arxiv_id="2611.00001",
        version=1,
        title="T",
        authors=("A",),
        abstract="x",
        categories=("cs.CV",),
        primary_category="cs.CV",
        published=datetime(2026, 11, 20, tzinfo=timezone.utc),
        updated=datetime(2026, 11, 20, tzinfo=timezone.utc),
    )
    entry = Entry(
        paper=paper,
        first_seen=paper.published,
        code_url="javascript:alert(1)",
        project_url="https://example.org/p",
    )
    settings = FeedSettings(title="t", site_url="")
    text = render_rss(
        settings=settings, feed_title="t", feed_path="f.xml", entries=[entry], updated=None
    )
    assert "javascript" not in text
    assert "https://example.org/p" in text


# --- byte for byte what ElementTree wrote --------------------------------------------------------
# The feeds were built with xml.etree.ElementTree (ET.indent, then ET.tostring) until they were
# written as text; this reference builds the same documents that way, from its own copies of the
# helpers, so any difference in escaping, indentation or namespaces shows.

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
ET.register_namespace("atom", ATOM_NS)
ET.register_namespace("dc", DC_NS)
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _ref_text(text: str) -> str:
    return " ".join(_FORBIDDEN.sub("", text).split())


def _ref_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _ref_newest(entries: list[Entry], limit: int) -> list[Entry]:
    def key(e: Entry) -> tuple[datetime, datetime, str]:
        return (_ref_utc(e.first_seen), _ref_utc(e.paper.published), e.paper.arxiv_id)

    return sorted(entries, key=key, reverse=True)[: max(limit, 0)]


def _ref_updated(entries: list[Entry], updated: datetime | None) -> datetime:
    if updated is not None:
        return updated
    dates = [_ref_utc(e.first_seen) for e in entries] + [_ref_utc(e.paper.updated) for e in entries]
    return max(dates, default=datetime(1970, 1, 1, tzinfo=timezone.utc))


def _ref_html(entry: Entry) -> str:
    paper, esc = entry.paper, html.escape
    shown = ", ".join(_ref_text(a) for a in paper.authors[:25])
    byline = f"{shown} and {len(paper.authors) - 25} more" if len(paper.authors) > 25 else shown
    parts = [f"<p><b>Authors:</b> {esc(byline)}</p>"]
    if entry.title_translated:
        parts.append(f"<p><i>{esc(_ref_text(entry.title_translated))}</i></p>")
    if entry.tldr:
        parts.append(f"<p><b>TL;DR:</b> {esc(_ref_text(entry.tldr))}</p>")
    parts.append(f"<p>{esc(_ref_text(paper.abstract))}</p>")
    links = [f'<a href="{esc(paper.pdf_url)}">PDF</a>']
    for label, url in (
        ("Code", safe_url(entry.code_url)),
        ("Project", safe_url(entry.project_url)),
    ):
        if url:
            links.append(f'<a href="{esc(url)}">{label}</a>')
    parts.append(f"<p>{' | '.join(links)}</p>")
    if paper.comment:
        parts.append(f"<p><b>Comment:</b> {esc(_ref_text(paper.comment))}</p>")
    return "".join(parts)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    element.text = text
    return element


def _ref_serialize(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _ref_rss(
    settings: FeedSettings, title: str, path: str, entries: list[Entry], updated: datetime | None
) -> str:
    rfc822 = lambda moment: format_datetime(_ref_utc(moment), usegmt=True)  # noqa: E731
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, "title", _ref_text(title))
    _sub(channel, "link", settings.site_url or settings.repository or "https://arxiv.org/")
    _sub(channel, "description", _ref_text(f"New arXiv papers: {title}"))
    if settings.site_url:
        href = urljoin(settings.site_url, path)
        _sub(channel, f"{{{ATOM_NS}}}link", href=href, rel="self", type="application/rss+xml")
    _sub(channel, "generator", "arxiv-radar")
    _sub(channel, "lastBuildDate", rfc822(_ref_updated(entries, updated)))
    for entry in _ref_newest(entries, settings.max_items):
        paper = entry.paper
        item = _sub(channel, "item")
        _sub(item, "title", _ref_text(paper.title))
        _sub(item, "link", paper.abs_url)
        _sub(item, "guid", paper.abs_url, isPermaLink="true")
        _sub(item, "pubDate", rfc822(paper.published))
        for author in paper.authors[:25]:
            _sub(item, f"{{{DC_NS}}}creator", _ref_text(author))
        for topic in entry.topics:
            _sub(item, "category", _ref_text(topic))
        _sub(item, "description", _ref_html(entry))
    return _ref_serialize(rss)


def _ref_atom(
    settings: FeedSettings, title: str, path: str, entries: list[Entry], updated: datetime | None
) -> str:
    rfc3339 = lambda moment: _ref_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    self_url = urljoin(settings.site_url, path) if settings.site_url else ""
    name = f"arxiv-radar:{settings.title}:{path}"
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "id", self_url or uuid.uuid5(uuid.NAMESPACE_URL, name).urn)
    _sub(feed, "title", _ref_text(title), type="text")
    _sub(feed, "updated", rfc3339(_ref_updated(entries, updated)))
    _sub(_sub(feed, "author"), "name", _ref_text(settings.title) or "arxiv-radar")
    if self_url:
        _sub(feed, "link", href=self_url, rel="self", type="application/atom+xml")
    home = settings.site_url or settings.repository or "https://arxiv.org/"
    _sub(feed, "link", href=home, rel="alternate", type="text/html")
    _sub(feed, "generator", "arxiv-radar", uri="https://github.com/arxiv-radar/arxiv-radar")
    for entry in _ref_newest(entries, settings.max_items):
        paper = entry.paper
        node = _sub(feed, "entry")
        _sub(node, "id", paper.abs_url)
        _sub(node, "title", _ref_text(paper.title), type="text")
        _sub(node, "link", href=paper.abs_url, rel="alternate", type="text/html")
        _sub(node, "link", href=paper.pdf_url, rel="related", type="application/pdf")
        _sub(node, "published", rfc3339(paper.published))
        _sub(node, "updated", rfc3339(paper.updated))
        for author in paper.authors[:25]:
            _sub(_sub(node, "author"), "name", _ref_text(author))
        for topic in entry.topics:
            _sub(node, "category", term=_ref_text(topic))
        _sub(node, "summary", _ref_html(entry), type="html")
    return _ref_serialize(feed)


# Pieces of hostile text: markup, quotes, a CDATA end, XML-forbidden and allowed control
# characters, every whitespace str.split() knows, CJK, non-characters and a lone surrogate.
_PIECES = (
    *("&", "<", ">", '"', "'", "]]>", "&amp;", "<![CDATA[", "<b>x</b>", "&#10;"),
    *("\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\ufffe"),
    *("\t", "\n", "\r", "\r\n", " ", "  ", "\u00a0", "\u2028", "\u3000", "\ud800"),
    *("深度学习", "日本語の論文", "한국어", "Müller", "Ελληνικά", "😀", "$O(n \\log n)$"),
    *("word", "Attention", "is", "all", "you", "need", "x_1", "50%", "#tag", "a=1"),
)
# Text that looks like markup or an entity: feedparser takes such RSS text for HTML and decodes
# it once more, so the round trip through it leaves them out (the bytes are checked above).
_MARKUP = frozenset(("&amp;", "<![CDATA[", "<b>x</b>", "&#10;"))
_URLS = (
    "https://github.com/o/r?a=1&b=2",
    'https://example.org/"quoted"',
    "https://example.org/it's",
    "http://example.org/p?q=<x>",
    "javascript:alert(1)",
    "data:text/html,hi",
    "",
)
_IDS = ("2405.01234", "hep-th/9711200", "math.GT/0309136", 'a&b"c<d>', "x\ty\nz\r", "\x01id")
_ZONES = (timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)))


def _hostile(rng: random.Random, most: int = 12, pieces: Sequence[str] = _PIECES) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(most + 1)))


def _moment(rng: random.Random) -> datetime:
    start = rng.choice((datetime(1991, 8, 14), datetime(1991, 8, 14), datetime(600, 1, 1)))
    moment = start + timedelta(seconds=rng.randrange(36 * 365 * 86400))  # sometimes year < 1000
    moment = moment.replace(microsecond=rng.choice((0, 0, rng.randrange(10**6))))
    zone = rng.choice((None, *_ZONES))
    return moment if zone is None else moment.replace(tzinfo=zone)


def _random_entry(rng: random.Random, ids: Sequence[str], pieces: Sequence[str] = _PIECES) -> Entry:
    optional = lambda make: make() if rng.random() < 0.5 else None  # noqa: E731
    count = rng.choice((0, 1, 2, 3, 25, 26, 30))
    paper = Paper(
        arxiv_id=rng.choice(ids),
        version=1,
        title=_hostile(rng, 12, pieces),
        authors=tuple(_hostile(rng, 4) for _ in range(count)),
        abstract=_hostile(rng, 40),
        categories=("cs.LG",),
        primary_category="cs.LG",
        published=_moment(rng),
        updated=_moment(rng),
        comment=rng.choice(("", _hostile(rng))),
    )
    # One clock for the order: naive and aware first_seen dates cannot be compared.
    return Entry(
        paper=paper,
        first_seen=_moment(rng).replace(tzinfo=timezone.utc),
        topics=tuple(_hostile(rng, 3, pieces) for _ in range(rng.randrange(3))),
        code_url=optional(lambda: rng.choice(_URLS)),
        project_url=optional(lambda: rng.choice(_URLS)),
        title_translated=optional(lambda: _hostile(rng)),
        tldr=optional(lambda: _hostile(rng)),
    )


def _random_settings(rng: random.Random) -> FeedSettings:
    site = rng.choice(("", "https://owner.github.io/repo/", 'https://h.example/a&b"\t/'))
    # A config file cannot hold a lone surrogate (and the feed id's UUID cannot encode one).
    pieces = [piece for piece in _PIECES if piece != "\ud800"]
    return FeedSettings(
        title=_hostile(rng, 4, pieces),
        site_url=site,
        repository=rng.choice(("", "https://github.com/o/r")),
        max_items=rng.choice((0, 1, 5, 100)),
    )


def _seed() -> int:
    """A new seed each run (FEED_SEED=n repeats one), printed: pytest shows it on failure."""
    seed = int(os.environ.get("FEED_SEED", random.SystemRandom().randrange(2**32)))
    print(f"FEED_SEED={seed}")  # noqa: T201 (the seed that repeats a failure)
    return seed


def test_feeds_are_byte_identical_to_elementtree() -> None:
    seed = _seed()
    rng = random.Random(seed)
    pool = [_random_entry(rng, _IDS) for _ in range(60)]
    # Same id, one field changed: a shared FeedItems must render each on its own.
    pool += [replace(e, tldr=_hostile(rng)) for e in pool[:10]]
    pool += [replace(e, paper=replace(e.paper, title=_hostile(rng))) for e in pool[10:20]]
    pool += [replace(e) for e in pool[:10]]  # equal copies, as each store query returns
    items = FeedItems()
    for feed in range(40):
        settings = _random_settings(rng)
        entries = rng.sample(pool, rng.randrange(len(pool) // 2))
        updated = rng.choice((None, _moment(rng).replace(tzinfo=timezone.utc)))
        title, path = _hostile(rng, 6), rng.choice(("feeds/all", "feeds/topics/a&b", "f'\"x"))
        common: dict[str, Any] = {"feed_title": title, "entries": entries, "updated": updated}
        rss = render_rss(settings=settings, feed_path=f"{path}.xml", items=items, **common)
        atom = render_atom(settings=settings, feed_path=f"{path}.atom", items=items, **common)
        message = f"FEED_SEED={seed}, feed {feed}"
        assert rss == _ref_rss(settings, title, f"{path}.xml", entries, updated), message
        assert atom == _ref_atom(settings, title, f"{path}.atom", entries, updated), message


@pytest.mark.parametrize("render", [_rss, _atom], ids=["rss", "atom"])
def test_hostile_feeds_round_trip_through_feedparser(render: Any) -> None:
    """Titles and topics as hostile as above but for markup look-alikes, with legal ids (URLs
    go out unfiltered): feedparser reads every title, link and non-empty topic back."""
    seed = _seed()
    rng = random.Random(seed)
    ids = ("2405.01234", "hep-th/9711200", "math.GT/0309136", "2405.0&1", 'x"y', "x'y", "x<y>")
    pieces = [piece for piece in _PIECES if piece not in _MARKUP]
    entries = [_random_entry(rng, ids, pieces) for _ in range(30)]
    entries = list({e.paper.arxiv_id: e for e in entries}.values())  # one item per link
    parsed = _parse(render(entries))
    by_link = {item.link: item for item in parsed.entries}
    assert set(by_link) == {e.paper.abs_url for e in entries}, f"FEED_SEED={seed}"
    for entry in entries:
        item = by_link[entry.paper.abs_url]
        assert item.get("title", "") == xml_text(entry.paper.title), f"FEED_SEED={seed}"
        topics = [xml_text(topic) for topic in entry.topics if xml_text(topic)]
        assert [tag.term for tag in item.get("tags", [])] == topics, f"FEED_SEED={seed}"


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Another title"},
        {"authors": ("Someone Else",)},
        {"abstract": "Another abstract."},
        {"comment": "Withdrawn"},
        {"published": datetime(2024, 5, 1, tzinfo=timezone.utc)},
        {"updated": datetime(2024, 6, 1, tzinfo=timezone.utc)},
        {"tldr": "Shorter."},
        {"title_translated": "另一个标题"},
        {"code_url": "https://github.com/other/repo"},
        {"project_url": "https://example.org/other"},
        {"topics": ("Vision",)},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_shared_item_is_never_the_text_of_a_changed_entry(change: dict[str, Any]) -> None:
    entry = load_entries()[0]
    paper_fields = {k: v for k, v in change.items() if hasattr(entry.paper, k)}
    entry_fields = {k: v for k, v in change.items() if k not in paper_fields}
    changed = replace(entry, paper=replace(entry.paper, **paper_fields), **entry_fields)
    items = FeedItems()
    kwargs: dict[str, Any] = {"settings": SETTINGS, "feed_title": "t", "feed_path": "f"}
    before, after = [], []
    for render in (render_rss, render_atom):
        before.append(render(entries=[entry], updated=UPDATED, items=items, **kwargs))
        after.append(render(entries=[changed], updated=UPDATED, items=items, **kwargs))
        assert after[-1] == render(entries=[changed], updated=UPDATED, **kwargs)
    assert after != before  # each change shows in one format at least (RSS has no updated)


def test_equal_entries_share_one_rendering() -> None:
    """The store reads a paper afresh for every feed that shows it: equal copies, one text."""
    entry = load_entries()[1]
    items = FeedItems()
    assert items.rss(entry) is items.rss(replace(entry))
    assert items.atom(entry) is items.atom(replace(entry))
