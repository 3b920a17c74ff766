"""Requests made by code-link enrichment over a month of daily runs, against cv-arxiv-daily's.

A deterministic world (seeded) decides for each paper on which day, if ever, its code becomes
known: some link it in the abstract, some are on Hugging Face at once, most later or never.
Hugging Face and Papers with Code answer alike (the simulation gives Papers with Code no edge,
so asking it only costs). A few papers (8 %, independent of their code) are featured on
Hugging Face's daily papers list 0 to 3 days after they appear; the list shows the code if it
is known on that day. arxiv-radar's real stage (the default finders and re-check schedule, a
dict store) runs once a day against fake APIs on a local HTTP server, and every request that
reaches the server is counted. The cv-arxiv-daily scheme is counted on the same world: one
look-up per new paper on the day it appears, plus a weekly re-check of every stored paper still
without code.

Both schemes first run ``--history`` days whose requests are not counted, so the counted month
starts with a realistic history (cv-arxiv-daily's weekly re-check grows with it; ours does not).
Besides requests, each scheme reports how many of the month's papers have a code link by the
end of the month and the median days from a paper's first appearance to its link.

Run: ``.venv/bin/python -m benchmarks.bench_enrich [--days 30 --per-day 200 --history 180]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import ThreadingHTTPServer

from tests.fixtures.enrich.helpers import T0, make_paper
from tests.fixtures.enrich.memory_store import MemoryStore
from tests.servers.fake_apis import json_reply
from tests.servers.http import LocalServer, Reply, Request, _handler_for

from arxiv_radar.enrich._wire import ClientPool
from arxiv_radar.enrich.codelinks import RECHECK_DAYS, CodeLinkSettings
from arxiv_radar.enrich.stage import EnrichSettings, build_enrichers, enrich
from arxiv_radar.http_budget import HttpSettings

NEVER = 10**6
_API_NAMES = {"papers": "HF papers", "daily_papers": "HF daily", "pwc": "PwC"}
FEATURED_SHARE = 0.08
LINK_HORIZON = 30  # links count when found within this many days of a paper's first day


@dataclass
class World:
    """When each paper's code becomes known, and which simulated day it is."""

    code_day: dict[str, int] = field(default_factory=dict)
    in_text: set[str] = field(default_factory=set)
    featured: dict[int, list[str]] = field(default_factory=dict)  # list day -> ids
    today: int = 0

    def reply(self, arxiv_id: str) -> Reply:
        if self.today >= self.code_day[arxiv_id]:
            return json_reply(
                200, {"id": arxiv_id, "githubRepo": f"https://github.com/x/{arxiv_id}"}
            )
        return json_reply(404, {"error": "Paper not found"})

    def daily_list(self, request: Request) -> Reply:
        """``/api/daily_papers?date=``: the day's featured papers, code as known that day."""
        day = (date.fromisoformat(request.param("date") or "") - T0.date()).days
        items = []
        for arxiv_id in self.featured.get(day, []):
            paper: dict[str, object] = {"id": arxiv_id, "title": f"Paper {arxiv_id}"}
            if self.code_day[arxiv_id] <= day:
                paper["githubRepo"] = f"https://github.com/x/{arxiv_id}"
            items.append({"paper": paper, "title": f"Paper {arxiv_id}"})
        return json_reply(200, items)


def _code_delay(rng: random.Random) -> tuple[int, bool]:
    """Days until the code is known, and whether the abstract links it (day 0)."""
    u = rng.random()
    if u < 0.10:
        return 0, True
    if u < 0.30:
        return 0, False
    if u < 0.45:
        return rng.randint(1, 7), False
    if u < 0.55:
        return rng.randint(8, 30), False
    if u < 0.60:
        return rng.randint(31, 90), False
    return NEVER, False


def _paper_id(day: int, n: int) -> str:
    return f"26{day // 100:02d}.{day % 100:02d}{n:03d}"


def _add_day(world: World, seed: int, day: int, per_day: int) -> list[str]:
    """The day's new papers; seeded per day so a day looks the same whatever the history."""
    rng = random.Random(f"{seed}-{day}")
    daily = random.Random(f"{seed}-{day}-daily")
    ids = []
    for n in range(per_day):
        arxiv_id = _paper_id(day, n)
        delay, in_text = _code_delay(rng)
        world.code_day[arxiv_id] = day + delay
        if in_text:
            world.in_text.add(arxiv_id)
        if daily.random() < FEATURED_SHARE:
            world.featured.setdefault(day + daily.randint(0, 3), []).append(arxiv_id)
        ids.append(arxiv_id)
    return ids


def _route(server: LocalServer, world: World, arxiv_id: str) -> None:
    def answer(_request: Request) -> Reply:
        return world.reply(arxiv_id)

    server.route("GET", f"/api/papers/{arxiv_id}", answer)
    server.route("GET", f"/pwc/papers/{arxiv_id}", answer)


@contextmanager
def _fast_server() -> Iterator[LocalServer]:
    """tests.servers.http's server with Nagle off: its split header/body writes otherwise hit
    delayed ACKs and cap a keep-alive connection at ~25 requests per second."""
    state = LocalServer()

    class Handler(_handler_for(state)):  # type: ignore[misc]
        disable_nagle_algorithm = True

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Outcome:
    """One scheme over the counted month."""

    requests: int = 0
    papers: int = 0
    linked_days: list[int] = field(default_factory=list)  # days to link, per linked paper
    failures: int = 0
    by_api: Counter[str] = field(default_factory=Counter)

    def line(self, label: str) -> str:
        days = self.linked_days or [0]
        linked = len(self.linked_days)
        return (
            f"  {label:<44} {self.requests:>7} requests, {linked:>5} of {self.papers} papers "
            f"linked within {LINK_HORIZON} d ({linked / max(1, self.papers):.0%}); days to link: "
            f"median {statistics.median(days):.0f}, mean {statistics.mean(days):.1f}, "
            f"90th percentile {statistics.quantiles(days, n=10)[-1]:.0f}"
        )


def _record_links(store: MemoryStore, first_day: dict[str, int], day: int, out: Outcome) -> None:
    """Days to link of the month's papers that got their code in today's run."""
    for arxiv_id, state in store.code.items():
        if state.code_url and arxiv_id in first_day:
            out.linked_days.append(day - first_day.pop(arxiv_id))
    for arxiv_id in [a for a, first in first_day.items() if day - first >= LINK_HORIZON]:
        del first_day[arxiv_id]


def _add_papers(world: World, server: LocalServer, store: MemoryStore, ids: list[str]) -> None:
    for arxiv_id in ids:
        linked = arxiv_id in world.in_text
        abstract = f"Code: https://github.com/x/{arxiv_id}." if linked else "We study."
        store.add(make_paper(arxiv_id, abstract=abstract), T0 + timedelta(days=world.today))
        _route(server, world, arxiv_id)


def _count_requests(requests: list[Request], out: Outcome) -> None:
    out.requests = len(requests)
    out.by_api.update(
        _API_NAMES[r.path.split("/")[1 if r.path.startswith("/pwc") else 2]] for r in requests
    )


def run_ours(days: int, per_day: int, warmup: int, seed: int) -> Outcome:
    """Requests that reached the fake APIs during the counted days, and the links found."""
    world, store, out = World(), MemoryStore(), Outcome()
    fast = HttpSettings(request_interval=0, timeout=10, max_retries=0)
    pending: dict[str, int] = {}  # counted papers without a link yet -> first day
    with _fast_server() as server, ClientPool(fast, intervals={}) as pool:
        server.route("GET", "/api/daily_papers", world.daily_list)
        settings = EnrichSettings(
            code=CodeLinkSettings(hf_base=server.url, pwc_base=f"{server.url}/pwc")
        )
        enrichers = build_enrichers(settings, pool, env={})
        marks: dict[int, int] = {}  # day -> requests before its run
        # Papers first seen more than the schedule's length before the counted month are never
        # asked about again, so older history cannot change our count and is not simulated.
        # After the month, runs go on without new papers until the month's papers are 30 days
        # old, for the links; their requests are not counted.
        for day in range(max(0, warmup - RECHECK_DAYS[-1] - 1), warmup + days + LINK_HORIZON):
            marks[day] = len(server.requests)
            world.today = day
            if day < warmup + days:
                ids = _add_day(world, seed, day, per_day)
                _add_papers(world, server, store, ids)
                if day >= warmup:
                    pending.update((arxiv_id, day) for arxiv_id in ids)
                    out.papers += len(ids)
            report = enrich(store, settings, enrichers, now=T0 + timedelta(days=day, minutes=5))
            out.failures += len(report.failures)
            _record_links(store, pending, day, out)
        _count_requests(server.requests[marks[warmup] : marks[warmup + days]], out)
    return out


def run_cv_arxiv_daily(days: int, per_day: int, warmup: int, seed: int) -> Outcome:
    """One look-up per new paper on its first day, then a weekly look-up of every null row."""
    world = World()
    without_code: dict[str, int] = {}  # id -> first day
    out = Outcome()
    for day in range(warmup + days + LINK_HORIZON):
        counted = warmup <= day < warmup + days
        new = _add_day(world, seed, day, per_day) if day < warmup + days else []
        out.requests += len(new) if counted else 0
        out.papers += len(new) if counted else 0
        found = [(a, day) for a in new if world.code_day[a] <= day]
        without_code.update((a, day) for a in new if world.code_day[a] > day)
        if day % 7 == 6:
            out.requests += len(without_code) if counted else 0
            found += [(a, d) for a, d in without_code.items() if world.code_day[a] <= day]
        for arxiv_id, first in found:
            without_code.pop(arxiv_id, None)
            if warmup <= first < warmup + days and day - first <= LINK_HORIZON:
                out.linked_days.append(day - first)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument(
        "--history", type=int, default=180, help="days of history before the second month"
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(f"{args.days} daily runs x {args.per_day} new papers, seed {args.seed}")
    checks = ",".join(str(d) for d in (0, *RECHECK_DAYS))
    for warmup, label in ((0, "first month, empty store"), (args.history, "steady state")):
        started = time.monotonic()
        ours = run_ours(args.days, args.per_day, warmup, args.seed)
        elapsed = time.monotonic() - started
        theirs = run_cv_arxiv_daily(args.days, args.per_day, warmup, args.seed)
        print(f"\n{label} ({warmup} days of history; ours ran in {elapsed:.0f} s)")
        print(ours.line(f"arxiv-radar (checks at {checks} d):"))
        print(f"    by API: {dict(sorted(ours.by_api.items()))}")
        print(theirs.line("cv-arxiv-daily (day 0 + weekly null rows):"))
        ratio = ours.requests / theirs.requests
        print(f"  ratio of requests arxiv-radar / cv-arxiv-daily: {ratio:.2f}")
        if ours.failures:
            print(f"  WARNING: {ours.failures} failed look-ups, counts are not comparable")


if __name__ == "__main__":
    main()
