"""Hostile servers that echo the credentials they are sent, in every encoding a real one might.

Each installs routes on a :class:`~tests.servers.http.LocalServer` (or runs an SMTP server) and
answers with an error that quotes the secret raw, URL-encoded, base64-encoded and JSON-escaped:
GitHub's GraphQL "Bad credentials: bearer ...", a translator's "Incorrect API key", Feishu's
``msg``, a generic webhook that redirects with its query string and then rejects the signature,
a Slack hook that redirects (its ``Location`` carries the hook path, logged by httpcore at -vv),
and an SMTP server whose AUTH replies repeat the base64 exchange.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

from aiosmtpd.smtp import SMTP, AuthResult

from tests.servers.http import LocalServer, Reply, Request
from tests.servers.smtp import SmtpServer, smtp_server

__all__ = [
    "echo_github",
    "echo_translator",
    "encodings",
    "every_form",
    "feishu_echo",
    "generic_redirect_echo",
    "slack_redirect",
    "smtp_auth_echo",
]


def encodings(secret: str) -> dict[str, str]:
    """The forms a leak test looks for: raw, URL-encoded (both styles), base64, JSON-escaped."""
    raw = secret.encode()
    return {
        "raw": secret,
        "url": quote(secret, safe=""),
        "url+": quote_plus(secret),
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode(),
        "json": json.dumps(secret)[1:-1],
        "json/": json.dumps(secret)[1:-1].replace("/", "\\/"),
    }


def every_form(secret: str) -> str:
    """One line that repeats ``secret`` in each of its encodings."""
    return " ".join(f"{name}={form}" for name, form in encodings(secret).items())


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, json.dumps(payload), {"Content-Type": "application/json", **(headers or {})}
    )


def echo_github(server: LocalServer) -> None:
    """``POST /graphql``: no data, and an error quoting the Authorization header it received."""

    def answer(request: Request) -> Reply:
        token = request.headers.get("authorization", "").split(" ", 1)[-1]
        message = f"Bad credentials: bearer {token} ({every_form(token)})"
        return _json(200, {"data": None, "errors": [{"type": "FORBIDDEN", "message": message}]})

    server.route("POST", "/graphql", answer)


def echo_translator(server: LocalServer, prefix: str = "/v1") -> None:
    """OpenAI-compatible chat completions that refuse the key, quoting it in a 200 error body
    (some proxies answer 200) so the message reaches the caller's parser."""

    def answer(request: Request) -> Reply:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        return _json(200, {"error": {"message": f"Incorrect API key: {every_form(key)}"}})

    server.route("POST", f"{prefix}/chat/completions", answer)


def feishu_echo(server: LocalServer, path: str, *, secret: str) -> None:
    """A Feishu bot that refuses the message with ``code`` and a ``msg`` quoting its hook token
    and the signing secret (as a compromised or debugging proxy would)."""
    token = path.rsplit("/", 1)[-1]

    def answer(request: Request) -> Reply:
        msg = f"sign match fail: hook {every_form(token)} secret {every_form(secret)}"
        return _json(200, {"code": 19021, "msg": msg, "data": {}})

    server.route("POST", path, answer)


def generic_redirect_echo(server: LocalServer, path: str) -> None:
    """A JSON webhook at ``path?sig=...``: 307 to another path carrying the same query (lower-case
    percent-escapes, as some servers rewrite them), which then rejects the signature, quoting it."""
    moved = f"{path}-moved"

    def redirect(request: Request) -> Reply:
        sig = request.param("sig")
        lowered = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(sig, safe=""))
        location = f"{server.url}{moved}?sig={lowered}&from={quote(path)}"
        return Reply(307, "", {"Location": location})

    def reject(request: Request) -> Reply:
        return _json(401, {"error": f"bad signature {every_form(request.param('sig'))}"})

    server.route("POST", path, redirect)
    server.route("POST", moved, reject)


def slack_redirect(server: LocalServer, path: str) -> None:
    """A Slack hook that moved: 302 to a URL with the hook path, then ``ok`` there."""
    moved = f"/moved{path}"
    server.route("POST", path, Reply(302, "", {"Location": f"{server.url}{moved}"}))
    server.route("GET", moved, Reply(200, "ok", {"Content-Type": "text/plain"}))


class _EchoingAuth:
    """aiosmtpd AUTH mechanisms that refuse every login, repeating the client's base64 lines."""

    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:
        blob = args[1] if len(args) > 1 else ""
        await server.push(f"535 5.7.8 authentication failed for {blob}")
        return AuthResult(success=False, handled=True)

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:
        user = args[1] if len(args) > 1 else ""
        password = await server.challenge_auth(server.AuthLoginPasswordChallenge)
        echoed = base64.b64encode(password if isinstance(password, bytes) else b"").decode()
        await server.push(f"535 5.7.8 authentication failed for {user} {echoed}")
        return AuthResult(success=False, handled=True)


@contextmanager
def smtp_auth_echo(mechanism: str = "PLAIN") -> Iterator[SmtpServer]:
    """An SMTP server offering only ``mechanism``, echoing the AUTH exchange in its refusal."""
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    options: dict[str, Any] = {"auth_exclude_mechanism": [other]}
    with smtp_server(handler_mixin=_EchoingAuth, **options) as state:
        yield state
