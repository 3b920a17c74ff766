"""What `arxiv-radar status` shows: recent runs, the last good fetch and per-category progress."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

from rich.console import RenderableType
from rich.table import Table

from arxiv_radar.config import Workspace
from arxiv_radar.listings import open_gap
from arxiv_radar.lock import is_locked
from arxiv_radar.store import RunRecord, Store

__all__ = ["describe_backfill", "describe_runs"]


def describe_runs(
    workspace: Workspace, *, limit: int, now: datetime | None = None
) -> Iterator[RenderableType]:
    now = now or datetime.now(timezone.utc)
    codes = workspace.config.categories
    # Read-only: reporting never migrates or rewrites the file, even while a run holds the lock.
    with Store.open(workspace.database, readonly=True) as store:
        pending = store.pending_migrations
        if store.schema_version == 0:
            yield _pending_line(workspace, pending)
            return
        runs = store.recent_runs(limit)
        last_ok = store.get_meta("last_fetch_ok")
        categories = store.category_state()
        progress = {code: store.get_checkpoint(f"gapfill:{code}") for code in codes}
    if pending:
        yield _pending_line(workspace, pending)
    yield _runs_table(runs, alive=is_locked(workspace.database))
    yield f"Last successful fetch: {last_ok or 'never'}"
    table = Table("Category", "Last complete listing", "Open gap", title="Listings")
    for code in sorted({*codes, *categories}):
        last = categories.get(code)
        table.add_row(
            code, last.isoformat() if last else "never", _gap(last, now, progress.get(code))
        )
    yield table


def _pending_line(workspace: Workspace, pending: list[str]) -> str:
    return (
        f"{workspace.database} needs {len(pending)} migration(s) ({', '.join(pending)}): "
        "the next `arxiv-radar run` applies them; `status` leaves the file as it is."
    )


def _gap(last: date | None, now: datetime, checkpoint: dict[str, Any] | None) -> str:
    """The listing days no run has ingested yet; the next run fills them through the API."""
    if last is None:
        return "- (the first run reads today's listing only)"
    missing = open_gap(last, now)
    if not missing:
        return "-"
    text = f"{len(missing)} listing day(s): {missing[0]} to {missing[-1]}"
    if checkpoint and checkpoint.get("done_until"):
        text += f" (gap fill in progress, submissions done until {checkpoint['done_until']})"
    return text


def describe_backfill(stats: dict[str, Any]) -> Table:
    """The per-topic summary `arxiv-radar backfill` prints."""
    table = Table(
        "Topic",
        "New matches",
        title=(
            f"Backfill {stats.get('from')} to {stats.get('to')}: {stats.get('windows', 0)} "
            f"window(s), {stats.get('requests', 0)} request(s), "
            f"{stats.get('papers_found', 0)} papers found"
        ),
    )
    for topic, count in (stats.get("per_topic") or {}).items():
        table.add_row(topic, str(count))
    return table


def _runs_table(runs: list[RunRecord], *, alive: bool) -> Table:
    """``alive``: a process holds the lock, so a "running" run may really be running."""
    table = Table(
        "Run",
        "Started (UTC)",
        "Command",
        "Status",
        "Fetched per topic",
        "Problems",
        title="Recent runs",
    )
    for run in runs:
        table.add_row(
            str(run.id),
            run.started_at.strftime("%Y-%m-%d %H:%M"),
            run.command,
            run.status if alive or run.status != "running" else "interrupted",
            _per_topic(run.stats.get("fetch") or run.stats.get("backfill")),
            "\n".join(f"{e.get('stage')}: {e.get('error')}" for e in run.errors) or "-",
        )
    return table


def _per_topic(fetch: Any) -> str:
    if not isinstance(fetch, dict):
        return "-"
    counts = fetch.get("per_topic") or {}
    lines = [f"{name}: {count}" for name, count in counts.items()]
    if fetch.get("announced"):
        lines.insert(0, f"listing of {fetch['announced']}: {fetch.get('listed', 0)} papers")
    gap = fetch.get("gap")
    if isinstance(gap, dict) and gap.get("windows"):
        lines.append(f"gap fill: {gap['windows']} window(s), {gap.get('papers_found', 0)} papers")
    if fetch.get("from"):
        lines.insert(0, f"backfill {fetch['from']} to {fetch.get('to')}")
    return "\n".join(lines) or "-"
