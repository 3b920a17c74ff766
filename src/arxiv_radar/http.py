"""The one polite HTTP client every source and enricher shares.

arXiv asks for one request every 3 seconds on a single connection across *all* its hosts, so the
pipeline builds one :class:`PoliteClient` for export/rss/oaipmh.arxiv.org and paces every request
start on it. Transient failures (429, 5xx, timeouts, resets, truncated bodies, and pages the
caller's ``validate`` hook rejects as :class:`RetryableResponse`) are retried with exponential
backoff and full jitter; a server's ``Retry-After`` wins over the backoff. Anything that still
fails becomes a :class:`~arxiv_radar.errors.FetchError` naming the (redacted) URL.

A hostile or broken server cannot hang, stall or bloat a run: every attempt has a total deadline
(:data:`HttpSettings.request_deadline`, headers and body included), every answer a cap on its
decoded size (:data:`HttpSettings.max_response_bytes`), and every run a :class:`RunBudget` that
bounds its time on the network and the ``Retry-After`` waits it grants each host. A wait beyond
that allowance is not slept: the request fails as *deferred* and the work is retried next run.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from arxiv_radar._http_guard import (
    ACCEPT_ENCODING,
    BodyTooLarge,
    CorruptBody,
    deadline,
    guarded_transport,
    read_capped,
)
from arxiv_radar.errors import FetchError
from arxiv_radar.http_budget import HttpSettings, RetryEvent, RunBudget

__all__ = [
    "DeliveryUncertain",
    "HttpStatusError",
    "PoliteClient",
    "RetryableResponse",
    "redact_url",
    "retry_after_seconds",
]

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARTS = frozenset(
    {"key", "apikey", "token", "auth", "authorization", "password", "passwd", "pwd", "secret"}
)
_SECRET_SUFFIXES = ("key", "token", "secret", "password")
_RETRY_FIX = (
    "the server may be down or rate-limiting; try again later or raise http.request_interval"
)


class DeliveryUncertain(FetchError):
    """A request that must not be sent twice went out, but no answer came back (a timeout or a
    dropped connection after sending): the server may have acted on it, so it is not retried."""


# Failures before the request left: retrying them cannot make the server act twice.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RetryableResponse(Exception):
    """Raised by a ``validate`` hook when a 2xx answer is a known transient glitch to retry."""


class HttpStatusError(FetchError):
    """A non-retryable HTTP status (most 4xx); keeps the body so callers can read API errors."""

    def __init__(
        self, message: str, *, url: str, status_code: int, body: bytes, fix: str = ""
    ) -> None:
        super().__init__(message, url=url, fix=fix)
        self.status_code = status_code
        self.body = body


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    parts = set(re.split(r"[-_.]", lowered))
    return bool(parts & _SECRET_PARTS) or lowered.endswith(_SECRET_SUFFIXES)


def redact_url(url: str) -> str:
    """Hide credential-like query values and URL passwords so URLs are safe to log and show."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    if not parts.query:
        return urlunsplit(parts._replace(netloc=netloc))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    cleaned = [(k, "***" if _is_secret_name(k) else v) for k, v in pairs]
    query = urlencode(cleaned, safe="*:/,+")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


class _RedactHttpxUrls(logging.Filter):
    """httpx logs every request URL at INFO; without this, API keys in query strings would leak."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        return True


def _redact_arg(arg: object) -> object:
    if isinstance(arg, httpx.URL) or (isinstance(arg, str) and "://" in arg):
        return redact_url(str(arg))
    return arg


def _install_httpx_filter() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactHttpxUrls) for f in httpx_logger.filters):
        httpx_logger.addFilter(_RedactHttpxUrls())


_install_httpx_filter()


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read ``Retry-After`` as delta-seconds or an HTTP-date; ``None`` when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


@dataclass
class _Attempt:
    """Why an attempt must be retried, and the server's requested wait if it gave one."""

    reason: str
    retry_after: float | None = None


@dataclass
class _Pacer:
    """Serialises request starts so no two are closer than ``interval`` seconds, across threads."""

    interval: float
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_start: float | None = None

    def wait_turn(self) -> None:
        if self.interval <= 0:
            return
        with self._lock:
            if self._last_start is not None:
                delay = self._last_start + self.interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self._last_start = time.monotonic()


Validator = Callable[[httpx.Response], None]


class PoliteClient:
    """One paced, retrying ``httpx.Client``; share it across every arXiv host."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        budget: RunBudget | None = None,
    ) -> None:
        self.settings = settings
        self.retries: list[RetryEvent] = []
        self._on_retry = on_retry
        self._budget = budget or RunBudget(settings)
        self._pacer = _Pacer(settings.request_interval)
        # One connection (max_connections=1) cannot carry two requests at once: threads that
        # share this client take turns, and pacing already spaces their starts anyway.
        self._send_lock = threading.Lock()
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout),
            limits=limits,
            follow_redirects=True,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            transport=transport or guarded_transport(limits),
        )

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        accept: str,
        validate: Validator | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """GET with pacing and retries; ``validate`` may raise RetryableResponse to retry."""
        request = self._build("GET", url, params=params, accept=accept, headers=headers)
        return self._send(request, validate)

    def post(
        self,
        url: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
        accept: str,
        validate: Validator | None = None,
        headers: Mapping[str, str] | None = None,
        once: bool = False,
    ) -> httpx.Response:
        """POST a JSON body with the same pacing and retries as :meth:`get`.

        ``once``: the POST has an effect that must not happen twice (a chat message). It is
        retried only when it surely did not arrive (connection refused, 429, 5xx); a timeout or
        a dropped connection after sending raises :class:`DeliveryUncertain` instead.
        """
        request = self._build("POST", url, params=params, accept=accept, headers=headers, json=json)
        return self._send(request, validate, once=once)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _build(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        accept: str,
        headers: Mapping[str, str] | None,
        json: object = None,
    ) -> httpx.Request:
        merged = {**(headers or {}), "Accept": accept}
        try:
            return self._client.build_request(
                method, url, params=dict(params) if params else None, headers=merged, json=json
            )
        except httpx.InvalidURL as exc:
            safe = redact_url(url)
            raise FetchError(
                f"{method} {safe}: invalid URL ({exc})",
                url=safe,
                fix="check the endpoint URL in the config or its ARXIV_RADAR_*_URL variable",
            ) from exc

    def _send(
        self, request: httpx.Request, validate: Validator | None, *, once: bool = False
    ) -> httpx.Response:
        safe_url = redact_url(str(request.url))
        host = _host(request.url)
        attempts = self.settings.max_retries + 1
        for attempt in range(1, attempts):
            outcome = self._attempt(request, safe_url, host, validate, once=once)
            if isinstance(outcome, httpx.Response):
                return outcome
            self._record_retry(safe_url, host, attempt, outcome)
        last = self._attempt(request, safe_url, host, validate, once=once)
        if isinstance(last, httpx.Response):
            return last
        raise FetchError(
            f"{request.method} {safe_url} failed after {attempts} attempts: {last.reason}",
            url=safe_url,
            fix=_RETRY_FIX,
        )

    def _attempt(
        self,
        request: httpx.Request,
        safe_url: str,
        host: str,
        validate: Validator | None,
        *,
        once: bool,
    ) -> httpx.Response | _Attempt:
        self._budget.check(request.method, safe_url, host)
        try:
            with self._send_lock:
                self._pacer.wait_turn()
                logger.debug("%s %s", request.method, safe_url)
                with deadline(self._budget.attempt_deadline(self.settings.request_deadline)):
                    response = self._receive(request)
        except httpx.TimeoutException as exc:
            if self._budget.remaining() == 0:
                raise self._budget.exceeded() from None
            reason = self._timeout_reason()
            _refuse_resend(request, safe_url, exc, reason, once=once)
            return _Attempt(reason)
        except (httpx.TransportError, CorruptBody) as exc:
            if isinstance(exc, httpx.UnsupportedProtocol):
                raise _unsupported(request, safe_url) from exc
            reason = f"{type(exc).__name__}: {exc}"
            _refuse_resend(request, safe_url, exc, reason, once=once)
            return _Attempt(reason)
        except (httpx.HTTPError, httpx.InvalidURL, BodyTooLarge) as exc:
            raise _unusable(request, safe_url, exc) from exc
        return self._judge(request, response, safe_url, validate)

    def _receive(self, request: httpx.Request) -> httpx.Response:
        """Send, then read the body within the size cap; a retryable status skips the body."""
        response = self._client.send(request, stream=True)
        try:
            if response.status_code in RETRY_STATUSES:
                return httpx.Response(
                    response.status_code, headers=response.headers, request=response.request
                )
            return read_capped(response, self.settings.max_response_bytes)
        finally:
            response.close()

    def _timeout_reason(self) -> str:
        return (
            f"timed out (no complete answer within {self.settings.request_deadline:g} s, "
            f"or {self.settings.timeout:g} s of silence)"
        )

    def _judge(
        self,
        request: httpx.Request,
        response: httpx.Response,
        safe_url: str,
        validate: Validator | None,
    ) -> httpx.Response | _Attempt:
        status = response.status_code
        if status in RETRY_STATUSES:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            return _Attempt(f"HTTP {status}", retry_after=wait)
        if not response.is_success:
            raise HttpStatusError(
                f"{request.method} {safe_url} failed: HTTP {status} {response.reason_phrase}",
                url=safe_url,
                status_code=status,
                body=response.content,
                fix="check the endpoint URL and request parameters in the config",
            )
        if validate is not None:
            try:
                validate(response)
            except RetryableResponse as exc:
                return _Attempt(str(exc) or "response rejected as transient")
        return response

    def _record_retry(self, safe_url: str, host: str, attempt: int, outcome: _Attempt) -> None:
        wait = self._wait_for(safe_url, host, attempt, outcome)
        event = RetryEvent(url=safe_url, attempt=attempt, reason=outcome.reason, wait=wait)
        self.retries.append(event)
        logger.info(
            "retrying %s in %.2f s (attempt %d failed: %s)", safe_url, wait, attempt, outcome.reason
        )
        if self._on_retry is not None:
            self._on_retry(event)
        time.sleep(wait)

    def _wait_for(self, safe_url: str, host: str, attempt: int, outcome: _Attempt) -> float:
        """Retry-After (within the run's allowance) when the server gave one, else exponential
        backoff with full jitter; either must fit in the run budget."""
        if outcome.retry_after is not None:
            granted = self._budget.grant(host, outcome.retry_after)
            if granted is None:
                raise FetchError(
                    f"{safe_url}: {outcome.reason} asking to wait {outcome.retry_after:g} s "
                    f"(Retry-After), more than this run allows for {host}; deferred to the "
                    "next run",
                    url=safe_url,
                    fix="nothing to do: the request is retried on the next run",
                )
            return self._budget.backoff(granted)
        ceiling = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt - 1))
        return self._budget.backoff(random.uniform(0, ceiling))


def _host(url: httpx.URL) -> str:
    """The host (and port) a request goes to: Retry-After allowances are kept per host."""
    return f"{url.host}:{url.port}" if url.port else url.host


def _refuse_resend(
    request: httpx.Request, safe_url: str, exc: Exception, reason: str, *, once: bool
) -> None:
    """A request sent ``once`` (a chat post) that failed after it left may have arrived: say so
    instead of retrying it blindly. Failures before sending (connect errors) are retried."""
    if once and not isinstance(exc, _UNSENT):
        raise DeliveryUncertain(
            f"{request.method} {safe_url}: no answer after sending ({reason}); it may "
            "have arrived, so it is not sent again in this run",
            url=safe_url,
            fix="nothing to do: the next run sends it again (at most one duplicate)",
        ) from None


def _unsupported(request: httpx.Request, safe_url: str) -> FetchError:
    return FetchError(
        f"{request.method} {safe_url}: unsupported URL scheme",
        url=safe_url,
        fix="use an http:// or https:// endpoint URL",
    )


def _unusable(request: httpx.Request, safe_url: str, exc: Exception) -> FetchError:
    """An answer no retry can fix (a redirect loop, a body over the cap): fail this request."""
    if isinstance(exc, BodyTooLarge):
        reason = f"the answer {exc}"
        fix = "raise http.max_response_bytes if this server's answers are really that large"
    else:
        reason = f"{type(exc).__name__}: {exc}"
        fix = "the server answered with something unusable; it is retried on the next run"
    return FetchError(f"{request.method} {safe_url} failed: {reason}", url=safe_url, fix=fix)
