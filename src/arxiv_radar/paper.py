"""The one data model every stage shares, and arXiv identifier helpers.

Sources produce :class:`Paper`; the store keeps one row per ``arxiv_id`` (no version); publishers
read them back. Dates are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = [
    "EARLIEST_DATE",
    "FUTURE_SLACK",
    "TEXT_CAPS",
    "Entry",
    "Paper",
    "abs_url",
    "check_date",
    "clip",
    "pdf_url",
    "split_version",
]

# arXiv opened in August 1991; nothing it serves is older, and nothing is from the future
# beyond a few days of clock skew. A date outside is garbage (9999-12-31 once blocked every
# later publish with "year 10000 is out of range"), rejected before it reaches the store.
EARLIEST_DATE = datetime(1991, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=3)

# The longest text a stored field keeps (characters; authors: names kept, and characters per
# name). arXiv's own limits are far lower (abstracts: 1,920 characters); these only stop a
# hostile answer from multiplying into every published file. Longer text is cut, ending in "…".
TEXT_CAPS = {
    "title": 1_000,
    "abstract": 10_000,
    "comment": 1_000,
    "journal_ref": 1_000,
    "doi": 200,
    "author": 300,
    "authors": 5_000,
    "category": 40,
    "categories": 100,
    "text": 20_000,  # a translation or TL;DR
    "url": 2_000,  # a code or project link; a longer one is dropped, not cut
}
_ELLIPSIS = "…"
_STRING_CAPS = (
    *((name, TEXT_CAPS[name]) for name in ("title", "abstract", "comment", "journal_ref", "doi")),
    ("primary_category", TEXT_CAPS["category"]),
)
_LIST_CAPS = (
    ("authors", TEXT_CAPS["authors"], TEXT_CAPS["author"]),
    ("categories", TEXT_CAPS["categories"], TEXT_CAPS["category"]),
)

# New-style ids (0704.0001 .. 2608.11232) and old-style ids (hep-th/9711200, math.GT/0309136).
_ID_RE = re.compile(
    r"^(?:arxiv:)?(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?$",
    re.IGNORECASE,
)


def split_version(raw: str) -> tuple[str, int | None]:
    """Split ``2608.11232v3`` (or an abs/pdf URL, or ``oai:arXiv.org:...``) into id and version.

    Raises ``ValueError`` for text that is not an arXiv id: callers decide whether that is a
    malformed response (a source error) or a user mistake.
    """
    text = raw.strip()
    for prefix in (
        "oai:arXiv.org:",
        "http://arxiv.org/abs/",
        "https://arxiv.org/abs/",
        "http://arxiv.org/pdf/",
        "https://arxiv.org/pdf/",
    ):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.removesuffix(".pdf")
    match = _ID_RE.match(text)
    if match is None:
        raise ValueError(f"not an arXiv identifier: {raw!r}")
    version = match.group("v")
    return match.group("id"), int(version) if version else None


def check_date(value: datetime, *, now: datetime | None = None) -> datetime:
    """``value`` when it is a plausible arXiv date (1991 to a few days from now), else
    ``ValueError``: callers reject the one entry that carries it."""
    latest = (now or datetime.now(timezone.utc)) + FUTURE_SLACK
    if not EARLIEST_DATE <= value <= latest:
        raise ValueError(
            f"date {value.isoformat()} is outside {EARLIEST_DATE.year}..{latest:%Y-%m-%d}"
        )
    return value


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (the last one an ellipsis) when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"


@dataclass(frozen=True, slots=True)
class Paper:
    """One arXiv paper at one version.

    ``published`` is the date of version 1 (what readers call the publish date); ``updated`` is
    the date of ``version``. cv-arxiv-daily showed ``updated`` and so re-dated papers on every
    revision; we never do.
    """

    arxiv_id: str
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    primary_category: str
    published: datetime
    updated: datetime
    comment: str = ""
    doi: str = ""
    journal_ref: str = ""

    def __post_init__(self) -> None:
        """Cap every text field (see :data:`TEXT_CAPS`), whichever source built the paper."""
        for name, cap in _STRING_CAPS:
            value: str = getattr(self, name)
            if len(value) > cap:
                object.__setattr__(self, name, clip(value, cap))
        for name, count, cap in _LIST_CAPS:
            values: tuple[str, ...] = getattr(self, name)
            # max(map(len)) runs in C: this check runs for every entry a publish decodes.
            if len(values) > count or (values and max(map(len, values)) > cap):
                object.__setattr__(self, name, tuple(clip(v, cap) for v in values[:count]))

    @property
    def abs_url(self) -> str:
        return abs_url(self.arxiv_id)

    @property
    def pdf_url(self) -> str:
        return pdf_url(self.arxiv_id)

    @property
    def first_author(self) -> str:
        return self.authors[0] if self.authors else ""


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored paper as publishers see it: the paper plus what the store and enrichers know.

    Enrichment fields stay ``None`` until an enricher fills them; publishers must render a
    sensible cell for ``None`` (never the text "null").
    """

    paper: Paper
    first_seen: datetime
    topics: tuple[str, ...] = ()
    code_url: str | None = None
    project_url: str | None = None
    stars: int | None = None
    title_translated: str | None = None
    abstract_translated: str | None = None
    tldr: str | None = None
    # Relevance to the topic being rendered (arxiv_radar.rank), set by the publisher per topic.
    score: float | None = None
    why: str | None = None
