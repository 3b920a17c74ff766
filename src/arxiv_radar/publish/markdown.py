"""The Markdown digest: README.md, docs/index.md (GitHub Pages) and monthly archive pages.

Where the archive months live (``MarkdownSettings.archive_dir``): beside the README
(``archive/YYYY-MM.md``) when the HTML site is on, because the site's ``.nojekyll`` makes Pages
serve Markdown raw, so on the Pages site they would only be a third copy of every abstract
(the HTML site has the day pages and the month data files); under ``docs_dir`` when the site is
off, where Jekyll turns them into the Pages site's archive.

Rendering is a pure function from entries to text, so golden files show exactly what a change does
to users' pages; :class:`StoreMarkdown` is the thin part that reads the store and writes files.
The README stays small (newest ``readme_rows`` per topic); every row of every topic also lands on
the archive page of its month, so nothing ever drops out of the published output.
"""

from __future__ import annotations

import dataclasses
import logging
import posixpath
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from arxiv_radar.errors import ConfigError
from arxiv_radar.paper import Entry
from arxiv_radar.publish.cells import (
    escape_cell,
    escape_html,
    escape_normalized,
    format_stars,
    safe_url,
    shorten,
)
from arxiv_radar.publish.files import WriteSet, write_if_changed
from arxiv_radar.publish.incremental import (
    Calendar,
    Fingerprints,
    MonthEntries,
    NewestInTopics,
    Window,
    display_zone,
    settings_digest,
)
from arxiv_radar.publish.row_patch import pdf_cell_token, replace_rows, rows_by_token
from arxiv_radar.rank.ordering import scored_entries, top_picks
from arxiv_radar.store import Store

log = logging.getLogger(__name__)

__all__ = [
    "COLUMNS",
    "GENERATED_MARKER",
    "USAGE_URL",
    "ArchiveLink",
    "MarkdownSettings",
    "Slugger",
    "StoreMarkdown",
    "TopicSection",
    "foreign_page",
    "render_archive_index",
    "render_archive_month",
    "render_index",
    "slugify",
]


#: Column key -> table header, in the order users may pick them.
COLUMNS: dict[str, str] = {
    "date": "Publish Date",
    "title": "Title",
    "authors": "Authors",
    "abstract": "Abstract",
    "pdf": "PDF",
    "code": "Code",
    "tldr": "TL;DR",
    "why": "Why",
}
_EMPTY = "—"
_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*)/[A-Za-z0-9._-]+$")
_ARCHIVE_LINE_MONTHS = 12
#: The digest's "Usage instructions": arxiv-radar's own documentation, not the digest itself.
USAGE_URL = "https://github.com/arxiv-radar/arxiv-radar#readme"
#: A line every index page carries, so a later run can tell its own page from a user's README.
#: It lives in the file, not the database: the database is a cache that may be rebuilt.
GENERATED_MARKER = "<!-- arxiv-radar: generated page; edits are overwritten by the next run -->"
_MARKER_PREFIX = "<!-- arxiv-radar: generated"
_MARKER_SEARCH_BYTES = 4096  # the marker follows the front matter, near the top
_LEGACY_FIRST_LINE = '<a id="top"></a>'  # how README.md began before the marker (0.1.0 and older)


@dataclass(frozen=True)
class MarkdownSettings:
    """What a user can choose about the Markdown pages (validated: errors name the key)."""

    repository: str
    columns: tuple[str, ...] = ("date", "title", "abstract", "pdf", "code")
    readme_rows: int = 50
    abstract_chars: int = 300
    timezone: str = "UTC"
    readme_path: str = "README.md"
    docs_dir: str = "docs"
    # Folder of the archive months, relative to the root; "" means ``<docs_dir>/archive``.
    archive_dir: str = ""
    # Set when translation is configured: an abstract still waiting for its translation is
    # shown in English with this marker, so readers know it is pending, not the translation.
    untranslated_marker: str = ""
    # Topics listed by relevance within each day (arxiv_radar.rank); others newest first.
    relevance_topics: tuple[str, ...] = ()
    top_picks: int = 0  # best N of the latest day across ranked topics, above the topics
    # Star counts in the Code column: on the README (rendered every run), not on archive months
    # (rendered only when their papers change, so a count there would go stale).
    stars: bool = True

    def __post_init__(self) -> None:
        if self.repository and not _REPOSITORY_RE.match(self.repository):
            raise ConfigError(
                f"repository: {self.repository!r} is not a GitHub repository name",
                fix='write it as "owner/name", e.g. "octocat/arxiv-digest"',
            )
        unknown = [c for c in self.columns if c not in COLUMNS]
        if unknown or not self.columns:
            raise ConfigError(
                f"columns: unknown or missing column(s) {unknown or '(none given)'}",
                fix=f"pick from {', '.join(COLUMNS)}",
            )
        for key in ("readme_rows", "abstract_chars"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key}: must be 0 or more", fix=f"set {key} to 0 or more")
        display_zone(self.timezone)

    @property
    def zone(self) -> tzinfo:
        return display_zone(self.timezone)

    @property
    def archive(self) -> str:
        """The archive months' folder, relative to the root (see the module docstring)."""
        return self.archive_dir or f"{self.docs_dir}/archive"

    @property
    def archive_home(self) -> str:
        """The page an archive month links back to: the Pages index beside it, or the README."""
        return self.readme_path if self.archive_dir else f"{self.docs_dir}/index.md"


@dataclass(frozen=True)
class ArchiveLink:
    """One archive page that holds older rows of a topic, and the topic's anchor on that page."""

    month: str
    anchor: str


@dataclass(frozen=True)
class TopicSection:
    """A topic as one page shows it: the rows to print, and how many the topic has in total."""

    name: str
    entries: Sequence[Entry]
    total: int
    older: Sequence[ArchiveLink] = field(default=())


# --- anchors -----------------------------------------------------------------------------------


def slugify(name: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation and symbols dropped, spaces to -.

    Mirrors github-slugger (letters, marks, numbers, ``-`` and ``_`` survive, each space becomes
    one ``-``), so ``C++ / CUDA: Fast & Small!`` -> ``c--cuda-fast--small``.
    """
    kept = (ch for ch in name.lower() if ch in "-_ " or unicodedata.category(ch)[0] in "LMN")
    return "".join(kept).replace(" ", "-")


class Slugger:
    """Unique anchors within one document, numbered ``-1``, ``-2`` like GitHub does.

    ``top`` is reserved for the explicit top anchor, so a topic named "Top" cannot steal it.
    """

    def __init__(self, reserved: Sequence[str] = ("top",)) -> None:
        self._seen: dict[str, int] = dict.fromkeys(reserved, 0)

    def slug(self, name: str) -> str:
        base = slugify(name) or "section"
        slug = base
        while slug in self._seen:
            self._seen[base] = self._seen.get(base, 0) + 1
            slug = f"{base}-{self._seen[base]}"
        self._seen[slug] = 0
        return slug


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SectionView:
    anchor: str
    heading: str
    header: str
    align: str
    rows: Sequence[str]
    note: str = ""


@dataclass(frozen=True)
class _TocItem:
    anchor: str
    label: str


def render_index(
    *,
    settings: MarkdownSettings,
    updated_on: date | None,
    topics: Sequence[TopicSection],
    archive_months: Sequence[str],
    target: Literal["readme", "pages"],
    status_line: str = "",
    picks: Sequence[tuple[str, Entry]] = (),
) -> str:
    """README.md (``target="readme"``) or docs/index.md (``"pages"``, with Jekyll front matter)."""
    page = settings.readme_path if target == "readme" else f"{settings.docs_dir}/index.md"
    heading = f"Updated on {updated_on:%Y.%m.%d}" if updated_on else "Updated on: never"
    slugger = Slugger()
    slugger.slug(heading)
    anchors = [slugger.slug(topic.name) for topic in topics]
    sections = [
        _section(settings, topic, anchor, _older_note(settings, page, topic))
        for topic, anchor in zip(topics, anchors, strict=True)
    ]
    return _render(
        "index.md.j2",
        front_matter=target == "pages",
        repository=settings.repository,
        marker=GENERATED_MARKER,
        usage_url=USAGE_URL,
        updated_heading=heading,
        status_line=escape_cell(status_line),
        archive_line=_archive_line(settings, page, archive_months),
        toc=[_TocItem(a, escape_html(t.name)) for t, a in zip(topics, anchors, strict=True)],
        sections=sections,
        picks=[_pick_line(topic, entry) for topic, entry in picks],
    )


def _pick_line(topic: str, entry: Entry) -> str:
    """One top pick: title linked to its abstract page, topic, score and reason."""
    title = escape_cell(entry.paper.title)
    return (
        f"[{title}]({entry.paper.abs_url}) ({escape_cell(topic)}, {entry.score or 0:.2f}): "
        f"{escape_cell(entry.why or '')}"
    )


def foreign_page(path: Path) -> bool:
    """Whether ``path`` exists and arxiv-radar did not write it (it lacks the marker line).

    Pages from before the marker existed are recognised by their shape (the ``top`` anchor as
    the first line, then an "Updated on" heading), so upgrading a digest is not refused.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(_MARKER_SEARCH_BYTES).decode("utf-8", errors="replace")
    except FileNotFoundError:
        return False
    lines = head.splitlines()
    if any(line.startswith(_MARKER_PREFIX) for line in lines):
        return False
    legacy = lines[:1] == [_LEGACY_FIRST_LINE] and any(
        line.startswith("## Updated on") for line in lines
    )
    return not legacy


def render_archive_month(
    *,
    settings: MarkdownSettings,
    month: str,
    topics: Sequence[TopicSection],
    kept: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """<archive>/YYYY-MM.md: the full tables of every topic with papers that month, without
    star counts (see ``MarkdownSettings.stars``).

    ``kept``: per PDF cell token, the rows an earlier render of this page gave a paper that has
    not changed since, one per section it is in, placed again instead of formatted anew."""
    settings = dataclasses.replace(settings, stars=False)
    present = [topic for topic in topics if topic.entries]
    anchors = archive_anchors(month, [topic.name for topic in present])
    rows = _PageRows(settings, kept or {})
    return _render(
        "archive_month.md.j2",
        title=_archive_title(month),
        index_link=_relative(settings.archive_home, f"{settings.archive}/{month}.md"),
        sections=[_section(settings, t, anchors[t.name], "", rows) for t in present],
    )


def render_archive_index(*, settings: MarkdownSettings, months: Sequence[str]) -> str:
    """<archive>/index.md: every archive month, newest first."""
    return _render(
        "archive_index.md.j2",
        title="Monthly archive",
        index_link=_relative(settings.archive_home, f"{settings.archive}/index.md"),
        months=sorted(set(months), reverse=True),
    )


def archive_anchors(month: str, topic_names: Sequence[str]) -> dict[str, str]:
    """Anchor of each topic on the archive page of ``month``, after the page's own heading."""
    slugger = Slugger()
    slugger.slug(_archive_title(month))
    return {name: slugger.slug(name) for name in topic_names}


def _archive_title(month: str) -> str:
    return f"Papers of {month}"


def _section(
    settings: MarkdownSettings,
    topic: TopicSection,
    anchor: str,
    note: str,
    rows: _PageRows | None = None,
) -> _SectionView:
    """A topic's table; ``rows`` are the rows of the page's sections so far."""
    columns = settings.columns
    page = _PageRows(settings, {}) if rows is None else rows
    return _SectionView(
        anchor=anchor,
        heading=escape_cell(topic.name),
        header="|" + "|".join(COLUMNS[c] for c in columns) + "|",
        align="|" + "|".join(":---" for _ in columns) + "|",
        rows=[page.row(entry) for entry in topic.entries],
        note=note,
    )


class _PageRows:
    """The rows of one page's sections, in page order: a paper in several topics is formatted
    once per reason (the why column differs per topic), and a paper with ``kept`` rows takes
    its next one for each section it is in."""

    def __init__(self, settings: MarkdownSettings, kept: Mapping[str, Sequence[str]]) -> None:
        self._settings = settings
        self._kept = {token: iter(rows) for token, rows in kept.items()}
        self._formatted: dict[str, str] = {}

    def row(self, entry: Entry) -> str:
        if self._kept:
            queue = self._kept.get(pdf_cell_token(_pdf_cell(self._settings, entry)))
            if queue is not None and (kept := next(queue, None)) is not None:
                return kept
        # A paper's reason differs per topic, so it is part of the key.
        key = f"{entry.paper.arxiv_id}\x00{entry.why or ''}"
        row = self._formatted.get(key)
        if row is None:
            row = self._formatted[key] = _row(self._settings, entry)
        return row


def _older_note(settings: MarkdownSettings, page: str, topic: TopicSection) -> str:
    if topic.total <= len(topic.entries):
        return ""
    shown = f"Showing {len(topic.entries)} of {topic.total} papers."
    links = [
        f"[{link.month}]({_archive_href(settings, page, link.month)}#{link.anchor})"
        for link in topic.older
    ]
    return f"{shown} Older papers: {', '.join(links)}" if links else shown


def _archive_line(settings: MarkdownSettings, page: str, months: Sequence[str]) -> str:
    if not months:
        return ""
    newest = sorted(set(months), reverse=True)[:_ARCHIVE_LINE_MONTHS]
    links = [f"[{month}]({_archive_href(settings, page, month)})" for month in newest]
    everything = _relative(f"{settings.archive}/index.md", page)
    return f"Monthly archives: {', '.join(links)}, [all months]({everything})"


def _archive_href(settings: MarkdownSettings, page: str, month: str) -> str:
    return _relative(f"{settings.archive}/{month}.md", page)


def _relative(target: str, page: str) -> str:
    """Link from ``page`` to ``target`` (both relative to the repository root)."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def _row(settings: MarkdownSettings, entry: Entry) -> str:
    return "|" + "|".join([_CELLS[column](settings, entry) for column in settings.columns]) + "|"


def _date_cell(settings: MarkdownSettings, entry: Entry) -> str:
    return display_date(entry.paper.published, settings.zone).isoformat()


def _authors_cell(settings: MarkdownSettings, entry: Entry) -> str:
    names = entry.paper.authors
    first = escape_cell(names[0]) if names else ""
    return (first + " et al." if len(names) > 1 else first) or _EMPTY


def _abstract_cell(settings: MarkdownSettings, entry: Entry) -> str:
    if entry.abstract_translated:
        return escape_normalized(shorten(entry.abstract_translated, settings.abstract_chars))
    text = escape_normalized(shorten(entry.paper.abstract, settings.abstract_chars)) or _EMPTY
    return f"{settings.untranslated_marker} {text}" if settings.untranslated_marker else text


def _pdf_cell(settings: MarkdownSettings, entry: Entry) -> str:
    # Built by us from a validated id: no need for safe_url (this runs for every archived row).
    return f"[{escape_cell(entry.paper.arxiv_id)}]({entry.paper.pdf_url})"


def _tldr_cell(settings: MarkdownSettings, entry: Entry) -> str:
    return escape_cell(entry.tldr or "") or _EMPTY


def _why_cell(settings: MarkdownSettings, entry: Entry) -> str:
    return escape_cell(entry.why or "") or _EMPTY


def _title_cell(settings: MarkdownSettings, entry: Entry) -> str:
    title = escape_cell(entry.paper.title)
    cell = f"**{title}**" if title else _EMPTY
    translated = escape_cell(entry.title_translated or "")
    return f"{cell}<br>{translated}" if translated else cell


def _code_cell(settings: MarkdownSettings, entry: Entry) -> str:
    parts: list[str] = []
    code = _link("code", entry.code_url)
    if code:
        parts.append(f"**{code}**")
        if settings.stars and entry.stars is not None:
            parts.append(f"★{format_stars(entry.stars)}")
    page = _link("page", entry.project_url)
    if page:
        parts.append(page)
    return " ".join(parts) or _EMPTY


_CELLS: dict[str, Callable[[MarkdownSettings, Entry], str]] = {
    "date": _date_cell,
    "title": _title_cell,
    "authors": _authors_cell,
    "abstract": _abstract_cell,
    "pdf": _pdf_cell,
    "code": _code_cell,
    "tldr": _tldr_cell,
    "why": _why_cell,
}


def _link(label: str, url: str | None) -> str:
    href = safe_url(url)
    return f"[{label}]({href})" if href else ""


def display_date(moment: datetime, zone: tzinfo) -> date:
    """The calendar date a reader in ``zone`` sees (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone).date()


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Markdown, not HTML: every cell is escaped by arxiv_radar.publish.cells before it gets here.
    return Environment(
        loader=PackageLoader("arxiv_radar", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(template: str, **context: object) -> str:
    """Render and normalise blank lines so templates can stay readable."""
    text = _environment().get_template(template).render(**context)
    # Same as re.sub(r"\n{3,}", "\n\n", text), but str.replace runs at memchr speed while the
    # regex took ~20 ms per archive page: each pass shortens every run of three or more.
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n"


# --- publishing --------------------------------------------------------------------------------


class StoreMarkdown:
    """README, Pages index and archive pages for a real store, month by month as the publisher
    hands months over: archive months whose papers did not change since they were rendered (see
    :mod:`arxiv_radar.publish.incremental`) are not rendered again.
    """

    def __init__(
        self,
        store: Store,
        settings: MarkdownSettings,
        *,
        topics: Sequence[str],
        root: Path,
        calendar: Calendar,
        fingerprints: Fingerprints,
        newest: NewestInTopics,
    ) -> None:
        self._store = store
        self._newest = newest
        self._settings = settings
        # How an archive month renders its rows (no star counts, see render_archive_month).
        self._archive_settings = dataclasses.replace(settings, stars=False)
        self._topics = topics
        self._root = root
        self._calendar = calendar
        self._fingerprints = fingerprints
        self._digest = settings_digest(
            "markdown", dataclasses.asdict(settings), list(topics), store.display_language
        )

    def month(self, entries: MonthEntries) -> list[Path]:
        """The archive page of one month, when stale; returns it if its bytes changed.

        Its fingerprint records the listing one too (``window|listing``), so that the next
        publish can tell a month where only enrichments changed (see :meth:`_patched`)."""
        month = entries.window
        path = self._root / self._settings.archive / f"{month.label}.md"
        fingerprint = self._fingerprints.window(month, self._digest)
        if self._fingerprints.fresh(path, fingerprint):
            return []
        listing = self._fingerprints.listing(month, self._digest)
        text = self._patched(path, month, listing)
        if text is None:
            text = self._rendered(path, entries)
        self._fingerprints.rendered(path, f"{fingerprint}|{listing}")
        return [path] if write_if_changed(path, text) else []

    def _rendered(self, path: Path, entries: MonthEntries) -> str:
        rows = entries.get()
        sections = [
            TopicSection(
                name=topic,
                entries=_scored(self._store, self._settings, topic, chosen),
                total=len(chosen),
            )
            for topic in self._topics
            if (chosen := [entry for entry in rows if topic in entry.topics])
        ]
        label = entries.window.label
        kept = self._kept_rows(path, entries)
        return render_archive_month(
            settings=self._settings, month=label, topics=sections, kept=kept
        )

    def _kept_rows(self, path: Path, entries: MonthEntries) -> dict[str, list[str]]:
        """The rows the page on disk gives the papers that did not change since it was rendered
        with these settings, when they are one per section each is in now: the day's new papers
        re-render the month, but format 600 rows, not 12,500. Empty when there is no such page."""
        window_print = self._fingerprints.recorded(path).partition("|")[0]
        if window_print.partition(":")[0] != self._digest or "pdf" not in self._settings.columns:
            return {}
        month = entries.window
        since = _rendered_rev(window_print)
        changed = self._store.window_ids_changed(month.start, month.end, since)
        settings = self._archive_settings
        sections: dict[str, int] = {}  # token of each unchanged paper -> its sections
        for entry in entries.get():
            if entry.paper.arxiv_id not in changed:
                token = pdf_cell_token(_pdf_cell(settings, entry))
                sections[token] = sum(topic in entry.topics for topic in self._topics)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return {}
        found = rows_by_token(text, sections)
        return {token: rows for token, rows in found.items() if len(rows) == sections[token]}

    def _patched(self, path: Path, month: Window, listing: str) -> str | None:
        """The page on disk with only its changed papers' rows rendered again, when its layout
        cannot have moved since its last render: the same papers, metadata and topics (the
        same listing fingerprint), PDF cells to find rows by, and no changed paper in a topic
        ordered by score. Byte-identical to a full render: a row is a function of its paper
        and topic alone. None: render in full."""
        window_print, _, listed = self._fingerprints.recorded(path).partition("|")
        if listed != listing or "pdf" not in self._settings.columns:
            return None
        since = _rendered_rev(window_print)
        changed = self._store.window_entries_changed(month.start, month.end, since)
        if len(changed) > _MOST_PATCHED:
            return None
        settings = self._archive_settings
        rows: dict[str, list[str]] = {
            pdf_cell_token(_pdf_cell(settings, entry)): [] for entry in changed
        }
        for topic in self._topics:
            chosen = [entry for entry in changed if topic in entry.topics]
            if chosen and topic in settings.relevance_topics:
                return None
            for entry in _scored(self._store, settings, topic, chosen) if chosen else []:
                rows[pdf_cell_token(_pdf_cell(settings, entry))].append(_row(settings, entry))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return replace_rows(text, rows)

    def closing(self, status_line: str = "", updated_on: date | None = None) -> list[Path]:
        """README.md, docs/index.md and the archive index (small: always rendered).

        ``updated_on`` is the day of arXiv's newest announcement ingested (None: never).
        """
        settings = self._settings
        older = _older_links(self._calendar, self._topics, settings.readme_rows)
        months = [month.label for month in self._calendar.months]
        return _index_pages(
            self._store,
            settings,
            self._topics,
            self._root,
            newest=self._newest,
            calendar=self._calendar,
            older=older,
            months=months,
            status_line=status_line,
            updated_on=updated_on,
        )


# Past this many changed papers a month is rendered in full: patching would save little.
_MOST_PATCHED = 500


def _rendered_rev(window_print: str) -> int:
    """The highest rev of the window a page was rendered from (``digest:count:rev``)."""
    return int(window_print.rsplit(":", 1)[1])


def _older_links(
    calendar: Calendar, topics: Sequence[str], readme_rows: int
) -> dict[str, list[ArchiveLink]]:
    """Per topic, the archive months holding rows past the README's cut, from counts alone."""
    older: dict[str, list[ArchiveLink]] = {topic: [] for topic in topics}
    seen: dict[str, int] = dict.fromkeys(topics, 0)
    for month in calendar.months:
        counts = calendar.topic_counts[month.label]
        present = [topic for topic in topics if counts.get(topic)]
        anchors = archive_anchors(month.label, present)
        for topic in dict.fromkeys(present):
            seen[topic] += counts[topic]
            if seen[topic] > readme_rows:
                older[topic].append(ArchiveLink(month.label, anchors[topic]))
    return older


def _index_pages(
    store: Store,
    settings: MarkdownSettings,
    topics: Sequence[str],
    root: Path,
    *,
    newest: NewestInTopics,
    calendar: Calendar,
    older: dict[str, list[ArchiveLink]],
    months: list[str],
    status_line: str,
    updated_on: date | None,
) -> list[Path]:
    """README.md, docs/index.md and docs/archive/index.md (small: always rendered)."""
    docs = root / settings.docs_dir
    sections = [
        TopicSection(
            name=topic,
            entries=_scored(store, settings, topic, newest.get(topic, settings.readme_rows)),
            total=calendar.topic_total(topic),
            older=older[topic],
        )
        for topic in topics
    ]
    picks = top_picks(store, topics, settings.top_picks, newest.get)
    pages = WriteSet()
    targets: tuple[tuple[Literal["readme", "pages"], Path], ...] = (
        ("readme", root / settings.readme_path),
        ("pages", docs / "index.md"),
    )
    for target, path in targets:
        text = render_index(
            settings=settings,
            updated_on=updated_on,
            topics=sections,
            archive_months=months,
            target=target,
            status_line=status_line,
            picks=picks,
        )
        pages.add(path, text)
    archive = root / settings.archive
    pages.add(archive / "index.md", render_archive_index(settings=settings, months=months))
    written = pages.commit()
    if settings.archive_dir:
        _remove_old_archive(docs / "archive")
    return written


_ARCHIVE_FILE = re.compile(r"^(\d{4}-\d{2}|index)\.md$")
_ARCHIVE_HEAD = "---\nlayout: default\n---\n"


def _remove_old_archive(folder: Path) -> None:
    """Delete the archive months an earlier version wrote under docs_dir (see the module
    docstring), so an upgraded digest loses them in one run. Only files of that name and shape
    (our front matter, a "Back to the digest" link) are ours; anything else stays."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.md")):
        if _ARCHIVE_FILE.match(path.name) and _our_archive_page(path):
            path.unlink()
            log.info("markdown: removed %s (archive months now live beside the README)", path)


def _our_archive_page(path: Path) -> bool:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            head = handle.read(2048)
    except OSError:
        return False
    return head.startswith(_ARCHIVE_HEAD) and "[Back to the digest](" in head


def _scored(
    store: Store, settings: MarkdownSettings, topic: str, entries: Sequence[Entry]
) -> list[Entry]:
    by_relevance = topic in settings.relevance_topics
    return scored_entries(store, topic, entries, by_relevance=by_relevance, zone=settings.zone)
