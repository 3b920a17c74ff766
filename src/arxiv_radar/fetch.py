"""The fetch stage: daily listing -> gap fill -> local pre-match -> full metadata -> match -> store.

The listing already carries title, abstract, authors and categories, so topics are matched on it
first and only the matching papers cost an API request (in batches of 100). The final decision is
made again on the full metadata, so a paper is judged the same way whichever path brought it in.
When the listing is dated later than the next announcement day after the last one ingested, the
missed days are filled through the API first (see :mod:`arxiv_radar.gapfill`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from arxiv_radar.config import RadarConfig
from arxiv_radar.gapfill import MARGIN, REVISED, GapReport, fill_gaps, finish_gap_fill
from arxiv_radar.http import PoliteClient
from arxiv_radar.listings import (
    LAST_ANNOUNCEMENT,
    latest_announcement,
    previous_listing_day,
    submission_cutoff,
)
from arxiv_radar.match import Topic, match_all
from arxiv_radar.paper import Paper
from arxiv_radar.query import Document
from arxiv_radar.sources.arxiv_api import ArxivAPI
from arxiv_radar.sources.listing import Listing, ListingItem, fetch_listing
from arxiv_radar.store import PROVISIONAL_SOURCE, Store

__all__ = [
    "FetchReport",
    "fetch",
    "listing_paper",
]

log = logging.getLogger(__name__)


def _remember_announcement(store: Store, day: date, listed: int) -> None:
    """Keep the newest announcement; an older (cached) listing read later is no news."""
    known = latest_announcement(store)
    if known is not None and known.day > day:
        return
    value = json.dumps({"day": day.isoformat(), "listed": listed}, sort_keys=True)
    store.set_meta(LAST_ANNOUNCEMENT, value)


_REPLACEMENTS = ("replace", "replace-cross")


@dataclass
class FetchReport:
    """What one fetch did, stored in the run record and shown by `status`."""

    announced: date | None = None
    listed: int = 0
    skipped_replacements: int = 0
    candidates: int = 0
    new_papers: int = 0
    updated_papers: int = 0
    per_topic: dict[str, int] = field(default_factory=dict)
    searched: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    gap: GapReport = field(default_factory=GapReport)
    rejected: list[str] = field(default_factory=list)  # unusable entries skipped, and why

    def total_new(self) -> int:
        """New papers from the listing, the topic searches and the gap fill together."""
        return self.new_papers + self.gap.fill.new_papers

    def total_per_topic(self) -> dict[str, int]:
        """New memberships per topic from every path: the run table and `status` show these,
        so a run that caught up on missed days does not read "0 new"."""
        filled = self.gap.fill.per_topic
        names = [*self.per_topic, *(name for name in filled if name not in self.per_topic)]
        return {name: self.per_topic.get(name, 0) + filled.get(name, 0) for name in names}

    def as_stats(self) -> dict[str, object]:
        return {
            "announced": self.announced.isoformat() if self.announced else None,
            "listed": self.listed,
            "skipped_replacements": self.skipped_replacements,
            "candidates": self.candidates,
            "new_papers": self.total_new(),
            "updated_papers": self.updated_papers,
            "per_topic": self.total_per_topic(),
            "searched": dict(self.searched),
            "notes": [*self.gap.notes, *self.notes],
            "gap": self.gap.as_stats(),
            "rejected": self.rejected[:50],
        }


def listing_paper(item: ListingItem, announced: date | None, fallback: datetime) -> Paper:
    """A provisional Paper from listing data: enough to pre-match, not what we store."""
    when = (
        datetime.combine(announced, datetime.min.time(), tzinfo=fallback.tzinfo)
        if announced
        else fallback
    )
    return Paper(
        arxiv_id=item.arxiv_id,
        version=item.version,
        title=item.title,
        authors=item.authors,
        abstract=item.abstract,
        categories=item.categories,
        primary_category=item.categories[0] if item.categories else "",
        published=when,
        updated=when,
    )


def fetch(
    config: RadarConfig,
    store: Store,
    client: PoliteClient,
    topics: Sequence[Topic],
    *,
    now: datetime,
) -> FetchReport:
    """Fill any missed days, then read today's listing and the API searches.

    Every request happens outside a write transaction: the listing's matches are committed in
    one transaction after their metadata arrived, each topic search's matches and progress in
    one after the search ended.
    """
    api = ArxivAPI(client, config.endpoints.api_url)
    daily = _DailyFetch(config, store, api, topics, now)
    listing = fetch_listing(client, config.endpoints.rss_url, config.categories)
    daily.report.announced = listing.announced
    if listing.announced is None:
        daily.report.notes.append("the listing has no date: missed days cannot be detected")
    daily.report.gap = fill_gaps(config, store, api, topics, listing.announced, now=now)
    # The listing is committed before the topic searches: a failing search must not hold back
    # the day's listing matches (the listing moves on tomorrow).
    daily.commit(daily.listing_matches(listing), listing)
    daily.search_topics(listing)
    if not listing.items:
        daily.report.notes.append("the listing was empty: no announcement (weekend or holiday)")
    daily.report.rejected = [*listing.rejected, *api.rejected]
    return daily.report


@dataclass
class _DailyFetch:
    config: RadarConfig
    store: Store
    api: ArxivAPI
    topics: Sequence[Topic]
    now: datetime
    report: FetchReport = field(default_factory=FetchReport)
    # Set by listing_matches: listed papers the API had no record of yet (stored from the
    # listing), stored papers to update (new versions, rows still provisional) and new versions
    # the API did not know yet.
    _provisional: list[Paper] = field(default_factory=list)
    _updates: list[Paper] = field(default_factory=list)
    _provisional_updates: list[Paper] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.report.per_topic = {topic.name: 0 for topic in self.topics}

    def listing_matches(self, listing: Listing) -> list[Paper]:
        """Pre-match on listing data, then fetch full metadata for the candidates only, for the
        stored papers the listing replaced, and for rows still built from a listing alone."""
        wanted = {"new", "cross"} if self.config.include_cross_lists else {"new"}
        kept = [item for item in listing.items if item.announce_type in wanted]
        self.report.listed = len(kept)
        provisional = {i.arxiv_id: listing_paper(i, listing.announced, self.now) for i in kept}
        candidates = [pid for pid, paper in provisional.items() if self._any_topic(paper)]
        self.report.candidates = len(candidates)
        replaced = self._stored_replacements(listing)
        self.report.skipped_replacements = len(listing.items) - len(kept) - len(replaced)
        refresh = [pid for pid in self.store.provisional_ids() if pid not in provisional]
        lookups = list(dict.fromkeys([*candidates, *replaced, *refresh]))
        if not lookups:
            return []
        full = {paper.arxiv_id: paper for paper in self.api.fetch_ids(lookups)}
        missing = [pid for pid in [*candidates, *replaced] if pid not in full]
        if missing:
            # Keep what the listing told us rather than drop a paper the API did not return yet;
            # the row is marked provisional and asked for again on the next run.
            self.report.notes.append(f"API returned no metadata for {len(missing)} listed paper(s)")
        self._provisional = [provisional[pid] for pid in candidates if pid not in full]
        self._updates = [full[pid] for pid in [*replaced, *refresh] if pid in full]
        self._provisional_updates = [paper for pid, paper in replaced.items() if pid not in full]
        return [full[pid] for pid in candidates if pid in full]

    def _stored_replacements(self, listing: Listing) -> dict[str, Paper]:
        """Listing papers of new versions (``replace``, ``replace-cross``) of stored papers: they
        update the stored metadata; a replacement of a paper we do not hold is no news."""
        items = [i for i in listing.items if i.announce_type in _REPLACEMENTS]
        known = self.store.known_ids(item.arxiv_id for item in items)
        return {
            item.arxiv_id: listing_paper(item, listing.announced, self.now)
            for item in items
            if item.arxiv_id in known
        }

    def _any_topic(self, paper: Paper) -> bool:
        document = Document(paper)
        return any(topic.matches_document(document) for topic in self.topics)

    def search_topics(self, listing: Listing) -> None:
        """An API search for each topic without categories, newest version first, down to the
        submissions of today's listing (with a margin) once the topic has progress, else the
        look-back window: no fixed result cap. Papers first submitted in that span are matched;
        older ones are new versions, which update the stored papers only. Each topic's results
        and progress are committed after its search; a search that fails (arXiv's paging
        skipped a paper, see :class:`~arxiv_radar.sources.arxiv_api.IncompleteSearchError`)
        leaves the topic's mark, and the next gap fill searches the day by windows."""
        for topic in (t for t in self.topics if t.searches_api):
            floor = self._search_floor(topic, listing.announced)
            found: list[Paper] = []
            revised: list[Paper] = []
            count = 0
            for paper in self.api.search(topic.api_query(), sort_by=REVISED):
                if paper.updated < floor:
                    break
                count += 1
                if paper.published < floor:
                    revised.append(paper)
                elif topic.matches(paper):
                    found.append(paper)
            self.report.searched[topic.name] = count
            with self.store.transaction():
                self.store_matches(found, source="listing")
                known = self.store.known_ids(p.arxiv_id for p in revised)
                self._update([p for p in revised if p.arxiv_id in known], source="listing")
                self._advance_topic(topic, listing)

    def _search_floor(self, topic: Topic, announced: date | None) -> datetime:
        """Today's submissions (with a margin) for a topic with progress, else the look-back
        window. A topic's first search saves the day before as its progress at once, so if it
        fails, the next run's gap fill still covers today."""
        horizon = self.now - timedelta(days=self.config.lookback_days)
        if announced is None:
            return horizon
        if topic.name not in self.store.topic_state():
            self.store.set_topic_state(topic.name, previous_listing_day(announced), at=self.now)
            return horizon
        return submission_cutoff(previous_listing_day(announced)) - MARGIN

    def _advance_topic(self, topic: Topic, listing: Listing) -> None:
        """Today's listing is searched through for ``topic`` once its own earlier days are: a
        topic whose window is still open keeps its mark, so the next gap fill covers it."""
        if listing.announced is None or not listing.items:
            return
        mark = self.store.topic_state().get(topic.name)
        if mark is None or mark >= previous_listing_day(listing.announced):
            self.store.set_topic_state(topic.name, listing.announced, at=self.now)

    def store_matches(self, papers: Iterable[Paper], *, source: str) -> None:
        """Store the papers (once each) and their topic memberships; counts go to the report."""
        unique = list({paper.arxiv_id: paper for paper in papers}.values())
        result = self.store.upsert_papers(unique, seen_at=self.now, source=source)
        for name, matched in match_all(self.topics, unique).items():
            self.report.per_topic[name] += self.store.add_matches(
                name, [p.arxiv_id for p in matched], matched_at=self.now
            )
        self.report.new_papers += len(result.new)
        self.report.updated_papers += len(result.updated)

    def commit(self, papers: Iterable[Paper], listing: Listing) -> None:
        """The listing's matches, the replaced and refreshed metadata, and the listing's
        progress, in one transaction."""
        with self.store.transaction():
            self.store_matches(papers, source="listing")
            self.store_matches(self._provisional, source=PROVISIONAL_SOURCE)
            self._update(self._updates, source="listing")
            self._update(self._provisional_updates, source=PROVISIONAL_SOURCE)
            read = listing.announced if listing.items else None
            if read is not None:
                self._advance_state(read)
                _remember_announcement(self.store, read, self.report.listed)
            finish_gap_fill(self.store, every_category_known=read is not None)
            self.store.set_meta("last_fetch_ok", self.now.isoformat())

    def _update(self, papers: list[Paper], *, source: str) -> None:
        """New metadata for stored papers; their topics stay as they are."""
        result = self.store.upsert_papers(papers, seen_at=self.now, source=source)
        self.report.updated_papers += len(result.updated)

    def _advance_state(self, announced: date) -> None:
        """Never move a category back: an older (cached) listing is no news."""
        state = self.store.category_state()
        for category in self.config.categories:
            if state.get(category, date.min) < announced:
                self.store.set_category_state(category, announced, at=self.now)
