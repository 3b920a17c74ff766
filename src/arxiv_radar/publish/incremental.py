"""What a publish can skip: published-date windows, their fingerprints, and recorded outputs.

A daily run adds papers to one or two months; re-rendering two years of pages for that is the
waste this module removes. Every page that shows one window of papers (a month, a day) gets a
*fingerprint* from the store alone: ``(papers, highest rev)`` of its window (the store's triggers
bump a paper's ``rev`` on anything that renders: metadata, topics, code links, texts) plus a
digest of the render settings and the package version (pages that show no enrichment use the
window's ``listing_rev`` instead, which only metadata and topics move). A page is rendered
again only when its fingerprint differs from the one recorded for its path, or the file is gone.
Pages built from global context (home, topics, feeds, indexes) are always rendered; they are
bounded in size.
Windows are calendar periods in the display time zone, as UTC bounds for the store's index.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from arxiv_radar import __version__

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover - Python 3.10
    from importlib.abc import Traversable
from arxiv_radar.errors import ConfigError
from arxiv_radar.paper import Entry
from arxiv_radar.store import Store

__all__ = [
    "Calendar",
    "Fingerprints",
    "MonthEntries",
    "NewestInTopics",
    "Window",
    "settings_digest",
]


@dataclass(frozen=True)
class Window:
    """A calendar period (``label`` is YYYY-MM or YYYY-MM-DD) as a UTC ``[start, end)``;
    ``known`` is its ``(papers, highest rev)`` when the calendar has it already."""

    label: str
    start: datetime
    end: datetime
    known: tuple[int, int] | None = field(default=None, compare=False)


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(timezone.utc)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_window(first: date, zone: tzinfo) -> Window:
    """The month starting on ``first`` (a 1st) in ``zone``."""
    return Window(
        f"{first:%Y-%m}", _local_midnight(first, zone), _local_midnight(_next_month(first), zone)
    )


def day_window(day: date, zone: tzinfo) -> Window:
    return Window(
        day.isoformat(), _local_midnight(day, zone), _local_midnight(day + timedelta(1), zone)
    )


def days_of(month: Window, zone: tzinfo) -> list[Window]:
    """Every day of ``month``, newest first."""
    first = date.fromisoformat(month.label + "-01")
    last = _next_month(first) - timedelta(days=1)
    return [day_window(last - timedelta(days=n), zone) for n in range(last.day)]


_CALENDAR_META = "calendar_counts"


@dataclass
class Calendar:
    """The months holding papers, newest first, with counts per topic; built once per publish.

    Counting is a few hundred index range counts, so the summary pages (archive index, topic
    pages, README's older-rows links) never iterate the papers themselves.
    """

    store: Store
    zone: tzinfo
    topics: tuple[str, ...]
    months: list[Window] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    topic_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    _prints: dict[str, list[int]] = field(default_factory=dict)
    # Per month, its days' (papers, highest rev): from the last publish while the month's own
    # fingerprint is unchanged (no paper in it changed, so none of its days did), else counted.
    _day_prints: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    @classmethod
    def build(cls, store: Store, zone: tzinfo, topics: tuple[str, ...]) -> Calendar:
        """The months and their counts; a month's topic counts and day fingerprints are taken
        from the last publish's (see :meth:`save`) while its window fingerprint is unchanged, so
        a daily run counts only the months that changed: 20 topics x 32 months of index ranges,
        and 30 days x 32 months of them, at 400k papers cost half a second."""
        calendar = cls(store, zone, topics)
        span = store.published_span()
        if span is None:
            return calendar
        cached = calendar._cached()
        month = span[1].astimezone(zone).date().replace(day=1)
        oldest = span[0].astimezone(zone).date().replace(day=1)
        while month >= oldest:
            window = month_window(month, zone)
            count, rev = store.window_fingerprint(window.start, window.end)
            if count:
                window = dataclasses.replace(window, known=(count, rev))
                calendar.months.append(window)
                calendar.totals[window.label] = count
                calendar._prints[window.label] = [count, rev]
                known = cached.get(window.label) or [None]
                if known[0] == [count, rev]:
                    calendar.topic_counts[window.label] = known[1]
                    if len(known) > 2:
                        calendar._day_prints[window.label] = known[2]
                else:
                    calendar.topic_counts[window.label] = calendar._counts(window)
            month = (month - timedelta(days=1)).replace(day=1)
        return calendar

    def _counts(self, window: Window) -> dict[str, int]:
        return {t: n for t in dict.fromkeys(self.topics) if (n := self.count(t, window))}

    def _cache_key(self) -> str:
        return json.dumps({"zone": str(self.zone), "topics": self.topics})

    def _cached(self) -> dict[str, list[Any]]:
        """The counts :meth:`save` recorded, if they were for the same zone and topics."""
        raw = self.store.get_meta(_CALENDAR_META)
        if not raw:
            return {}
        recorded = json.loads(raw)
        return dict(recorded["months"]) if recorded.get("key") == self._cache_key() else {}

    def save(self) -> None:
        """Record each month's topic counts beside its window fingerprint (a derived cache in
        the database only: the committed state never holds it)."""
        months = {
            label: [self._prints[label], counts, self._day_prints[label]]
            if label in self._day_prints
            else [self._prints[label], counts]
            for label, counts in self.topic_counts.items()
        }
        raw = json.dumps({"key": self._cache_key(), "months": months})  # keeps topic order
        if raw != self.store.get_meta(_CALENDAR_META):
            self.store.set_meta(_CALENDAR_META, raw)

    def topic_total(self, topic: str) -> int:
        """Papers of ``topic`` in every month: from the counts, without a query."""
        return sum(counts.get(topic, 0) for counts in self.topic_counts.values())

    def count(self, topic: str, window: Window) -> int:
        return self.store.topic_window_count(topic, window.start, window.end)

    def days(self, month: Window) -> list[Window]:
        """Days of ``month`` holding papers, newest first, each with its fingerprint known."""
        prints = self._day_prints.get(month.label)
        if prints is None:
            prints = self._day_prints[month.label] = {}
            for day in days_of(month, self.zone):
                count, rev = self.store.window_fingerprint(day.start, day.end)
                if count:
                    prints[day.label] = [count, rev]
        return [
            dataclasses.replace(day, known=(prints[day.label][0], prints[day.label][1]))
            for day in days_of(month, self.zone)
            if day.label in prints
        ]


class MonthEntries:
    """One month's entries, read from the store at most once per publish.

    Every renderer with a stale page of the month (Markdown archive, site month and day pages,
    exports, which are also the search data) takes the same list, so a touched month costs one
    read, not four; a month whose pages are all fresh is never read. Likewise a stale day read
    alone (a changed old paper) is read once for its data file and its page.
    """

    def __init__(self, store: Store, window: Window) -> None:
        self.window = window
        self._store = store
        self._entries: list[Entry] | None = None
        self._days: dict[str, list[Entry]] = {}

    @property
    def loaded(self) -> bool:
        return self._entries is not None

    def get(self) -> list[Entry]:
        if self._entries is None:
            window = self.window
            self._entries = list(self._store.iter_window_entries(window.start, window.end))
        return self._entries

    def day(self, day: Window) -> list[Entry]:
        """One day of the month, read alone (callers group :meth:`get` once it is loaded)."""
        if day.label not in self._days:
            self._days[day.label] = list(self._store.iter_window_entries(day.start, day.end))
        return self._days[day.label]


class NewestInTopics:
    """Each topic's newest papers, read once per publish: the feeds, the topic pages and the
    README each show a topic's newest few, so one read at the deepest of them serves all three
    (20 topics x 3 reads of up to 200 papers was a tenth of a daily publish)."""

    def __init__(self, store: Store, depth: int) -> None:
        self._store = store
        self._depth = depth
        self._read: dict[str, tuple[int, list[Entry]]] = {}  # topic -> (limit read, papers)

    def get(self, topic: str, limit: int) -> list[Entry]:
        """The newest ``limit`` papers of ``topic``, as ``Store.topic_entries`` lists them."""
        limit = max(limit, 0)
        known = self._read.get(topic)
        # Read again only when asked deeper than a read that found as many as it asked for.
        if known is None or (limit > known[0] and len(known[1]) == known[0]):
            depth = max(self._depth, limit)
            known = self._read[topic] = (depth, self._store.topic_entries(topic, limit=depth))
        return known[1][:limit]


@functools.lru_cache(maxsize=8)
def display_zone(name: str) -> tzinfo:
    """The configured display zone; a typo is the user's to fix, so a ConfigError, not a crash."""
    if name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"timezone: unknown time zone {name!r}",
            fix='use an IANA name such as "UTC", "Europe/Berlin" or "Asia/Shanghai"',
        ) from exc


def settings_digest(*parts: object) -> str:
    """A short hash of everything besides the papers that shapes a page: the given settings and
    the renderers themselves, so pages are re-rendered after an upgrade or a template edit."""
    text = json.dumps([__version__, renderer_digest(), *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@functools.cache
def renderer_digest() -> str:
    """A hash of the publishers' code and templates (read once per process)."""
    package = resources.files("arxiv_radar")
    digest = hashlib.sha256()
    for folder in ("publish", "templates"):
        for path in sorted(_files(package / folder), key=str):
            digest.update(str(path).rsplit("arxiv_radar", 1)[-1].encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _files(folder: Traversable) -> Iterator[Traversable]:
    for child in folder.iterdir():
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _files(child)
        elif child.name.endswith((".py", ".j2", ".html", ".css", ".js", ".md", ".txt")):
            yield child


class Fingerprints:
    """Recorded fingerprints per output path; new ones are saved only after the pages are written.

    Paths inside ``root`` (the workspace) are recorded relative to it, so a digest whose folder
    moved (a renamed repository changes the Actions checkout path, a copy, a new machine) still
    skips its fresh pages: :meth:`fresh` also checks the file is there. Paths outside it are
    recorded resolved, so a publish into another folder renders everything there.
    """

    def __init__(self, store: Store, root: Path | None = None) -> None:
        self._store = store
        self._root = root.resolve() if root is not None else None
        self._recorded = store.output_fingerprints()
        self._pending: dict[str, str] = {}
        self._windows: dict[tuple[datetime, datetime], tuple[int, int]] = {}
        self._listings: dict[tuple[datetime, datetime], tuple[int, int]] = {}

    def window(self, window: Window, digest: str) -> str:
        key = (window.start, window.end)
        if window.known is not None:
            self._windows[key] = window.known
        elif key not in self._windows:
            self._windows[key] = self._store.window_fingerprint(window.start, window.end)
        count, rev = self._windows[key]
        return f"{digest}:{count}:{rev}"

    def listing(self, window: Window, digest: str) -> str:
        """Like :meth:`window`, from the window's listing revisions: for pages that show no
        enrichment (a month's compact list, its BibTeX), which a code link leaves alone."""
        key = (window.start, window.end)
        if key not in self._listings:
            self._listings[key] = self._store.listing_fingerprint(window.start, window.end)
        count, rev = self._listings[key]
        return f"{digest}:{count}:L{rev}"

    def fresh(self, path: Path, fingerprint: str) -> bool:
        """Whether ``path`` exists and was rendered from exactly this fingerprint (the part of
        the recorded one before any ``|content`` suffix, see :meth:`same_content`)."""
        recorded = self._recorded.get(self._key(path))
        return recorded is not None and recorded.split("|", 1)[0] == fingerprint and path.is_file()

    def recorded(self, path: Path) -> str:
        """The fingerprint recorded for ``path`` ("" when none, or the file is gone).

        A page that shows only some of a paper's fields may record ``window|content``: when the
        window moved for a field it does not show (a code link under BibTeX), the hash of what
        it does show is unchanged and the page need not be rendered again.
        """
        recorded = self._recorded.get(self._key(path), "")
        return recorded if recorded and path.is_file() else ""

    def rendered(self, path: Path, fingerprint: str) -> None:
        """Note that ``path`` now holds a rendering of ``fingerprint`` (saved by :meth:`save`)."""
        self._pending[self._key(path)] = fingerprint

    def _key(self, path: Path) -> str:
        resolved = path.resolve()
        if self._root is not None and resolved.is_relative_to(self._root):
            return resolved.relative_to(self._root).as_posix()
        return str(resolved)

    def save(self) -> None:
        if self._pending:
            self._store.record_outputs(self._pending)
            self._recorded.update(self._pending)
            self._pending.clear()
