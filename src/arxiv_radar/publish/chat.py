"""Chat notifications: the day's papers posted to Slack, Discord, Feishu/Lark or any JSON webhook.

Every service is a :class:`Notifier` registered by its config name in :data:`NOTIFIERS`. Long
digests are split on paper boundaries so each message stays under the service's limit, and a
paper is never cut in half (only an absurdly long title is shortened with "…"). A ranked paper
carries one more line, its reason and score (``why: … (score 0.71)``). Limits used:

- Slack: the API truncates ``text`` past 40,000 characters, but Slack advises staying under
  4,000 for readability; we keep each message under 3,000 (UTF-16 units, as Slack counts).
- Discord: ``content`` is at most 2,000 characters (counted in UTF-16 units to be safe).
- Feishu/Lark: a request body may be about 30 KB; we keep the JSON of a message's content
  under 20,000 bytes (measured ASCII-escaped, the worst case), leaving room for the envelope.
- generic: one POST with the whole structured digest, never split.

Webhook URLs are credentials (whoever has one can post to the channel), so settings hold only the
NAME of the environment variable, and every error and log line shows a label such as
"slack webhook (SLACK_WEBHOOK_URL)" instead of the URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from arxiv_radar import secrets
from arxiv_radar.errors import ConfigError, FetchError, StageError, UserError
from arxiv_radar.http import DeliveryUncertain, HttpStatusError, PoliteClient
from arxiv_radar.http_budget import HttpSettings
from arxiv_radar.paper import Entry
from arxiv_radar.publish.cells import safe_code_url, safe_url

__all__ = [
    "NOTIFIERS",
    "ChatSettings",
    "DiscordNotifier",
    "FeishuNotifier",
    "GenericNotifier",
    "Message",
    "Notifier",
    "SlackNotifier",
    "digest_payload",
    "feishu_sign",
    "make_notifier",
]

log = logging.getLogger(__name__)

Sections = Mapping[str, Sequence[Entry]]
_MIN_LIMIT = 1000
_MAX_AUTHORS = 3
_ELLIPSIS = "…"


@dataclass(frozen=True, kw_only=True)
class ChatSettings:
    """One chat destination. ``webhook_env`` / ``secret_env`` name environment variables; the
    values themselves are read only when the notifier is made."""

    service: str
    webhook_env: str
    secret_env: str = ""  # Feishu/Lark "signature verification" secret, optional
    max_chars: int = 0  # 0 = the service's own limit (see the module docstring)
    send_empty: bool = False
    request_interval: float = 1.0  # Slack allows about one message per second per webhook
    timeout: float = 30.0


@dataclass(frozen=True)
class Message:
    """One POST of a digest and the papers it carries (a delivery is recorded per message)."""

    payload: dict[str, Any]
    arxiv_ids: tuple[str, ...]


class Notifier(Protocol):
    """Posts a digest; returns how many messages were sent (0 when there was nothing to say)."""

    def send(self, sections: Sections, day: date, site_url: str = "") -> int: ...

    def messages(self, sections: Sections, day: date, site_url: str = "") -> list[Message]:
        """What :meth:`send` would post, in order; [] when there is nothing to say."""
        ...

    def post(self, message: Message, number: int, total: int) -> None:
        """Post one message; :class:`~arxiv_radar.http.DeliveryUncertain` when it may have
        arrived without an answer (it is then not retried)."""
        ...


# --- shared helpers -----------------------------------------------------------------------------


def _count(sections: Sections) -> int:
    return len({e.paper.arxiv_id for entries in sections.values() for e in entries})


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _authors(names: Sequence[str]) -> str:
    shown = ", ".join(_oneline(n) for n in names[:_MAX_AUTHORS])
    return f"{shown} et al." if len(names) > _MAX_AUTHORS else shown


def _web(url: str | None) -> str:
    """Only http(s) links are posted: an enricher bug must not turn into a javascript: link."""
    return url if url and urlsplit(url).scheme in ("http", "https") else ""


def _utf16(text: str) -> int:
    """Length as JavaScript counts it (astral characters count twice), the safe side."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class _Parts:
    """The cuttable text of one paper; formats turn it into their own markup."""

    title: str
    authors: str
    tldr: str
    why: str  # "reason (score 0.71)" for a ranked paper, "" otherwise
    abs_url: str
    pdf_url: str
    code_url: str
    stars: int | None

    @classmethod
    def of(cls, entry: Entry) -> _Parts:
        paper = entry.paper
        return cls(
            title=_oneline(paper.title),
            authors=_authors(paper.authors),
            tldr=_oneline(entry.tldr or ""),
            why=_why(entry),
            abs_url=paper.abs_url,
            pdf_url=paper.pdf_url,
            code_url=_web(entry.code_url),
            stars=entry.stars,
        )


def _why(entry: Entry) -> str:
    """The reason of a ranked paper with its score; unranked papers have none."""
    if not entry.why:
        return ""
    score = f" (score {entry.score:.2f})" if entry.score is not None else ""
    return f"{_oneline(entry.why)}{score}"


P = TypeVar("P")


class _Format(Protocol[P]):
    """How one service renders pieces of a message and measures them."""

    limit: int

    def size(self, piece: P) -> int: ...
    def header(self, day: date, papers: int, site_url: str, part: int, parts: int) -> P: ...
    def heading(self, topic: str, continued: bool) -> P: ...
    def paper(self, parts: _Parts) -> P: ...


def _fit(fmt: _Format[P], entry: Entry, room: int) -> P:
    """Render a paper within ``room``: shorten the title first, then drop the TL;DR, then the
    authors, then the reason. Links always survive, so the reader can still open the paper."""
    full = _Parts.of(entry)
    bare = replace(full, tldr="", authors="")
    for parts in (full, replace(full, tldr=""), bare, replace(bare, why="")):
        piece = _shrink_title(fmt, parts, room)
        if piece is not None:
            return piece
    raise StageError(f"chat: paper {entry.paper.arxiv_id} cannot fit in {room} characters")


def _shrink_title(fmt: _Format[P], parts: _Parts, room: int) -> P | None:
    piece = fmt.paper(parts)
    keep = len(parts.title)
    while fmt.size(piece) > room:
        if keep == 0:
            return None
        keep = max(0, keep - max(1, fmt.size(piece) - room))
        piece = fmt.paper(replace(parts, title=parts.title[:keep].rstrip() + _ELLIPSIS))
    return piece


@dataclass
class _Packer(Generic[P]):
    """Greedy packing of papers into messages, repeating the topic heading ("cont.") when a
    topic spills into the next message so every message reads on its own."""

    fmt: _Format[P]
    budget: int
    messages: list[list[P]]
    ids: list[list[str]] = field(default_factory=lambda: [[]])
    used: int = 0
    topic: str | None = None

    def add(self, topic: str, entry: Entry) -> None:
        fmt = self.fmt
        piece = _fit(fmt, entry, self.budget - fmt.size(fmt.heading(topic, True)))
        new_topic = topic != self.topic
        heading = fmt.heading(topic, False) if new_topic else None
        need = fmt.size(piece) + (fmt.size(heading) if heading is not None else 0)
        if self.messages[-1] and self.used + need > self.budget:
            self.messages.append([])
            self.ids.append([])
            heading = fmt.heading(topic, not new_topic)
            need = fmt.size(piece) + fmt.size(heading)
            self.used = 0
        if heading is not None:
            self.messages[-1].append(heading)
        self.messages[-1].append(piece)
        if entry.paper.arxiv_id not in self.ids[-1]:
            self.ids[-1].append(entry.paper.arxiv_id)
        self.used += need
        self.topic = topic


def _pack(
    fmt: _Format[P], sections: Sections, day: date, site_url: str
) -> list[tuple[list[P], tuple[str, ...]]]:
    """Split the digest into messages (header first), each within ``fmt.limit``, with the ids
    of the papers each one carries."""
    papers = _count(sections)
    widest = fmt.header(day, papers, site_url, 999, 999)
    packer = _Packer(fmt, fmt.limit - fmt.size(widest), [[]])
    for topic, entries in sections.items():
        for entry in entries:
            packer.add(topic, entry)
    total = len(packer.messages)
    return [
        ([fmt.header(day, papers, site_url, i, total), *body], tuple(ids))
        for i, (body, ids) in enumerate(zip(packer.messages, packer.ids, strict=True), start=1)
    ]


def _title_line(day: date, papers: int, part: int, parts: int) -> str:
    noun = "paper" if papers == 1 else "papers"
    label = f" ({part}/{parts})" if parts > 1 else ""
    return f"arXiv digest {day.isoformat()}: {papers} new {noun}{label}"


# --- Slack --------------------------------------------------------------------------------------


def _slack_escape(text: str) -> str:
    """Slack's only control characters; escaping them also neutralises <!channel> pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, label: str) -> str:
    return f"<{url.replace('|', '%7C').replace('>', '%3E')}|{_slack_escape(label)}>"


class _SlackFormat:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def size(self, piece: str) -> int:
        return _utf16(piece) + 1  # the newline that joins it to the next piece

    def header(self, day: date, papers: int, site_url: str, part: int, parts: int) -> str:
        line = f"*{_slack_escape(_title_line(day, papers, part, parts))}*"
        site = _web(site_url)
        return f"{line}\n{_slack_link(site, 'Browse and search')}" if site else line

    def heading(self, topic: str, continued: bool) -> str:
        return f"\n*{_slack_escape(_oneline(topic))}*{' (cont.)' if continued else ''}"

    def paper(self, parts: _Parts) -> str:
        links = [_slack_link(parts.pdf_url, "PDF")]
        if parts.code_url:
            stars = f" ★{parts.stars}" if parts.stars is not None else ""
            links.append(_slack_link(parts.code_url, "Code") + stars)
        details = ([_slack_escape(parts.authors)] if parts.authors else []) + links
        lines = [f"• {_slack_link(parts.abs_url, parts.title)}", "    " + " · ".join(details)]
        if parts.why:
            lines.append(f"    why: {_slack_escape(parts.why)}")
        if parts.tldr:
            lines.append(f"    _{_slack_escape(parts.tldr)}_")
        return "\n".join(lines)


# --- Discord ------------------------------------------------------------------------------------

_DISCORD_SPECIAL = "\\*_~`|>#[]()<@"


def _discord_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in _DISCORD_SPECIAL else c for c in text)


def _discord_link(url: str, label: str) -> str:
    """``<url>`` inside the link stops Discord from unfurling a preview card for every paper."""
    return f"[{_discord_escape(label)}](<{url.replace('>', '%3E')}>)"


class _DiscordFormat:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def size(self, piece: str) -> int:
        return _utf16(piece) + 1

    def header(self, day: date, papers: int, site_url: str, part: int, parts: int) -> str:
        line = f"**{_title_line(day, papers, part, parts)}**"  # our own text, nothing to escape
        site = _web(site_url)
        return f"{line}\n{_discord_link(site, 'Browse and search')}" if site else line

    def heading(self, topic: str, continued: bool) -> str:
        return f"\n**{_discord_escape(_oneline(topic))}**{' (cont.)' if continued else ''}"

    def paper(self, parts: _Parts) -> str:
        links = [_discord_link(parts.pdf_url, "PDF")]
        if parts.code_url:
            stars = f" ★{parts.stars}" if parts.stars is not None else ""
            links.append(_discord_link(parts.code_url, "Code") + stars)
        details = ([_discord_escape(parts.authors)] if parts.authors else []) + links
        lines = [f"• {_discord_link(parts.abs_url, parts.title)}", "  " + " · ".join(details)]
        if parts.why:
            lines.append(f"  why: {_discord_escape(parts.why)}")
        if parts.tldr:
            lines.append(f"  *{_discord_escape(parts.tldr)}*")
        return "\n".join(lines)


# --- Feishu / Lark ------------------------------------------------------------------------------

Paragraphs = list[list[dict[str, str]]]


def _text(text: str) -> dict[str, str]:
    return {"tag": "text", "text": text}


def _link(url: str, label: str) -> dict[str, str]:
    return {"tag": "a", "text": label, "href": url}


class _FeishuFormat:
    """Rich-text ``post`` messages: a piece is a list of paragraphs, measured as escaped JSON."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def size(self, piece: Paragraphs) -> int:
        return len(json.dumps(piece))  # ensure_ascii: the largest any client could send

    def header(self, day: date, papers: int, site_url: str, part: int, parts: int) -> Paragraphs:
        site = _web(site_url)
        title = [[_text(_title_line(day, papers, part, parts))]]
        return [*title, [_link(site, "Browse and search")]] if site else title

    def heading(self, topic: str, continued: bool) -> Paragraphs:
        return [[_text("")], [_text(f"【{_oneline(topic)}】{' (cont.)' if continued else ''}")]]

    def paper(self, parts: _Parts) -> Paragraphs:
        first: list[dict[str, str]] = [_text("• "), _link(parts.abs_url, parts.title)]
        second = [_text(f"  {parts.authors} · " if parts.authors else "  ")]
        second.append(_link(parts.pdf_url, "PDF"))
        if parts.code_url:
            second += [_text(" · "), _link(parts.code_url, "Code")]
            if parts.stars is not None:
                second.append(_text(f" ★{parts.stars}"))
        lines = [first, second]
        if parts.why:
            lines.append([_text(f"  why: {parts.why}")])
        if parts.tldr:
            lines.append([_text(f"  {parts.tldr}")])
        return lines


def feishu_sign(secret: str, timestamp: int) -> str:
    """Feishu/Lark webhook signature: HMAC-SHA256 keyed by "timestamp\\nsecret" over nothing."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


# --- delivery -----------------------------------------------------------------------------------


class _Webhook:
    """Base of every notifier: resolves the secret URL and posts JSON with a redacted identity."""

    service: ClassVar[str] = ""
    accept: ClassVar[str] = "application/json"

    def __init__(self, settings: ChatSettings, client: PoliteClient) -> None:
        self.settings = settings
        self.client = client
        self.label = f"{self.service} webhook ({settings.webhook_env})"
        self.url = _secret_url(settings)
        # Its path segments, query values and every encoding of them read as the label wherever
        # they are echoed: request lines, Location headers, error bodies, the run record.
        secrets.register_url(self.url, label=self.label)
        # PoliteClient replaces a URL's query string with ``params`` (even when empty), so a
        # token in the webhook's query string must travel as params to survive.
        parts = urlsplit(self.url)
        self._base = urlunsplit(parts._replace(query=""))
        self._params = dict(parse_qsl(parts.query, keep_blank_values=True))

    def send(self, sections: Sections, day: date, site_url: str = "") -> int:
        messages = self.messages(sections, day, site_url)
        for number, message in enumerate(messages, start=1):
            self.post(message, number, len(messages))
        if messages:
            log.info("%s: sent %d message(s) for %s", self.label, len(messages), day.isoformat())
        return len(messages)

    def messages(self, sections: Sections, day: date, site_url: str = "") -> list[Message]:
        if _count(sections) == 0 and not self.settings.send_empty:
            log.info("%s: no new papers for %s, nothing to send", self.label, day.isoformat())
            return []
        return self.planned(sections, day, site_url)

    def planned(self, sections: Sections, day: date, site_url: str = "") -> list[Message]:
        """Every message of the digest with its papers (pure: no network)."""
        ids = tuple(dict.fromkeys(e.paper.arxiv_id for es in sections.values() for e in es))
        return [Message(payload, ids) for payload in self.payloads(sections, day, site_url)]

    def payloads(self, sections: Sections, day: date, site_url: str = "") -> list[dict[str, Any]]:
        """The JSON bodies to post, in order (pure: no network, handy for previews and tests)."""
        raise NotImplementedError

    def post(self, message: Message, number: int, total: int) -> None:
        self._post(message.payload, number, total)

    def check(self, response: httpx.Response) -> None:
        """Services that answer 200 with an error body override this to raise StageError."""

    def _post(self, payload: dict[str, Any], number: int, total: int) -> None:
        where = f"{self.label}: message {number}/{total}"
        try:
            response = self.client.post(
                self._base, params=self._params, json=payload, accept=self.accept, once=True
            )
        except DeliveryUncertain as exc:
            raise DeliveryUncertain(
                f"{where}: {exc.message}", url=self.label, fix=exc.fix
            ) from None
        except HttpStatusError as exc:
            body = secrets.scrub(exc.body.decode("utf-8", "replace"))[:200]
            raise FetchError(
                f"{where} refused: HTTP {exc.status_code} {body}".rstrip(),
                url=self.label,
                fix=f"check that {self.settings.webhook_env} holds a live webhook URL",
            ) from None
        except FetchError as exc:
            raise FetchError(
                f"{where} not delivered: {exc.message}",
                url=self.label,
                fix="the chat service may be down or rate-limiting; try again later",
            ) from None
        self.check(response)


def _secret_url(settings: ChatSettings) -> str:
    name = settings.webhook_env
    url = os.environ.get(name, "").strip() if name else ""
    if not url:
        raise UserError(
            f"chat ({settings.service}): environment variable {name or '(none)'} is not set",
            fix=f"set {name or 'the variable named by webhook_env'} to the webhook URL "
            "(on GitHub Actions: a repository secret passed through env:)",
        )
    if urlsplit(url).scheme not in ("http", "https"):
        raise UserError(
            f"chat ({settings.service}): {name} does not hold an http(s) URL",
            fix=f"copy the full webhook URL from the {settings.service} settings into {name}",
        )
    return url


class _SplitWebhook(_Webhook, Generic[P]):
    default_limit: ClassVar[int] = 0

    def format(self, limit: int) -> _Format[P]:
        raise NotImplementedError

    def envelope(self, pieces: list[P]) -> dict[str, Any]:
        raise NotImplementedError

    def payloads(self, sections: Sections, day: date, site_url: str = "") -> list[dict[str, Any]]:
        return [message.payload for message in self.planned(sections, day, site_url)]

    def planned(self, sections: Sections, day: date, site_url: str = "") -> list[Message]:
        limit = self.settings.max_chars or self.default_limit
        if limit < _MIN_LIMIT:
            raise ConfigError(
                f"chat.max_chars: {limit} is too small for {self.service}",
                fix=f"use at least {_MIN_LIMIT}, or 0 for the service default",
            )
        limit = min(limit, self.default_limit)
        packed = _pack(self.format(limit), sections, day, site_url)
        return [Message(self.envelope(pieces), ids) for pieces, ids in packed]


class SlackNotifier(_SplitWebhook[str]):
    """Slack incoming webhook: ``{"text": ...}`` in mrkdwn, links as ``<url|title>``."""

    service = "slack"
    accept = "text/plain, application/json;q=0.9"
    default_limit = 3000

    def format(self, limit: int) -> _Format[str]:
        return _SlackFormat(limit)

    def envelope(self, pieces: list[str]) -> dict[str, Any]:
        return {"text": "\n".join(pieces), "unfurl_links": False, "unfurl_media": False}


class DiscordNotifier(_SplitWebhook[str]):
    """Discord webhook: ``{"content": ...}``; mentions disabled so a title cannot ping anyone."""

    service = "discord"
    default_limit = 2000

    def format(self, limit: int) -> _Format[str]:
        return _DiscordFormat(limit)

    def envelope(self, pieces: list[str]) -> dict[str, Any]:
        return {"content": "\n".join(pieces), "allowed_mentions": {"parse": []}}


class FeishuNotifier(_SplitWebhook[Paragraphs]):
    """Feishu/Lark custom bot: rich-text ``post`` messages, optionally signed."""

    service = "feishu"
    default_limit = 20000

    def format(self, limit: int) -> _Format[Paragraphs]:
        return _FeishuFormat(limit)

    def envelope(self, pieces: list[Paragraphs]) -> dict[str, Any]:
        title, *rest = pieces
        content = [p for piece in [title[1:], *rest] for p in piece]
        post = {"en_us": {"title": title[0][0]["text"], "content": content}}
        payload: dict[str, Any] = {"msg_type": "post", "content": {"post": post}}
        secret = os.environ.get(self.settings.secret_env, "") if self.settings.secret_env else ""
        secrets.register(secret)
        if self.settings.secret_env and not secret:
            raise UserError(
                f"chat (feishu): environment variable {self.settings.secret_env} is not set",
                fix=f"set {self.settings.secret_env} to the bot's signing secret, "
                "or remove secret_env",
            )
        if secret:
            stamp = int(time.time())
            payload |= {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp)}
        return payload

    def check(self, response: httpx.Response) -> None:
        """Feishu answers HTTP 200 with ``{"code": <non-zero>, "msg": ...}`` on errors."""
        try:
            body = response.json()
        except ValueError:
            return
        code = body.get("code", body.get("StatusCode", 0)) if isinstance(body, dict) else 0
        if code:
            message = body.get("msg", body.get("StatusMessage", ""))
            raise StageError(
                f"{self.label} refused the message: code {code} {message}".rstrip(),
                fix="check the bot's keyword/IP/signature security settings and secret_env",
            )


def digest_payload(sections: Sections, day: date, site_url: str = "") -> dict[str, Any]:
    """The generic webhook body: the whole digest as data, for people wiring their own bots."""
    return {
        "day": day.isoformat(),
        "site_url": _web(site_url),
        "papers": _count(sections),
        "topics": [
            {"name": topic, "papers": [_paper_data(e) for e in entries]}
            for topic, entries in sections.items()
        ],
    }


def _paper_data(entry: Entry) -> dict[str, Any]:
    paper = entry.paper
    return {
        "id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "authors": list(paper.authors),
        "abstract": paper.abstract,
        "categories": list(paper.categories),
        "primary_category": paper.primary_category,
        "published": paper.published.isoformat(),
        "updated": paper.updated.isoformat(),
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "code_url": safe_code_url(entry.code_url),  # vetted like the data exports
        "project_url": safe_url(entry.project_url),
        "stars": entry.stars,
        "title_translated": entry.title_translated,
        "abstract_translated": entry.abstract_translated,
        "tldr": entry.tldr,
        "score": entry.score,
        "why": entry.why,
    }


class GenericNotifier(_Webhook):
    """Any endpoint that takes JSON: one POST with :func:`digest_payload`, never split."""

    service = "generic"

    def payloads(self, sections: Sections, day: date, site_url: str = "") -> list[dict[str, Any]]:
        return [digest_payload(sections, day, site_url)]


NOTIFIERS: dict[str, Callable[[ChatSettings, PoliteClient], Notifier]] = {
    "slack": SlackNotifier,
    "discord": DiscordNotifier,
    "feishu": FeishuNotifier,
    "lark": FeishuNotifier,
    "generic": GenericNotifier,
}


def make_notifier(settings: ChatSettings, *, client: PoliteClient | None = None) -> Notifier:
    """Build the configured notifier. Give each webhook its own client (the default): its
    retry records then never mix with the arXiv client's, which end up in the run record."""
    factory = NOTIFIERS.get(settings.service)
    if factory is None:
        raise ConfigError(
            f"chat.service: unknown service {settings.service!r}",
            fix="use one of " + ", ".join(sorted(NOTIFIERS)),
        )
    http = client or PoliteClient(
        HttpSettings(request_interval=settings.request_interval, timeout=settings.timeout)
    )
    return factory(settings, http)
