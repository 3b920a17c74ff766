"""The enrich stage against a dict store, with every provider a real local HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from arxiv_radar.enrich._wire import ClientPool
from arxiv_radar.enrich.codelinks import (
    CodeLinkSettings,
    HuggingFaceFinder,
    PapersWithCodeFinder,
    TextFinder,
)
from arxiv_radar.enrich.stage import (
    Enrichers,
    EnrichReport,
    EnrichSettings,
    TextKey,
    build_enrichers,
    enrich,
)
from arxiv_radar.enrich.stars import GitHubStars
from arxiv_radar.enrich.summarize import SummarySettings
from arxiv_radar.enrich.translate import TranslationSettings, make_translator
from arxiv_radar.http import PoliteClient
from tests.fixtures.enrich.helpers import FAST, T0, make_paper
from tests.fixtures.enrich.memory_store import MemoryStore
from tests.servers.fake_apis import (
    FakeChat,
    FakeGitHub,
    FakeHuggingFace,
    FakePapersWithCode,
    json_reply,
)
from tests.servers.http import LocalServer, Reply, Request

KEY = "sk-stage-secret-4242"
ABSTRACT_KEY = TextKey("abstract", "zh-CN", "openai", "deepseek-chat")


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    """Finder threads share it, as they share a ClientPool's client in production."""
    with PoliteClient(FAST) as polite:
        yield polite


def store_with(count: int, *, first_seen: datetime = T0, **paper_args: str) -> MemoryStore:
    store = MemoryStore()
    for n in range(count):
        store.add(make_paper(f"2611.{n:05d}", **paper_args), first_seen)
    return store


def code_enrichers(server: LocalServer, client: PoliteClient) -> Enrichers:
    return Enrichers(
        finders=[
            TextFinder(),
            HuggingFaceFinder(client, server.url),
            PapersWithCodeFinder(client, f"{server.url}/api/v1"),
        ]
    )


def translation(server: LocalServer, **overrides: object) -> TranslationSettings:
    values: dict[str, object] = {
        "provider": "openai",
        "base_url": f"{server.url}/v1",
        "model": "deepseek-chat",
        "api_key_env": "DEEPSEEK_API_KEY",
    }
    values.update(overrides)
    return TranslationSettings(**values)  # type: ignore[arg-type]


def translating(
    server: LocalServer, client: PoliteClient, **overrides: object
) -> tuple[EnrichSettings, Enrichers]:
    settings = EnrichSettings(code_enabled=False, translation=translation(server, **overrides))
    translator = make_translator(settings.translation, client, {"DEEPSEEK_API_KEY": KEY})
    return settings, Enrichers(translator=translator)


# --- code links ---------------------------------------------------------------------------------


def test_links_in_the_text_cost_no_request(server: LocalServer, client: PoliteClient) -> None:
    store = store_with(1, abstract="Code: https://github.com/o/r.")
    report = enrich(store, EnrichSettings(), code_enrichers(server, client), now=T0)
    state = store.code["2611.00000"]
    assert state.code_url == "https://github.com/o/r"
    assert state.outcome is not None and state.outcome.source == "text"
    assert state.next_check is None
    assert server.requests == []
    assert (report.code_checked, report.code_found) == (1, 1)


def test_finders_run_in_order_and_stop_at_the_first_repository(
    server: LocalServer, client: PoliteClient
) -> None:
    store = store_with(2, first_seen=T0 - timedelta(days=30))  # the last check: every finder
    hf, pwc = FakeHuggingFace(server), FakePapersWithCode(server)
    hf.paper("2611.00000", repo="https://github.com/hf/found", stars=7)
    hf.missing("2611.00001")
    pwc.paper("2611.00001", [{"url": "https://github.com/pwc/found", "is_official": True}])
    enrich(store, EnrichSettings(), code_enrichers(server, client), now=T0)
    assert store.code["2611.00000"].code_url == "https://github.com/hf/found"
    assert store.code["2611.00000"].stars == 7
    assert store.code["2611.00001"].outcome.source == "paperswithcode"  # type: ignore[union-attr]
    assert server.requests_to(pwc.path("2611.00000")) == []
    assert server.unused_routes() == []


def test_paper_without_code_is_rechecked_on_the_widening_schedule_then_never(
    server: LocalServer, client: PoliteClient
) -> None:
    store = store_with(1)
    today = {"day": -1}
    asked_on: list[int] = []

    def not_indexed(_request: Request) -> Reply:
        asked_on.append(today["day"])
        return json_reply(404, {"error": "Paper not found"})

    server.route("GET", "/api/papers/2611.00000", not_indexed)
    FakePapersWithCode(server).missing("2611.00000")
    for day in range(60):
        today["day"] = day
        run_at = T0 + timedelta(days=day, minutes=(day * 37) % 50 - 25)  # cron jitter
        enrich(store, EnrichSettings(), code_enrichers(server, client), now=run_at)
    assert asked_on == [0, 3, 10, 30]
    assert store.code["2611.00000"].attempts == 4
    assert store.code["2611.00000"].next_check is None


def test_project_page_is_recorded_while_code_is_still_awaited(
    server: LocalServer, client: PoliteClient
) -> None:
    store = store_with(1, abstract="Project page: https://lab.example.org/p.")
    FakeHuggingFace(server).missing("2611.00000")
    FakePapersWithCode(server).missing("2611.00000")
    enrich(store, EnrichSettings(), code_enrichers(server, client), now=T0)
    state = store.code["2611.00000"]
    assert (state.code_url, state.project_url) == (None, "https://lab.example.org/p")
    assert state.next_check == T0 + timedelta(days=3) - timedelta(hours=2)


def test_outage_loses_nothing_and_gives_up_early(server: LocalServer, client: PoliteClient) -> None:
    store = store_with(10)
    for n in range(10):
        server.route("GET", f"/api/papers/2611.{n:05d}", Reply(503, "maintenance"))
        server.route("GET", f"/api/v1/papers/2611.{n:05d}", json_reply(404, {"detail": "x"}))
    enrichers = code_enrichers(server, client)
    report = enrich(store, EnrichSettings(code=CodeLinkSettings(workers=1)), enrichers, now=T0)
    assert report.code_checked == 0
    assert all(state.attempts == 0 and state.outcome is None for state in store.code.values())
    assert len(report.failures) >= 10
    hf_requests = [r for r in server.requests if r.path.startswith("/api/papers/")]
    assert len(hf_requests) == 3 * (FAST.max_retries + 1)  # then the finder is switched off
    # Back up: the next run checks every paper.
    hf = FakeHuggingFace(server)
    for n in range(10):
        hf.paper(f"2611.{n:05d}", repo=f"https://github.com/o/r{n}")
    report = enrich(store, EnrichSettings(), enrichers, now=T0 + timedelta(hours=1))
    assert report.code_found == 10


def test_a_later_finder_can_still_find_code_while_one_is_down(
    server: LocalServer, client: PoliteClient
) -> None:
    store = store_with(1, first_seen=T0 - timedelta(days=30))
    server.route("GET", "/api/papers/2611.00000", Reply(500))
    FakePapersWithCode(server).paper("2611.00000", [{"url": "https://github.com/o/r"}])
    report = enrich(store, EnrichSettings(), code_enrichers(server, client), now=T0)
    assert store.code["2611.00000"].code_url == "https://github.com/o/r"
    assert report.code_found == 1
    assert [f.step for f in report.failures] == ["code:huggingface"]


def test_parallel_workers_check_every_paper_once(server: LocalServer, client: PoliteClient) -> None:
    store = store_with(12)
    hf = FakeHuggingFace(server)
    for n in range(12):
        hf.paper(f"2611.{n:05d}", repo=f"https://github.com/o/r{n}")
    report = enrich(store, EnrichSettings(), code_enrichers(server, client), now=T0)
    assert report.code_found == 12
    assert len(server.requests) == 12
    assert {s.code_url for s in store.code.values()} == {
        f"https://github.com/o/r{n}" for n in range(12)
    }


def test_stars_are_fetched_in_one_request_and_at_most_daily(
    server: LocalServer, client: PoliteClient
) -> None:
    store = MemoryStore()
    for n in range(3):
        store.add(make_paper(f"2611.{n:05d}", abstract=f"See https://github.com/o/r{n}."), T0)
    FakeGitHub(server, "ghp_x", {"o/r0": 5, "o/r1": 6, "o/r2": 7})
    enrichers = Enrichers(finders=[TextFinder()], stars=GitHubStars(client, server.url, "ghp_x"))
    report = enrich(store, EnrichSettings(), enrichers, now=T0)
    assert report.stars_updated == 3
    assert [s.stars for s in store.code.values()] == [5, 6, 7]
    enrich(store, EnrichSettings(), enrichers, now=T0 + timedelta(hours=6))
    assert len(server.requests) == 1
    enrich(store, EnrichSettings(), enrichers, now=T0 + timedelta(days=1))
    assert len(server.requests) == 2


# --- translations ------------------------------------------------------------------------------


def test_no_paper_is_translated_twice(server: LocalServer, client: PoliteClient) -> None:
    chat = FakeChat(server, key=KEY)
    store = store_with(5)
    settings, enrichers = translating(server, client)
    first = enrich(store, settings, enrichers, now=T0)
    second = enrich(store, settings, enrichers, now=T0 + timedelta(days=1))
    assert (first.translated, second.translated) == (5, 0)
    assert len(server.requests_to(chat.path)) == 5
    assert store.texts[("2611.00000", 1, ABSTRACT_KEY)] == "中文译文 We study things."
    # A new version is a new abstract: translated once more, under its own version.
    store.papers["2611.00000"] = make_paper("2611.00000", version=2, abstract="We study more.")
    enrich(store, settings, enrichers, now=T0 + timedelta(days=2))
    assert len(server.requests_to(chat.path)) == 6
    assert store.texts[("2611.00000", 2, ABSTRACT_KEY)] == "中文译文 We study more."


def test_another_model_is_another_cache_entry(server: LocalServer, client: PoliteClient) -> None:
    FakeChat(server, key=KEY)
    store = store_with(2)
    enrich(store, *translating(server, client), now=T0)
    enrich(store, *translating(server, client, model="qwen-plus"), now=T0)
    assert len(server.requests) == 4
    assert len(store.texts) == 4


def test_paper_budget_holds_across_fields(server: LocalServer, client: PoliteClient) -> None:
    FakeChat(server, key=KEY)
    store = store_with(5)
    settings, enrichers = translating(server, client, budget_papers=2, translate_title=True)
    report = enrich(store, settings, enrichers, now=T0)
    assert {arxiv_id for arxiv_id, _v, _k in store.texts} == {"2611.00000", "2611.00001"}
    assert report.translated == 4  # title and abstract of two papers
    assert len(server.requests) == 4
    report = enrich(store, settings, enrichers, now=T0 + timedelta(days=1))
    assert len({arxiv_id for arxiv_id, _v, _k in store.texts}) == 4


def test_character_budget_holds(server: LocalServer, client: PoliteClient) -> None:
    chat = FakeChat(server, key=KEY)
    store = store_with(6, abstract="x" * 100)
    settings, enrichers = translating(server, client, budget_chars=350, batch_size=2)
    report = enrich(store, settings, enrichers, now=T0)
    sent = [json.loads(r.body)["messages"][1]["content"] for r in server.requests_to(chat.path)]
    assert sum(len(text) for text in sent) <= 350
    assert report.translated == 3
    assert report.budget_exhausted


def test_provider_outage_loses_nothing(server: LocalServer, client: PoliteClient) -> None:
    server.route("POST", "/v1/chat/completions", Reply(500, "upstream overloaded"))
    store = store_with(8)
    settings, enrichers = translating(server, client, batch_size=1)
    report = enrich(store, settings, enrichers, now=T0)
    assert store.texts == {}
    assert report.translated == 0
    assert {f.arxiv_id for f in report.failures} == {"2611.00000", "2611.00001", "2611.00002"}
    assert len(server.requests) == 3 * (FAST.max_retries + 1)  # then the provider is skipped
    FakeChat(server, key=KEY)
    report = enrich(store, settings, enrichers, now=T0 + timedelta(days=1))
    assert report.translated == 8


def test_english_or_broken_answers_stay_pending(server: LocalServer, client: PoliteClient) -> None:
    FakeChat(server, key=KEY, translate=lambda text: text)  # echoes the English
    store = store_with(2, abstract="We prove $x=1$.")
    settings, enrichers = translating(server, client)
    report = enrich(store, settings, enrichers, now=T0)
    assert store.texts == {}
    assert report.rejected == 2
    FakeChat(server, key=KEY, translate=lambda text: "我们证明了。")  # lost the formula
    assert enrich(store, settings, enrichers, now=T0).rejected == 2
    assert store.texts == {}
    FakeChat(server, key=KEY, translate=lambda text: f"我们证明 {text[-4:-1]}。")
    assert enrich(store, settings, enrichers, now=T0).translated == 2
    assert store.texts[("2611.00000", 1, ABSTRACT_KEY)] == "我们证明 $x=1$。"


def test_key_never_reaches_the_store_or_the_report(
    server: LocalServer, client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    FakeChat(server, key="another-key")  # 401 echoing the key we send
    store = store_with(2)
    caplog.set_level("DEBUG")
    report = enrich(store, *translating(server, client), now=T0)
    assert report.failures
    written = repr(report) + repr(store) + caplog.text
    assert KEY not in written


# --- summaries and wiring ------------------------------------------------------------------


def test_summaries_are_cached_and_rejections_stay_pending(
    server: LocalServer, client: PoliteClient
) -> None:
    answers = iter(["A Study of Things", "本文研究事物。", "本文研究事物。"])
    chat = FakeChat(server, key=KEY, translate=lambda _user: next(answers))
    store = store_with(2)
    env = {"DEEPSEEK_API_KEY": KEY}
    settings = EnrichSettings(
        code_enabled=False,
        translation=TranslationSettings(
            provider="openai",
            base_url=f"{server.url}/v1",
            model="m",
            api_key_env="DEEPSEEK_API_KEY",
        ),
        summary=SummarySettings(enabled=True),
    )
    with ClientPool(FAST) as pool:
        enrichers = Enrichers(summarizer=build_enrichers(settings, pool, env=env).summarizer)
        first = enrich(store, settings, enrichers, now=T0)
        second = enrich(store, settings, enrichers, now=T0)
        enrich(store, settings, enrichers, now=T0)
    assert (first.summarized, first.rejected, second.summarized) == (1, 1, 1)
    assert len(server.requests_to(chat.path)) == 3
    assert {k.field for _i, _v, k in store.texts} == {"tldr"}


def test_build_enrichers_from_settings(server: LocalServer) -> None:
    settings = EnrichSettings(
        code=CodeLinkSettings(hf_base=server.url),
        translation=TranslationSettings(provider="deepl"),
    )
    with ClientPool(FAST) as pool:
        built = build_enrichers(settings, pool, env={"DEEPL_API_KEY": "k"})
        assert [f.name for f in built.finders] == [
            "text",
            "huggingface-daily",
            "huggingface",
            "paperswithcode",
        ]
        assert built.stars is None  # no GITHUB_TOKEN
        assert built.translator is not None and built.translator.name == "deepl"
        assert built.summarizer is None
        with_token = build_enrichers(EnrichSettings(), pool, env={}, github_token="ghp_t")
        assert with_token.stars is not None and with_token.translator is None


def test_nothing_configured_does_nothing() -> None:
    assert enrich(MemoryStore(), EnrichSettings(), Enrichers(), now=T0) == EnrichReport()
