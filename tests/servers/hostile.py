"""Hostile servers: answers written byte by byte, so a test can drip, bloat or bomb the client.

:class:`~tests.servers.http.LocalServer` builds a whole reply before sending it, which cannot
express a server that drips one byte a second or streams 200 MB it never holds in memory. The
:class:`HostileServer` here reads a request line and headers and hands the raw socket to a
*mode*, a function that writes whatever it likes. Payload helpers for the hostile answers that
do fit in one reply (a redirect loop, a corrupt gzip body, 200,000-deep JSON, a 9999 date, bad
Atom entries beside good ones) live here too, so each case of issue 14 has one home.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from tests.servers.http import Reply

__all__ = [
    "HostileServer",
    "Mode",
    "big_body",
    "corrupt_gzip",
    "deep_json",
    "drip_body",
    "drip_headers",
    "gzip_bomb",
    "gzip_bomb_body",
    "hostile_server",
    "redirect_loop",
]

Mode = Callable[[socket.socket, threading.Event], None]
_CHUNK = 64 * 1024


def _send(sock: socket.socket, data: bytes) -> bool:
    """Write ``data``; False once the client has hung up (which is how a defended client ends)."""
    try:
        sock.sendall(data)
    except OSError:
        return False
    return True


def drip_body(interval: float = 0.1, size: int = 10_000) -> Mode:
    """Headers at once, then the ``size``-byte body one byte every ``interval`` seconds."""

    def mode(sock: socket.socket, stop: threading.Event) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\n\r\n"
        if not _send(sock, head.encode()):
            return
        for _ in range(size):
            if stop.wait(interval) or not _send(sock, b"x"):
                return

    return mode


def drip_headers(interval: float = 0.1, count: int = 10_000) -> Mode:
    """The status line, then one header byte every ``interval`` seconds: the headers never end."""

    def mode(sock: socket.socket, stop: threading.Event) -> None:
        if not _send(sock, b"HTTP/1.1 200 OK\r\nX-Slow: "):
            return
        for _ in range(count):
            if stop.wait(interval) or not _send(sock, b"a"):
                return

    return mode


def big_body(size: int, *, declare: bool = True) -> Mode:
    """``size`` bytes of zeros, streamed (never held); with a Content-Length or chunked."""

    def mode(sock: socket.socket, stop: threading.Event) -> None:
        framing = f"Content-Length: {size}" if declare else "Transfer-Encoding: chunked"
        if not _send(sock, f"HTTP/1.1 200 OK\r\n{framing}\r\n\r\n".encode()):
            return
        block = b"\0" * _CHUNK
        frame = block if declare else b"%x\r\n%s\r\n" % (len(block), block)
        for _ in range(size // _CHUNK):
            if stop.is_set() or not _send(sock, frame):
                return
        if not declare:
            _send(sock, b"0\r\n\r\n")

    return mode


def gzip_bomb_body(compressed: int) -> bytes:
    """About ``compressed`` bytes of gzip that inflate ~1000-fold (4 MB -> ~4 GB of zeros).

    Built from one full-flush block of a megabyte of zeros repeated: each block decodes on its
    own, so building the bomb costs nothing. It has no trailer: a client that reads it all has
    lost already.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    header = packer.compress(b"") + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(b"\0" * 2**20) + packer.flush(zlib.Z_FULL_FLUSH)
    return header + block * max(1, compressed // len(block))


def gzip_bomb(compressed: int = 4 * 2**20) -> Mode:
    """A gzip bomb declared honestly (``Content-Length`` of the compressed bytes)."""
    body = gzip_bomb_body(compressed)

    def mode(sock: socket.socket, stop: threading.Event) -> None:
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        if not _send(sock, head.encode()):
            return
        for start in range(0, len(body), _CHUNK):
            if stop.is_set() or not _send(sock, body[start : start + _CHUNK]):
                return

    return mode


def redirect_loop(path: str) -> Reply:
    """A redirect to itself, forever."""
    return Reply(302, b"", {"Location": path})


def corrupt_gzip(payload: bytes = b'{"id": "2611.00001"}') -> Reply:
    """A gzip body whose first deflate block is damaged (its type set to the reserved 0b11)."""
    packed = bytearray(zlib.compress(payload * 50, 9, wbits=31))
    packed[10] |= 0b110
    return Reply(
        200, bytes(packed), {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )


def deep_json(depth: int = 200_000) -> Reply:
    """Valid JSON nested ``depth`` levels deep: ``json.loads`` recurses once per level."""
    return Reply(200, "[" * depth + "]" * depth, {"Content-Type": "application/json"})


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            data = sock.recv(4096)
            if not data:
                return
            head += data
        path = head.split(b" ", 2)[1].decode().split("?", 1)[0]
        self.server.hostile.hits.append(path)
        mode = self.server.hostile.modes.get(path)
        if mode is None:
            _send(sock, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        mode(sock, self.server.hostile.stop)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    hostile: HostileServer


class HostileServer:
    """Paths mapped to modes, the paths requested so far, and the base URL."""

    def __init__(self) -> None:
        self.modes: dict[str, Mode] = {}
        self.hits: list[str] = []
        self.stop = threading.Event()
        self.url = ""

    def route(self, path: str, mode: Mode) -> None:
        self.modes[path] = mode


@contextmanager
def hostile_server(routes: Sequence[tuple[str, Mode]] = ()) -> Iterator[HostileServer]:
    """Start a raw threaded server on an ephemeral 127.0.0.1 port; stop it (and every mode
    still writing) when the block ends."""
    state = HostileServer()
    for path, mode in routes:
        state.route(path, mode)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.hostile = state
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
