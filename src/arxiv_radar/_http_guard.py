"""Low-level guards under :class:`arxiv_radar.http.PoliteClient`: a total deadline per request
and a cap on the decoded size of every answer.

httpx's timeouts bound each socket operation, not a request: a server that drips one byte a
second never trips a 30-second read timeout. :class:`DeadlineBackend` wraps httpcore's socket
streams so every read, write and connect gets at most the time left before the deadline of the
request running on that thread (headers included, not only the body).

httpx decodes gzip whole chunks at a time, so a 4 MB gzip bomb expands to gigabytes before
anyone can look at its size. :func:`read_capped` reads the raw bytes itself and inflates them
with ``max_length``, so no more than ``cap + 1`` decoded bytes ever exist.
"""

from __future__ import annotations

import threading
import time
import typing
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

__all__ = [
    "ACCEPT_ENCODING",
    "BodyTooLarge",
    "CorruptBody",
    "DeadlineBackend",
    "deadline",
    "guarded_transport",
    "read_capped",
]

# Only what read_capped can inflate within a bound; brotli/zstd are never asked for.
ACCEPT_ENCODING = "gzip, deflate"
_INFLATE_WBITS = zlib.MAX_WBITS | 32  # zlib or gzip header, detected from the stream
_IDENTITY = frozenset({"", "identity"})
_INFLATED = frozenset({"gzip", "x-gzip", "deflate"})
_PIECE = 1024 * 1024  # inflate at most this much per step
_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})

_local = threading.local()


class BodyTooLarge(Exception):
    """The answer is (or declares itself) larger than the cap; never retried."""


class CorruptBody(Exception):
    """The compressed body cannot be inflated, or uses an encoding we did not ask for."""


@contextmanager
def deadline(at: float) -> Iterator[None]:
    """Every socket operation of this thread must finish before ``at`` (``time.monotonic``)."""
    previous = getattr(_local, "at", None)
    _local.at = at
    try:
        yield
    finally:
        _local.at = previous


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """The operation's timeout shortened to the time left before this thread's deadline."""
    at: float | None = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation respects the running request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(
            ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own socket backend, with every stream it opens bound by the deadline."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _left(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's default transport on :class:`DeadlineBackend`.

    httpx does not take a network backend as an argument, so the pool it built gets one.
    """
    transport = httpx.HTTPTransport(limits=limits)
    pool = transport._pool
    pool._network_backend = DeadlineBackend(pool._network_backend)
    return transport


class _Inflater:
    """gzip/zlib inflation that never produces more than the caller has room for."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(_INFLATE_WBITS)

    def inflate_into(self, body: bytearray, data: bytes, cap: int) -> None:
        """Append what ``data`` inflates to, a megabyte at a time, stopping past ``cap``."""
        pending = data
        try:
            while pending and len(body) <= cap:
                room = cap - len(body) + 1
                body += self._inflate.decompress(pending, min(room, _PIECE))
                pending = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise CorruptBody(f"corrupt compressed body ({exc})") from exc

    def finish_into(self, body: bytearray) -> None:
        """Append what zlib still holds back (at most its 32 KB window) at the end."""
        try:
            body += self._inflate.flush()
        except zlib.error as exc:
            raise CorruptBody(f"corrupt compressed body ({exc})") from exc


def _declared_size(response: httpx.Response) -> int | None:
    raw = response.headers.get("Content-Length", "").strip()
    return int(raw) if raw.isdigit() else None


def _check_size(body: bytearray, cap: int) -> None:
    if len(body) > cap:
        raise BodyTooLarge(f"is larger than the limit of {cap} bytes")


def _collect(chunks: Iterable[bytes], inflater: _Inflater | None, cap: int) -> bytearray:
    body = bytearray()
    for chunk in chunks:
        # Also checked here, for transports that do not run on DeadlineBackend (a proxy's).
        _left(None, httpx.ReadTimeout)
        if inflater is None:
            body += chunk
        else:
            inflater.inflate_into(body, chunk, cap)
        _check_size(body, cap)
    if inflater is not None:
        inflater.finish_into(body)
        _check_size(body, cap)
    return body


def read_capped(response: httpx.Response, cap: int) -> httpx.Response:
    """Read a streamed response into a plain one whose decoded body is at most ``cap`` bytes.

    A declared Content-Length above the cap is refused before a byte of the body is read.
    """
    declared = _declared_size(response)
    if declared is not None and declared > cap:
        raise BodyTooLarge(f"declares {declared} bytes, more than the limit of {cap}")
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in _IDENTITY | _INFLATED:
        raise CorruptBody(f"unexpected Content-Encoding {encoding!r}")
    inflater = _Inflater() if encoding in _INFLATED else None
    body = _collect(response.iter_raw(), inflater, cap)
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in _DROPPED_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=bytes(body),
        request=response.request,
        extensions={
            "http_version": response.extensions.get("http_version", b"HTTP/1.1"),
            "reason_phrase": response.extensions.get("reason_phrase", b""),
        },
    )
