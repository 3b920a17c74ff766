"""The enrich stage inside real runs: code links and translations reach the pages, once."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.fake_apis import FakeChat, FakeHuggingFace
from tests.servers.http import LocalServer, Reply
from tests.test_pipeline import cli

KEY = "sk-test-SECRET-0123456789"
CONFIG = """\
repository: someone/digest
categories: [cs.CV]
topics:
  - name: Splats
    keywords: ["gaussian splatting"]
endpoints:
  api_url: {api}
  rss_url: {rss}
  hf_url: {base}
  pwc_url: {base}/pwc
http:
  request_interval: 0
  max_retries: 0
code_links:
  request_interval: 0
translation:
  provider: openai
  language: zh-CN
  base_url: {base}/v1
  model: deepseek-chat
  api_key_env: DEEPSEEK_API_KEY
"""


def setup(tmp_path: Path, server: LocalServer) -> FakeArxiv:
    arxiv = FakeArxiv(server, ["cs.CV"])
    recent = datetime.now(timezone.utc) - timedelta(hours=3)
    arxiv.announce(
        date(2026, 11, 24),
        [
            make_paper("2611.00001", "Gaussian splatting with code", published=recent),
            make_paper("2611.00002", "More gaussian splatting", published=recent),
        ],
    )
    hf = FakeHuggingFace(server)
    hf.paper("2611.00001", repo="https://github.com/someone/splat", stars=1234)
    hf.missing("2611.00002")
    (tmp_path / "arxiv-radar.yml").write_text(
        CONFIG.format(api=arxiv.api_url, rss=arxiv.rss_url, base=server.url), encoding="utf-8"
    )
    return arxiv


def test_code_links_and_translations_reach_the_readme_once(
    tmp_path: Path, server: LocalServer
) -> None:
    setup(tmp_path, server)
    FakeChat(server, key=KEY)
    env = {"DEEPSEEK_API_KEY": KEY}
    first = cli("-vv", "run", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "**[code](https://github.com/someone/splat)** ★1.2k" in readme
    assert "中文译文" in readme  # the translated abstract replaces the English one
    translations = len(server.requests_to("/v1/chat/completions"))
    assert translations >= 1

    second = cli("-vv", "run", cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert len(server.requests_to("/v1/chat/completions")) == translations  # cached

    for text in (first.stdout, first.stderr, second.stderr):
        assert KEY not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_translation_outage_keeps_english_marked_and_retries_next_run(
    tmp_path: Path, server: LocalServer
) -> None:
    setup(tmp_path, server)
    server.route("POST", "/v1/chat/completions", Reply(503, "upstream overloaded"))
    result = cli("run", cwd=tmp_path, env={"DEEPSEEK_API_KEY": KEY})
    assert result.returncode == 0, result.stderr
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "(EN) " in readme and "中文译文" not in readme

    FakeChat(server, key=KEY)
    assert cli("run", cwd=tmp_path, env={"DEEPSEEK_API_KEY": KEY}).returncode == 0
    assert "中文译文" in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_missing_api_key_stops_enrich_before_any_request(
    tmp_path: Path, server: LocalServer
) -> None:
    setup(tmp_path, server)
    result = cli("enrich", cwd=tmp_path, env={"DEEPSEEK_API_KEY": ""})
    assert result.returncode == 2
    assert "DEEPSEEK_API_KEY" in result.stderr and "Traceback" not in result.stderr
    assert server.requests == []


def status_text(tmp_path: Path) -> str:
    status = cli("status", cwd=tmp_path, env={"COLUMNS": "300"})
    assert status.returncode == 0, status.stderr
    return " ".join(status.stdout.split())


def test_a_missing_key_in_a_scheduled_run_still_fetches_and_publishes_then_exits_1(
    tmp_path: Path, server: LocalServer
) -> None:
    """An expired secret must not stop the digest: English marked pending, exit 1, the fix."""
    setup(tmp_path, server)
    result = cli("run", cwd=tmp_path, env={"DEEPSEEK_API_KEY": ""})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "error in enrich: translation: no key: set DEEPSEEK_API_KEY" in result.stderr
    assert "export DEEPSEEK_API_KEY=" in result.stderr  # the fix
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "Gaussian splatting with code" in readme and "(EN) " in readme
    assert "**[code](https://github.com/someone/splat)**" in readme  # code links need no key
    assert server.requests_to("/v1/chat/completions") == []
    assert "enrich: translation: no key: set DEEPSEEK_API_KEY" in status_text(tmp_path)


def test_a_refused_key_fails_the_enrich_stage_with_the_fix(
    tmp_path: Path, server: LocalServer
) -> None:
    setup(tmp_path, server)
    FakeChat(server, key=KEY)
    result = cli("run", cwd=tmp_path, env={"DEEPSEEK_API_KEY": "sk-expired-0000000000"})
    assert result.returncode == 1, result.stderr
    assert "refused the key in DEEPSEEK_API_KEY (HTTP 401)" in result.stderr
    assert "set DEEPSEEK_API_KEY to a valid key" in result.stderr
    assert "sk-expired" not in result.stderr + result.stdout
    assert len(server.requests_to("/v1/chat/completions")) == 1  # no request after the refusal
    assert "(EN) " in (tmp_path / "README.md").read_text(encoding="utf-8")
    status = status_text(tmp_path)
    assert "partial" in status and "refused the key in DEEPSEEK_API_KEY" in status


@pytest.mark.parametrize("status", [404, 501])
def test_a_wrong_base_url_fails_the_enrich_stage_with_the_fix(
    tmp_path: Path, server: LocalServer, status: int
) -> None:
    setup(tmp_path, server)
    server.route("POST", "/v1/chat/completions", Reply(status, "Unsupported method"))
    result = cli("run", cwd=tmp_path, env={"DEEPSEEK_API_KEY": KEY})
    assert result.returncode == 1, result.stderr
    assert f"answered HTTP {status}: there is no such API at this address" in result.stderr
    assert "check translation.base_url" in result.stderr
    assert "check translation.base_url" in status_text(tmp_path)
