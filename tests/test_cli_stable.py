"""A run that finds nothing new leaves every published file byte-identical.

Pages date themselves by arXiv's newest announcement ingested (meta ``last_announcement``), not
by the time of the fetch: a weekend run, or a second run the same day, changes no byte, so the
daily workflow makes no commit. A failed fetch is news and still shows its warning.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from arxiv_radar.listings import LAST_ANNOUNCEMENT, Announcement, latest_announcement
from arxiv_radar.publish.digest import status_line, updated_on
from arxiv_radar.store import Store
from tests.cli_runner import run_cli
from tests.servers.arxiv import FakeArxiv, make_paper, submitted_for
from tests.servers.http import LocalServer, Reply, Request

FRIDAY, SATURDAY, MONDAY = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 30)
CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
code_links:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 0
"""
# The database is a cache (rebuilt from the committed state); its lock and WAL sidecars too.
NOT_PUBLISHED = (
    "arxiv-radar.db",
    "arxiv-radar.db.lock",
    "arxiv-radar.db-wal",
    "arxiv-radar.db-shm",
)


def radar(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, columns=80)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name not in NOT_PUBLISHED
    }


def changed(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


@pytest.fixture
def fake(server: LocalServer) -> FakeArxiv:
    arxiv = FakeArxiv(server, ["cs.CV"])
    papers = [
        make_paper(f"2611.{n:05d}", f"Splatting {n}", published=submitted_for(FRIDAY, n))
        for n in range(4)
    ]
    arxiv.announce(FRIDAY, papers)
    return arxiv


def test_runs_without_a_new_announcement_change_no_published_byte(
    tmp_path: Path, fake: FakeArxiv
) -> None:
    (tmp_path / "arxiv-radar.yml").write_text(
        CONFIG.format(api=fake.api_url, rss=fake.rss_url), encoding="utf-8"
    )
    first = radar("run", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    friday = snapshot(tmp_path)
    readme = friday["README.md"].decode("utf-8")
    assert "## Updated on 2026.11.27\n" in readme
    assert "Latest arXiv announcement: 2026-11-27, 4 new papers" in readme
    assert {"docs/index.html", "docs/feeds/all.xml", "docs/index.md"} <= friday.keys()

    fake.announce(SATURDAY, [])  # the weekend: arXiv announces nothing
    for _ in range(2):  # the weekend run, then a second run the same day
        again = radar("run", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert changed(friday, snapshot(tmp_path)) == []

    with Store.open(tmp_path / "arxiv-radar.db") as store:
        assert json.loads(store.get_meta(LAST_ANNOUNCEMENT) or "") == {
            "day": "2026-11-27",
            "listed": 4,
        }


def test_a_new_announcement_updates_the_day_and_the_status(tmp_path: Path, fake: FakeArxiv) -> None:
    (tmp_path / "arxiv-radar.yml").write_text(
        CONFIG.format(api=fake.api_url, rss=fake.rss_url), encoding="utf-8"
    )
    assert radar("run", cwd=tmp_path).returncode == 0
    monday = [make_paper("2611.09999", "Splatting Monday", published=submitted_for(MONDAY))]
    fake.announce(MONDAY, monday)
    assert radar("run", cwd=tmp_path).returncode == 0
    readme = (tmp_path / "README.md").read_text("utf-8")
    assert "## Updated on 2026.11.30\n" in readme and "Splatting Monday" in readme
    assert "Latest arXiv announcement: 2026-11-30, 1 new papers" in readme
    fake.announce(FRIDAY, [make_paper("2611.00000", "Splatting 0")])  # a stale, cached listing
    assert radar("run", cwd=tmp_path).returncode == 0
    assert (tmp_path / "README.md").read_text("utf-8") == readme  # no news: never moves back


def test_a_failed_fetch_is_still_news(tmp_path: Path, fake: FakeArxiv) -> None:
    (tmp_path / "arxiv-radar.yml").write_text(
        CONFIG.format(api=fake.api_url, rss=fake.rss_url), encoding="utf-8"
    )
    assert radar("run", cwd=tmp_path).returncode == 0
    fake.server.route("GET", "/rss/cs.CV", unavailable)
    failed = radar("run", cwd=tmp_path)
    assert failed.returncode == 1
    readme = (tmp_path / "README.md").read_text("utf-8")
    assert "The last fetch" in readme and "failed" in readme
    assert "## Updated on 2026.11.27\n" in readme  # the papers shown are still Friday's


def unavailable(request: Request) -> Reply:
    return Reply(503, b"down for maintenance")


def test_the_status_before_any_announcement_and_an_unreadable_one(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "radar.db") as store:
        assert latest_announcement(store) is None and updated_on(store) is None
        assert status_line(store, "UTC") == ""
        at = datetime(2026, 11, 30, 2, tzinfo=timezone.utc).isoformat()
        store.set_meta("last_fetch_attempt", json.dumps({"at": at, "ok": True, "error": ""}))
        assert "no announcement in the watched categories yet" in status_line(store, "UTC")
        store.set_meta(LAST_ANNOUNCEMENT, json.dumps({"day": "2026-11-27", "listed": 4}))
        assert latest_announcement(store) == Announcement(FRIDAY, 4)
        assert updated_on(store) == FRIDAY
        store.set_meta(LAST_ANNOUNCEMENT, "{not json")
        assert latest_announcement(store) is None
