"""RSS 2.0 and Atom 1.0 feeds, and the layout of every feed and export file.

Rendering is a pure function from entries to text: the caller passes ``updated`` (never ``now()``)
so the same store gives the same bytes and the publisher can skip unchanged files. XML is written
as text, byte for byte as ElementTree's ``indent`` and ``tostring`` wrote it (the tests compare the
two): every value goes through one escape function per context, element text through
:func:`_escape_text` (``& < >``), attribute values through :func:`_escape_attr` (also ``"`` and
CR, LF, TAB as character references); an item's HTML body is :func:`html.escape`-d piece by piece
first, then escaped as element text like any other. Escaping cannot drop the C0 control characters
that XML 1.0 forbids, so :func:`xml_text` does that first for text from papers and settings. An
entry shown by several feeds of a publish is rendered once per format (:class:`FeedItems`).

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

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from email.utils import format_datetime
from html import escape as html_escape
from pathlib import Path
from typing import NamedTuple
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
    NewestInTopics,
    Window,
    settings_digest,
)
from arxiv_radar.publish.markdown import slugify
from arxiv_radar.rank.ordering import best_scored
from arxiv_radar.store import Store

__all__ = [
    "FeedItems",
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

_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# XML 1.0 allows TAB, LF, CR and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Collaboration papers list thousands of authors; a feed item needs the first few.
_FEED_AUTHORS = 25
_GENERATOR = "arxiv-radar"
_GENERATOR_URI = "https://github.com/arxiv-radar/arxiv-radar"
_INDENT = "  "


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

    Collapsing matters because arXiv titles and abstracts arrive hard-wrapped. Most text is
    printable ASCII already, whose only whitespace is the space: a check in C finds it has
    nothing to drop, and splitting is needed only where spaces double or lead or trail.
    """
    if text.isascii() and text.isprintable():
        if "  " in text or text[:1] == " " or text[-1:] == " ":
            return " ".join(text.split())
        return text
    return " ".join(_XML_FORBIDDEN.sub("", text).split())


def _utc(moment: datetime) -> datetime:
    """Aware UTC without microseconds; naive datetimes are taken to be UTC already."""
    if moment.tzinfo is timezone.utc:  # what the store reads back: no conversion needed
        return moment.replace(microsecond=0) if moment.microsecond else moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _rfc822(moment: datetime) -> str:
    return format_datetime(_utc(moment), usegmt=True)


def _rfc3339(moment: datetime) -> str:
    """``2024-05-07T06:30:00Z``. isoformat() is several times faster than strftime() and writes
    the same from year 1000 on (strftime's ``%Y`` is not zero-padded below that on Linux)."""
    utc = _utc(moment)
    if utc.year < 1000:
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.isoformat()[:19] + "Z"


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


def _item_html(entry: Entry, authors: Sequence[str]) -> str:
    """The item body as an HTML fragment (``authors``: the shown names, cleaned); the feed
    escapes it once more as element text."""
    paper = entry.paper
    shown = ", ".join(authors)
    hidden = len(paper.authors) - _FEED_AUTHORS
    byline = f"{shown} and {hidden} more" if hidden > 0 else shown
    parts = [f"<p><b>Authors:</b> {html_escape(byline)}</p>"]
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


# --- XML as text: the bytes ElementTree's indent() and tostring() wrote, without building a tree --


def _escape_text(text: str) -> str:
    """Element text: only ``&``, ``<`` and ``>`` need entities (quotes stay as they are)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attr(text: str) -> str:
    """An attribute value between double quotes: also ``"``, and CR, LF and TAB as character
    references, since a parser would turn them into spaces when reading the value back."""
    text = _escape_text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def _attrs(**values: str) -> str:
    """Attributes in the order given (as ElementTree keeps them), each value escaped."""
    return "".join(f' {name}="{_escape_attr(value)}"' for name, value in values.items())


def _leaf(depth: int, tag: str, escaped: str, attrs: str = "") -> str:
    """An element without children on its own line, ``depth`` levels in, its text escaped
    already (dates and constants need none); without text it is written ``<tag />``."""
    pad = _INDENT * depth
    if escaped:
        return f"{pad}<{tag}{attrs}>{escaped}</{tag}>"
    return f"{pad}<{tag}{attrs} />"


def _author(depth: int, escaped_name: str) -> str:
    pad = _INDENT * depth
    return f"{pad}<author>\n{_leaf(depth + 1, 'name', escaped_name)}\n{pad}</author>"


def _document(lines: Iterable[str]) -> str:
    return _XML_DECLARATION + "\n".join(lines) + "\n"


class _Shown(NamedTuple):
    """What both formats show of an entry, cleaned for XML and escaped for where it goes."""

    url_text: str  # the abs URL
    url_attr: str
    pdf_attr: str
    title: str
    authors: tuple[str, ...]
    topics_text: tuple[str, ...]  # RSS categories are text, Atom's are attributes
    topics_attr: tuple[str, ...]
    html: str


def _shown(entry: Entry) -> _Shown:
    paper = entry.paper
    authors = tuple(xml_text(a) for a in paper.authors[:_FEED_AUTHORS])
    topics = tuple(xml_text(t) for t in entry.topics)
    return _Shown(
        url_text=_escape_text(paper.abs_url),
        url_attr=_escape_attr(paper.abs_url),
        pdf_attr=_escape_attr(paper.pdf_url),
        title=_escape_text(xml_text(paper.title)),
        authors=tuple(_escape_text(a) for a in authors),
        topics_text=tuple(_escape_text(t) for t in topics),
        topics_attr=tuple(_escape_attr(t) for t in topics),
        html=_escape_text(_item_html(entry, authors)),
    )


def _rss_item(entry: Entry, shown: _Shown) -> str:
    return "\n".join(
        [
            f"{_INDENT * 2}<item>",
            _leaf(3, "title", shown.title),
            _leaf(3, "link", shown.url_text),
            _leaf(3, "guid", shown.url_text, ' isPermaLink="true"'),
            _leaf(3, "pubDate", _rfc822(entry.paper.published)),
            *[_leaf(3, "dc:creator", author) for author in shown.authors],
            *[_leaf(3, "category", topic) for topic in shown.topics_text],
            _leaf(3, "description", shown.html),
            f"{_INDENT * 2}</item>",
        ]
    )


def _atom_entry(entry: Entry, shown: _Shown) -> str:
    paper = entry.paper
    return "\n".join(
        [
            f"{_INDENT}<entry>",
            _leaf(2, "id", shown.url_text),
            _leaf(2, "title", shown.title, ' type="text"'),
            _leaf(2, "link", "", f' href="{shown.url_attr}" rel="alternate" type="text/html"'),
            _leaf(2, "link", "", f' href="{shown.pdf_attr}" rel="related" type="application/pdf"'),
            _leaf(2, "published", _rfc3339(paper.published)),
            _leaf(2, "updated", _rfc3339(paper.updated)),
            *[_author(2, name) for name in shown.authors],
            *[_leaf(2, "category", "", f' term="{topic}"') for topic in shown.topics_attr],
            _leaf(2, "summary", shown.html, ' type="html"'),
            f"{_INDENT}</entry>",
        ]
    )


class _Texts:
    """One entry's item texts, each rendered when a feed first asks for it."""

    __slots__ = ("atom", "rss", "shown")

    def __init__(self) -> None:
        self.shown: _Shown | None = None
        self.rss: str | None = None
        self.atom: str | None = None


class FeedItems:
    """The item texts of one publish, shared by every feed that shows the entry.

    An entry appears in the combined feed and in one or two topic feeds, in RSS and in Atom,
    with the same text each time: it is rendered once per format, its HTML body once. Texts are
    keyed by the whole :class:`Entry` (a frozen dataclass, equal only when every field is; dates
    compare as instants, which is all a feed shows of them), so two entries that differ in
    anything, even with the same arXiv id, never share one, while the equal copies the store
    reads for each feed do. One instance per publish: it keeps every text it renders.
    """

    def __init__(self) -> None:
        self._texts: dict[Entry, _Texts] = {}

    def rss(self, entry: Entry) -> str:
        texts = self._of(entry)
        if texts.rss is None:
            texts.rss = _rss_item(entry, self._shown(entry, texts))
        return texts.rss

    def atom(self, entry: Entry) -> str:
        texts = self._of(entry)
        if texts.atom is None:
            texts.atom = _atom_entry(entry, self._shown(entry, texts))
        return texts.atom

    def _of(self, entry: Entry) -> _Texts:
        return self._texts.setdefault(entry, _Texts())  # one hash of the entry, not two

    @staticmethod
    def _shown(entry: Entry, texts: _Texts) -> _Shown:
        if texts.shown is None:
            texts.shown = _shown(entry)
        return texts.shown


def render_rss(
    *,
    settings: FeedSettings,
    feed_title: str,
    feed_path: str,
    entries: Sequence[Entry],
    updated: datetime | None,
    items: FeedItems | None = None,
) -> str:
    """An RSS 2.0 document of the newest ``settings.max_items`` entries.

    Items are dated by the paper's first version (what readers call its publish date); the
    guid is the version-less abs URL so a revision never shows up as a new item. ``items``
    shares item texts with the publish's other feeds.
    """
    items = FeedItems() if items is None else items
    newest = _newest_first(entries, settings.max_items)
    self_url = _feed_url(settings, feed_path)
    # Declared on the root, and only when the document uses them (as ElementTree did).
    namespaces = f' xmlns:atom="{ATOM_NS}"' if self_url else ""
    if any(entry.paper.authors for entry in newest):
        namespaces += f' xmlns:dc="{DC_NS}"'
    head = [
        _leaf(2, "title", _escape_text(xml_text(feed_title))),
        _leaf(2, "link", _escape_text(_home_url(settings))),
        _leaf(2, "description", _escape_text(xml_text(f"New arXiv papers: {feed_title}"))),
    ]
    if self_url:
        self_link = _attrs(href=self_url, rel="self", type="application/rss+xml")
        head.append(_leaf(2, "atom:link", "", self_link))
    head.append(_leaf(2, "generator", _GENERATOR))
    head.append(_leaf(2, "lastBuildDate", _rfc822(_feed_updated(entries, updated))))
    return _document(
        [
            f'<rss{namespaces} version="2.0">',
            f"{_INDENT}<channel>",
            *head,
            *(items.rss(entry) for entry in newest),
            f"{_INDENT}</channel>",
            "</rss>",
        ]
    )


def _atom_id(settings: FeedSettings, feed_path: str) -> str:
    """A permanent feed id: its URL when known, else a name-based UUID (same inputs, same id)."""
    url = _feed_url(settings, feed_path)
    if url:
        return url
    return uuid.uuid5(uuid.NAMESPACE_URL, f"arxiv-radar:{settings.title}:{feed_path}").urn


def render_atom(
    *,
    settings: FeedSettings,
    feed_title: str,
    feed_path: str,
    entries: Sequence[Entry],
    updated: datetime | None,
    items: FeedItems | None = None,
) -> str:
    """An Atom 1.0 document with the same items, order and limit as :func:`render_rss`."""
    items = FeedItems() if items is None else items
    head = [
        _leaf(1, "id", _escape_text(_atom_id(settings, feed_path))),
        _leaf(1, "title", _escape_text(xml_text(feed_title)), ' type="text"'),
        _leaf(1, "updated", _rfc3339(_feed_updated(entries, updated))),
        # Atom requires an author for entries that lack one; the site's title stands in.
        _author(1, _escape_text(xml_text(settings.title) or _GENERATOR)),
    ]
    self_url = _feed_url(settings, feed_path)
    if self_url:
        self_link = _attrs(href=self_url, rel="self", type="application/atom+xml")
        head.append(_leaf(1, "link", "", self_link))
    home = _attrs(href=_home_url(settings), rel="alternate", type="text/html")
    head.append(_leaf(1, "link", "", home))
    head.append(_leaf(1, "generator", _GENERATOR, _attrs(uri=_GENERATOR_URI)))
    return _document(
        [
            f'<feed xmlns="{ATOM_NS}">',
            *head,
            *(items.atom(entry) for entry in _newest_first(entries, settings.max_items)),
            "</feed>",
        ]
    )


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
    items: FeedItems,
) -> dict[str, str]:
    rss_path, atom_path = f"{stem}.xml", f"{stem}.atom"
    return {
        path: render(
            settings=settings,
            feed_title=feed_title,
            feed_path=path,
            entries=entries,
            updated=None,
            items=items,
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
        (arxiv_id, bibtex_stem(author, title, published), published)
        for arxiv_id, author, title, published in store.papers_changed_since(since)
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
        newest: NewestInTopics,
        fingerprints: Fingerprints,
        out_dir: Path,
        feeds: bool = True,
    ) -> None:
        self._store = store
        self._newest = newest
        self._settings = settings
        self._topics = topics
        self._calendar = calendar
        self._fingerprints = fingerprints
        self._out_dir = out_dir
        self._feeds = feeds
        self._zone = calendar.zone
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
        items = FeedItems()  # a paper in the combined feed and its topics' is rendered once
        newest = store.announced_entries(settings.max_items)
        yield from _feed_pair(
            settings, "feeds/all", f"{settings.title}: all topics", newest, items
        ).items()
        for topic, slug in topic_slugs(self._topics).items():
            entries = self._newest.get(topic, settings.max_items)
            title = f"{settings.title}: {topic}"
            yield from _feed_pair(settings, f"feeds/topics/{slug}", title, entries, items).items()
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
        days = self._calendar.days(entries.window)
        by_day = _by_day(entries.get(), self._zone) if entries.loaded else None
        for day in days:
            path = day_data_path(day.label)
            fingerprint = self._fingerprints.window(day, self._digest)
            if self._fingerprints.fresh(self._out_dir / path, fingerprint):
                yield path, None
                continue
            rows = entries.day(day) if by_day is None else by_day.get(day.label, [])
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
        # BibTeX shows no enrichment: a code link or translation leaves the file unrendered.
        listing = self._fingerprints.listing(month, self._digest)
        wanted[f"{stem}.bib"] = f"{listing}:{self._year_print(month)}"
        return wanted

    def _year_print(self, month: Window) -> str:
        """What the month's citation keys depend on besides its own papers: the papers of its
        year before it (namesakes are counted within a UTC year, see ``Store.bib_ranks``), as
        the listing fingerprints of the months holding them. A changed stem or date is a
        metadata change, which moves its month's; no query beyond those the months need."""
        year = datetime(month.start.astimezone(timezone.utc).year, 1, 1, tzinfo=timezone.utc)
        prints = [
            self._fingerprints.listing(earlier, self._digest)
            for earlier in self._calendar.months
            if earlier.end > year and earlier.start < month.start
        ]
        return hashlib.sha256("\n".join(prints).encode("utf-8")).hexdigest()[:16]

    def closing(self) -> Iterator[tuple[str, Content]]:
        """Star counts (rendered when they may have changed: a refresh changes only this file)
        and the month index."""
        path = "exports/stars.json"
        fingerprint = f"{self._digest}:stars:{self._store.stars_revision()}"
        if self._fingerprints.fresh(self._out_dir / path, fingerprint):
            yield path, None
        else:
            self._fingerprints.rendered(self._out_dir / path, fingerprint)
            yield path, stars_json(self._store.star_counts_json())
        if self._feeds:
            index = _export_index(self._calendar, csv=self._settings.csv)
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


def _export_index(calendar: Calendar, *, csv: bool) -> str:
    months: list[dict[str, object]] = []
    for month in calendar.months:
        days = [day_data_path(day.label)[len("exports/") :] for day in calendar.days(month)]
        row: dict[str, object] = {
            "month": month.label,
            "papers": calendar.totals[month.label],
            "days": days,
            "bib": f"papers-{month.label}.bib",
        }
        if csv:
            row["csv"] = f"papers-{month.label}.csv"
        months.append(row)
    document = {"schema_version": JSON_SCHEMA_VERSION, "months": months}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"
