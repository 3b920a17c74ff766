"""`arxiv-radar backfill`: fill a range of submission dates through the arXiv API.

It is the gap fill's window machinery (:class:`arxiv_radar.gapfill.WindowFiller`) over a range
the user chooses: one ``submittedDate`` window per watched category (matched against every topic)
and one per topic without categories (its own query), or with ``--topic`` only that topic's
categories or query. Each page is committed with a checkpoint named after the range and topic, so
running the same command again after a failure continues where it stopped.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from arxiv_radar.config import RadarConfig
from arxiv_radar.errors import StageError, UserError
from arxiv_radar.gapfill import (
    FillJob,
    FillProgress,
    Window,
    WindowFiller,
    category_query,
    primary_in,
)
from arxiv_radar.http import PoliteClient
from arxiv_radar.match import Topic
from arxiv_radar.sources.arxiv_api import ArxivAPI
from arxiv_radar.store import Store

__all__ = ["BackfillRange", "backfill_jobs", "checkpoint_prefix", "fill_range", "parse_day"]

log = logging.getLogger(__name__)

_RESUME = "run the same backfill command again to continue from its checkpoint"


def parse_day(text: str, option: str) -> date:
    """A command-line date; a mistake names the option and the expected form."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option} {text!r} is not a date",
            fix=f"write it as YYYY-MM-DD, e.g. {option} 2024-01-31",
        ) from None


@dataclass(frozen=True)
class BackfillRange:
    """Submission days to fill (UTC, both included), optionally for one topic only."""

    start: date
    end: date
    topic: str | None = None

    def window(self) -> Window:
        return Window(
            datetime.combine(self.start, time.min, timezone.utc),
            datetime.combine(self.end, time(23, 59), timezone.utc),
        )


def checkpoint_prefix(span: BackfillRange) -> str:
    """Checkpoints are per range and topic: a different backfill never resumes this one."""
    key = f"{span.start}|{span.end}|{span.topic or ''}"
    return "backfill:" + hashlib.sha256(key.encode()).hexdigest()[:12]


def _select(config: RadarConfig, topics: list[Topic], name: str | None) -> list[Topic]:
    if name is None:
        return topics
    chosen = [topic for topic in topics if topic.name.casefold() == name.casefold()]
    if not chosen:
        known = ", ".join(repr(topic.name) for topic in topics)
        raise UserError(f"--topic {name!r}: no topic of that name", fix=f"use one of {known}")
    return chosen


def backfill_jobs(config: RadarConfig, topics: list[Topic], span: BackfillRange) -> list[FillJob]:
    """Whole-category windows where topics have categories (exhaustive, unlike a keyword
    search), a topic's own query where it has none."""
    if span.start > span.end:
        raise UserError(f"--from {span.start} is after --to {span.end}", fix="swap the two dates")
    selected = _select(config, topics, span.topic)
    if span.topic is None:
        codes = list(config.categories)
        matched = tuple(topics)
    else:
        codes = sorted(selected[0].categories)
        matched = tuple(selected)
    keep = None if config.include_cross_lists else primary_in(codes)
    prefix, window = checkpoint_prefix(span), span.window()
    jobs = [
        FillJob(
            f"{prefix}:cat:{code}", code, category_query(code), window, matched, "backfill", keep
        )
        for code in codes
    ]
    jobs += [
        FillJob(
            f"{prefix}:topic:{t.name}", f"topic {t.name}", t.api_query(), window, (t,), "backfill"
        )
        for t in selected
        if t.searches_api
    ]
    return jobs


def fill_range(
    config: RadarConfig,
    store: Store,
    client: PoliteClient,
    topics: list[Topic],
    span: BackfillRange,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Fill ``span``: the backfill stage of the pipeline (run record, lock and client are its).

    A network failure raises StageError carrying what was stored so far and keeps the
    checkpoints; a complete backfill removes them, so the same range can later be fetched afresh.
    """
    jobs = backfill_jobs(config, topics, span)
    stats: dict[str, Any] = {"from": str(span.start), "to": str(span.end), "topic": span.topic}
    filler = WindowFiller(ArxivAPI(client, config.endpoints.api_url), store, now=now)
    try:
        _fill(filler, jobs)
    except StageError as err:
        stats.update(filler.stats.as_stats(), notes=[_RESUME])
        err.partial = stats
        raise
    stats.update(filler.stats.as_stats(), notes=[])
    for job in jobs:
        store.clear_checkpoint(job.name)
    return stats


def _fill(filler: WindowFiller, jobs: list[FillJob]) -> None:
    """Run every job; stop at the first failure (the network is likely down for all of them)."""
    with FillProgress("backfill", len(jobs)) as progress:
        filler.progress = progress
        for job in jobs:
            try:
                filler.run(job)
            except StageError as err:
                log.error("backfill of %s failed: %s", job.label, err)
                raise
