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
from typing import TYPE_CHECKING, Any

from arxiv_radar import __version__
from arxiv_radar.config import Workspace, display_language
from arxiv_radar.errors import StageError, StoreError, UserError
from arxiv_radar.http_budget import HttpSettings, RetryEvent, RunBudget
from arxiv_radar.lock import workspace_lock
from arxiv_radar.match import Topic, compile_topics
from arxiv_radar.paper import clip
from arxiv_radar.publish.digest import check_pages_are_ours, publish_all
from arxiv_radar.rank import load_ranker, ranking_configured
from arxiv_radar.secrets import scrub, scrub_data
from arxiv_radar.store import Store
from arxiv_radar.store.snapshot import ensure_database, export_state

# The stages that talk to the network import their clients (httpx) when they run: `publish`
# alone, every day in the workflow, never pays for them.
if TYPE_CHECKING:
    import httpx

    from arxiv_radar.backfill import BackfillRange
    from arxiv_radar.enrich.run import PreparedEnrich
    from arxiv_radar.fetch import FetchReport
    from arxiv_radar.http import PoliteClient
    from arxiv_radar.sources.arxiv_api import ArxivAPI

__all__ = ["INTERRUPTED", "STAGES", "RunOutcome", "run_pipeline"]

log = logging.getLogger(__name__)

STAGES = ("fetch", "enrich", "rank", "publish", "notify")  # what `run` does
_ORDER = ("backfill", *STAGES)
INTERRUPTED = "interrupted: the process stopped before the run finished (killed or crashed)"
_STALE_SCAN = 50
_ERROR_CHARS = 2_000
USER_AGENT = f"arxiv-radar/{__version__} (+https://github.com/arxiv-radar/arxiv-radar)"


@dataclass
class RunOutcome:
    run_id: int
    status: str
    stats: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """2 when a stage stopped on a user mistake (its fix is in the record), 1 when one
        failed otherwise, 0 when all went well."""
        if any(error.get("user") for error in self.errors):
            return 2
        return 1 if self.errors else 0


@dataclass
class _Context:
    workspace: Workspace
    store: Store
    topics: list[Topic]
    now: datetime
    transport: httpx.BaseTransport | None
    budget: RunBudget
    enricher: PreparedEnrich | None = None
    enrich_error: UserError | None = None  # why the enricher could not be built (a key)
    backfill: BackfillRange | None = None
    retries: list[RetryEvent] = field(default_factory=list)

    def arxiv_client(self) -> PoliteClient:
        """One client for every arXiv host: arXiv's 3-second rule spans all of them."""
        from arxiv_radar.http import PoliteClient

        settings = http_settings(self.workspace)
        return PoliteClient(
            settings, transport=self.transport, on_retry=self.retries.append, budget=self.budget
        )


def http_settings(workspace: Workspace) -> HttpSettings:
    http = workspace.config.http
    return HttpSettings(
        request_interval=http.request_interval,
        timeout=http.timeout,
        request_deadline=http.request_deadline,
        max_response_bytes=http.max_response_bytes,
        max_retries=http.max_retries,
        backoff_base=http.backoff_base,
        retry_after_max=http.retry_after_max,
        retry_after_per_host=http.retry_after_per_host,
        retry_after_per_run=http.retry_after_per_run,
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
        from arxiv_radar.backfill import backfill_jobs

        backfill_jobs(workspace.config, topics, backfill)  # a bad range is a user error: say it now
    settings = http_settings(workspace)
    # Fetch and enrich share one budget; publish and notify run whatever it has left.
    budget = RunBudget(settings, workspace.config.http.run_budget)
    enricher, enrich_error = _prepare_enricher(workspace, stages, settings, budget)
    if "notify" in stages:
        from arxiv_radar.publish.notify import check_secrets

        check_secrets(workspace)
    if "publish" in stages:
        check_pages_are_ours(workspace)  # a user's own README.md: say so before any fetch
    with workspace_lock(workspace.database):
        budget.start()
        # The committed state is the truth: a missing or stale database is rebuilt from it.
        ensure_database(workspace.database, workspace.state_dir)
        with Store.open(workspace.database) as store:
            _close_interrupted(store, now)
            store.display_language = display_language(workspace)
            context = _Context(
                workspace=workspace,
                store=store,
                topics=topics,
                now=now,
                transport=transport,
                budget=budget,
                enricher=enricher,
                enrich_error=enrich_error,
                backfill=backfill,
            )
            return _run_stages(context, stages, command)


def _run_stages(context: _Context, stages: Sequence[str], command: str) -> RunOutcome:
    store = context.store
    with _recorded(store, command, context.now) as outcome:
        try:
            for stage in (s for s in _ORDER if s in stages):
                _run_stage(stage, context, outcome, alone=len(stages) == 1)
        finally:
            # Also after a failed stage: what the others stored must reach the commit.
            _export(store, context.workspace)
        if context.retries:
            outcome.stats["retries"] = [_retry_record(event) for event in context.retries]
        if context.budget.deferred:
            outcome.stats["deferred"] = dict(sorted(context.budget.deferred.items()))
    return outcome


def _export(store: Store, workspace: Workspace) -> None:
    report = export_state(store, workspace.state_dir)
    if report.written or report.removed:
        log.info(
            "state: %d day(s) rendered; changed: %s%s",
            report.days,
            ", ".join(report.written) or "nothing",
            f"; removed: {', '.join(report.removed)}" if report.removed else "",
        )


def _prepare_enricher(
    workspace: Workspace, stages: Sequence[str], settings: HttpSettings, budget: RunBudget
) -> tuple[PreparedEnrich | None, UserError | None]:
    """Build the enricher before anything runs.

    `enrich` alone refuses at once (exit 2) when a key is missing. In a run that also fetches and
    publishes, the same mistake must not stop the digest (an expired secret would silence it):
    the other stages run, the pages mark abstracts as pending English, and the enrich stage
    fails with the fix (exit 1).
    """
    if "enrich" not in stages:
        return None, None
    from arxiv_radar.enrich.run import prepare_enrich

    try:
        return prepare_enrich(workspace, settings, budget=budget), None
    except UserError as err:
        if set(stages) <= {"enrich"}:
            raise
        log.error("no translations or TL;DRs this run: %s", err)
        return prepare_enrich(workspace, settings, texts=False, budget=budget), err


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
                stats=scrub_data(run.stats),
                errors=scrub_data([*run.errors, {"stage": "run", "error": INTERRUPTED}]),
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
        try:
            _finish(store, outcome)
        except StoreError as also:
            # The store failing again (full disk, corruption) must not hide the first error;
            # the run stays "running" and the next run marks it interrupted.
            log.warning("could not record run %d: %s", run_id, also)
        raise
    _finish(store, outcome)


def _finish(store: Store, outcome: RunOutcome) -> None:
    # Servers quote what they were sent: nothing they said reaches the store or the CLI's
    # output (which prints these errors) before the scrubber has read it.
    outcome.stats, outcome.errors = scrub_data(outcome.stats), scrub_data(outcome.errors)
    outcome.status = _status(outcome)
    store.finish_run(
        outcome.run_id,
        status=outcome.status,
        stats=outcome.stats,
        errors=outcome.errors,
        finished_at=datetime.now(timezone.utc),
    )


def _run_stage(stage: str, context: _Context, outcome: RunOutcome, *, alone: bool) -> None:
    """Run one stage; whatever it raises is that stage's recorded failure, never the run's.

    Only an interrupt (KeyboardInterrupt, SystemExit) ends the run here: a stage that meets an
    answer nobody foresaw must not skip publish and notify, every day the remote answers so.
    A user mistake ends a command that runs this stage ``alone`` (`rank`, `enrich`): there is
    nothing else to do, and the person at the terminal gets the one-line error and its fix.
    """
    runner: Callable[[_Context], dict[str, Any]] = _RUNNERS[stage]
    try:
        outcome.stats[stage] = runner(context)
    except StageError as err:
        log.error("%s failed: %s", stage, err)
        if err.partial is not None:
            outcome.stats[stage] = err.partial
        _record_failure(stage, context, outcome, err)
    except UserError as err:
        # A mistake only this stage meets (a seeds file, say): in `run` the other stages still
        # run, so the digest goes on, and the run exits 2 with the fix.
        if alone:
            raise
        log.error("%s failed: %s", stage, err)
        _record_failure(stage, context, outcome, err)
        outcome.errors[-1]["user"] = True
    except Exception as err:  # recorded on the run, which exits 1
        log.error("%s failed: %s", stage, _one_line(err), exc_info=log.isEnabledFor(logging.DEBUG))
        _record_failure(stage, context, outcome, err)


def _record_failure(stage: str, context: _Context, outcome: RunOutcome, err: Exception) -> None:
    # An exception's text may quote what a server sent: the run record keeps a bounded line.
    line = clip(_one_line(err), _ERROR_CHARS)
    outcome.errors.append({"stage": stage, "error": line, "url": getattr(err, "url", "")})
    if stage == "fetch":
        _remember_fetch(context, ok=False, error=line)


def _fetch_stage(context: _Context) -> dict[str, Any]:
    from arxiv_radar.fetch import fetch

    with context.arxiv_client() as client:
        report: FetchReport = fetch(
            context.workspace.config, context.store, client, context.topics, now=context.now
        )
    _remember_fetch(context, ok=True, report=report)
    return report.as_stats()


def _backfill_stage(context: _Context) -> dict[str, Any]:
    assert context.backfill is not None, "run_pipeline(..., backfill=...) sets the range"
    from arxiv_radar.backfill import fill_range

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
    """Lookups that fail stay pending for the next run; they are reported, not fatal. A key
    or endpoint mistake fails the stage (see ProviderMisconfigured)."""
    assert context.enricher is not None, "run_pipeline prepares the enricher"
    stats = context.enricher.run(context.store, now=context.now)
    if context.enrich_error is not None:
        failure = StageError(context.enrich_error.message, fix=context.enrich_error.fix)
        failure.partial = stats
        raise failure
    return stats


@contextmanager
def _seed_api(context: _Context) -> Iterator[ArxivAPI]:
    """The arXiv API for seed metadata, opened only when a seed is not stored yet."""
    from arxiv_radar.sources.arxiv_api import ArxivAPI

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
    from arxiv_radar.publish.notify import notify_all

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
    attempt: dict[str, Any] = {"at": context.now.isoformat(), "ok": ok, "error": scrub(error)}
    if report is not None:
        attempt.update(
            announced=report.announced.isoformat() if report.announced else None,
            listed=report.listed,
            new_papers=report.total_new(),
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
