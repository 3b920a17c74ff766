"""Catching up after missed days: a fake arXiv serves a sequence of announcement days (a listing
per day, an API that knows every paper announced so far) and runs happen on some days only."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest
from rich.console import Console

from arxiv_radar.config import Workspace, load_workspace
from arxiv_radar.gapfill import Window, plan_gap
from arxiv_radar.listings import latest_listing_day, missed_days, open_gap, submission_cutoff
from arxiv_radar.paper import Paper
from arxiv_radar.pipeline import RunOutcome, run_pipeline
from arxiv_radar.report import describe_runs
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, listing_days, make_paper, submitted_for
from tests.servers.http import LocalServer, Request

UTC = timezone.utc
CATEGORIES = ["cs.CV", "cs.CL"]
# Tue 24, Wed 25, Thu 26, Fri 27, Mon 30 November 2026: day 4 comes after a weekend.
DAYS = listing_days(date(2026, 11, 24), 6)

CONFIG = """\
categories: [cs.CV, cs.CL]
include_cross_lists: {cross}
max_gap_days: {max_gap}
topics:
  - name: Gaussian Splatting
    query: 'ti:"gaussian splatting"'
    categories: [cs.CV, cs.GR]
  - name: Multimodal LLM
    keywords: ["vision-language model"]
    categories: [cs.CV, cs.CL]
{extra}endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 0
"""

AVATARS = """\
  - name: Avatars
    query: 'all:avatar'
"""


def write_config(
    root: Path, fake: FakeArxiv, *, max_gap: int = 30, cross: bool = True, extra: str = ""
) -> Workspace:
    path = root / "arxiv-radar.yml"
    path.write_text(
        CONFIG.format(
            api=fake.api_url,
            rss=fake.rss_url,
            max_gap=max_gap,
            cross=str(cross).lower(),
            extra=extra,
        ),
        encoding="utf-8",
    )
    return load_workspace(path, env={})


def run_on(workspace: Workspace, day: date) -> RunOutcome:
    """A run as a scheduler would start it: just after the listing dated ``day`` appeared."""
    now = datetime.combine(day, time(1, 0), tzinfo=UTC)
    return run_pipeline(workspace, ("fetch", "publish"), command="run", now=now)


def papers_of(index: int, day: date) -> dict[str, list[Paper]]:
    """Per listing day: two matching new papers, one unrelated, one matching cross-list."""
    at = submitted_for(day)
    return {
        "new": [
            make_paper(f"2611.{index}0001", f"Gaussian splatting day {index}", published=at),
            make_paper(
                f"2611.{index}0002",
                f"A vision-language model day {index}",
                categories=["cs.CL"],
                published=at + timedelta(minutes=1),
            ),
            make_paper(
                f"2611.{index}0003", f"Unrelated day {index}", published=at + timedelta(minutes=2)
            ),
        ],
        "cross": [
            make_paper(
                f"2611.{index}0004",
                f"Gaussian splatting cross-listed day {index}",
                categories=["cs.GR", "cs.CV"],
                published=at + timedelta(minutes=3),
            )
        ],
    }


def matching_titles(index: int) -> list[str]:
    return [
        f"Gaussian splatting day {index}",
        f"A vision-language model day {index}",
        f"Gaussian splatting cross-listed day {index}",
    ]


def announce(fake: FakeArxiv, index: int) -> None:
    papers = papers_of(index, DAYS[index])
    fake.announce(DAYS[index], papers["new"], cross=papers["cross"])


def stored_titles(workspace: Workspace) -> list[str]:
    with Store.open(workspace.database) as store:
        return sorted(entry.paper.title for entry in store.iter_entries())


def window_bounds(request: Request) -> tuple[str, str]:
    query = request.param("search_query")
    low, high = query.split("submittedDate:[", 1)[1].rstrip("]").split(" TO ")
    return low, high


@pytest.fixture
def fake(server: LocalServer) -> FakeArxiv:
    return FakeArxiv(server, CATEGORIES)


@pytest.fixture
def workspace(tmp_path: Path, fake: FakeArxiv) -> Workspace:
    return write_config(tmp_path, fake)


# --- arXiv's calendar ---------------------------------------------------------------------------


def test_weekends_are_not_missed_days() -> None:
    thursday, friday, monday = date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 30)
    assert missed_days(thursday, friday) == []
    assert missed_days(friday, monday) == []
    assert missed_days(date(2026, 11, 24), monday) == [date(2026, 11, 25), thursday, friday]
    assert plan_gap(friday, monday, max_gap_days=30) is None


def test_submission_cutoff_is_2pm_eastern_on_the_previous_listing_day() -> None:
    # Monday's listing holds submissions up to Friday 14:00 EST (19:00 UTC).
    assert submission_cutoff(date(2026, 11, 30)) == datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    # After the switch to daylight saving time: 14:00 EDT is 18:00 UTC.
    assert submission_cutoff(date(2026, 3, 10)) == datetime(2026, 3, 9, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 24, 15, 0, tzinfo=UTC), date(2026, 11, 24)),  # Tue 10:00 EST
        (datetime(2026, 11, 27, 2, 0, tzinfo=UTC), date(2026, 11, 27)),  # Thu 21:00 EST
        (datetime(2026, 11, 28, 17, 0, tzinfo=UTC), date(2026, 11, 27)),  # Saturday
        (datetime(2026, 11, 29, 20, 0, tzinfo=UTC), date(2026, 11, 27)),  # Sunday 15:00
        (datetime(2026, 11, 30, 1, 30, tzinfo=UTC), date(2026, 11, 30)),  # Sunday 20:30
    ],
)
def test_latest_listing_day_follows_the_evening_announcement(now: datetime, expected: date) -> None:
    assert latest_listing_day(now) == expected


def test_plan_covers_the_missed_days_with_a_margin() -> None:
    plan = plan_gap(DAYS[0], DAYS[4], max_gap_days=30)
    assert plan is not None and not plan.capped
    assert plan.missed == tuple(DAYS[1:4])
    for day in DAYS[1:4]:
        assert plan.window.start < submitted_for(day) < plan.window.end
    assert plan.window.start <= submission_cutoff(DAYS[0]) - timedelta(days=1)
    assert plan.window.end >= submission_cutoff(DAYS[3]) + timedelta(days=1)


def test_long_windows_are_sliced_without_holes() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    window = Window(start, start + timedelta(days=65))
    pieces = list(window.slices(30))
    assert len(pieces) == 3
    assert pieces[0].start == window.start and pieces[-1].end == window.end
    assert all(a.end == b.start for a, b in pairwise(pieces))


# --- runs over several days -----------------------------------------------------------------------


def test_skipped_days_are_filled_stored_once_and_published(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    announce(fake, 0)
    assert run_on(workspace, DAYS[0]).exit_code == 0
    assert fake.window_searches() == []  # the first run ever reads the listing only
    for index in (1, 2, 3):  # nobody runs on these days
        announce(fake, index)
    announce(fake, 4)
    outcome = run_on(workspace, DAYS[4])
    assert outcome.exit_code == 0, outcome.errors

    expected = sorted(title for index in range(5) for title in matching_titles(index))
    assert stored_titles(workspace) == expected  # nothing lost, nothing twice, nothing unrelated
    readme = (workspace.root / "README.md").read_text(encoding="utf-8")
    for title in expected:
        assert readme.count(title) == 1, title
    windows = fake.window_searches()
    assert sorted(r.param("search_query").split(")")[0] for r in windows) == [
        "(cat:cs.CL",
        "(cat:cs.CV",
    ]
    assert all(r.param("sortOrder") == "ascending" for r in windows)
    gap = outcome.stats["fetch"]["gap"]
    assert gap["missed"]["cs.CV"] == [day.isoformat() for day in DAYS[1:4]]
    assert gap["windows"] == 2 and gap["requests"] == 2
    assert any("3 missed listing day(s)" in note for note in outcome.stats["fetch"]["notes"])
    with Store.open(workspace.database) as store:
        assert store.category_state() == dict.fromkeys(CATEGORIES, DAYS[4])
        assert store.get_checkpoint("gapfill:cs.CV") is None
        assert store.topic_count("Gaussian Splatting") == 10


def test_new_counts_after_a_gap_fill_include_the_filled_days(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    """The run table and `status` count every paper the run added, the gap fill's too."""
    announce(fake, 0)
    assert run_on(workspace, DAYS[0]).exit_code == 0
    for index in (1, 2, 3, 4):
        announce(fake, index)
    outcome = run_on(workspace, DAYS[4])
    assert outcome.exit_code == 0, outcome.errors
    fetched = outcome.stats["fetch"]
    # Days 1-3 come through the gap fill, day 4 through the listing: 2 + 1 matches a day.
    assert fetched["per_topic"] == {"Gaussian Splatting": 8, "Multimodal LLM": 4}
    assert fetched["new_papers"] == 12
    console = Console(record=True, width=250)
    for renderable in describe_runs(workspace, limit=1, now=datetime.combine(DAYS[4], time(2))):
        console.print(renderable)
    text = console.export_text()
    assert "Gaussian Splatting: 8" in text and "Multimodal LLM: 4" in text


def test_friday_after_thursday_and_monday_after_friday_need_no_gap_fill(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    for index in (2, 3, 4):  # Thursday, Friday, Monday
        announce(fake, index)
        assert run_on(workspace, DAYS[index]).exit_code == 0
    assert fake.window_searches() == []
    assert len(stored_titles(workspace)) == 9


def test_a_failed_day_is_filled_by_the_next_run(workspace: Workspace, fake: FakeArxiv) -> None:
    announce(fake, 0)
    assert run_on(workspace, DAYS[0]).exit_code == 0
    announce(fake, 1)
    fake.fail_api = 100
    failed = run_on(workspace, DAYS[1])
    assert failed.exit_code == 1
    with Store.open(workspace.database) as store:
        assert store.category_state() == dict.fromkeys(CATEGORIES, DAYS[0])
    fake.fail_api = 0
    announce(fake, 2)
    assert run_on(workspace, DAYS[2]).exit_code == 0
    assert stored_titles(workspace) == sorted(
        matching_titles(0) + matching_titles(1) + matching_titles(2)
    )


def test_a_failed_first_run_loses_nothing_either(workspace: Workspace, fake: FakeArxiv) -> None:
    announce(fake, 1)
    fake.fail_api = 100
    assert run_on(workspace, DAYS[1]).exit_code == 1
    fake.fail_api = 0
    announce(fake, 2)
    assert run_on(workspace, DAYS[2]).exit_code == 0
    assert stored_titles(workspace) == sorted(matching_titles(1) + matching_titles(2))
    with Store.open(workspace.database) as store:
        assert store.get_checkpoint("gapfill:first-listing") is None


def many_papers(count: int) -> Iterator[Paper]:
    """``count`` (<= 300) matching cs.CV papers over listing days 1 to 3, a minute apart."""
    for n in range(count):
        yield make_paper(
            f"2611.9{n:04d}",
            f"Gaussian splatting study {n}",
            published=submitted_for(DAYS[1 + n // 100], minute=n % 100),
        )


def test_an_interrupted_gap_fill_resumes_from_its_checkpoint(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    announce(fake, 0)
    assert run_on(workspace, DAYS[0]).exit_code == 0
    for paper in many_papers(250):
        fake.publish(paper)
    announce(fake, 4)
    fake.api_budget = 2  # two pages of the cs.CV window, then arXiv goes down
    assert run_on(workspace, DAYS[4]).exit_code == 1
    with Store.open(workspace.database) as store:
        # Two pages were committed: day 0's three cs.CV papers (inside the window's margin)
        # with studies 0 to 96, then a window from study 96's minute: studies 96 to 195.
        assert store.topic_count("Gaussian Splatting") == 2 + 196
        checkpoint = store.get_checkpoint("gapfill:cs.CV")
        assert store.category_state() == dict.fromkeys(CATEGORIES, DAYS[0])
    assert checkpoint is not None
    done = datetime.fromisoformat(checkpoint["done_until"])
    assert done == submitted_for(DAYS[2], minute=95)  # study 195, the last one committed

    fake.api_budget = None
    before = len(fake.window_searches())
    announce(fake, 5)  # the next run is a day later: the open window has grown by day 4
    assert run_on(workspace, DAYS[5]).exit_code == 0
    resumed = [r for r in fake.window_searches()[before:] if "cat:cs.CV" in r.param("search_query")]
    assert len(resumed) == 1  # the 200 papers already committed are not asked for again
    assert window_bounds(resumed[0])[0] == done.strftime("%Y%m%d%H%M")
    titles = stored_titles(workspace)
    assert len(titles) == len(set(titles)) == 250 + 3 * 3  # and days 0, 4 (via the gap), 5
    assert set(matching_titles(4)) <= set(titles)


def test_a_long_gap_is_capped_and_reported(
    tmp_path: Path, fake: FakeArxiv, caplog: pytest.LogCaptureFixture
) -> None:
    workspace = write_config(tmp_path, fake, max_gap=10)
    early, late = date(2026, 11, 2), date(2026, 11, 30)
    fake.announce(
        early,
        [make_paper("2611.00010", "Gaussian splatting early", published=submitted_for(early))],
    )
    assert run_on(workspace, early).exit_code == 0
    too_old = make_paper(
        "2611.00011", "Gaussian splatting lost", published=submitted_for(date(2026, 11, 10))
    )
    recent = make_paper(
        "2611.00012", "Gaussian splatting kept", published=submitted_for(date(2026, 11, 25))
    )
    fake.publish(too_old)
    fake.publish(recent)
    fake.announce(late, [])
    with caplog.at_level(logging.WARNING, logger="arxiv_radar.gapfill"):
        outcome = run_on(workspace, late)
    assert outcome.exit_code == 0
    assert stored_titles(workspace) == ["Gaussian splatting early", "Gaussian splatting kept"]
    notes = " ".join(outcome.stats["fetch"]["notes"])
    assert "max_gap_days (10)" in notes
    assert "arxiv-radar backfill --from 2026-11-02" in notes
    assert any("backfill --from 2026-11-02" in r.getMessage() for r in caplog.records)
    with Store.open(workspace.database) as store:
        # The listing was empty (a holiday), so only the filled days count as complete.
        assert store.category_state()["cs.CV"] == date(2026, 11, 27)


def test_topics_without_categories_are_filled_beyond_the_daily_lookback(
    tmp_path: Path, fake: FakeArxiv
) -> None:
    workspace = write_config(tmp_path, fake, extra=AVATARS)
    first, later = date(2026, 11, 9), date(2026, 11, 24)
    fake.announce(
        first,
        [make_paper("2611.00020", "Gaussian splatting first", published=submitted_for(first))],
    )
    assert run_on(workspace, first).exit_code == 0
    elsewhere = make_paper(
        "2611.00021",
        "Avatar rigging",
        categories=["physics.ed-ph"],
        published=submitted_for(date(2026, 11, 12)),  # 12 days before the next run
    )
    fake.publish(elsewhere)
    fake.announce(later, [])
    assert run_on(workspace, later).exit_code == 0
    with Store.open(workspace.database) as store:
        assert [e.paper.arxiv_id for e in store.topic_entries("Avatars")] == ["2611.00021"]
        assert store.get_checkpoint("gapfill:topic:Avatars") is None
    topic_windows = [r for r in fake.window_searches() if "avatar" in r.param("search_query")]
    assert len(topic_windows) == 1


def test_cross_lists_stay_out_when_the_config_says_so(tmp_path: Path, fake: FakeArxiv) -> None:
    workspace = write_config(tmp_path, fake, cross=False)
    announce(fake, 0)
    assert run_on(workspace, DAYS[0]).exit_code == 0
    announce(fake, 1)
    announce(fake, 2)
    assert run_on(workspace, DAYS[2]).exit_code == 0
    titles = stored_titles(workspace)
    assert "Gaussian splatting day 1" in titles
    assert not any("cross-listed" in title for title in titles)


def test_status_shows_the_last_complete_listing_and_the_open_gap(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    announce(fake, 0)
    assert run_on(workspace, DAYS[0]).exit_code == 0
    console = Console(record=True, width=250)
    for renderable in describe_runs(workspace, limit=5, now=datetime(2026, 11, 28, tzinfo=UTC)):
        console.print(renderable)
    text = console.export_text()
    assert "2026-11-24" in text
    assert "3 listing day(s): 2026-11-25 to 2026-11-27" in text
    assert open_gap(DAYS[0], datetime(2026, 11, 24, 12, tzinfo=UTC)) == []


def test_the_cli_catches_up_after_missed_days(workspace: Workspace, fake: FakeArxiv) -> None:
    announce(fake, 0)
    env = {**os.environ, "COLUMNS": "250"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "arxiv_radar", *args],
            cwd=workspace.root,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )

    assert cli("fetch").returncode == 0
    for index in (1, 2, 3, 4):
        announce(fake, index)
    result = cli("run")
    assert result.returncode == 0, result.stderr
    assert "3 missed listing day(s)" in result.stdout
    readme = (workspace.root / "README.md").read_text(encoding="utf-8")
    for index in range(5):
        for title in matching_titles(index):
            assert readme.count(title) == 1, title
    status = cli("status")
    assert "gap fill: 2 window(s)" in status.stdout
