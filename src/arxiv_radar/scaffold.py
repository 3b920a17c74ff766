"""`arxiv-radar init`: the starter config and, for GitHub, the workflow and .gitignore entries.

It is run in the digest repository's root, so the paths written into the workflow are relative to
the current folder. Existing files are kept unless ``force`` is set, and with ``github`` an
existing config is kept even then (`init --github --force` is how a digest upgrades its
workflow); .gitignore is only ever extended, never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from arxiv_radar.config import load_workspace, starter_config_text
from arxiv_radar.errors import UserError
from arxiv_radar.github_files import DigestPaths, gitignore_text, workflow_text
from arxiv_radar.names import DEFAULT_CONFIG_NAME, WORKFLOW_PATH
from arxiv_radar.publish.files import write_if_changed
from arxiv_radar.publish.markdown import foreign_page

__all__ = ["Scaffolded", "scaffold"]

Action = Literal["wrote", "kept", "extended", "unchanged"]
_README_LINE = "  readme: README.md            # the digest on the repository's front page\n"
_DIGEST_LINE = (
    "  readme: DIGEST.md            # README.md is your own; name it here to publish there\n"
)


@dataclass(frozen=True)
class Scaffolded:
    path: Path  # as the user names it: relative to the folder init runs in
    action: Action
    note: str = ""


def scaffold(
    config_path: Path | None, *, github: bool, force: bool, cwd: Path | None = None
) -> list[Scaffolded]:
    """Write the starter files under ``cwd``; say what happened to each."""
    cwd = Path.cwd() if cwd is None else cwd
    config = config_path or Path(DEFAULT_CONFIG_NAME)
    # With --github, --force refreshes the workflow (an upgrade): the user's topics are kept.
    done = [_write_config(cwd, config, force=force and not github)]
    if github:
        paths = _digest_paths(cwd, config)
        done.append(_write(cwd, Path(WORKFLOW_PATH), workflow_text(paths), force=force))
        done.append(_extend_gitignore(cwd, Path(".gitignore"), paths.database))
    if all(item.action in ("kept", "unchanged") for item in done):
        existing = ", ".join(str(item.path) for item in done if item.action == "kept")
        raise UserError(f"{existing} already exist(s)", fix="use --force to overwrite")
    return done


def _write_config(cwd: Path, config: Path, *, force: bool) -> Scaffolded:
    """The starter config; it publishes to README.md unless that is a README of the user's own,
    which the first run would otherwise refuse to replace (or, named here, replace)."""
    readme = (cwd / config).parent / "README.md"
    if not foreign_page(readme):
        return _write(cwd, config, starter_config_text(), force=force)
    text = starter_config_text().replace(_README_LINE, _DIGEST_LINE)
    done = _write(cwd, config, text, force=force)
    if done.action != "wrote":  # a kept config says where it publishes itself
        return done
    note = f"{readme.name} is not an arxiv-radar digest, so the config publishes to DIGEST.md"
    return replace(done, note=note)


def _write(cwd: Path, name: Path, text: str, *, force: bool) -> Scaffolded:
    path = cwd / name
    if path.exists() and not force:
        return Scaffolded(name, "kept")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_if_changed(path, text)  # atomic: an interrupted init leaves no half-written file
    return Scaffolded(name, "wrote")


def _extend_gitignore(cwd: Path, name: Path, database: str) -> Scaffolded:
    path = cwd / name
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    text = gitignore_text(existing, database)
    if text == existing:
        return Scaffolded(name, "unchanged")
    write_if_changed(path, text)  # atomic: an interrupted init leaves no half-written file
    return Scaffolded(name, "extended" if existing else "wrote")


def _digest_paths(cwd: Path, config: Path) -> DigestPaths:
    """The config's database and site folder as the workflow's steps see them (from the root)."""
    workspace = load_workspace(cwd / config, cwd=cwd)
    return DigestPaths(
        config=_relative(cwd / config, cwd),
        database=_relative(workspace.database, cwd),
        site_dir=_relative(workspace.resolve(workspace.config.output.docs_dir), cwd),
    )


def _relative(path: Path, root: Path) -> str:
    absolute = path if path.is_absolute() else root / path
    try:
        return absolute.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UserError(
            f"{path} is outside {root}",
            fix="run `arxiv-radar init --github` in the digest repository's root, with the "
            "config, database and docs folder inside it",
        ) from None
