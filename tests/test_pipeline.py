"""End to end: the real CLI entry point against a fake arXiv on 127.0.0.1 and a real SQLite file."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from arxiv_radar.store import Store
from tests.cli_runner import run_cli
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import LocalServer

CATEGORIES = ["cs.CV", "cs.CL", "cs.LG"]
DAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)

CONFIG = """\
repository: someone/digest
categories: [cs.CV, cs.CL, cs.LG]
topics:
  - name: Gaussian Splatting
    query: 'ti:"gaussian splatting" OR abs:"3D gaussian"'
    categories: [cs.CV, cs.GR]
  - name: Multimodal LLM
    keywords: ["multimodal large language model", "vision-language model", MLLM]
    categories: [cs.CV, cs.CL]
  - name: Avatars
    query: 'all:avatar ANDNOT all:game'
endpoints:
  api_url: {api}
  rss_url: {rss}
  hf_url: {hf}
  pwc_url: {pwc}
http:
  request_interval: 0
  max_retries: 1
code_links:
  request_interval: 0
"""


def config_text(arxiv: FakeArxiv) -> str:
    """The test config: every endpoint on the local server (unknown paths answer 404)."""
    base = arxiv.server.url
    return CONFIG.format(api=arxiv.api_url, rss=arxiv.rss_url, hf=f"{base}/hf", pwc=f"{base}/pwc")


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console entry point exactly as a user would."""
    return run_cli(*args, cwd=cwd, env=env, timeout=60)


def todays_papers() -> dict[str, list]:  # type: ignore[type-arg]
    recent = datetime.now(timezone.utc) - timedelta(hours=6)
    return {
        "new": [
            make_paper(
                "2611.00001",
                "Fast Gaussian Splatting | for Phones",
                categories=["cs.CV"],
                published=recent,
            ),
            make_paper(
                "2611.00002",
                "Sparse views",
                abstract="We fit 3D Gaussian primitives.",
                categories=["cs.CV"],
                published=recent,
            ),
            make_paper(
                "2611.00003",
                "A vision-language model for charts",
                categories=["cs.CL"],
                published=recent,
            ),
            make_paper(
                "2611.00004", "Unrelated optimisation", categories=["cs.LG"], published=recent
            ),
            make_paper(
                "2611.00005",
                "Gaussian splatting in the wrong category",
                categories=["cs.LG"],
                published=recent,
            ),
        ],
        "cross": [
            make_paper(
                "2611.00006", "MLLM agents", categories=["cs.AI", "cs.CV"], published=recent
            ),
        ],
        "replaced": [
            make_paper(
                "2601.00007",
                "Old gaussian splatting paper, v2",
                categories=["cs.CV"],
                version=2,
                published=recent - timedelta(days=300),
            ),
        ],
    }


@pytest.fixture
def arxiv(server: LocalServer) -> FakeArxiv:
    fake = FakeArxiv(server, CATEGORIES)
    papers = todays_papers()
    fake.announce(DAY, papers["new"], cross=papers["cross"], replaced=papers["replaced"])
    return fake


@pytest.fixture
def workdir(tmp_path: Path, arxiv: FakeArxiv) -> Path:
    (tmp_path / "arxiv-radar.yml").write_text(config_text(arxiv), encoding="utf-8")
    return tmp_path


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith("arxiv-radar.db")
    }


def test_run_fetches_matches_stores_and_publishes(workdir: Path, arxiv: FakeArxiv) -> None:
    result = cli("run", cwd=workdir)
    assert result.returncode == 0, result.stderr

    readme = (workdir / "README.md").read_text(encoding="utf-8")
    assert "|Publish Date|Title|Abstract|PDF|Code|\n|:---|:---|:---|:---|:---|" in readme
    assert "Fast Gaussian Splatting \\| for Phones" in readme
    assert "Sparse views" in readme  # matched on abs:"3D gaussian"
    assert "A vision-language model for charts" in readme
    assert "MLLM agents" in readme  # a cross-list is kept
    assert "Unrelated optimisation" not in readme
    assert "wrong category" not in readme  # topic categories restrict
    assert "Old gaussian splatting paper" not in readme  # replacements are never new papers
    pages = (workdir / "docs" / "index.md").read_text(encoding="utf-8")
    assert pages.startswith("---\nlayout: default\n---\n")

    with Store.open(workdir / "arxiv-radar.db") as store:
        assert store.topic_count("Gaussian Splatting") == 2
        assert store.topic_count("Multimodal LLM") == 2
        assert store.paper_count() == 4
        assert store.category_state() == dict.fromkeys(CATEGORIES, DAY)


def test_metadata_is_fetched_only_for_matching_papers(workdir: Path, arxiv: FakeArxiv) -> None:
    assert cli("fetch", cwd=workdir).returncode == 0
    id_requests = [r for r in arxiv.api_requests() if r.param("id_list")]
    assert len(id_requests) == 1
    asked = set(id_requests[0].param("id_list").split(","))
    assert asked == {"2611.00001", "2611.00002", "2611.00003", "2611.00006"}
    assert len(arxiv.server.requests_to("/rss/cs.CV+cs.CL+cs.LG")) == 1


def test_a_second_run_with_nothing_new_changes_no_byte(workdir: Path, arxiv: FakeArxiv) -> None:
    assert cli("run", cwd=workdir).returncode == 0
    before = snapshot(workdir)
    assert cli("run", cwd=workdir).returncode == 0
    assert snapshot(workdir) == before
    with Store.open(workdir / "arxiv-radar.db") as store:
        assert store.paper_count() == 4  # no duplicates
        assert [run.status for run in store.recent_runs()] == ["ok", "ok"]


def test_publish_alone_needs_no_network(workdir: Path, arxiv: FakeArxiv) -> None:
    assert cli("fetch", cwd=workdir).returncode == 0
    served = len(arxiv.server.requests)
    result = cli("publish", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert len(arxiv.server.requests) == served
    assert "Sparse views" in (workdir / "README.md").read_text(encoding="utf-8")


def test_failed_fetch_exits_1_and_the_pages_say_why(workdir: Path, arxiv: FakeArxiv) -> None:
    arxiv.fail_api = 100
    result = cli("run", cwd=workdir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "503" in result.stderr
    readme = (workdir / "README.md").read_text(encoding="utf-8")
    assert "The last fetch" in readme and "failed" in readme
    assert "## Updated on: never" in readme  # the last *successful* fetch, not this run
    with Store.open(workdir / "arxiv-radar.db") as store:
        assert store.paper_count() == 0
        assert store.category_state() == {}  # the day stays open for the next run
        (run,) = store.recent_runs()
        assert run.status == "partial"
        assert run.errors[0]["stage"] == "fetch"

    arxiv.fail_api = 0
    assert cli("run", cwd=workdir).returncode == 0
    with Store.open(workdir / "arxiv-radar.db") as store:
        assert store.paper_count() == 4


def test_a_failing_topic_search_does_not_hold_back_the_listing(
    workdir: Path, arxiv: FakeArxiv
) -> None:
    arxiv.searches_down = True  # the Avatars topic (no categories) cannot search
    result = cli("run", cwd=workdir)
    assert result.returncode == 1
    assert "error in fetch:" in result.stderr and "HTTP 503" in result.stderr
    with Store.open(workdir / "arxiv-radar.db") as store:
        assert store.paper_count() == 4  # the listing's matches are stored all the same
        assert store.category_state() == dict.fromkeys(CATEGORIES, DAY)
    assert "Sparse views" in (workdir / "README.md").read_text(encoding="utf-8")


def test_status_lists_runs_with_per_topic_counts(workdir: Path, arxiv: FakeArxiv) -> None:
    assert cli("run", cwd=workdir).returncode == 0
    result = cli("status", cwd=workdir)
    assert result.returncode == 0
    assert "Gaussian Splatting: 2" in result.stdout
    assert "ok" in result.stdout
    assert "cs.CV" in result.stdout and DAY.isoformat() in result.stdout


def test_topic_without_categories_searches_the_api(
    tmp_path: Path, server: LocalServer, arxiv: FakeArxiv
) -> None:
    elsewhere = make_paper(
        "2611.00099",
        "Avatar rigging",
        categories=["physics.ed-ph"],
        published=datetime.now(timezone.utc) - timedelta(days=1),
    )
    too_old = make_paper(
        "2601.00098",
        "Avatar from long ago",
        categories=["physics.ed-ph"],
        published=datetime.now(timezone.utc) - timedelta(days=60),
    )
    game = make_paper("2611.00097", "Avatar game engines", categories=["cs.GR"])
    for paper in (elsewhere, too_old, game):
        arxiv.publish(paper)
    (tmp_path / "arxiv-radar.yml").write_text(config_text(arxiv), encoding="utf-8")
    assert cli("fetch", cwd=tmp_path).returncode == 0
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        ids = {entry.paper.arxiv_id for entry in store.topic_entries("Avatars")}
    assert ids == {"2611.00099"}
    searches = [r for r in arxiv.api_requests() if r.param("search_query")]
    # Newest version first: a search also sees new versions of the topic's stored papers.
    assert searches and all(r.param("sortBy") == "lastUpdatedDate" for r in searches)


def test_no_config_file_runs_the_built_in_topics_with_env_endpoints(
    tmp_path: Path, server: LocalServer
) -> None:
    fake = FakeArxiv(server, ["cs.CV", "cs.CL", "cs.LG", "cs.GR"])
    fake.announce(DAY, [make_paper("2611.00010", "Gaussian splatting everywhere")])
    env = {
        "ARXIV_RADAR_API_URL": fake.api_url,
        "ARXIV_RADAR_RSS_URL": fake.rss_url,
        "ARXIV_RADAR_REQUEST_INTERVAL": "0",
        "ARXIV_RADAR_HF_URL": f"{server.url}/hf",
        "ARXIV_RADAR_PWC_URL": f"{server.url}/pwc",
    }
    result = cli("run", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "Gaussian splatting everywhere" in readme
    assert "Multimodal LLM" in readme and "Diffusion Models" in readme


def test_bad_config_is_one_line_per_problem_exit_2(tmp_path: Path) -> None:
    (tmp_path / "arxiv-radar.yml").write_text(
        "categories: [cs.CV]\ncategoires: []\ntopics:\n  - name: X\n    query: 'ti:(a'\n",
        encoding="utf-8",
    )
    result = cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "arxiv-radar.yml, line 2, categoires: unknown key 'categoires'" in result.stderr
    assert "did you mean 'categories'?" in result.stderr
    assert "line 5, topics[0].query" in result.stderr
    assert not (tmp_path / "README.md").exists()


def test_invalid_env_override_names_the_variable(tmp_path: Path) -> None:
    result = cli("run", cwd=tmp_path, env={"ARXIV_RADAR_REQUEST_INTERVAL": "soon"})
    assert result.returncode == 2
    assert "ARXIV_RADAR_REQUEST_INTERVAL" in result.stderr


def test_init_writes_a_config_that_loads_and_refuses_to_overwrite(tmp_path: Path) -> None:
    assert cli("init", cwd=tmp_path).returncode == 0
    text = (tmp_path / "arxiv-radar.yml").read_text(encoding="utf-8")
    assert text.count("- name:") == 4
    again = cli("init", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    assert cli("status", cwd=tmp_path).returncode == 0


def test_init_github_writes_the_daily_workflow(tmp_path: Path) -> None:
    assert cli("init", cwd=tmp_path).returncode == 0
    result = cli("init", "--github", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Kept the existing arxiv-radar.yml" in result.stdout
    workflow = (tmp_path / ".github" / "workflows" / "arxiv-radar.yml").read_text(encoding="utf-8")
    assert "arxiv-radar run" in workflow and "schedule:" in workflow


ISSUE_EXAMPLE = """\
repository: your-name/your-arxiv-digest   # badges and links
categories: [cs.CV, cs.CL, cs.LG]          # the daily listing to read
topics:
  - name: Gaussian Splatting
    query: 'ti:"gaussian splatting" OR abs:"3D gaussian"'
    categories: [cs.CV, cs.GR]
  - name: Multimodal LLM
    keywords: ["multimodal large language model", "vision-language model", MLLM]
    categories: [cs.CV, cs.CL]
  - name: Avatars
    query: 'all:avatar ANDNOT all:game'
"""


def test_the_documented_example_config_runs_exactly_as_written(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    (tmp_path / "arxiv-radar.yml").write_text(ISSUE_EXAMPLE, encoding="utf-8")
    base = arxiv.server.url
    env = {
        "ARXIV_RADAR_API_URL": arxiv.api_url,
        "ARXIV_RADAR_RSS_URL": arxiv.rss_url,
        "ARXIV_RADAR_REQUEST_INTERVAL": "0",
        "ARXIV_RADAR_HF_URL": f"{base}/hf",
        "ARXIV_RADAR_PWC_URL": f"{base}/pwc",
    }
    result = cli("run", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "Fast Gaussian Splatting \\| for Phones" in readme
    assert "https://github.com/your-name/your-arxiv-digest" in readme
