"""The pipeline through arXiv's failure modes, against the fake arXiv behind a fault injector.

For every fault: what the run does (retried and succeeded, or failed with exit 1 naming the URL),
and that once the faults stop a re-run holds every paper exactly once, with run records that say
what failed and what was retried.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from arxiv_radar.config import load_workspace
from arxiv_radar.paper import Paper
from arxiv_radar.pipeline import RunOutcome, run_pipeline
from arxiv_radar.publish.export import read_json_exports
from arxiv_radar.store import RunRecord, Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.faults import (
    Fault,
    FaultInjector,
    RealReply,
    blank_placeholder,
    empty_page,
    legacy_format,
    not_acceptable,
    rate_limited,
    reset,
    slow,
    truncated,
    unavailable,
)
from tests.servers.http import LocalServer, Reply, Request
from tests.test_pipeline import cli

DAY = date(2026, 11, 24)
TIMEOUT = 0.4
CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
  - name: Avatars
    query: 'all:avatar'
output:
  abstract_chars: 0
site:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  timeout: {timeout}
  max_retries: 2
  backoff_base: 0.01
"""


@dataclass
class World:
    """A fake arXiv with faults in front of both endpoints, and a workspace pointed at it."""

    arxiv: FakeArxiv
    rss: FaultInjector
    api: FaultInjector
    root: Path
    expected: dict[str, set[str]]

    @property
    def rss_path(self) -> str:
        return "/rss/cs.CV"

    def run(self, stages: tuple[str, ...] = ("fetch", "publish")) -> RunOutcome:
        workspace = load_workspace(self.root / "arxiv-radar.yml", env={})
        return run_pipeline(workspace, stages, command="run")

    def heal(self) -> None:
        self.rss.clear()
        self.api.clear()

    def runs(self) -> list[RunRecord]:
        with Store.open(self.root / "arxiv-radar.db") as store:
            return store.recent_runs(50)

    def assert_complete(self) -> None:
        """Every expected paper stored once, in its topics, and exported once."""
        everything = set().union(*self.expected.values())
        with Store.open(self.root / "arxiv-radar.db") as store:
            assert store.paper_count() == len(everything)
            for topic, ids in self.expected.items():
                listed = [entry.paper.arxiv_id for entry in store.topic_entries(topic)]
                assert sorted(listed) == sorted(ids), topic
        exported = read_json_exports(self.root / "docs" / "exports")
        exported_ids = [paper["arxiv_id"] for paper in exported]
        assert sorted(exported_ids) == sorted(everything)


def _papers() -> tuple[list[Paper], list[Paper], list[Paper]]:
    """Today's listing (three splatting papers, one unrelated) and 140 earlier API-only papers,
    every tenth about avatars, so the Avatars search needs two pages of 100."""
    recent = datetime.now(timezone.utc) - timedelta(hours=2)
    listed = [
        make_paper("2611.00001", "Splatting one", published=recent),
        make_paper("2611.00002", "Splatting two", published=recent),
        make_paper("2611.00003", "Unrelated optics", published=recent),
    ]
    cross = [make_paper("2611.00004", "Splatting crossed", categories=["cs.GR", "cs.CV"])]
    extra = [
        make_paper(
            f"2611.{1000 + k:05d}",
            f"Avatar study {k}" if k % 10 == 0 else f"Other study {k}",
            categories=["physics.ed-ph"],
            published=recent - timedelta(minutes=5 * (k + 1)),
        )
        for k in range(140)
    ]
    return listed, cross, extra


@pytest.fixture
def world(server: LocalServer, tmp_path: Path) -> World:
    arxiv = FakeArxiv(server, ["cs.CV"])
    listed, cross, extra = _papers()
    arxiv.announce(DAY, listed, cross=cross)
    for paper in extra:
        arxiv.publish(paper)
    rss = FaultInjector(server, "/rss/cs.CV")
    api = FaultInjector(server, "/api/query")
    (tmp_path / "arxiv-radar.yml").write_text(
        CONFIG.format(api=arxiv.api_url, rss=arxiv.rss_url, timeout=TIMEOUT), encoding="utf-8"
    )
    expected = {
        "Splatting": {"2611.00001", "2611.00002", "2611.00004"},
        "Avatars": {p.arxiv_id for p in extra if p.title.startswith("Avatar")},
    }
    return World(arxiv, rss, api, tmp_path, expected)


def is_search(request: Request) -> bool:
    return bool(request.param("search_query"))


def is_id_lookup(request: Request) -> bool:
    return bool(request.param("id_list"))


def second_page(request: Request) -> bool:
    return is_search(request) and request.param("start") == "100"


# --- transient faults: retried, the run succeeds ---------------------------------------------

TRANSIENT: dict[str, Fault] = {
    "429 with Retry-After": rate_limited("0"),
    "429 without Retry-After": rate_limited(),
    "503": unavailable(),
    "timeout": slow(TIMEOUT * 2),
    "connection reset": reset(),
    "truncated body": truncated(0.5),
}


@pytest.mark.parametrize("endpoint", ["rss", "id lookup", "search page 2"])
@pytest.mark.parametrize("name", list(TRANSIENT))
def test_a_transient_fault_is_retried_and_recorded(world: World, name: str, endpoint: str) -> None:
    if endpoint == "rss":
        world.rss.inject(TRANSIENT[name])
    else:
        predicate = is_id_lookup if endpoint == "id lookup" else second_page
        world.api.inject(TRANSIENT[name], when=predicate)

    outcome = world.run()

    assert outcome.exit_code == 0, outcome.errors
    assert (world.rss.injected, world.api.injected) != (0, 0)
    world.assert_complete()
    (run,) = world.runs()
    assert run.status == "ok"
    (retry,) = run.stats["retries"]
    assert retry["attempt"] == 1
    assert ("/rss/cs.CV" if endpoint == "rss" else "/api/query") in retry["url"]
    expected_reason = {"429": "HTTP 429", "503": "HTTP 503", "timeout": "timed out"}
    assert expected_reason.get(name.split(maxsplit=1)[0], "") in retry["reason"]


def test_retry_after_is_waited_for(world: World) -> None:
    world.rss.inject(rate_limited("1"))
    outcome = world.run(("fetch",))
    assert outcome.exit_code == 0
    first, second = world.arxiv.server.requests_to(world.rss_path)[:2]
    assert second.at - first.at >= 0.95


def test_retries_that_all_fail_end_the_fetch_naming_the_url(world: World) -> None:
    world.rss.always(unavailable())
    outcome = world.run()

    assert outcome.exit_code == 1
    assert len(world.arxiv.server.requests_to(world.rss_path)) == 3  # 1 + max_retries
    (error,) = outcome.errors
    assert error["stage"] == "fetch" and error["url"].endswith("/rss/cs.CV")
    assert "failed after 3 attempts: HTTP 503" in error["error"]
    (run,) = world.runs()
    assert run.status == "partial"  # publish still ran, with an honest status line
    assert [r["attempt"] for r in run.stats["retries"]] == [1, 2]
    readme = (world.root / "README.md").read_text("utf-8")
    assert "The last fetch" in readme and "failed" in readme

    world.heal()
    assert world.run().exit_code == 0
    world.assert_complete()
    assert [r.status for r in world.runs()] == ["ok", "partial"]


def test_406_is_not_retried_and_fails_at_once(world: World) -> None:
    world.api.always(not_acceptable(), when=is_id_lookup)
    outcome = world.run()

    assert outcome.exit_code == 1
    assert len([r for r in world.arxiv.api_requests() if is_id_lookup(r)]) == 1
    (error,) = outcome.errors
    assert "HTTP 406" in error["error"] and "/api/query" in error["url"]
    with Store.open(world.root / "arxiv-radar.db") as store:
        assert store.paper_count() == 0  # the fetch commits all or nothing
        assert store.category_state() == {}  # so the day is read again next time

    world.heal()
    assert world.run().exit_code == 0
    world.assert_complete()


def test_a_persistent_timeout_names_the_url(world: World) -> None:
    world.api.always(slow(TIMEOUT * 2), when=second_page)
    started = time.monotonic()
    outcome = world.run(("fetch",))
    assert time.monotonic() - started < 6 * TIMEOUT + 2
    assert outcome.exit_code == 1
    (error,) = outcome.errors
    assert "timed out" in error["error"] and "start=100" in error["url"]
    world.heal()
    assert world.run().exit_code == 0
    world.assert_complete()


# --- pages that parse but are wrong ----------------------------------------------------------


def test_an_empty_page_in_the_middle_of_paging_is_retried(world: World) -> None:
    world.api.inject(empty_page(), when=second_page)
    outcome = world.run()
    assert outcome.exit_code == 0, outcome.errors
    world.assert_complete()
    (retry,) = outcome.stats["retries"]
    assert "empty page at start=100" in retry["reason"]


def test_empty_pages_that_persist_fail_without_storing_half_a_search(world: World) -> None:
    world.api.always(empty_page(), when=second_page)
    outcome = world.run()
    assert outcome.exit_code == 1
    assert "empty page at start=100" in outcome.errors[0]["error"]
    with Store.open(world.root / "arxiv-radar.db") as store:
        assert store.topic_count("Avatars") == 0  # no half of a search is stored
        # the listing was committed before the search: its matches are safe
        assert store.topic_count("Splatting") == len(world.expected["Splatting"])
    world.heal()
    assert world.run().exit_code == 0
    world.assert_complete()


def test_truncated_xml_served_as_complete_is_a_format_error(world: World) -> None:
    """A body cut short but with a matching length cannot be caught by HTTP: the parser must."""

    def cut(request: Request, real: RealReply) -> Reply:
        return Reply(body="<?xml version='1.0'?><rss version='2.0'><channel><item><title>x")

    world.rss.inject(cut)
    outcome = world.run(("fetch",))
    assert outcome.exit_code == 1
    (error,) = outcome.errors
    assert "malformed" in error["error"] and error["url"].endswith("/rss/cs.CV")
    world.heal()
    assert world.run().exit_code == 0
    world.assert_complete()


def test_malformed_answers_after_a_good_run_lose_nothing_stored(world: World) -> None:
    assert world.run().exit_code == 0
    readme = (world.root / "README.md").read_text("utf-8")
    world.rss.always(truncated(0.5))
    world.api.always(empty_page())
    failed = world.run()
    assert failed.exit_code == 1 and "/rss/cs.CV" in failed.errors[0]["url"]
    world.assert_complete()  # the store and the exports still hold every paper
    assert "Splatting one" in (world.root / "README.md").read_text("utf-8")
    assert "failed" in (world.root / "README.md").read_text("utf-8") != readme


# --- the legacy API --------------------------------------------------------------------------


def test_legacy_format_answers_are_read_the_same(world: World) -> None:
    world.api.always(legacy_format())
    assert world.run().exit_code == 0
    world.assert_complete()
    with Store.open(world.root / "arxiv-radar.db") as store:
        paper = store.get_paper("2611.00001")
    assert paper is not None
    assert paper.title == "Splatting one"
    assert paper.abstract == "An abstract about nothing in particular."


def test_legacy_blank_placeholder_keeps_the_listed_papers(world: World) -> None:
    """The legacy API's "no such id" answer must not drop papers the listing announced."""
    world.api.inject(blank_placeholder(), when=is_id_lookup)
    outcome = world.run()
    assert outcome.exit_code == 0
    assert any("no metadata for 3 listed" in note for note in outcome.stats["fetch"]["notes"])
    world.heal()
    assert world.run().exit_code == 0
    world.assert_complete()


def test_legacy_empty_search_claiming_one_result_ends_paging(world: World) -> None:
    world.api.always(blank_placeholder(), when=is_search)
    outcome = world.run()
    assert outcome.exit_code == 0, outcome.errors
    assert len([r for r in world.arxiv.api_requests() if is_search(r)]) == 1  # not retried
    assert outcome.stats["fetch"]["searched"] == {"Avatars": 0}
    world.heal()
    assert world.run().exit_code == 0
    world.assert_complete()


# --- many faults, then a clean re-run --------------------------------------------------------


def test_after_a_storm_every_paper_is_there_once(world: World) -> None:
    world.rss.inject(rate_limited("0"), reset())
    world.api.always(unavailable(), when=second_page)
    world.api.inject(truncated(0.3), when=is_id_lookup)
    first = world.run()
    assert first.exit_code == 1

    world.heal()
    world.api.inject(empty_page(), legacy_format(), when=second_page)
    second = world.run()
    assert second.exit_code == 0, second.errors
    third = world.run()
    assert third.exit_code == 0
    world.assert_complete()

    newest, middle, oldest = world.runs()
    assert oldest.status == "partial"
    reasons = [r["reason"] for r in oldest.stats["retries"]]
    assert "HTTP 429" in reasons and "HTTP 503" in reasons
    assert any("start=100" in e["url"] for e in oldest.errors)
    assert [r["reason"] for r in middle.stats["retries"]] == [
        "empty page at start=100 although arXiv reports 144 results"
    ]
    assert newest.errors == [] and "retries" not in newest.stats


def test_cli_failure_is_one_line_naming_the_url_exit_1(world: World) -> None:
    world.api.always(unavailable())
    result = cli("fetch", cwd=world.root)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{world.arxiv.server.url}/api/query" in result.stderr
    assert "HTTP 503" in result.stderr
