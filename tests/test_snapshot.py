"""The committed text state: shards written from real stores, a database rebuilt from them.

Stores are real SQLite files filled through the real code paths (tests/filling.py, and `run`
against the fake arXiv with code links, translations, TL;DRs, email and chat); the CLI runs as a
subprocess where a user runs it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from arxiv_radar import gapfill
from arxiv_radar.doctor import run_doctor
from arxiv_radar.errors import StoreError, UserError
from arxiv_radar.records import CodeOutcome, TextKey
from arxiv_radar.store import Store, snapshot
from arxiv_radar.store.schema import SCHEMA_4
from arxiv_radar.store.snapshot import (
    FORMAT_VERSION,
    META_MANIFEST,
    STARS_FILE,
    compare_state,
    ensure_database,
    export_state,
    rebuild_database,
)
from tests.filling import FETCHED, LANGUAGE, fill_store
from tests.servers.arxiv import FakeArxiv, listing_days, make_paper
from tests.servers.fake_apis import FakeChat, FakeHuggingFace
from tests.servers.http import LocalServer, Reply
from tests.servers.smtp import SmtpServer, smtp_server
from tests.test_markdown import dataset
from tests.test_pipeline import cli

UTC = timezone.utc
KEY = "sk-test-SECRET-0123456789"
PASSWORD = "smtp-SECRET-pass"
CONFIG = """\
repository: someone/digest
categories: [cs.CV]
topics:
  - name: Splats
    keywords: ["gaussian splatting"]
  - name: Avatars
    keywords: [avatar]
output:
  columns: [date, title, abstract, pdf, code, tldr]
endpoints:
  api_url: {api}
  rss_url: {rss}
  hf_url: {base}
  pwc_url: {base}/pwc
http:
  request_interval: 0
  max_retries: 0
code_links:
  request_interval: 0
translation:
  provider: openai
  language: zh-CN
  base_url: {base}/v1
  model: deepseek-chat
  api_key_env: DEEPSEEK_API_KEY
summary:
  enabled: true
email:
  host: 127.0.0.1
  port: {smtp_port}
  security: none
  username: radar
  password_env: SMTP_PASSWORD
  sender: radar@example.org
  recipients: [a@example.org]
chat:
  - service: slack
    webhook_env: SLACK_WEBHOOK_URL
"""
DB = "arxiv-radar.db"


# --- helpers -------------------------------------------------------------------------------------

_TABLES = {
    "papers": """SELECT arxiv_id, version, title, authors, abstract, comment, categories,
        primary_category, doi, journal_ref, published, updated, first_seen, source
        FROM papers ORDER BY arxiv_id""",
    "topic_papers": "SELECT * FROM topic_papers ORDER BY topic, arxiv_id",
    "code_links": "SELECT * FROM code_links ORDER BY arxiv_id",
    "texts": "SELECT * FROM texts ORDER BY arxiv_id, version, field, language, provider, model",
    "deliveries": "SELECT * FROM deliveries ORDER BY channel, arxiv_id",
    "category_state": "SELECT * FROM category_state ORDER BY category",
    "meta": "SELECT * FROM meta WHERE key = 'last_announcement'",
    "checkpoints": "SELECT * FROM checkpoints WHERE name = 'gapfill:first-listing'",
}


def tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table (and row) the state must carry, read straight from the file."""
    conn = sqlite3.connect(db)
    try:
        return {name: conn.execute(sql).fetchall() for name, sql in _TABLES.items()}
    finally:
        conn.close()


def bib_stems(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        rows = "SELECT arxiv_id, stem, published FROM bib_stems ORDER BY arxiv_id"
        return conn.execute(rows).fetchall()
    finally:
        conn.close()


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of every file under ``root`` but the database and its sidecars."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(DB)
    }


def contents(root: Path) -> dict[str, bytes]:
    return {name: data for name, (data, _) in files(root).items()}


def filled_store(path: Path) -> Path:
    """A store filled from the publisher tests' dataset (Aug-Oct 2026, texts, code links)."""
    data = dataset()
    with Store.open(path) as store:
        fill_store(store, [e for rows in data.values() for e in rows], data)
        store.mark_delivered("email", ["2610.00005", "2610.00004"], at=FETCHED)
        store.set_category_state("cs.CV", date(2026, 10, 7), at=FETCHED)
        store.set_meta("last_announcement", '{"day": "2026-10-07", "listed": 12}')
        store.set_meta("last_fetch_ok", FETCHED.isoformat())
    return path


def downgrade_to_schema_4(db: Path) -> None:
    """Make ``db`` what today's digests have: schema 4, no dirty days, no manifest hash."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        rows = conn.execute(
            """SELECT type, name FROM sqlite_master
            WHERE (type = 'trigger' AND (name LIKE '%_dirty_%' OR name LIKE '%_stars_%'))
            OR name IN ('deliveries_by_paper', 'code_links_by_stars_at')"""
        ).fetchall()
        for kind, name in rows:
            conn.execute(f"DROP {kind.upper()} {name}")
        # Schema 11: no memberships by time (its destination watermark goes with the table).
        conn.execute("DROP INDEX topic_papers_by_matched")
        # Schema 10: schema 4's triggers without the listing revisions, stems with their revisions.
        listed = ("papers_rev_insert", "papers_rev_update", "topic_papers_rev_")
        triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in triggers.fetchall():
            if name.startswith(listed):
                conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP INDEX papers_by_published_listing_rev")
        conn.execute("ALTER TABLE papers DROP COLUMN listing_rev")
        conn.execute("ALTER TABLE bib_stems ADD COLUMN rev INTEGER NOT NULL DEFAULT 0")
        conn.execute("CREATE INDEX bib_stems_by_published ON bib_stems (published, rev)")
        for statement in SCHEMA_4:
            if statement.startswith("CREATE TRIGGER") and any(n in statement for n in listed):
                conn.execute(statement)
        later = ("dirty_days", "destinations", "delivery_intents", "topic_state")
        for table in (*later, "seed_papers", "rank_scores", "star_revision"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM meta WHERE key = ?", (META_MANIFEST,))
        conn.execute("PRAGMA user_version = 4")
    finally:
        conn.close()


def copy_state(source: Path, target: Path) -> Path:
    """A fresh checkout: the config and the committed state, no database, no outputs."""
    target.mkdir()
    shutil.copy(source / "arxiv-radar.yml", target / "arxiv-radar.yml")
    shutil.copytree(source / "state", target / "state")
    return target


# --- a digest that ran for two days against the fake services ------------------------------------


@dataclass
class Digest:
    root: Path
    env: dict[str, str]
    server: LocalServer
    smtp: SmtpServer
    arxiv: FakeArxiv

    def run(self, *args: str, cwd: Path | None = None) -> str:
        result = cli(*(args or ("run",)), cwd=cwd or self.root, env=self.env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def sent(self) -> tuple[int, int, int]:
        """(emails, chat posts, translation requests) so far."""
        return (
            len(self.smtp.received),
            len(self.server.requests_to("/hooks/slack")),
            len(self.server.requests_to("/v1/chat/completions")),
        )


@pytest.fixture
def digest(tmp_path: Path, server: LocalServer) -> Iterator[Digest]:
    arxiv = FakeArxiv(server, ["cs.CV"])
    FakeChat(server, key=KEY)
    hf = FakeHuggingFace(server)
    server.route("POST", "/hooks/slack", Reply(body="ok"))
    recent = datetime.now(UTC) - timedelta(hours=3)
    first, second = listing_days(date(2026, 11, 23), 2)
    papers = [
        make_paper("2611.00001", "Gaussian splatting with code", published=recent),
        make_paper("2611.00002", "Gaussian splatting für Ärzte", published=recent),
        make_paper("2610.00003", "An avatar from last month", published=recent - timedelta(40)),
    ]
    hf.paper("2611.00001", repo="https://github.com/someone/splat", stars=1234)
    hf.missing("2611.00002")
    root = tmp_path / "digest"
    root.mkdir()
    with smtp_server(user="radar", password=PASSWORD) as smtp:
        (root / "arxiv-radar.yml").write_text(
            CONFIG.format(
                api=arxiv.api_url, rss=arxiv.rss_url, base=server.url, smtp_port=smtp.port
            ),
            encoding="utf-8",
        )
        env = {
            "DEEPSEEK_API_KEY": KEY,
            "SMTP_PASSWORD": PASSWORD,
            "SLACK_WEBHOOK_URL": f"{server.url}/hooks/slack",
        }
        running = Digest(root, env, server, smtp, arxiv)
        arxiv.announce(first, papers[:2])
        running.run()
        later = make_paper("2611.00004", "Avatar splatting", published=recent)
        hf.missing("2611.00004")
        arxiv.announce(second, [papers[2], later])
        running.run()
        yield running


def test_a_run_writes_sorted_daily_shards_a_manifest_and_watermarks(digest: Digest) -> None:
    state = digest.root / "state"
    days = _days(digest.root / DB)
    assert len({day[:7] for day in days}) == 2  # papers of two months
    shards = sorted(str(p.relative_to(state)) for p in (state / "papers").rglob("*.jsonl"))
    assert shards == [f"papers/{day[:7]}/{day[8:]}.jsonl" for day in days]
    manifest = json.loads((state / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == snapshot.FORMAT_VERSION
    for name, entry in manifest["files"].items():
        data = (state / name).read_bytes()
        assert entry["lines"] == data.count(b"\n")
        assert entry["sha256"] == snapshot._sha256(data)
    lines: list[str] = []
    for path in sorted((state / "papers").rglob("*.jsonl")):
        shard = path.read_text(encoding="utf-8").splitlines()
        ids = [json.loads(line)["arxiv_id"] for line in shard]
        assert ids == sorted(ids)
        lines += shard
    rows = [json.loads(line) for line in lines]
    for line, row in zip(lines, rows, strict=True):
        assert line == json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert "rev" not in row and "last_seen" not in row
    by_id = {r["arxiv_id"]: r for r in rows}
    coded = by_id["2611.00001"]
    assert coded["code"]["code_url"] == "https://github.com/someone/splat"
    assert coded["topics"].keys() == {"Splats"}
    assert coded["deliveries"].keys() == {"email", "chat:slack:SLACK_WEBHOOK_URL"}
    assert {t["field"] for t in coded["texts"]} >= {"abstract", "tldr"}
    assert "für Ärzte" in lines[[r["arxiv_id"] for r in rows].index("2611.00002")]  # raw UTF-8
    assert by_id["2611.00004"]["topics"].keys() == {"Avatars"}
    assert "code" in by_id["2611.00002"] and "code_url" not in by_id["2611.00002"]["code"]
    watermarks = json.loads((state / "watermarks.json").read_text(encoding="utf-8"))
    assert [row["category"] for row in watermarks["tables"]["category_state"]] == ["cs.CV"]
    assert "last_fetch_ok" not in (state / "watermarks.json").read_text(encoding="utf-8")


def _days(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT DISTINCT substr(published, 1, 10) FROM papers ORDER BY 1")
        return [row[0] for row in rows]
    finally:
        conn.close()


def test_rebuilt_database_equals_the_original_table_by_table(
    digest: Digest, tmp_path: Path
) -> None:
    original = tables(digest.root / DB)
    assert all(original[name] for name in ("papers", "topic_papers", "code_links", "texts"))
    assert original["deliveries"] and original["category_state"]
    # The star count and when it was fetched travel in stars.jsonl, not in the paper line.
    (starred,) = [row for row in original["code_links"] if row[3] is not None]
    stars = (digest.root / "state" / STARS_FILE).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in stars] == [
        {"arxiv_id": starred[0], "stars": 1234, "stars_at": starred[4]}
    ]
    assert '"stars' not in "".join(
        p.read_text(encoding="utf-8") for p in (digest.root / "state" / "papers").rglob("*.jsonl")
    )
    fresh = copy_state(digest.root, tmp_path / "checkout")
    loaded = rebuild_database(fresh / DB, fresh / "state")
    assert loaded == len(original["papers"])
    assert tables(fresh / DB) == original
    with Store.open(fresh / DB) as store:
        assert store.get_meta(META_MANIFEST) == snapshot._sha256(
            (fresh / "state" / "manifest.json").read_bytes()
        )


def to_format_1(state: Path) -> None:
    """Rewrite ``state`` as arxiv-radar wrote it before format 2: star counts inside each paper
    line's code record, no stars.jsonl, manifest format 1."""
    counts = {}
    for line in (state / STARS_FILE).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        counts[row.pop("arxiv_id")] = row
    (state / STARS_FILE).unlink()
    entries = {}
    for path in sorted((state / "papers").rglob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for row in rows:
            row.get("code", {}).update(counts.get(row["arxiv_id"], {}))
        data = "".join(snapshot._dumps(row) + "\n" for row in rows).encode("utf-8")
        path.write_bytes(data)
        entries[str(path.relative_to(state))] = snapshot._entry(data, len(rows))
    watermarks = (state / "watermarks.json").read_bytes()
    entries["watermarks.json"] = snapshot._entry(watermarks, watermarks.count(b"\n"))
    manifest = json.dumps({"files": entries, "format": 1}, sort_keys=True, indent=1) + "\n"
    (state / "manifest.json").write_text(manifest, encoding="utf-8")


def test_a_format_1_state_loads_and_its_first_export_upgrades_every_file(tmp_path: Path) -> None:
    db = filled_store(tmp_path / DB)
    state = tmp_path / "state"
    with Store.open(db) as store:
        export_state(store, state)
    original = tables(db)
    assert any(row[3] is not None for row in original["code_links"])  # star counts to carry
    current = contents(state)
    to_format_1(state)
    assert '"stars":' in (state / "papers" / "2026-10" / "06.jsonl").read_text(encoding="utf-8")
    rebuilt = tmp_path / "rebuilt.db"
    rebuild_database(rebuilt, state)
    assert tables(rebuilt) == original
    with Store.open(rebuilt) as store:
        (difference,) = compare_state(store, state).differences  # doctor names the format
        assert difference.problem == "state format 1: the next run writes it in 2"
        report = export_state(store, state)
    assert report.days == len(_days(db))  # an older format: every file written again
    assert contents(state) == current  # ... exactly as format 2 writes them
    assert json.loads((state / "manifest.json").read_bytes())["format"] == FORMAT_VERSION


def test_a_bad_star_count_line_is_a_one_line_error_naming_the_file(tmp_path: Path) -> None:
    db = filled_store(tmp_path / DB)
    state = tmp_path / "state"
    with Store.open(db) as store:
        export_state(store, state)
    stars = state / STARS_FILE
    stars.write_text(stars.read_text(encoding="utf-8") + '{"arxiv_id":"2601.99999","stars":3}\n')
    with pytest.raises(UserError, match=r"stars\.jsonl line \d+: .*no code link") as caught:
        rebuild_database(tmp_path / "rebuilt.db", state)
    assert "git checkout -- " in caught.value.fix


def test_publish_from_the_rebuilt_database_is_byte_identical(
    digest: Digest, tmp_path: Path
) -> None:
    """A cache miss on the next day: a fresh checkout rebuilds its database and publishes cold;
    the digest that kept its database publishes incrementally. Same files, nothing re-sent."""
    fresh = copy_state(digest.root, tmp_path / "checkout")
    sent = digest.sent()
    state = files(digest.root / "state")
    digest.run()
    assert files(digest.root / "state") == state  # nothing new: no byte, no mtime changed
    digest.run(cwd=fresh)
    published = contents(fresh)
    assert published == contents(digest.root)
    assert any(name.endswith(".bib") for name in published)  # the BibTeX keys are compared too
    assert "README.md" in published and "docs/index.html" in published
    assert digest.sent() == sent  # deliveries and cached texts survived the rebuild
    assert bib_stems(fresh / DB) == bib_stems(digest.root / DB)  # BibTeX keys recomputed equal
    assert tables(fresh / DB) == tables(digest.root / DB)


def test_a_second_export_with_nothing_changed_writes_no_file(tmp_path: Path) -> None:
    db = filled_store(tmp_path / DB)
    state = tmp_path / "state"
    with Store.open(db) as store:
        first = export_state(store, state)
        assert len(first.written) == len(_days(db)) + 3  # days, stars, watermarks, manifest
        before = files(state)
        again = export_state(store, state)
        dirty = store.connection.execute("SELECT count(*) FROM dirty_days").fetchone()[0]
    assert (again.written, again.removed, again.days) == ([], [], 0)
    assert dirty == 0
    assert files(state) == before  # bytes and mtimes


def test_one_changed_paper_rewrites_exactly_its_shard_and_the_manifest(tmp_path: Path) -> None:
    db = filled_store(tmp_path / DB)
    state = tmp_path / "state"
    with Store.open(db) as store:
        export_state(store, state)
        before = files(state)
        outcome = CodeOutcome("https://github.com/x/y", None, 7, "test", FETCHED, 1, None)
        store.record_code("2609.00003", outcome)
        report = export_state(store, state)
    # The link's star count is committed apart, in stars.jsonl.
    assert report.written == ["papers/2026-09/20.jsonl", STARS_FILE, "manifest.json"]
    after = files(state)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"papers/2026-09/20.jsonl", STARS_FILE, "manifest.json"}
    assert "https://github.com/x/y" in after["papers/2026-09/20.jsonl"][0].decode()


def test_a_paper_dated_earlier_moves_to_its_new_day(tmp_path: Path) -> None:
    db = filled_store(tmp_path / DB)
    state = tmp_path / "state"
    with Store.open(db) as store:
        export_state(store, state)
        paper = store.get_paper("2609.00003")
        assert paper is not None
        earlier = datetime(2026, 8, 30, 12, 0, tzinfo=UTC)
        store.upsert_papers(
            [make_paper(paper.arxiv_id, paper.title, published=earlier)],
            seen_at=FETCHED,
            source="api",
        )
        report = export_state(store, state)
    assert report.written == ["papers/2026-08/30.jsonl", "manifest.json"]
    assert report.removed == ["papers/2026-09/20.jsonl"]  # its only paper left
    august = (state / "papers" / "2026-08" / "30.jsonl").read_text(encoding="utf-8")
    assert '"arxiv_id":"2609.00003"' in august
    manifest = json.loads((state / "manifest.json").read_text(encoding="utf-8"))
    assert "papers/2026-09/20.jsonl" not in manifest["files"]
    assert "papers/2026-09/03.jsonl" in manifest["files"]


def test_the_shard_is_the_utc_day_of_the_first_published_date(tmp_path: Path) -> None:
    eastern_evening = datetime(2026, 9, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    with Store.open(tmp_path / DB) as store:
        store.upsert_papers(
            [make_paper("2610.00099", "Late", published=eastern_evening)],
            seen_at=FETCHED,
            source="api",
        )
        export_state(store, tmp_path / "state")
    shards = [str(p.relative_to(tmp_path)) for p in (tmp_path / "state").rglob("*.jsonl")]
    assert shards == ["state/papers/2026-10/01.jsonl"]


def test_line_separators_inside_texts_survive_the_round_trip(tmp_path: Path) -> None:
    """ensure_ascii=False leaves U+2028, U+0085 and the like raw: only "\\n" may end a line."""
    odd = "one\u2028two\u2029three\x85four\x1cfive\rsix\r\nseven\nend"
    with Store.open(tmp_path / DB) as store:
        store.upsert_papers(
            [make_paper("2611.00042", odd, abstract=odd, authors=(odd,))],
            seen_at=FETCHED,
            source="api",
        )
        export_state(store, tmp_path / "state")
    rebuilt = tmp_path / "rebuilt.db"
    rebuild_database(rebuilt, tmp_path / "state")
    assert tables(rebuilt) == tables(tmp_path / DB)
    with Store.open(rebuilt) as store:
        paper = store.get_paper("2611.00042")
        assert paper is not None and paper.abstract == odd


def test_an_unchanged_re_listing_changes_no_state_byte(tmp_path: Path) -> None:
    """Seeing a paper again moves last_seen (run history), never the committed state."""
    db = filled_store(tmp_path / DB)
    state = tmp_path / "state"
    with Store.open(db) as store:
        export_state(store, state)
        before = files(state)
        paper = store.get_paper("2610.00005")
        assert paper is not None
        store.upsert_papers([paper], seen_at=FETCHED + timedelta(days=1), source="listing")
        report = export_state(store, state)
    assert report.days == 0 and report.written == []
    assert files(state) == before


def test_watermarks_carry_progress_and_the_latest_announcement_not_run_history(
    tmp_path: Path,
) -> None:
    assert snapshot.FIRST_LISTING_CHECKPOINT == gapfill.FIRST_LISTING
    db = filled_store(tmp_path / DB)
    with Store.open(db) as store:
        store.set_checkpoint(gapfill.FIRST_LISTING, {"cs.CV": "2026-10-06"}, at=FETCHED)
        store.set_checkpoint("gapfill:cs.CV", {"done_until": "2026-10-05T00:00"}, at=FETCHED)
        store.set_meta("last_fetch_attempt", '{"ok": true}')
        export_state(store, tmp_path / "state")
    text = (tmp_path / "state" / "watermarks.json").read_text(encoding="utf-8")
    assert all(len(line) < 100 for line in text.splitlines())  # one key per line: it diffs
    for run_history in ("last_fetch_ok", "last_fetch_attempt", "gapfill:cs.CV", "bib_stems_rev"):
        assert run_history not in text
    rebuilt = tmp_path / "rebuilt.db"
    rebuild_database(rebuilt, tmp_path / "state")
    assert tables(rebuilt) == tables(db)
    with Store.open(rebuilt) as store:
        assert store.get_meta("last_announcement") == '{"day": "2026-10-07", "listed": 12}'
        assert store.get_checkpoint(gapfill.FIRST_LISTING) == {"cs.CV": "2026-10-06"}
        assert store.get_checkpoint("gapfill:cs.CV") is None
        assert store.category_state() == {"cs.CV": date(2026, 10, 7)}


def test_a_stale_database_is_rebuilt_from_the_checked_out_state(
    digest: Digest, tmp_path: Path
) -> None:
    """The cached database is yesterday's; git brings today's shards: the run rebuilds."""
    cached = tmp_path / "cached.db"
    shutil.copy(digest.root / DB, cached)
    with Store.open(digest.root / DB) as store:
        new = make_paper("2611.00077", "Gaussian splatting from another machine")
        store.upsert_papers([new], seen_at=datetime.now(UTC), source="listing")
        store.add_matches("Splats", [new.arxiv_id], matched_at=datetime.now(UTC))
        export_state(store, digest.root / "state")
    for sidecar in ("", "-wal", "-shm"):
        Path(f"{digest.root / DB}{sidecar}").unlink(missing_ok=True)
    shutil.copy(cached, digest.root / DB)
    digest.run("publish")
    readme = (digest.root / "README.md").read_text(encoding="utf-8")
    assert "Gaussian splatting from another machine" in readme
    with Store.open(digest.root / DB) as store:
        assert store.get_paper("2611.00077") is not None


def test_a_database_ahead_of_the_checkout_is_kept_and_the_state_caught_up(
    digest: Digest, tmp_path: Path
) -> None:
    """The last run's push failed: git has the state before it, the cache has the database after
    it. Rebuilding would forget what that run did (its deliveries above all); keep the database."""
    before = tmp_path / "state-before"
    shutil.copytree(digest.root / "state", before)
    with Store.open(digest.root / DB) as store:
        new = make_paper("2611.00078", "Gaussian splatting that never reached git")
        store.upsert_papers([new], seen_at=datetime.now(UTC), source="listing")
        store.add_matches("Splats", [new.arxiv_id], matched_at=datetime.now(UTC))
        store.mark_delivered("email", [new.arxiv_id], at=datetime.now(UTC))
        export_state(store, digest.root / "state")
    ahead = tables(digest.root / DB)
    shutil.rmtree(digest.root / "state")
    shutil.copytree(before, digest.root / "state")  # the checkout the next job gets

    assert not ensure_database(digest.root / DB, digest.root / "state")
    assert tables(digest.root / DB) == ahead
    digest.run("publish")
    shards = "".join(p.read_text("utf-8") for p in (digest.root / "state").rglob("*.jsonl"))
    assert "2611.00078" in shards and '"email"' in shards


def test_a_corrupt_database_is_rebuilt_from_the_state(tmp_path: Path) -> None:
    db = filled_store(tmp_path / DB)
    with Store.open(db) as store:
        export_state(store, tmp_path / "state")
    expected = tables(db)
    db.write_bytes(b"not a database, a cache the runner restored half-way" * 100)
    assert ensure_database(db, tmp_path / "state")
    assert tables(db) == expected


def test_a_corrupt_shard_line_is_a_one_line_error_exit_2(tmp_path: Path) -> None:
    filled_store(tmp_path / DB)
    (tmp_path / "arxiv-radar.yml").write_text(
        "categories: [cs.CV]\ntopics:\n  - {name: Gaussian Splatting, keywords: [splat]}\n",
        encoding="utf-8",
    )
    assert cli("publish", cwd=tmp_path).returncode == 0
    shard = tmp_path / "state" / "papers" / "2026-08" / "01.jsonl"
    with shard.open("a", encoding="utf-8") as out:
        out.write('{"arxiv_id": "2608.00009", "title": \n')  # a conflict, cut short
    (tmp_path / DB).unlink()
    result = cli("publish", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "state/papers/2026-08/01.jsonl line 2: not a valid paper line" in result.stderr
    assert "git checkout -- state/papers/2026-08/01.jsonl" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # the error and its fix
    assert not (tmp_path / f"{DB}.rebuild").exists()  # no half-built database left behind


def test_a_digest_with_only_its_database_gets_complete_shards_after_one_run(
    digest: Digest, tmp_path: Path
) -> None:
    """Today's users commit arxiv-radar.db and have no state/: one run writes it all."""
    shutil.rmtree(digest.root / "state")
    downgrade_to_schema_4(digest.root / DB)
    digest.run()
    assert (digest.root / "state" / "manifest.json").exists()
    fresh = copy_state(digest.root, tmp_path / "checkout")
    rebuild_database(fresh / DB, fresh / "state")
    assert tables(fresh / DB) == tables(digest.root / DB)


def test_doctor_names_the_state_files_that_disagree(tmp_path: Path, server: LocalServer) -> None:
    arxiv = FakeArxiv(server, ["cs.CV"])
    arxiv.announce(date(2026, 11, 24), [])
    config = tmp_path / "arxiv-radar.yml"
    config.write_text(
        f"categories: [cs.CV]\ntopics:\n  - {{name: Splats, keywords: [splat]}}\n"
        f"code_links: {{enabled: false}}\n"
        f"endpoints: {{api_url: {arxiv.api_url}, rss_url: {arxiv.rss_url}}}\n"
        "http: {request_interval: 0, timeout: 2}\n",
        encoding="utf-8",
    )
    db = filled_store(tmp_path / DB)
    with Store.open(db) as store:
        export_state(store, tmp_path / "state")

    def state_check() -> Any:
        report = run_doctor(config, env={}, cwd=tmp_path)
        return next(check for check in report.checks if check.name == "state")

    assert state_check().ok
    with Store.open(db) as store:  # a change the next run has not exported yet
        store.record_code("2608.00001", CodeOutcome(None, None, None, "t", FETCHED, 1, None))
    check = state_check()
    assert not check.ok and "papers/2026-08/01.jsonl" in check.detail
    assert "arxiv-radar publish" in check.fix
    shard = tmp_path / "state" / "papers" / "2026-09" / "20.jsonl"
    shard.write_text(shard.read_text(encoding="utf-8").replace("September", "Sept"), "utf-8")
    check = state_check()
    assert "papers/2026-09/20.jsonl: differs from its manifest entry" in check.detail
    assert check.fix.startswith("restore the state from git: git checkout --")


def test_an_export_that_cannot_write_changes_no_file_and_keeps_its_days_dirty(
    tmp_path: Path,
) -> None:
    db = filled_store(tmp_path / DB)
    state = tmp_path / "state"
    with Store.open(db) as store:
        export_state(store, state)
        for arxiv_id in ("2608.00001", "2610.00004"):  # shards of August, then October
            outcome = CodeOutcome(
                f"https://github.com/x/{arxiv_id}", None, 1, "t", FETCHED, 1, None
            )
            store.record_code(arxiv_id, outcome)
        before = files(state)
        october = state / "papers" / "2026-10"
        shutil.move(october, tmp_path / "october")
        october.write_text("a file where the October folder was", encoding="utf-8")
        with pytest.raises(StoreError, match="cannot write the state"):
            export_state(store, state)
        assert {n: v for n, v in files(state).items() if "2026-10" not in n} == {
            n: v for n, v in before.items() if "2026-10" not in n
        }  # August's staged shard was discarded, not renamed in
        assert not [p for p in state.rglob("*.tmp")]
        october.unlink()
        shutil.move(tmp_path / "october", october)
        report = export_state(store, state)
    written = ["papers/2026-08/01.jsonl", "papers/2026-10/05.jsonl", STARS_FILE, "manifest.json"]
    assert report.written == written  # the star counts too: the failed export wrote none


def test_every_kind_of_change_rewrites_exactly_its_papers_shard(tmp_path: Path) -> None:
    """Each writer of the store marks its paper's day, upserts included (their conflict policy
    would override an OR IGNORE inside the triggers)."""
    db = filled_store(tmp_path / DB)
    state = tmp_path / "state"
    shard = "papers/2026-10/06.jsonl"  # 2610.00005: a code link, stars, texts, a delivery
    found = CodeOutcome("https://github.com/example/fast-splat", None, 99, "t", FETCHED, 2, None)
    key = TextKey("abstract", LANGUAGE, "test", "m")
    with Store.open(db) as store:
        paper = store.get_paper("2610.00005")
        assert paper is not None
        newer = dataclasses.replace(paper, version=2, title="Fast splatting, v2")
        changes = {
            "code link upsert": lambda: store.record_code(paper.arxiv_id, found),
            "stars": lambda: store.record_stars({found.code_url or "": 100}, FETCHED),
            "text replaced": lambda: store.record_text(paper, key, "新的摘要", FETCHED),
            "delivery": lambda: store.mark_delivered("chat:x", [paper.arxiv_id], at=FETCHED),
            "membership": lambda: store.add_matches(
                "LLM Agents", [paper.arxiv_id], matched_at=FETCHED
            ),
            "new version": lambda: store.upsert_papers([newer], seen_at=FETCHED, source="api"),
        }
        export_state(store, state)
        for name, change in changes.items():
            change()
            # A star count is committed in stars.jsonl: the paper's shard keeps its bytes.
            extra = {"stars": [STARS_FILE], "code link upsert": [shard, STARS_FILE]}
            written = [*extra.get(name, [shard]), "manifest.json"]
            assert export_state(store, state).written == written, name


def test_a_run_whose_notify_failed_still_exports_the_days_papers(digest: Digest) -> None:
    digest.server.route("POST", "/hooks/slack", Reply(500, "down"))
    recent = datetime.now(UTC) - timedelta(hours=1)
    new = make_paper("2611.00055", "Gaussian splatting on a bad day", published=recent)
    digest.arxiv.announce(date(2026, 11, 25), [new])
    failed = cli("run", cwd=digest.root, env=digest.env)
    assert failed.returncode == 1 and "chat:slack" in failed.stderr
    lines = [
        json.loads(line)
        for path in (digest.root / "state" / "papers").rglob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    exported = {row["arxiv_id"]: row for row in lines}
    assert "2611.00055" in exported
    assert exported["2611.00055"]["deliveries"].keys() == {"email"}  # the mail did go out


def test_status_on_a_fresh_checkout_says_the_database_will_be_rebuilt(
    digest: Digest, tmp_path: Path
) -> None:
    checkout = copy_state(digest.root, tmp_path / "checkout")
    result = cli("status", cwd=checkout)
    assert result.returncode == 0, result.stderr
    assert "rebuilds it from" in result.stdout and "No runs yet" not in result.stdout
    assert not (checkout / DB).exists(), "status reads; it never builds the database"
