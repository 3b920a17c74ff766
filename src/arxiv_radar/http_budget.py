"""What a run may spend on the network: the pacing and retry settings every client shares, and
the run's time budget with the ``Retry-After`` waits it grants.

Apart from :mod:`arxiv_radar.http` (and httpx), so that a command that sends no request, such as
``publish``, can hold a run's budget without importing an HTTP client.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from arxiv_radar import __version__
from arxiv_radar.errors import FetchError, StageError

__all__ = ["HttpSettings", "RetryEvent", "RunBudget", "RunBudgetExceeded"]


@dataclass(frozen=True)
class HttpSettings:
    """Pacing, timeouts and retry policy; tests shrink the waits to keep the suite fast."""

    request_interval: float = 3.0
    timeout: float = 30.0  # per socket operation (connect, each read, each write)
    request_deadline: float = 120.0  # per attempt, from connecting to the last body byte
    max_response_bytes: int = 32 * 1024 * 1024  # decoded; a larger answer is refused
    max_retries: int = 4
    backoff_base: float = 2.0
    backoff_max: float = 60.0
    retry_after_max: float = 30.0  # longest single Retry-After wait honoured
    retry_after_per_host: float = 60.0  # Retry-After waits one host may cost a run
    retry_after_per_run: float = 180.0  # Retry-After waits all hosts together may cost a run
    user_agent: str = f"arxiv-radar/{__version__} (+https://github.com/arxiv-radar/arxiv-radar)"


@dataclass(frozen=True)
class RetryEvent:
    """One retried attempt, kept for the run record; ``url`` is already redacted."""

    url: str
    attempt: int
    reason: str
    wait: float


class RunBudgetExceeded(StageError):
    """The run's time budget (``http.run_budget``) is spent: the stage stops where it is.

    Not a :class:`FetchError`, so no per-paper handler mistakes it for one failed look-up and
    carries on: it ends the stage, which keeps what it committed.
    """


class RunBudget:
    """One run's time on the network, and the ``Retry-After`` waits it grants, across clients.

    Shared by every client of a run, so the caps hold however many host families it talks to.
    ``seconds=None`` means no time budget (one-off commands such as ``doctor``).
    """

    def __init__(self, settings: HttpSettings, seconds: float | None = None) -> None:
        self.seconds = seconds
        self._settings = settings
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._waited: dict[str, float] = {}
        self._deferred_until: dict[str, float] = {}
        self.deferred: dict[str, float] = {}  # host -> the longest wait it asked for, unpaid

    def start(self) -> None:
        """Start the clock again: a run's budget counts from when it holds the workspace lock,
        not from the time it spent waiting for another run to finish."""
        self._started = time.monotonic()

    def remaining(self) -> float | None:
        """Seconds left, ``None`` without a budget; never negative."""
        if self.seconds is None:
            return None
        return max(0.0, self.seconds - (time.monotonic() - self._started))

    def check(self, method: str, safe_url: str, host: str) -> None:
        """Refuse a request when the budget is spent or ``host`` asked us to come back later."""
        if self.remaining() == 0:
            raise self.exceeded()
        with self._lock:
            until = self._deferred_until.get(host)
        if until is not None and time.monotonic() < until:
            raise FetchError(
                f"{method} {safe_url}: deferred to the next run ({host} asked to wait longer "
                "than this run allows)",
                url=safe_url,
                fix="nothing to do: the request is retried on the next run",
            )

    def exceeded(self) -> RunBudgetExceeded:
        return RunBudgetExceeded(
            f"the run budget of {self.seconds:g} s is spent; the rest waits for the next run",
            fix="raise http.run_budget, or let the next run carry on from here",
        )

    def grant(self, host: str, asked: float) -> float | None:
        """The part of a ``Retry-After`` wait this run pays for, or ``None``: deferred."""
        wait = min(asked, self._settings.retry_after_max)
        with self._lock:
            host_total = self._waited.get(host, 0.0) + wait
            run_total = sum(self._waited.values()) + wait
            remaining = self.remaining()
            fits = (
                host_total <= self._settings.retry_after_per_host
                and run_total <= self._settings.retry_after_per_run
                and (remaining is None or wait < remaining)
            )
            if fits:
                self._waited[host] = host_total
                return wait
            self._deferred_until[host] = time.monotonic() + asked
            self.deferred[host] = max(asked, self.deferred.get(host, 0.0))
            return None

    def backoff(self, wait: float) -> float:
        """A backoff wait the budget can afford; raise when it would outlast the run."""
        remaining = self.remaining()
        if remaining is not None and wait >= remaining:
            raise self.exceeded()
        return wait

    def attempt_deadline(self, limit: float) -> float:
        """The ``time.monotonic`` moment an attempt allowed ``limit`` seconds must be over by."""
        remaining = self.remaining()
        if remaining is not None:
            limit = min(limit, remaining)
        return time.monotonic() + limit
