"""What enrichment reads and writes, shared by the enrich stage and the store (which must not
import the stage and its HTTP machinery)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from arxiv_radar.paper import Paper

__all__ = ["CodeCandidate", "CodeOutcome", "TextKey"]


@dataclass(frozen=True)
class CodeCandidate:
    """A paper still without code, with what the schedule needs to know about it."""

    paper: Paper
    first_seen: datetime
    attempts: int


@dataclass(frozen=True)
class CodeOutcome:
    """One completed code check, to store as-is; ``next_check`` None means never again."""

    code_url: str | None
    project_url: str | None
    stars: int | None
    source: str
    at: datetime
    attempts: int
    next_check: datetime | None


@dataclass(frozen=True)
class TextKey:
    """The cache key of a text besides the paper and its version: a paper is done once per key."""

    field: str  # "title", "abstract" or "tldr"
    language: str
    provider: str
    model: str
