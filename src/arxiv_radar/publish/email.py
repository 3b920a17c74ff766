"""The email digest: one multipart (plain text + HTML) message per day, sent over SMTP.

Which papers go in is the caller's decision (papers new since the last email); this module only
renders the sections it is given and delivers them. Paper titles are untrusted text from arXiv, so
they only ever appear in the body (escaped in HTML); the headers are built from the configuration,
the date and counts, and ``email.policy.SMTP`` refuses any header value holding CR or LF.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Literal
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from arxiv_radar import secrets
from arxiv_radar.errors import ConfigError, StageError, UserError
from arxiv_radar.paper import Entry

__all__ = ["EmailSettings", "build_message", "count_papers", "send_digest", "top_picks"]

log = logging.getLogger(__name__)

Security = Literal["starttls", "ssl", "none"]
_SECURITY: tuple[Security, ...] = ("starttls", "ssl", "none")
_MAX_AUTHORS = 5


@dataclass(frozen=True, kw_only=True)
class EmailSettings:
    """Where and how to send the digest. The password itself never lives here, only the name of
    the environment variable that holds it, so settings can be logged and compared safely."""

    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    password_env: str = ""
    subject_prefix: str = "[arxiv-radar]"
    send_empty: bool = False
    top_picks: int = 0  # best N ranked papers across topics, listed above the topics
    timeout: float = 30.0
    ca_file: str = ""  # extra PEM certificates to trust, for relays with a private CA

    def __post_init__(self) -> None:
        if self.security not in _SECURITY:
            raise ConfigError(
                f"email.security: unknown value {self.security!r}",
                fix="use one of starttls (port 587), ssl (port 465) or none (local relays only)",
            )
        if not self.recipients:
            raise ConfigError("email.recipients is empty", fix="list at least one address")
        for key, value in [("email.sender", self.sender)] + [
            (f"email.recipients[{i}]", r) for i, r in enumerate(self.recipients)
        ]:
            _check_address(key, value)
        if self.username and not self.password_env:
            raise ConfigError(
                "email.username is set but email.password_env is empty",
                fix="set email.password_env to the NAME of the variable holding the password, "
                "e.g. SMTP_PASSWORD",
            )


def _check_address(key: str, value: str) -> None:
    """Reject addresses that would break or inject headers before any message is built."""
    if "\r" in value or "\n" in value or "@" not in parseaddr(value)[1]:
        raise ConfigError(
            f"{key}: {value!r} is not an email address",
            fix="write a single address such as radar@example.org or 'Radar <radar@example.org>'",
        )


def count_papers(sections: Mapping[str, Sequence[Entry]]) -> int:
    """Distinct papers: a paper listed under two topics is still one paper to read."""
    return len({entry.paper.arxiv_id for entries in sections.values() for entry in entries})


def top_picks(sections: Mapping[str, Sequence[Entry]], limit: int) -> list[tuple[str, Entry]]:
    """The ``limit`` best-scored papers of this digest across topics, best first, each once
    with the topic it scored best in. Picks come from the digest itself, so every pick is a
    paper the email lists; a score of 0 (or none: an unranked topic) is no pick."""
    best: dict[str, tuple[str, Entry]] = {}
    for topic, entries in sections.items():
        for entry in entries:
            held = best.get(entry.paper.arxiv_id)
            if _score(entry) > (_score(held[1]) if held else 0.0):
                best[entry.paper.arxiv_id] = (topic, entry)
    ranked = sorted(best.values(), key=lambda pick: (-_score(pick[1]), pick[1].paper.arxiv_id))
    return ranked[: max(limit, 0)]


def _score(entry: Entry) -> float:
    return entry.score or 0.0


def build_message(
    settings: EmailSettings,
    *,
    sections: Mapping[str, Sequence[Entry]],
    day: date,
    site_url: str = "",
    now: datetime | None = None,
) -> EmailMessage:
    """Render the digest as a ready-to-send message (``now`` fixes the Date header in tests)."""
    papers = count_papers(sections)
    heading = _heading(papers, len([t for t, e in sections.items() if e]), day)
    context = {
        "heading": heading,
        "sections": [(topic, list(entries)) for topic, entries in sections.items() if entries],
        "picks": top_picks(sections, settings.top_picks),
        "site_url": _web_url(site_url),
    }
    message = EmailMessage(policy=SMTP)
    message["Subject"] = f"{_oneline(settings.subject_prefix)} {heading}".strip()
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = format_datetime(now or datetime.now(timezone.utc), usegmt=True)
    message["Message-ID"] = make_msgid("arxiv-radar", domain=_domain(settings.sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    message.set_content(_render("digest.txt", context))
    message.add_alternative(_render("digest.html", context), subtype="html")
    return message


def _heading(papers: int, topics: int, day: date) -> str:
    if papers == 0:
        return f"{day.isoformat()}: no new papers"
    noun = "paper" if papers == 1 else "papers"
    where = "topic" if topics == 1 else "topics"
    return f"{day.isoformat()}: {papers} new {noun} in {topics} {where}"


def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "arxiv-radar.invalid"


def send_digest(
    settings: EmailSettings,
    *,
    sections: Mapping[str, Sequence[Entry]],
    day: date,
    site_url: str = "",
) -> bool:
    """Send the day's digest; ``False`` when there was nothing to send (and sending empty
    digests is off), so the caller records a sent email only when one really left."""
    if count_papers(sections) == 0 and not settings.send_empty:
        log.info("email: no new papers for %s, nothing sent", day.isoformat())
        return False
    password = _password(settings)
    message = build_message(settings, sections=sections, day=day, site_url=site_url)
    _deliver(settings, message, password)
    log.info(
        "email: digest for %s sent to %d recipient(s) through %s:%d",
        day.isoformat(),
        len(settings.recipients),
        settings.host,
        settings.port,
    )
    return True


def _password(settings: EmailSettings) -> str:
    """Read the password at send time so a missing secret fails before any connection."""
    if not settings.password_env:
        return ""
    password = os.environ.get(settings.password_env, "")
    if not password:
        raise UserError(
            f"email: environment variable {settings.password_env} is not set",
            fix=f"set {settings.password_env} to the SMTP password "
            "(on GitHub Actions: a repository secret passed through env:)",
        )
    # A server may echo the AUTH exchange (base64 of the password, alone or after the user):
    # the errors below quote its replies, and the project's errors scrub what is registered.
    secrets.register(password)
    return password


def _deliver(settings: EmailSettings, message: EmailMessage, password: str) -> None:
    where = f"{settings.host}:{settings.port}"
    try:
        with _connect(settings) as smtp:
            if settings.username:
                smtp.login(settings.username, password)
            refused = smtp.send_message(
                message, from_addr=settings.sender, to_addrs=list(settings.recipients)
            )
    except smtplib.SMTPAuthenticationError as exc:
        raise StageError(
            f"email: {where} refused the login of {settings.username!r}: {_reply(exc)}",
            fix=f"check email.username and the password in {settings.password_env}",
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise StageError(
            f"email: sending through {where} failed: {_describe(exc)}",
            fix="check email.host, email.port and email.security (587 = starttls, 465 = ssl)",
        ) from None
    for address, (code, reply) in refused.items():
        log.warning("email: %s refused recipient %s: %d %s", where, address, code, reply)


def _connect(settings: EmailSettings) -> smtplib.SMTP:
    """Open the connection, upgraded to TLS as configured, before any credential is sent."""
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=_tls(settings)
        )
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            smtp.starttls(context=_tls(settings))
        elif settings.username:
            log.warning("email: sending the SMTP password to %s unencrypted", settings.host)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _tls(settings: EmailSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file:
        context.load_verify_locations(cafile=settings.ca_file)
    return context


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
    return f"{exc.smtp_code} {text}".strip()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused: " + ", ".join(sorted(exc.recipients))
    return f"{type(exc).__name__}: {exc}"


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _authors(names: Iterable[str]) -> str:
    people = list(names)
    shown = ", ".join(_oneline(n) for n in people[:_MAX_AUTHORS])
    return f"{shown} et al." if len(people) > _MAX_AUTHORS else shown


def _web_url(url: str | None) -> str:
    """Only http(s) links reach the HTML: an enricher bug must not produce a javascript: link."""
    if not url:
        return ""
    return url if urlsplit(url).scheme in ("http", "https") else ""


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("arxiv_radar", "templates/email"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["oneline"] = _oneline
    env.filters["authors"] = _authors
    env.filters["web_url"] = _web_url
    return env


_ENV = _environment()


def _render(name: str, context: Mapping[str, object]) -> str:
    return _ENV.get_template(name).render(context)
