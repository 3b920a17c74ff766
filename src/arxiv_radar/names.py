"""File names every part agrees on, importable without loading what writes or reads them.

The CLI shows them in its help, which must start without the config schema (pydantic) or the
template loader (see :mod:`arxiv_radar.cli`); :mod:`arxiv_radar.config` and
:mod:`arxiv_radar.github_files` re-export them for everything else.
"""

from __future__ import annotations

from pathlib import PurePosixPath

__all__ = ["DEFAULT_CONFIG_NAME", "WORKFLOW_PATH"]

DEFAULT_CONFIG_NAME = "arxiv-radar.yml"
WORKFLOW_PATH = PurePosixPath(".github/workflows/arxiv-radar.yml")
