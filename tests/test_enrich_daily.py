"""Hugging Face's daily papers list as a batch finder, and the cheaper check schedule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from arxiv_radar.enrich.codelinks import (
    DAILY_LIMIT,
    CodeResult,
    DailyPapersFinder,
    HuggingFaceFinder,
    PapersWithCodeFinder,
    TextFinder,
)
from arxiv_radar.enrich.stage import Enrichers, EnrichSettings, enrich
from arxiv_radar.errors import SourceFormatError
from arxiv_radar.http import PoliteClient
from arxiv_radar.records import CodeOutcome
from arxiv_radar.store import Store
from tests.fixtures.enrich.helpers import FAST, T0, make_paper
from tests.fixtures.enrich.memory_store import MemoryStore
from tests.servers.fake_apis import FakeHuggingFace, FakePapersWithCode, daily_item
from tests.servers.http import LocalServer, Reply, shared_data

FIXTURES = Path(__file__).parent / "fixtures" / "enrich"
YESTERDAY = (T0 - timedelta(days=1)).date().isoformat()  # the list a run at T0 reads


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    with PoliteClient(FAST) as polite:
        yield polite


def daily(server: LocalServer, client: PoliteClient) -> DailyPapersFinder:
    return DailyPapersFinder(client, server.url, clock=lambda: T0)


def test_recorded_daily_list_yields_every_linked_paper(
    server: LocalServer, client: PoliteClient
) -> None:
    recorded = shared_data("hf-api-daily_papers-2026-06-30items.json")
    FakeHuggingFace(server).daily({YESTERDAY: recorded})
    found = daily(server, client).find_many(T0)
    linked = {
        item["paper"]["id"] for item in json.loads(recorded) if item["paper"].get("githubRepo")
    }
    assert set(found) == linked and len(linked) == 16
    assert found["2606.13392"] == CodeResult(
        source="huggingface-daily", at=T0, code_url="https://github.com/MiniMax-AI/MSA", stars=251
    )
    assert found["2606.08063"].project_url == "https://huggingface.co/spaces/Jiaqi-hkust/Robust-U1"
    (request,) = server.requests
    assert (request.param("date"), request.param("limit")) == (YESTERDAY, str(DAILY_LIMIT))
    assert request.headers["accept"] == "application/json"


def test_odd_entries_are_skipped_and_links_normalised(
    server: LocalServer, client: PoliteClient
) -> None:
    FakeHuggingFace(server).daily({YESTERDAY: (FIXTURES / "daily_papers_edge.json").read_bytes()})
    found = daily(server, client).find_many(T0)
    assert found == {
        "2611.00001": CodeResult(
            "huggingface-daily", T0, "https://github.com/o/r", "https://o.github.io/r", 9
        ),
        "2611.00005": CodeResult("huggingface-daily", T0, "https://gitlab.com/g/p"),
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [(b'[{"paper": {"id"', "malformed JSON"), (b'{"error": "x"}', "not a list")],
)
def test_unreadable_list_is_a_source_format_error(
    server: LocalServer, client: PoliteClient, body: bytes, message: str
) -> None:
    FakeHuggingFace(server).daily({YESTERDAY: body})
    with pytest.raises(SourceFormatError, match=message) as caught:
        daily(server, client).find_many(T0)
    assert "/api/daily_papers" in caught.value.url


def code_enrichers(server: LocalServer, client: PoliteClient) -> Enrichers:
    return Enrichers(
        finders=[
            TextFinder(),
            DailyPapersFinder(client, server.url),
            HuggingFaceFinder(client, server.url),
            PapersWithCodeFinder(client, f"{server.url}/api/v1"),
        ]
    )


def checked_once(first_seen: datetime, *ids: str) -> MemoryStore:
    """Papers checked on their first day without finding code: next check 3 days later."""
    store = MemoryStore()
    for arxiv_id in ids:
        store.add(make_paper(arxiv_id), first_seen)
        state = store.code[arxiv_id]
        state.attempts, state.next_check = 1, first_seen + timedelta(days=3)
    return store


def test_daily_list_settles_papers_between_their_checks(
    server: LocalServer, client: PoliteClient
) -> None:
    store = checked_once(T0 - timedelta(days=1), "2611.00001", "2611.00002")
    items = [daily_item("2611.00001", "https://github.com/o/r"), daily_item("2611.00009")]
    FakeHuggingFace(server).daily({YESTERDAY: json.dumps(items).encode()})
    report = enrich(store, EnrichSettings(), code_enrichers(server, client), now=T0)
    settled, waiting = store.code["2611.00001"], store.code["2611.00002"]
    assert (settled.code_url, settled.next_check, settled.attempts) == (
        "https://github.com/o/r",
        None,
        1,
    )
    assert settled.outcome is not None and settled.outcome.source == "huggingface-daily"
    assert waiting.code_url is None and waiting.next_check == T0 + timedelta(days=2)
    assert [r.path for r in server.requests] == ["/api/daily_papers"]  # nothing per paper
    assert (report.code_found, report.code_checked) == (1, 0)


def test_due_paper_on_the_list_costs_no_request_of_its_own(
    server: LocalServer, client: PoliteClient
) -> None:
    store = MemoryStore()
    for arxiv_id in ("2611.00001", "2611.00002"):
        store.add(make_paper(arxiv_id), T0)
    hf = FakeHuggingFace(server)
    hf.daily({YESTERDAY: json.dumps([daily_item("2611.00001", "https://github.com/o/r")]).encode()})
    hf.missing("2611.00002")
    report = enrich(store, EnrichSettings(), code_enrichers(server, client), now=T0)
    assert store.code["2611.00001"].code_url == "https://github.com/o/r"
    assert store.code["2611.00002"].attempts == 1
    assert server.requests_to(hf.path("2611.00001")) == []
    assert server.unused_routes() == []
    assert (report.code_checked, report.code_found) == (2, 1)


def test_daily_list_outage_is_reported_and_per_paper_checks_go_on(
    server: LocalServer, client: PoliteClient
) -> None:
    store = MemoryStore()
    store.add(make_paper("2611.00001"), T0)
    server.route("GET", "/api/daily_papers", Reply(503, "down"))
    FakeHuggingFace(server).paper("2611.00001", repo="https://github.com/o/r")
    report = enrich(store, EnrichSettings(), code_enrichers(server, client), now=T0)
    assert store.code["2611.00001"].code_url == "https://github.com/o/r"
    assert [(f.step, f.arxiv_id) for f in report.failures] == [("code:huggingface-daily", "")]


def test_papers_with_code_is_asked_only_at_the_last_check(
    server: LocalServer, client: PoliteClient
) -> None:
    young, old = "2611.00001", "2611.00002"
    store = MemoryStore()
    store.add(make_paper(young), T0)
    store.add(make_paper(old), T0 - timedelta(days=30))
    hf, pwc = FakeHuggingFace(server), FakePapersWithCode(server)
    hf.daily({})
    hf.missing(young)
    hf.missing(old)
    pwc.paper(old, [{"url": "https://github.com/o/late", "is_official": True}])
    enrich(store, EnrichSettings(), code_enrichers(server, client), now=T0)
    assert server.requests_to(pwc.path(young)) == []
    assert store.code[old].code_url == "https://github.com/o/late"
    assert store.code[young].next_check == T0 + timedelta(days=3) - timedelta(hours=2)


def outcome(code: str | None, *, attempts: int, next_check: datetime | None) -> CodeOutcome:
    return CodeOutcome(code, None, None, "huggingface", T0, attempts, next_check)


def test_sqlite_store_lists_papers_awaiting_their_next_check(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "radar.db")
    papers = [make_paper(f"2611.0000{n}") for n in range(1, 5)]
    store.upsert_papers(papers, seen_at=T0, source="test")
    store.record_code("2611.00001", outcome(None, attempts=1, next_check=T0 + timedelta(days=3)))
    store.record_code("2611.00002", outcome(None, attempts=2, next_check=T0))  # due: not awaiting
    store.record_code("2611.00003", outcome("https://github.com/a/b", attempts=1, next_check=None))
    store.record_code("2611.00004", outcome(None, attempts=4, next_check=None))  # given up
    (awaiting,) = store.papers_awaiting_code(T0)
    assert (awaiting.paper.arxiv_id, awaiting.attempts, awaiting.first_seen) == (
        "2611.00001",
        1,
        T0,
    )
    assert store.papers_awaiting_code(T0 + timedelta(days=3)) == []
