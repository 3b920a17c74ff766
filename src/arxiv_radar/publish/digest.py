"""Publish every output from the store alone: Markdown digest, static site, feeds and exports.

Each writer writes atomically and only what changed, so a run with nothing new changes nothing and
a crash mid-publish never leaves a half-written page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from arxiv_radar.config import Workspace
from arxiv_radar.match import Topic
from arxiv_radar.publish.feeds import Content, FeedSettings, StoreExports
from arxiv_radar.publish.incremental import Calendar, Fingerprints, MonthEntries
from arxiv_radar.publish.markdown import MarkdownSettings, StoreMarkdown
from arxiv_radar.publish.site import SiteSettings, StoreSite, write_site
from arxiv_radar.rank import ranked_order
from arxiv_radar.store import Store

__all__ = ["markdown_settings", "publish_all", "status_line"]

log = logging.getLogger(__name__)


def markdown_settings(workspace: Workspace) -> MarkdownSettings:
    config = workspace.config
    return MarkdownSettings(
        repository=config.repository,
        columns=tuple(config.output.columns),
        readme_rows=config.output.readme_rows,
        abstract_chars=config.output.abstract_chars,
        timezone=config.timezone,
        readme_path=config.output.readme,
        docs_dir=config.output.docs_dir,
        untranslated_marker="(EN)" if config.translation.provider != "none" else "",
        relevance_topics=tuple(t.name for t in config.topics if ranked_order(config, t.name)),
        top_picks=config.rank.top_picks,
    )


def publish_all(workspace: Workspace, store: Store, topics: list[Topic]) -> list[Path]:
    """Write every enabled output under the workspace root; return the files that changed.

    Months are visited once, newest first, and each month's entries are read at most once and
    shared by every renderer with a stale page of it. Pages whose papers did not change since
    they were rendered are skipped (see :mod:`arxiv_radar.publish.incremental`); their
    fingerprints are saved only once every file is written, so an interrupted publish renders
    them again next time.
    """
    config = workspace.config
    names = [topic.name for topic in topics]
    status = status_line(store, config.timezone)
    fingerprints = Fingerprints(store)
    calendar = Calendar.build(store, ZoneInfo(config.timezone), tuple(names))
    docs = workspace.resolve(config.output.docs_dir)
    markdown = StoreMarkdown(
        store,
        markdown_settings(workspace),
        topics=names,
        root=workspace.root,
        calendar=calendar,
        fingerprints=fingerprints,
    )
    site = _site(workspace, store, names, calendar, fingerprints) if config.site.enabled else None
    exports = (
        _exports(workspace, store, names, calendar, fingerprints) if config.feeds.enabled else None
    )
    written: list[Path] = []

    def generated() -> Iterator[tuple[str, Content]]:
        if exports is not None:
            yield from exports.opening()
        for month in calendar.months:
            entries = MonthEntries(store, month)
            written.extend(markdown.month(entries))
            if site is not None:
                yield from site.month(entries)
            if exports is not None:
                yield from exports.month(entries)
        if site is not None:
            yield from site.closing(_last_fetch_day(store, config.timezone), status)
        if exports is not None:
            yield from exports.closing()

    # One write_site call for everything generated into docs/: its manifest removes files a
    # previous run produced and this one does not (a renamed topic), and nothing else.
    written += write_site(generated(), docs)
    written += markdown.closing(status)
    fingerprints.save()
    return sorted(set(written))


def _site(
    workspace: Workspace,
    store: Store,
    names: list[str],
    calendar: Calendar,
    fingerprints: Fingerprints,
) -> StoreSite:
    config = workspace.config
    settings = SiteSettings(
        title=config.site.title, repository=config.repository, timezone=config.timezone
    )
    return StoreSite(
        store=store,
        settings=settings,
        topics=names,
        calendar=calendar,
        fingerprints=fingerprints,
        out_dir=workspace.resolve(config.output.docs_dir),
    )


def _exports(
    workspace: Workspace,
    store: Store,
    names: list[str],
    calendar: Calendar,
    fingerprints: Fingerprints,
) -> StoreExports:
    config = workspace.config
    settings = FeedSettings(
        title=config.site.title,
        site_url=workspace.site_url,
        repository=config.repository,
        max_items=config.feeds.max_items,
    )
    return StoreExports(
        store=store,
        settings=settings,
        topics=names,
        calendar=calendar,
        fingerprints=fingerprints,
        out_dir=workspace.resolve(config.output.docs_dir),
    )


def _last_fetch(store: Store) -> datetime | None:
    raw = store.get_meta("last_fetch_ok")
    return datetime.fromisoformat(raw) if raw else None


def _last_fetch_day(store: Store, zone: str) -> date | None:
    moment = _last_fetch(store)
    return moment.astimezone(ZoneInfo(zone)).date() if moment else None


def status_line(store: Store, zone: str) -> str:
    """One honest sentence on the last fetch: what arXiv announced, nothing, or what failed."""
    raw = store.get_meta("last_fetch_attempt")
    if not raw:
        return ""
    attempt = json.loads(raw)
    if not attempt.get("ok"):
        when = datetime.fromisoformat(attempt["at"]).astimezone(ZoneInfo(zone))
        return (
            f"⚠️ The last fetch ({when:%Y-%m-%d %H:%M %Z}) failed: {attempt.get('error', '')} "
            "The papers below are from the last successful fetch."
        )
    announced = attempt.get("announced")
    if not attempt.get("listed"):
        day = f" for {announced}" if announced else ""
        return f"arXiv made no announcement{day} in the watched categories (weekend or holiday)."
    return (
        f"Latest arXiv announcement: {announced}, "
        f"{attempt['listed']} new papers in the watched categories."
    )
