"""`arxiv-radar backfill`: a range of submission days filled through the (fake) arXiv API."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest

from arxiv_radar.backfill import BackfillRange, checkpoint_prefix
from arxiv_radar.config import Workspace, load_workspace
from arxiv_radar.errors import UserError
from arxiv_radar.pipeline import RunOutcome, run_pipeline
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import LocalServer, Request

UTC = timezone.utc


def run_backfill(workspace: Workspace, span: BackfillRange, *, now: datetime) -> RunOutcome:
    return run_pipeline(workspace, ("backfill",), command="backfill", now=now, backfill=span)


NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
NOVEMBER = BackfillRange(date(2026, 11, 1), date(2026, 11, 10))

CONFIG = """\
categories: [cs.CV, cs.CL]
topics:
  - name: Gaussian Splatting
    query: 'ti:"gaussian splatting"'
    categories: [cs.CV, cs.GR]
  - name: Multimodal LLM
    keywords: ["vision-language model"]
    categories: [cs.CV, cs.CL]
  - name: Avatars
    query: 'all:avatar'
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 0
"""


def on(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 15, 0, tzinfo=UTC)


@pytest.fixture
def fake(server: LocalServer) -> FakeArxiv:
    fake = FakeArxiv(server, ["cs.CV", "cs.CL"])
    for paper in (
        make_paper("2611.00001", "Gaussian splatting in range", published=on(3)),
        make_paper("2611.00002", "A vision-language model", categories=["cs.CL"], published=on(5)),
        make_paper("2611.00003", "Avatar rigging", categories=["physics.ed-ph"], published=on(4)),
        make_paper("2611.00004", "Unrelated optimisation", published=on(6)),
        make_paper(
            "2611.00005", "Gaussian splatting in graphics", categories=["cs.GR"], published=on(7)
        ),
        make_paper("2610.00006", "Gaussian splatting too early", published=on(20, month=10)),
    ):
        fake.publish(paper)
    return fake


@pytest.fixture
def workspace(tmp_path: Path, fake: FakeArxiv) -> Workspace:
    path = tmp_path / "arxiv-radar.yml"
    path.write_text(CONFIG.format(api=fake.api_url, rss=fake.rss_url), encoding="utf-8")
    return load_workspace(path, env={})


def stored_ids(workspace: Workspace) -> list[str]:
    with Store.open(workspace.database) as store:
        return sorted(entry.paper.arxiv_id for entry in store.iter_entries())


def checkpoints(workspace: Workspace, span: BackfillRange) -> dict[str, object]:
    prefix = checkpoint_prefix(span)
    names = [f"{prefix}:cat:cs.CV", f"{prefix}:cat:cs.CL", f"{prefix}:topic:Avatars"]
    with Store.open(workspace.database) as store:
        return {name: store.get_checkpoint(name) for name in names if store.get_checkpoint(name)}


def bounds(request: Request) -> tuple[str, str]:
    low, high = request.param("search_query").split("submittedDate:[", 1)[1][:-1].split(" TO ")
    return low, high


def test_a_range_is_filled_per_category_and_per_searching_topic(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    outcome = run_backfill(workspace, NOVEMBER, now=NOW)
    assert outcome.exit_code == 0, outcome.errors
    assert stored_ids(workspace) == ["2611.00001", "2611.00002", "2611.00003"]
    queries = sorted(r.param("search_query").split(" AND ")[0] for r in fake.window_searches())
    assert queries == ["(all:avatar)", "(cat:cs.CL)", "(cat:cs.CV)"]
    assert {bounds(r) for r in fake.window_searches()} == {("202611010000", "202611102359")}
    with Store.open(workspace.database) as store:
        (run,) = store.recent_runs()
        assert store.topic_count("Avatars") == 1
    assert (run.command, run.status) == ("backfill", "ok")
    assert run.stats["backfill"]["windows"] == 3 and run.stats["backfill"]["requests"] == 3
    assert run.stats["backfill"]["per_topic"]["Gaussian Splatting"] == 1
    assert checkpoints(workspace, NOVEMBER) == {}  # a complete backfill leaves nothing to resume


def test_one_topic_uses_its_own_categories(workspace: Workspace, fake: FakeArxiv) -> None:
    span = BackfillRange(NOVEMBER.start, NOVEMBER.end, "gaussian splatting")
    assert run_backfill(workspace, span, now=NOW).exit_code == 0
    assert stored_ids(workspace) == ["2611.00001", "2611.00005"]  # cs.GR is the topic's own
    queries = sorted(r.param("search_query").split(" AND ")[0] for r in fake.window_searches())
    assert queries == ["(cat:cs.CV)", "(cat:cs.GR)"]
    with Store.open(workspace.database) as store:
        assert store.topics_in_store() == ["Gaussian Splatting"]


def test_a_topic_without_categories_searches_its_query(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    span = BackfillRange(NOVEMBER.start, NOVEMBER.end, "Avatars")
    assert run_backfill(workspace, span, now=NOW).exit_code == 0
    assert stored_ids(workspace) == ["2611.00003"]
    (request,) = fake.window_searches()
    assert "avatar" in request.param("search_query")


def test_a_failed_backfill_keeps_its_checkpoint_and_resumes(
    workspace: Workspace, fake: FakeArxiv
) -> None:
    for n in range(250):
        fake.publish(
            make_paper(
                f"2611.1{n:04d}",
                f"Gaussian splatting study {n}",
                published=on(2) + timedelta(minutes=n),
            )
        )
    fake.api_budget = 2
    failed = run_backfill(workspace, NOVEMBER, now=NOW)
    assert failed.exit_code == 1 and failed.status == "partial"
    assert failed.errors[0]["stage"] == "backfill" and "/api/query" in failed.errors[0]["url"]
    saved = checkpoints(workspace, NOVEMBER)
    assert list(saved) == [f"{checkpoint_prefix(NOVEMBER)}:cat:cs.CV"]
    done = datetime.fromisoformat(saved[f"{checkpoint_prefix(NOVEMBER)}:cat:cs.CV"]["done_until"])  # type: ignore[index]
    # Studies 0 to 99, then a fresh window from study 99's minute: studies 99 to 198.
    assert done == on(2) + timedelta(minutes=198)
    with Store.open(workspace.database) as store:
        assert store.topic_count("Gaussian Splatting") == 199
        (run,) = store.recent_runs()
        assert (
            run.status == "partial" and "run the same backfill" in run.stats["backfill"]["notes"][0]
        )

    fake.api_budget = None
    before = len(fake.window_searches())
    assert run_backfill(workspace, NOVEMBER, now=NOW).exit_code == 0
    resumed = [r for r in fake.window_searches()[before:] if "cat:cs.CV" in r.param("search_query")]
    assert len(resumed) == 1  # pages already committed are not requested again
    assert bounds(resumed[0])[0] == done.strftime("%Y%m%d%H%M")
    with Store.open(workspace.database) as store:
        assert store.topic_count("Gaussian Splatting") == 251
        assert store.paper_count() == 253
    assert checkpoints(workspace, NOVEMBER) == {}


def test_a_long_range_is_sliced_into_windows(workspace: Workspace, fake: FakeArxiv) -> None:
    span = BackfillRange(date(2026, 9, 1), date(2026, 11, 4), "Gaussian Splatting")
    assert run_backfill(workspace, span, now=NOW).exit_code == 0
    cv = [bounds(r) for r in fake.window_searches() if "cat:cs.CV" in r.param("search_query")]
    assert len(cv) == 3
    assert cv[0][0] == "202609010000" and cv[-1][1] == "202611042359"
    assert all(a[1] == b[0] for a, b in pairwise(cv))
    assert stored_ids(workspace) == ["2610.00006", "2611.00001"]


def test_a_reversed_range_or_unknown_topic_is_a_user_error(workspace: Workspace) -> None:
    with pytest.raises(UserError, match="--from 2026-11-10 is after --to 2026-11-01"):
        run_backfill(workspace, BackfillRange(date(2026, 11, 10), date(2026, 11, 1)), now=NOW)
    with pytest.raises(UserError, match="no topic of that name") as info:
        run_backfill(workspace, BackfillRange(NOVEMBER.start, NOVEMBER.end, "Robots"), now=NOW)
    assert "'Avatars'" in (info.value.fix or "")
    assert not workspace.database.exists()  # refused before anything was opened


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arxiv_radar", "backfill", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def test_cli_exit_codes(workspace: Workspace, fake: FakeArxiv) -> None:
    root = workspace.root
    bad = cli(root, "--from", "2026-13-01", "--to", "2026-11-10")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--from '2026-13-01' is not a date" in bad.stderr and "YYYY-MM-DD" in bad.stderr

    fake.fail_api = 100
    down = cli(root, "--from", "2026-11-01", "--to", "2026-11-10")
    assert down.returncode == 1 and "Traceback" not in down.stderr
    assert "503" in down.stderr and "run the same backfill command again" in down.stdout

    fake.fail_api = 0
    done = cli(root, "--from", "2026-11-01", "--to", "2026-11-10", "--topic", "Avatars")
    assert done.returncode == 0, done.stderr
    assert "Avatars" in done.stdout and "arxiv-radar publish" in done.stdout
    with Store.open(workspace.database) as store:
        assert [run.command for run in store.recent_runs()] == ["backfill", "backfill"]
