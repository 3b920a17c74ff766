"""The run's result as a GitHub Actions job summary (``$GITHUB_STEP_SUMMARY``).

A red scheduled job is only useful if the reason is on the run's page: someone glancing at the
Actions tab should see which stage failed and why without opening the log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arxiv_radar.publish.cells import escape_cell

__all__ = ["SUMMARY_ENV", "append_step_summary", "error_summary", "run_summary"]

SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def run_summary(command: str, status: str, stats: Mapping[str, Any], errors: list[Any]) -> str:
    """Markdown for one finished run: new papers per topic, then every failed stage."""
    mark = "✅" if not errors else "❌"
    lines = [f"### {mark} arxiv-radar {command}: {status}", ""]
    fetched = stats.get("fetch")
    if isinstance(fetched, dict) and fetched.get("per_topic"):
        lines += ["| Topic | New |", "| --- | ---: |"]
        lines += [f"| {_cell(topic)} | {count} |" for topic, count in fetched["per_topic"].items()]
        lines.append("")
    published = stats.get("publish")
    if isinstance(published, dict):
        lines += [f"{published.get('written_count', 0)} file(s) written.", ""]
    for error in errors:
        stage, text = error.get("stage", "run"), error.get("error", "")
        lines.append(f"- **{_cell(stage)} failed:** {_cell(text)}")
    if errors:
        lines += ["", "What the other stages did is kept; the next run retries what failed."]
    return "\n".join(lines).rstrip() + "\n"


def error_summary(command: str, message: str, fix: str) -> str:
    """Markdown for a command that stopped before running (a config mistake, a missing key)."""
    text = f"### ❌ arxiv-radar {command}: not run\n\n- **error:** {_cell(message)}\n"
    return text + (f"- **fix:** {_cell(fix)}\n" if fix else "")


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> None:
    """Append to the job summary when running under GitHub Actions; elsewhere do nothing."""
    target = (os.environ if env is None else env).get(SUMMARY_ENV)
    if not target:
        return
    with Path(target).open("a", encoding="utf-8") as summary:
        summary.write(markdown + "\n")


def _cell(text: object) -> str:
    """One line that cannot break the surrounding Markdown, nor carry HTML or formatting: an
    error can quote what a hostile server sent."""
    return escape_cell(str(text))
