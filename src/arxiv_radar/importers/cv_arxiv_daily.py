"""`arxiv-radar import cv-arxiv-daily`: switch a cv-arxiv-daily fork over, keeping its history.

A fork holds a ``config.yaml`` (``keywords: {Topic: {filters: [...]}}``) and ``docs/*.json`` files
(``{topic: {arxiv_id: pre-rendered Markdown row}}``). The import:

* reads every id of every JSON file the config names, under every topic it was filed under;
* fetches their metadata through the API ``id_list``, 100 ids per request at the polite
  interval, committing each batch, so an interrupted import continues where it stopped (ids
  already stored are not asked again; ids arXiv answered nothing for are kept in a checkpoint
  and reported, not asked again);
* stores each paper as first seen on its first-published date (it is history: it must not
  reach the next email digest or the top of the feeds as news), files it under its topics, and
  keeps the old rows' code links with provenance ``imported``; papers without one join the
  code-link schedule as a backlog that later runs work through within
  ``code_links.backlog_per_run`` (see :func:`arxiv_radar.enrich.codelinks.schedule_position`);
* writes ``arxiv-radar.yml`` last, with the listing categories of the imported papers.

Running it again changes nothing: no byte of the config, no row of the store.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from arxiv_radar.config import Workspace, load_workspace, parse_config
from arxiv_radar.enrich.codelinks import next_check, schedule_position
from arxiv_radar.enrich.links import normalise_repo_url
from arxiv_radar.errors import FetchError, UserError
from arxiv_radar.http import PoliteClient
from arxiv_radar.importers.cv_arxiv_daily_config import ConfigTranslation, translate_config
from arxiv_radar.lock import workspace_lock
from arxiv_radar.names import DEFAULT_CONFIG_NAME
from arxiv_radar.paper import Paper, split_version
from arxiv_radar.pipeline import http_settings
from arxiv_radar.publish.files import write_if_changed
from arxiv_radar.records import CodeOutcome
from arxiv_radar.sources.arxiv_api import ID_BATCH, ArxivAPI
from arxiv_radar.store import Store

__all__ = [
    "CHECKPOINT",
    "Fork",
    "ImportOutcome",
    "ImportReport",
    "OldRow",
    "Progress",
    "import_history",
    "listing_categories",
    "read_fork",
    "run_import",
    "summary_lines",
]

log = logging.getLogger(__name__)

CHECKPOINT = "import:cv-arxiv-daily"
SOURCE = "import"  # papers.source of imported papers
CODE_SOURCE = "imported"  # code_links.source of links kept from the old rows
_JSON_KEYS = ("json_readme_path", "json_gitpage_path", "json_wechat_path")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
# The Code cell, ``**[link](url)**``; titles are bold too but never a link, the PDF link never bold.
_CODE = re.compile(r"\*\*\[[^\]]*\]\((https?://[^\s)]+)\)\*\*")
_RESUME = "run the same command again: it continues with the papers not fetched yet"
_SHARE = 0.05  # a primary category holding this share of the imported papers is listed
_MAX_CATEGORIES = 6

Progress = Callable[[int, int], None]
"""Called with (ids fetched so far, ids to fetch) after each API batch."""


@dataclass(frozen=True)
class OldRow:
    """One row of a fork's JSON file: the id, the topic it was filed under, what it showed."""

    topic: str
    arxiv_id: str
    shown_date: date | None  # cv-arxiv-daily showed the last-updated date
    code_url: str | None


@dataclass(frozen=True)
class Fork:
    """A cv-arxiv-daily fork's config and history, read and checked, nothing written yet."""

    root: Path
    config_path: Path
    translation: ConfigTranslation
    json_paths: tuple[Path, ...]
    rows: tuple[OldRow, ...]
    unreadable: tuple[str, ...]  # JSON keys that are not arXiv ids

    @property
    def ids(self) -> list[str]:
        """Unique ids, sorted: batches (and so requests) are the same on every run."""
        return sorted({row.arxiv_id for row in self.rows})

    def topic_ids(self) -> dict[str, list[str]]:
        """Topic -> its ids, topics in config order, then topics only the JSON files know."""
        topics: dict[str, list[str]] = {t.name: [] for t in self.translation.topics}
        for row in self.rows:
            topics.setdefault(row.topic, []).append(row.arxiv_id)
        return {name: sorted(set(ids)) for name, ids in topics.items()}


@dataclass
class ImportReport:
    """The figures the summary prints: what was read, fetched, kept and what failed."""

    rows: int = 0
    unique_ids: int = 0
    requests: int = 0
    fetched: int = 0  # papers stored by this run (0 when everything was already imported)
    stored: int = 0  # imported ids now in the store
    missing: list[str] = field(default_factory=list)  # ids arXiv answered nothing for
    unreadable: list[str] = field(default_factory=list)
    per_topic: dict[str, int] = field(default_factory=dict)
    orphan_topics: list[str] = field(default_factory=list)  # in the JSON, not in config.yaml
    dates_changed: int = 0
    code_kept: int = 0
    backlog: int = 0  # imported papers still due a code-link check (by later runs)
    memberships_added: int = 0
    categories: list[str] = field(default_factory=list)  # listings for arxiv-radar.yml


def _not_a_fork(root: Path, config_path: Path, why: str) -> UserError:
    return UserError(
        f"{root} does not look like a cv-arxiv-daily fork: looked for {config_path} with a "
        f"top-level `keywords:` mapping and the docs/*.json files it names ({why})"
    )


def read_fork(root: Path, config: Path | None = None, json_paths: Sequence[Path] = ()) -> Fork:
    """Read ``config.yaml`` and the history files; raise UserError naming what is missing."""
    config_path = config if config is not None else root / "config.yaml"
    settings = _read_settings(root, config_path)
    translation = translate_config(settings, config_path.name)
    paths = tuple(json_paths) or _configured_json(root, settings)
    if not paths:
        named = ", ".join(str(settings.get(k)) for k in _JSON_KEYS if settings.get(k))
        raise _not_a_fork(root, config_path, f"none of {named or 'json_readme_path'} exists")
    rows: list[OldRow] = []
    unreadable: list[str] = []
    for path in paths:
        file_rows, bad = _read_json(path)
        rows += file_rows
        unreadable += bad
    return Fork(root, config_path, translation, paths, tuple(rows), tuple(sorted(set(unreadable))))


def _read_settings(root: Path, config_path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _not_a_fork(root, config_path, "it does not exist") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        reason = " ".join(str(err).split())
        raise UserError(
            f"{config_path}: cannot read it: {reason}", fix="check the file's YAML"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("keywords"), dict):
        raise _not_a_fork(root, config_path, "it has no `keywords:` mapping")
    return data


def _configured_json(root: Path, settings: Mapping[str, Any]) -> tuple[Path, ...]:
    """The JSON files the config names that exist, each once (forks often point two at one)."""
    found: dict[Path, None] = {}
    for key in _JSON_KEYS:
        value = settings.get(key)
        if isinstance(value, str) and value.strip():
            path = root / value.strip()
            if path.is_file():
                found[path.resolve()] = None
    return tuple(found)


def _read_json(path: Path) -> tuple[list[OldRow], list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file", fix="check the --json path") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise UserError(f"{path}: not a readable JSON file: {err}", fix="check the file") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise UserError(
            f"{path}: expected cv-arxiv-daily's {{topic: {{arxiv_id: row}}}} mapping",
            fix="pass the docs/*.json file that daily_arxiv.py writes",
        )
    rows: list[OldRow] = []
    unreadable: list[str] = []
    for topic, entries in data.items():
        for key, row in entries.items():
            try:
                arxiv_id, _version = split_version(str(key))
            except ValueError:
                unreadable.append(str(key))
                continue
            rows.append(_old_row(str(topic), arxiv_id, row if isinstance(row, str) else ""))
    return rows, unreadable


def _old_row(topic: str, arxiv_id: str, row: str) -> OldRow:
    shown = _DATE.search(row)
    code = _CODE.search(row)
    url = code.group(1) if code else None
    return OldRow(
        topic=topic,
        arxiv_id=arxiv_id,
        shown_date=date.fromisoformat(shown.group(1)) if shown else None,
        code_url=(normalise_repo_url(url) or url) if url else None,
    )


def import_history(
    fork: Fork, store: Store, api: ArxivAPI, *, now: datetime, progress: Progress | None = None
) -> ImportReport:
    """Fetch what the store lacks, then file every stored id under its topics and seed code
    links; each API batch is its own transaction (the resume point)."""
    ids = fork.ids
    report = ImportReport(len(fork.rows), len(ids), unreadable=list(fork.unreadable))
    missing = set((store.get_checkpoint(CHECKPOINT) or {}).get("missing", []))
    known = store.known_ids(ids)
    pending = [i for i in ids if i not in known and i not in missing]
    for done, batch in enumerate(_batches(pending), start=1):
        papers, lost = api.lookup_ids(batch)
        report.requests += 1
        with store.transaction():
            for paper in papers:
                # First seen on its first-published date: history, not news (see module doc).
                store.upsert_papers([paper], seen_at=paper.published, source=SOURCE)
            report.fetched += len(papers)
            if lost:
                log.info("arXiv knows no paper for %s", ", ".join(lost))
                missing.update(lost)
                store.set_checkpoint(CHECKPOINT, {"missing": sorted(missing)}, at=now)
        if progress is not None:
            progress(min(done * ID_BATCH, len(pending)), len(pending))
    report.missing = sorted(missing & set(ids))
    _file_history(fork, store, report, now)
    return report


def _batches(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), ID_BATCH):
        yield list(ids[start : start + ID_BATCH])


def _file_history(fork: Fork, store: Store, report: ImportReport, now: datetime) -> None:
    """Memberships, code links and the date comparison, for every imported id now stored."""
    stored = store.known_ids(fork.ids)
    papers = {i: p for i in sorted(stored) if (p := store.get_paper(i)) is not None}
    configured = {t.name for t in fork.translation.topics}
    with store.transaction():
        for topic, ids in fork.topic_ids().items():
            kept = [i for i in ids if i in stored]
            report.memberships_added += store.add_matches(topic, kept, matched_at=now)
            report.per_topic[topic] = store.topic_count(topic)
            if topic not in configured:
                report.orphan_topics.append(topic)
        store.seed_code_links(_code_seeds(fork.rows, papers, now))
    report.stored = len(papers)
    report.code_kept = sum(1 for i in _old_code(fork.rows) if i in papers)
    due = {candidate.paper.arxiv_id for candidate in store.papers_needing_code(now)}
    report.backlog = len(due & stored)
    report.dates_changed = _dates_changed(fork.rows, papers)
    report.categories = listing_categories(list(papers.values()))


def _old_code(rows: Sequence[OldRow]) -> dict[str, str]:
    """Id -> the code link an old row named (the first one, in file order)."""
    links: dict[str, str] = {}
    for row in rows:
        if row.code_url is not None:
            links.setdefault(row.arxiv_id, row.code_url)
    return links


def _code_seeds(
    rows: Sequence[OldRow], papers: Mapping[str, Paper], now: datetime
) -> dict[str, CodeOutcome]:
    """A kept link ends the paper's schedule; a paper without one enters it where its age puts
    it (a year-old paper gets one last check), due now but within the per-run backlog budget.
    Only papers without a code-links row get one (see Store.seed_code_links)."""
    links = _old_code(rows)
    seeds: dict[str, CodeOutcome] = {}
    for arxiv_id, paper in papers.items():
        url = links.get(arxiv_id)
        attempts = 0 if url else schedule_position(paper.published, now)
        seeds[arxiv_id] = CodeOutcome(
            code_url=url,
            project_url=None,
            stars=None,
            source=CODE_SOURCE,
            at=now,
            attempts=attempts,
            next_check=None if url else max(now, next_check(paper.published, attempts) or now),
        )
    return seeds


def _dates_changed(rows: Sequence[OldRow], papers: Mapping[str, Paper]) -> int:
    """Papers whose old row showed another date than arXiv's first-published one."""
    changed = {
        row.arxiv_id
        for row in rows
        if row.arxiv_id in papers
        and row.shown_date is not None
        and row.shown_date != papers[row.arxiv_id].published.date()
    }
    return len(changed)


def listing_categories(papers: Sequence[Paper]) -> list[str]:
    """The primary categories holding at least 5% of ``papers`` (at least the commonest one)."""
    counts = Counter(paper.primary_category for paper in papers if paper.primary_category)
    if not counts:
        return ["cs.CV"]
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    total = sum(counts.values())
    chosen = [code for code, count in ranked if count / total >= _SHARE][:_MAX_CATEGORIES]
    return sorted(chosen or [ranked[0][0]])


def _provisional_workspace(fork: Fork, env: Mapping[str, str]) -> Workspace:
    """The config to import with: an arxiv-radar.yml already there (a second import, or one the
    user edited) wins; otherwise the translation, with a listing category to be replaced once
    the imported papers say which ones matter."""
    target = fork.root / DEFAULT_CONFIG_NAME
    if target.exists():
        return load_workspace(target, env=env)
    config = parse_config(fork.translation.render(["cs.CV"]), str(target), env)
    return Workspace(config=config, root=fork.root.resolve(), path=target)


@dataclass(frozen=True)
class ImportOutcome:
    """The import's figures plus what happened to arxiv-radar.yml."""

    fork: Fork
    report: ImportReport
    config_path: Path
    config_status: str  # "written", "unchanged", or "kept" (edited by the user; no --force)
    database: Path


def run_import(
    root: Path,
    *,
    config: Path | None = None,
    json_paths: Sequence[Path] = (),
    force: bool = False,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportOutcome:
    """The whole command: read the fork, import its history, then write arxiv-radar.yml."""
    env = os.environ if env is None else env
    now = now or datetime.now(timezone.utc)
    fork = read_fork(root, config, json_paths)
    workspace = _provisional_workspace(fork, env)
    with (
        workspace_lock(workspace.database),
        Store.open(workspace.database) as store,
        PoliteClient(http_settings(workspace)) as client,
    ):
        api = ArxivAPI(client, workspace.config.endpoints.api_url)
        try:
            report = import_history(fork, store, api, now=now, progress=progress)
        except FetchError as err:
            raise FetchError(err.message, url=err.url, fix=_RESUME) from err
    target = fork.root / DEFAULT_CONFIG_NAME
    text = fork.translation.render(report.categories)
    status = _write_config(target, text, force=force)
    return ImportOutcome(fork, report, target, status, workspace.database)


def _write_config(target: Path, text: str, *, force: bool) -> str:
    if target.exists() and not force:
        return "unchanged" if target.read_bytes() == text.encode("utf-8") else "kept"
    return "written" if write_if_changed(target, text) else "unchanged"


_OLD_WORKFLOWS = (
    ".github/workflows/cv-arxiv-daily.yml",
    ".github/workflows/update_paper_links.yml",
)
_SHOWN_IDS = 10


def summary_lines(outcome: ImportOutcome) -> list[str]:
    """What the command prints after the progress bar: figures, differences, next steps."""
    report, fork = outcome.report, outcome.fork
    lines = [
        f"Read {report.rows} rows ({report.unique_ids} unique ids) from "
        + ", ".join(_shown(path, fork.root) for path in fork.json_paths),
        f"Imported {report.stored} papers ({report.fetched} fetched now in {report.requests} "
        f"request(s)) into {_shown(outcome.database, fork.root)}",
    ]
    lines += [f"  {topic}: {count} papers" for topic, count in report.per_topic.items()]
    lines += _problems(report)
    lines += [
        f"Kept {report.code_kept} code links from the old rows (provenance: imported); "
        f"{report.backlog} papers without one are checked by later runs, "
        "code_links.backlog_per_run per run",
        f"{_shown(outcome.config_path, fork.root)}: {_CONFIG_STATUS[outcome.config_status]}",
    ]
    lines += [f"  {key}: {note}" for key, note in fork.translation.dropped]
    lines += _differences(report, fork.translation)
    lines += _next_steps(fork.root)
    return lines


_CONFIG_STATUS = {
    "written": "written",
    "unchanged": "unchanged",
    "kept": "kept as you edited it (--force rewrites it from config.yaml)",
}


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _problems(report: ImportReport) -> list[str]:
    lines: list[str] = []
    if report.missing:
        shown = ", ".join(report.missing[:_SHOWN_IDS])
        more = ", ..." if len(report.missing) > _SHOWN_IDS else ""
        lines.append(f"Failed: arXiv knows no paper for {len(report.missing)} id(s): {shown}{more}")
    if report.unreadable:
        shown = ", ".join(repr(key) for key in report.unreadable[:_SHOWN_IDS])
        lines.append(f"Failed: {len(report.unreadable)} JSON key(s) are not arXiv ids: {shown}")
    lines += [
        f"Note: topic {topic!r} is in the JSON files but not in config.yaml: its papers are "
        "stored under it but shown only if arxiv-radar.yml gets a topic of that name"
        for topic in report.orphan_topics
    ]
    return lines


def _differences(report: ImportReport, translation: ConfigTranslation) -> list[str]:
    return [
        "What will look different in the README:",
        f"  dates are first-published (v1) dates, not last-updated ones: {report.dates_changed} "
        "papers change date",
        f"  {translation.readme} keeps the newest rows of each topic (output.readme_rows); "
        f"older rows move to monthly archive pages in {translation.docs_dir}/",
        "  the Code cell shows **[code](url)** with stars when known, and stays empty "
        "instead of null",
    ]


def _next_steps(root: Path) -> list[str]:
    old = [name for name in (*_OLD_WORKFLOWS, "daily_arxiv.py") if (root / name).exists()]
    remove = ", ".join(old) if old else "the old workflow files and daily_arxiv.py"
    return [
        "Next: `arxiv-radar run` to publish, `arxiv-radar init --github` for the new workflow, "
        f"then remove {remove}",
    ]
