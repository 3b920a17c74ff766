"""The CLI as a user runs it: a subprocess in a folder, with the environment a test chooses.

One helper for every test that drives `arxiv-radar` from outside, so they all run the same entry
point the same way (``python -m arxiv_radar``, the interpreter of the tests' environment).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["run_cli"]


def run_cli(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    columns: int | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``arxiv-radar ARGS`` in ``cwd``; ``env`` adds to (or overrides) this process's
    environment, and ``columns`` fixes the terminal width rich and click wrap to."""
    width = {"COLUMNS": str(columns)} if columns is not None else {}
    return subprocess.run(
        [sys.executable, "-m", "arxiv_radar", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **width, **(env or {})},
        check=False,
    )
