"""The project's exceptions.

Every error a user can cause carries a ``fix`` so the CLI can print one line that says what went
wrong *and* what to do, without a traceback. Network and stage failures are separate so the CLI can
tell "you made a mistake" (exit 2) from "the world failed us" (exit 1).
"""

from __future__ import annotations

from typing import Any

from arxiv_radar.secrets import scrub

__all__ = [
    "ArxivRadarError",
    "ConfigError",
    "FetchError",
    "LockError",
    "QuerySyntaxError",
    "SourceFormatError",
    "StageError",
    "StoreError",
    "UserError",
]


class ArxivRadarError(Exception):
    """Base of every error this package raises on purpose.

    The message and fix are scrubbed of every registered secret here, once: they quote server
    replies, and end up on stderr and in the run record.
    """

    def __init__(self, message: str, *, fix: str = "") -> None:
        message, fix = scrub(message), scrub(fix)
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} ({self.fix})" if self.fix else self.message


class UserError(ArxivRadarError):
    """Something the user can correct: config, arguments, a missing key. CLI exit code 2."""


class ConfigError(UserError):
    """The config file is missing, unreadable or invalid; the message names the file and key."""


class QuerySyntaxError(UserError):
    """A topic query does not parse; carries the query text and the 0-based character position."""

    def __init__(self, message: str, *, query: str, position: int, fix: str = "") -> None:
        super().__init__(message, fix=fix)
        self.query = query
        self.position = position

    def pointer(self) -> str:
        """The query with a caret under the offending character, for multi-line displays."""
        return f"{self.query}\n{' ' * self.position}^"


class LockError(UserError):
    """Another arxiv-radar process holds the database lock."""


class StageError(ArxivRadarError):
    """A pipeline stage could not finish (network down, server errors after retries): exit 1.

    ``partial`` carries what the stage did commit before failing (a backfill that stored three
    windows out of five), so the run record tells the whole story.
    """

    partial: dict[str, Any] | None = None


class FetchError(StageError):
    """An HTTP request failed for good after its retries; the message names the URL."""

    def __init__(self, message: str, *, url: str, fix: str = "") -> None:
        super().__init__(message, fix=fix)
        self.url = scrub(url)


class SourceFormatError(FetchError):
    """A server answered with something we cannot parse (truncated XML, an error feed, bad JSON)."""


class StoreError(ArxivRadarError):
    """The database is unusable: corrupt, from a newer version, or not writable."""
