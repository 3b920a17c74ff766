"""`run` and `publish` never overwrite a README.md (or docs/index.md) that arxiv-radar did not
write, unless the config names it; they say so before any request, in one line, with exit 2."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from arxiv_radar.publish.markdown import GENERATED_MARKER, USAGE_URL
from tests.cli_runner import run_cli
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import LocalServer

CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
code_links:
  enabled: false
site:
  enabled: false
feeds:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 0
"""
OWN_README = "# My project\n\nHand-written, precious.\n"


def radar(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, columns=80)


@pytest.fixture
def fake(server: LocalServer) -> FakeArxiv:
    arxiv = FakeArxiv(server, ["cs.CV"])
    recent = datetime.now(timezone.utc) - timedelta(hours=1)
    papers = [make_paper(f"2611.{n:05d}", f"Splatting {n}", published=recent) for n in range(3)]
    arxiv.announce(date(2026, 11, 24), papers)
    return arxiv


def project(root: Path, fake: FakeArxiv, extra: str = "") -> Path:
    config = root / "arxiv-radar.yml"
    config.write_text(CONFIG.format(api=fake.api_url, rss=fake.rss_url) + extra, "utf-8")
    return config


@pytest.mark.parametrize("command", ["run", "publish"])
def test_a_readme_arxiv_radar_did_not_write_is_refused_before_any_request(
    tmp_path: Path, fake: FakeArxiv, command: str
) -> None:
    project(tmp_path, fake)
    (tmp_path / "README.md").write_text(OWN_README, "utf-8")
    done = radar(command, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(tmp_path / "README.md") in lines[0]
    assert "output.readme: DIGEST.md" in lines[0] and "arxiv-radar.yml" in lines[0]
    assert fake.server.requests == []  # a user error costs no fetch
    assert (tmp_path / "README.md").read_text("utf-8") == OWN_README
    assert not (tmp_path / "arxiv-radar.db").exists() and not (tmp_path / "docs").exists()


def test_without_a_config_file_the_built_in_default_refuses_too(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(OWN_README, "utf-8")
    done = radar("publish", cwd=tmp_path)  # the example topics' config names README.md itself
    assert done.returncode == 2 and "output.readme: DIGEST.md" in done.stderr, done.stderr
    assert (tmp_path / "README.md").read_text("utf-8") == OWN_README


def test_a_readme_the_config_names_is_replaced(tmp_path: Path, fake: FakeArxiv) -> None:
    project(tmp_path, fake, "output:\n  readme: README.md\n")
    (tmp_path / "README.md").write_text(OWN_README, "utf-8")
    done = radar("run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "README.md").read_text("utf-8")
    assert text.startswith(GENERATED_MARKER + "\n") and "Splatting 2" in text


def test_another_output_path_leaves_the_readme_alone(tmp_path: Path, fake: FakeArxiv) -> None:
    project(tmp_path, fake, "output:\n  readme: DIGEST.md\n")
    (tmp_path / "README.md").write_text(OWN_README, "utf-8")
    done = radar("run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "README.md").read_text("utf-8") == OWN_README
    assert "Splatting 2" in (tmp_path / "DIGEST.md").read_text("utf-8")


def test_its_own_readme_is_recognised_after_the_database_is_rebuilt(
    tmp_path: Path, fake: FakeArxiv
) -> None:
    project(tmp_path, fake)
    assert radar("run", cwd=tmp_path).returncode == 0
    (tmp_path / "arxiv-radar.db").unlink()  # the database is a cache: it may be rebuilt
    done = radar("run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    readme = (tmp_path / "README.md").read_text("utf-8")
    assert f"> Usage instructions: [here]({USAGE_URL})" in readme  # arxiv-radar's docs


def test_a_docs_index_arxiv_radar_did_not_write_is_refused(tmp_path: Path, fake: FakeArxiv) -> None:
    project(tmp_path, fake)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# My Jekyll site\n", "utf-8")
    done = radar("run", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert str(tmp_path / "docs" / "index.md") in done.stderr
    assert "output.docs_dir" in done.stderr and fake.server.requests == []
    assert (tmp_path / "docs" / "index.md").read_text("utf-8") == "# My Jekyll site\n"
    assert not (tmp_path / "README.md").exists()


def test_a_digest_from_before_the_marker_is_still_recognised(tmp_path: Path) -> None:
    from arxiv_radar.publish.markdown import foreign_page

    old = tmp_path / "README.md"
    old.write_text('<a id="top"></a>\n\n[![x][x-shield]][x-url]\n\n## Updated on 2026.10.07\n')
    assert not foreign_page(old)
    old.write_text('<a id="top"></a>\n\n# A project that links to its top\n')
    assert foreign_page(old)
