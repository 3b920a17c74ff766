"""Publish every output from the store alone: Markdown digest, static site, feeds and exports.

Each writer writes atomically and only what changed, so a run with nothing new changes nothing and
a crash mid-publish never leaves a half-written page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from zoneinfo import ZoneInfo

from arxiv_radar.config import Workspace
from arxiv_radar.match import Topic
from arxiv_radar.publish.feeds import FeedSettings, feed_files
from arxiv_radar.publish.markdown import MarkdownSettings, publish_markdown
from arxiv_radar.publish.site import SiteSettings, iter_site, write_site
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
    )


def publish_all(workspace: Workspace, store: Store, topics: list[Topic]) -> list[Path]:
    """Write every enabled output under the workspace root; return the files that changed."""
    config = workspace.config
    names = [topic.name for topic in topics]
    status = status_line(store, config.timezone)
    written = publish_markdown(
        store, markdown_settings(workspace), topics=names, root=workspace.root, status_line=status
    )
    generated: list[Iterable[tuple[str, str]]] = []
    if config.site.enabled:
        generated.append(_site_pages(workspace, store, names, status))
    if config.feeds.enabled:
        generated.append(_feed_files(workspace, store, names).items())
    # One write_site call for everything generated into docs/: its manifest removes files a
    # previous run produced and this one does not (a renamed topic), and nothing else.
    written += write_site(chain.from_iterable(generated), workspace.resolve(config.output.docs_dir))
    return sorted(set(written))


def _site_pages(
    workspace: Workspace, store: Store, names: list[str], status: str
) -> Iterator[tuple[str, str]]:
    config = workspace.config
    settings = SiteSettings(
        title=config.site.title, repository=config.repository, timezone=config.timezone
    )
    return iter_site(
        settings=settings,
        topics=names,
        entries=store.iter_entries(),
        updated_on=_last_fetch_day(store, config.timezone),
        status_line=status,
    )


def _feed_files(workspace: Workspace, store: Store, names: list[str]) -> dict[str, str]:
    config = workspace.config
    settings = FeedSettings(
        title=config.site.title,
        site_url=workspace.site_url,
        repository=config.repository,
        max_items=config.feeds.max_items,
    )
    return feed_files(
        settings=settings,
        topics=names,
        per_topic={name: store.topic_entries(name, limit=config.feeds.max_items) for name in names},
        all_entries=list(store.iter_entries()),
        updated=None,  # dated by their newest entry, so a run with nothing new changes no byte
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
