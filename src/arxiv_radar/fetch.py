"""The fetch stage: daily listing -> gap fill -> local pre-match -> full metadata -> match -> store.

The listing already carries title, abstract, authors and categories, so topics are matched on it
first and only the matching papers cost an API request (in batches of 100). The final decision is
made again on the full metadata, so a paper is judged the same way whichever path brought it in.
When the listing is dated later than the next announcement day after the last one ingested, the
missed days are filled through the API first (see :mod:`arxiv_radar.gapfill`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from arxiv_radar.config import RadarConfig
from arxiv_radar.gapfill import GapReport, fill_gaps, finish_gap_fill
from arxiv_radar.http import PoliteClient
from arxiv_radar.match import Topic, match_all
from arxiv_radar.paper import Paper
from arxiv_radar.query import Document
from arxiv_radar.sources.arxiv_api import ArxivAPI
from arxiv_radar.sources.listing import Listing, ListingItem, fetch_listing
from arxiv_radar.store import Store

__all__ = ["FetchReport", "fetch", "listing_paper"]

log = logging.getLogger(__name__)


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

    def as_stats(self) -> dict[str, object]:
        return {
            "announced": self.announced.isoformat() if self.announced else None,
            "listed": self.listed,
            "skipped_replacements": self.skipped_replacements,
            "candidates": self.candidates,
            "new_papers": self.new_papers,
            "updated_papers": self.updated_papers,
            "per_topic": dict(self.per_topic),
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
    """Fill any missed days, then read today's listing and the API searches, and commit every
    match of the listing in one transaction."""
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
    with daily.store.transaction():
        daily.store_matches(daily.search_topics())
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

    def __post_init__(self) -> None:
        self.report.per_topic = {topic.name: 0 for topic in self.topics}

    def listing_matches(self, listing: Listing) -> list[Paper]:
        """Pre-match on listing data, then fetch full metadata for the candidates only."""
        wanted = {"new", "cross"} if self.config.include_cross_lists else {"new"}
        kept = [item for item in listing.items if item.announce_type in wanted]
        self.report.listed = len(kept)
        self.report.skipped_replacements = len(listing.items) - len(kept)
        provisional = {i.arxiv_id: listing_paper(i, listing.announced, self.now) for i in kept}
        candidates = [pid for pid, paper in provisional.items() if self._any_topic(paper)]
        self.report.candidates = len(candidates)
        if not candidates:
            return []
        full = {paper.arxiv_id: paper for paper in self.api.fetch_ids(candidates)}
        missing = [pid for pid in candidates if pid not in full]
        if missing:
            # Keep what the listing told us rather than drop a paper the API did not return yet.
            self.report.notes.append(f"API returned no metadata for {len(missing)} listed paper(s)")
            full.update({pid: provisional[pid] for pid in missing})
        return [full[pid] for pid in candidates]

    def _any_topic(self, paper: Paper) -> bool:
        document = Document(paper)
        return any(topic.matches_document(document) for topic in self.topics)

    def search_topics(self) -> list[Paper]:
        """Newest-first API search for topics without categories, back to known papers or the
        look-back window: no fixed result cap."""
        horizon = self.now - timedelta(days=self.config.lookback_days)
        found: list[Paper] = []
        for topic in (t for t in self.topics if t.searches_api):
            count = 0
            for paper in self.api.search(topic.api_query()):
                if paper.published < horizon or self.store.is_member(topic.name, paper.arxiv_id):
                    break
                count += 1
                if topic.matches(paper):
                    found.append(paper)
            self.report.searched[topic.name] = count
        return found

    def store_matches(self, papers: Iterable[Paper]) -> None:
        """Store the papers (once each) and their topic memberships; counts go to the report."""
        unique = list({paper.arxiv_id: paper for paper in papers}.values())
        result = self.store.upsert_papers(unique, seen_at=self.now, source="listing")
        for name, matched in match_all(self.topics, unique).items():
            self.report.per_topic[name] += self.store.add_matches(
                name, [p.arxiv_id for p in matched], matched_at=self.now
            )
        self.report.new_papers += len(result.new)
        self.report.updated_papers += len(result.updated)

    def commit(self, papers: Iterable[Paper], listing: Listing) -> None:
        """The listing's matches and the listing's progress, in one transaction."""
        with self.store.transaction():
            self.store_matches(papers)
            read = listing.announced if listing.items else None
            if read is not None:
                self._advance_state(read)
            finish_gap_fill(self.store, self.topics, every_category_known=read is not None)
            self.store.set_meta("last_fetch_ok", self.now.isoformat())

    def _advance_state(self, announced: date) -> None:
        """Never move a category back: an older (cached) listing is no news."""
        state = self.store.category_state()
        for category in self.config.categories:
            if state.get(category, date.min) < announced:
                self.store.set_category_state(category, announced, at=self.now)
