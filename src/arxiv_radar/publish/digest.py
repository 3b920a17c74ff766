"""Publish every output from the store alone: Markdown digest, static site, feeds and exports.

Each writer writes atomically and only what changed, so a run with nothing new changes nothing and
a crash mid-publish never leaves a half-written page.
"""

from __future__ import annotations

import json
import logging
import posixpath
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from arxiv_radar.config import Workspace
from arxiv_radar.errors import UserError
from arxiv_radar.listings import latest_announcement
from arxiv_radar.match import Topic
from arxiv_radar.names import DEFAULT_CONFIG_NAME
from arxiv_radar.publish.feeds import Content, FeedSettings, StoreExports
from arxiv_radar.publish.files import synced_once
from arxiv_radar.publish.incremental import Calendar, Fingerprints, MonthEntries, NewestInTopics
from arxiv_radar.publish.markdown import MarkdownSettings, StoreMarkdown, foreign_page
from arxiv_radar.publish.site import TOPIC_PAGE_LIMIT, SiteSettings, StoreSite, write_site
from arxiv_radar.rank import ranked_order
from arxiv_radar.store import Store

__all__ = [
    "check_pages_are_ours",
    "markdown_settings",
    "publish_all",
    "status_line",
    "updated_on",
]

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
        # With the HTML site on, the archive months go beside the README (markdown's docstring).
        archive_dir=(
            posixpath.join(posixpath.dirname(config.output.readme), "archive")
            if config.site.enabled
            else ""
        ),
        untranslated_marker="(EN)" if config.translation.provider != "none" else "",
        relevance_topics=tuple(t.name for t in config.topics if ranked_order(config, t.name)),
        top_picks=config.rank.top_picks,
    )


def check_pages_are_ours(workspace: Workspace) -> None:
    """Refuse, before any request, to overwrite a README or docs/index.md arxiv-radar did not
    write: run in a project's own folder, publishing would replace the project's README.

    A README the config names explicitly (``output.readme``) is the user's choice to replace.
    """
    output = workspace.config.output
    config = workspace.path.name if workspace.path is not None else DEFAULT_CONFIG_NAME
    readme = workspace.resolve(output.readme)
    named = workspace.path is not None and "readme" in output.model_fields_set
    if not named and foreign_page(readme):
        raise UserError(
            f"{readme} exists and arxiv-radar did not write it, so it is left alone: to publish "
            f"the digest elsewhere, set `output.readme: DIGEST.md` in {config} (naming "
            f"`output.readme: {output.readme}` there lets arxiv-radar replace it)"
        )
    pages = workspace.resolve(output.docs_dir) / "index.md"
    if foreign_page(pages):
        raise UserError(
            f"{pages} exists and arxiv-radar did not write it, so it is left alone: to publish "
            f"the pages elsewhere, set `output.docs_dir: digest` in {config}"
        )


def publish_all(workspace: Workspace, store: Store, topics: list[Topic]) -> list[Path]:
    """Write every enabled output under the workspace root; return the files that changed.

    Months are visited once, newest first, and each month's entries are read at most once and
    shared by every renderer with a stale page of it. Pages whose papers did not change since
    they were rendered are skipped (see :mod:`arxiv_radar.publish.incremental`); their
    fingerprints are saved only once every file is written and synced (once, see
    :func:`~arxiv_radar.publish.files.synced_once`), so an interrupted publish renders them again.
    """
    config = workspace.config
    names = [topic.name for topic in topics]
    status = status_line(store, config.timezone)
    day = updated_on(store)
    fingerprints = Fingerprints(store, _travelling_root(workspace))
    calendar = Calendar.build(store, ZoneInfo(config.timezone), tuple(names))
    depth = max(TOPIC_PAGE_LIMIT, config.feeds.max_items, config.output.readme_rows)
    newest = NewestInTopics(store, depth)
    docs = workspace.resolve(config.output.docs_dir)
    markdown = StoreMarkdown(
        store,
        markdown_settings(workspace),
        topics=names,
        root=workspace.root,
        calendar=calendar,
        fingerprints=fingerprints,
        newest=newest,
    )
    site = (
        _site(workspace, store, names, (calendar, newest), fingerprints)
        if config.site.enabled
        else None
    )
    # The site's search, day pages and star badges read the day JSON files and stars.json, so
    # those are written whenever the site is, feeds or not.
    wanted = config.feeds.enabled or config.site.enabled
    exports = (
        _exports(workspace, store, names, (calendar, newest), fingerprints) if wanted else None
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
            yield from site.closing(day, status)
        if exports is not None:
            yield from exports.closing()

    # One write_site call for everything generated into docs/: its manifest removes files a
    # previous run produced and this one does not (a renamed topic), and nothing else.
    with synced_once():  # one sync for every page, before the fingerprints record them
        written += write_site(generated(), docs)
        written += markdown.closing(status, day)
    fingerprints.save()
    calendar.save()
    return sorted(set(written))


def _travelling_root(workspace: Workspace) -> Path | None:
    """The workspace root when the database lies inside it, so both move together (a renamed
    repository's checkout, a copy): then fingerprints are recorded relative to it. A database
    shared from elsewhere may serve other folders too, so their paths stay absolute there."""
    root = workspace.root.resolve()
    return root if workspace.database.resolve().is_relative_to(root) else None


def _site(
    workspace: Workspace,
    store: Store,
    names: list[str],
    publish: tuple[Calendar, NewestInTopics],
    fingerprints: Fingerprints,
) -> StoreSite:
    config = workspace.config
    settings = SiteSettings(
        title=config.site.title,
        repository=config.repository,
        timezone=config.timezone,
        feeds=config.feeds.enabled,
        relevance_topics=tuple(t.name for t in config.topics if ranked_order(config, t.name)),
        csv=config.feeds.enabled and config.feeds.csv,
    )
    calendar, newest = publish
    return StoreSite(
        store=store,
        settings=settings,
        topics=names,
        calendar=calendar,
        newest=newest,
        fingerprints=fingerprints,
        out_dir=workspace.resolve(config.output.docs_dir),
    )


def _exports(
    workspace: Workspace,
    store: Store,
    names: list[str],
    publish: tuple[Calendar, NewestInTopics],
    fingerprints: Fingerprints,
) -> StoreExports:
    config = workspace.config
    settings = FeedSettings(
        title=config.site.title,
        site_url=workspace.site_url,
        repository=config.repository,
        max_items=config.feeds.max_items,
        csv=config.feeds.csv,
    )
    calendar, newest = publish
    return StoreExports(
        store=store,
        settings=settings,
        topics=names,
        calendar=calendar,
        newest=newest,
        fingerprints=fingerprints,
        out_dir=workspace.resolve(config.output.docs_dir),
        feeds=config.feeds.enabled,
    )


def updated_on(store: Store) -> date | None:
    """The day pages say they were updated: arXiv's newest announcement ingested, not the time
    of the last fetch, so a run that brings nothing new (weekends) changes no byte."""
    announcement = latest_announcement(store)
    return announcement.day if announcement else None


def status_line(store: Store, zone: str) -> str:
    """One honest sentence: the last fetch failed (news), else arXiv's latest announcement.

    Derived from the announcement, not from today's fetch: a weekend or a second run the same
    day reads the same sentence, so the pages stay byte-identical.
    """
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
    announcement = latest_announcement(store)
    if announcement is None:
        return "arXiv has made no announcement in the watched categories yet (weekend or holiday)."
    return (
        f"Latest arXiv announcement: {announcement.day.isoformat()}, "
        f"{announcement.listed} new papers in the watched categories."
    )
