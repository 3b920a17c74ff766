"""SQLite failures as users meet them: a full disk, a corrupted page, an old schema.

Each one is a single line naming the file and the fix (no traceback, no bare
``sqlite3.OperationalError``), and nothing is half-written. Read-only commands never migrate
or rewrite the file.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from arxiv_radar.doctor import run_doctor
from arxiv_radar.errors import StoreError
from arxiv_radar.store import MIGRATIONS, SCHEMA_VERSION, Store
from tests.servers.arxiv import make_paper
from tests.test_pipeline import cli

NOW = datetime(2026, 11, 24, 1, 17, tzinfo=timezone.utc)
CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splats
    keywords: ["gaussian splatting"]
code_links:
  enabled: false
site:
  enabled: false
feeds:
  enabled: false
endpoints:
  api_url: http://127.0.0.1:9/api
  rss_url: http://127.0.0.1:9/rss
http:
  request_interval: 0
  max_retries: 0
"""


def papers(count: int, start: int = 0) -> list:  # type: ignore[type-arg]
    return [
        make_paper(
            f"2611.{n:05d}",
            f"Gaussian splatting {n}",
            abstract="x" * 1500,
            published=NOW - timedelta(hours=1),
        )
        for n in range(start, start + count)
    ]


def filled_store(path: Path) -> None:
    with Store.open(path) as store:
        store.upsert_papers(papers(20), seen_at=NOW, source="listing")
        store.add_matches("Splats", [f"2611.{n:05d}" for n in range(20)], matched_at=NOW)
        for _ in range(30):
            run = store.start_run("run", started_at=NOW)
            store.finish_run(run, status="ok", stats={"pad": "y" * 500}, errors=[], finished_at=NOW)


def test_a_full_disk_mid_transaction_is_one_store_error_and_nothing_half_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "radar.db"
    filled_store(path)
    with Store.open(path) as store:
        before = store.paper_count()
        # A disk that is full from now on: SQLite may not grow the file any further. This
        # limit is a property of the connection, so the test reaches for the store's own.
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError) as caught:
            store.upsert_papers(papers(400, start=100), seen_at=NOW, source="listing")
        error = caught.value
        assert str(path) in error.message and "full" in error.message
        assert "\n" not in error.message
        assert "no transaction" not in error.message  # not hidden behind a failed ROLLBACK
        assert "free some space" in error.fix
        assert store.paper_count() == before  # the whole upsert was rolled back
        store._conn.execute(f"PRAGMA max_page_count = {pages * 100}")
        store.upsert_papers(papers(1, start=900), seen_at=NOW, source="listing")  # usable again
        assert store.paper_count() == before + 1


def corrupt_table(path: Path, table: str) -> None:
    """Overwrite the root page of ``table`` with garbage, as a bad disk sector would."""
    with sqlite3.connect(path) as conn:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
        page = root.fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    with path.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(b"\xa5" * size)


@pytest.mark.parametrize("command", ["status", "publish", "run"])
def test_a_corrupted_page_is_one_line_naming_the_file_and_the_fix(
    tmp_path: Path, command: str
) -> None:
    (tmp_path / "arxiv-radar.yml").write_text(CONFIG, encoding="utf-8")
    database = tmp_path / "arxiv-radar.db"
    filled_store(database)
    corrupt_table(database, "runs")
    result = cli(command, cwd=tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"error: store {database}") and "malformed" in lines[0]
    assert lines[1].startswith("  fix: ") and "backup" in lines[1]


def test_doctor_finds_a_corrupted_page_with_quick_check(tmp_path: Path) -> None:
    config = tmp_path / "arxiv-radar.yml"
    config.write_text(CONFIG, encoding="utf-8")
    database = tmp_path / "arxiv-radar.db"
    filled_store(database)
    corrupt_table(database, "topic_papers")  # a table no count query reads
    check = next(c for c in run_doctor(config, env={}).checks if c.name == "database")
    assert not check.ok and "quick_check" in check.detail and "backup" in check.fix
    filled_store(tmp_path / "sound.db")
    config.write_text(CONFIG + "database: sound.db\n", encoding="utf-8")
    check = next(c for c in run_doctor(config, env={}).checks if c.name == "database")
    assert check.ok and "integrity ok" in check.detail


def old_store(path: Path, version: int) -> None:
    """A store written by an arxiv-radar that knew only the first ``version`` migrations."""
    conn = sqlite3.connect(path, isolation_level=None)
    for number, migration in enumerate(MIGRATIONS[:version], start=1):
        migration(conn)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute(
        "INSERT INTO runs (command, started_at, finished_at, status) VALUES (?, ?, ?, 'ok')",
        ("run", NOW.isoformat(), NOW.isoformat()),
    )
    conn.close()


def test_status_opens_the_store_read_only_and_reports_pending_migrations(tmp_path: Path) -> None:
    (tmp_path / "arxiv-radar.yml").write_text(CONFIG, encoding="utf-8")
    database = tmp_path / "arxiv-radar.db"
    old_store(database, SCHEMA_VERSION - 1)
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    result = cli("status", cwd=tmp_path, env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    assert "needs 1 migration(s)" in result.stdout and MIGRATIONS[-1].__name__ in result.stdout
    assert "Recent runs" in result.stdout
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1
    check = next(
        c for c in run_doctor(tmp_path / "arxiv-radar.yml", env={}).checks if c.name == "database"
    )
    assert check.ok and "1 migration(s) for the next run" in check.detail
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


def test_read_only_store_refuses_writes_with_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "radar.db"
    filled_store(path)
    with Store.open(path, readonly=True) as store, pytest.raises(StoreError) as caught:
        store.set_meta("x", "y")
    assert str(path) in caught.value.message and "readonly" in caught.value.message
