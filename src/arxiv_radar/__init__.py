"""arxiv-radar: follow research topics on arXiv and publish a daily digest.

Importing the package loads only its errors: every ``arxiv-radar`` command imports it, and
``--help`` must answer at once. :class:`Paper` is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arxiv_radar.errors import (
    ArxivRadarError,
    ConfigError,
    FetchError,
    LockError,
    QuerySyntaxError,
    SourceFormatError,
    StageError,
    StoreError,
    UserError,
)

if TYPE_CHECKING:
    from arxiv_radar.paper import Paper

__version__ = "0.1.0"

__all__ = [
    "ArxivRadarError",
    "ConfigError",
    "FetchError",
    "LockError",
    "Paper",
    "QuerySyntaxError",
    "SourceFormatError",
    "StageError",
    "StoreError",
    "UserError",
    "__version__",
]


def __getattr__(name: str) -> object:
    """``arxiv_radar.Paper`` imports the data model when first asked for (PEP 562)."""
    if name == "Paper":
        from arxiv_radar.paper import Paper  # noqa: PLC0415

        return Paper
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
