"""The one scrubber: no configured secret reaches a log line, an error, the store or an output.

Servers echo what they are sent, and not always verbatim: GitHub's GraphQL error may quote the
bearer token, an SMTP server may echo the base64 of the AUTH exchange, a redirect's ``Location``
repeats a webhook's query string URL-encoded, a JSON error body escapes its slashes. So every
secret is registered once, when it is read from the environment, as a pattern that matches it
with any of its characters URL-encoded, JSON- or HTML-escaped, plus its base64 forms, and
:func:`scrub` replaces every match in any text.

Secrets are process-wide (they come from the process environment), so the registry is too: the
:class:`SecretFilter` attached to the HTTP stack's loggers and to the CLI's log handler, the
project's exceptions (:class:`~arxiv_radar.errors.ArxivRadarError` scrubs its message) and the
run record all consult the same one.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "MASK",
    "SecretFilter",
    "install",
    "register",
    "register_config",
    "register_url",
    "scrub",
    "scrub_data",
    "secret_patterns",
    "secret_variables",
]

MASK = "***"
# Shorter values are not scrubbed: replacing "ab" everywhere would garble every message, and a
# secret that short protects nothing anyway.
MIN_SECRET = 4
# Parts of a secret URL at least this long are secrets on their own: path segments (Slack's
# tokens are 24 characters, Discord's 68, Feishu's 36; "services" or "webhooks" are not) and
# query values (signatures and keys; "v=1" is not).
MIN_PATH_SEGMENT = 16
MIN_QUERY_VALUE = 8
# Base64 of a secret that sits at an arbitrary offset of a longer blob (AUTH PLAIN is
# "\0user\0password") is only found through its alignment-independent core, which is long
# enough to be unambiguous only for secrets of this length.
_MIN_CORE_SECRET = 8
# The loggers that write request lines, headers (``Location``) and bodies at -vv.
_HTTP_LOGGERS = (
    "arxiv_radar.http",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)
_DEFAULT_SECRET_VARIABLES = ("GITHUB_TOKEN",)


class _Registry:
    """Every registered pattern and its replacement, compiled into one regular expression."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._labels: dict[str, str] = {}  # pattern source -> replacement
        self._pattern: re.Pattern[str] | None = None
        self._matchers: list[tuple[re.Pattern[str], str]] = []

    def add(self, patterns: Iterable[str], label: str) -> None:
        with self._lock:
            new = {source: label for source in patterns if self._labels.get(source) != label}
            if not new:
                return
            self._labels.update(new)
            ordered = sorted(self._labels, key=len, reverse=True)  # the longest secret wins
            self._matchers = [(re.compile(source), self._labels[source]) for source in ordered]
            self._pattern = re.compile("|".join(f"(?:{source})" for source in ordered))

    def scrub(self, text: str) -> str:
        pattern, matchers = self._pattern, self._matchers
        if pattern is None or not text:
            return text
        return pattern.sub(lambda match: _label_of(match.group(0), matchers), text)


def _label_of(found: str, matchers: list[tuple[re.Pattern[str], str]]) -> str:
    return next((label for matcher, label in matchers if matcher.fullmatch(found)), MASK)


_REGISTRY = _Registry()
# How a character may be written back besides itself: JSON (``\/``, ``\"``, ``\\``), a Python
# bytes repr (``\'``), HTML entities; percent-escapes are added for every character but letters
# and digits, in both cases, so every partial URL encoding (httpx keeps ``/`` and ``+``) matches.
_ESCAPES = {
    "/": ["\\/"],
    '"': ['\\"', "&quot;", "&#34;"],
    "\\": ["\\\\"],
    "'": ["\\'", "&#39;", "&#x27;"],
    "&": ["&amp;", "&#38;"],
    "<": ["&lt;", "\\u003c"],
    ">": ["&gt;", "\\u003e"],
    " ": ["+"],
}


def _char_pattern(char: str) -> str:
    """A regular expression for ``char`` in any of the spellings above."""
    if char.isascii() and char.isalnum():
        return char
    hexes = [f"{byte:02X}" for byte in char.encode()]
    forms = [char, *_ESCAPES.get(char, [])]
    forms += ["".join(f"%{h}" for h in hexes), "".join(f"%{h.lower()}" for h in hexes)]
    if not char.isascii():
        forms.append("".join(f"\\x{byte:02x}" for byte in char.encode()))  # a bytes repr
        if ord(char) < 0x10000:
            forms += [f"\\u{ord(char):04x}", f"\\u{ord(char):04X}"]  # JSON, ASCII-only
    return "(?:" + "|".join(re.escape(form) for form in forms) + ")"


def _base64_forms(raw: bytes) -> Iterator[str]:
    """The secret's base64 when it starts a blob, and, for long secrets, the core that every
    blob containing it at any offset carries (the characters made of its bits alone)."""
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        yield encode(raw).decode().rstrip("=")
        if len(raw) < _MIN_CORE_SECRET:
            continue
        for offset in range(3):
            blob = encode(b"\0" * offset + raw).decode()
            first = -(-offset * 8 // 6)  # the first character after the padding bits
            last = (offset + len(raw)) * 8 // 6  # excludes the one shared with what follows
            yield blob[first:last]


def secret_patterns(value: str) -> set[str]:
    """Regular expressions for ``value`` as servers and libraries write it back: raw, with any
    characters URL-encoded, JSON- or HTML-escaped or in a bytes repr, and base64-encoded."""
    patterns = {"".join(_char_pattern(char) for char in value)}
    patterns.update(re.escape(form) for form in _base64_forms(value.encode()))
    return patterns


def register(*values: str, label: str = MASK) -> None:
    """Scrub these values (and their encodings) from now on, replaced by ``label``."""
    for value in values:
        secret = value.strip()
        if len(secret) >= MIN_SECRET:
            _REGISTRY.add(secret_patterns(secret), label)


def register_url(url: str, *, label: str = MASK) -> None:
    """A URL that is itself a credential (a chat webhook): the whole URL, its path, every long
    path segment and every long query value are secrets, so an echo of any part is scrubbed."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        register(url, label=label)
        return
    # Without its query too: the HTTP client logs it with credential-like keys already masked.
    pieces = [url, url.split("#", 1)[0], urlunsplit(parts._replace(query="", fragment=""))]
    if len(parts.path) > 1:
        pieces.append(parts.path)
    pieces += [seg for seg in parts.path.split("/") if len(seg) >= MIN_PATH_SEGMENT]
    pieces += [value for _key, value in query if len(value) >= MIN_QUERY_VALUE]
    if parts.password:
        pieces.append(parts.password)
    register(*pieces, label=label)


def secret_variables(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(config key, variable name) for every ``*_env`` setting that names a variable.

    Settings hold the NAME of the variable that holds a secret, never the secret, so walking the
    config finds every token a configured provider will need, whatever section it lives in.
    """
    # Here, not at the top: the CLI's start-up imports this module and must not load pydantic
    # (a loaded config has imported it already, so this costs nothing).
    from pydantic import BaseModel  # noqa: PLC0415

    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            yield from secret_variables(value, f"{key}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from secret_variables(item, f"{key}[{index}].")
        elif name.endswith("_env") and isinstance(value, str) and value:
            yield key, value


def register_config(config: BaseModel, env: Mapping[str, str] | None = None) -> None:
    """Register the value of every variable the config names, and ``GITHUB_TOKEN``, as soon as
    the config loads: before any request is made, any line logged or any error raised."""
    env = os.environ if env is None else env
    names = [name for _key, name in secret_variables(config)]
    for name in (*names, *_DEFAULT_SECRET_VARIABLES):
        value = env.get(name, "").strip()
        if "://" in value:
            register_url(value)
        elif value:
            register(value)


def scrub(text: str) -> str:
    """``text`` with every registered secret, in every registered form, replaced."""
    return _REGISTRY.scrub(text)


def scrub_data(data: Any) -> Any:
    """A copy of JSON-like ``data`` (the run record) with every string scrubbed."""
    if isinstance(data, str):
        return scrub(data)
    if isinstance(data, dict):
        return {scrub_data(key): scrub_data(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [scrub_data(item) for item in data]
    return data


class SecretFilter(logging.Filter):
    """Scrubs a record's message, arguments and traceback before any handler formats it.

    Arguments stay arguments where they hold no secret (numbers keep their ``%d``, URLs stay
    objects for the URL redaction in :mod:`arxiv_radar.http`); one that does becomes its
    scrubbed text. httpcore's debug lines (headers, ``Location`` included) are preformatted
    messages, scrubbed whole.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _scrub_arg(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub_arg(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _scrub_arg(arg) for key, arg in record.args.items()}
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            if scrub(text) != text:
                record.msg = f"{record.getMessage()}\n{scrub(text)}"
                record.args, record.exc_info, record.exc_text = None, None, None
        return True


def _scrub_arg(arg: object) -> object:
    if arg is None or isinstance(arg, (int, float)):
        return arg
    text = str(arg)
    clean = scrub(text)
    return arg if clean == text else clean


_FILTER = SecretFilter()


def install(handler: logging.Handler) -> None:
    """Scrub every record this handler emits, whichever logger (httpcore included) made it."""
    if _FILTER not in handler.filters:
        handler.addFilter(_FILTER)


def _install_on_http_loggers() -> None:
    """Library callers without the CLI's handler (and pytest's log capture) get scrubbed HTTP
    lines too: the records of these loggers are scrubbed where they are made."""
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


_install_on_http_loggers()
