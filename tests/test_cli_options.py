"""-c/--config and -v/--verbose work before and after the command, as the scheduled workflow and
people type them; when both places give one, the option after the command wins and -v adds up."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import click
import pytest

from arxiv_radar.cli import RadarGroup, cli
from tests.cli_runner import run_cli
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import LocalServer

CONFIG = """\
database: {database}
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
code_links:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 0
"""


def radar(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, columns=200)


@pytest.fixture
def fake(server: LocalServer) -> FakeArxiv:
    arxiv = FakeArxiv(server, ["cs.CV"])
    recent = datetime.now(timezone.utc) - timedelta(hours=1)
    papers = [make_paper(f"2611.{n:05d}", f"Splatting {n}", published=recent) for n in range(3)]
    arxiv.announce(date(2026, 11, 24), papers)
    return arxiv


def write_config(folder: Path, name: str, fake: FakeArxiv, database: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = CONFIG.format(database=database, api=fake.api_url, rss=fake.rss_url)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "order",
    [
        ("run", "-c", "cfg/my.yml", "-v"),  # what the workflow and the action run
        ("-c", "cfg/my.yml", "-v", "run"),
        ("--config=cfg/my.yml", "run", "--verbose"),
    ],
)
def test_run_reads_the_config_and_verbosity_wherever_they_are_given(
    tmp_path: Path, fake: FakeArxiv, order: tuple[str, ...]
) -> None:
    write_config(tmp_path / "cfg", "my.yml", fake, "radar.db")
    done = radar(*order, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cfg" / "radar.db").exists()  # the config's paths: it was read
    assert "Splatting 2" in (tmp_path / "cfg" / "README.md").read_text("utf-8")
    assert not (tmp_path / "README.md").exists() and not (tmp_path / "arxiv-radar.db").exists()
    assert "site: " in done.stderr and "files written" in done.stderr  # -v: INFO lines
    assert "wrote " not in done.stderr  # not -vv


def test_the_config_after_the_command_wins_and_verbose_counts_add_up(
    tmp_path: Path, fake: FakeArxiv
) -> None:
    write_config(tmp_path, "a.yml", fake, "a.db")
    write_config(tmp_path, "b.yml", fake, "b.db")
    done = radar("-c", "a.yml", "-v", "run", "-c", "b.yml", "-v", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "b.db").exists() and not (tmp_path / "a.db").exists()
    assert "wrote " in done.stderr  # -v before plus -v after = -vv: DEBUG lines
    status = radar("-c", "b.yml", "status", "-c", "a.yml", cwd=tmp_path)
    assert status.returncode == 0 and "a.db does not exist" in status.stdout


def test_init_takes_the_config_path_after_its_name(tmp_path: Path) -> None:
    done = radar("init", "-c", "mine.yml", "-v", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mine.yml").exists() and not (tmp_path / "arxiv-radar.yml").exists()


# `import cv-arxiv-daily --config` names the fork's config.yaml (it writes arxiv-radar.yml).
@pytest.mark.parametrize("command", sorted(set(cli.commands) - {"init", "import"}))
def test_every_command_reads_the_config_named_after_it(tmp_path: Path, command: str) -> None:
    arguments = {"backfill": ["--from", "2026-11-02", "--to", "2026-11-03"], "rank": ["Splatting"]}
    extra = arguments.get(command, [])
    done = radar(command, *extra, "-c", "missing.yml", "-v", cwd=tmp_path)
    assert "missing.yml" in done.stdout + done.stderr, (done.stdout, done.stderr)
    assert done.returncode != 0 and "Traceback" not in done.stderr


@pytest.fixture
def root_logging() -> Iterator[None]:
    """The in-process CLI configures logging; give pytest's handlers back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_a_command_added_later_gets_the_global_options_by_default() -> None:
    group = RadarGroup(name="radar")
    seen: dict[str, object] = {}

    @group.command()
    @click.pass_context
    def later(ctx: click.Context) -> None:
        seen["config"] = ctx.obj
        seen["verbose"] = ctx.meta["arxiv_radar.verbose"]

    group.main(["later", "-c", "x.yml", "-vv"], standalone_mode=False)
    assert seen == {"config": Path("x.yml"), "verbose": 2}
    group.main(["-c", "y.yml", "-v", "later"], standalone_mode=False)
    assert seen == {"config": Path("y.yml"), "verbose": 1}
