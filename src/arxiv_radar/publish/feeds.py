"""RSS 2.0 and Atom 1.0 feeds, and the layout of every feed and export file.

Rendering is a pure function from entries to text: the caller passes ``updated`` (never ``now()``)
so the same store gives the same bytes and the publisher can skip unchanged files. XML is built
with :mod:`xml.etree.ElementTree`, which escapes by construction; the only thing it cannot do is
drop the C0 control characters that XML 1.0 forbids, so :func:`xml_text` does that first.

File layout written by :class:`StoreExports` (paths relative to the publish folder)::

    feeds/all.xml  feeds/all.atom                  every topic, newest first, max_items
    feeds/topics/<slug>.xml  feeds/topics/<slug>.atom   one topic, newest max_items
    exports/topics/<slug>.bib                      one topic (newest max_items), same citation
                                                    keys as the month files
    exports/index.json                              schema version and one row per month:
        {"month", "papers", "days", "bib"} (+ "csv" with feeds.csv; names relative to exports/,
        "days" lists the month's day files, newest first)
    exports/<YYYY-MM>/papers-<YYYY-MM-DD>.json.gz   the papers of one site day (published date
                                                    in the display time zone), gzip-compressed
                                                    JSON; also the site's search data and the
                                                    source of its day pages' abstracts
    exports/papers-<YYYY-MM>.bib (.csv)             a month's papers as BibTeX (and CSV, opt-in)
    exports/stars.json                              every star count, rendered every publish

Day files are rendered again only when their day's papers changed, month files only when their
month's papers (or, for BibTeX, the citation keys they depend on) did, so a daily run rewrites a
few days and one or two months, and a code link found for an old paper rewrites one day file
(its month's BibTeX is rendered again but, unchanged, not rewritten). With the feeds off but the
site on, only the day JSON files and stars.json are written (the site's search, day pages and
star badges read them).

Topic files live in their own folder so that a topic named "All" or "Papers" cannot overwrite
the combined files.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from email.utils import format_datetime
from html import escape as html_escape
from pathlib import Path
from urllib.parse import urljoin

from arxiv_radar.paper import Entry
from arxiv_radar.publish.cells import safe_url
from arxiv_radar.publish.export import (
    JSON_SCHEMA_VERSION,
    bib_inputs_digest,
    bibtex_stem,
    gzip_text,
    iter_csv,
    iter_json,
    ranked_key,
    records,
    render_bibtex,
    stars_json,
)
from arxiv_radar.publish.incremental import (
    Calendar,
    Fingerprints,
    MonthEntries,
    Window,
    settings_digest,
)
from arxiv_radar.publish.markdown import slugify
from arxiv_radar.rank.ordering import best_scored
from arxiv_radar.store import Store

__all__ = [
    "FeedSettings",
    "StoreExports",
    "day_data_path",
    "render_atom",
    "render_rss",
    "sync_bib_stems",
    "topic_slugs",
    "xml_text",
]

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
ET.register_namespace("atom", ATOM_NS)
ET.register_namespace("dc", DC_NS)

_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# XML 1.0 allows TAB, LF, CR and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Collaboration papers list thousands of authors; a feed item needs the first few.
_FEED_AUTHORS = 25
_GENERATOR = "arxiv-radar"
_GENERATOR_URI = "https://github.com/arxiv-radar/arxiv-radar"


@dataclass(frozen=True)
class FeedSettings:
    """What every feed shares. ``site_url`` is where the feeds are served (may be "")."""

    title: str
    site_url: str
    repository: str = ""
    max_items: int = 100
    csv: bool = False


def xml_text(text: str) -> str:
    """Text safe for XML 1.0: forbidden control characters dropped, whitespace runs collapsed.

    Collapsing matters because arXiv titles and abstracts arrive hard-wrapped.
    """
    return " ".join(_XML_FORBIDDEN.sub("", text).split())


def _utc(moment: datetime) -> datetime:
    """Aware UTC without microseconds; naive datetimes are taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _rfc822(moment: datetime) -> str:
    return format_datetime(_utc(moment), usegmt=True)


def _rfc3339(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _newest_first(entries: Sequence[Entry], limit: int) -> list[Entry]:
    """Newest announcements first with a total order, so item order never depends on input order."""

    def key(entry: Entry) -> tuple[datetime, datetime, str]:
        return (_utc(entry.first_seen), _utc(entry.paper.published), entry.paper.arxiv_id)

    return sorted(entries, key=key, reverse=True)[: max(limit, 0)]


def _feed_url(settings: FeedSettings, feed_path: str) -> str:
    return urljoin(settings.site_url, feed_path) if settings.site_url else ""


def _home_url(settings: FeedSettings) -> str:
    """RSS requires a channel link; fall back to the repository, then to arXiv itself."""
    return settings.site_url or settings.repository or "https://arxiv.org/"


def _feed_updated(entries: Sequence[Entry], updated: datetime | None) -> datetime:
    """The feed's own date: the one passed in, else derived from the entries (never the clock)."""
    if updated is not None:
        return updated
    dates = [_utc(e.first_seen) for e in entries] + [_utc(e.paper.updated) for e in entries]
    return max(dates, default=_EPOCH)


def _authors_text(authors: Sequence[str]) -> str:
    shown = ", ".join(xml_text(a) for a in authors[:_FEED_AUTHORS])
    hidden = len(authors) - _FEED_AUTHORS
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def _item_html(entry: Entry) -> str:
    """The item body as an HTML fragment; ElementTree escapes it once more as element text."""
    paper = entry.paper
    parts = [f"<p><b>Authors:</b> {html_escape(_authors_text(paper.authors))}</p>"]
    if entry.title_translated:
        parts.append(f"<p><i>{html_escape(xml_text(entry.title_translated))}</i></p>")
    if entry.tldr:
        parts.append(f"<p><b>TL;DR:</b> {html_escape(xml_text(entry.tldr))}</p>")
    parts.append(f"<p>{html_escape(xml_text(paper.abstract))}</p>")
    links = [f'<a href="{html_escape(paper.pdf_url)}">PDF</a>']
    # Enrichment data is not trusted: only http(s) links, never javascript: or data:.
    for label, url in (
        ("Code", safe_url(entry.code_url)),
        ("Project", safe_url(entry.project_url)),
    ):
        if url:
            links.append(f'<a href="{html_escape(url)}">{label}</a>')
    parts.append(f"<p>{' | '.join(links)}</p>")
    if paper.comment:
        parts.append(f"<p><b>Comment:</b> {html_escape(xml_text(paper.comment))}</p>")
    return "".join(parts)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _serialize(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return _XML_DECLARATION + body + "\n"


def _rss_item(channel: ET.Element, entry: Entry) -> None:
    paper = entry.paper
    item = _sub(channel, "item")
    _sub(item, "title", xml_text(paper.title))
    _sub(item, "link", paper.abs_url)
    _sub(item, "guid", paper.abs_url, isPermaLink="true")
    _sub(item, "pubDate", _rfc822(paper.published))
    for author in paper.authors[:_FEED_AUTHORS]:
        _sub(item, f"{{{DC_NS}}}creator", xml_text(author))
    for topic in entry.topics:
        _sub(item, "category", xml_text(topic))
    _sub(item, "description", _item_html(entry))


def render_rss(
    *,
    settings: FeedSettings,
    feed_title: str,
    feed_path: str,
    entries: Sequence[Entry],
    updated: datetime | None,
) -> str:
    """An RSS 2.0 document of the newest ``settings.max_items`` entries.

    Items are dated by the paper's first version (what readers call its publish date); the
    guid is the version-less abs URL so a revision never shows up as a new item.
    """
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, "title", xml_text(feed_title))
    _sub(channel, "link", _home_url(settings))
    _sub(channel, "description", xml_text(f"New arXiv papers: {feed_title}"))
    self_url = _feed_url(settings, feed_path)
    if self_url:
        _sub(channel, f"{{{ATOM_NS}}}link", href=self_url, rel="self", type="application/rss+xml")
    _sub(channel, "generator", _GENERATOR)
    _sub(channel, "lastBuildDate", _rfc822(_feed_updated(entries, updated)))
    for entry in _newest_first(entries, settings.max_items):
        _rss_item(channel, entry)
    return _serialize(rss)


def _atom_id(settings: FeedSettings, feed_path: str) -> str:
    """A permanent feed id: its URL when known, else a name-based UUID (same inputs, same id)."""
    url = _feed_url(settings, feed_path)
    if url:
        return url
    return uuid.uuid5(uuid.NAMESPACE_URL, f"arxiv-radar:{settings.title}:{feed_path}").urn


def _atom_entry(feed: ET.Element, entry: Entry) -> None:
    paper = entry.paper
    node = _sub(feed, "entry")
    _sub(node, "id", paper.abs_url)
    _sub(node, "title", xml_text(paper.title), type="text")
    _sub(node, "link", href=paper.abs_url, rel="alternate", type="text/html")
    _sub(node, "link", href=paper.pdf_url, rel="related", type="application/pdf")
    _sub(node, "published", _rfc3339(paper.published))
    _sub(node, "updated", _rfc3339(paper.updated))
    for name in paper.authors[:_FEED_AUTHORS]:
        _sub(_sub(node, "author"), "name", xml_text(name))
    for topic in entry.topics:
        _sub(node, "category", term=xml_text(topic))
    _sub(node, "summary", _item_html(entry), type="html")


def render_atom(
    *,
    settings: FeedSettings,
    feed_title: str,
    feed_path: str,
    entries: Sequence[Entry],
    updated: datetime | None,
) -> str:
    """An Atom 1.0 document with the same items, order and limit as :func:`render_rss`."""
    # Unqualified tags under a literal default namespace: ElementTree's default_namespace option
    # rejects the unqualified attributes (href, rel) that Atom uses.
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "id", _atom_id(settings, feed_path))
    _sub(feed, "title", xml_text(feed_title), type="text")
    _sub(feed, "updated", _rfc3339(_feed_updated(entries, updated)))
    # Atom requires an author for entries that lack one; the site's title stands in.
    _sub(_sub(feed, "author"), "name", xml_text(settings.title) or _GENERATOR)
    self_url = _feed_url(settings, feed_path)
    if self_url:
        _sub(feed, "link", href=self_url, rel="self", type="application/atom+xml")
    _sub(feed, "link", href=_home_url(settings), rel="alternate", type="text/html")
    _sub(feed, "generator", _GENERATOR, uri=_GENERATOR_URI)
    for entry in _newest_first(entries, settings.max_items):
        _atom_entry(feed, entry)
    return _serialize(feed)


def topic_slugs(topics: Iterable[str]) -> dict[str, str]:
    """File-name slug per topic, unique like GitHub anchors (``x``, ``x-1``, ``x-2``).

    Slugs follow GitHub's heading rule (the README's anchors). A topic whose name has no letters
    or digits gets ``topic`` so its files still have a name.
    """
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for topic in topics:
        if topic in slugs:
            continue
        base = slugify(topic.strip()) or "topic"
        slug, n = base, 0
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        slugs[topic] = slug
    return slugs


def _feed_pair(
    settings: FeedSettings,
    stem: str,
    feed_title: str,
    entries: Sequence[Entry],
    updated: datetime | None,
) -> dict[str, str]:
    rss_path, atom_path = f"{stem}.xml", f"{stem}.atom"
    return {
        path: render(
            settings=settings,
            feed_title=feed_title,
            feed_path=path,
            entries=entries,
            updated=updated,
        )
        for path, render in ((rss_path, render_rss), (atom_path, render_atom))
    }


# --- from a real store: bounded feeds, month exports --------------------------------------------

_BIB_SYNC_META = "bib_stems_rev"
Content = str | bytes | Iterable[str] | None


def sync_bib_stems(store: Store) -> None:
    """Bring the stored BibTeX stems up to date with papers changed since the last publish."""
    now = store.revision()
    _record_stems(store, int(store.get_meta(_BIB_SYNC_META) or -1))
    if store.bib_stem_count() != store.paper_count():
        _record_stems(store, -1)  # papers stored before the stems existed: do them all once
    store.set_meta(_BIB_SYNC_META, str(now))


def _record_stems(store: Store, since: int) -> None:
    store.record_bib_stems(
        (arxiv_id, bibtex_stem(author, title, published), published, rev)
        for arxiv_id, rev, author, title, published in store.papers_changed_since(since)
    )


def _store_keys(store: Store, entries: Sequence[Entry]) -> dict[str, str]:
    ranks = store.bib_ranks(e.paper.arxiv_id for e in entries)
    return {arxiv_id: ranked_key(stem, earlier) for arxiv_id, (stem, earlier) in ranks.items()}


class StoreExports:
    """Feeds (newest ``max_items``), topic BibTeX and month exports for a real store, month by
    month as the publisher hands months over; unchanged months are ``(path, None)``. Nothing
    holds more than one month of papers. With ``feeds`` off only the day JSON files and
    stars.json are written: the site's search and star badges need them."""

    def __init__(
        self,
        *,
        store: Store,
        settings: FeedSettings,
        topics: Sequence[str],
        calendar: Calendar,
        fingerprints: Fingerprints,
        out_dir: Path,
        feeds: bool = True,
    ) -> None:
        self._store = store
        self._settings = settings
        self._topics = topics
        self._calendar = calendar
        self._fingerprints = fingerprints
        self._out_dir = out_dir
        self._feeds = feeds
        self._zone = calendar.zone
        self._day_labels: dict[str, list[str]] = {}  # month -> its days, gathered by month()
        self._digest = settings_digest(
            "exports", JSON_SCHEMA_VERSION, store.display_language, str(calendar.zone)
        )

    def opening(self) -> Iterator[tuple[str, Content]]:
        """Feeds and topic BibTeX (bounded by ``max_items``); syncs the citation key stems that
        the month files then rely on."""
        if not self._feeds:
            return
        store, settings = self._store, self._settings
        sync_bib_stems(store)
        newest = store.announced_entries(settings.max_items)
        yield from _feed_pair(
            settings, "feeds/all", f"{settings.title}: all topics", newest, None
        ).items()
        for topic, slug in topic_slugs(self._topics).items():
            entries = store.topic_entries(topic, limit=settings.max_items)
            title = f"{settings.title}: {topic}"
            yield from _feed_pair(settings, f"feeds/topics/{slug}", title, entries, None).items()
            keys = _store_keys(store, entries)
            yield f"exports/topics/{slug}.bib", render_bibtex(entries, keys=keys)

    def month(self, entries: MonthEntries) -> Iterator[tuple[str, Content]]:
        """The month's day data files (each with its day's fingerprint), then its BibTeX (and
        CSV, opt-in) month files."""
        yield from self._day_files(entries)
        yield from self._month_files(entries)

    def _day_files(self, entries: MonthEntries) -> Iterator[tuple[str, Content]]:
        """One gzip JSON file per site day: a changed old paper rewrites its day's file only.

        The month's entries are shared when another renderer has read them already; otherwise
        only a stale day's papers are read: a changed old paper costs one day's worth."""
        days = list(self._calendar.days(entries.window))
        self._day_labels[entries.window.label] = [day.label for day in days]
        by_day = _by_day(entries.get(), self._zone) if entries.loaded else None
        for day in days:
            path = day_data_path(day.label)
            fingerprint = self._fingerprints.window(day, self._digest)
            if self._fingerprints.fresh(self._out_dir / path, fingerprint):
                yield path, None
                continue
            if by_day is None:
                rows = list(self._store.iter_window_entries(day.start, day.end))
            else:
                rows = by_day.get(day.label, [])
            data = records(best_scored(self._store, rows), self._zone)
            self._fingerprints.rendered(self._out_dir / path, fingerprint)
            yield path, gzip_text(iter_json(data, generated=None))

    def _month_files(self, entries: MonthEntries) -> Iterator[tuple[str, Content]]:
        wanted = self._month_prints(entries.window)
        stale = {p for p, f in wanted.items() if not self._fingerprints.fresh(self._out_dir / p, f)}
        if not stale:
            yield from ((path, None) for path in wanted)
            return
        rows = best_scored(self._store, entries.get())
        stem = f"exports/papers-{entries.window.label}"
        render: dict[str, Callable[[], Content]] = {
            f"{stem}.csv": lambda: iter_csv(records(rows, self._zone)),
        }
        for path, fingerprint in wanted.items():
            if path not in stale:
                yield path, None
            elif path.endswith(".bib"):
                yield path, self._month_bib(self._out_dir / path, fingerprint, rows)
            else:
                self._fingerprints.rendered(self._out_dir / path, fingerprint)
                yield path, render[path]()

    def _month_bib(self, path: Path, fingerprint: str, rows: Sequence[Entry]) -> Content:
        """A stale month's BibTeX, or None when only fields it does not show changed (an
        abstract, a topic: they move the listing rev): decided by a hash of its inputs,
        far cheaper than rendering 12,500 entries to find the same bytes.

        The hash is taken only when the month holds the same papers as at its last render (new
        papers always change the file), so a full publish and the day's new month pay nothing
        for it; the first change after such a render records it for the next.
        """
        keys = _store_keys(self._store, rows)
        before, _, content_before = self._fingerprints.recorded(path).partition("|")
        if before.split(":")[:2] != fingerprint.split(":")[:2]:  # settings or paper count
            self._fingerprints.rendered(path, fingerprint)
            return render_bibtex(rows, keys=keys)
        content = bib_inputs_digest(self._digest, rows, keys)
        self._fingerprints.rendered(path, f"{fingerprint}|{content}")
        return None if content == content_before else render_bibtex(rows, keys=keys)

    def _month_prints(self, month: Window) -> dict[str, str]:
        """The month's files and their fingerprints: BibTeX also depends on the citation keys of
        the year so far (a namesake earlier in the year changes a key's suffix)."""
        if not self._feeds:
            return {}
        stem = f"exports/papers-{month.label}"
        wanted = {}
        if self._settings.csv:
            wanted[f"{stem}.csv"] = self._fingerprints.window(month, self._digest)
        year = datetime(month.start.astimezone(timezone.utc).year, 1, 1, tzinfo=timezone.utc)
        count, rev = self._store.bib_fingerprint(year, month.end)
        # BibTeX shows no enrichment: a code link or translation leaves the file unrendered.
        listing = self._fingerprints.listing(month, self._digest)
        wanted[f"{stem}.bib"] = f"{listing}:{count}:{rev}"
        return wanted

    def closing(self) -> Iterator[tuple[str, Content]]:
        """Star counts (rendered when they may have changed: a refresh changes only this file)
        and the month index."""
        path = "exports/stars.json"
        fingerprint = f"{self._digest}:stars:{self._store.stars_revision()}"
        if self._fingerprints.fresh(self._out_dir / path, fingerprint):
            yield path, None
        else:
            self._fingerprints.rendered(self._out_dir / path, fingerprint)
            yield path, stars_json(self._store.star_counts())
        if self._feeds:
            index = _export_index(self._calendar, self._day_labels, csv=self._settings.csv)
            yield "exports/index.json", index


def day_data_path(day: str) -> str:
    """Where the data file of site day ``day`` (YYYY-MM-DD) lives: one folder per month, so no
    folder holds thousands of files; the site's search and day pages read the same path."""
    return f"exports/{day[:7]}/papers-{day}.json.gz"


def _by_day(entries: Iterable[Entry], zone: tzinfo) -> dict[str, list[Entry]]:
    """Entries per site day (version 1's date in ``zone``, as the records' ``day``), keeping the
    store's order within each day."""
    days: dict[str, list[Entry]] = {}
    for entry in entries:
        published = entry.paper.published
        if published.tzinfo is None:
            published = published.replace(tzinfo=timezone.utc)
        days.setdefault(published.astimezone(zone).date().isoformat(), []).append(entry)
    return days


def _export_index(calendar: Calendar, days: dict[str, list[str]], *, csv: bool) -> str:
    months: list[dict[str, object]] = []
    for month in calendar.months:
        row: dict[str, object] = {
            "month": month.label,
            "papers": calendar.totals[month.label],
            "days": [day_data_path(day)[len("exports/") :] for day in days.get(month.label, [])],
            "bib": f"papers-{month.label}.bib",
        }
        if csv:
            row["csv"] = f"papers-{month.label}.csv"
        months.append(row)
    document = {"schema_version": JSON_SCHEMA_VERSION, "months": months}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"
