"""One process per store: a second run waits for the lock, or gives up with a clear UserError."""

from __future__ import annotations

import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO

import pytest
from filelock import FileLock
from rich.console import Console

from arxiv_radar.config import load_workspace
from arxiv_radar.errors import LockError, UserError
from arxiv_radar.lock import workspace_lock
from arxiv_radar.report import describe_runs
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import LocalServer, Reply, Request

CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
site:
  enabled: false
code_links:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 0
"""


def test_a_held_lock_makes_the_second_wait_then_fail_clearly(tmp_path: Path) -> None:
    database = tmp_path / "radar.db"
    with workspace_lock(database):
        started = time.monotonic()
        with pytest.raises(LockError) as caught, workspace_lock(database, wait=0.2):
            pytest.fail("the second holder must not get in")
        waited = time.monotonic() - started
    assert 0.15 <= waited < 2
    error = caught.value
    assert isinstance(error, UserError)  # the CLI maps it to exit 2, no traceback
    assert str(database) in error.message and "radar.db.lock" in error.message
    assert "after 0.2 s" in error.message and error.fix


def test_the_waiting_process_is_told_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    database = tmp_path / "radar.db"
    with workspace_lock(database), pytest.raises(LockError), workspace_lock(database, wait=0.05):
        pass
    assert "another arxiv-radar process is using" in caplog.text


def test_the_second_gets_the_lock_when_the_first_releases_it(tmp_path: Path) -> None:
    database = tmp_path / "radar.db"
    held = threading.Event()
    release = threading.Event()

    def first() -> None:
        with workspace_lock(database):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(5)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    with workspace_lock(database, wait=5):
        waited = time.monotonic() - started
    thread.join(5)
    assert 0.25 <= waited < 4


def test_the_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    database = tmp_path / "radar.db"
    with pytest.raises(RuntimeError), workspace_lock(database):
        raise RuntimeError("boom")
    with workspace_lock(database, wait=0):
        pass


@pytest.fixture
def workdir(tmp_path: Path, server: LocalServer) -> tuple[Path, FakeArxiv]:
    fake = FakeArxiv(server, ["cs.CV"])
    recent = datetime.now(timezone.utc) - timedelta(hours=1)
    papers = [make_paper(f"2611.{n:05d}", f"Splatting {n}", published=recent) for n in range(5)]
    fake.announce(date(2026, 11, 24), papers)
    (tmp_path / "arxiv-radar.yml").write_text(
        CONFIG.format(api=fake.api_url, rss=fake.rss_url), encoding="utf-8"
    )
    return tmp_path, fake


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "arxiv_radar", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


class _Lines:
    """Reads a process's stderr on a thread, line by line, so a test can wait for one line with
    a deadline (a blocking read would hang if the line never comes)."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(needle in line for line in self.seen):
            line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            if line is None:
                pytest.fail(f"the process ended before saying {needle!r}: {self.text()}")
            self.seen.append(line)

    def text(self) -> str:
        """Everything read so far, and the rest once the stream has ended."""
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.seen.append(line)
        return "".join(self.seen)

    def finish(self, timeout: float) -> str:
        self._thread.join(timeout)
        return self.text()


def test_cli_run_waits_while_another_process_holds_the_lock(
    workdir: tuple[Path, FakeArxiv],
) -> None:
    root, fake = workdir
    lock = FileLock(root / "arxiv-radar.db.lock")
    lock.acquire()
    with start("fetch", cwd=root) as process:  # on exit: pipes closed, process reaped
        try:
            assert process.stderr is not None
            stderr = _Lines(process.stderr)
            # The waiter's own log line is the signal that it reached the lock: no fixed sleep
            # that a loaded machine outruns.
            stderr.wait_for("another arxiv-radar process is using", timeout=60)
            assert process.poll() is None, "the second run must wait, not fail or barge in"
            assert fake.server.requests == []
        finally:
            lock.release()
        assert process.wait(timeout=60) == 0, stderr.finish(5)
        stderr.finish(5)
    with Store.open(root / "arxiv-radar.db") as store:
        assert store.paper_count() == 5


def test_two_runs_at_once_both_finish_and_nothing_is_corrupted(
    workdir: tuple[Path, FakeArxiv], server: LocalServer
) -> None:
    root, fake = workdir
    real = server.routes[("GET", "/rss/cs.CV")]

    def slow_listing(request: Request) -> Reply:
        reply = real.next(request)
        return Reply(reply.status, reply.body, reply.headers, delay=0.5)

    server.route("GET", "/rss/cs.CV", slow_listing)
    first = start("run", cwd=root)
    second = start("run", cwd=root)
    results = [p.communicate(timeout=60) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], results

    starts = [r.at for r in server.requests_to("/rss/cs.CV")]
    assert len(starts) == 2 and starts[1] - starts[0] >= 0.5  # one after the other
    with Store.open(root / "arxiv-radar.db") as store:
        assert store.paper_count() == 5
        assert [run.status for run in store.recent_runs()] == ["ok", "ok"]
    with sqlite3.connect(root / "arxiv-radar.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert (root / "README.md").read_text("utf-8").count("Splatting 3") >= 1
    assert fake.api_requests()


def test_status_calls_a_dead_running_run_interrupted_but_not_a_live_one(tmp_path: Path) -> None:
    (tmp_path / "arxiv-radar.yml").write_text(
        "categories: [cs.CV]\ntopics:\n  - name: A\n    query: x\n", encoding="utf-8"
    )
    workspace = load_workspace(tmp_path / "arxiv-radar.yml", env={})
    with Store.open(workspace.database) as store:
        store.start_run("run", started_at=datetime.now(timezone.utc))

    def statuses() -> str:
        console = Console(record=True, width=200)
        for part in describe_runs(workspace, limit=5):
            console.print(part)
        return console.export_text()

    assert "interrupted" in statuses()
    with workspace_lock(workspace.database):
        assert "running" in statuses() and "interrupted" not in statuses()
