"""The one data model every stage shares, and arXiv identifier helpers.

Sources produce :class:`Paper`; the store keeps one row per ``arxiv_id`` (no version); publishers
read them back. Dates are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Entry", "Paper", "abs_url", "pdf_url", "split_version"]

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
