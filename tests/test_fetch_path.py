"""No paper lost or stale on the fetch path (issue 11, points 1 to 5).

Each test drives the real client, a local fake arXiv and a real SQLite file, and reproduces one
way papers were lost or went stale: a short page ending the paging (1), a topic search stopping
at the listing's own matches (2), listing-only rows and replacements never updated (3), a topic's
missed days forgotten when its window failed after the categories' (4), and HTTP held inside a
write transaction (5).
"""

from __future__ import annotations

import dataclasses
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from arxiv_radar.config import Workspace, load_workspace
from arxiv_radar.errors import FetchError
from arxiv_radar.http import PoliteClient
from arxiv_radar.http_budget import HttpSettings
from arxiv_radar.paper import Paper
from arxiv_radar.pipeline import RunOutcome, run_pipeline
from arxiv_radar.records import TextKey
from arxiv_radar.sources.arxiv_api import ArxivAPI, IncompleteSearchError
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, atom_page, listing_days, make_paper, submitted_for
from tests.servers.http import LocalServer, Reply, Request

UTC = timezone.utc
# Tue 24, Wed 25, Thu 26, Fri 27, Mon 30 November, Tue 1 December 2026.
DAYS = listing_days(date(2026, 11, 24), 6)
FAST = HttpSettings(request_interval=0, backoff_base=0.01, timeout=2.0, max_retries=2)

CONFIG = """\
categories: [cs.CV]
lookback_days: 1
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
  - name: Avatars
    query: 'all:avatar'
code_links:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 1
  backoff_base: 0.01
"""


@pytest.fixture
def fake(server: LocalServer) -> FakeArxiv:
    return FakeArxiv(server, ["cs.CV"])


@pytest.fixture
def workspace(tmp_path: Path, fake: FakeArxiv) -> Workspace:
    path = tmp_path / "arxiv-radar.yml"
    path.write_text(CONFIG.format(api=fake.api_url, rss=fake.rss_url), encoding="utf-8")
    return load_workspace(path, env={})


def run_on(workspace: Workspace, day: date, *, hour: int = 1) -> RunOutcome:
    now = datetime.combine(day, time(hour, 0), tzinfo=UTC)
    return run_pipeline(workspace, ("fetch",), command="run", now=now)


def topic_ids(workspace: Workspace, topic: str) -> set[str]:
    with Store.open(workspace.database) as store:
        return {entry.paper.arxiv_id for entry in store.topic_entries(topic)}


def studies(count: int) -> Iterator[Paper]:
    """``count`` (<= 300) matching cs.CV papers over listing days 1 to 3, a minute apart."""
    for n in range(count):
        yield make_paper(
            f"2611.9{n:04d}",
            f"Splatting study {n}",
            published=submitted_for(DAYS[1 + n // 100], minute=n % 100),
        )


def first_day(fake: FakeArxiv, workspace: Workspace) -> None:
    fake.announce(
        DAYS[0], [make_paper("2611.00001", "Splatting day 0", published=submitted_for(DAYS[0]))]
    )
    assert run_on(workspace, DAYS[0]).exit_code == 0


def later_page(query: str) -> Callable[[Request], bool]:
    """Requests for a page of a submission window after its first one (a later lower bound)."""
    first: list[str] = []

    def chosen(request: Request) -> bool:
        text = request.param("search_query")
        if query not in text or "submittedDate" not in text:
            return False
        low = text.split("submittedDate:[", 1)[1].split(" TO ")[0]
        first[:] = first or [low]
        return low != first[0] or request.param("start") != "0"

    return chosen


# --- 1. paging to totalResults ------------------------------------------------------------------


def serve(total: int, short: Callable[[int, int], bool]) -> Callable[[Request], Reply]:
    """A result set of ``total`` papers; ``short(start, served)`` makes a page 60 entries."""
    papers = [make_paper(f"2401.{n:05d}", f"Paper {n}") for n in range(total)]
    served: dict[int, int] = {}

    def respond(request: Request) -> Reply:
        start = int(request.param("start"))
        served[start] = served.get(start, 0) + 1
        size = 60 if short(start, served[start]) else int(request.param("max_results"))
        return atom_page(papers[start : start + size], total=total, start=start)

    return respond


def test_p1_search_pages_past_a_short_page_to_total(server: LocalServer) -> None:
    """arXiv serves a short page mid-result; the retry gets it whole and paging goes on."""
    server.route("GET", "/api/query", serve(250, lambda start, n: start == 100 and n == 1))
    with PoliteClient(FAST) as client:
        papers = list(ArxivAPI(client, f"{server.url}/api/query").search("cat:cs.CV"))
        assert "short page at start=100: 60 of 100 distinct" in client.retries[0].reason
    assert len({p.arxiv_id for p in papers}) == len(papers) == 250
    assert [r.param("start") for r in server.requests] == ["0", "100", "100", "200"]


def test_p1_a_page_that_stays_short_fails_the_search(server: LocalServer) -> None:
    server.route("GET", "/api/query", serve(250, lambda start, n: start == 100))
    with PoliteClient(FAST) as client, pytest.raises(FetchError, match="short page"):
        list(ArxivAPI(client, f"{server.url}/api/query").search("cat:cs.CV"))


def test_p1_a_duplicate_in_place_of_a_paper_is_an_incomplete_search(server: LocalServer) -> None:
    papers = [make_paper(f"2401.{n:05d}", f"Paper {n}") for n in range(5)]

    def respond(request: Request) -> Reply:
        start = int(request.param("start"))
        page = papers[start : start + 2]
        if start == 2:
            page = [papers[1], page[1]]  # arXiv reordered: paper 1 again, paper 2 never
        return atom_page(page, total=5, start=start)

    server.route("GET", "/api/query", respond)
    seen: list[str] = []
    with PoliteClient(FAST) as client:
        api = ArxivAPI(client, f"{server.url}/api/query")
        with pytest.raises(IncompleteSearchError, match=r"start=2 repeats 2401\.00001"):
            seen.extend(p.arxiv_id for p in api.search("ti:x", page_size=2))
    assert seen == ["2401.00000", "2401.00001"]  # nothing of the page that gave it away


def test_p1_a_gap_fill_with_a_short_page_stays_incomplete_until_it_is_whole(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    """The issue's reproduction: 250 papers whose second page comes back with 60 entries."""
    first_day(fake, workspace)
    for paper in studies(250):
        fake.publish(paper)
    fake.announce(DAYS[4], [])
    second_page = later_page("cat:cs.CV")
    fake.mangle = lambda request, page: page[:60] if second_page(request) else page
    outcome = run_on(workspace, DAYS[4])
    assert outcome.exit_code == 1
    assert "short page at start=0: 60 of 100 distinct entries" in outcome.errors[0]["error"]
    with Store.open(workspace.database) as store:
        assert store.category_state() == {"cs.CV": DAYS[0]}  # the watermark did not move
        assert store.get_checkpoint("gapfill:cs.CV") is not None  # recorded, to resume

    fake.mangle = None
    fake.announce(DAYS[5], [])
    assert run_on(workspace, DAYS[5]).exit_code == 0
    expected = {p.arxiv_id for p in studies(250)} | {"2611.00001"}
    assert topic_ids(workspace, "Splatting") == expected


def test_p1_a_gap_fill_served_a_duplicate_for_a_paper_searches_the_window_again(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    first_day(fake, workspace)
    for paper in studies(250):
        fake.publish(paper)
    fake.announce(DAYS[4], [])
    second_page = later_page("cat:cs.CV")

    def duplicate(request: Request, page: list[Paper]) -> list[Paper]:
        # The page's second paper twice, its first never, on every attempt.
        return [page[1], *page[1:]] if second_page(request) else page

    fake.mangle = duplicate
    outcome = run_on(workspace, DAYS[4])
    assert outcome.exit_code == 1
    assert "99 of 100 distinct entries" in outcome.errors[0]["error"]
    with Store.open(workspace.database) as store:
        assert store.category_state() == {"cs.CV": DAYS[0]}
    assert len(topic_ids(workspace, "Splatting")) < 251

    fake.mangle = None
    fake.announce(DAYS[5], [])
    assert run_on(workspace, DAYS[5]).exit_code == 0
    expected = {p.arxiv_id for p in studies(250)} | {"2611.00001"}
    assert topic_ids(workspace, "Splatting") == expected


# --- 2. topic searches stop at their own mark ---------------------------------------------------


def test_p2_topic_search_finds_same_day_papers_older_than_the_listing_matches(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    """The listing's avatar paper is stored first; the search must not stop at it."""
    at = submitted_for(DAYS[1], minute=30)
    listed = make_paper("2611.00010", "Avatar splatting", published=at)
    elsewhere = [
        make_paper(
            f"2611.0002{k}",
            f"Avatar rigging {k}",
            categories=["physics.ed-ph"],
            published=at - timedelta(minutes=10 + k),
        )
        for k in range(3)
    ]
    for paper in elsewhere:
        fake.publish(paper)
    fake.announce(DAYS[1], [listed])
    assert run_on(workspace, DAYS[1]).exit_code == 0
    assert topic_ids(workspace, "Avatars") == {
        "2611.00010",
        "2611.00020",
        "2611.00021",
        "2611.00022",
    }
    with Store.open(workspace.database) as store:
        assert store.topic_state() == {"Avatars": DAYS[1]}


# --- 3. metadata goes stale ---------------------------------------------------------------------

TITLE = TextKey("title", "zh-CN", "openai", "m")
ABSTRACT = TextKey("abstract", "zh-CN", "openai", "m")
TLDR = TextKey("tldr", "zh-CN", "openai", "m")


def test_p3_a_replacement_updates_the_stored_paper_and_redoes_only_changed_texts(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    v1 = make_paper("2611.00040", "Splatting, first try", published=submitted_for(DAYS[0]))
    fake.announce(DAYS[0], [v1])
    assert run_on(workspace, DAYS[0]).exit_code == 0
    with Store.open(workspace.database) as store:
        for key in (TITLE, ABSTRACT, TLDR):
            store.record_text(v1, key, f"{key.field} text", datetime(2026, 11, 24, 2, tzinfo=UTC))
        first_seen = next(store.iter_entries()).first_seen
    v2 = dataclasses.replace(
        v1,
        version=2,
        title="Splatting, second try",
        comment="v2: 12 pages",
        updated=submitted_for(DAYS[1]),
    )
    fake.announce(DAYS[1], replaced=[v2])
    outcome = run_on(workspace, DAYS[1])
    assert outcome.exit_code == 0
    assert outcome.stats["fetch"]["updated_papers"] == 1
    with Store.open(workspace.database) as store:
        (entry,) = list(store.iter_entries())
        assert entry.paper.version == 2
        assert entry.paper.title == "Splatting, second try"
        assert entry.paper.comment == "v2: 12 pages"
        assert entry.paper.published == v1.published  # the first-published date stays
        assert entry.first_seen == first_seen
        assert [p.arxiv_id for p in store.papers_needing_text(TITLE, None)] == ["2611.00040"]
        assert [p.arxiv_id for p in store.papers_needing_text(TLDR, None)] == ["2611.00040"]
        assert store.papers_needing_text(ABSTRACT, None) == []  # unchanged abstract: kept
        store.display_language = "zh-CN"
        (entry,) = list(store.iter_entries())
        assert (entry.title_translated, entry.abstract_translated) == (None, "abstract text")


def test_p3_a_replace_cross_of_a_stored_paper_updates_it_too(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    v1 = make_paper("2611.00041", "Splatting cross", published=submitted_for(DAYS[0]))
    fake.announce(DAYS[0], [v1])
    assert run_on(workspace, DAYS[0]).exit_code == 0
    v3 = dataclasses.replace(v1, version=3, abstract="A better abstract.")
    fake.announce(DAYS[1], replaced_cross=[v3])
    assert run_on(workspace, DAYS[1]).exit_code == 0
    with Store.open(workspace.database) as store:
        paper = store.get_paper("2611.00041")
    assert paper is not None and (paper.version, paper.abstract) == (3, "A better abstract.")


def test_p3_a_row_built_from_the_listing_gets_the_api_fields_when_the_api_answers(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    paper = make_paper("2611.00050", "Splatting early", published=submitted_for(DAYS[0]))
    fake.announce(DAYS[0], [paper])
    del fake.known[paper.arxiv_id]  # listed, but not in the API yet
    outcome = run_on(workspace, DAYS[0])
    assert outcome.exit_code == 0
    assert any("no metadata for 1 listed" in note for note in outcome.stats["fetch"]["notes"])
    full = dataclasses.replace(
        paper, comment="CVPR 2027", doi="10.1000/x", journal_ref="J. Splat 1"
    )
    fake.publish(full)
    fake.announce(DAYS[1], [])
    assert run_on(workspace, DAYS[1]).exit_code == 0
    with Store.open(workspace.database) as store:
        stored = store.get_paper("2611.00050")
        assert stored is not None
        assert (stored.comment, stored.doi, stored.journal_ref) == (
            "CVPR 2027",
            "10.1000/x",
            "J. Splat 1",
        )
        assert stored.published == paper.published
        assert store.provisional_ids() == []  # no longer asked for


def test_p3_a_new_version_announced_on_a_missed_day_updates_the_stored_paper(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    """Nobody read the listing that announced v2 of an older paper: the gap fill's window of
    first versions cannot see it, its window of new versions does."""
    v1 = make_paper(
        "2611.00044", "Splatting of old", published=datetime(2026, 11, 2, 15, tzinfo=UTC)
    )
    fake.announce(DAYS[0], [v1])
    assert run_on(workspace, DAYS[0]).exit_code == 0
    v2 = dataclasses.replace(
        v1, version=2, title="Splatting of old, v2", updated=submitted_for(DAYS[2])
    )
    fake.publish(v2)
    fake.announce(
        DAYS[4], [make_paper("2611.00045", "Unrelated", published=submitted_for(DAYS[4]))]
    )
    outcome = run_on(workspace, DAYS[4])
    assert outcome.exit_code == 0
    with Store.open(workspace.database) as store:
        paper = store.get_paper("2611.00044")
        assert paper is not None
        assert (paper.version, paper.title, paper.published) == (
            2,
            "Splatting of old, v2",
            v1.published,
        )
        assert store.get_checkpoint("gapfill:cs.CV:revisions") is None
        assert store.get_checkpoint("gapfill:cs.CV") is None
    assert outcome.stats["fetch"]["gap"]["revisions"]["updated_papers"] == 1


def test_p3_the_daily_topic_search_updates_a_stored_paper_outside_the_listing(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    v1 = make_paper(
        "2611.00046",
        "Avatar physics",
        categories=["physics.ed-ph"],
        published=submitted_for(DAYS[0]),
    )
    fake.publish(v1)
    fake.announce(
        DAYS[0], [make_paper("2611.00047", "Unrelated", published=submitted_for(DAYS[0]))]
    )
    assert run_on(workspace, DAYS[0]).exit_code == 0
    fake.publish(
        dataclasses.replace(
            v1, version=2, abstract="Now with avatars.", updated=submitted_for(DAYS[1])
        )
    )
    fake.announce(
        DAYS[1], [make_paper("2611.00048", "Unrelated", published=submitted_for(DAYS[1]))]
    )
    assert run_on(workspace, DAYS[1]).exit_code == 0
    with Store.open(workspace.database) as store:
        paper = store.get_paper("2611.00046")
    assert paper is not None and (paper.version, paper.abstract) == (2, "Now with avatars.")


# --- 4. an interrupted gap fill forgets topics without categories -------------------------------


def test_p4_a_topic_window_that_failed_after_the_category_windows_is_filled_next_run(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    first_day(fake, workspace)
    hidden = make_paper(
        "2611.00060",
        "Avatar rigging",
        categories=["physics.ed-ph"],
        published=submitted_for(DAYS[2]),
    )
    fake.publish(hidden)
    fake.publish(make_paper("2611.00061", "Splatting day 2", published=submitted_for(DAYS[2])))
    fake.announce(
        DAYS[4], [make_paper("2611.00062", "Unrelated", published=submitted_for(DAYS[4]))]
    )
    fake.failing_queries = ("avatar",)  # the category windows pass, the topic's window fails
    assert run_on(workspace, DAYS[4]).exit_code == 1
    assert topic_ids(workspace, "Splatting") == {"2611.00001", "2611.00061"}
    fake.failing_queries = ()
    # Retried the same day: the paper is older than lookback_days, only the topic's own window
    # can still find it.
    assert run_on(workspace, DAYS[4], hour=3).exit_code == 0
    assert topic_ids(workspace, "Avatars") == {"2611.00060"}
    with Store.open(workspace.database) as store:
        assert store.topic_state() == {"Avatars": DAYS[4]}
        assert store.get_checkpoint("gapfill:topic:Avatars") is None


def test_p4_a_failed_daily_topic_search_leaves_the_day_to_the_next_gap_fill(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    """The listing moves the category on, the topic keeps its own mark and fills the day later."""
    first_day(fake, workspace)
    fake.publish(
        make_paper(
            "2611.00070", "Avatar day 1", categories=["math.HO"], published=submitted_for(DAYS[1])
        )
    )
    fake.announce(
        DAYS[1], [make_paper("2611.00071", "Unrelated", published=submitted_for(DAYS[1]))]
    )
    fake.failing_queries = ("avatar",)
    assert run_on(workspace, DAYS[1]).exit_code == 1
    with Store.open(workspace.database) as store:
        assert store.category_state() == {"cs.CV": DAYS[1]}  # the listing itself was read
        assert store.topic_state() == {"Avatars": DAYS[0]}  # the topic's search was not
    fake.failing_queries = ()
    fake.announce(
        DAYS[3], [make_paper("2611.00072", "Unrelated", published=submitted_for(DAYS[3]))]
    )
    assert run_on(workspace, DAYS[3]).exit_code == 0
    assert topic_ids(workspace, "Avatars") == {"2611.00070"}


def test_p4_a_kill_between_the_category_windows_and_the_topic_window_loses_nothing(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    """The deterministic form of the crash loop: `arxiv-radar fetch` is SIGKILLed while arXiv
    answers the topic's window, after the category windows were committed."""
    first_day(fake, workspace)
    fake.publish(
        make_paper(
            "2611.00065", "Avatar rigging", categories=["math.HO"], published=submitted_for(DAYS[2])
        )
    )
    fake.announce(
        DAYS[4], [make_paper("2611.00066", "Unrelated", published=submitted_for(DAYS[4]))]
    )
    running: list[subprocess.Popen[bytes]] = []

    def kill_on_topic_window(request: Request) -> None:
        query = request.param("search_query")
        if running and "avatar" in query and "submittedDate" in query:
            running[0].kill()
            running[0].wait()

    fake.on_search = kill_on_topic_window
    command = [sys.executable, "-m", "arxiv_radar", "fetch"]
    running.append(
        subprocess.Popen(
            command, cwd=workspace.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    )
    assert running[0].wait(timeout=60) == -signal.SIGKILL
    with Store.open(workspace.database) as store:
        assert store.category_state() == {"cs.CV": DAYS[3]}  # the category windows completed
    running.clear()
    assert run_on(workspace, DAYS[4], hour=3).exit_code == 0
    assert topic_ids(workspace, "Avatars") == {"2611.00065"}


# --- 5. no HTTP inside a write transaction ------------------------------------------------------


def test_p5_another_connection_can_write_during_a_topic_search(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    written: list[str] = []
    failures: list[str] = []

    def write_meanwhile(request: Request) -> None:
        conn = sqlite3.connect(workspace.database, timeout=0.2, isolation_level=None)
        try:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?)",
                (request.param("start"),),
            )
            written.append(request.param("search_query"))
        except sqlite3.OperationalError as exc:
            failures.append(str(exc))
        finally:
            conn.close()

    fake.on_search = write_meanwhile
    fake.announce(
        DAYS[0], [make_paper("2611.00080", "Splatting", published=submitted_for(DAYS[0]))]
    )
    assert run_on(workspace, DAYS[0]).exit_code == 0
    assert failures == []
    assert any("avatar" in query for query in written)
    with Store.open(workspace.database) as store:
        assert store.get_meta("probe") == "0"
