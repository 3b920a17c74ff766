"""`arxiv-radar doctor` against the local fake arXiv, a closed port, broken configs and folders."""

from __future__ import annotations

import socket
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel

from arxiv_radar.doctor import Check, DoctorReport, run_doctor, secret_variables
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.fake_apis import FakeChat
from tests.servers.http import LocalServer, Reply
from tests.test_pipeline import cli

CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
code_links:
  enabled: {code_links}
  request_interval: 0
{extra}endpoints:
  api_url: {api}
  rss_url: {rss}
  hf_url: {api}/hf
  pwc_url: {api}/pwc
  github_api_url: {api}/github
http:
  request_interval: 0
  timeout: 2
"""


def closed_port_url() -> str:
    """An address nothing listens on: bind a port, then release it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def arxiv(server: LocalServer) -> FakeArxiv:
    fake = FakeArxiv(server, ["cs.CV"])
    fake.announce(date(2026, 11, 24), [make_paper("2611.00001", "Splatting one")])
    return fake


def write_config(
    root: Path, api: str, rss: str, extra: str = "", *, code_links: bool = True
) -> Path:
    path = root / "arxiv-radar.yml"
    text = CONFIG.format(api=api, rss=rss, extra=extra, code_links=str(code_links).lower())
    path.write_text(text, encoding="utf-8")
    return path


def by_name(report: DoctorReport) -> dict[str, Check]:
    return {check.name: check for check in report.checks}


def test_all_fine_exits_0_and_probes_each_endpoint_once(tmp_path: Path, arxiv: FakeArxiv) -> None:
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url)
    report = run_doctor(path, env={})

    assert report.exit_code == 0, report.checks
    checks = by_name(report)
    assert checks["arXiv API"].ok and "1 results" in checks["arXiv API"].detail
    assert checks["arXiv RSS listing"].ok and "2026-11-24" in checks["arXiv RSS listing"].detail
    assert "does not exist yet" in checks["database"].detail
    (api_call,) = arxiv.api_requests()
    assert api_call.param("search_query") == "all:electron"
    assert api_call.param("max_results") == "1"
    assert len(arxiv.server.requests_to("/rss/cs.CV")) == 1
    assert not (tmp_path / "arxiv-radar.db").exists()  # the doctor creates nothing


def test_unreachable_endpoint_is_a_problem_exit_1(tmp_path: Path, arxiv: FakeArxiv) -> None:
    dead = closed_port_url()
    path = write_config(tmp_path, f"{dead}/api/query", arxiv.rss_url)
    report = run_doctor(path, env={})

    assert report.exit_code == 1
    api = by_name(report)["arXiv API"]
    assert not api.ok and api.severity == "network"
    assert f"{dead}/api/query" in api.detail and api.fix
    assert by_name(report)["arXiv RSS listing"].ok


def test_an_endpoint_answering_garbage_is_a_problem(
    tmp_path: Path, server: LocalServer, arxiv: FakeArxiv
) -> None:
    path = write_config(tmp_path, f"{server.url}/nothing-here", arxiv.rss_url)
    report = run_doctor(path, env={})
    assert report.exit_code == 1
    assert "HTTP 404" in by_name(report)["arXiv API"].detail


def test_a_broken_config_stops_the_checks_exit_2(tmp_path: Path, server: LocalServer) -> None:
    path = tmp_path / "arxiv-radar.yml"
    path.write_text("categories: [cs.CV]\ntopics: [{name: X, query: 'ti:(a'}]\n", "utf-8")
    report = run_doctor(path, env={})
    assert report.exit_code == 2
    (check,) = report.checks
    assert check.name == "config" and "line 2" in check.detail and "topics[0].query" in check.detail
    assert server.requests == []


def test_an_unwritable_output_folder_is_a_setup_problem(tmp_path: Path, arxiv: FakeArxiv) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder", "utf-8")
    extra = "output:\n  docs_dir: blocker/docs\n"
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url, extra)
    report = run_doctor(path, env={})
    assert report.exit_code == 2
    docs = by_name(report)["docs folder"]
    assert not docs.ok and "blocker is not a folder" in docs.detail
    assert by_name(report)["database folder"].ok


def test_an_existing_database_reports_its_schema(tmp_path: Path, arxiv: FakeArxiv) -> None:
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url)
    assert cli("fetch", cwd=tmp_path).returncode == 0
    report = run_doctor(path, env={})
    database = by_name(report)["database"]
    assert database.ok and "schema version" in database.detail and "1 papers" in database.detail
    assert "last run ok" in database.detail


def test_a_corrupt_database_is_a_problem_with_a_fix(tmp_path: Path, arxiv: FakeArxiv) -> None:
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url)
    (tmp_path / "arxiv-radar.db").write_bytes(b"this is not sqlite" * 100)
    report = run_doctor(path, env={})
    database = by_name(report)["database"]
    assert not database.ok and "not a database" in database.detail and database.fix
    assert report.exit_code == 2


class _Provider(BaseModel):
    api_key_env: str = ""
    model: str = ""


class _Settings(BaseModel):
    translate: _Provider = _Provider(api_key_env="DEEPSEEK_API_KEY")
    chats: list[_Provider] = [_Provider(), _Provider(api_key_env="SLACK_WEBHOOK_URL")]


def test_secret_variables_finds_every_named_variable() -> None:
    assert list(secret_variables(_Settings())) == [
        ("translate.api_key_env", "DEEPSEEK_API_KEY"),
        ("chats[1].api_key_env", "SLACK_WEBHOOK_URL"),
    ]


def test_no_configured_provider_needs_no_token(tmp_path: Path, arxiv: FakeArxiv) -> None:
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url, code_links=False)
    report = run_doctor(path, env={})
    assert by_name(report)["secrets"].ok
    assert {"Hugging Face", "Papers with Code"}.isdisjoint(by_name(report))
    assert arxiv.server.requests_to("/api/query/hf") == []


def test_missing_tokens_are_named_never_shown(tmp_path: Path, arxiv: FakeArxiv) -> None:
    extra = (
        f"translation:\n  provider: deepl\n  base_url: {arxiv.api_url}/deepl\n"
        f"summary:\n  enabled: true\n  model: m\n  base_url: {arxiv.api_url}/llm\n"
        "  api_key_env: LLM_KEY\n"
    )
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url, extra)
    report = run_doctor(path, env={"LLM_KEY": "sk-VERY-SECRET"})

    assert report.exit_code == 2
    checks = by_name(report)
    assert checks["secret LLM_KEY"].ok
    deepl = checks["secret DEEPL_API_KEY"]
    assert not deepl.ok and "export DEEPL_API_KEY" in deepl.fix
    assert "sk-VERY-SECRET" not in repr(report.checks)
    assert not checks["translation"].ok and "not probed" in checks["translation"].detail
    assert not checks["summaries"].ok  # /llm/chat/completions has no route: 404


def translation_config(base: str) -> str:
    return (
        f"translation:\n  provider: openai\n  base_url: {base}\n  model: deepseek-chat\n"
        "  api_key_env: DEEPSEEK_API_KEY\n"
    )


@pytest.mark.parametrize("status", [404, 501])
def test_a_translation_server_without_that_api_is_a_problem_not_ok(
    tmp_path: Path, arxiv: FakeArxiv, status: int
) -> None:
    arxiv.server.route("POST", "/v1/chat/completions", Reply(status, "Not Implemented"))
    extra = translation_config(f"{arxiv.server.url}/v1")
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url, extra, code_links=False)
    check = by_name(run_doctor(path, env={"DEEPSEEK_API_KEY": "sk-1"}))["translation"]
    assert not check.ok, check
    assert f"HTTP {status}" in check.detail and "check translation.base_url" in check.fix


def test_a_refused_translation_key_is_a_problem_and_a_good_one_is_ok(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    FakeChat(arxiv.server, key="sk-good-0123456789")
    extra = translation_config(f"{arxiv.server.url}/v1")
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url, extra, code_links=False)
    bad = by_name(run_doctor(path, env={"DEEPSEEK_API_KEY": "sk-bad-0123456789"}))
    assert not bad["translation"].ok and "refused the key in DEEPSEEK_API_KEY" in (
        bad["translation"].detail
    )
    assert "sk-bad" not in repr(bad)
    good = by_name(run_doctor(path, env={"DEEPSEEK_API_KEY": "sk-good-0123456789"}))
    assert good["translation"].ok and "translated a test word" in good["translation"].detail


def test_enabled_code_finders_are_probed(tmp_path: Path, arxiv: FakeArxiv) -> None:
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url)
    report = run_doctor(path, env={"GITHUB_TOKEN": "ghp_secret"})
    checks = by_name(report)
    assert checks["Hugging Face"].ok and "HTTP 404" in checks["Hugging Face"].detail
    assert checks["Papers with Code"].ok and checks["GitHub API"].ok
    for path_ in ("/api/query/hf", "/api/query/pwc", "/api/query/github"):
        assert len(arxiv.server.requests_to(path_)) == 1


def test_cli_prints_a_table_and_exits_with_the_worst_problem(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    write_config(tmp_path, arxiv.api_url, f"{closed_port_url()}/rss")
    result = cli("doctor", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    out = " ".join(result.stdout.split())
    assert "arXiv API" in out and "problem" in out and "fix:" in out
    assert "/rss/cs.CV" in out


def test_cli_with_a_bad_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "arxiv-radar.yml").write_text("categories: [cs.XX]\ntopics: []\n", "utf-8")
    result = cli("doctor", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cs.XX" in result.stdout


def test_database_probe_leaves_a_database_usable(tmp_path: Path, arxiv: FakeArxiv) -> None:
    path = write_config(tmp_path, arxiv.api_url, arxiv.rss_url)
    Store.open(tmp_path / "arxiv-radar.db").close()
    assert run_doctor(path, env={}).exit_code == 0
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        assert store.paper_count() == 0
