"""arXiv's listing calendar, and the latest listing this digest ingested.

Kept apart from the fetch and the gap fill (and their HTTP clients) because the publisher needs
them too: the home page is the latest announcement, and the pages date themselves by it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from arxiv_radar.store import Store

__all__ = [
    "ANNOUNCEMENT",
    "EASTERN",
    "LAST_ANNOUNCEMENT",
    "SUBMISSION_CUTOFF",
    "Announcement",
    "latest_announcement",
    "latest_listing_day",
    "missed_days",
    "open_gap",
    "previous_listing_day",
    "submission_cutoff",
]

log = logging.getLogger(__name__)

EASTERN = ZoneInfo("America/New_York")
SUBMISSION_CUTOFF = time(14, 0)  # US Eastern: later submissions go to the next announcement
ANNOUNCEMENT = time(20, 0)  # US Eastern: the listing dated the next day appears around then


# --- arXiv's calendar -------------------------------------------------------------------------


def previous_listing_day(day: date) -> date:
    """The listing dated before ``day``: listings are dated Monday to Friday."""
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def missed_days(last: date, listed: date) -> list[date]:
    """Listing days strictly between the last one ingested and today's (holidays included: their
    windows are simply empty)."""
    days: list[date] = []
    day = previous_listing_day(listed)
    while day > last:
        days.append(day)
        day = previous_listing_day(day)
    return days[::-1]


def submission_cutoff(listing_day: date) -> datetime:
    """The end (UTC) of the submissions announced in the listing dated ``listing_day``: 14:00
    US Eastern on the listing day before it (Friday's for Monday's listing)."""
    moment = datetime.combine(previous_listing_day(listing_day), SUBMISSION_CUTOFF, EASTERN)
    return moment.astimezone(timezone.utc)


def latest_listing_day(now: datetime) -> date:
    """The newest listing that exists at ``now``: it appears around 20:00 US Eastern the evening
    before its date, Sunday to Thursday."""
    eastern = now.astimezone(EASTERN)
    day = eastern.date() + timedelta(days=1 if eastern.time() >= ANNOUNCEMENT else 0)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def open_gap(last: date, now: datetime) -> list[date]:
    """Listing days after ``last`` that exist at ``now`` but were not ingested yet."""
    return missed_days(last, latest_listing_day(now) + timedelta(days=1))


# --- the latest listing ingested -----------------------------------------------------------------

#: Meta key of the newest arXiv announcement ingested: ``{"day": "YYYY-MM-DD", "listed": N}``.
#: Pages date themselves by it, not by the fetch time, so a run that finds no new announcement
#: (a weekend, a second run the same day) rewrites no byte.
LAST_ANNOUNCEMENT = "last_announcement"


@dataclass(frozen=True)
class Announcement:
    """The newest listing day read, and how many new (and cross-listed) papers it held."""

    day: date
    listed: int


def latest_announcement(store: Store) -> Announcement | None:
    """The newest announcement ingested, or None before the first one (or if unreadable)."""
    raw = store.get_meta(LAST_ANNOUNCEMENT)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Announcement(day=date.fromisoformat(data["day"]), listed=int(data["listed"]))
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable %s in the store: %r", LAST_ANNOUNCEMENT, raw)
        return None
