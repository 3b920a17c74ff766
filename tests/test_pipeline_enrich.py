"""The enrich stage inside real runs: code links and translations reach the pages, once."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.fake_apis import FakeChat, FakeHuggingFace
from tests.servers.http import LocalServer
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
    setup(tmp_path, server)  # no translation server: every request answers 404
    result = cli("run", cwd=tmp_path, env={"DEEPSEEK_API_KEY": KEY})
    assert result.returncode == 0, result.stderr
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "(EN) " in readme and "中文译文" not in readme

    FakeChat(server, key=KEY)
    assert cli("run", cwd=tmp_path, env={"DEEPSEEK_API_KEY": KEY}).returncode == 0
    assert "中文译文" in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_missing_api_key_stops_before_any_request(tmp_path: Path, server: LocalServer) -> None:
    setup(tmp_path, server)
    result = cli("run", cwd=tmp_path, env={"DEEPSEEK_API_KEY": ""})
    assert result.returncode == 2
    assert "DEEPSEEK_API_KEY" in result.stderr and "Traceback" not in result.stderr
    assert server.requests == []
