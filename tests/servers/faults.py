"""Fault injection in front of any route of the local server: rate limits, outages, hangs, resets,
truncated bodies, empty pages and the legacy arXiv API's quirks.

A :class:`FaultInjector` takes over a route that is already registered (for instance by
:class:`~tests.servers.arxiv.FakeArxiv`) and serves programmed faults before, or instead of, the
real answer. A fault is a function of the request and of the real reply (computed lazily, so a
503 costs the fake nothing), which lets one fault damage the genuine body (truncate it, drop its
entries, rewrite it in the legacy format) instead of inventing one.
"""

from __future__ import annotations

import re
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from tests.servers.http import LocalServer, Reply, Request

__all__ = [
    "Fault",
    "FaultInjector",
    "RealReply",
    "blank_placeholder",
    "empty_page",
    "legacy_format",
    "not_acceptable",
    "rate_limited",
    "reset",
    "slow",
    "truncated",
    "unavailable",
]

RealReply = Callable[[], Reply]
Fault = Callable[[Request, RealReply], Reply]
Predicate = Callable[[Request], bool]

_ENTRY = re.compile(r"<entry>.*?</entry>", re.S)
_WRAPPED = re.compile(r"<(summary|title)>(.*?)</\1>", re.S)
_NAMESPACED = re.compile(r"<(opensearch|arxiv):(\w+)")
_NAMESPACES = {
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "arxiv": "http://arxiv.org/schemas/atom",
}


def rate_limited(retry_after: str | None = None) -> Fault:
    """HTTP 429, with the server's ``Retry-After`` (seconds or an HTTP date) when given."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return lambda request, real: Reply(429, "Rate exceeded.", headers=headers)


def unavailable() -> Fault:
    """HTTP 503, what arXiv answers during maintenance and overload."""
    return lambda request, real: Reply(503, "Service Unavailable")


def not_acceptable() -> Fault:
    """HTTP 406: a permanent refusal, which must not be retried."""
    return lambda request, real: Reply(406, "Not Acceptable")


def slow(seconds: float) -> Fault:
    """The real answer, but only after ``seconds`` (longer than the client timeout: a hang)."""
    return lambda request, real: replace(real(), delay=seconds)


def reset() -> Fault:
    """Close the connection without answering."""
    return lambda request, real: Reply(drop=True)


def truncated(fraction: float = 0.5) -> Fault:
    """Declare the real body's full length, then send only ``fraction`` of it and hang up."""

    def fault(request: Request, real: RealReply) -> Reply:
        reply = real()
        return replace(reply, truncate=int(len(reply.payload()) * fraction))

    return fault


def empty_page() -> Fault:
    """The real Atom page with its entries removed but its totalResults kept (an arXiv glitch)."""

    def fault(request: Request, real: RealReply) -> Reply:
        reply = real()
        return replace(reply, body=_ENTRY.sub("", reply.payload().decode("utf-8")))

    return fault


def legacy_format() -> Fault:
    """The real Atom page as the pre-2025 API wrote it: namespaces declared per element, titles
    and summaries wrapped over indented lines, and a local-time feed date."""

    def fault(request: Request, real: RealReply) -> Reply:
        reply = real()
        return replace(reply, body=to_legacy(reply.payload().decode("utf-8")))

    return fault


def blank_placeholder() -> Fault:
    """The legacy answer for ids it did not know: totalResults 1 and one entry with no id."""
    body = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>http://arxiv.org/api/placeholder</id>
  <updated>2019-01-04T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">10</opensearch:itemsPerPage>
  <entry>
    <id></id>
    <updated>2019-01-04T00:00:00-05:00</updated>
    <published></published>
    <title></title>
    <summary>  </summary>
    <author><name></name></author>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term=""/>
  </entry>
</feed>
"""
    return lambda request, real: Reply(body=body, headers={"Content-Type": "application/atom+xml"})


def to_legacy(atom: str) -> str:
    """Rewrite a current-format feed (namespaces on <feed>, one-line text) in the legacy style."""
    head, _, rest = atom.partition("<feed ")
    body = rest.partition(">")[2]
    body = _NAMESPACED.sub(
        lambda m: f'<{m.group(1)}:{m.group(2)} xmlns:{m.group(1)}="{_NAMESPACES[m.group(1)]}"',
        body,
    )
    body = _WRAPPED.sub(lambda m: f"<{m.group(1)}>{_wrap(m.group(2))}</{m.group(1)}>", body)
    body = re.sub(
        r"<updated>[^<]*</updated>", "<updated>2019-01-04T00:00:00-05:00</updated>", body, count=1
    )
    return f'{head}<feed xmlns="http://www.w3.org/2005/Atom">{body}'


def _wrap(text: str) -> str:
    """Legacy line wrapping: leading spaces, lines of about 60 characters, trailing newline."""
    lines = textwrap.wrap(text, 60) or [""]
    return "  " + "\n  ".join(lines) + "\n"


@dataclass
class _Program:
    fault: Fault
    when: Predicate
    remaining: int | None  # None: until cleared


class FaultInjector:
    """Takes over ``method path`` on ``server``; programmed faults go first, then the real route."""

    def __init__(self, server: LocalServer, path: str, method: str = "GET") -> None:
        key = (method.upper(), path)
        if key not in server.routes:
            raise KeyError(f"no route {method} {path} to inject faults into")
        self._real = server.routes[key]
        self._programs: list[_Program] = []
        self._lock = threading.Lock()
        self.injected = 0
        server.route(method, path, self._serve)

    def inject(self, *faults: Fault, when: Predicate | None = None) -> None:
        """Serve each of ``faults`` once, in order, to the requests ``when`` accepts."""
        with self._lock:
            self._programs += [_Program(f, when or _any, 1) for f in faults]

    def always(self, fault: Fault, *, when: Predicate | None = None) -> None:
        """Serve ``fault`` to every request ``when`` accepts until :meth:`clear` (an outage)."""
        with self._lock:
            self._programs.append(_Program(fault, when or _any, None))

    def clear(self) -> None:
        """The faults stop: every request gets the real answer again."""
        with self._lock:
            self._programs.clear()

    def _next_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for program in self._programs:
                if program.when(request):
                    if program.remaining is not None:
                        program.remaining -= 1
                        if program.remaining == 0:
                            self._programs.remove(program)
                    self.injected += 1
                    return program.fault
        return None

    def _serve(self, request: Request) -> Reply:
        fault = self._next_fault(request)
        if fault is None:
            return self._real.next(request)
        return fault(request, lambda: self._real.next(request))


def _any(request: Request) -> bool:
    return True
