"""The committed text state, the store's text twin: what a digest repository keeps in git.

A SQLite file is a poor thing to commit: it passes GitHub's 100 MB limit at about 35,000 papers and
changes on every run. So the state that must survive lives in ``state_dir`` as text that diffs, and
the database is a cache derived from it:

- ``papers/YYYY-MM/DD.jsonl``: one line per paper, by the UTC day of its first-published date
  (one folder per month), sorted by arxiv_id; each line one JSON object (sorted keys, compact,
  UTF-8) with the paper's metadata, its ``topics`` (topic -> matched_at), its ``code`` record
  (without its star count), its cached ``texts`` (translations, TL;DRs), its ``deliveries``
  (channel -> sent_at) and its relevance ``scores`` (topic -> score, reason, basis). Empty
  parts are left out, so a line changes only when the paper does. Days, not months: a month at
  cs.* density (12,500 papers) with every paper enriched measured 77 MB as one file
  (benchmarks/bench_snapshot.py), past GitHub's 50 MB warning, while its largest day was 4.8 MB;
  a daily run also rewrites a few MB instead of a whole month, and a month folder lists at
  most 31 files.
- ``stars.jsonl``: one line per paper whose code link has a star count, sorted by arxiv_id
  (``arxiv_id``, ``stars``, ``stars_at``: when it was fetched, which the refresh schedule needs).
  Apart from the paper lines because the monthly refresh of older papers' counts would
  otherwise change every day's shard once a month; here it changes one file of short lines.
  Absent when no paper has a count.
- ``watermarks.json``: the rows of :data:`WATERMARKS` (per-category progress, the latest
  announcement ingested, the first listing ever attempted): what the next run needs to fetch
  exactly what it would have fetched, and the pages need to render byte-identically.
- ``manifest.json``: the format version and each file's sha256 and line count. It is written
  last; the database records the hash of the manifest it last wrote or loaded (meta
  ``state_manifest``), so a database that does not match ``state_dir`` is rebuilt from it.

Format 2 moved star counts out of the paper lines into ``stars.jsonl``. A format 1 state (stars
inside each line's ``code``) still loads; the first export after it writes every file again in
format 2, so an existing digest upgrades in one run.

What is never exported, and why losing it is safe:

- ``runs``: run history, which changes on every run (it would make every run a commit); the
  status command starts a new history after a rebuild.
- ``meta`` ``last_fetch_ok`` and ``last_fetch_attempt``: run history too; the next fetch writes
  them again. The pages take "Updated on" and the status line from ``last_announcement`` (the
  latest announcement ingested), which is state.
- ``papers.last_seen``: moves whenever a listing shows a paper again, even when nothing is new;
  only the store reads it, and a rebuild restores it as the first-seen time.
- ``papers.rev``, ``papers.listing_rev``, ``revision`` and ``outputs``: publishing
  fingerprints. A rebuilt store has no recorded outputs, so its first publish renders everything
  (and writes only files whose bytes changed, which after a faithful rebuild is none).
- ``bib_stems``: a pure function of first author, year and title; the first publish after a
  rebuild recomputes them all (``tests/test_snapshot.py`` shows the BibTeX keys come out equal).
- ``checkpoints`` of interrupted jobs (gap fill and backfill pages): a gap fill only advances
  ``category_state`` once it completes, so without its checkpoint it pages its window again from
  the start; a backfill restarts its range. Every page is an idempotent upsert. Only the
  first-listing checkpoint is state (a failed first run must still be filled back next time), so
  it is in :data:`WATERMARKS`.

This module speaks SQL directly (whole-table reads and a bulk load, which no per-job ``Store``
method would serve); its table and column names are module constants or checked against the
schema, and every value is a bound parameter (hence the S608 exemption in pyproject).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from arxiv_radar.durability import sync_written
from arxiv_radar.errors import StoreError, UserError
from arxiv_radar.store.core import Store

__all__ = [
    "FIRST_LISTING_CHECKPOINT",
    "FORMAT_VERSION",
    "MANIFEST",
    "META_MANIFEST",
    "PAPERS_DIR",
    "READABLE_FORMATS",
    "STARS_FILE",
    "WATERMARKS",
    "WATERMARKS_FILE",
    "ExportReport",
    "StateComparison",
    "StateDifference",
    "Watermark",
    "compare_state",
    "ensure_database",
    "export_state",
    "rebuild_database",
    "render_day",
    "render_stars",
    "render_watermarks",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
# Formats this arxiv-radar loads: 1 kept star counts inside each paper line's code record.
READABLE_FORMATS = (1, 2)
MANIFEST = "manifest.json"
WATERMARKS_FILE = "watermarks.json"
STARS_FILE = "stars.jsonl"
# The star_revision ``state`` counter the last export wrote (or the rebuild loaded) stars.jsonl
# at: when it has not moved since, the file is not rendered again.
META_STARS = "state_stars"
PAPERS_DIR = "papers"
META_MANIFEST = "state_manifest"
# Manifests this database wrote before its current one. A checkout holding one of them is behind
# the database (its last export never reached git: a failed push, a cancelled job), not ahead.
META_EARLIER_MANIFESTS = "state_manifests_earlier"
_EARLIER_KEPT = 60
_SHARD_SUFFIX = ".jsonl"


@dataclass(frozen=True)
class Watermark:
    """Rows of one table that belong to the state: all of them, or those whose ``key`` column is
    one of ``only`` (a few meta keys, one checkpoint)."""

    table: str
    key: str
    only: tuple[str, ...] | None = None


# The first-listing checkpoint's name (arxiv_radar.gapfill.FIRST_LISTING; a test keeps them
# equal: the state sits below the fetch stages and does not import them).
FIRST_LISTING_CHECKPOINT = "gapfill:first-listing"
# Export and rebuild are generic over these entries: another table of progress joins the state
# with one line, e.g. ``Watermark("topic_state", "topic")``.
WATERMARKS: tuple[Watermark, ...] = (
    Watermark("category_state", "category"),
    Watermark("topic_state", "topic"),
    # When each email or chat destination was added: it is sent papers announced since then.
    Watermark("destinations", "channel"),
    # Seed papers' metadata, fetched once: a rebuild must not ask arXiv for it again.
    Watermark("seed_papers", "arxiv_id"),
    Watermark("meta", "key", only=("last_announcement",)),
    Watermark("checkpoints", "name", only=(FIRST_LISTING_CHECKPOINT,)),
)

# --- the paper line ----------------------------------------------------------------------------

# Column -> JSON type of the papers columns a line holds (lists are stored as JSON text).
_PAPER_FIELDS: dict[str, type] = {
    "arxiv_id": str,
    "version": int,
    "title": str,
    "authors": list,
    "abstract": str,
    "comment": str,
    "categories": list,
    "primary_category": str,
    "doi": str,
    "journal_ref": str,
    "published": str,
    "updated": str,
    "first_seen": str,
    "source": str,
}
_LIST_FIELDS = ("authors", "categories")
_CODE_FIELDS = (
    "code_url",
    "project_url",
    "stars",
    "stars_at",
    "source",
    "checked_at",
    "attempts",
    "next_check",
)
# A line's code record: the star count and its time are in STARS_FILE (a format 1 line still
# carries them; loading reads every _CODE_FIELDS name the record has).
_STAR_FIELDS = ("stars", "stars_at")
_LINE_CODE_FIELDS = tuple(name for name in _CODE_FIELDS if name not in _STAR_FIELDS)
_TEXT_FIELDS = ("version", "field", "language", "provider", "model", "text", "created_at")
# A topic's relevance score: kept, not recomputed, so a rebuilt database renders the same pages.
_SCORE_FIELDS = ("score", "why", "basis", "scored_at")
_PAPER_SELECT = ", ".join(f"p.{name}" for name in _PAPER_FIELDS)
_IN_DAY = "p.published >= :start AND p.published < :end"
# CROSS JOIN pins each plan: the day's papers through the published index, then each table's
# rows of that paper through its (arxiv_id, ...) key.
_DAY_PAPERS = f"SELECT {_PAPER_SELECT} FROM papers p WHERE {_IN_DAY} ORDER BY p.arxiv_id"
_DAY_TOPICS = f"""SELECT t.arxiv_id, t.topic, t.matched_at FROM papers p
    CROSS JOIN topic_papers t ON t.arxiv_id = p.arxiv_id WHERE {_IN_DAY}"""
_DAY_CODE = f"""SELECT c.arxiv_id, {", ".join(f"c.{name}" for name in _LINE_CODE_FIELDS)}
    FROM papers p CROSS JOIN code_links c ON c.arxiv_id = p.arxiv_id WHERE {_IN_DAY}"""
_DAY_TEXTS = f"""SELECT x.arxiv_id, {", ".join(f"x.{name}" for name in _TEXT_FIELDS)}
    FROM papers p CROSS JOIN texts x ON x.arxiv_id = p.arxiv_id WHERE {_IN_DAY}
    ORDER BY x.arxiv_id, x.version, x.field, x.language, x.provider, x.model"""
_DAY_DELIVERIES = f"""SELECT d.arxiv_id, d.channel, d.sent_at FROM papers p
    CROSS JOIN deliveries d ON d.arxiv_id = p.arxiv_id WHERE {_IN_DAY}"""
_DAY_SCORES = f"""SELECT s.arxiv_id, s.topic, {", ".join(f"s.{name}" for name in _SCORE_FIELDS)}
    FROM papers p CROSS JOIN rank_scores s ON s.arxiv_id = p.arxiv_id WHERE {_IN_DAY}"""
_DAYS = "SELECT DISTINCT substr(published, 1, 10) FROM papers ORDER BY 1"
# Each line built by SQLite itself (compact, keys in sorted order; json_patch drops the null
# members): the file is rendered whenever a count changed, and json.dumps per row would cost
# several times as much.
_STAR_LINES = """SELECT json_patch('{}',
        json_object('arxiv_id', arxiv_id, 'stars', stars, 'stars_at', stars_at))
    FROM code_links WHERE stars IS NOT NULL OR stars_at IS NOT NULL ORDER BY arxiv_id"""
_STARS_STATE = "SELECT state FROM star_revision"


def _day_bounds(day: str) -> dict[str, str]:
    """``[start, end)`` as text bounds: published is UTC ISO-8601, which sorts as text."""
    following = date.fromisoformat(day) + timedelta(days=1)
    return {"start": day, "end": following.isoformat()}


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _day_parts(conn: sqlite3.Connection, bounds: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per paper of the day: its topics, code record, texts and deliveries (those it has)."""
    parts: dict[str, dict[str, Any]] = defaultdict(dict)
    for arxiv_id, topic, matched_at in conn.execute(_DAY_TOPICS, bounds):
        parts[arxiv_id].setdefault("topics", {})[topic] = matched_at
    for arxiv_id, *values in conn.execute(_DAY_CODE, bounds):
        record = dict(zip(_LINE_CODE_FIELDS, values, strict=True))
        parts[arxiv_id]["code"] = {k: v for k, v in record.items() if v is not None}
    for arxiv_id, *values in conn.execute(_DAY_TEXTS, bounds):
        parts[arxiv_id].setdefault("texts", []).append(dict(zip(_TEXT_FIELDS, values, strict=True)))
    for arxiv_id, channel, sent_at in conn.execute(_DAY_DELIVERIES, bounds):
        parts[arxiv_id].setdefault("deliveries", {})[channel] = sent_at
    for arxiv_id, topic, *values in conn.execute(_DAY_SCORES, bounds):
        scores = parts[arxiv_id].setdefault("scores", {})
        scores[topic] = dict(zip(_SCORE_FIELDS, values, strict=True))
    return parts


def render_day(conn: sqlite3.Connection, day: str) -> tuple[bytes, int]:
    """The shard of ``day`` (``YYYY-MM-DD``) as stored now: its bytes and its number of lines."""
    bounds = _day_bounds(day)
    parts = _day_parts(conn, bounds)
    lines: list[str] = []
    for row in conn.execute(_DAY_PAPERS, bounds):
        paper = dict(zip(_PAPER_FIELDS, row, strict=True))
        for name in _LIST_FIELDS:
            paper[name] = json.loads(paper[name])
        paper.update(parts.get(paper["arxiv_id"], {}))
        lines.append(_dumps(paper) + "\n")
    return "".join(lines).encode("utf-8"), len(lines)


def render_stars(conn: sqlite3.Connection) -> tuple[bytes, int]:
    """``stars.jsonl`` as stored now: its bytes and its number of lines (0: no file)."""
    lines = [row[0] for row in conn.execute(_STAR_LINES).fetchall()]
    text = "\n".join(lines) + "\n" if lines else ""
    return text.encode("utf-8"), len(lines)


def render_watermarks(conn: sqlite3.Connection) -> bytes:
    """The rows of every :data:`WATERMARKS` entry, one key per line so that it diffs."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for mark in WATERMARKS:
        cursor = conn.execute(f"SELECT * FROM {mark.table} ORDER BY {mark.key}")
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor]
        if mark.only is not None:
            rows = [row for row in rows if row[mark.key] in mark.only]
        tables.setdefault(mark.table, []).extend(rows)
    text = json.dumps(
        {"format": FORMAT_VERSION, "tables": tables}, sort_keys=True, indent=1, ensure_ascii=False
    )
    return (text + "\n").encode("utf-8")


# --- files -------------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str | None:
    try:
        return _sha256(path.read_bytes())
    except FileNotFoundError:
        return None


def _stage(path: Path, data: bytes, *, sync: bool) -> Path:
    """Write ``data`` to a temporary file next to ``path`` (same filesystem: the rename that
    follows is atomic); ``sync`` flushes it to disk first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            if sync:
                out.flush()
                os.fsync(out.fileno())
        temp.chmod(0o644)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _shard_name(day: str) -> str:
    """``papers/YYYY-MM/DD.jsonl``: a folder per month keeps every listing short."""
    return f"{PAPERS_DIR}/{day[:7]}/{day[8:]}{_SHARD_SUFFIX}"


def _shard_day(path: Path) -> str:
    return f"{path.parent.name}-{path.stem}"


def _shards(state_dir: Path) -> list[Path]:
    return sorted((state_dir / PAPERS_DIR).glob(f"*/*{_SHARD_SUFFIX}"))


def _is_shard(name: str) -> bool:
    """A manifest name of a day's paper shard (not ``stars.jsonl``)."""
    return name.startswith(f"{PAPERS_DIR}/") and name.endswith(_SHARD_SUFFIX)


def _shown(path: Path) -> str:
    """``path`` as the user would type it from the current folder."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _restore_fix(path: Path) -> str:
    return f"restore it from git: git checkout -- {_shown(path)}"


@dataclass(frozen=True)
class _Manifest:
    raw: bytes
    files: dict[str, dict[str, Any]]
    format: int

    @property
    def sha256(self) -> str:
        return _sha256(self.raw)


def _read_manifest(state_dir: Path) -> _Manifest | None:
    """The manifest as committed, or None when the state was never written."""
    path = state_dir / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        parsed = json.loads(raw)
        files = parsed["files"]
        version = parsed["format"]
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(
            f"{_shown(path)}: not a state manifest ({err})", fix=_restore_fix(path)
        ) from None
    if version not in READABLE_FORMATS:
        readable = ", ".join(map(str, READABLE_FORMATS))
        raise UserError(
            f"{_shown(path)}: state format {version}, this arxiv-radar reads {readable}",
            fix="upgrade arxiv-radar" if version > FORMAT_VERSION else _restore_fix(path),
        )
    return _Manifest(raw, files, version)


def _manifest_bytes(files: Mapping[str, Mapping[str, Any]]) -> bytes:
    text = json.dumps({"files": files, "format": FORMAT_VERSION}, sort_keys=True, indent=1)
    return (text + "\n").encode("utf-8")


def _entry(data: bytes, lines: int) -> dict[str, Any]:
    return {"lines": lines, "sha256": _sha256(data)}


# --- export ------------------------------------------------------------------------------------


@dataclass
class ExportReport:
    """What an export did: files (re)written and removed, relative to ``state_dir``."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    days: int = 0  # shards rendered (the dirty days, or all of them the first time)


def export_state(store: Store, state_dir: Path) -> ExportReport:
    """Write the shards whose content changed, then ``watermarks.json``, then the manifest.

    Only the days the triggers marked dirty are rendered, unless ``state_dir`` does not match
    the store (never written: an existing digest's first run, or a deleted folder), when every
    day is. Unchanged files are left alone, bytes and mtime. Changed files are all staged, synced
    once, then renamed into place; the manifest goes last, so a crash before it leaves files the
    next export writes again (their days stay dirty until the manifest is written).
    """
    conn = store.connection
    manifest = _read_manifest(state_dir)
    full = (
        manifest is None
        or manifest.format != FORMAT_VERSION  # an older format: every file is written again
        or store.get_meta(META_MANIFEST) != manifest.sha256
    )
    days = _export_days(conn, state_dir, full)
    stars = str(conn.execute(_STARS_STATE).fetchone()[0])
    changes = _Changes(state_dir, {} if full or manifest is None else dict(manifest.files))
    changes.report.days = len(days)
    try:
        for day in days:
            data, lines = render_day(conn, day)
            changes.put(_shard_name(day), data, lines)
        if full or store.get_meta(META_STARS) != stars:
            changes.put(STARS_FILE, *render_stars(conn))
        watermarks = render_watermarks(conn)
        changes.put(WATERMARKS_FILE, watermarks, watermarks.count(b"\n"))
        changes.apply()
        raw = _manifest_bytes(dict(sorted(changes.files.items())))
        if manifest is None or raw != manifest.raw:
            _stage(state_dir / MANIFEST, raw, sync=True).replace(state_dir / MANIFEST)
            changes.report.written.append(MANIFEST)
    except BaseException as err:
        changes.discard()
        if isinstance(err, OSError):
            raise StoreError(
                f"cannot write the state in {_shown(state_dir)}: {err}",
                fix=f"make {_shown(state_dir)} writable; the next run writes it again",
            ) from err
        raise
    with store.transaction():
        _remember_manifest(store, _sha256(raw))
        store.set_meta(META_STARS, stars)
        conn.executemany("DELETE FROM dirty_days WHERE day = ?", [(d,) for d in days])
    return changes.report


def _remember_manifest(store: Store, sha256: str) -> None:
    previous = store.get_meta(META_MANIFEST)
    if previous is not None and previous != sha256:
        earlier = [h for h in _earlier_manifests(store) if h != previous][-_EARLIER_KEPT + 1 :]
        store.set_meta(META_EARLIER_MANIFESTS, json.dumps([*earlier, previous]))
    store.set_meta(META_MANIFEST, sha256)


def _earlier_manifests(store: Store) -> list[str]:
    raw = store.get_meta(META_EARLIER_MANIFESTS)
    return [str(h) for h in json.loads(raw)] if raw else []


def _export_days(conn: sqlite3.Connection, state_dir: Path, full: bool) -> list[str]:
    """The days to render: the dirty ones; for a full export every stored day, plus the
    shards on disk (a day no paper is left in loses its file)."""
    dirty = {row[0] for row in conn.execute("SELECT day FROM dirty_days")}
    if not full:
        return sorted(dirty)
    stored = {row[0] for row in conn.execute(_DAYS)}
    on_disk = {_shard_day(path) for path in _shards(state_dir)}
    return sorted(dirty | stored | on_disk)


class _Changes:
    """The files one export changes: staged first, synced once, then renamed into place."""

    def __init__(self, state_dir: Path, files: dict[str, dict[str, Any]]) -> None:
        self.state_dir = state_dir
        self.files = files  # the manifest's entries, updated as files are put
        self.report = ExportReport()
        self._staged: list[tuple[Path, Path]] = []
        self._removed: list[Path] = []

    def put(self, name: str, data: bytes, lines: int) -> None:
        """Stage one file if its bytes differ from the manifest's (or, with no entry, the
        disk's) record of it; an empty shard is removed instead."""
        path = self.state_dir / name
        if name.endswith(_SHARD_SUFFIX) and lines == 0:
            self.files.pop(name, None)
            if path.exists():
                self._removed.append(path)
                self.report.removed.append(name)
            return
        entry = _entry(data, lines)
        known = self.files.get(name, {}).get("sha256")
        on_file = known if known is not None and path.exists() else _file_sha256(path)
        self.files[name] = entry
        if on_file != entry["sha256"]:
            self._staged.append((_stage(path, data, sync=False), path))
            self.report.written.append(name)

    def apply(self) -> None:
        # One sync for every staged file before any rename, as a publish does for its pages.
        sync_written(temp for temp, _ in self._staged)
        for temp, path in self._staged:
            temp.replace(path)
        self._staged.clear()
        for path in self._removed:
            path.unlink(missing_ok=True)
            if path.parent != self.state_dir and not any(path.parent.iterdir()):
                path.parent.rmdir()  # the month's last shard

    def discard(self) -> None:
        for temp, _ in self._staged:
            temp.unlink(missing_ok=True)


# --- rebuild -----------------------------------------------------------------------------------


def ensure_database(database: Path, state_dir: Path) -> bool:
    """Rebuild ``database`` from ``state_dir`` when it is missing or does not match the manifest.

    Returns whether it rebuilt. Without a manifest there is nothing to build from: a new digest,
    or one that only has its database so far (its next export writes the state).
    """
    manifest = _read_manifest(state_dir)
    if manifest is None:
        return False
    if database.exists():
        try:
            with Store.open(database) as store:
                if store.get_meta(META_MANIFEST) == manifest.sha256:
                    return False
                if manifest.sha256 in _earlier_manifests(store):
                    # Rebuilding would forget what the last run did (mail it sent, above all);
                    # this run's export brings the state up to the database instead.
                    log.warning(
                        "%s is behind %s (the last run's state was not committed): keeping the "
                        "database, and writing the whole state again",
                        _shown(state_dir),
                        database,
                    )
                    return False
            log.warning("%s does not match %s: rebuilding it", database, _shown(state_dir))
        except StoreError as err:  # a corrupt cache: the state has everything it held
            log.warning("%s is unusable (%s): rebuilding it from the state", database, err)
    rebuild_database(database, state_dir)
    return True


def rebuild_database(database: Path, state_dir: Path) -> int:
    """Load every shard into a fresh database next to ``database``, then rename it over.

    Indexes and triggers are dropped for the load and created again after it (a bulk load, and
    no revision or dirty-day bookkeeping per row). Returns the number of papers loaded.
    """
    manifest = _read_manifest(state_dir)
    if manifest is None:
        raise UserError(
            f"{_shown(state_dir / MANIFEST)} does not exist: nothing to rebuild from",
            fix="restore the state from git (git checkout -- state), or run without it",
        )
    temp = database.with_name(f"{database.name}.rebuild")
    _remove_database(temp)
    try:
        with Store.open(temp) as store:
            _bulk_mode(store.connection, on=True)
            papers = _load(store, state_dir, manifest)
            _bulk_mode(store.connection, on=False)
    except BaseException:
        _remove_database(temp)
        raise
    _remove_database(database)  # a stale -wal must never be replayed over the new file
    temp.replace(database)
    log.info("rebuilt %s from %s: %d papers", database, _shown(state_dir), papers)
    return papers


_BULK_ON = ("journal_mode = OFF", "synchronous = OFF", "cache_size = -65536")
_BULK_OFF = ("journal_mode = WAL", "synchronous = NORMAL")


def _bulk_mode(conn: sqlite3.Connection, *, on: bool) -> None:
    """No journal and no syncs while loading a file that is thrown away if the load fails and
    only renamed into place after it succeeded (a crash that corrupts it later makes the next
    run rebuild it again); WAL again for the store's normal use."""
    for pragma in _BULK_ON if on else _BULK_OFF:
        conn.execute(f"PRAGMA {pragma}")


def _remove_database(path: Path) -> None:
    for suffix in ("-wal", "-shm", ""):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _load(store: Store, state_dir: Path, manifest: _Manifest) -> int:
    conn = store.connection
    shards = _shards(state_dir)
    digests: dict[str, str] = {}
    with store.transaction():
        schema = _drop_schema_extras(conn)
        for shard in shards:
            digests[_shard_name(_shard_day(shard))] = _load_shard(conn, shard)
        stars = _load_stars(conn, state_dir / STARS_FILE)
        _load_watermarks(conn, state_dir / WATERMARKS_FILE)
        for statement in schema:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)", (META_MANIFEST, manifest.sha256)
        )
        # Files that disagree with the manifest are written again (normalised) by the next
        # export, and the manifest with them.
        mismatched = _mismatched(digests, manifest)
        conn.executemany(
            "INSERT OR IGNORE INTO dirty_days (day) VALUES (?)",
            [(_shard_day(Path(name)),) for name in mismatched if _is_shard(name)],
        )
        # The stars file as loaded, unless it disagreed with the manifest: then the next
        # export renders it again.
        if manifest.files.get(STARS_FILE, {}).get("sha256") == stars:
            counter = str(conn.execute(_STARS_STATE).fetchone()[0])
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (META_STARS, counter))
        elif stars is not None or STARS_FILE in manifest.files:
            mismatched.append(STARS_FILE)
    if mismatched:
        log.warning("loaded state files that differ from the manifest: %s", ", ".join(mismatched))
    return int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])


def _mismatched(digests: Mapping[str, str], manifest: _Manifest) -> list[str]:
    """Shards missing, unlisted, or whose sha256 differs from their manifest entry."""
    listed = {name for name in manifest.files if _is_shard(name)}
    odd = (listed - set(digests)) | {
        name
        for name, digest in digests.items()
        if manifest.files.get(name, {}).get("sha256") != digest
    }
    return sorted(odd)


def _drop_schema_extras(conn: sqlite3.Connection) -> list[str]:
    """Drop every index and trigger; return the statements that create them again."""
    rows = conn.execute(
        """SELECT type, name, sql FROM sqlite_master
        WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"""
    ).fetchall()
    for kind, name, _ in rows:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _, _, sql in rows]


_INSERT_PAPER = f"""INSERT INTO papers ({", ".join(_PAPER_FIELDS)}, last_seen)
    VALUES ({", ".join("?" * len(_PAPER_FIELDS))}, ?)"""
_INSERT_TOPIC = """INSERT INTO topic_papers (topic, arxiv_id, matched_at, published)
    VALUES (?, ?, ?, ?)"""
_INSERT_CODE = f"""INSERT INTO code_links (arxiv_id, {", ".join(_CODE_FIELDS)})
    VALUES (?{", ?" * len(_CODE_FIELDS)})"""
_INSERT_TEXT = f"""INSERT INTO texts (arxiv_id, {", ".join(_TEXT_FIELDS)})
    VALUES (?{", ?" * len(_TEXT_FIELDS)})"""
_INSERT_DELIVERY = "INSERT INTO deliveries (channel, arxiv_id, sent_at) VALUES (?, ?, ?)"
_INSERT_SCORE = f"""INSERT INTO rank_scores (topic, arxiv_id, {", ".join(_SCORE_FIELDS)})
    VALUES (?, ?{", ?" * len(_SCORE_FIELDS)})"""


@dataclass
class _Rows:
    """One shard's rows, per table, ready for executemany."""

    papers: list[tuple[Any, ...]] = field(default_factory=list)
    topics: list[tuple[Any, ...]] = field(default_factory=list)
    code: list[tuple[Any, ...]] = field(default_factory=list)
    texts: list[tuple[Any, ...]] = field(default_factory=list)
    deliveries: list[tuple[Any, ...]] = field(default_factory=list)
    scores: list[tuple[Any, ...]] = field(default_factory=list)

    def insert(self, conn: sqlite3.Connection) -> None:
        conn.executemany(_INSERT_PAPER, self.papers)
        conn.executemany(_INSERT_TOPIC, self.topics)
        conn.executemany(_INSERT_CODE, self.code)
        conn.executemany(_INSERT_TEXT, self.texts)
        conn.executemany(_INSERT_DELIVERY, self.deliveries)
        conn.executemany(_INSERT_SCORE, self.scores)


class _BadLine(ValueError):
    """A shard line that is not a paper line; the message says what is wrong with it."""


def _load_shard(conn: sqlite3.Connection, path: Path) -> str:
    """Insert one shard's rows (read once: parsed and hashed); returns its sha256."""
    data = path.read_bytes()
    rows = _Rows()
    day = _shard_day(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"{_shown(path)}: not UTF-8 text ({err})", fix=_restore_fix(path)) from None
    # Only "\n" ends a line: the JSON escapes it in strings, not U+2028 or other separators.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        try:
            _add_line(rows, _decode(line), day)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise UserError(
                f"{_shown(path)} line {number}: not a valid paper line ({_reason(err)})",
                fix=_restore_fix(path),
            ) from None
    try:
        rows.insert(conn)
    except sqlite3.IntegrityError as err:
        raise UserError(
            f"{_shown(path)}: a paper, membership or text appears twice ({err})",
            fix=_restore_fix(path),
        ) from None
    return _sha256(data)


# Lines are written compact, with no surrounding whitespace: raw_decode skips json.loads' checks.
_JSON = json.JSONDecoder()


def _decode(line: str) -> Any:
    value, end = _JSON.raw_decode(line)
    if end != len(line):
        raise _BadLine(f"text after the JSON object at column {end + 1}")
    return value


def _reason(err: Exception) -> str:
    if isinstance(err, KeyError):
        return f"missing {err}"
    return " ".join(str(err).split())[:200]


def _add_line(rows: _Rows, line: Any, day: str) -> None:
    if not isinstance(line, dict):
        raise _BadLine("not a JSON object")
    for name, kind in _PAPER_FIELDS.items():
        if not isinstance(line.get(name), kind):
            raise _BadLine(f"{name!r} is missing or not a {kind.__name__}")
    arxiv_id, published = line["arxiv_id"], line["published"]
    if published[:10] != day:
        raise _BadLine(f"{arxiv_id} was published on {published[:10]}, not {day}")
    values = [json.dumps(line[n]) if n in _LIST_FIELDS else line[n] for n in _PAPER_FIELDS]
    rows.papers.append((*values, line["first_seen"]))
    _add_enrichments(rows, line, arxiv_id, published)


def _add_enrichments(rows: _Rows, line: dict[str, Any], arxiv_id: str, published: str) -> None:
    """A paper line's parts beside its metadata: memberships, code, texts, deliveries, scores."""
    for topic, matched_at in _mapping(line, "topics"):
        rows.topics.append((topic, arxiv_id, matched_at, published))
    code = line.get("code")
    if code is not None:
        rows.code.append((arxiv_id, *(code.get(name) for name in _CODE_FIELDS)))
    for text in line.get("texts", ()):
        rows.texts.append((arxiv_id, *(text[name] for name in _TEXT_FIELDS)))
    for channel, sent_at in _mapping(line, "deliveries"):
        rows.deliveries.append((channel, arxiv_id, sent_at))
    scores = line.get("scores", {})
    if not isinstance(scores, dict):
        raise _BadLine("'scores' is not an object")
    for topic, score in scores.items():
        rows.scores.append((topic, arxiv_id, *(score[name] for name in _SCORE_FIELDS)))


def _mapping(line: dict[str, Any], name: str) -> Iterable[tuple[str, str]]:
    value = line.get(name, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _BadLine(f"{name!r} is not an object of strings")
    return value.items()


_SET_STARS = "UPDATE code_links SET stars = ?, stars_at = ? WHERE arxiv_id = ?"
_STAR_TYPES: tuple[type | tuple[type, ...], ...] = ((int, type(None)), (str, type(None)), str)


def _load_stars(conn: sqlite3.Connection, path: Path) -> str | None:
    """Set the star counts of ``stars.jsonl`` on the code links loaded from the shards; returns
    the file's sha256, None when there is none (no counts, or a format 1 state)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        try:
            row = _decode(line)
            values = (row.get("stars"), row.get("stars_at"), row["arxiv_id"])
            if not all(isinstance(v, kind) for v, kind in zip(values, _STAR_TYPES, strict=True)):
                raise _BadLine("'arxiv_id', 'stars' or 'stars_at' has the wrong type")
            if conn.execute(_SET_STARS, values).rowcount != 1:
                raise _BadLine(f"{row['arxiv_id']} has no code link in the paper shards")
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise UserError(
                f"{_shown(path)} line {number}: not a valid star count line ({_reason(err)})",
                fix=_restore_fix(path),
            ) from None
    return _sha256(data)


def _load_watermarks(conn: sqlite3.Connection, path: Path) -> None:
    """Insert the rows of ``watermarks.json`` into the tables :data:`WATERMARKS` names (only
    those tables, only their real columns: the file is data, not SQL)."""
    try:
        tables = json.loads(path.read_bytes())["tables"]
        for mark in {mark.table: mark for mark in WATERMARKS}.values():
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({mark.table})")}
            for row in tables.get(mark.table, []):
                _insert_row(conn, mark.table, columns, row)
    except FileNotFoundError:
        log.warning("%s is missing: the next run starts without progress", _shown(path))
    except (ValueError, KeyError, TypeError, AttributeError, sqlite3.Error) as err:
        raise UserError(
            f"{_shown(path)}: not valid watermarks ({err})", fix=_restore_fix(path)
        ) from None


def _insert_row(
    conn: sqlite3.Connection, table: str, columns: set[str], row: Mapping[str, Any]
) -> None:
    unknown = set(row) - columns
    if unknown:
        raise KeyError(f"{table} has no column {sorted(unknown)[0]}")
    names = sorted(row)
    marks = ", ".join("?" * len(names))
    conn.execute(
        f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) VALUES ({marks})",
        [row[name] for name in names],
    )


# --- agreement (doctor) ------------------------------------------------------------------------


@dataclass(frozen=True)
class StateDifference:
    """One file where the state and its manifest, or the state and the database, disagree."""

    name: str
    problem: str


@dataclass(frozen=True)
class StateComparison:
    """What :func:`compare_state` found: the differences, how many files it checked, and
    whether the store last wrote or loaded another manifest (the next run rebuilds it)."""

    differences: list[StateDifference]
    checked: int
    stale: bool


def compare_state(store: Store, state_dir: Path) -> StateComparison:
    """Each file against the manifest (hash and lines), and each day's shard against the
    database (papers per shard, and a content digest: the shard the database would write)."""
    manifest = _read_manifest(state_dir)
    if manifest is None:
        return StateComparison([StateDifference(MANIFEST, "missing")], 0, stale=True)
    if manifest.format != FORMAT_VERSION:
        problem = f"state format {manifest.format}: the next run writes it in {FORMAT_VERSION}"
        return StateComparison([StateDifference(MANIFEST, problem)], 1, stale=True)
    found: list[StateDifference] = []
    days = {row[0] for row in store.connection.execute(_DAYS)}
    listed = {_shard_day(Path(n)) for n in manifest.files if _is_shard(n)}
    names = [_shard_name(d) for d in sorted(days | listed)] + [WATERMARKS_FILE]
    if STARS_FILE in manifest.files or render_stars(store.connection)[1]:
        names.append(STARS_FILE)
    for name in names:
        found += _compare_file(store.connection, state_dir, name, manifest.files.get(name))
    stale = store.get_meta(META_MANIFEST) != manifest.sha256
    return StateComparison(found, len(names), stale=stale)


def _compare_file(
    conn: sqlite3.Connection, state_dir: Path, name: str, entry: Mapping[str, Any] | None
) -> Iterator[StateDifference]:
    path = state_dir / name
    data = path.read_bytes() if path.exists() else None
    if entry is None:
        yield StateDifference(name, "not in the manifest")
    elif data is None:
        yield StateDifference(name, "in the manifest but missing")
    elif entry != _entry(data, data.count(b"\n")):
        yield StateDifference(name, "differs from its manifest entry (hash or line count)")
    if name == WATERMARKS_FILE:
        expected, lines = render_watermarks(conn), -1
    elif name == STARS_FILE:
        expected, lines = render_stars(conn)
    else:
        expected, lines = render_day(conn, _shard_day(path))
    if data != expected:
        held = "no" if data is None else str(data.count(b"\n"))
        count = f"{lines} papers in the database, {held} in the file; " if lines >= 0 else ""
        yield StateDifference(name, f"{count}content differs from the database")
