"""Issue 14, part A: broken or hostile servers cannot hang, crash or bloat a run.

Every case runs against a real server on 127.0.0.1: the hostile raw-socket server of
``tests/servers/hostile.py`` for answers that must be written byte by byte (dripping, 200 MB
streams, gzip bombs), the ordinary local server with the fakes for the rest. The size cases run
the client in a subprocess and measure its peak memory (``VmHWM``) and run time there, with
an address-space limit so that a regression fails with MemoryError instead of eating the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from arxiv_radar.config import load_workspace
from arxiv_radar.errors import FetchError
from arxiv_radar.http import PoliteClient
from arxiv_radar.http_budget import HttpSettings
from arxiv_radar.paper import TEXT_CAPS
from arxiv_radar.pipeline import RunOutcome, run_pipeline
from arxiv_radar.sources.arxiv_api import ArxivAPI
from arxiv_radar.sources.listing import fetch_listing
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.fake_apis import FakeGitHub, FakeHuggingFace, json_reply
from tests.servers.faults import FaultInjector
from tests.servers.hostile import (
    HostileServer,
    big_body,
    corrupt_gzip,
    deep_json,
    drip_body,
    drip_headers,
    gzip_bomb,
    hostile_server,
    redirect_loop,
)
from tests.servers.http import LocalServer, Reply, Request
from tests.test_pipeline import cli

SRC = Path(__file__).resolve().parents[1] / "src"
DAY = date(2026, 11, 24)
RECENT = datetime.now(timezone.utc) - timedelta(hours=3)
QUICK = HttpSettings(
    request_interval=0, timeout=1.0, request_deadline=1.5, max_retries=0, backoff_base=0.01
)
CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splats
    query: 'ti:splatting'
    categories: [cs.CV]
site:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
  hf_url: {base}
  github_api_url: {base}
http:
  request_interval: 0
  timeout: 2
  max_retries: 1
  backoff_base: 0.01
code_links:
  request_interval: 0
  finders: [text, huggingface]
"""


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with hostile_server() as running:
        yield running


def _workspace(
    root: Path, server: LocalServer, papers: list[Any], extra: str = ""
) -> tuple[FakeArxiv, Path]:
    arxiv = FakeArxiv(server, ["cs.CV"])
    arxiv.announce(DAY, papers)
    text = CONFIG.format(api=arxiv.api_url, rss=arxiv.rss_url, base=server.url) + extra
    (root / "arxiv-radar.yml").write_text(text, encoding="utf-8")
    return arxiv, root / "arxiv-radar.yml"


def _run(config: Path, stages: tuple[str, ...] = ("fetch", "enrich", "publish")) -> RunOutcome:
    return run_pipeline(load_workspace(config, env={}), stages, command="run")


def _splats(count: int = 2) -> list[Any]:
    return [
        make_paper(f"2611.{k:05d}", f"Splatting paper {k}", published=RECENT)
        for k in range(1, count + 1)
    ]


# --- Hangs and stalls -------------------------------------------------------------------------


def test_a_server_dripping_its_body_fails_within_the_request_deadline(
    hostile: HostileServer,
) -> None:
    hostile.route("/drip", drip_body(interval=0.05, size=200))  # 10 s for the whole body
    started = time.monotonic()
    with PoliteClient(QUICK) as client, pytest.raises(FetchError, match="timed out"):
        client.get(f"{hostile.url}/drip", accept="text/plain")
    assert time.monotonic() - started < QUICK.request_deadline + 1.0


def test_a_server_dripping_its_headers_fails_within_the_request_deadline(
    hostile: HostileServer,
) -> None:
    hostile.route("/drip", drip_headers(interval=0.05, count=200))
    started = time.monotonic()
    with PoliteClient(QUICK) as client, pytest.raises(FetchError, match="timed out"):
        client.get(f"{hostile.url}/drip", accept="text/plain")
    assert time.monotonic() - started < QUICK.request_deadline + 1.0


def test_the_deadline_holds_on_a_transport_without_the_guarded_backend(
    hostile: HostileServer,
) -> None:
    """A caller's (or a proxy's) transport has httpx's own sockets: the body read still stops."""
    hostile.route("/drip", drip_body(interval=0.05, size=200))
    started = time.monotonic()
    with (
        PoliteClient(QUICK, transport=httpx.HTTPTransport()) as client,
        pytest.raises(FetchError, match="timed out"),
    ):
        client.get(f"{hostile.url}/drip", accept="text/plain")
    assert time.monotonic() - started < QUICK.request_deadline + 1.0


def test_a_run_past_its_budget_stops_keeps_what_it_committed_and_exits_1(
    tmp_path: Path, server: LocalServer
) -> None:
    arxiv, config = _workspace(tmp_path, server, _splats())
    text = config.read_text(encoding="utf-8")
    text = text.replace(
        "  timeout: 2\n", "  timeout: 30\n  request_deadline: 30\n  run_budget: 2\n"
    )
    # A topic without categories is searched through the API after the listing is committed.
    text = text.replace("topics:\n", "topics:\n  - name: Everything\n    query: 'all:splatting'\n")
    config.write_text(text, encoding="utf-8")
    server.route("GET", "/api/query", _silent_search(arxiv))
    started = time.monotonic()
    result = cli("run", cwd=tmp_path)
    assert time.monotonic() - started < 20  # not the 30 s timeout, not the 60 s silence
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        (run,) = store.recent_runs(1)
        assert store.paper_count() == 2  # the listing's matches, committed before the search
    # Fetch stopped in its search; enrich, on the same budget, stopped before its first request.
    assert [e["stage"] for e in run.errors] == ["fetch", "enrich"]
    assert all("run budget of 2 s is spent" in e["error"] for e in run.errors)
    assert "publish" in run.stats  # publishing still ran
    assert (tmp_path / "README.md").is_file()


def _silent_search(arxiv: FakeArxiv) -> Any:
    """The real API for id look-ups; a topic search is answered after a minute of silence."""
    real = arxiv.server.routes[("GET", "/api/query")]

    def answer(request: Request) -> Reply:
        return Reply(body=b"", delay=60) if request.param("search_query") else real.next(request)

    return answer


def test_retry_after_beyond_the_allowance_is_deferred_not_slept(
    tmp_path: Path, server: LocalServer
) -> None:
    allowance = "  retry_after_max: 0.2\n  retry_after_per_host: 0.5\n"
    _, config = _workspace(tmp_path, server, _splats(5))
    text = config.read_text(encoding="utf-8").replace("  max_retries: 1\n", allowance)
    config.write_text(text, encoding="utf-8")
    for k in range(1, 6):
        _hf_route(server, f"2611.{k:05d}", json_reply(429, {}, {"Retry-After": "300"}))
    started = time.monotonic()
    result = cli("run", cwd=tmp_path)
    assert time.monotonic() - started < 30  # not 5 papers x (retries + 1) x 300 s
    assert result.returncode == 0, result.stderr  # pending look-ups are not a failed run
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        (run,) = store.recent_runs(1)
    host = server.url.removeprefix("http://")
    assert run.stats["deferred"] == {host: 300.0}
    reasons = [f["reason"] for f in run.stats["enrich"]["failures"]]
    assert len(reasons) == 5
    assert any("deferred to the next run" in reason for reason in reasons)
    # At most 0.5 s of waits were granted (0.2 s each): two look-ups retried, then none.
    lookups = sum(
        len(server.requests_to(FakeHuggingFace.path(f"2611.{k:05d}"))) for k in range(1, 6)
    )
    assert lookups <= 2 * 4 + 1


# --- Crashes that skip publishing -------------------------------------------------------------


def test_a_redirect_loop_is_a_recorded_fetch_failure_and_publish_still_runs(
    tmp_path: Path, server: LocalServer
) -> None:
    _workspace(tmp_path, server, _splats())
    server.route("GET", "/rss/cs.CV", redirect_loop("/rss/cs.CV"))
    outcome = _run(tmp_path / "arxiv-radar.yml", ("fetch", "publish"))
    assert outcome.exit_code == 1
    (error,) = outcome.errors
    assert error["stage"] == "fetch" and "TooManyRedirects" in error["error"]
    assert "publish" in outcome.stats
    assert (tmp_path / "README.md").is_file()


def test_an_exception_no_handler_foresaw_is_that_stage_s_recorded_failure(
    tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feishu's answer is read with ``response.json()``: 200,000-deep JSON raises RecursionError
    there, which no handler expects. It fails the notify stage, on the record, not the run."""
    chat = "chat:\n  - service: feishu\n    webhook_env: FEISHU_HOOK\n"
    _workspace(tmp_path, server, _splats(), chat)
    server.route("POST", "/feishu-hook", deep_json(200_000))
    monkeypatch.setenv("FEISHU_HOOK", f"{server.url}/feishu-hook")
    outcome = _run(tmp_path / "arxiv-radar.yml", ("fetch", "publish", "notify"))
    assert outcome.exit_code == 1
    (error,) = outcome.errors
    assert error["stage"] == "notify" and error["error"].startswith("RecursionError: ")
    assert {"fetch", "publish"} <= set(outcome.stats)
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        (run,) = store.recent_runs(1)
    assert run.status == "partial" and run.errors == outcome.errors


def _hf_route(server: LocalServer, arxiv_id: str, reply: Reply) -> None:
    server.route("GET", FakeHuggingFace.path(arxiv_id), reply)


def _code_urls(root: Path) -> dict[str, str | None]:
    with Store.open(root / "arxiv-radar.db") as store:
        return {e.paper.arxiv_id: e.code_url for e in store.topic_entries("Splats")}


def test_a_corrupt_gzip_body_is_one_failed_lookup(tmp_path: Path, server: LocalServer) -> None:
    _workspace(tmp_path, server, _splats())
    _hf_route(server, "2611.00001", corrupt_gzip())
    FakeHuggingFace(server).paper("2611.00002", repo="https://github.com/o/good")
    outcome = _run(tmp_path / "arxiv-radar.yml")
    assert outcome.errors == []
    (failure,) = outcome.stats["enrich"]["failures"]
    assert failure["arxiv_id"] == "2611.00001" and "corrupt compressed body" in failure["reason"]
    assert _code_urls(tmp_path) == {"2611.00001": None, "2611.00002": "https://github.com/o/good"}


def test_200000_deep_json_is_one_failed_lookup(tmp_path: Path, server: LocalServer) -> None:
    _workspace(tmp_path, server, _splats())
    _hf_route(server, "2611.00001", deep_json(200_000))
    FakeHuggingFace(server).paper("2611.00002", repo="https://github.com/o/good")
    outcome = _run(tmp_path / "arxiv-radar.yml")
    assert outcome.errors == []
    (failure,) = outcome.stats["enrich"]["failures"]
    assert failure["arxiv_id"] == "2611.00001" and "RecursionError" in failure["reason"]
    assert _code_urls(tmp_path)["2611.00002"] == "https://github.com/o/good"


def test_absurd_star_counts_are_dropped_not_a_crash(
    tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "gh-test-token")
    _workspace(tmp_path, server, _splats(1))
    FakeHuggingFace(server).paper("2611.00001", repo="https://github.com/o/huge", stars=10**30)
    FakeGitHub(server, "gh-test-token", {"o/huge": 10**25})
    outcome = _run(tmp_path / "arxiv-radar.yml")
    assert outcome.errors == [], outcome.errors
    assert len(server.requests_to("/graphql")) == 1  # GitHub was asked, and answered 10**25
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        (entry,) = store.topic_entries("Splats")
    assert entry.code_url == "https://github.com/o/huge"
    assert entry.stars is None


def _dated_9999(request: Request, real: Any) -> Reply:
    reply = real()
    body = reply.payload().replace(b"<published>2026-", b"<published>9999-", 1)
    return Reply(body=body, headers=reply.headers)


def test_an_entry_dated_9999_is_rejected_and_publishing_goes_on(
    tmp_path: Path, server: LocalServer
) -> None:
    _workspace(tmp_path, server, _splats(2))
    FaultInjector(server, "/api/query").always(_dated_9999)
    for _ in range(2):  # the next run is not blocked either
        outcome = _run(tmp_path / "arxiv-radar.yml", ("fetch", "publish"))
        assert outcome.errors == [], outcome.errors
    rejected = outcome.stats["fetch"]["rejected"]
    assert rejected and "implausible published date '9999-" in rejected[0]
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        years = {e.paper.published.year for e in store.topic_entries("Splats")}
        assert store.paper_count() == 2
    assert years == {RECENT.year}  # the rejected entry's paper keeps the listing's date
    assert "9999" not in (tmp_path / "README.md").read_text(encoding="utf-8")


def _atom_entry(arxiv_id: str, title: bytes, *, category: bool = True) -> bytes:
    cat = b'<category term="cs.CV"/><arxiv:primary_category term="cs.CV"/>' if category else b""
    return (
        b"<entry><id>http://arxiv.org/abs/" + arxiv_id.encode() + b"v1</id>"
        b"<title>" + title + b"</title><summary>An abstract.</summary>"
        b"<published>2026-11-20T18:00:00Z</published><updated>2026-11-20T18:00:00Z</updated>"
        + cat
        + b"<author><name>A. Author</name></author></entry>"
    )


def _feed(entries: list[bytes]) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        b'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        b'xmlns:arxiv="http://arxiv.org/schemas/atom">'
        b"<opensearch:totalResults>%d</opensearch:totalResults>"
        b"<opensearch:startIndex>0</opensearch:startIndex>"
        % len(entries)
        + b"".join(entries)
        + b"</feed>"
    )


def test_bad_api_entries_are_skipped_and_the_good_ones_beside_them_kept(
    server: LocalServer,
) -> None:
    body = _feed(
        [
            _atom_entry("2611.00001", b"Good one"),
            _atom_entry("../../etc/passwd", b"Traversal"),
            _atom_entry("2611.00003", b"Bad byte \xff here"),
            _atom_entry("2611.00004", b"No category", category=False),
            _atom_entry("2611.00005", b"Good two"),
        ]
    )
    server.route("GET", "/api/query", Reply(body=body))
    with PoliteClient(QUICK) as client:
        api = ArxivAPI(client, f"{server.url}/api/query")
        papers = api.fetch_ids([f"2611.0000{k}" for k in (1, 3, 4, 5)])
    assert sorted(p.arxiv_id for p in papers) == ["2611.00001", "2611.00005"]
    assert len(api.rejected) == 3
    assert "'http://arxiv.org/abs/../../etc/passwdv1' is not an arXiv id" in api.rejected[0]
    assert "2611.00003 holds invalid UTF-8" in api.rejected[1]
    assert "2611.00004 has no category" in api.rejected[2]


def _rss_item(guid: bytes, title: bytes) -> bytes:
    return (
        b"<item><title>" + title + b"</title><description>Announce Type: new</description>"
        b'<guid isPermaLink="false">oai:arXiv.org:' + guid + b"</guid>"
        b"<category>cs.CV</category><arxiv:announce_type>new</arxiv:announce_type></item>"
    )


def test_bad_listing_items_are_skipped_and_the_good_ones_beside_them_kept(
    server: LocalServer,
) -> None:
    items = [
        _rss_item(b"2611.00001v1", b"Good"),
        _rss_item(b"../../etc/passwd", b"Traversal"),
        _rss_item(b"2611.00003v1", b"Bad \xc3 byte"),
        _rss_item(b"2611.00004v1", b"Also good"),
    ]
    body = (
        b"<?xml version='1.0' encoding='UTF-8'?>\n"
        b'<rss xmlns:arxiv="http://arxiv.org/schemas/atom" version="2.0"><channel>'
        b"<pubDate>Tue, 24 Nov 2026 00:00:00 -0500</pubDate>"
        + b"".join(items)
        + b"</channel></rss>"
    )
    server.route("GET", "/rss/cs.CV", Reply(body=body))
    with PoliteClient(QUICK) as client:
        listing = fetch_listing(client, f"{server.url}/rss", ["cs.CV"])
    assert [i.arxiv_id for i in listing.items] == ["2611.00001", "2611.00004"]
    assert listing.announced == DAY
    assert len(listing.rejected) == 2
    assert "item 2 ('Traversal') has no readable arXiv id" in listing.rejected[0]
    assert "item 3 (2611.00003) holds invalid UTF-8" in listing.rejected[1]


# --- Size and memory ----------------------------------------------------------------------------

_PROBE = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
from arxiv_radar.http import PoliteClient
from arxiv_radar.http_budget import HttpSettings
settings = HttpSettings(request_interval=0, timeout=5, request_deadline=60, max_retries=0,
                        **json.loads(sys.argv[2]))
def peak_mb():
    # VmHWM, not ru_maxrss: after a vfork+exec, ru_maxrss starts at the parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
started = time.monotonic()
try:
    with PoliteClient(settings) as client:
        body = client.get(sys.argv[1], accept="*/*").content
    outcome = f"read {len(body)} bytes"
except BaseException as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({"outcome": outcome, "seconds": time.monotonic() - started,
                  "peak_mb": peak_mb()}))
"""


def probe(url: str, **settings: object) -> dict[str, Any]:
    """GET ``url`` in a fresh interpreter; its outcome, run time and peak memory (MB)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PROBE), url, json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        check=True,
    )
    measured: dict[str, Any] = json.loads(result.stdout)
    return measured


def test_a_200_mb_body_is_refused_before_it_is_read(hostile: HostileServer) -> None:
    hostile.route("/big", big_body(200 * 2**20))
    measured = probe(f"{hostile.url}/big")
    assert "FetchError" in measured["outcome"]
    assert "declares 209715200 bytes, more than the limit of" in measured["outcome"]
    assert measured["peak_mb"] < 100, measured
    assert measured["seconds"] < 5, measured


def test_an_undeclared_huge_body_stops_at_the_cap(hostile: HostileServer) -> None:
    hostile.route("/big", big_body(200 * 2**20, declare=False))
    measured = probe(f"{hostile.url}/big", max_response_bytes=4 * 2**20)
    assert "FetchError" in measured["outcome"], measured
    assert "larger than the limit of 4194304 bytes" in measured["outcome"]
    assert measured["peak_mb"] < 100, measured


def test_a_gzip_bomb_stops_at_the_cap_without_inflating(hostile: HostileServer) -> None:
    hostile.route("/bomb", gzip_bomb(4 * 2**20))  # ~4 GB of zeros once inflated
    measured = probe(f"{hostile.url}/bomb", max_response_bytes=8 * 2**20)
    assert "FetchError" in measured["outcome"], measured
    assert "larger than the limit of 8388608 bytes" in measured["outcome"]
    assert measured["peak_mb"] < 100, measured
    assert measured["seconds"] < 10, measured


@pytest.mark.parametrize("wbits", [31, 15], ids=["gzip", "deflate"])
def test_compressed_answers_within_the_cap_are_still_read_whole(
    server: LocalServer, wbits: int
) -> None:
    """The bounded inflater must decode what httpx used to: a megabyte and more, in pieces."""
    payload = b"".join(b"line %d of a listing\n" % k for k in range(200_000))
    encoding = "gzip" if wbits == 31 else "deflate"
    packed = zlib.compress(payload, 6, wbits=wbits)
    server.route("GET", "/z", Reply(body=packed, headers={"Content-Encoding": encoding}))
    with PoliteClient(QUICK) as client:
        response = client.get(f"{server.url}/z", accept="text/plain")
    assert response.content == payload
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _huge_title(size: int) -> Any:
    """Serve the real answer with the paper's title marker blown up to ``size`` characters
    (a ``Paper`` cannot carry such a title: it caps its own fields)."""

    def fault(request: Request, real: Any) -> Reply:
        reply = real()
        body = reply.payload().replace(b"HUGE-TITLE", b"x" * size)
        return Reply(body=body, headers=reply.headers)

    return fault


def test_a_huge_title_is_capped_in_the_store_and_every_output(
    tmp_path: Path, server: LocalServer
) -> None:
    _workspace(tmp_path, server, [make_paper("2611.00001", "Splatting HUGE-TITLE")])
    for path in ("/rss/cs.CV", "/api/query"):  # under the response cap, far over the title cap
        FaultInjector(server, path).always(_huge_title(5_000_000))
    outcome = _run(tmp_path / "arxiv-radar.yml", ("fetch", "publish"))
    assert outcome.errors == []
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        (entry,) = store.topic_entries("Splats")
    assert entry.paper.title.startswith("Splatting xxx")
    assert len(entry.paper.title) == TEXT_CAPS["title"] and entry.paper.title.endswith("…")
    assert _tree_bytes(tmp_path) < 2_000_000  # the store, the WAL and every output together
