"""Small helpers shared by every enricher that speaks JSON over :class:`PoliteClient`.

Enrichers talk to APIs that change without notice (Papers with Code disappeared; Hugging Face
adds fields), so every response is parsed defensively: an unreadable body becomes a
:class:`~arxiv_radar.errors.SourceFormatError` naming the URL, never a ``KeyError`` deep in a
worker thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

import httpx

from arxiv_radar.errors import SourceFormatError
from arxiv_radar.http import HttpStatusError, PoliteClient, redact_url
from arxiv_radar.http_budget import HttpSettings, RunBudget

__all__ = [
    "DEFAULT_INTERVALS",
    "JSON_ACCEPT",
    "MAX_COUNT",
    "ClientPool",
    "HttpClient",
    "count_or_none",
    "get_json_or_none",
    "json_object",
    "loads_json",
    "post_json",
]

JSON_ACCEPT = "application/json"
# Star counts and the like beyond this are nonsense (and overflow SQLite's 64-bit INTEGER).
MAX_COUNT = 2**53 - 1


class HttpClient(Protocol):
    """The part of :class:`arxiv_radar.http.PoliteClient` enrichers use; tests pass the real one."""

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        accept: str,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response: ...

    def post(
        self,
        url: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
        accept: str,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response: ...


def count_or_none(value: object) -> int | None:
    """A count an API reported, or ``None`` when it is not a plausible one (bool, negative,
    ``10**30``): such a value is dropped, never stored."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_COUNT else None


def loads_json(body: bytes, url: str, *, fix: str) -> object:
    """Parse a JSON body; malformed or absurdly nested JSON is a SourceFormatError naming ``url``.

    ``json`` recurses once per nesting level, so 200,000 nested brackets raise RecursionError,
    which is as unusable an answer as a syntax error.
    """
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise SourceFormatError(
            f"{url} answered with malformed JSON ({exc.__class__.__name__})", url=url, fix=fix
        ) from exc


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object; anything else means the API changed or answered garbage."""
    url = redact_url(str(response.request.url))
    data = loads_json(
        response.content,
        url,
        fix="the service may be degraded; the work stays pending and is retried next run",
    )
    if not isinstance(data, dict):
        raise SourceFormatError(
            f"{url} answered JSON that is not an object", url=url, fix="report this API change"
        )
    return data


def get_json_or_none(
    client: HttpClient, url: str, *, params: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """GET a JSON object; ``None`` on 404, which these catalogues use for "not indexed yet"."""
    try:
        response = client.get(url, params=params, accept=JSON_ACCEPT)
    except HttpStatusError as exc:
        if exc.status_code == 404:
            return None
        raise
    return json_object(response)


def post_json(
    client: HttpClient, url: str, body: object, *, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """POST a JSON body and read a JSON object back."""
    response = client.post(url, json=body, accept=JSON_ACCEPT, headers=headers)
    return json_object(response)


# Hugging Face asks for gentle use: 2 requests per second by default. Other families fall back
# to the interval of the settings the pool was given.
DEFAULT_INTERVALS: Mapping[str, float] = {"huggingface": 0.5, "paperswithcode": 1.0, "github": 1.0}


class ClientPool:
    """One paced client per host family, created on first use and closed together.

    Pacing is per family, so Hugging Face's limit never slows a translation request, while the
    finder threads that share a family share its pacer and its single connection.
    """

    def __init__(
        self,
        settings: HttpSettings,
        intervals: Mapping[str, float] = DEFAULT_INTERVALS,
        *,
        budget: RunBudget | None = None,
    ) -> None:
        self._settings = settings
        self._intervals = dict(intervals)
        # One budget for every family: the run's time and Retry-After caps span all of them.
        self._budget = budget or RunBudget(settings)
        self._clients: dict[str, PoliteClient] = {}
        self._lock = threading.Lock()

    def __call__(self, family: str) -> PoliteClient:
        with self._lock:
            client = self._clients.get(family)
            if client is None:
                interval = self._intervals.get(family, self._settings.request_interval)
                client = PoliteClient(
                    replace(self._settings, request_interval=interval), budget=self._budget
                )
                self._clients[family] = client
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
