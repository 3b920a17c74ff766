"""Issue 10's figures at 100k and 400k stored papers of cs.* density, each beside its target.

The store is real text at cs.* density (benchmarks/corpus_store.py: 12,500 papers a month,
20 topics, code links, translations, deliveries), built once per size into the work folder
and reused (keyed by size, :data:`VERSION`, the history's last day and a fingerprint of the
installed arxiv_radar code, so a merge is measured on a store its own code filled). Everything
is measured through the public CLI, as subprocesses, on copies of that workspace:

1. cold publish: ``arxiv-radar publish`` into an empty docs folder;
2. daily publish: one new listing day (~600 papers in their topics), then ``publish``;
3. the same with changes in 5 old months (4 code links, 1 translation), with files and MB
   rewritten;
4. the whole daily ``arxiv-radar run`` against local fake servers (arXiv RSS and API, Hugging
   Face, Papers with Code, GitHub, SMTP), every interval 0, for one new listing day, on a
   workspace published the day before (an untimed ``publish`` first); the ratio between the
   sizes (no chat destination: its 1 s pause between messages, Slack's
   rate limit, is not configurable, and would be most of the time);
5. rebuilding the database from the state shards (delete it, run ``arxiv-radar notify`` with
   no destination: the command rebuilds it first, then has nothing to send);
6. published bytes per paper, by top-level folder or file kind;
7. git pack growth per daily commit after ``git gc``, in kB per new paper; "proportional to
   the day's new data" is judged as at most 3x the zlib size of the day's new state shard
   (one copy of each paper in state/, at most two on the site), and the ratio between the
   sizes is printed (about 1x when the growth does not depend on the history);
8. the largest committed or published file;
9. ``arxiv-radar --help``.

Usage: python benchmarks/bench_scale.py [--sizes 100000,400000] [--runs 3] [--work DIR]
       [--daily 600] [--help-runs 20] [--git-cycles 3] [--only 1,2,...,9]
       [--today YYYY-MM-DD] [--corpus PATH]
The 400k size needs about 12 GB of disk in the work folder and some minutes per figure.
``--today`` (default: the real date) only names the day the history is laid out from; the run
of figure 4 reads the real clock, so an old ``--today`` makes re-checks and star counts due.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import arxiv_radar
from arxiv_radar.paper import Paper
from arxiv_radar.store import Store

if TYPE_CHECKING:
    from tests.servers.http import LocalServer, Request

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.servers, the fake services
from corpus_store import (
    CJK_POOL,
    CORPUS,
    DAYS_AFTER,
    TOPIC_CODES,
    TRANSLATION,
    CodeOutcome,
    Filler,
    Numbers,
    Plan,
    Record,
    build_history,
    corpus_available,
    day_papers,
    first_seen,
    iter_day_numbers,
    load_corpus,
    plan,
    repo_url,
)

VERSION = "2"  # bump when the generated data changes
DEFAULT_WORK = Path("/tmp/arxiv-radar-scale")
DATABASE = "arxiv-radar.db"
RUN_CONFIG = "run.yml"
MB = 1e6
_CONFIG_HEAD = "repository: bench/digest\ncategories: [cs]\n"
TOPICS = "topics:\n" + "".join(
    f"  - name: {code}\n    query: 'cat:{code}'\n    categories: [{code}]\n" for code in TOPIC_CODES
)
CONFIG = _CONFIG_HEAD + TOPICS


class CommandFailed(RuntimeError):
    """An arxiv-radar subprocess exited non-zero (or a check after it failed)."""


# --- running the CLI --------------------------------------------------------------------------


def executable() -> str:
    beside = Path(sys.executable).with_name("arxiv-radar")
    found = str(beside) if beside.exists() else shutil.which("arxiv-radar")
    if found is None:
        raise SystemExit("arxiv-radar is not installed in this Python (pip install -e .)")
    return found


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "(no output)")


def cli(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds of one ``arxiv-radar ARGS`` in ``cwd``; raises CommandFailed on exit != 0."""
    started = time.perf_counter()
    result = subprocess.run(
        [executable(), *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        message = first_line(result.stderr or result.stdout)
        raise CommandFailed(f"arxiv-radar {' '.join(args)} exited {result.returncode}: {message}")
    return wall


def git(args: Sequence[str], cwd: Path) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@invalid", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandFailed(f"git {' '.join(args)}: {first_line(result.stderr)}")
    return result.stdout


# --- printing ---------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@dataclass
class Table:
    """Every figure printed, by size: the Markdown table the issue's closing note asks for."""

    column: str = "all sizes"
    columns: list[str] = field(default_factory=list)
    rows: dict[tuple[str, str], tuple[str, dict[str, str]]] = field(default_factory=dict)

    def start(self, column: str) -> None:
        self.column = column
        self.columns.append(column)

    def add(self, number: str, label: str, value: str, target: str, ok: bool | None) -> None:
        failed = target.startswith("error:")
        known, cells = self.rows.get((number, label), (target, {}))
        if known.startswith("error:") and not failed:
            known = target
        cells[self.column] = (
            "error (above)"
            if failed
            else f"{value} {verdict(ok) if ok is not None else ''}".strip()
        )
        self.rows[(number, label)] = (known, cells)

    def render(self) -> str:
        columns = [*self.columns, "all sizes"]
        used = [c for c in columns if any(c in cells for _, cells in self.rows.values())]
        lines = [
            "| figure | target | " + " | ".join(used) + " |",
            "| --- | --- |" + " --- |" * len(used),
        ]
        for (number, label), (target, cells) in sorted(
            self.rows.items(), key=lambda kv: int(kv[0][0].rstrip("."))
        ):
            values = " | ".join(cells.get(c, "") for c in used)
            lines.append(f"| {number} {label} | {target} | {values} |")
        return "\n".join(lines)


TABLE = Table()


def figure(number: str, label: str, value: str, target: str, ok: bool | None) -> None:
    mark = "" if ok is None else verdict(ok)
    print(f"  {number:>3} {label:<46} {value:>24}   {target:<30} {mark}", flush=True)
    TABLE.add(number, label, value, target, ok)


def note(text: str) -> None:
    print(f"        {text}", flush=True)


def seconds(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} s"


def runs_note(values: Sequence[float]) -> None:
    note("runs: " + ", ".join(f"{v:.2f} s" for v in values))


@contextmanager
def guarded(number: str, label: str) -> Iterator[None]:
    """A figure whose command fails prints FAIL with the error's first line; the rest go on."""
    try:
        yield
    except Exception as err:  # the benchmark reports every failure and carries on
        figure(number, label, "-", f"error: {first_line(str(err))}", False)


# --- files ------------------------------------------------------------------------------------


Snapshot = dict[str, tuple[int, int, int]]  # path -> (size, mtime_ns, inode)


def published_files(folder: Path) -> Iterator[Path]:
    """What a digest commits or publishes: README.md, docs/ and state/ (never the database)."""
    readme = folder / "README.md"
    if readme.is_file():
        yield readme
    for sub in ("docs", "state"):
        yield from (p for p in (folder / sub).rglob("*") if p.is_file())


def snapshot(folder: Path) -> Snapshot:
    shot = {}
    for path in published_files(folder):
        info = path.stat()
        shot[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return shot


@dataclass
class Rewrite:
    files: int
    megabytes: float
    new: list[str]


def rewritten(before: Snapshot, after: Snapshot) -> Rewrite:
    changed = [name for name, info in after.items() if before.get(name) != info]
    new = [name for name in changed if name not in before]
    return Rewrite(len(changed), sum(after[n][0] for n in changed) / MB, new)


def kind(relative: Path) -> str:
    """docs/<folder>/ for a file in a folder of docs, else its extension at the top."""
    parts = relative.parts
    return f"{parts[0]}/" if len(parts) > 1 else f"*{relative.suffix or relative.name}"


def breakdown(docs: Path) -> dict[str, tuple[int, int]]:
    kinds: dict[str, tuple[int, int]] = {}
    for path in (p for p in docs.rglob("*") if p.is_file()):
        key = kind(path.relative_to(docs))
        files, size = kinds.get(key, (0, 0))
        kinds[key] = (files + 1, size + path.stat().st_size)
    return kinds


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def database_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob(f"{DATABASE}*") if p.is_file())


# --- workspaces -------------------------------------------------------------------------------


def code_fingerprint() -> str:
    """The installed arxiv_radar's sources: a store is reused only by the code that built it."""
    root = Path(arxiv_radar.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


@dataclass
class Bench:
    """The options and the corpus, shared by every figure."""

    work: Path
    runs: int
    daily: int
    help_runs: int
    git_cycles: int
    today: date
    only: set[int]
    records: list[Record]


@dataclass
class Base:
    """A built workspace of one size: config, database, exported state."""

    size: int
    folder: Path
    history: Plan
    papers: int = 0


def base_workspace(bench: Bench, size: int) -> Base:
    history = plan(size, bench.today)
    key = f"{size}-v{VERSION}-{history.end:%Y%m%d}-{code_fingerprint()}"
    folder = bench.work / f"base-{key}"
    base = Base(size, folder, history)
    if not (folder / ".complete").exists():
        for stale in bench.work.glob(f"base-{size}-*"):
            shutil.rmtree(stale)
        build(bench, base)
    with Store.open(folder / DATABASE, readonly=True) as store:
        base.papers = store.paper_count()
    return base


def build(bench: Bench, base: Base) -> None:
    base.folder.mkdir(parents=True)
    (base.folder / "arxiv-radar.yml").write_text(CONFIG, encoding="utf-8")
    started = time.perf_counter()
    fill = build_history(
        base.folder / DATABASE, bench.records, base.history, base.size, bench.today
    )
    filled = time.perf_counter() - started
    # The first command exports the whole state (an existing digest's upgrade run); `notify`
    # with no destination does nothing else.
    exported = cli(["notify"], base.folder)
    (base.folder / ".complete").touch()
    print(
        f"  built {fill.papers:,} papers over {len(base.history.days)} listing days "
        f"({base.history.days[0]} to {base.history.end}) in {filled:.1f} s: "
        f"{fill.memberships:,} topic memberships, {fill.code_links:,} code links, "
        f"{fill.translations:,} translated abstracts; state exported by `notify` in "
        f"{exported:.1f} s",
        flush=True,
    )


def fresh(bench: Bench, base: Base, name: str) -> Path:
    folder = bench.work / f"{name}-{base.size}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(base.folder, folder, ignore=shutil.ignore_patterns(".complete"))
    # A publish ends with one os.sync(), which also flushes whatever else is dirty: the copy's
    # gigabytes are the bench's doing, not the run's (on a runner, the checkout and the cache
    # restore were written back during the minutes of fetching), so they go to disk first.
    os.sync()
    return folder


# --- days added through the Store API ---------------------------------------------------------


class Days:
    """The listing days a workspace gains after its history, one after the other."""

    def __init__(self, bench: Bench, base: Base, folder: Path) -> None:
        self.bench = bench
        self.folder = folder
        self.upcoming = iter(base.history.after)
        self.last = base.history.after[-1]
        self.numbers = iter_day_numbers()
        self.cursor = base.size

    def next_day(self) -> date:
        day = next(self.upcoming, None)
        if day is None:  # more days than DAYS_AFTER: go on past today
            day = self.last + timedelta(
                days=1 if self.last.weekday() < 4 else 7 - self.last.weekday()
            )
        self.last = day
        return day

    def add(self, *, old_changes: bool) -> date:
        day = self.next_day()
        with Store.open(self.folder / DATABASE) as store, store.transaction():
            filler = Filler(store, self.bench.records, seed=day.toordinal(), today=self.bench.today)
            filler.cursor = self.cursor
            filler.add_day(day, self.bench.daily, next(self.numbers), enrich=False)
            if old_changes:
                change_old(store, day)
        self.cursor += self.bench.daily
        return day


def old_papers(store: Store, day: date, count: int = 5) -> list[Paper]:
    """One paper from each of ``count`` months spread over the history (fewer when it is
    shorter), a different one on every day."""
    span = store.published_span()
    assert span is not None
    first, last = span[0], span[1] - timedelta(days=40)
    steps = (first + (last - first) * i / max(count - 1, 1) for i in range(count))
    months = sorted({f"{when:%y%m}" for when in steps})
    found = []
    for i, month in enumerate(months):
        number = 1 + (day.toordinal() * 37 + i * 101) % 500
        paper = store.get_paper(f"{month}.{number:05d}")
        if paper is not None:
            found.append(paper)
    return found


def change_old(store: Store, day: date) -> None:
    """Code links on four old papers and a translation on a fifth, each in its own month."""
    old = old_papers(store, day)
    at = first_seen(day) + timedelta(hours=1)
    for paper in old[:4]:
        outcome = CodeOutcome(f"{repo_url(paper)}-late", None, 7, "huggingface", at, 4, None)
        store.record_code(paper.arxiv_id, outcome)
    if len(old) > 4:
        text = "".join(CJK_POOL[:8])
        store.record_text(old[4], TRANSLATION, text, at)


def old_months(folder: Path, day: date) -> int:
    with Store.open(folder / DATABASE, readonly=True) as store:
        return len({f"{p.published:%Y-%m}" for p in old_papers(store, day)})


# --- figures ----------------------------------------------------------------------------------


@dataclass
class SizeResult:
    """What the cross-size summary needs."""

    run: list[float] = field(default_factory=list)
    growth: list[float] = field(default_factory=list)  # kB per new paper


def bench_size(bench: Bench, size: int) -> SizeResult:
    print(f"\n== {size:,} stored papers ==", flush=True)
    TABLE.start(f"{size:,} papers")
    base = base_workspace(bench, size)
    result = SizeResult()
    print(
        f"  store {database_bytes(base.folder) / MB:,.0f} MB for {base.papers:,} papers; "
        f"state {folder_bytes(base.folder / 'state') / MB:,.0f} MB",
        flush=True,
    )
    if bench.only & PUBLISHED:
        result.growth = published_figures(bench, base)
    if 4 in bench.only:
        with guarded("4.", "whole daily run (compute only)"):
            result.run = daily_run(bench, base)
    if 5 in bench.only:
        with guarded("5.", "rebuild the database from the state"):
            rebuild(bench, base)
    return result


PUBLISHED = {1, 2, 3, 6, 7, 8}  # the figures measured on the cold publish's workspace


def published_figures(bench: Bench, base: Base) -> list[float]:
    """1, then 6, 2, 3, 7 and 8 on the last cold publish's workspace; the git growth."""
    published = cold_publish(bench, base)
    if published is None:
        return []
    outputs(published, base)
    days = Days(bench, base, published)
    if 2 in bench.only:
        daily_publish(bench, published, days, old_changes=False)
    if 3 in bench.only:
        daily_publish(bench, published, days, old_changes=True)
    growth: list[float] = []
    if 7 in bench.only:
        with guarded("7.", "repository growth per daily commit (git gc)"):
            growth = git_growth(published, days)
    largest(published)
    return growth


def cold_publish(bench: Bench, base: Base) -> Path | None:
    label = "cold publish (empty docs folder)"
    with guarded("1.", label):
        walls = []
        for _ in range(bench.runs):
            folder = fresh(bench, base, "published")
            walls.append(cli(["publish"], folder))
        figure("1.", label, seconds(walls), "<= 30 s at 400k", statistics.median(walls) <= 30)
        runs_note(walls)
        return folder
    return None


def outputs(folder: Path, base: Base) -> None:
    """Figure 6 and the totals: what the cold publish wrote."""
    docs = folder / "docs"
    total = folder_bytes(docs)
    per_paper = total / max(base.papers, 1)
    label = "published bytes per paper (docs/)"
    figure("6.", label, f"{per_paper / 1e3:.2f} kB", "<= 2.5 kB", per_paper <= 2_500)
    for name, (files, size) in sorted(breakdown(docs).items(), key=lambda kv: -kv[1][1]):
        note(
            f"{name:<22} {files:>8,} files {size / MB:>10,.1f} MB "
            f"{size / base.papers:>8,.0f} B/paper"
        )
    shot = snapshot(folder)
    everything = sum(info[0] for info in shot.values())
    note(
        f"outputs written by the cold publish: {len(shot):,} files, {everything / MB:,.1f} MB "
        f"(README.md, docs/ and state/); store {database_bytes(folder) / MB:,.0f} MB"
    )


def daily_publish(bench: Bench, folder: Path, days: Days, *, old_changes: bool) -> None:
    number, target = ("3.", 3.0) if old_changes else ("2.", 2.0)
    label = (
        "daily publish + changes in 5 old months"
        if old_changes
        else "daily publish, new papers only"
    )
    with guarded(number, label):
        walls, rewrites = [], []
        for _ in range(bench.runs):
            days.add(old_changes=old_changes)
            before = snapshot(folder)
            walls.append(cli(["publish"], folder))
            rewrites.append(rewritten(before, snapshot(folder)))
        median = statistics.median(walls)
        figure(number, label, seconds(walls), f"<= {target:.0f} s at 400k", median <= target)
        runs_note(walls)
        files = statistics.median(r.files for r in rewrites)
        megabytes = statistics.median(r.megabytes for r in rewrites)
        note(f"{bench.daily} new papers a day; rewritten: {files:,.0f} files, {megabytes:,.1f} MB")
        if old_changes:
            note(f"changed papers in {old_months(folder, days.last)} distinct old month(s)")


def pack_kib(repo: Path) -> int:
    counts = dict(
        line.split(": ", 1)
        for line in git(["count-objects", "-v"], repo).splitlines()
        if ": " in line
    )
    return int(counts["size-pack"]) + int(counts["size"])


GITIGNORE = f"{DATABASE}\n{DATABASE}-*\n*.lock\n*.rebuild\n"


def git_growth(folder: Path, days: Days) -> list[float]:
    """Commit the published workspace, then --git-cycles daily cycles (add a day, publish,
    commit, gc); the pack's growth per commit per new paper, beside the day's new state."""
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    git(["init", "-q", "-b", "main"], folder)
    git(["add", "-A"], folder)
    git(["commit", "-q", "-m", "cold state"], folder)
    git(["gc", "-q"], folder)
    size = pack_kib(folder)
    note(f"git: the cold state packs into {size / 1024:,.1f} MiB")
    growth, multiples = [], []
    for _ in range(days.bench.git_cycles):
        day = days.add(old_changes=False)
        before = snapshot(folder)
        cli(["publish"], folder)
        new_state = [n for n in rewritten(before, snapshot(folder)).new if n.startswith("state")]
        git(["add", "-A"], folder)
        git(["commit", "-q", "-m", f"digest {day}"], folder)
        git(["gc", "-q"], folder)
        grown, size = pack_kib(folder) - size, pack_kib(folder)
        compressed = sum(len(zlib.compress((folder / n).read_bytes(), 6)) for n in new_state)
        growth.append(grown * 1.024 / days.bench.daily)
        multiples.append(grown * 1024 / max(compressed, 1))
    median = statistics.median(multiples)
    figure(
        "7.",
        "repository growth per daily commit (git gc)",
        f"{statistics.median(growth):.2f} kB/paper",
        "<= 3x the day's new state (zlib)",
        median <= 3,
    )
    note(
        "cycles: "
        + ", ".join(
            f"{g:.2f} kB/paper ({m:.1f}x the new state)"
            for g, m in zip(growth, multiples, strict=True)
        )
    )
    return growth


def largest(folder: Path) -> None:
    with guarded("8.", "largest file (committed or published)"):
        path = max(published_files(folder), key=lambda p: p.stat().st_size)
        size = path.stat().st_size / MB
        figure(
            "8.",
            "largest file (committed or published)",
            f"{size:,.1f} MB",
            "<= 50 MB at 400k",
            size <= 50,
        )
        note(str(path.relative_to(folder)))


# --- the whole run against local servers -----------------------------------------------------


GITHUB_TOKEN = "ghs_scaleBenchmarkTokenForTheFakeGitHub"


class EveryRepo(dict[str, int]):
    """Star counts of every repository asked for (the fake GitHub knows them all)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> int:
        return 10 + len(key)


def run_config(base_url: str, smtp_port: int) -> str:
    return (
        CONFIG
        + f"""endpoints:
  api_url: {base_url}/api/query
  rss_url: {base_url}/rss
  hf_url: {base_url}
  pwc_url: {base_url}/api/v1
  github_api_url: {base_url}
http:
  request_interval: 0
  max_retries: 1
  backoff_base: 0
code_links:
  request_interval: 0
email:
  host: 127.0.0.1
  port: {smtp_port}
  security: none
  sender: radar@example.org
  recipients: [reader@example.org]
"""
    )


@dataclass
class World:
    config: str
    env: dict[str, str]
    announced: int
    server: LocalServer


@contextmanager
def world(bench: Bench, base: Base) -> Iterator[World]:
    """The services of a daily run on 127.0.0.1, knowing the next listing day's papers."""
    from tests.servers.arxiv import FakeArxiv
    from tests.servers.fake_apis import FakeGitHub, FakeHuggingFace, FakePapersWithCode
    from tests.servers.http import local_server
    from tests.servers.smtp import smtp_server

    day = base.history.after[0]
    papers = [
        p
        for p, _ in day_papers(
            bench.records,
            base.size,
            day,
            bench.daily,
            rng=random.Random(day.toordinal()),
            numbers=Numbers(20_000),
        )
    ]
    with local_server() as server, smtp_server() as smtp:
        arxiv = FakeArxiv(server, ["cs"])
        arxiv.announce(day, papers)
        hf, pwc = FakeHuggingFace(server), FakePapersWithCode(server)
        hf.daily({})
        for i, paper in enumerate(papers):
            if i % 4 == 0:
                hf.paper(paper.arxiv_id, repo=repo_url(paper), stars=i)
            else:
                hf.missing(paper.arxiv_id)
            pwc.missing(paper.arxiv_id)
        FakeGitHub(server, GITHUB_TOKEN, EveryRepo())
        env = {"GITHUB_TOKEN": GITHUB_TOKEN}
        yield World(run_config(server.url, smtp.port), env, len(papers), server)


_FETCH_PATHS = ("/rss/", "/api/query")


def run_phases(requests: Sequence[Request], started: float, ended: float) -> list[float]:
    """Seconds before the first request (start-up, lock, database), fetching (RSS and API),
    enriching (code links, stars) and after the last request (rank, publish, email, state)."""
    if not requests:
        return [ended - started, 0.0, 0.0, 0.0]
    first, last = requests[0].at, requests[-1].at
    fetched = max((r.at for r in requests if r.path.startswith(_FETCH_PATHS)), default=first)
    return [first - started, fetched - first, last - fetched, ended - last]


def daily_run(bench: Bench, base: Base) -> list[float]:
    walls, phases = [], []
    with world(bench, base) as services:
        for _ in range(bench.runs):
            folder = fresh(bench, base, "run")
            (folder / RUN_CONFIG).write_text(services.config, encoding="utf-8")
            # Yesterday's outputs, as a daily run finds them: without them the run's publish is
            # a cold one, and the figure would measure that instead of a day's work.
            cli(["-c", RUN_CONFIG, "publish"], folder, env=services.env)
            seen, started = len(services.server.requests), time.monotonic()
            walls.append(cli(["-c", RUN_CONFIG, "run"], folder, env=services.env))
            requests = services.server.requests[seen:]
            phases.append(run_phases(requests, started, time.monotonic()))
            with Store.open(folder / DATABASE, readonly=True) as store:
                stored = store.paper_count() - base.papers
            if stored != services.announced:
                raise CommandFailed(f"the run stored {stored} new papers, not {services.announced}")
            shutil.rmtree(folder)  # a copy of the whole store: disk, at 400k
    figure("4.", "whole daily run (compute only)", seconds(walls), "400k <= 1.2x 100k", None)
    runs_note(walls)
    note(
        f"one listing day of {services.announced} papers, {len(requests)} HTTP requests: RSS, "
        "id_list, code links, stars, publish, email (no chat: its 1 s pause per message is not "
        "configurable)"
    )
    names = ("start-up", "fetch", "enrich", "after the last request (rank, publish, email, state)")
    medians = (statistics.median(p[i] for p in phases) for i in range(4))
    note("phases: " + ", ".join(f"{n} {m:.2f} s" for n, m in zip(names, medians, strict=True)))
    return walls


def rebuild(bench: Bench, base: Base) -> None:
    folder = fresh(bench, base, "rebuilt")
    walls = []
    for _ in range(bench.runs):
        for path in folder.glob(f"{DATABASE}*"):
            path.unlink()
        walls.append(cli(["notify"], folder))
        with Store.open(folder / DATABASE, readonly=True) as store:
            count = store.paper_count()
        if count != base.papers:
            raise CommandFailed(f"the rebuilt database holds {count} papers, not {base.papers}")
    shutil.rmtree(folder)
    median = statistics.median(walls)
    label = "rebuild the database from the state"
    figure("5.", label, seconds(walls), "<= 60 s at 400k", median <= 60)
    runs_note(walls)
    note("`arxiv-radar notify` without destinations after deleting the database")


def help_figure(bench: Bench) -> None:
    with guarded("9.", "arxiv-radar --help"):
        walls = [cli(["--help"], bench.work) for _ in range(bench.help_runs)]
        median = statistics.median(walls)
        figure(
            "9.",
            f"arxiv-radar --help (median of {bench.help_runs})",
            seconds(walls),
            "<= 0.15 s",
            median <= 0.15,
        )


def summary(results: dict[int, SizeResult]) -> None:
    print("\n== across sizes ==", flush=True)
    TABLE.column = "all sizes"
    sizes = sorted(s for s, r in results.items() if r.run)
    if len(sizes) < 2:
        note("the run ratio needs two sizes")
    for size in sizes[1:]:
        ratio = statistics.median(results[size].run) / statistics.median(results[sizes[0]].run)
        figure(
            "4.",
            f"whole daily run, {size:,} / {sizes[0]:,}",
            f"{ratio:.2f}x",
            "<= 1.2x",
            ratio <= 1.2,
        )
    grown = sorted(s for s, r in results.items() if r.growth)
    for size in grown[1:]:
        ratio = statistics.median(results[size].growth) / statistics.median(
            results[grown[0]].growth
        )
        figure(
            "7.",
            f"git growth per paper, {size:,} / {grown[0]:,}",
            f"{ratio:.2f}x",
            "about 1x (proportional)",
            None,
        )


def machine() -> None:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    print(
        f"machine: {os.cpu_count()} cores, load {', '.join(f'{v:.1f}' for v in load)}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
        f"{platform.platform()}; arxiv_radar from {Path(arxiv_radar.__file__).parent} "
        f"(code {code_fingerprint()}); CPU reference {cpu_reference_ms():.1f} ms",
        flush=True,
    )


def cpu_reference_ms() -> float:
    """The best of 5 ``sum(range(10**6))`` in ms, to read the figures beside: two machines of
    one kind gave nearly the same code's figures 1.6x apart (cold publish at 100k: 26.4 s one
    day, 42.2 s the next), and only a reference measured with them tells a regression from a
    slower machine."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(range(10**6))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def compile_package() -> None:
    """Byte-compile arxiv_radar as ``pip install`` does: with PYTHONDONTWRITEBYTECODE set (as on
    some CI machines) every subprocess would otherwise compile its modules from source, about
    0.25 s that no installed copy pays."""
    compileall.compile_dir(Path(arxiv_radar.__file__).parent, quiet=1)


def options(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,400000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--daily", type=int, default=600, help="papers per added listing day")
    parser.add_argument("--help-runs", type=int, default=20)
    parser.add_argument("--git-cycles", type=int, default=3)
    parser.add_argument(
        "--only",
        default="1,2,3,4,5,6,7,8,9",
        help="figures to measure (1, 6 and 8 come with any of 2, 3, 7)",
    )
    parser.add_argument(
        "--today", type=date.fromisoformat, default=datetime.now(timezone.utc).date()
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = options(argv)
    if not corpus_available(args.corpus):
        print(f"SKIP: the corpus {args.corpus} is absent (see ../shared/data/corpus)")
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    bench = Bench(
        work=args.work,
        runs=args.runs,
        daily=args.daily,
        help_runs=args.help_runs,
        git_cycles=args.git_cycles,
        today=args.today,
        only={int(n) for n in args.only.split(",")},
        records=load_corpus(args.corpus),
    )
    machine()
    compile_package()
    print(
        f"data: {len(bench.records):,} real records of {args.corpus.name} cycled with fresh ids, "
        f"~595 papers per listing day (12,500 a month), {len(TOPIC_CODES)} topics (one cs "
        f"subcategory each, 1-2 per paper), 25 % with code and stars, 5 % with an abstract in "
        f"Chinese from a fixed pool of {len(CJK_POOL)} Chinese sentences; history ends "
        f"{DAYS_AFTER} listing days before {args.today}; medians of {args.runs} runs",
        flush=True,
    )
    results = {size: bench_size(bench, size) for size in (int(s) for s in args.sizes.split(","))}
    print("", flush=True)
    TABLE.column = "all sizes"
    if 9 in bench.only:
        help_figure(bench)
    summary(results)
    print("\n" + TABLE.render(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
