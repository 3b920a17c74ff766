"""The static site: pure rendering from entries to files, and a writer that only touches changes.

Layout (every link is relative, so the site works on GitHub Pages under ``/<repo>/``, from a plain
static server at ``/`` and mostly from ``file://``; only ``404.html`` uses ``base_path`` because
GitHub Pages serves it at whatever depth the missing URL had)::

    index.html                 the latest announcement (every paper it brought), per topic
    topics/<slug>.html         newest papers of a topic, a weekly chart, links to months
    archive/index.html         every month, with counts
    archive/<YYYY-MM>.html     a month, per topic (anchors ``#t-<slug>``), with links to its days
    days/<YYYY-MM-DD>.html     a day, per topic, its abstracts filled in by abstracts.js
    search.html, search.js     client-side search, no build step
    sort.js                    "Sort: date | relevance" on pages listing a ranked topic's cards
    stars.js                   fills the star badges of day pages from exports/stars.json
    abstracts.js               fills a day page's abstracts and translations from its day file
    search-index.json          topic names and the list of day data files to search
    style.css, 404.html, .nojekyll

The day JSON exports (``exports/<YYYY-MM>/papers-<YYYY-MM-DD>.json.gz``, written by
:class:`arxiv_radar.publish.feeds.StoreExports`) hold the one copy of each abstract: search reads
them, and a day page's cards carry an empty abstract slot (a link to arXiv without JavaScript)
that abstracts.js fills from the page's own day file. Only the bounded home and topic pages
carry abstracts in their HTML. Day and month pages are rendered from window fingerprints, so
they carry no star counts (a star refresh would leave them stale): a day page's Code links carry
``data-stars`` and stars.js adds the count from ``exports/stars.json``; month pages list no code
links at all. Home and topic pages are rendered every publish and show counts directly.

A paper's *day* is its ``published`` (version 1) date in ``SiteSettings.timezone``; months, days,
charts and the search index all use that one date, so a paper is filed in exactly one place and
never moves when it is revised.

:class:`StoreSite` renders one month at a time as the publisher hands months over and yields pages
as it goes, so only a month of entries and the newest papers per topic are held at once; the
summary pages come from counts and a few bounded queries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from importlib import resources
from itertools import groupby
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from arxiv_radar.errors import ConfigError
from arxiv_radar.listings import ANNOUNCEMENT, EASTERN, latest_listing_day
from arxiv_radar.paper import Entry
from arxiv_radar.publish.cards import (
    CompactRows,
    SiteItem,
    SiteTopic,
    mathify,
    paper_cards,
)
from arxiv_radar.publish.chart import WEEKS, week_start, weekly_chart_svg, weekly_series
from arxiv_radar.publish.feeds import day_data_path, topic_slugs
from arxiv_radar.publish.files import write_if_changed
from arxiv_radar.publish.incremental import (
    Calendar,
    Fingerprints,
    MonthEntries,
    NewestInTopics,
    display_zone,
    settings_digest,
)
from arxiv_radar.store import Store

__all__ = [
    "MANIFEST_NAME",
    "TOPIC_PAGE_LIMIT",
    "SiteSettings",
    "StoreSite",
    "write_site",
]

log = logging.getLogger(__name__)

MANIFEST_NAME = ".arxiv-radar-site.json"
TOPIC_PAGE_LIMIT = 200  # newest papers on a topic page; older ones live on the month pages
AUTHORS_SHOWN = 10
_STATIC = ("abstracts.js", "search.js", "sort.js", "stars.js", "style.css")
_REPO_RE = re.compile(r"^[\w.-]+/[\w.-]+$")


@dataclass(frozen=True)
class SiteSettings:
    """What the site needs from the config.

    ``repository`` is ``owner/name`` (a GitHub link in the footer) or an http(s) URL; ``base_path``
    is the URL path the site is served under (``/repo-name`` for project pages), used only by
    ``404.html``. ``feeds`` says the feeds and exports are published beside the site
    (``feeds.enabled``), so every page links them (``<link rel="alternate">`` and visibly).
    ``csv`` says the monthly CSV files are written too (``feeds.csv``), so the archive links them.
    ``relevance_topics`` are the topics whose cards are listed best first within each day by
    default (``topics[].order``); a reader can still switch any ranked topic's cards.
    """

    title: str = "arxiv-radar"
    repository: str = ""
    timezone: str = "UTC"
    base_path: str = ""
    feeds: bool = True
    relevance_topics: tuple[str, ...] = ()
    csv: bool = False


@dataclass
class _Context:
    settings: SiteSettings
    topics: tuple[SiteTopic, ...]
    tz: tzinfo
    repo_url: str | None
    env: Environment
    by_name: dict[str, SiteTopic] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {topic.name: topic for topic in self.topics}

    def render(
        self, template: str, root: str, *, updated_on: date | None = None, **values: Any
    ) -> str:
        """Render a page; month and day pages leave ``updated_on`` out so they stay byte-stable."""
        page = self.env.get_template(template)
        return page.render(
            site=self.settings, repo_url=self.repo_url, root=root, updated_on=updated_on, **values
        )


@dataclass
class _TopicStats:
    recent: list[SiteItem] = field(default_factory=list)
    months: dict[str, int] = field(default_factory=dict)
    weeks: dict[date, int] = field(default_factory=dict)
    total: int = 0


@dataclass
class _Accumulator:
    """What the closing pages need, gathered month by month; bounded by topics and months."""

    topics: tuple[SiteTopic, ...]
    stats: dict[str, _TopicStats]
    months: list[tuple[str, int, list[tuple[SiteTopic, int]]]] = field(default_factory=list)
    announced: date | None = None  # the listing day of the latest announcement
    latest: list[SiteItem] = field(
        default_factory=list
    )  # every paper it brought, any submission day


class StoreSite:
    """The site for a real store, month by month as the publisher hands months over;
    month and day pages whose papers did not change since they were rendered come out as
    ``(path, None)`` (kept, see :func:`write_site`)."""

    def __init__(
        self,
        *,
        store: Store,
        settings: SiteSettings,
        topics: Sequence[str],
        calendar: Calendar,
        newest: NewestInTopics,
        fingerprints: Fingerprints,
        out_dir: Path,
    ) -> None:
        self._ctx = _context(settings, topics)
        self._store = store
        self._calendar = calendar
        self._newest = newest
        self._fingerprints = fingerprints
        self._out_dir = out_dir
        self._digest = settings_digest(
            "site", dataclasses.asdict(settings), list(topics), store.display_language
        )
        self._ranking: _Ranking | None = None

    @property
    def ranking(self) -> _Ranking:
        """The ranked topics' scores, read on first use (a publish with nothing to render
        reads none)."""
        if self._ranking is None:
            self._ranking = _Ranking.load(self._ctx, self._store)
        return self._ranking

    def month(self, entries: MonthEntries) -> Iterator[tuple[str, str | None]]:
        """A month page, then each of its days (each with its own fingerprint)."""
        month, fingerprints = entries.window, self._fingerprints
        # The month's list shows no enrichment (see _compact_row): its listing fingerprint.
        fingerprint = fingerprints.listing(month, self._digest)
        path = f"archive/{month.label}.html"
        items: list[SiteItem] | None = None
        if fingerprints.fresh(self._out_dir / path, fingerprint):
            yield path, None
        else:
            items = _sorted_items(self._ctx, entries.get())
            fingerprints.rendered(self._out_dir / path, fingerprint)
            yield _month_page(self._ctx, month.label, items)
        yield from self._days(entries, items)

    def _days(
        self, entries: MonthEntries, items: list[SiteItem] | None
    ) -> Iterator[tuple[str, str | None]]:
        """Day pages of a month; the month's entries are reused when someone already read them."""
        if items is None and entries.loaded:
            items = _sorted_items(self._ctx, entries.get())
        by_day = None if items is None else {day.isoformat(): rows for day, rows in _days(items)}
        for day in self._calendar.days(entries.window):
            path = f"days/{day.label}.html"
            day_print = self._fingerprints.window(day, self._digest)
            if self._fingerprints.fresh(self._out_dir / path, day_print):
                yield path, None
                continue
            if by_day is None:
                day_items = _sorted_items(self._ctx, entries.day(day))
            else:
                day_items = by_day.get(day.label, [])
            self._fingerprints.rendered(self._out_dir / path, day_print)
            self.ranking.attach(day_items)
            yield _day_page(
                self._ctx,
                self.ranking,
                (entries.window.label, date.fromisoformat(day.label)),
                day_items,
            )

    def closing(self, updated_on: date | None, status_line: str = "") -> Iterator[tuple[str, str]]:
        """Home, topics, archive index, search and the fixed files: bounded queries only."""
        acc = _store_accumulator(self._ctx, self._store, (self._calendar, self._newest), updated_on)
        self.ranking.attach(acc.latest)
        for stats in acc.stats.values():
            self.ranking.attach(stats.recent)
        # The calendar counted each month's days once, for month() and the exports alike.
        days = [day.label for month in self._calendar.months for day in self._calendar.days(month)]
        pages = _summary_pages(self._ctx, self.ranking, acc, (updated_on, status_line))
        yield from pages
        yield "search-index.json", _search_index(self._ctx, days)


def _sorted_items(ctx: _Context, entries: Iterable[Entry]) -> list[SiteItem]:
    items = [_item(entry, ctx) for entry in entries]
    return sorted(items, key=lambda item: (item.day, item.arxiv_id), reverse=True)


def _store_accumulator(
    ctx: _Context,
    store: Store,
    publish: tuple[Calendar, NewestInTopics],
    updated_on: date | None,
) -> _Accumulator:
    """The summary pages' inputs from counts and a few bounded queries, not from every paper."""
    calendar, in_topics = publish
    acc = _Accumulator(ctx.topics, {topic.slug: _TopicStats() for topic in ctx.topics})
    newest = store.newest_first_seen()
    if newest is not None:
        acc.announced = latest_listing_day(newest)
        since = announcement_start(acc.announced)
        acc.latest = _sorted_items(ctx, store.iter_entries(since=since))
    chart_end = updated_on or (acc.latest[0].day if acc.latest else None)
    for topic in ctx.topics:
        stats = acc.stats[topic.slug]
        recent = in_topics.get(topic.name, TOPIC_PAGE_LIMIT)
        stats.recent = _sorted_items(ctx, recent)
        for month in calendar.months:
            if count := calendar.topic_counts[month.label].get(topic.name, 0):
                stats.months[month.label] = count
                stats.total += count
        if chart_end is not None:
            stats.weeks = _week_counts(ctx, store, topic.name, chart_end)
    for month in calendar.months:
        counts = calendar.topic_counts[month.label]
        per_topic = [(topic, counts[topic.name]) for topic in ctx.topics if topic.name in counts]
        acc.months.append((month.label, calendar.totals[month.label], per_topic))
    return acc


@dataclass
class _Ranking:
    """Stored (score, reason) per paper of each ranked topic (one with any score), by slug.

    Read once per publish, one range read per topic, and kept: every re-rendered day page and
    the summary pages need it, and a paper's score changing bumps its revision, so its day is
    re-rendered like any other change. About 0.5 kB per scored paper (20,000 with 127-character
    reasons: 9.8 MB, read in 0.19 s).
    """

    scores: dict[str, dict[str, tuple[float, str]]]
    orders: dict[str, str]  # slug -> the default order of its cards (topics[].order)

    @classmethod
    def load(cls, ctx: _Context, store: Store) -> _Ranking:
        scores, orders = {}, {}
        for topic in ctx.topics:
            if rows := store.topic_scores(topic.name):
                scores[topic.slug] = {key: (row.score, row.why) for key, row in rows.items()}
                orders[topic.slug] = _default_order(ctx, topic)
        return cls(scores, orders)

    def attach(self, items: Iterable[SiteItem]) -> None:
        """Give each item its score and reason in each of its ranked topics."""
        for item in items:
            for topic in item.topics:
                if rank := self.scores.get(topic.slug, {}).get(item.arxiv_id):
                    item.ranks[topic.slug] = rank

    def sections(
        self, ctx: _Context, items: Sequence[SiteItem]
    ) -> tuple[list[tuple[SiteTopic, list[SiteItem]]], dict[str, str]]:
        """A page's topic sections, each in its topic's default order, and the default order
        of each section whose cards carry scores (those get a Sort control)."""
        sections = [
            (topic, _in_order(chosen, topic, self.orders.get(topic.slug, "date")))
            for topic, chosen in _sections(ctx, items)
        ]
        sorting = {
            topic.slug: self.orders[topic.slug]
            for topic, chosen in sections
            if any(topic.slug in item.ranks for item in chosen)
        }
        return sections, sorting


def _default_order(ctx: _Context, topic: SiteTopic) -> str:
    """How a ranked topic's cards come out of the server, before a reader picks an order."""
    return "relevance" if topic.name in ctx.settings.relevance_topics else "date"


def _in_order(items: Sequence[SiteItem], topic: SiteTopic, order: str) -> list[SiteItem]:
    """``items`` (newest first) as ``order`` lists them: by relevance, best first within each
    day (unscored papers count as 0, ties stay newest first), as the Markdown tables do."""
    if order != "relevance":
        return list(items)
    position = {item.arxiv_id: n for n, item in enumerate(items)}
    return sorted(
        items,
        key=lambda item: (
            -item.day.toordinal(),
            -item.ranks.get(topic.slug, (0.0, ""))[0],
            position[item.arxiv_id],
        ),
    )


def announcement_start(listing_day: date) -> datetime:
    """When the listing dated ``listing_day`` appeared: 20:00 US Eastern the evening before.

    Every paper first stored from then on came with that announcement (or a later run's catch-up
    of it), whatever its submission day: a cross-list or a paper held in moderation was often
    submitted days earlier, so the home page cannot be "the newest submission day".
    """
    return datetime.combine(listing_day - timedelta(days=1), ANNOUNCEMENT, EASTERN)


def _week_counts(ctx: _Context, store: Store, topic: str, end: date) -> dict[date, int]:
    """Papers per week (Monday to Monday in the site's zone) for the chart's weeks."""
    last = week_start(end)
    counts: dict[date, int] = {}
    for back in range(WEEKS):
        start = last - timedelta(weeks=back)
        lower = datetime.combine(start, time(), tzinfo=ctx.tz)
        upper = datetime.combine(start + timedelta(weeks=1), time(), tzinfo=ctx.tz)
        if count := store.topic_window_count(topic, lower, upper):
            counts[start] = count
    return counts


def write_site(
    files: Mapping[str, str] | Iterable[tuple[str, str | bytes | Iterable[str] | None]],
    out_dir: Path,
) -> list[Path]:
    """Write the site into ``out_dir``; return the files whose content changed.

    Content may be chunks (streamed to disk) or bytes (the gzip data files). A ``None`` content
    means "up to date, not rendered this time": the file is kept (and stays in the manifest)
    without being read.

    Unchanged files are not rewritten (``write_if_changed`` is atomic), so a run with nothing new
    leaves timestamps and git alone. Files this function generated on an earlier run and no longer
    produces are deleted, using a manifest it keeps in ``out_dir``; anything else there (README.md,
    CNAME, a user's own pages) is never touched.
    """
    pairs = files.items() if isinstance(files, Mapping) else files
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = _read_manifest(out_dir)
    written: list[Path] = []
    current: set[str] = set()
    for relative, content in pairs:
        target = out_dir / _safe_relative(relative)
        current.add(relative)
        if content is not None and write_if_changed(target, content):
            written.append(target)
    for stale in sorted(previous - current):
        _remove_generated(out_dir, stale)
    _sweep_temporaries(out_dir, current)
    manifest = json.dumps({"files": sorted(current)}, indent=1) + "\n"
    write_if_changed(out_dir / MANIFEST_NAME, manifest)
    log.info("site: %d files written, %d removed", len(written), len(previous - current))
    return written


# --- context and input checks -------------------------------------------------------------------


def _context(settings: SiteSettings, topics: Sequence[str]) -> _Context:
    return _Context(
        settings=settings,
        topics=_topics(topics),
        tz=display_zone(settings.timezone),
        repo_url=_repo_url(settings.repository),
        env=_environment(),
    )


def _repo_url(repository: str) -> str | None:
    text = repository.strip()
    if not text:
        return None
    if _REPO_RE.match(text):
        return f"https://github.com/{text}"
    url = _http_url(text)
    if url is None:
        raise ConfigError(
            f"site repository {repository!r} is neither 'owner/name' nor an http(s) URL",
            fix="set it to e.g. 'octocat/papers' or 'https://github.com/octocat/papers'",
        )
    return url


def _topics(names: Sequence[str]) -> tuple[SiteTopic, ...]:
    """Topics with unique file-safe slugs, in the configured order (clashes get ``-2``, ...)."""
    seen: set[str] = set()
    topics = []
    feed_slugs = topic_slugs(names)
    for index, name in enumerate(names):
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "topic"
        slug, n = base, 1
        while slug in seen:
            n += 1
            slug = f"{base}-{n}"
        seen.add(slug)
        topics.append(SiteTopic(index, name, slug, feed_slugs[name]))
    return tuple(topics)


def _http_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None: nothing else may become a link."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("arxiv_radar", "templates/site"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["mathify"] = mathify
    env.globals["paper_cards"] = paper_cards
    return env


# --- entries to items ---------------------------------------------------------------------------


def _item(entry: Entry, ctx: _Context) -> SiteItem:
    paper = entry.paper
    published = paper.published
    if published.tzinfo is None:
        published = published.replace(tzinfo=timezone.utc)
    by_name = ctx.by_name
    return SiteItem(
        arxiv_id=paper.arxiv_id,
        version=paper.version,
        title=_one_line(paper.title),
        title_translated=_one_line(entry.title_translated or ""),
        authors=_authors(paper.authors, AUTHORS_SHOWN),
        first_author=_authors(paper.authors[:1], 1) + (" et al." if len(paper.authors) > 1 else ""),
        day=published.astimezone(ctx.tz).date(),
        categories=" ".join(paper.categories),
        abs_url=paper.abs_url,
        pdf_url=paper.pdf_url,
        code_url=_http_url(entry.code_url),
        project_url=_http_url(entry.project_url),
        stars=entry.stars,
        tldr=entry.tldr or "",
        abstract=paper.abstract.strip(),
        abstract_translated=(entry.abstract_translated or "").strip(),
        # Deduplicated by name: hashing the frozen topics themselves cost more than the rest.
        topics=tuple(
            sorted([by_name[t] for t in dict.fromkeys(entry.topics) if t in by_name], key=_index)
        ),
    )


def _index(topic: SiteTopic) -> int:
    return topic.index


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _authors(authors: Sequence[str], limit: int) -> str:
    shown = ", ".join(authors[:limit])
    hidden = len(authors) - limit
    return f"{shown} and {hidden} more" if hidden > 0 else shown


# --- pages --------------------------------------------------------------------------------------


def _sections(ctx: _Context, items: Sequence[SiteItem]) -> list[tuple[SiteTopic, list[SiteItem]]]:
    """Items per configured topic, topics in config order, empty topics left out."""
    sections = []
    for topic in ctx.topics:
        chosen = [item for item in items if topic in item.topics]
        if chosen:
            sections.append((topic, chosen))
    return sections


def _repeats(sections: Sequence[tuple[SiteTopic, Sequence[SiteItem]]]) -> dict[str, set[str]]:
    """Per topic slug, the papers already shown in full under an earlier topic of the page:
    a day page carries each abstract once, however many topics the paper is in."""
    shown: set[str] = set()
    repeats: dict[str, set[str]] = {}
    for topic, items in sections:
        ids = {item.arxiv_id for item in items}
        repeats[topic.slug] = ids & shown
        shown |= ids
    return repeats


def _days(items: Sequence[SiteItem]) -> list[tuple[date, list[SiteItem]]]:
    return [(day, list(group)) for day, group in groupby(items, key=lambda item: item.day)]


def _month_page(ctx: _Context, month: str, items: Sequence[SiteItem]) -> tuple[str, str]:
    """A month as compact lists (no abstracts: the day pages carry them once)."""
    return (
        f"archive/{month}.html",
        ctx.render(
            "month.html",
            "../",
            month=month,
            total=len(items),
            days=[(day, len(day_items)) for day, day_items in _days(items)],
            sections=_sections(ctx, items),
            unfiled=[item for item in items if not item.topics],
            compact=CompactRows(items, "../"),
        ),
    )


def _day_page(
    ctx: _Context, ranking: _Ranking, when: tuple[str, date], items: Sequence[SiteItem]
) -> tuple[str, str]:
    """A day's full cards per topic; ``when`` is (its month's label, the day)."""
    month, day = when
    sections, sorting = ranking.sections(ctx, items)
    return (
        f"days/{day.isoformat()}.html",
        ctx.render(
            "day.html",
            "../",
            day=day,
            month=month,
            total=len(items),
            sections=sections,
            unfiled=[item for item in items if not item.topics],
            repeats=_repeats(sections),
            sorting=sorting,
            live_stars=any(item.code_url for item in items),
            abstracts=any(item.abstract or item.abstract_translated for item in items),
            data_path=day_data_path(day.isoformat()),
        ),
    )


def _summary_pages(
    ctx: _Context, ranking: _Ranking, acc: _Accumulator, status: tuple[date | None, str]
) -> Iterator[tuple[str, str]]:
    """The pages that need the whole history: home, topics, archive, search and the fixed files;
    ``status`` is (the "Updated on" day, the status line)."""
    updated_on, status_line = status
    latest = acc.latest[0].day if acc.latest else None
    common = {"updated_on": updated_on}
    sections, sorting = ranking.sections(ctx, acc.latest)
    yield (
        "index.html",
        ctx.render(
            "index.html",
            "",
            day=acc.announced if acc.latest else None,
            newest_day=latest,
            oldest_day=acc.latest[-1].day if acc.latest else None,
            status_line=status_line,
            counts=[(t, sum(t in i.topics for i in acc.latest)) for t in ctx.topics],
            sections=sections,
            unfiled=[item for item in acc.latest if not item.topics],
            repeats=_repeats(sections),
            sorting=sorting,
            **common,
        ),
    )
    chart_end = updated_on or latest
    for topic in ctx.topics:
        page = _topic_page(ctx, topic, ranking, acc, (chart_end, updated_on))
        yield f"topics/{topic.slug}.html", page
    yield "archive/index.html", ctx.render("archive.html", "../", months=acc.months, **common)
    yield "search.html", ctx.render("search.html", "", topics=ctx.topics, **common)
    yield "404.html", ctx.render("404.html", ctx.settings.base_path.rstrip("/") + "/", **common)
    yield ".nojekyll", ""
    for name in _STATIC:
        yield (
            name,
            resources.files("arxiv_radar")
            .joinpath(f"templates/site/{name}")
            .read_text(encoding="utf-8"),
        )


def _topic_page(
    ctx: _Context,
    topic: SiteTopic,
    ranking: _Ranking,
    acc: _Accumulator,
    days: tuple[date | None, date | None],
) -> str:
    """A topic's newest cards in its default order; ``days`` is (chart end, "Updated on")."""
    chart_end, updated_on = days
    stats = acc.stats[topic.slug]
    chart = None
    if chart_end is not None:
        series = weekly_series(stats.weeks, end=chart_end)
        chart = weekly_chart_svg(series, title=f"{topic.name}: papers per week", chart_id="weekly")
    order = ranking.orders.get(topic.slug, "date")
    ranked = any(topic.slug in item.ranks for item in stats.recent)
    return ctx.render(
        "topic.html",
        "../",
        topic=topic,
        items=_in_order(stats.recent, topic, order),
        sorting={topic.slug: order} if ranked else {},
        total=stats.total,
        months=list(stats.months.items()),
        chart=chart,
        updated_on=updated_on,
    )


def _search_index(ctx: _Context, days: Sequence[str]) -> str:
    """Topics and the day data files for search.js, newest first: the JSON exports themselves
    (schema in ``arxiv_radar/schemas/papers.schema.json``), so the site holds no second copy."""
    document = {
        "v": 5,
        "topics": [[topic.slug, topic.name] for topic in ctx.topics],
        "data": [day_data_path(day) for day in days],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


# --- writing ------------------------------------------------------------------------------------


def _safe_relative(relative: str) -> PurePosixPath:
    """Refuse paths that would escape the output folder: the manifest is data, not trusted."""
    path = PurePosixPath(relative)
    if path.is_absolute() or not path.parts or ".." in path.parts or "\\" in relative:
        raise ValueError(f"unsafe site path: {relative!r}")
    return path


def _read_manifest(out_dir: Path) -> set[str]:
    """Paths generated last time; an unreadable manifest means "delete nothing", never a crash."""
    path = out_dir / MANIFEST_NAME
    if not path.is_file():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = data["files"]
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("site: ignoring unreadable manifest %s; no stale files removed", path)
        return set()
    return {name for name in names if isinstance(name, str) and _is_safe(name)}


def _is_safe(relative: str) -> bool:
    try:
        _safe_relative(relative)
    except ValueError:
        return False
    return relative != MANIFEST_NAME


def _sweep_temporaries(out_dir: Path, current: set[str]) -> None:
    """Remove ``.<name>.tmp`` files a killed run left beside generated files, including those of
    files no longer generated (a renamed export) that ``write_if_changed`` never visits again."""
    folders = {(out_dir / _safe_relative(relative)).parent for relative in current}
    for folder in folders:
        with contextlib.suppress(OSError):
            for temp in folder.glob(".*.tmp"):
                temp.unlink()
                log.info("site: removed leftover temporary %s", temp)


def _remove_generated(out_dir: Path, relative: str) -> None:
    """Delete a file we generated earlier, then any folders that it leaves empty."""
    target = out_dir / _safe_relative(relative)
    if not target.is_file():
        return
    target.unlink()
    log.info("site: removed stale %s", relative)
    parent = target.parent
    while parent != out_dir and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
