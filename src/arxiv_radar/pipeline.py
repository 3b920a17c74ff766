"""Runs the stages in order and records every run: when, what each stage did, what failed and why.

A failed stage does not stop later ones (a failed fetch still republishes the pages with an honest
status line), but it makes the run's exit code non-zero so cron and GitHub Actions show red.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from arxiv_radar import __version__
from arxiv_radar.backfill import BackfillRange, backfill_jobs, fill_range
from arxiv_radar.config import Workspace
from arxiv_radar.enrich.run import PreparedEnrich, display_language, prepare_enrich
from arxiv_radar.errors import StageError, UserError
from arxiv_radar.fetch import FetchReport, fetch
from arxiv_radar.http import HttpSettings, PoliteClient, RetryEvent
from arxiv_radar.lock import workspace_lock
from arxiv_radar.match import Topic, compile_topics
from arxiv_radar.publish.digest import publish_all
from arxiv_radar.publish.notify import check_secrets, notify_all
from arxiv_radar.rank import load_ranker, ranking_configured
from arxiv_radar.sources.arxiv_api import ArxivAPI
from arxiv_radar.store import Store

__all__ = ["INTERRUPTED", "STAGES", "RunOutcome", "run_pipeline"]

log = logging.getLogger(__name__)

STAGES = ("fetch", "enrich", "rank", "publish", "notify")  # what `run` does
_ORDER = ("backfill", *STAGES)
INTERRUPTED = "interrupted: the process stopped before the run finished (killed or crashed)"
_STALE_SCAN = 50
USER_AGENT = f"arxiv-radar/{__version__} (+https://github.com/arxiv-radar/arxiv-radar)"


@dataclass
class RunOutcome:
    run_id: int
    status: str
    stats: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


@dataclass
class _Context:
    workspace: Workspace
    store: Store
    topics: list[Topic]
    now: datetime
    transport: httpx.BaseTransport | None
    enricher: PreparedEnrich | None = None
    backfill: BackfillRange | None = None
    retries: list[RetryEvent] = field(default_factory=list)

    def arxiv_client(self) -> PoliteClient:
        """One client for every arXiv host: arXiv's 3-second rule spans all of them."""
        settings = http_settings(self.workspace)
        return PoliteClient(settings, transport=self.transport, on_retry=self.retries.append)


def http_settings(workspace: Workspace) -> HttpSettings:
    http = workspace.config.http
    return HttpSettings(
        request_interval=http.request_interval,
        timeout=http.timeout,
        max_retries=http.max_retries,
        backoff_base=http.backoff_base,
        user_agent=USER_AGENT,
    )


def run_pipeline(
    workspace: Workspace,
    stages: Sequence[str],
    *,
    command: str,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
    backfill: BackfillRange | None = None,
) -> RunOutcome:
    """Run ``stages`` (from STAGES, or "backfill" with ``backfill`` set), in order, under the
    workspace lock, and record the run."""
    now = now or datetime.now(timezone.utc)
    topics = compile_topics(workspace.config.topics)
    if backfill is not None:
        backfill_jobs(workspace.config, topics, backfill)  # a bad range is a user error: say it now
    # Built before anything runs: a missing API key is a user error to report at once.
    enricher = prepare_enrich(workspace, http_settings(workspace)) if "enrich" in stages else None
    if "notify" in stages:
        check_secrets(workspace)
    with workspace_lock(workspace.database), Store.open(workspace.database) as store:
        _close_interrupted(store, now)
        store.display_language = display_language(workspace)
        context = _Context(
            workspace=workspace,
            store=store,
            topics=topics,
            now=now,
            transport=transport,
            enricher=enricher,
            backfill=backfill,
        )
        with _recorded(store, command, now) as outcome:
            for stage in (s for s in _ORDER if s in stages):
                _run_stage(stage, context, outcome)
            if context.retries:
                outcome.stats["retries"] = [_retry_record(event) for event in context.retries]
        return outcome


def _close_interrupted(store: Store, now: datetime) -> None:
    """Runs still marked running were killed: we hold the lock, so none of them is alive.

    Left alone they would read as in progress forever; `status` must say they were interrupted.
    Their stages committed whole or not at all, so there is nothing else to undo.
    """
    for run in store.recent_runs(_STALE_SCAN):
        if run.status == "running":
            log.warning("run %d was interrupted before it finished", run.id)
            store.finish_run(
                run.id,
                status="failed",
                stats=run.stats,
                errors=[*run.errors, {"stage": "run", "error": INTERRUPTED}],
                finished_at=now,
            )


@contextmanager
def _recorded(store: Store, command: str, now: datetime) -> Iterator[RunOutcome]:
    run_id = store.start_run(command, started_at=now)
    outcome = RunOutcome(run_id=run_id, status="running")
    try:
        yield outcome
    except BaseException as err:
        outcome.errors.append({"stage": "run", "error": _one_line(err)})
        raise
    finally:
        outcome.status = _status(outcome)
        store.finish_run(
            run_id,
            status=outcome.status,
            stats=outcome.stats,
            errors=outcome.errors,
            finished_at=datetime.now(timezone.utc),
        )


def _run_stage(stage: str, context: _Context, outcome: RunOutcome) -> None:
    runner: Callable[[_Context], dict[str, Any]] = _RUNNERS[stage]
    try:
        outcome.stats[stage] = runner(context)
    except StageError as err:
        log.error("%s failed: %s", stage, err)
        if err.partial is not None:
            outcome.stats[stage] = err.partial
        outcome.errors.append(
            {"stage": stage, "error": _one_line(err), "url": getattr(err, "url", "")}
        )
        if stage == "fetch":
            _remember_fetch(context, ok=False, error=_one_line(err))


def _fetch_stage(context: _Context) -> dict[str, Any]:
    with context.arxiv_client() as client:
        report: FetchReport = fetch(
            context.workspace.config, context.store, client, context.topics, now=context.now
        )
    _remember_fetch(context, ok=True, report=report)
    return report.as_stats()


def _backfill_stage(context: _Context) -> dict[str, Any]:
    assert context.backfill is not None, "run_pipeline(..., backfill=...) sets the range"
    with context.arxiv_client() as client:
        return fill_range(
            context.workspace.config,
            context.store,
            client,
            context.topics,
            context.backfill,
            now=context.now,
        )


def _enrich_stage(context: _Context) -> dict[str, Any]:
    """Lookups that fail stay pending for the next run; they are reported, not fatal."""
    assert context.enricher is not None, "run_pipeline prepares the enricher"
    return context.enricher.run(context.store, now=context.now)


@contextmanager
def _seed_api(context: _Context) -> Iterator[ArxivAPI]:
    """The arXiv API for seed metadata, opened only when a seed is not stored yet."""
    with context.arxiv_client() as client:
        yield ArxivAPI(client, context.workspace.config.endpoints.api_url)


def _rank_stage(context: _Context) -> dict[str, Any]:
    """Scores topic papers against their seeds; skipped (and free) when nothing is configured."""
    if not ranking_configured(context.workspace):
        return {}
    stats: dict[str, Any] = load_ranker().rank_store(
        context.workspace,
        context.store,
        lambda: _seed_api(context),
        now=context.now,
        zotero=context.arxiv_client,  # a client of its own per collection, closed after it
    )
    return stats


def _publish_stage(context: _Context) -> dict[str, Any]:
    written = publish_all(context.workspace, context.store, context.topics)
    # The run record names a few files; a first publish of a large store writes thousands.
    return {"written_count": len(written), "written": [str(path) for path in written[:50]]}


def _notify_stage(context: _Context) -> dict[str, Any]:
    return notify_all(context.workspace, context.store, context.topics, now=context.now)


_RUNNERS: dict[str, Callable[[_Context], dict[str, Any]]] = {
    "backfill": _backfill_stage,
    "fetch": _fetch_stage,
    "enrich": _enrich_stage,
    "rank": _rank_stage,
    "publish": _publish_stage,
    "notify": _notify_stage,
}


def _remember_fetch(
    context: _Context, *, ok: bool, report: FetchReport | None = None, error: str = ""
) -> None:
    """Keep the last fetch attempt in the store, so pages say truthfully what happened."""
    attempt: dict[str, Any] = {"at": context.now.isoformat(), "ok": ok, "error": error}
    if report is not None:
        attempt.update(
            announced=report.announced.isoformat() if report.announced else None,
            listed=report.listed,
            new_papers=report.new_papers,
        )
    context.store.set_meta("last_fetch_attempt", json.dumps(attempt, sort_keys=True))


def _status(outcome: RunOutcome) -> str:
    if not outcome.errors:
        return "ok"
    return "partial" if outcome.stats else "failed"


def _retry_record(event: RetryEvent) -> dict[str, Any]:
    return {"url": event.url, "attempt": event.attempt, "reason": event.reason}


def _one_line(err: BaseException) -> str:
    text = str(err) if isinstance(err, (StageError, UserError)) else f"{type(err).__name__}: {err}"
    return " ".join(text.split())
