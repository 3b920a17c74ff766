"""`arxiv-radar --help` starts fast because it loads nothing heavy; it prints what it always did.

Deterministic, not timed: each command's ``--help`` runs in a subprocess that then lists the
modules it imported. The heavy ones below cost most of the old 0.45-0.77 s start-up (measured
with ``python -X importtime``); ``benchmarks/bench_startup.py`` prints the times themselves. The
help text is compared with the README's CLI reference, the documented output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from arxiv_radar.cli_reference import COLUMNS, END, PROG_NAME, START

README = Path(__file__).resolve().parents[1] / "README.md"

#: Top-level modules `--help` must not import: the config schema, HTTP, templates, the store,
#: the ranking extra, rich and what they pull in.
HEAVY = (
    "pydantic",
    "pydantic_core",
    "httpx",
    "httpcore",
    "anyio",
    "ssl",
    "jinja2",
    "sqlite3",
    "sklearn",
    "numpy",
    "rich",
    "pygments",
    "yaml",
    "filelock",
    "defusedxml",
    "smtplib",
    "asyncio",
    "zoneinfo",
)
#: The package's own modules the start-up needs (the errors it maps, the names its help shows).
LIGHT = {
    "arxiv_radar",
    "arxiv_radar.__main__",
    "arxiv_radar.cli",
    "arxiv_radar.errors",
    "arxiv_radar.names",
    "arxiv_radar.secrets",
}

# `python -m arxiv_radar ARGS`, then the names of every module loaded, written to LISTING.
_RUN_AND_LIST = """
import json, runpy, sys
listing, code = sys.argv.pop(1), 0
try:
    runpy.run_module("arxiv_radar", run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code
with open(listing, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def documented_help() -> dict[tuple[str, ...], str]:
    """Each command's help as the README's CLI reference shows it, by command path."""
    text = README.read_text(encoding="utf-8")
    block = text.split(START, 1)[1].split(END, 1)[0]
    shown: dict[tuple[str, ...], str] = {}
    path: tuple[str, ...] = ()
    for heading, fenced in re.findall(r"(?:### `([^`]+)`\n\n)?```text\n(.*?)```\n", block, re.S):
        path = tuple(heading.split()[1:]) if heading else ()
        shown[path] = fenced
    return shown


DOCUMENTED = documented_help()


@pytest.mark.parametrize("path", sorted(DOCUMENTED), ids=lambda p: " ".join(p) or "group")
def test_help_loads_nothing_heavy_and_prints_the_documented_text(
    path: tuple[str, ...], tmp_path: Path
) -> None:
    listing = tmp_path / "modules.json"
    # Also give -v, as a user might: configuring logging must not load rich either.
    args = ["-v", *path, "--help"] if path else ["--help"]
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST, str(listing), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(COLUMNS)},
        timeout=60,
        check=False,
    )
    result = json.loads(listing.read_text(encoding="utf-8"))
    assert result["code"] == 0, done.stderr
    assert done.stdout == DOCUMENTED[path]
    assert done.stdout.startswith(f"Usage: {PROG_NAME} ")
    modules = set(result["modules"])
    assert sorted(m for m in HEAVY if m in modules) == []
    assert sorted(m for m in modules if m.startswith("arxiv_radar") and m not in LIGHT) == []


def test_the_reference_covers_every_command() -> None:
    assert len(DOCUMENTED) >= 12 and ("import", "cv-arxiv-daily") in DOCUMENTED


def test_logging_still_reaches_stderr_through_rich_when_a_command_logs(tmp_path: Path) -> None:
    """The handler is built at the first record: a command that logs still shows its lines."""
    done = subprocess.run(
        [sys.executable, "-m", "arxiv_radar", "-v", "publish"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(COLUMNS)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^INFO +site: \d+ files written", done.stderr, re.M), done.stderr


def test_publish_loads_no_http_client(tmp_path: Path) -> None:
    """The daily `publish` sends no request, so it imports none of the network stages."""
    listing = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST, str(listing), "publish"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result = json.loads(listing.read_text(encoding="utf-8"))
    assert result["code"] == 0, done.stderr
    assert (tmp_path / "README.md").is_file() and (tmp_path / "docs/index.html").is_file()
    network = ("httpx", "httpcore", "arxiv_radar.http", "arxiv_radar.fetch")
    assert sorted(m for m in network if m in result["modules"]) == []
