"""arxiv-radar: follow research topics on arXiv and publish a daily digest."""

from __future__ import annotations

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
