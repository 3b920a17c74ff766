"""A real SMTP server on 127.0.0.1 (aiosmtpd in a thread) that keeps every message it accepts.

Code under test talks real SMTP over a real socket: EHLO, optional AUTH and STARTTLS, envelope
and DATA. Tests read back the envelope and the parsed message. The port is chosen by the kernel
(port 0) so parallel test runs never collide.
"""

from __future__ import annotations

import asyncio
import email
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["Received", "SmtpServer", "smtp_server"]


@dataclass(frozen=True)
class Received:
    """One accepted message: the SMTP envelope and the raw and parsed content."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)  # every AUTH attempt's user name
    refusing: bool = False  # answer DATA with a temporary failure, like a provider in trouble


class _Recorder:
    def __init__(self, state: SmtpServer) -> None:
        self.state = state

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.state.refusing:
            return "451 4.3.0 Temporary local problem, try again later"
        raw = envelope.original_content or b""
        login = session.auth_data.login.decode() if session.auth_data else None
        self.state.received.append(
            Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), raw, login)
        )
        return "250 Message accepted for delivery"


class _Authenticator:
    """Accepts exactly one user/password pair, the way a real provider does."""

    def __init__(self, state: SmtpServer, user: str, password: str) -> None:
        self.state, self.user, self.password = state, user, password

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.state.logins.append(data.login.decode())
        ok = data.login.decode() == self.user and data.password.decode() == self.password
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class _EphemeralController(Controller):
    """aiosmtpd's Controller wants a fixed port; read the kernel-chosen one before first use."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@contextmanager
def smtp_server(
    *,
    user: str | None = None,
    password: str | None = None,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    handler_mixin: type | None = None,
    **extra: Any,
) -> Iterator[SmtpServer]:
    """Run a recording SMTP server.

    With ``user``/``password`` it offers AUTH (also without TLS, for tests); with ``tls_context``
    it offers STARTTLS, or speaks TLS from the first byte when ``implicit_tls`` is true.
    ``handler_mixin`` adds ``auth_<MECHANISM>`` methods (aiosmtpd prefers the handler's to its
    own) and ``extra`` goes to aiosmtpd's SMTP class, for hostile servers (tests/servers/echo.py).
    """
    state = SmtpServer(host="127.0.0.1", port=0)
    options: dict[str, Any] = {"auth_require_tls": False, **extra}
    if user is not None and password is not None:
        options["authenticator"] = _Authenticator(state, user, password)
    if tls_context is not None and not implicit_tls:
        options["tls_context"] = tls_context
    recorder = _Recorder
    if handler_mixin is not None:
        recorder = type("HostileRecorder", (handler_mixin, _Recorder), {})
    controller = _EphemeralController(
        recorder(state),
        hostname="127.0.0.1",
        port=0,
        ssl_context=tls_context if implicit_tls else None,
        **options,
    )
    controller.start()
    state.port = controller.port
    try:
        yield state
    finally:
        controller.stop()
