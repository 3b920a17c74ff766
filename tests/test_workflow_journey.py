"""The daily workflow `arxiv-radar init --github` writes, run the way GitHub runs it, day by day.

Each run gets a fresh clone of a local bare repository (the stand-in for github.com), a fresh
Python, and executes every ``run:`` step of every job in order (see ``tests/actions_runner.py``):
``pip install arxiv-radar==<pinned>`` against a local package index, the arxiv-radar run against
local arXiv, Hugging Face, GitHub, SMTP and Slack servers, the commit job's push to the bare
repository. Between runs the world moves on: new announcements, a day without a run, a day with
mail and chat down, a total arXiv outage, an evicted cache, a second run with nothing new.

The papers of each day are drawn from a seeded generator; the seed is printed with every failure
(``ARXIV_RADAR_JOURNEY_SEED`` replays one).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from arxiv_radar.listings import latest_listing_day, previous_listing_day
from arxiv_radar.paper import Paper
from tests.actions_runner import JobResult, Runner
from tests.actions_stand_ins import (
    ActionsCache,
    Artifacts,
    PackageIndex,
    Repository,
    build_wheel,
    dependency_dir,
    runner_python,
    standard_handlers,
)
from tests.servers.arxiv import FakeArxiv, make_paper, submitted_for
from tests.servers.fake_apis import FakeGitHub, json_reply
from tests.servers.http import LocalServer, Reply, Request, local_server
from tests.servers.smtp import SmtpServer, smtp_server

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("ARXIV_RADAR_JOURNEY_SEED", "20261201"))
ARXIV_RADAR = Path(sys.executable).parent / "arxiv-radar"
TOKEN = "ghs_journeyTokenForTheFakeGitHub"
SMTP_PASSWORD = "smtp-journey-password"
RSS_PATH = "/rss/cs.CV+cs.CL"
ABS_ID = re.compile(r"arxiv\.org/abs/(\d{4}\.\d{5})")

CONFIG = """\
repository: owner/digest
categories: [cs.CV, cs.CL]
lookback_days: 30
topics:
  - name: Gaussian Splatting
    query: 'ti:splatting OR abs:splatting'
    categories: [cs.CV]
  - name: Speech
    query: 'ti:speech'
email:
  host: 127.0.0.1
  port: {smtp_port}
  security: none
  username: radar
  password_env: SMTP_PASSWORD
  sender: radar@example.org
  recipients: [reader@example.org]
chat:
  - service: slack
    webhook_env: SLACK_WEBHOOK_URL
endpoints:
  api_url: {base}/api/query
  rss_url: {base}/rss
  hf_url: {base}/hf
  pwc_url: {base}/pwc
  github_api_url: {base}/github
http:
  request_interval: 0
  max_retries: 1
  backoff_base: 0
  timeout: 10
code_links:
  request_interval: 0
"""


# --- the world ------------------------------------------------------------------------------


@dataclass
class Day:
    listing: date
    announced: list[Paper]  # in the day's RSS listing (watched categories)
    elsewhere: list[Paper]  # only the API knows them (a category the listing does not cover)
    expected: dict[str, set[str]]  # topic -> ids that must end up in it


def _paper(rng: random.Random, number: int, day: date, title: str, cats: tuple[str, ...]) -> Paper:
    arxiv_id = f"{day:%y%m}.{number:05d}"
    code = f" Code: https://github.com/lab{number}/repo." if rng.random() < 0.3 else ""
    return make_paper(
        arxiv_id,
        title,
        abstract=f"We study {title.lower()} with care.{code}",
        categories=cats,
        published=submitted_for(day, minute=number % 120),
        authors=(f"Author {number}", "Ada Lovelace"),
    )


def make_days(rng: random.Random, listings: list[date]) -> list[Day]:
    days, number = [], 100
    for listing in listings:
        day = Day(listing, [], [], {"Gaussian Splatting": set(), "Speech": set()})
        for _ in range(rng.randint(2, 4)):
            number += 1
            paper = _paper(rng, number, listing, "Fast Gaussian splatting of scenes", ("cs.CV",))
            day.announced.append(paper)
            day.expected["Gaussian Splatting"].add(paper.arxiv_id)
        for _ in range(rng.randint(1, 3)):
            number += 1
            paper = _paper(rng, number, listing, "Robust speech recognition", ("cs.CL",))
            day.announced.append(paper)
            day.expected["Speech"].add(paper.arxiv_id)
        for _ in range(rng.randint(0, 2)):  # a topic without categories reaches further
            number += 1
            paper = _paper(rng, number, listing, "Neural speech codecs", ("eess.AS",))
            day.elsewhere.append(paper)
            day.expected["Speech"].add(paper.arxiv_id)
        for _ in range(rng.randint(1, 3)):  # matches nothing
            number += 1
            day.announced.append(_paper(rng, number, listing, "Object detection", ("cs.CV",)))
        days.append(day)
    return days


@dataclass
class Webhook:
    """A Slack incoming webhook that records each accepted post, or answers 503 when down."""

    server: LocalServer
    down: bool = False
    posts: list[str] = field(default_factory=list)
    path: str = "/services/T000/B000/journey"

    def __post_init__(self) -> None:
        self.server.route("POST", self.path, self._answer)

    @property
    def url(self) -> str:
        return f"{self.server.url}{self.path}"

    def _answer(self, request: Request) -> Reply:
        if self.down:
            return Reply(503, "service unavailable")
        self.posts.append(request.body.decode())
        return Reply(200, "ok")


@dataclass
class World:
    server: LocalServer
    arxiv: FakeArxiv
    smtp: SmtpServer
    hook: Webhook
    repo: Repository
    index: PackageIndex
    deps: Path
    root: Path
    cache: ActionsCache
    workflow: dict[str, Any]
    runs: int = 0

    def arxiv_down(self, down: bool) -> None:
        if down:
            self.server.route("GET", RSS_PATH, Reply(503, "arXiv is down"))
            self.server.route("GET", "/api/query", Reply(503, "arXiv is down"))
        else:
            self.server.route("GET", RSS_PATH, self.arxiv._rss)
            self.server.route("GET", "/api/query", self.arxiv._api)

    def run(self) -> dict[str, JobResult]:
        """One scheduled workflow run: every job, in order, on a fresh runner."""
        self.runs += 1
        base = self.root / f"run-{self.runs}"
        sha = self.repo.head()
        runner = Runner(
            self.workflow,
            root=base,
            machine_env=self._machine_env(runner_python(base, self.deps), base),
            github={
                "token": TOKEN,
                "run_id": str(1000 + self.runs),
                "event_name": "schedule",
                "ref_name": "main",
                "repository": "owner/digest",
                "server_url": "https://github.example",
                "api_url": f"{self.server.url}/github",
                "sha": sha,
                "workflow_ref": "owner/digest/.github/workflows/arxiv-radar.yml@refs/heads/main",
            },
            secrets={"SLACK_WEBHOOK_URL": self.hook.url, "SMTP_PASSWORD": SMTP_PASSWORD},
        )
        standard_handlers(runner, self.repo, sha, self.cache, Artifacts(base / "artifacts"))
        results = runner.run()
        assert set(runner.skipped_uses) == set(), runner.skipped_uses
        return results

    def _machine_env(self, python_bin: Path, base: Path) -> dict[str, str]:
        home = base / "home"
        home.mkdir(parents=True, exist_ok=True)
        return {
            "PATH": f"{python_bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "PIP_INDEX_URL": self.index.url,
            "PIP_NO_INPUT": "1",
            "PIP_ROOT_USER_ACTION": "ignore",
            **self.repo.rewrite_env(TOKEN),
        }


def _keepalive_route(server: LocalServer) -> None:
    path = "/github/repos/owner/digest/actions/workflows/arxiv-radar.yml/enable"
    server.route("PUT", path, Reply(204, b""))


def _code_link_routes(server: LocalServer) -> None:
    """Hugging Face knows none of the papers yet; GitHub answers star counts for the token."""
    server.route("GET", "/hf/api/daily_papers", json_reply(200, []))  # papers: 404, not indexed
    fake = LocalServer()  # FakeGitHub routes /graphql; serve it under /github
    github = FakeGitHub(fake, TOKEN, {f"lab{n}/repo": n for n in range(100, 200)})
    server.route("POST", "/github/graphql", github.answer)


def _seed_repository(tmp: Path, server: LocalServer, smtp: SmtpServer) -> Repository:
    """What a user does: `init --github` in a new repository, edit the config, push."""
    bare = tmp / "remote.git"
    repo = Repository(bare, "https://github.example/owner/digest")
    repo.git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp)
    work = tmp / "setup"
    work.mkdir()
    done = subprocess.run(
        [str(ARXIV_RADAR), "init", "--github"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (work / "arxiv-radar.yml").write_text(
        CONFIG.format(smtp_port=smtp.port, base=server.url), encoding="utf-8"
    )
    repo.git("init", "--quiet", "--initial-branch=main", cwd=work)
    repo.git("add", "--all", cwd=work)
    repo.git("-c", "user.name=u", "-c", "user.email=u@e", "commit", "-qm", "digest", cwd=work)
    repo.git("push", "--quiet", str(bare), "HEAD:main", cwd=work)
    return repo


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("git") is None or not ARXIV_RADAR.exists():
        pytest.skip("git or the arxiv-radar script is not available")
    wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
    return wheel, dependency_dir(tmp_path_factory.mktemp("deps"))


@pytest.fixture
def world(tmp_path: Path, packages: tuple[Path, Path]) -> Iterator[World]:
    wheel, deps = packages
    with local_server() as server, smtp_server(user="radar", password=SMTP_PASSWORD) as smtp:
        arxiv = FakeArxiv(server, ["cs.CV", "cs.CL"])
        _code_link_routes(server)
        _keepalive_route(server)
        repo = _seed_repository(tmp_path, server, smtp)
        workflow = yaml.safe_load(
            (tmp_path / "setup/.github/workflows/arxiv-radar.yml").read_text()
        )
        yield World(
            server=server,
            arxiv=arxiv,
            smtp=smtp,
            hook=Webhook(server),
            repo=repo,
            index=PackageIndex(server, [wheel]),
            deps=deps,
            root=tmp_path / "runner",
            cache=ActionsCache(tmp_path / "cache"),
            workflow=workflow,
        )


# --- helpers for the checks -----------------------------------------------------------------


def _listings(count: int) -> list[date]:
    day = latest_listing_day(datetime.now(timezone.utc))
    days = [day]
    while len(days) < count:
        days.insert(0, previous_listing_day(days[0]))
    return days


def _clone(repo: Repository, into: Path) -> Path:
    if into.exists():
        shutil.rmtree(into)
    repo.git("clone", "--quiet", str(repo.bare), str(into), cwd=into.parent)
    return into


def _published(clone: Path) -> dict[str, Counter[str]]:
    """topic -> how many times each id appears in the committed daily JSON exports."""
    found: dict[str, Counter[str]] = {}
    for export in sorted((clone / "docs" / "exports").glob("*/papers-*.json.gz")):
        for paper in json.loads(gzip.decompress(export.read_bytes()))["papers"]:
            for topic in paper["topics"]:
                found.setdefault(topic, Counter())[paper["arxiv_id"]] += 1
    return found


def _mailed(smtp: SmtpServer) -> Counter[str]:
    """How many messages carried each paper."""
    counts: Counter[str] = Counter()
    for received in smtp.received:
        text = received.message.get_body(preferencelist=("plain",))
        assert text is not None
        counts.update(set(ABS_ID.findall(text.get_content())))
    return counts


def _chatted(hook: Webhook) -> Counter[str]:
    counts: Counter[str] = Counter()
    for post in hook.posts:
        counts.update(set(ABS_ID.findall(post)))
    return counts


def _why(job: JobResult) -> str:
    """The failed steps' output, for an assertion message."""
    failed = [s for s in job.steps if s.outcome == "failure"]
    return f"{SEED=} " + "\n".join(f"--- {s.name}:\n{s.output[-3000:]}" for s in failed)


def _step(job: JobResult, name: str) -> str:
    return job.step(name).outcome


RUN_STEP = "Fetch, enrich, publish and notify"
TOPICS = ("Gaussian Splatting", "Speech")


# --- the journey ----------------------------------------------------------------------------


def test_the_daily_workflow_over_a_week_of_faults(
    world: World, tmp_path: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    days = make_days(rng, _listings(4))
    seed = f"(ARXIV_RADAR_JOURNEY_SEED={SEED})"
    commits = [world.repo.commits()]

    def announce(day: Day) -> None:
        world.arxiv.announce(day.listing, new=day.announced)
        for paper in day.elsewhere:
            world.arxiv.publish(paper)

    # Day 1: a normal day.
    announce(days[0])
    first = world.run()
    assert first["update"].result == "success", _why(first["update"])
    assert first["commit"].result == "success", _why(first["commit"])
    assert world.index.server.requests_to("/simple/arxiv-radar/"), "installed from the index"
    commits.append(world.repo.commits())
    assert commits[-1] == commits[-2] + 1, seed

    # Day 2: no run at all (the cron was skipped); arXiv announced anyway.
    announce(days[1])

    # Day 3: the mail server refuses mail and the webhook is down: red, but nothing is lost.
    announce(days[2])
    world.smtp.refusing, world.hook.down = True, True
    third = world.run()
    world.smtp.refusing, world.hook.down = False, False
    assert third["update"].result == "failure", seed
    assert _step(third["update"], RUN_STEP) == "failure", seed
    assert third["commit"].result == "success", _why(third["commit"])
    assert "notify failed" in third["update"].summary, third["update"].summary
    clone = _clone(world.repo, tmp_path / "after-day-3")
    published = _published(clone)
    for day in days[:3]:
        for topic, ids in day.expected.items():
            assert ids <= set(published.get(topic, {})), (seed, topic, day.listing)
    commits.append(world.repo.commits())

    # Day 4: arXiv is down entirely: red, and what was published stays published.
    announce(days[3])
    world.arxiv_down(True)
    fourth = world.run()
    world.arxiv_down(False)
    assert fourth["update"].result == "failure", seed
    assert "fetch failed" in fourth["update"].summary, fourth["update"].summary
    after_outage = _published(_clone(world.repo, tmp_path / "after-day-4"))
    assert after_outage == published, seed
    commits.append(world.repo.commits())

    # Day 5: arXiv is back, the cache was evicted (the database is rebuilt from state/).
    world.cache.evict()
    fifth = world.run()
    assert fifth["update"].result == "success", _why(fifth["update"])
    commits.append(world.repo.commits())
    assert commits[-1] == commits[-2] + 1, seed

    # The same day again: nothing new, so no commit and every tracked byte unchanged.
    head = world.repo.head()
    sixth = world.run()
    assert sixth["update"].result == "success", _why(sixth["update"])
    assert sixth["update"].outputs["changed"] == "", seed
    assert sixth["commit"].result == "skipped", seed
    assert world.repo.head() == head, seed
    commits.append(world.repo.commits())

    final = _clone(world.repo, tmp_path / "final")
    tracked = world.repo.git("ls-files", cwd=final).splitlines()
    assert not [path for path in tracked if path.startswith("arxiv-radar.db")], tracked
    published = _published(final)
    expected = {
        topic: set().union(*(d.expected[topic] for d in days)) for topic in days[0].expected
    }
    for topic, ids in expected.items():
        assert set(published[topic]) == ids, (seed, topic)
        assert set(published[topic].values()) == {1}, (seed, topic, "duplicates")
    everything = set().union(*expected.values())
    mailed, chatted = _mailed(world.smtp), _chatted(world.hook)
    assert set(mailed) == everything and set(mailed.values()) == {1}, (seed, mailed)
    assert set(chatted) == everything and set(chatted.values()) == {1}, (seed, chatted)

    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    with capsys.disabled():
        reporter.write_line(
            f"\njourney {seed}: {len(days)} listing days, {world.runs} runs, "
            f"{commits[-1] - commits[0]} commits pushed, {len(everything)} papers published, "
            f"{sum(mailed.values())} mailed, {sum(chatted.values())} posted, duplicates 0"
        )
