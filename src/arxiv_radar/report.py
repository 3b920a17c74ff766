"""What `arxiv-radar status` shows: recent runs, the last good fetch and per-category progress."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import RenderableType
from rich.table import Table

from arxiv_radar.config import Workspace
from arxiv_radar.store import RunRecord, Store

__all__ = ["describe_runs"]


def describe_runs(workspace: Workspace, *, limit: int) -> Iterator[RenderableType]:
    with Store.open(workspace.database) as store:
        runs = store.recent_runs(limit)
        last_ok = store.get_meta("last_fetch_ok")
        categories = store.category_state()
    yield _runs_table(runs)
    yield f"Last successful fetch: {last_ok or 'never'}"
    if categories:
        table = Table("Category", "Last complete announcement", title="Listings")
        for code in sorted(categories):
            table.add_row(code, categories[code].isoformat())
        yield table


def _runs_table(runs: list[RunRecord]) -> Table:
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
            run.status,
            _per_topic(run.stats.get("fetch")),
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
    return "\n".join(lines) or "-"
