"""The enrichment records the enrich stage and the store exchange: what a code check needs and
found, which star counts are due, what a cached text is keyed by.

They sit here, below both, so the store (which must never import the enrich stage and its HTTP
machinery) and the stage share one definition; ``paper.py`` keeps the paper model alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from arxiv_radar.paper import Paper

__all__ = ["CODE_CHECK_HORIZON", "CodeCandidate", "CodeOutcome", "StarsSchedule", "TextKey"]

# A paper first seen longer ago than this never gets a first code check: the re-check schedule
# (up to 30 days) is over, and turning code links on must not query a whole history at once.
# Papers this old that are due anyway (an imported history, see ``schedule_position``) are a
# backlog the enrich stage works through within ``code_links.backlog_per_run`` per run.
CODE_CHECK_HORIZON = timedelta(days=40)


@dataclass(frozen=True)
class CodeCandidate:
    """A paper still without code, with what the schedule needs to know about it."""

    paper: Paper
    first_seen: datetime
    attempts: int


@dataclass(frozen=True)
class CodeOutcome:
    """One completed code check, to store as-is; ``next_check`` None means never again."""

    code_url: str | None
    project_url: str | None
    stars: int | None
    source: str
    at: datetime
    attempts: int
    next_check: datetime | None


@dataclass(frozen=True)
class TextKey:
    """The cache key of a text besides the paper and its version: a paper is done once per key."""

    field: str  # "title", "abstract" or "tldr"
    language: str
    provider: str
    model: str


@dataclass(frozen=True)
class StarsSchedule:
    """Which star counts are due: a recent paper's at most daily, an older paper's once a month.

    Star counts are published data (pages, exports), so refreshing every old paper daily would
    make every old month change, and be re-rendered and committed, every day.
    """

    refreshed_before: datetime  # a recent paper's count fetched before this is due
    recent_since: datetime  # papers first seen since this are recent
    settled_before: datetime  # an older paper's count fetched before this is due

    def due(self, refreshed_at: datetime | None, first_seen: datetime) -> bool:
        if refreshed_at is None:
            return True
        if first_seen >= self.recent_since:
            return refreshed_at < self.refreshed_before
        return refreshed_at < self.settled_before
