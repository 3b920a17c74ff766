"""Requests made by code-link enrichment over a month of daily runs, against cv-arxiv-daily's.

A deterministic world (seeded) decides for each paper on which day, if ever, its code becomes
known: some link it in the abstract, some are on Hugging Face at once, most later or never.
arxiv-radar's real stage (text, Hugging Face and Papers with Code finders, the doubling re-check
schedule, a dict store) runs once a day against fake APIs on a local HTTP server, and every
request that reaches the server is counted. The cv-arxiv-daily scheme is counted on the same
world: one look-up per new paper on the day it appears, plus a weekly re-check of every stored
paper still without code.

Both schemes first run ``--warmup`` days whose requests are not counted, so the counted month
starts with a realistic history (cv-arxiv-daily's weekly re-check grows with it; ours does not).

Run: ``.venv/bin/python -m benchmarks.bench_enrich [--days 30 --per-day 200 --warmup 0]``.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.server import ThreadingHTTPServer

from tests.fixtures.enrich.helpers import T0, make_paper
from tests.fixtures.enrich.memory_store import MemoryStore
from tests.servers.fake_apis import json_reply
from tests.servers.http import LocalServer, Reply, Request, _handler_for

from arxiv_radar.enrich._wire import ClientPool
from arxiv_radar.enrich.codelinks import RECHECK_DAYS, CodeLinkSettings
from arxiv_radar.enrich.stage import EnrichSettings, build_enrichers, enrich
from arxiv_radar.http import HttpSettings

NEVER = 10**6


@dataclass
class World:
    """When each paper's code becomes known, and which simulated day it is."""

    code_day: dict[str, int]
    in_text: set[str]
    today: int = 0

    def reply(self, arxiv_id: str) -> Reply:
        if self.today >= self.code_day[arxiv_id]:
            return json_reply(
                200, {"id": arxiv_id, "githubRepo": f"https://github.com/x/{arxiv_id}"}
            )
        return json_reply(404, {"error": "Paper not found"})


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
    ids = []
    for n in range(per_day):
        arxiv_id = _paper_id(day, n)
        delay, in_text = _code_delay(rng)
        world.code_day[arxiv_id] = day + delay
        if in_text:
            world.in_text.add(arxiv_id)
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


def run_ours(days: int, per_day: int, warmup: int, seed: int) -> tuple[int, int]:
    """Requests that reached the fake APIs during the counted days, and failed look-ups."""
    world = World({}, set())
    store = MemoryStore()
    fast = HttpSettings(request_interval=0, timeout=10, max_retries=0)
    failures = 0
    with _fast_server() as server, ClientPool(fast, intervals={}) as pool:
        settings = EnrichSettings(
            code=CodeLinkSettings(hf_base=server.url, pwc_base=f"{server.url}/pwc")
        )
        enrichers = build_enrichers(settings, pool, env={})
        counted_from = 0
        # Papers first seen more than 32 days before the counted month are never asked about
        # again, so older history cannot change our count and is not simulated.
        for day in range(max(0, warmup - RECHECK_DAYS[-1] - 1), warmup + days):
            if day == warmup:
                counted_from = len(server.requests)
            world.today = day
            for arxiv_id in _add_day(world, seed, day, per_day):
                abstract = (
                    f"Code: https://github.com/x/{arxiv_id}."
                    if arxiv_id in world.in_text
                    else "We study."
                )
                store.add(make_paper(arxiv_id, abstract=abstract), T0 + timedelta(days=day))
                _route(server, world, arxiv_id)
            report = enrich(store, settings, enrichers, now=T0 + timedelta(days=day, minutes=5))
            failures += len(report.failures)
        return len(server.requests) - counted_from, failures


def run_cv_arxiv_daily(days: int, per_day: int, warmup: int, seed: int) -> int:
    """One look-up per new paper on its first day, then a weekly look-up of every null row."""
    world = World({}, set())
    without_code: set[str] = set()
    counted = 0
    for day in range(warmup + days):
        requests = 0
        for arxiv_id in _add_day(world, seed, day, per_day):
            requests += 1
            if world.code_day[arxiv_id] > day:
                without_code.add(arxiv_id)
        if day % 7 == 6:
            requests += len(without_code)
            without_code = {a for a in without_code if world.code_day[a] > day}
        counted += requests if day >= warmup else 0
    return counted


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
    for warmup, label in ((0, "first month, empty store"), (args.history, "after history")):
        started = time.monotonic()
        ours, failures = run_ours(args.days, args.per_day, warmup, args.seed)
        elapsed = time.monotonic() - started
        theirs = run_cv_arxiv_daily(args.days, args.per_day, warmup, args.seed)
        print(f"\n{label} ({warmup} days of history)")
        print(
            f"  arxiv-radar (re-checks at 1,2,4,8,16,32 d):  {ours:>7} requests ({elapsed:.0f} s)"
        )
        print(f"  cv-arxiv-daily (day 1 + weekly null rows):   {theirs:>7} requests")
        print(f"  ratio arxiv-radar / cv-arxiv-daily:         {ours / theirs:>7.2f}")
        if failures:
            print(f"  WARNING: {failures} failed look-ups, counts are not comparable")


if __name__ == "__main__":
    main()
