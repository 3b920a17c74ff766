"""Send each email and chat destination the topic papers announced since it was added.

A destination added today gets today's announcement, not the store's history: each one's first
appearance is recorded, and only papers first stored since then (and first published not long
before, so a backfill of 2004 is no news) are sent, unless ``backlog_days`` opts into older
ones. Before each message, an intent naming its papers is committed; the papers count as
delivered once the service accepted it. A send that may have arrived without an answer (a timeout
after sending) is not retried in the same run; the next run sends it again, as it does after a
crash between the service accepting and the delivery being recorded: at most one duplicate.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from arxiv_radar.config import ChatConfig, EmailConfig, Workspace
from arxiv_radar.errors import ArxivRadarError, StageError, UserError
from arxiv_radar.http import DeliveryUncertain, PoliteClient
from arxiv_radar.http_budget import HttpSettings
from arxiv_radar.match import Topic
from arxiv_radar.paper import Entry
from arxiv_radar.publish.chat import ChatSettings, Message, Notifier, make_notifier
from arxiv_radar.publish.email import EmailSettings, count_papers, send_digest
from arxiv_radar.rank import ranked_order
from arxiv_radar.rank.ordering import scored_entries
from arxiv_radar.store import Store

__all__ = ["NEWS_LAG", "check_secrets", "notify_all"]

log = logging.getLogger(__name__)

# A paper first published this long before a destination's start is history, not news (the
# announcement of a paper comes a few days after its submission, weeks when held in moderation).
NEWS_LAG = timedelta(days=14)

Destination = EmailConfig | ChatConfig


@dataclass
class _Delivery:
    """One destination's run: what to send, and what the store says happened before."""

    pending: list[Entry]
    resent: int  # papers of an earlier message that may have arrived, sent again
    through: datetime | None  # the newest topic membership when pending was read


def notify_all(
    workspace: Workspace, store: Store, topics: Sequence[Topic], *, now: datetime
) -> dict[str, Any]:
    """Send every destination; raise StageError naming those that failed (after trying all)."""
    config = workspace.config
    day = now.astimezone(ZoneInfo(config.timezone)).date()
    stats: dict[str, Any] = {}
    failures: list[str] = []
    destinations: list[tuple[str, Destination]] = []
    if config.email is not None:
        destinations.append(("email", config.email))
    destinations += [(f"chat:{c.service}:{c.webhook_env}", c) for c in config.chat]
    for channel, destination in destinations:
        delivery = _prepare(store, channel, destination, now)
        try:
            with _sender(
                destination, timeout=config.http.timeout, top_picks=config.rank.top_picks
            ) as sender:
                sections = _ranked(workspace, store, _sections(topics, delivery.pending))
                messages = sender.messages(sections, day, workspace.site_url)
                papers = _deliver(store, channel, sender, messages, now)
        except ArxivRadarError as err:
            failures.append(f"{channel}: {err}")
            continue
        if delivery.through is not None:  # every message was accepted: nothing older is due
            store.advance_delivered(channel, delivery.through)
        stats[channel] = {"papers": papers, "sent": bool(messages)}
        if delivery.resent:
            stats[channel]["resent"] = delivery.resent
    if failures:
        raise StageError("; ".join(failures), fix="the papers will be sent with the next run")
    return stats


def _prepare(store: Store, channel: str, destination: Destination, now: datetime) -> _Delivery:
    """The papers announced since the destination was added (minus its opt-in backlog) that it
    has not received; intents left by an earlier run are superseded by this run's."""
    since = store.destination_added(channel, at=now) - timedelta(days=destination.backlog_days)
    through = store.latest_match()
    pending = store.undelivered(channel, since=since, published_since=since - NEWS_LAG)
    resent = 0
    for intent, ids, created in store.open_intents(channel):
        log.warning(
            "%s: a message of %s may have arrived without being recorded; its %d paper(s) are "
            "sent again (at most one duplicate)",
            channel,
            created.isoformat(),
            len(ids),
        )
        resent += len(ids)
        store.drop_intent(intent)
    return _Delivery(pending, resent, through)


def _deliver(
    store: Store,
    channel: str,
    sender: _EmailSender | Notifier,
    messages: Sequence[Message],
    now: datetime,
) -> int:
    """Send message by message, each behind a committed intent; returns the papers delivered."""
    delivered = 0
    for number, message in enumerate(messages, start=1):
        intent = store.record_intent(channel, message.arxiv_ids, at=now)
        try:
            sender.post(message, number, len(messages))
        except DeliveryUncertain:
            raise  # the intent stays: the next run sends these papers again
        except BaseException:
            store.drop_intent(intent)  # refused: nothing arrived
            raise
        store.confirm_intent(intent, at=now)
        delivered += len(message.arxiv_ids)
    return delivered


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


class _EmailSender:
    """The email digest as one message, so it follows the same intent protocol as chat."""

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self._digest: tuple[Mapping[str, Sequence[Entry]], date, str] = ({}, date.min, "")

    def messages(
        self, sections: Mapping[str, Sequence[Entry]], day: date, site_url: str = ""
    ) -> list[Message]:
        if count_papers(sections) == 0 and not self.settings.send_empty:
            log.info("email: no new papers for %s, nothing to send", day.isoformat())
            return []
        self._digest = (sections, day, site_url)
        ids = tuple(dict.fromkeys(e.paper.arxiv_id for es in sections.values() for e in es))
        return [Message({}, ids)]

    def post(self, message: Message, number: int, total: int) -> None:
        sections, day, site_url = self._digest
        send_digest(self.settings, sections=sections, day=day, site_url=site_url)


@contextmanager
def _sender(
    destination: Destination, *, timeout: float, top_picks: int
) -> Iterator[_EmailSender | Notifier]:
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
            top_picks=top_picks,
        )
        yield _EmailSender(settings)
        return
    chat = ChatSettings(
        service=destination.service,
        webhook_env=destination.webhook_env,
        secret_env=destination.secret_env,
        send_empty=destination.send_empty,
        timeout=timeout,
    )
    # Closed here whatever the send raises: a notifier does not own its client's socket.
    http = HttpSettings(request_interval=chat.request_interval, timeout=chat.timeout)
    with PoliteClient(http) as client:
        yield make_notifier(chat, client=client)
