"""The files `init --github` writes into a digest repository: the daily workflow and .gitignore.

The workflow is rendered with the exact arxiv-radar version that wrote it, so a digest never
installs a floating name, and with the paths of the digest's own config, so the cache and commit
steps name the database and site the config really uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from arxiv_radar import __version__

__all__ = ["GITIGNORE_HEADER", "DigestPaths", "gitignore_text", "workflow_text"]

GITIGNORE_HEADER = "# arxiv-radar: the database is a cache rebuilt from state/, never committed"


@dataclass(frozen=True)
class DigestPaths:
    """Paths relative to the repository root, as the workflow's steps see them."""

    config: str
    database: str
    site_dir: str


def workflow_text(paths: DigestPaths, *, version: str = __version__) -> str:
    """The daily workflow for a digest whose files are at ``paths``, pinned to ``version``."""
    template = resources.files("arxiv_radar") / "templates" / "github" / "workflow.yml"
    text = template.read_text("utf-8")
    for placeholder, value in (
        ("@ARXIV_RADAR_VERSION@", version),
        ("@CONFIG@", paths.config),
        ("@DATABASE@", paths.database),
        ("@SITE_DIR@", paths.site_dir),
    ):
        text = text.replace(placeholder, value)
    return text


def gitignore_text(existing: str, database: str) -> str:
    """``existing`` with the entries that keep the database, its sidecars and lock out of git.

    Entries already present are not repeated, so running `init --github` twice adds nothing.
    """
    anchored = "/" + database.lstrip("/")
    # The database, its -wal/-shm/-journal, its .lock and .rebuild; and the temporary files an
    # atomic write leaves only when the process is killed (".name.tmp"), which are never state.
    wanted = [anchored, f"{anchored}-*", f"{anchored}.*", ".*.tmp"]
    present = {line.strip() for line in existing.splitlines()}
    missing = [entry for entry in wanted if entry not in present]
    if not missing:
        return existing
    lines = [GITIGNORE_HEADER, *missing] if GITIGNORE_HEADER not in present else missing
    prefix = existing if not existing or existing.endswith("\n") else existing + "\n"
    separator = "\n" if prefix.strip() else ""
    return prefix + separator + "\n".join(lines) + "\n"
