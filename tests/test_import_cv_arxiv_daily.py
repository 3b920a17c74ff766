"""`arxiv-radar import cv-arxiv-daily` on the real upstream files (../shared/data/cv-arxiv-daily).

The fork's folder is laid out as upstream has it (config.yaml, docs/cv-arxiv-daily.json, the
workflow); arXiv is a local fake speaking the real Atom format that answers some ids with nothing
and some with a newer version dated after the old row, so first-published dates change.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from pathlib import Path

import pytest
import yaml

from arxiv_radar.cli import main
from arxiv_radar.config import load_workspace
from arxiv_radar.enrich.codelinks import RECHECK_DAYS, SCHEDULE_SLACK, next_check, schedule_position
from arxiv_radar.enrich.links import normalise_repo_url
from arxiv_radar.errors import ConfigError, FetchError
from arxiv_radar.http import PoliteClient
from arxiv_radar.http_budget import HttpSettings
from arxiv_radar.importers.cv_arxiv_daily import (
    CHECKPOINT,
    import_history,
    read_fork,
    run_import,
    summary_lines,
)
from arxiv_radar.match import compile_topics
from arxiv_radar.paper import Paper
from arxiv_radar.pipeline import run_pipeline
from arxiv_radar.query import parse
from arxiv_radar.sources.arxiv_api import ArxivAPI
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.fake_apis import FakeGitHub
from tests.servers.http import LocalServer, Reply, local_server

UPSTREAM = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cv-arxiv-daily"
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=timezone.utc)
_ROW_DATE = re.compile(r"\*\*(\d{4}-\d{2}-\d{2})\*\*\|\*\*(.*?)\*\*\|")
_CODE = re.compile(r"\*\*\[link\]\((https://[^)]+)\)\*\*")


def parse_filters(filters: list[str]) -> str:
    """daily_arxiv.py's own ``parse_filters`` (Vincentqyw/cv-arxiv-daily), line for line."""
    ret = ""
    for idx in range(0, len(filters)):
        filter = filters[idx]
        if len(filter.split()) > 1:
            ret += '"' + filter + '"'
        else:
            ret += "" + filter + ""
        if idx != len(filters) - 1:
            ret += " OR "
    return ret


@dataclass(frozen=True)
class History:
    """What the upstream JSON holds, read independently of the importer."""

    rows: dict[str, dict[str, str]]  # topic -> id -> row

    def ids(self) -> list[str]:
        return sorted({i for rows in self.rows.values() for i in rows})

    def shown(self, arxiv_id: str) -> list[date]:
        return [
            date.fromisoformat(_ROW_DATE.search(rows[arxiv_id]).group(1))  # type: ignore[union-attr]
            for rows in self.rows.values()
            if arxiv_id in rows
        ]

    def title(self, arxiv_id: str) -> str:
        row = next(rows[arxiv_id] for rows in self.rows.values() if arxiv_id in rows)
        return _ROW_DATE.search(row).group(2)  # type: ignore[union-attr]

    def code(self) -> dict[str, str]:
        links: dict[str, str] = {}
        for rows in self.rows.values():
            for arxiv_id, row in rows.items():
                found = _CODE.search(row)
                if found:
                    links.setdefault(arxiv_id, found.group(1))
        return links


@pytest.fixture(scope="module")
def history() -> History:
    path = UPSTREAM / "cv-arxiv-daily.json"
    if not path.is_file():
        pytest.skip("../shared/data/cv-arxiv-daily is not available")
    return History(json.loads(path.read_text(encoding="utf-8")))


def lay_out_fork(root: Path) -> Path:
    """A fork's folder laid out as upstream's (the files are copied into tmp, never the repo)."""
    (root / "docs").mkdir(parents=True)
    (root / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(UPSTREAM / "config.yaml", root / "config.yaml")
    shutil.copy(UPSTREAM / "cv-arxiv-daily.json", root / "docs" / "cv-arxiv-daily.json")
    shutil.copy(UPSTREAM / "cv-arxiv-daily.yml", root / ".github/workflows/cv-arxiv-daily.yml")
    return root


@pytest.fixture
def fork(tmp_path: Path, history: History) -> Path:
    return lay_out_fork(tmp_path / "fork")


@pytest.fixture
def small_fork(fork: Path, history: History) -> Path:
    """The same fork with the first 20 rows of each topic: for tests about the command itself."""
    small = {topic: dict(list(rows.items())[:20]) for topic, rows in history.rows.items()}
    (fork / "docs" / "cv-arxiv-daily.json").write_text(json.dumps(small), encoding="utf-8")
    return fork


@dataclass(frozen=True)
class Arxiv:
    fake: FakeArxiv
    missing: frozenset[str]  # ids the fake answers with nothing
    revised: frozenset[str]  # ids with a newer version, first published before the old row's date
    papers: dict[str, Paper]


def _paper(history: History, index: int, arxiv_id: str, revised: bool) -> Paper:
    shown = min(history.shown(arxiv_id))
    published = datetime.combine(shown, clock(12), timezone.utc)
    updated = published
    if revised:  # the old row showed v2's date; v1 came out 20 days before, v3 since
        published, updated = published - timedelta(days=20), published + timedelta(days=40)
    category = "cs.RO" if index % 4 == 0 else "cs.CV"
    paper = make_paper(
        arxiv_id,
        history.title(arxiv_id),
        categories=(category, "cs.AI"),
        published=published,
        version=3 if revised else 1,
    )
    return replace(paper, updated=updated)


def program(fake: FakeArxiv, history: History) -> Arxiv:
    missing, revised, papers = set(), set(), {}
    for index, arxiv_id in enumerate(history.ids()):
        if index % 50 == 7:
            missing.add(arxiv_id)
            continue
        paper = _paper(history, index, arxiv_id, revised=index % 10 == 3)
        if paper.version > 1:
            revised.add(arxiv_id)
        fake.publish(paper)
        papers[arxiv_id] = paper
    return Arxiv(fake, frozenset(missing), frozenset(revised), papers)


@pytest.fixture
def arxiv(server: LocalServer, history: History) -> Arxiv:
    return program(FakeArxiv(server, ["cs.CV"]), history)


def cli(root: Path, arxiv: Arxiv, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "COLUMNS": "200",
        "ARXIV_RADAR_API_URL": arxiv.fake.api_url,
        "ARXIV_RADAR_REQUEST_INTERVAL": "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "arxiv_radar", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def dump(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        return "\n".join(conn.iterdump())


def expected_dates_changed(history: History, arxiv: Arxiv) -> int:
    return sum(
        1
        for arxiv_id, paper in arxiv.papers.items()
        if any(day != paper.published.date() for day in history.shown(arxiv_id))
    )


@dataclass(frozen=True)
class Imported:
    """The fork after `import cv-arxiv-daily` ran twice as a subprocess (once per module)."""

    root: Path
    arxiv: Arxiv
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    seconds: float
    requests: int  # after the first run
    requests_again: int  # made by the second run
    config_text: str  # after the first run
    dump: str  # of the store after the first run

    def copy(self, target: Path) -> Path:
        """A private copy of the imported fork for a test that runs more commands on it."""
        shutil.copytree(self.root, target)
        return target


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, history: History) -> Iterator[Imported]:
    root = lay_out_fork(tmp_path_factory.mktemp("imported") / "fork")
    with local_server() as server:
        arxiv = program(FakeArxiv(server, ["cs.CV"]), history)
        started = time.monotonic()
        first = cli(root, arxiv, "import", "cv-arxiv-daily")
        seconds = time.monotonic() - started
        requests = len(arxiv.fake.api_requests())
        config_text = (root / "arxiv-radar.yml").read_text(encoding="utf-8")
        stored = dump(root / "arxiv-radar.db")
        second = cli(root, arxiv, "import", "cv-arxiv-daily")
        again = len(arxiv.fake.api_requests()) - requests
        yield Imported(root, arxiv, first, second, seconds, requests, again, config_text, stored)


# --- the journey ------------------------------------------------------------------------------


def test_import_journey_on_the_real_upstream_files(imported: Imported, history: History) -> None:
    arxiv = imported.arxiv
    assert imported.first.returncode == 0, imported.first.stderr
    ids = history.ids()
    rows = sum(len(r) for r in history.rows.values())
    assert (rows, len(ids)) == (9312, 8563)
    assert imported.requests == math.ceil(len(ids) / 100) == 86
    id_lists = [r.param("id_list").split(",") for r in arxiv.fake.api_requests()]
    assert all(len(batch) <= 100 for batch in id_lists)
    out = imported.first.stdout
    assert "Read 9312 rows (8563 unique ids)" in out
    stored = len(ids) - len(arxiv.missing)
    assert f"Imported {stored} papers ({stored} fetched now in 86 request(s))" in out
    assert f"arXiv knows no paper for {len(arxiv.missing)} id(s)" in out
    assert sorted(arxiv.missing)[0] in out
    changed = expected_dates_changed(history, arxiv)
    assert changed >= len(arxiv.revised) > 0
    assert f"{changed} papers change date" in out
    # Kept in the canonical form every finder stores (a deep link becomes its repository).
    kept = {i: normalise_repo_url(u) or u for i, u in history.code().items() if i in arxiv.papers}
    assert f"Kept {len(kept)} code links" in out
    assert "arxiv-radar init --github" in out and ".github/workflows/cv-arxiv-daily.yml" in out
    assert "max_results" in out and "show_links" in out

    root = imported.root
    text = imported.config_text
    assert "\n  readme: 'README.md'" in text and "\n  docs_dir: 'docs'" in text
    assert "repository: 'Vincentqyw/cv-arxiv-daily'" in text
    assert "categories: [cs.CV, cs.RO]" in text
    workspace = load_workspace(root / "arxiv-radar.yml", env={})
    assert workspace.config.output.readme == "README.md"
    assert [t.name for t in workspace.config.topics] == list(history.rows)
    assert workspace.database == root / "arxiv-radar.db"

    with Store.open(workspace.database) as store:
        for topic, topic_rows in history.rows.items():
            listed = {e.paper.arxiv_id for e in store.topic_entries(topic)}
            assert listed == set(topic_rows) - arxiv.missing, topic
        revised = sorted(arxiv.revised)[0]
        topic = next(t for t, r in history.rows.items() if revised in r)
        entry = next(e for e in store.topic_entries(topic) if e.paper.arxiv_id == revised)
        assert entry.paper.version == 3
        assert entry.paper.published == arxiv.papers[revised].published  # v1's date
        assert entry.first_seen == entry.paper.published  # history, not news
        assert store.get_checkpoint(CHECKPOINT) == {"missing": sorted(arxiv.missing)}
    with sqlite3.connect(workspace.database) as conn:
        links = dict(
            conn.execute(
                "SELECT arxiv_id, code_url FROM code_links WHERE source = 'imported'"
                " AND code_url IS NOT NULL AND next_check IS NULL"
            )
        )
    assert links == kept


def test_importing_twice_changes_nothing(imported: Imported) -> None:
    again = imported.second
    assert again.returncode == 0, again.stderr
    assert imported.requests_again == 0  # nothing is asked twice, not even the unknown ids
    assert (imported.root / "arxiv-radar.yml").read_text(encoding="utf-8") == imported.config_text
    assert dump(imported.root / "arxiv-radar.db") == imported.dump
    assert "arxiv-radar.yml: unchanged" in again.stdout
    assert "(0 fetched now in 0 request(s))" in again.stdout


def test_an_edited_config_is_kept_unless_forced(small_fork: Path, arxiv: Arxiv) -> None:
    env = {"ARXIV_RADAR_API_URL": arxiv.fake.api_url, "ARXIV_RADAR_REQUEST_INTERVAL": "0"}
    assert run_import(small_fork, env=env).config_status == "written"
    config = small_fork / "arxiv-radar.yml"
    written = config.read_text(encoding="utf-8")
    edited = written + "timezone: Asia/Shanghai\n"
    config.write_text(edited, encoding="utf-8")
    assert run_import(small_fork, env=env).config_status == "kept"
    assert config.read_text(encoding="utf-8") == edited
    assert run_import(small_fork, env=env, force=True).config_status == "written"
    assert config.read_text(encoding="utf-8") == written


def test_the_readme_renders_with_the_imported_rows(
    imported: Imported, history: History, tmp_path: Path
) -> None:
    root = imported.copy(tmp_path / "fork")
    config = root / "arxiv-radar.yml"
    # The README is the point here; the site and feeds have their own tests.
    text = config.read_text(encoding="utf-8").replace("enabled: true", "enabled: false")
    config.write_text(text + "feeds:\n  enabled: false\n", encoding="utf-8")
    published = cli(root, imported.arxiv, "publish")
    assert published.returncode == 0, published.stderr
    readme = (root / "README.md").read_text(encoding="utf-8")
    with Store.open(root / "arxiv-radar.db") as store:
        for topic in history.rows:
            assert f"## {topic}" in readme
            newest = store.topic_entries(topic, limit=5)
            assert all(e.paper.title in readme for e in newest), topic
        coded = [e for e in store.topic_entries("SLAM") if e.code_url]
    # Recent upstream rows have no code (its code source died), so kept links sit in the
    # monthly archive pages the older rows moved to.
    archives = "".join(page.read_text(encoding="utf-8") for page in (root / "docs").rglob("*.md"))
    assert len(coded) > 100 and all(e.code_url in archives for e in coded[:100])


def test_a_folder_that_is_not_a_fork_gets_one_line(tmp_path: Path, arxiv: Arxiv) -> None:
    result = cli(tmp_path, arxiv, "import", "cv-arxiv-daily")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "config.yaml" in lines[0] and "keywords:" in lines[0] and "docs/*.json" in lines[0]
    assert not (tmp_path / "arxiv-radar.yml").exists()
    assert arxiv.fake.api_requests() == []


def test_a_cv_arxiv_daily_config_gets_one_error_naming_the_command(
    small_fork: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fork = small_fork
    with pytest.raises(ConfigError) as info:
        load_workspace(fork / "config.yaml", env={})
    assert "run `arxiv-radar import cv-arxiv-daily`" in info.value.message
    assert "\n" not in info.value.message
    with pytest.raises(SystemExit) as exit_info:
        main(["-c", str(fork / "config.yaml"), "status"])
    assert exit_info.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert errors == [
        f"error: {fork / 'config.yaml'}: this looks like a cv-arxiv-daily config.yaml: "
        "run `arxiv-radar import cv-arxiv-daily`"
    ]


# --- queries ----------------------------------------------------------------------------------


def upstream_filters() -> dict[str, list[str]]:
    """Topic -> filters, read from upstream's config.yaml without the importer."""
    config = yaml.safe_load((UPSTREAM / "config.yaml").read_text(encoding="utf-8"))
    return {name: spec["filters"] for name, spec in config["keywords"].items()}


def test_each_topic_query_is_the_query_the_script_sent(imported: Imported) -> None:
    filters = upstream_filters()
    written = load_workspace(imported.root / "arxiv-radar.yml", env={}).config.topics
    assert [t.name for t in written] == list(filters)
    for topic in written:
        assert topic.query == parse_filters(filters[topic.name])
        assert topic.categories == [] and topic.keywords is None
        # A bare term is all: on arXiv; rendered back, the query names that field explicitly.
        api = parse(topic.query).to_api()
        for term in filters[topic.name]:
            quoted = f'"{term}"' if " " in term else term
            assert f"all:{quoted}" in api


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _script_match(filters: list[str], paper: Paper) -> bool:
    """How arXiv reads the script's query: any filter (a word, or a phrase of consecutive
    words, plural -s tolerated as arXiv's stemming does) in any field."""
    fields = [paper.title, paper.abstract, paper.comment, paper.journal_ref, *paper.authors]
    fields += list(paper.categories)
    for phrase in filters:
        wanted = _words(phrase)
        for text in fields:
            words = _words(text)
            for start in range(len(words) - len(wanted) + 1):
                window = words[start : start + len(wanted)]
                if all(w in (x, x + "s", x + "es") for x, w in zip(wanted, window, strict=True)):
                    return True
    return False


def _sample(history: History) -> Iterator[Paper]:
    """Real titles from every topic, plus each filter placed in every field and near misses."""
    ids = history.ids()
    for arxiv_id in ids[:: len(ids) // 400]:
        yield make_paper(arxiv_id, history.title(arxiv_id))
    for filters in upstream_filters().values():
        for phrase in filters:
            words = phrase.split()
            yield make_paper("2601.00001", f"Towards {phrase}s in the wild")
            yield make_paper("2601.00002", "A study", abstract=f"We use {phrase.lower()} here.")
            yield make_paper("2601.00003", "A study", authors=(f"{phrase} Group",))
            yield make_paper("2601.00004", "A study", comment=f"Workshop on {phrase}")
            yield make_paper("2601.00005", " ".join(reversed(words)) + " revisited")
            yield make_paper("2601.00006", f"{words[0]} only")


def test_queries_match_the_same_papers_as_the_scripts_query(
    imported: Imported, history: History
) -> None:
    filters = upstream_filters()
    written = load_workspace(imported.root / "arxiv-radar.yml", env={}).config.topics
    topics = compile_topics(written)
    agreed = matched = 0
    for paper in _sample(history):
        for topic in topics:
            expected = _script_match(filters[topic.name], paper)
            assert topic.matches(paper) == expected, (topic.name, paper.title, paper.abstract)
            agreed += 1
            matched += expected
    assert matched > 100 and agreed - matched > 100  # both outcomes are well represented


# --- resuming and the lookup budget ----------------------------------------------------------


def _client() -> PoliteClient:
    return PoliteClient(HttpSettings(request_interval=0, max_retries=0, backoff_base=0))


def test_an_interrupted_import_continues_where_it_stopped(fork: Path, arxiv: Arxiv) -> None:
    whole = read_fork(fork)
    part = replace(whole, rows=whole.rows[:2000])  # 16 batches are enough to stop half-way
    wanted = len(part.ids)
    arxiv.fake.api_budget = 6
    with Store.open(fork / "arxiv-radar.db") as store, _client() as client:
        api = ArxivAPI(client, arxiv.fake.api_url)
        seen: list[tuple[int, int]] = []
        with pytest.raises(FetchError):
            import_history(part, store, api, now=NOW, progress=lambda d, t: seen.append((d, t)))
        assert seen == [(100 * n, wanted) for n in range(1, 7)]
        assert 500 < store.paper_count() <= 600
        assert store.topic_count("SLAM") == 0  # topics are filed once every batch is in
        arxiv.fake.api_budget = None
        report = import_history(part, store, api, now=NOW)
    batches = math.ceil(wanted / 100)
    assert len(arxiv.fake.api_requests()) == batches + 1  # only the refused request is repeated
    assert report.requests == batches - 6
    unknown = sorted(set(part.ids) & arxiv.missing)
    assert report.missing == unknown and report.stored == wanted - len(unknown)
    assert report.per_topic["SLAM"] == len(
        {r.arxiv_id for r in part.rows if r.topic == "SLAM"}
    ) - len({r.arxiv_id for r in part.rows if r.topic == "SLAM"} & arxiv.missing)


def test_the_next_runs_after_importing_check_at_most_the_budget(
    imported: Imported,
    history: History,
    tmp_path: Path,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = imported.copy(tmp_path / "fork")
    config = root / "arxiv-radar.yml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f"""
code_links:
  backlog_per_run: 40
  request_interval: 0
endpoints:
  hf_url: {server.url}
  pwc_url: {server.url}/api/v1
  github_api_url: {server.url}
""",
        encoding="utf-8",
    )
    links = {
        normalise_repo_url(u) or u for i, u in history.code().items() if i in imported.arxiv.papers
    }
    github = "https://github.com/"
    repos = {url.removeprefix(github): 1 for url in links if url.startswith(github)}
    FakeGitHub(server, "ghp_import", repos)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_import")
    server.route(
        "GET", "/api/daily_papers", Reply(200, b"[]", {"Content-Type": "application/json"})
    )
    workspace = load_workspace(config, env={})
    kept = set(history.code())
    backlog = 8563 - len(imported.arxiv.missing) - len(kept & set(imported.arxiv.papers))
    looked_up: set[str] = set()
    for day in range(1, 4):
        before = len(server.requests)
        when = datetime.now(timezone.utc) + timedelta(days=day)
        outcome = run_pipeline(workspace, ("enrich",), command="enrich", now=when)
        assert outcome.exit_code == 0, outcome.errors
        made = server.requests[before:]
        asked = [r.path for r in made if r.path.startswith("/api/papers/")]
        assert len(asked) == 40  # Hugging Face: the budget, not 7,000 papers at once
        pwc = [r.path for r in made if r.path.startswith("/api/v1/papers/")]
        assert len(pwc) == 40  # a year-old paper gets its last check, Papers with Code included
        ids = {path.rsplit("/", 1)[1] for path in asked}
        assert not ids & kept and not ids & looked_up  # kept links, settled papers: never again
        looked_up |= ids
        stats = outcome.stats["enrich"]
        assert stats["code_checked"] == 40
        # Star counts of the kept links: 50 repositories per GraphQL request, once (old papers'
        # counts are then refreshed monthly), not one request per paper.
        graphql = [r for r in made if r.path == "/graphql"]
        assert len(graphql) == (math.ceil(len(repos) / 50) if day == 1 else 0)
        assert stats["code_deferred"] == backlog - 40 * day


def test_rows_that_cannot_be_imported_are_reported_not_dropped(
    small_fork: Path, arxiv: Arxiv, history: History
) -> None:
    path = small_fork / "docs" / "cv-arxiv-daily.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    moved = next(iter(data["NeRF"]))
    data["Retired Topic"] = {moved: data["NeRF"][moved], "not-an-id": "|**2021-01-01**|x|"}
    path.write_text(json.dumps(data), encoding="utf-8")
    env = {"ARXIV_RADAR_API_URL": arxiv.fake.api_url, "ARXIV_RADAR_REQUEST_INTERVAL": "0"}
    outcome = run_import(small_fork, env=env)
    assert outcome.report.unreadable == ["not-an-id"]
    assert outcome.report.orphan_topics == ["Retired Topic"]
    assert outcome.report.per_topic["Retired Topic"] == (0 if moved in arxiv.missing else 1)
    text = "\n".join(summary_lines(outcome))
    assert "1 JSON key(s) are not arXiv ids: 'not-an-id'" in text
    assert "topic 'Retired Topic' is in the JSON files but not in config.yaml" in text


def test_a_paper_entering_the_schedule_late_gets_only_the_checks_still_ahead() -> None:
    assert schedule_position(NOW - timedelta(days=400), NOW) == len(RECHECK_DAYS)
    assert next_check(NOW - timedelta(days=400), len(RECHECK_DAYS) + 1) is None  # then never
    five_days = NOW - timedelta(days=5)
    assert schedule_position(five_days, NOW) == 1  # checked now, then at 10 and 30 days
    assert next_check(five_days, 2) == five_days + timedelta(days=10) - SCHEDULE_SLACK
    assert schedule_position(NOW, NOW) == 0  # a new paper: the whole schedule


def test_a_failed_import_says_to_run_it_again_and_then_finishes(
    small_fork: Path, arxiv: Arxiv, history: History
) -> None:
    # An arxiv-radar.yml already there is what the import runs with: no retries, so it fails fast.
    (small_fork / "arxiv-radar.yml").write_text(
        read_fork(small_fork).translation.render(["cs.CV"]) + "http:\n  max_retries: 0\n",
        encoding="utf-8",
    )
    env = {"ARXIV_RADAR_API_URL": arxiv.fake.api_url, "ARXIV_RADAR_REQUEST_INTERVAL": "0"}
    arxiv.fake.fail_api = 1
    with pytest.raises(FetchError) as info:
        run_import(small_fork, env=env)
    assert "run the same command again" in info.value.fix
    again = run_import(small_fork, env=env)
    wanted = read_fork(small_fork).ids
    assert again.report.stored == len(set(wanted) - arxiv.missing)
    assert again.config_status == "kept"  # the user's file, with its http: section
