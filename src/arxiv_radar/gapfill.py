"""Catch up on announcement days no run read, through API ``submittedDate`` windows.

The daily listing only shows the latest announcement, so a skipped, failed or delayed run would
lose that day's papers for good. The store remembers the last announcement ingested completely per
category; when today's listing is dated later than the next announcement day, the submissions of
the missed days are searched through the API (one ``cat:X AND submittedDate:[a TO b]`` window per
category, with a margin on each side), paged to the end and matched locally like listing papers.

One implementation pages every window, for the gap fill and for ``backfill``: it sorts ascending
by submission date and commits each page together with a checkpoint "everything submitted before
this minute is done", so an interrupted fill resumes where it stopped, and a window that has
grown since (a later listing) simply continues past its old end. Each request is a fresh window
from that minute, so arXiv reordering papers of one minute between requests loses none.

Every gap has two windows per category (and per topic without categories): first versions
(``submittedDate``) for new papers, latest versions (``lastUpdatedDate``) for the new versions of
stored papers that the missed listings announced. A category's or topic's watermark moves only
with the last page of both, and topics keep their own (``topic_state``), so a failure anywhere
leaves exactly the unfinished windows for the next run.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from arxiv_radar import categories as taxonomy
from arxiv_radar.config import RadarConfig
from arxiv_radar.listings import missed_days, previous_listing_day, submission_cutoff
from arxiv_radar.match import Topic, match_all
from arxiv_radar.paper import Paper
from arxiv_radar.sources.arxiv_api import ArxivAPI
from arxiv_radar.store import Store, UpsertResult

__all__ = [
    "MARGIN",
    "MAX_WINDOW_DAYS",
    "PAGE_SIZE",
    "REVISED",
    "SUBMITTED",
    "FillJob",
    "FillProgress",
    "FillStats",
    "GapPlan",
    "GapReport",
    "Window",
    "WindowFiller",
    "category_query",
    "fill_gaps",
    "finish_gap_fill",
    "plan_gap",
    "primary_in",
    "topic_checkpoint",
]

log = logging.getLogger(__name__)

MARGIN = timedelta(days=1)
PAGE_SIZE = 100
# arXiv asks for large result sets to be sliced; deep offsets are slow and unreliable.
MAX_WINDOW_DAYS = 30
FIRST_LISTING = "gapfill:first-listing"
_API_FORMAT = "%Y%m%d%H%M"
SUBMITTED = "submittedDate"  # a window of first versions: new papers
REVISED = "lastUpdatedDate"  # a window of latest versions: new versions of stored papers


# --- windows and jobs -------------------------------------------------------------------------


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Window:
    """A span of submission times (UTC, both ends included, minute precision like the API): of
    v1 (``submittedDate``) or of the latest version (``lastUpdatedDate``)."""

    start: datetime
    end: datetime

    def slices(self, days: int) -> Iterator[Window]:
        """Consecutive windows of at most ``days`` days covering this one."""
        start = self.start
        while True:
            end = min(self.end, start + timedelta(days=days))
            yield Window(start, end)
            if end >= self.end:
                return
            start = end

    def search_query(self, base: str, by: str = SUBMITTED) -> str:
        low = _minute(self.start).strftime(_API_FORMAT)
        high = _minute(self.end).strftime(_API_FORMAT)
        return f"({base}) AND {by}:[{low} TO {high}]"


def category_query(code: str) -> str:
    """``cat:`` for a category; a whole archive (``cs``) is every category under it."""
    if "." not in code and code in taxonomy.ARCHIVES:
        return f"cat:{code}.*"
    return f"cat:{code}"


def primary_in(codes: Sequence[str]) -> Callable[[Paper], bool]:
    """Keep papers whose primary category is one of ``codes`` (the listing's "new" items):
    ``cat:`` searches also return cross-lists."""

    def keep(paper: Paper) -> bool:
        primary = paper.primary_category
        return any(primary == code or primary.startswith(code + ".") for code in codes)

    return keep


@dataclass(frozen=True)
class FillJob:
    """One search over one submission window, and the checkpoint that remembers its progress.

    ``on_complete`` runs in the transaction of the last page (e.g. to advance the category's
    last complete announcement), so completion and its consequences are committed together.
    A ``revisions`` job searches ``lastUpdatedDate`` instead and only updates stored papers
    (a replacement is never a new paper): the listing of a missed day also announced new
    versions, which a window of first versions cannot see.
    """

    name: str
    label: str
    query: str
    window: Window
    topics: tuple[Topic, ...]
    source: str
    keep: Callable[[Paper], bool] | None = None
    on_complete: Callable[[Store], None] | None = None
    revisions: bool = False

    @property
    def by(self) -> str:
        return REVISED if self.revisions else SUBMITTED

    def stamp(self, paper: Paper) -> datetime:
        """The date the window is over: of the latest version, or of the first."""
        return paper.updated if self.revisions else paper.published


@dataclass
class FillStats:
    """Counts for the run record: windows completed, API pages requested, papers seen and kept."""

    windows: int = 0
    requests: int = 0
    found: int = 0
    new_papers: int = 0
    per_topic: dict[str, int] = field(default_factory=dict)
    # Windows of new versions (``lastUpdatedDate``), counted apart from the submission windows.
    revision_windows: int = 0
    revision_requests: int = 0
    revised: int = 0

    def as_stats(self) -> dict[str, Any]:
        return {
            "windows": self.windows,
            "requests": self.requests,
            "papers_found": self.found,
            "new_papers": self.new_papers,
            "per_topic": dict(self.per_topic),
            "revisions": {
                "windows": self.revision_windows,
                "requests": self.revision_requests,
                "updated_papers": self.revised,
            },
        }


class FillProgress:
    """A progress bar on stderr when it is a terminal (windows done, papers seen); silent
    otherwise, where the INFO logs tell the same story."""

    def __init__(self, title: str, total: int, *, enabled: bool | None = None) -> None:
        show = sys.stderr.isatty() if enabled is None else enabled
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[papers]} papers"),
            console=Console(stderr=True),
            transient=True,
            disable=not show,
        )
        self._title = title
        self._task: TaskID = self._progress.add_task(title, total=total, papers=0)
        self._papers = 0

    def __enter__(self) -> FillProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def started(self, label: str) -> None:
        self._progress.update(self._task, description=f"{self._title}: {label}")

    def papers(self, count: int) -> None:
        self._papers += count
        self._progress.update(self._task, papers=self._papers)

    def finished(self) -> None:
        self._progress.advance(self._task)


class WindowFiller:
    """Pages every job's window to the end, matching and storing with a checkpoint per page."""

    def __init__(
        self,
        api: ArxivAPI,
        store: Store,
        *,
        now: datetime,
        progress: FillProgress | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.api = api
        self.store = store
        self.now = now
        self.progress = progress
        self.page_size = page_size
        self.stats = FillStats()

    def run(self, job: FillJob) -> None:
        """Fill ``job`` from its checkpoint (if any) to the end of its window."""
        start = self.resume_point(job)
        if self.progress:
            self.progress.started(job.label)
        if start < job.window.end:
            log.info("filling %s: submissions %s to %s", job.label, start, job.window.end)
            for piece in Window(start, job.window.end).slices(MAX_WINDOW_DAYS):
                self._page_through(job, piece, last=piece.end >= job.window.end)
            if job.revisions:
                self.stats.revision_windows += 1
            else:
                self.stats.windows += 1
        if self.progress:
            self.progress.finished()

    def resume_point(self, job: FillJob) -> datetime:
        """Where the job starts: after what an interrupted run committed, never before the window.

        A checkpoint never lies below the window: windows only ever start later (the last
        complete announcement only advances), so "done until" stays true for the new window.
        """
        saved = self.store.get_checkpoint(job.name)
        if saved is None or "done_until" not in saved:
            return job.window.start
        done = datetime.fromisoformat(str(saved["done_until"]))
        if done > job.window.start:
            log.info("resuming %s from its checkpoint at %s", job.label, done.isoformat())
            return done
        return job.window.start

    def _page_through(self, job: FillJob, piece: Window, *, last: bool) -> None:
        """Page ascending through ``piece``, each request a fresh window from the newest minute
        the previous page reached, rather than an offset into one result set.

        arXiv reorders papers of the same minute between requests, so offsets into one result
        set serve some twice and skip others. A fresh window from the last page's newest minute
        (inclusive) holds everything not yet seen, whatever the order of ties; only a minute
        with more papers than a page is paged by offset.
        """
        low, offset = piece.start, 0
        while True:
            page = self.api.search_page(
                Window(low, piece.end).search_query(job.query, job.by),
                start=offset,
                page_size=self.page_size,
                sort_by=job.by,
                sort_order="ascending",
            )
            if offset + len(page.papers) >= page.total:
                self._commit(job, page.papers, done_until=piece.end, last=last)
                return
            newest = _minute(max(job.stamp(p) for p in page.papers))
            low, offset = (newest, 0) if newest > low else (low, offset + len(page.papers))
            # Every submission before ``low`` is now committed: the checkpoint to resume from.
            self._commit(job, page.papers, done_until=low, last=False)

    def _commit(
        self,
        job: FillJob,
        papers: list[Paper],
        *,
        done_until: datetime,
        last: bool,
    ) -> None:
        with self.store.transaction():
            if job.revisions:
                matched, result = self._store_revisions(job, papers)
            else:
                matched, result = self._store_matches(job, papers)
            checkpoint = {"done_until": done_until.isoformat(), "query": job.query}
            self.store.set_checkpoint(job.name, checkpoint, at=self.now)
            if last and job.on_complete is not None:
                job.on_complete(self.store)
        self._count(job, papers, result)
        log.info("%s: %d papers, %d matched, committed", job.label, len(papers), matched)

    def _store_matches(self, job: FillJob, papers: list[Paper]) -> tuple[int, UpsertResult]:
        kept = [p for p in papers if job.keep is None or job.keep(p)]
        matches = match_all(job.topics, kept)
        matched = {p.arxiv_id for group in matches.values() for p in group}
        result = self.store.upsert_papers(
            [p for p in kept if p.arxiv_id in matched], seen_at=self.now, source=job.source
        )
        for name, group in matches.items():
            added = self.store.add_matches(name, [p.arxiv_id for p in group], matched_at=self.now)
            self.stats.per_topic[name] = self.stats.per_topic.get(name, 0) + added
        return len(matched), result

    def _store_revisions(self, job: FillJob, papers: list[Paper]) -> tuple[int, UpsertResult]:
        """New versions of stored papers update them; their topics stay as they are."""
        known = self.store.known_ids(p.arxiv_id for p in papers)
        stored = [p for p in papers if p.arxiv_id in known]
        return len(stored), self.store.upsert_papers(stored, seen_at=self.now, source=job.source)

    def _count(self, job: FillJob, papers: list[Paper], result: UpsertResult) -> None:
        """One commit per request: count it with what it brought."""
        if job.revisions:
            self.stats.revision_requests += 1
            self.stats.revised += len(result.updated)
        else:
            self.stats.requests += 1
            self.stats.found += len(papers)
            self.stats.new_papers += len(result.new)
        if self.progress:
            self.progress.papers(len(papers))


# --- the daily gap fill -----------------------------------------------------------------------


@dataclass(frozen=True)
class GapPlan:
    """The missed listing days after ``last`` (capped) and the submission window covering them."""

    last: date
    listed: date
    missed: tuple[date, ...]
    window: Window
    capped: bool

    def describe_cap(self, max_gap_days: int) -> str:
        return (
            f"the gap since {self.last} is longer than max_gap_days ({max_gap_days}): filled "
            f"back to the listing of {self.missed[0]} only; for the rest run "
            f"`arxiv-radar backfill --from {self.last} --to {self.window.start.date()}`"
        )


def plan_gap(last: date, listed: date, *, max_gap_days: int) -> GapPlan | None:
    """What to fill between the last complete listing and today's, or None when nothing was
    missed (a weekend is not a gap)."""
    missed = missed_days(last, listed)
    if not missed:
        return None
    earliest = listed - timedelta(days=max_gap_days)
    capped = last < earliest
    kept = [day for day in missed if day > earliest] if capped else missed
    kept = kept or missed[-1:]
    start = submission_cutoff(previous_listing_day(kept[0])) - MARGIN
    end = submission_cutoff(kept[-1]) + MARGIN
    return GapPlan(last, listed, tuple(kept), Window(start, end), capped)


@dataclass
class GapReport:
    """What the gap fill did, for the fetch stats and the run's notes."""

    missed: dict[str, list[str]] = field(default_factory=dict)
    fill: FillStats = field(default_factory=FillStats)
    notes: list[str] = field(default_factory=list)

    def as_stats(self) -> dict[str, Any]:
        return {"missed": dict(self.missed), **self.fill.as_stats()}


def _origins(store: Store, config: RadarConfig, listed: date, now: datetime) -> dict[str, date]:
    """Per category, the last listing known complete.

    A category never ingested has none, so the first run ever fills nothing. But the first
    listing any run attempted is remembered, so if that run failed, the next one fills back to
    it: a failed first run loses nothing either.
    """
    state = store.category_state()
    first = {k: date.fromisoformat(str(v)) for k, v in _first_listings(store).items()}
    unseen = {code: listed.isoformat() for code in config.categories if code not in state}
    fresh = {code: day for code, day in unseen.items() if code not in first}
    if fresh:
        saved = {k: v.isoformat() for k, v in first.items()}
        store.set_checkpoint(FIRST_LISTING, {**saved, **fresh}, at=now)
    origins = {code: state[code] for code in config.categories if code in state}
    for code in unseen:
        if code in first and first[code] < listed:
            origins[code] = previous_listing_day(first[code])
    return origins


def _first_listings(store: Store) -> dict[str, Any]:
    return store.get_checkpoint(FIRST_LISTING) or {}


def _advance(category: str, day: date, at: datetime) -> Callable[[Store], None]:
    """Once a category's gap is filled, its last complete listing is the last missed day."""

    def complete(store: Store) -> None:
        if store.category_state().get(category, date.min) < day:
            store.set_category_state(category, day, at=at)

    return complete


def _window_jobs(
    template: FillJob, plan: GapPlan, complete: Callable[[Store], None]
) -> list[tuple[FillJob, GapPlan]]:
    """A gap's two windows, first versions then new versions, each with its own checkpoint.

    The watermark moves (``complete``) only with the last page of the second, when everything
    that depends on it is done; both checkpoints go then, in the same transaction.
    """
    revisions = dataclasses.replace(
        template,
        name=f"{template.name}:revisions",
        label=f"{template.label} (new versions)",
        keep=None,
        revisions=True,
    )

    def finish(store: Store) -> None:
        complete(store)
        store.clear_checkpoint(template.name)
        store.clear_checkpoint(revisions.name)

    return [(template, plan), (dataclasses.replace(revisions, on_complete=finish), plan)]


def _category_jobs(
    config: RadarConfig,
    topics: Sequence[Topic],
    origins: dict[str, date],
    listed: date,
    now: datetime,
) -> list[tuple[FillJob, GapPlan]]:
    """Windows per category with a gap, matched against every topic like the listing."""
    keep = None if config.include_cross_lists else primary_in(config.categories)
    planned: list[tuple[FillJob, GapPlan]] = []
    for code, last in origins.items():
        plan = plan_gap(last, listed, max_gap_days=config.max_gap_days)
        if plan is None:
            continue
        job = FillJob(
            name=f"gapfill:{code}",
            label=code,
            query=category_query(code),
            window=plan.window,
            topics=tuple(topics),
            source="gapfill",
            keep=keep,
        )
        planned += _window_jobs(job, plan, _advance(code, plan.missed[-1], now))
    return planned


def _topic_origins(
    store: Store, topics: Sequence[Topic], categories: dict[str, date], listed: date, now: datetime
) -> dict[str, date]:
    """Per topic without categories, the last listing day its own search covered.

    A topic never searched yet with a gap open (a store from before topics kept their progress)
    starts where the categories are; that origin is saved at once, so the topic's window survives
    the categories' watermarks moving on without it.
    """
    state = store.topic_state()
    fallback = min(categories.values()) if categories else None
    origins: dict[str, date] = {}
    for topic in (t for t in topics if t.searches_api):
        origin = state.get(topic.name)
        if origin is None and fallback is not None and missed_days(fallback, listed):
            store.set_topic_state(topic.name, fallback, at=now)
            origin = fallback
        if origin is not None:
            origins[topic.name] = origin
    return origins


def _advance_topic(topic: str, day: date, at: datetime) -> Callable[[Store], None]:
    """Once a topic's own windows are filled, its search covered every day up to ``day``."""

    def complete(store: Store) -> None:
        store.set_topic_state(topic, day, at=at)

    return complete


def _topic_jobs(
    config: RadarConfig,
    topics: Sequence[Topic],
    origins: dict[str, date],
    listed: date,
    now: datetime,
) -> list[tuple[FillJob, GapPlan]]:
    """Topics without categories match anywhere on arXiv: their own query gets windows over the
    days their own search missed (the daily search only covers today's listing). They keep their
    own checkpoints and progress, independent of the categories' watermarks."""
    planned: list[tuple[FillJob, GapPlan]] = []
    for topic in (t for t in topics if t.name in origins):
        plan = plan_gap(origins[topic.name], listed, max_gap_days=config.max_gap_days)
        if plan is None:
            continue
        job = FillJob(
            name=topic_checkpoint(topic),
            label=f"topic {topic.name}",
            query=topic.api_query(),
            window=plan.window,
            topics=(topic,),
            source="gapfill",
        )
        planned += _window_jobs(job, plan, _advance_topic(topic.name, plan.missed[-1], now))
    return planned


def topic_checkpoint(topic: Topic) -> str:
    return f"gapfill:topic:{topic.name}"


def fill_gaps(
    config: RadarConfig,
    store: Store,
    api: ArxivAPI,
    topics: Sequence[Topic],
    listed: date | None,
    *,
    now: datetime,
) -> GapReport:
    """Fill every missed listing day before ``listed`` (today's listing date) through the API.

    Each category or topic whose window completes advances its own last complete listing to the
    last missed day in the same transaction; a failure raises with every committed page kept for
    next time, and what did not complete keeps its old watermark.
    """
    report = GapReport()
    if listed is None:
        return report
    origins = _origins(store, config, listed, now)
    planned = _category_jobs(config, topics, origins, listed, now)
    planned += _topic_jobs(
        config, topics, _topic_origins(store, topics, origins, listed, now), listed, now
    )
    if not planned:
        return report
    days = sorted({day for _, plan in planned for day in plan.missed})
    log.info("missed listings %s: filling them through the arXiv API", ", ".join(map(str, days)))
    for job, plan in planned:
        if not job.revisions:
            report.missed[job.label] = [day.isoformat() for day in plan.missed]
    capped = next((plan for _, plan in planned if plan.capped), None)
    if capped is not None:
        note = capped.describe_cap(config.max_gap_days)
        log.warning("%s", note)
        report.notes.append(note)
    with FillProgress("gap fill", len(planned)) as progress:
        filler = WindowFiller(api, store, now=now, progress=progress)
        for job, _ in planned:
            filler.run(job)
    report.fill = filler.stats
    report.notes.append(
        f"filled {len(days)} missed listing day(s) ({days[0]} to {days[-1]}) through the API: "
        f"{filler.stats.found} papers found, {filler.stats.new_papers} new"
    )
    return report


def finish_gap_fill(store: Store, *, every_category_known: bool) -> None:
    """The first listing attempted is forgotten only once every category has a last complete
    listing (topics keep their own progress in ``topic_state``)."""
    if every_category_known:
        store.clear_checkpoint(FIRST_LISTING)
