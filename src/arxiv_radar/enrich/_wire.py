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
from arxiv_radar.http import HttpSettings, HttpStatusError, PoliteClient, redact_url

__all__ = [
    "DEFAULT_INTERVALS",
    "JSON_ACCEPT",
    "ClientPool",
    "HttpClient",
    "get_json_or_none",
    "json_object",
    "post_json",
]

JSON_ACCEPT = "application/json"


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


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object; anything else means the API changed or answered garbage."""
    url = redact_url(str(response.request.url))
    try:
        data = json.loads(response.content)
    except ValueError as exc:
        raise SourceFormatError(
            f"{url} answered with malformed JSON ({exc.__class__.__name__})",
            url=url,
            fix="the service may be degraded; the work stays pending and is retried next run",
        ) from exc
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
        self, settings: HttpSettings, intervals: Mapping[str, float] = DEFAULT_INTERVALS
    ) -> None:
        self._settings = settings
        self._intervals = dict(intervals)
        self._clients: dict[str, PoliteClient] = {}
        self._lock = threading.Lock()

    def __call__(self, family: str) -> PoliteClient:
        with self._lock:
            client = self._clients.get(family)
            if client is None:
                interval = self._intervals.get(family, self._settings.request_interval)
                client = PoliteClient(replace(self._settings, request_interval=interval))
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
