"""RSS/Atom feeds and the feed/export file layout, checked by parsing them back with feedparser."""

from __future__ import annotations

import calendar
import gzip
import json
import os
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest

from arxiv_radar.paper import Entry, Paper
from arxiv_radar.publish.feeds import (
    Content,
    FeedSettings,
    StoreExports,
    render_atom,
    render_rss,
    topic_slugs,
    xml_text,
)
from arxiv_radar.publish.incremental import Calendar, Fingerprints, MonthEntries
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
