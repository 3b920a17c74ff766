"""Send each email and chat destination the topic papers it has not received yet.

Deliveries are recorded only after a destination accepted the message, so a failed send is
retried with the same papers next run; a paper is never announced twice to one destination.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from arxiv_radar.config import ChatConfig, EmailConfig, Workspace
from arxiv_radar.errors import ArxivRadarError, StageError, UserError
from arxiv_radar.http import HttpSettings, PoliteClient
from arxiv_radar.match import Topic
from arxiv_radar.paper import Entry
from arxiv_radar.publish.chat import ChatSettings, make_notifier
from arxiv_radar.publish.email import EmailSettings, send_digest
from arxiv_radar.rank import ranked_order
from arxiv_radar.rank.ordering import scored_entries
from arxiv_radar.store import Store

__all__ = ["NOTIFY_WINDOW", "check_secrets", "notify_all"]

log = logging.getLogger(__name__)

# A destination added today gets this week's papers, not the whole history.
NOTIFY_WINDOW = timedelta(days=7)


def notify_all(
    workspace: Workspace, store: Store, topics: Sequence[Topic], *, now: datetime
) -> dict[str, Any]:
    """Send every destination; raise StageError naming those that failed (after trying all)."""
    config = workspace.config
    day = now.astimezone(ZoneInfo(config.timezone)).date()
    stats: dict[str, Any] = {}
    failures: list[str] = []
    destinations: list[tuple[str, EmailConfig | ChatConfig]] = []
    if config.email is not None:
        destinations.append(("email", config.email))
    destinations += [(f"chat:{c.service}:{c.webhook_env}", c) for c in config.chat]
    for channel, destination in destinations:
        pending = store.undelivered(channel, since=now - NOTIFY_WINDOW)
        sections = _ranked(workspace, store, _sections(topics, pending))
        try:
            sent = _send(destination, sections, day, workspace.site_url)
        except ArxivRadarError as err:
            failures.append(f"{channel}: {err}")
            continue
        if sent:
            store.mark_delivered(channel, [e.paper.arxiv_id for e in pending], at=now)
        stats[channel] = {"papers": len(pending) if sent else 0, "sent": sent}
    if failures:
        raise StageError("; ".join(failures), fix="the papers will be sent with the next run")
    return stats


def check_secrets(workspace: Workspace, env: Mapping[str, str] | None = None) -> None:
    """Fail before any work when a destination's secret variable is unset (a user error)."""
    env = os.environ if env is None else env
    config = workspace.config
    needed: list[tuple[str, str]] = []
    if config.email is not None and config.email.password_env:
        needed.append(("email.password_env", config.email.password_env))
    for index, chat in enumerate(config.chat):
        needed.append((f"chat[{index}].webhook_env", chat.webhook_env))
        if chat.secret_env:
            needed.append((f"chat[{index}].secret_env", chat.secret_env))
    missing = [f"{key} names {name}, which is not set" for key, name in needed if not env.get(name)]
    if missing:
        names = ", ".join(name for key, name in needed if not env.get(name))
        raise UserError("; ".join(missing), fix=f"set {names} (a repository secret on GitHub)")


def _sections(topics: Sequence[Topic], entries: Sequence[Entry]) -> dict[str, list[Entry]]:
    """Topic name -> its entries, in config order; a paper in two topics appears in both."""
    return {t.name: [e for e in entries if t.name in e.topics] for t in topics}


def _ranked(
    workspace: Workspace, store: Store, sections: dict[str, list[Entry]]
) -> dict[str, list[Entry]]:
    """Entries with their topic's score and reason; ranked topics best first within each day."""
    config, zone = workspace.config, ZoneInfo(workspace.config.timezone)
    return {
        topic: scored_entries(
            store, topic, entries, by_relevance=ranked_order(config, topic), zone=zone
        )
        for topic, entries in sections.items()
    }


def _send(
    destination: EmailConfig | ChatConfig,
    sections: dict[str, list[Entry]],
    day: date,
    site_url: str,
) -> bool:
    if isinstance(destination, EmailConfig):
        settings = EmailSettings(
            host=destination.host,
            sender=destination.sender,
            recipients=tuple(destination.recipients),
            port=destination.port,
            security=destination.security,
            username=destination.username,
            password_env=destination.password_env,
            subject_prefix=destination.subject_prefix,
            send_empty=destination.send_empty,
        )
        return send_digest(settings, sections=sections, day=day, site_url=site_url)
    chat = ChatSettings(
        service=destination.service,
        webhook_env=destination.webhook_env,
        secret_env=destination.secret_env,
        send_empty=destination.send_empty,
    )
    # The webhook's own client (its retries never mix with arXiv's), closed after the send.
    http = HttpSettings(request_interval=chat.request_interval, timeout=chat.timeout)
    with PoliteClient(http) as client:
        return make_notifier(chat, client=client).send(sections, day, site_url) > 0
