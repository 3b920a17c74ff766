from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timezone
from itertools import pairwise

import httpx
import pytest

from arxiv_radar.errors import FetchError
from arxiv_radar.http import (
    HttpStatusError,
    PoliteClient,
    RetryableResponse,
    redact_url,
    retry_after_seconds,
)
from arxiv_radar.http_budget import HttpSettings, RetryEvent
from tests.servers.http import LocalServer, Reply

FAST = HttpSettings(request_interval=0, backoff_base=0.01, timeout=1.0)
ACCEPT = "application/atom+xml"


def test_pacing_spaces_request_starts(server: LocalServer) -> None:
    server.route("GET", "/q", Reply(body="ok"))
    settings = HttpSettings(request_interval=0.2, backoff_base=0.01, timeout=1.0)
    began = time.monotonic()
    with PoliteClient(settings) as client:
        for _ in range(3):
            client.get(f"{server.url}/q", accept=ACCEPT)
    assert time.monotonic() - began >= 0.4
    starts = [r.at for r in server.requests]
    gaps = [b - a for a, b in pairwise(starts)]
    # Server-side arrival times carry a few ms of socket jitter on top of the client's pacing.
    assert all(gap >= 0.19 for gap in gaps), gaps


def test_pacing_holds_across_threads(server: LocalServer) -> None:
    server.route("GET", "/q", Reply(body="ok"))
    settings = HttpSettings(request_interval=0.1, backoff_base=0.01, timeout=2.0)
    with PoliteClient(settings) as client:

        def work() -> None:
            for _ in range(2):
                client.get(f"{server.url}/q", accept=ACCEPT)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    starts = sorted(r.at for r in server.requests)
    assert len(starts) == 4
    assert all(b - a >= 0.09 for a, b in pairwise(starts)), starts


def test_zero_interval_does_not_wait(server: LocalServer) -> None:
    server.route("GET", "/q", Reply(body="ok"))
    began = time.monotonic()
    with PoliteClient(FAST) as client:
        for _ in range(5):
            client.get(f"{server.url}/q", accept=ACCEPT)
    assert time.monotonic() - began < 0.5


def test_429_retry_after_is_honoured(server: LocalServer) -> None:
    server.route(
        "GET", "/q", [Reply(429, "slow down", headers={"Retry-After": "1"}), Reply(body="ok")]
    )
    events: list[RetryEvent] = []
    with PoliteClient(FAST, on_retry=events.append) as client:
        response = client.get(f"{server.url}/q", accept=ACCEPT)
    assert response.text == "ok"
    first, second = server.requests
    assert second.at - first.at >= 0.95
    assert events == client.retries
    assert events == [RetryEvent(url=f"{server.url}/q", attempt=1, reason="HTTP 429", wait=1.0)]


def test_retry_after_is_capped(server: LocalServer) -> None:
    server.route("GET", "/q", [Reply(503, headers={"Retry-After": "120"}), Reply(body="ok")])
    settings = HttpSettings(
        request_interval=0, backoff_base=0.01, timeout=1.0, retry_after_max=0.05
    )
    with PoliteClient(settings) as client:
        assert client.get(f"{server.url}/q", accept=ACCEPT).text == "ok"
    assert client.retries[0].wait == 0.05


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(server: LocalServer, status: int) -> None:
    server.route("GET", "/q", [Reply(status, "oops"), Reply(body="ok")])
    with PoliteClient(FAST) as client:
        assert client.get(f"{server.url}/q", accept=ACCEPT).text == "ok"
    assert len(server.requests) == 2
    assert client.retries[0].reason == f"HTTP {status}"
    assert 0 <= client.retries[0].wait <= 0.01


def test_timeout_then_success(server: LocalServer) -> None:
    server.route("GET", "/q", [Reply(body="late", delay=0.6), Reply(body="ok")])
    settings = HttpSettings(request_interval=0, backoff_base=0.01, timeout=0.2)
    with PoliteClient(settings) as client:
        assert client.get(f"{server.url}/q", accept=ACCEPT).text == "ok"
    assert "timed out" in client.retries[0].reason


def test_connection_reset_then_success(server: LocalServer) -> None:
    server.route("GET", "/q", [Reply(drop=True), Reply(body="ok")])
    with PoliteClient(FAST) as client:
        assert client.get(f"{server.url}/q", accept=ACCEPT).text == "ok"
    assert len(server.requests) == 2
    assert len(client.retries) == 1


def test_truncated_body_then_success(server: LocalServer) -> None:
    server.route("GET", "/q", [Reply(body="x" * 1000, truncate=10), Reply(body="y" * 1000)])
    with PoliteClient(FAST) as client:
        assert client.get(f"{server.url}/q", accept=ACCEPT).text == "y" * 1000
    assert "RemoteProtocolError" in client.retries[0].reason


def test_404_fails_at_once_naming_the_url(server: LocalServer) -> None:
    server.route("GET", "/missing", Reply(404, "nope"))
    with PoliteClient(FAST) as client, pytest.raises(HttpStatusError) as caught:
        client.get(f"{server.url}/missing", params={"a": "1"}, accept=ACCEPT)
    assert len(server.requests) == 1
    assert f"{server.url}/missing?a=1" in str(caught.value)
    assert "HTTP 404" in str(caught.value)
    assert caught.value.url == f"{server.url}/missing?a=1"
    assert caught.value.status_code == 404
    assert caught.value.body == b"nope"
    assert client.retries == []


def test_gives_up_after_max_retries(server: LocalServer) -> None:
    server.route("GET", "/q", Reply(503, "down"))
    settings = HttpSettings(request_interval=0, backoff_base=0.01, timeout=1.0, max_retries=2)
    with PoliteClient(settings) as client, pytest.raises(FetchError) as caught:
        client.get(f"{server.url}/q", accept=ACCEPT)
    assert len(server.requests) == 3
    assert [e.attempt for e in client.retries] == [1, 2]
    assert str(caught.value).startswith(f"GET {server.url}/q failed after 3 attempts: HTTP 503")
    assert "request_interval" in caught.value.fix


def test_connection_refused_gives_up_with_fetch_error() -> None:
    settings = HttpSettings(request_interval=0, backoff_base=0.01, timeout=0.5, max_retries=1)
    with PoliteClient(settings) as client, pytest.raises(FetchError) as caught:
        # Port 9 (discard) on localhost is closed in the test environment.
        client.get("http://127.0.0.1:9/q", accept=ACCEPT)
    assert "http://127.0.0.1:9/q failed after 2 attempts: ConnectError" in str(caught.value)


def test_user_agent_and_accept_are_sent(server: LocalServer) -> None:
    server.route("GET", "/q", Reply(body="ok"))
    with PoliteClient(FAST) as client:
        client.get(f"{server.url}/q", accept="application/rss+xml", headers={"X-Extra": "1"})
    headers = server.requests[0].headers
    assert headers["user-agent"].startswith("arxiv-radar/")
    assert "+https://github.com/arxiv-radar/arxiv-radar" in headers["user-agent"]
    assert headers["accept"] == "application/rss+xml"
    assert headers["x-extra"] == "1"


def test_post_sends_json_and_retries(server: LocalServer) -> None:
    server.route("POST", "/t", [Reply(502), Reply(body='{"ok": true}')])
    with PoliteClient(FAST) as client:
        response = client.post(f"{server.url}/t", json={"text": ["a"]}, accept="application/json")
    assert response.json() == {"ok": True}
    assert [json.loads(r.body) for r in server.requests] == [{"text": ["a"]}] * 2
    assert server.requests[1].headers["content-type"] == "application/json"


def test_validate_can_ask_for_a_retry(server: LocalServer) -> None:
    server.route("GET", "/q", [Reply(body="empty"), Reply(body="full")])

    def validate(response: httpx.Response) -> None:
        if response.text == "empty":
            raise RetryableResponse("empty page")

    with PoliteClient(FAST) as client:
        assert client.get(f"{server.url}/q", accept=ACCEPT, validate=validate).text == "full"
    assert client.retries[0].reason == "empty page"


def test_validate_errors_other_than_retryable_propagate(server: LocalServer) -> None:
    server.route("GET", "/q", Reply(body="bad"))

    def validate(response: httpx.Response) -> None:
        raise ValueError("cannot parse")

    with PoliteClient(FAST) as client, pytest.raises(ValueError, match="cannot parse"):
        client.get(f"{server.url}/q", accept=ACCEPT, validate=validate)
    assert len(server.requests) == 1


def test_redirects_are_followed(server: LocalServer) -> None:
    server.route("GET", "/old", Reply(301, headers={"Location": "/new"}))
    server.route("GET", "/new", Reply(body="moved"))
    with PoliteClient(FAST) as client:
        assert client.get(f"{server.url}/old", accept=ACCEPT).text == "moved"


def test_secrets_never_leak(server: LocalServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.route("GET", "/q", Reply(503))
    settings = HttpSettings(request_interval=0, backoff_base=0.01, timeout=1.0, max_retries=2)
    with PoliteClient(settings) as client, pytest.raises(FetchError) as caught:
        client.get(
            f"{server.url}/q",
            params={"key": "SECRET", "q": "cats"},
            headers={"Authorization": "Bearer HEADERSECRET"},
            accept=ACCEPT,
        )
    assert server.requests[0].param("key") == "SECRET"
    texts = [str(caught.value), caught.value.url, caplog.text]
    texts += [repr(e) for e in client.retries]
    assert caplog.records, "expected retry and request logs"
    for text in texts:
        assert "SECRET" not in text
        assert "key=***" in text
    assert "HEADERSECRET" not in caplog.text
    assert any(r.levelno == logging.INFO and "retrying" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/p?key=S&q=x", "https://h/p?key=***&q=x"),
        ("https://h/p?api_key=S", "https://h/p?api_key=***"),
        ("https://h/p?apiKey=S", "https://h/p?apiKey=***"),
        ("https://h/p?access_token=S&auth=T", "https://h/p?access_token=***&auth=***"),
        ("https://h/p?password=S&client_secret=T", "https://h/p?password=***&client_secret=***"),
        ("https://u:pw@h/p", "https://***@h/p"),
        ("https://h/p?keywords=cats", "https://h/p?keywords=cats"),
        ("https://h/p", "https://h/p"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_retry_after_formats() -> None:
    now = datetime(2026, 8, 13, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7", now=now) == 7.0
    assert retry_after_seconds("Thu, 13 Aug 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Thu, 13 Aug 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None) is None


def test_query_string_in_the_url_is_kept(server: LocalServer) -> None:
    server.route("GET", "/q", Reply(body="ok"))
    with PoliteClient(FAST) as client:
        client.get(f"{server.url}/q?x=1&y=two", accept="text/plain")
    assert server.requests[0].query == {"x": ["1"], "y": ["two"]}
