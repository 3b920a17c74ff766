"""Hugging Face, Papers with Code and GitHub stars over real HTTP against local fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from arxiv_radar.enrich._wire import ClientPool
from arxiv_radar.enrich.codelinks import (
    CodeLinkSettings,
    CodeResult,
    HuggingFaceFinder,
    NotFound,
    PapersWithCodeFinder,
    make_finders,
)
from arxiv_radar.enrich.stars import GitHubStars, stars_schedule
from arxiv_radar.errors import ConfigError, FetchError, SourceFormatError
from arxiv_radar.http import PoliteClient
from arxiv_radar.http_budget import HttpSettings
from tests.fixtures.enrich.helpers import FAST, T0, make_paper
from tests.servers.fake_apis import FakeGitHub, FakeHuggingFace, FakePapersWithCode, json_reply
from tests.servers.http import LocalServer, Reply


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    with PoliteClient(FAST) as polite:
        yield polite


def hf_finder(server: LocalServer, client: PoliteClient) -> HuggingFaceFinder:
    return HuggingFaceFinder(client, server.url, clock=lambda: T0)


def test_hf_repo_stars_and_project_page(server: LocalServer, client: PoliteClient) -> None:
    FakeHuggingFace(server).paper(
        "2611.00001",
        repo="https://github.com/o/r.git",
        stars=42,
        project="https://o.github.io/r",
    )
    result = hf_finder(server, client).find(make_paper("2611.00001"))
    assert result == CodeResult(
        source="huggingface",
        at=T0,
        code_url="https://github.com/o/r",
        project_url="https://o.github.io/r",
        stars=42,
    )
    assert server.requests[0].headers["accept"] == "application/json"


def test_hf_404_means_not_indexed_yet(server: LocalServer, client: PoliteClient) -> None:
    FakeHuggingFace(server).missing("2611.00002")
    assert hf_finder(server, client).find(make_paper("2611.00002")) == NotFound("huggingface", T0)


def test_hf_paper_without_links_is_not_found(server: LocalServer, client: PoliteClient) -> None:
    FakeHuggingFace(server).paper("2611.00003")
    assert isinstance(hf_finder(server, client).find(make_paper("2611.00003")), NotFound)


def test_hf_429_with_retry_after_is_honoured(server: LocalServer, client: PoliteClient) -> None:
    ok = json_reply(200, {"id": "2611.00004", "githubRepo": "https://github.com/o/r"})
    server.route(
        "GET", "/api/papers/2611.00004", [Reply(429, "slow down", {"Retry-After": "1"}), ok]
    )
    result = hf_finder(server, client).find(make_paper("2611.00004"))
    assert isinstance(result, CodeResult)
    first, second = server.requests
    assert second.at - first.at >= FAST.retry_after_max * 0.9  # the capped Retry-After


def test_hf_500_then_success(server: LocalServer, client: PoliteClient) -> None:
    ok = json_reply(200, {"githubRepo": "https://github.com/o/r"})
    server.route("GET", "/api/papers/2611.00005", [Reply(500, "oops"), ok])
    assert isinstance(hf_finder(server, client).find(make_paper("2611.00005")), CodeResult)
    assert len(server.requests) == 2


def test_hf_persistent_500_raises_fetch_error_naming_url(
    server: LocalServer, client: PoliteClient
) -> None:
    server.route("GET", "/api/papers/2611.00006", Reply(503, "down"))
    with pytest.raises(FetchError) as caught:
        hf_finder(server, client).find(make_paper("2611.00006"))
    assert "/api/papers/2611.00006" in caught.value.url
    assert len(server.requests) == FAST.max_retries + 1


def test_hf_timeout_raises_fetch_error(server: LocalServer) -> None:
    server.route("GET", "/api/papers/2611.00007", Reply(200, "{}", delay=0.5))
    settings = HttpSettings(request_interval=0, timeout=0.1, max_retries=1, backoff_base=0.001)
    with PoliteClient(settings) as slow, pytest.raises(FetchError, match="timed out"):
        HuggingFaceFinder(slow, server.url).find(make_paper("2611.00007"))


def test_hf_malformed_json_is_a_source_format_error(
    server: LocalServer, client: PoliteClient
) -> None:
    server.route("GET", "/api/papers/2611.00008", Reply(200, '{"githubRepo": "https://gi'))
    with pytest.raises(SourceFormatError, match="malformed JSON"):
        hf_finder(server, client).find(make_paper("2611.00008"))


def test_pwc_prefers_the_official_repository(server: LocalServer, client: PoliteClient) -> None:
    pwc = FakePapersWithCode(server)
    pwc.paper(
        "2611.00009",
        [
            {"url": "https://github.com/fan/reimpl", "is_official": False, "stars": 900},
            {"url": "https://github.com/authors/official/", "is_official": True, "stars": 12},
        ],
    )
    result = PapersWithCodeFinder(client, pwc.base, clock=lambda: T0).find(make_paper("2611.00009"))
    assert result == CodeResult(
        source="paperswithcode", at=T0, code_url="https://github.com/authors/official", stars=12
    )
    assert server.requests[0].param("include_resources") == "true"


def test_pwc_unofficial_repository_is_better_than_nothing(
    server: LocalServer, client: PoliteClient
) -> None:
    pwc = FakePapersWithCode(server)
    pwc.paper("2611.00010", [{"url": "https://gitlab.com/g/p", "is_official": False}])
    result = PapersWithCodeFinder(client, pwc.base).find(make_paper("2611.00010"))
    assert isinstance(result, CodeResult)
    assert result.code_url == "https://gitlab.com/g/p"


def test_pwc_404_and_empty_repositories_are_not_found(
    server: LocalServer, client: PoliteClient
) -> None:
    pwc = FakePapersWithCode(server)
    pwc.missing("2611.00011")
    pwc.paper("2611.00012", [])
    finder = PapersWithCodeFinder(client, pwc.base)
    assert isinstance(finder.find(make_paper("2611.00011")), NotFound)
    assert isinstance(finder.find(make_paper("2611.00012")), NotFound)


def test_unknown_finder_name_is_a_config_error() -> None:
    with ClientPool(FAST) as pool, pytest.raises(ConfigError, match="'scholar'") as caught:
        make_finders(CodeLinkSettings(finders=("text", "scholar")), pool)
    assert "huggingface" in caught.value.fix


def test_registry_builds_finders_in_configured_order(server: LocalServer) -> None:
    settings = CodeLinkSettings(finders=("paperswithcode", "text"), pwc_base=server.url)
    with ClientPool(FAST) as pool:
        assert [f.name for f in make_finders(settings, pool)] == ["paperswithcode", "text"]


def test_hf_pool_client_paces_two_requests_per_second(server: LocalServer) -> None:
    hf = FakeHuggingFace(server)
    for n in range(3):
        hf.missing(f"2611.0002{n}")
    with ClientPool(FAST) as pool:  # default intervals: Hugging Face 0.5 s
        finder = HuggingFaceFinder(pool("huggingface"), server.url)
        for n in range(3):
            finder.find(make_paper(f"2611.0002{n}"))
    starts = [r.at for r in server.requests]
    assert starts[2] - starts[0] >= 2 * 0.5 * 0.95


def test_stars_batches_many_repositories_per_request(server: LocalServer) -> None:
    FakeGitHub(server, "ghp_secret", {f"o/r{n}": n for n in range(5)})
    urls = [f"https://github.com/o/r{n}" for n in range(5)]
    with PoliteClient(FAST) as polite:
        stars = GitHubStars(polite, server.url, "ghp_secret", batch_size=2).fetch(
            [*urls, "https://github.com/o/missing", "https://gitlab.com/g/p", urls[0]]
        )
    assert stars == {url: n for n, url in enumerate(urls)}
    assert len(server.requests) == 3  # 6 GitHub repositories in batches of 2
    body = json.loads(server.requests[0].body)
    assert body["variables"] == {"o0": "o", "n0": "r0", "o1": "o", "n1": "r1"}
    assert "stargazerCount" in body["query"]


def test_stars_bad_token_raises_without_the_token(server: LocalServer) -> None:
    FakeGitHub(server, "ghp_right", {})
    with PoliteClient(FAST) as polite, pytest.raises(FetchError) as caught:
        GitHubStars(polite, server.url, "ghp_wrong_token").fetch(["https://github.com/o/r"])
    assert "ghp_wrong_token" not in str(caught.value)


def test_stars_answer_without_data_is_a_format_error(server: LocalServer) -> None:
    server.route(
        "POST", "/graphql", json_reply(200, {"errors": [{"message": "rate limit exceeded"}]})
    )
    with PoliteClient(FAST) as polite, pytest.raises(SourceFormatError, match="rate limit"):
        GitHubStars(polite, server.url, "t").fetch(["https://github.com/o/r"])


def test_recent_papers_stars_refresh_at_most_daily() -> None:
    recent = T0 - timedelta(days=5)  # first seen five days before
    assert stars_schedule(T0).due(None, recent)
    assert not stars_schedule(T0 + timedelta(hours=12)).due(T0, recent)
    assert stars_schedule(T0 + timedelta(days=1) - timedelta(minutes=10)).due(T0, recent)
    assert stars_schedule(T0 + timedelta(days=3)).due(T0, recent)


def test_older_papers_stars_refresh_once_a_month_together() -> None:
    old = T0 - timedelta(days=200)
    fetched = datetime(2026, 11, 1, 1, 17, tzinfo=timezone.utc)
    for later in (timedelta(days=1), timedelta(days=20)):
        assert not stars_schedule(fetched + later).due(fetched, old)  # still November
    assert stars_schedule(datetime(2026, 12, 1, 1, 17, tzinfo=timezone.utc)).due(fetched, old)
    assert stars_schedule(fetched).due(None, old)  # never fetched: due at once


def test_pool_client_is_safe_to_share_between_finder_threads(server: LocalServer) -> None:
    hf = FakeHuggingFace(server)
    for n in range(40):
        hf.paper(f"2611.{n:05d}", repo=f"https://github.com/o/r{n}")
    with ClientPool(FAST, intervals={}) as pool, ThreadPoolExecutor(4) as threads:
        finder = HuggingFaceFinder(pool("huggingface"), server.url)
        results = list(threads.map(finder.find, [make_paper(f"2611.{n:05d}") for n in range(40)]))
    assert [r.code_url for r in results if isinstance(r, CodeResult)] == [
        f"https://github.com/o/r{n}" for n in range(40)
    ]
    assert len(server.requests) == 40  # no failed attempt was retried
