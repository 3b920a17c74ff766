"""A real HTTP server on 127.0.0.1 that replays canned replies and records every request.

Tests register routes (method + path) with a reply, a list of replies served in order (the last
one repeats), or a function of the request. Nothing is monkeypatched: the code under test speaks
real HTTP over a real socket, so timeouts, headers and connection handling are exercised too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

__all__ = ["LocalServer", "Reply", "Request", "local_server", "shared_data"]

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "arxiv"


def shared_data(name: str) -> bytes:
    """Bytes of a recorded response in ../shared/data/arxiv; skips the test when it is absent."""
    import pytest

    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"shared fixture {name} not available")
    return path.read_bytes()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float

    def param(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering (a reset)
    truncate: int | None = None  # declare the full length, send only this many bytes

    def payload(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


Responder = Callable[[Request], Reply]


class _Route:
    def __init__(self, source: Reply | list[Reply] | Responder) -> None:
        self.source = source
        self.served = 0

    def next(self, request: Request) -> Reply:
        self.served += 1
        if isinstance(self.source, Reply):
            return self.source
        if isinstance(self.source, list):
            return self.source[min(self.served - 1, len(self.source) - 1)]
        return self.source(request)


class LocalServer:
    """Routes, the requests received (in order) and the base URL of a running server."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], _Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self.url = ""

    def route(self, method: str, path: str, source: Reply | list[Reply] | Responder) -> None:
        self.routes[(method.upper(), path)] = _Route(source)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def unused_routes(self) -> list[str]:
        """Routes never requested: a test whose fixture went unused is testing less than it says."""
        return [f"{m} {p}" for (m, p), r in self.routes.items() if r.served == 0]

    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            route = self.routes.get((request.method, request.path))
        if route is None:
            return Reply(404, f"no route for {request.method} {request.path}")
        return route.next(request)


def _handler_for(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, Nagle's algorithm holds the
        # body back ~40 ms per request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Silence the default stderr access log."""

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                at=time.monotonic(),
            )
            reply = server._dispatch(request)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                return
            payload = reply.payload()
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            if reply.truncate is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(payload if reply.truncate is None else payload[: reply.truncate])

        do_GET = do_POST = do_PUT = do_HEAD = _handle

    return Handler


@contextmanager
def local_server() -> Iterator[LocalServer]:
    """Start a threaded server on an ephemeral 127.0.0.1 port; stop it when the block ends."""
    state = LocalServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
