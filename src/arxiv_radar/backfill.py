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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

import httpx

from arxiv_radar.config import RadarConfig, Workspace
from arxiv_radar.errors import StageError, UserError
from arxiv_radar.gapfill import (
    FillJob,
    FillProgress,
    Window,
    WindowFiller,
    category_query,
    primary_in,
)
from arxiv_radar.http import HttpSettings, PoliteClient, RetryEvent
from arxiv_radar.lock import workspace_lock
from arxiv_radar.match import Topic, compile_topics
from arxiv_radar.pipeline import USER_AGENT, RunOutcome
from arxiv_radar.sources.arxiv_api import ArxivAPI
from arxiv_radar.store import Store

__all__ = ["BackfillRange", "backfill_jobs", "checkpoint_prefix", "parse_day", "run_backfill"]

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


def run_backfill(
    workspace: Workspace,
    span: BackfillRange,
    *,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> RunOutcome:
    """Fill ``span`` under the workspace lock, recorded as a run with command "backfill".

    A network failure ends the run with an error (exit code 1) and keeps the checkpoints; a
    complete backfill removes them, so the same command later fetches the range afresh.
    """
    now = now or datetime.now(timezone.utc)
    jobs = backfill_jobs(workspace.config, compile_topics(workspace.config.topics), span)
    retries: list[RetryEvent] = []
    with workspace_lock(workspace.database), Store.open(workspace.database) as store:
        with _recorded(store, now) as outcome:
            stats: dict[str, Any] = {
                "from": str(span.start),
                "to": str(span.end),
                "topic": span.topic,
            }
            outcome.stats["backfill"] = stats
            with _client(workspace, transport, retries) as client:
                filler = WindowFiller(
                    ArxivAPI(client, workspace.config.endpoints.api_url), store, now=now
                )
                complete = _fill(filler, jobs, outcome)
            stats.update(filler.stats.as_stats())
            stats["notes"] = [] if complete else [_RESUME]
            if complete:
                for job in jobs:
                    store.clear_checkpoint(job.name)
            if retries:
                outcome.stats["retries"] = [
                    {"url": e.url, "attempt": e.attempt, "reason": e.reason} for e in retries
                ]
        return outcome


def _fill(filler: WindowFiller, jobs: list[FillJob], outcome: RunOutcome) -> bool:
    """Run every job; stop at the first failure (the network is likely down for all of them)."""
    with FillProgress("backfill", len(jobs)) as progress:
        filler.progress = progress
        for job in jobs:
            try:
                filler.run(job)
            except StageError as err:
                log.error("backfill of %s failed: %s", job.label, err)
                outcome.errors.append(
                    {"stage": "backfill", "error": _one_line(err), "url": getattr(err, "url", "")}
                )
                return False
    return True


def _client(
    workspace: Workspace, transport: httpx.BaseTransport | None, retries: list[RetryEvent]
) -> PoliteClient:
    http = workspace.config.http
    settings = HttpSettings(
        request_interval=http.request_interval,
        timeout=http.timeout,
        max_retries=http.max_retries,
        user_agent=USER_AGENT,
    )
    return PoliteClient(settings, transport=transport, on_retry=retries.append)


@contextmanager
def _recorded(store: Store, now: datetime) -> Iterator[RunOutcome]:
    """Record the run however it ends; an unexpected exception still closes the record."""
    outcome = RunOutcome(run_id=store.start_run("backfill", started_at=now), status="running")
    try:
        yield outcome
    except BaseException as err:
        outcome.errors.append({"stage": "backfill", "error": _one_line(err)})
        raise
    finally:
        found = outcome.stats.get("backfill", {}).get("papers_found", 0)
        outcome.status = "ok" if not outcome.errors else ("partial" if found else "failed")
        store.finish_run(
            outcome.run_id,
            status=outcome.status,
            stats=outcome.stats,
            errors=outcome.errors,
            finished_at=datetime.now(timezone.utc),
        )


def _one_line(err: BaseException) -> str:
    text = str(err) if isinstance(err, (StageError, UserError)) else f"{type(err).__name__}: {err}"
    return " ".join(text.split())
