"""Who gets which papers, and how often: destinations added later, backfills, timeouts, crashes.

Every run is the CLI as a subprocess against the fake arXiv and a local webhook server.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import LocalServer, Reply, Request
from tests.test_pipeline import cli

CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splats
    keywords: ["gaussian splatting"]
code_links:
  enabled: false
endpoints:
  api_url: {api}
  rss_url: {rss}
http:
  request_interval: 0
  max_retries: 3
  backoff_base: 0.01
  timeout: {timeout}
chat:
{chat}"""
HOOK = """\
  - service: {service}
    webhook_env: {env}
    backlog_days: {backlog}
"""


def write_config(
    root: Path, arxiv: FakeArxiv, hooks: list[tuple[str, str, int]], timeout: float = 5
) -> None:
    chat = "".join(HOOK.format(service=s, env=e, backlog=b) for s, e, b in hooks)
    text = CONFIG.format(api=arxiv.api_url, rss=arxiv.rss_url, chat=chat, timeout=timeout)
    (root / "arxiv-radar.yml").write_text(text, encoding="utf-8")


def announce(arxiv: FakeArxiv, day: date, ids: list[str], title: str = "") -> None:
    recent = datetime.now(timezone.utc) - timedelta(hours=3)
    papers = [make_paper(i, f"Gaussian splatting {i} {title}", published=recent) for i in ids]
    arxiv.announce(day, papers)


def posted_ids(server: LocalServer, path: str) -> list[str]:
    """Every arXiv id in every body POSTed to ``path``, once per message that carried it."""
    found: list[str] = []
    for request in server.requests_to(path):
        body = request.body.decode("utf-8")
        found += sorted(set(re.findall(r"\d{4}\.\d{5}", body)))
    return found


def env_for(server: LocalServer, *names: str) -> dict[str, str]:
    return {name: f"{server.url}/hooks/{name.lower()}" for name in names}


def test_a_backfill_sends_no_old_papers_to_an_existing_destination(
    tmp_path: Path, server: LocalServer
) -> None:
    arxiv = FakeArxiv(server, ["cs.CV"])
    server.route("POST", "/hooks/hook_a", Reply(200, "ok"))
    announce(arxiv, date(2026, 11, 23), ["2611.00001", "2611.00002"])
    write_config(tmp_path, arxiv, [("generic", "HOOK_A", 0)])
    env = env_for(server, "HOOK_A")
    assert cli("run", cwd=tmp_path, env=env).returncode == 0
    assert sorted(posted_ids(server, "/hooks/hook_a")) == ["2611.00001", "2611.00002"]

    # What `arxiv-radar backfill --from 2010-01-01 ...` stores: old papers, first seen today.
    old = [
        make_paper(
            f"1001.{n:05d}",
            f"Gaussian splatting in 2010 {n}",
            published=datetime(2010, 1, 5 + n, tzinfo=timezone.utc),
        )
        for n in range(3)
    ]
    with Store.open(tmp_path / "arxiv-radar.db") as store:
        now = datetime.now(timezone.utc)
        store.upsert_papers(old, seen_at=now, source="backfill")
        store.add_matches("Splats", [p.arxiv_id for p in old], matched_at=now)
    result = cli("notify", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert len(server.requests_to("/hooks/hook_a")) == 1  # nothing new to say


def test_a_destination_added_later_gets_papers_announced_since_and_backlog_is_opt_in(
    tmp_path: Path, server: LocalServer
) -> None:
    arxiv = FakeArxiv(server, ["cs.CV"])
    for name in ("hook_a", "hook_b", "hook_c"):
        server.route("POST", f"/hooks/{name}", Reply(200, "ok"))
    announce(arxiv, date(2026, 11, 23), ["2611.00001", "2611.00002"])
    env = env_for(server, "HOOK_A", "HOOK_B", "HOOK_C")
    write_config(tmp_path, arxiv, [("generic", "HOOK_A", 0)])
    assert cli("run", cwd=tmp_path, env=env).returncode == 0

    hooks = [("generic", "HOOK_A", 0), ("generic", "HOOK_B", 0), ("generic", "HOOK_C", 7)]
    write_config(tmp_path, arxiv, hooks)
    assert cli("notify", cwd=tmp_path, env=env).returncode == 0
    assert posted_ids(server, "/hooks/hook_b") == []  # the store's history is not news to B
    assert sorted(posted_ids(server, "/hooks/hook_c")) == ["2611.00001", "2611.00002"]

    announce(arxiv, date(2026, 11, 24), ["2611.00003"])
    assert cli("run", cwd=tmp_path, env=env).returncode == 0
    assert posted_ids(server, "/hooks/hook_b") == ["2611.00003"]
    assert posted_ids(server, "/hooks/hook_a")[-1:] == ["2611.00003"]
    assert Counter(posted_ids(server, "/hooks/hook_c"))["2611.00003"] == 1


def test_a_chat_post_that_timed_out_is_not_resent_in_the_same_run(
    tmp_path: Path, server: LocalServer
) -> None:
    arxiv = FakeArxiv(server, ["cs.CV"])
    # The service acts on the message but answers too late: the client times out after sending.
    server.route("POST", "/hooks/hook_a", Reply(200, "ok", delay=2.5))
    announce(arxiv, date(2026, 11, 23), ["2611.00001"])
    write_config(tmp_path, arxiv, [("slack", "HOOK_A", 0)], timeout=1)
    env = env_for(server, "HOOK_A")
    result = cli("run", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert len(server.requests_to("/hooks/hook_a")) == 1  # not retried blindly
    assert "may have arrived, so it is not sent again in this run" in result.stderr
    assert "/hooks/hook_a" not in result.stderr  # still no secret URL

    server.route("POST", "/hooks/hook_a", Reply(200, "ok"))
    assert cli("notify", cwd=tmp_path, env=env).returncode == 0  # sent again: one duplicate
    assert cli("notify", cwd=tmp_path, env=env).returncode == 0  # and then never again
    assert posted_ids(server, "/hooks/hook_a") == ["2611.00001", "2611.00001"]


def test_a_run_killed_after_the_webhook_accepted_sends_at_most_one_duplicate(
    tmp_path: Path, server: LocalServer
) -> None:
    arxiv = FakeArxiv(server, ["cs.CV"])
    ids = [f"2611.{n:05d}" for n in range(1, 25)]
    announce(arxiv, date(2026, 11, 23), ids, title="with a long title " * 6)
    write_config(tmp_path, arxiv, [("discord", "HOOK_A", 0)])
    env = env_for(server, "HOOK_A")
    process = subprocess.Popen(
        [sys.executable, "-m", "arxiv_radar", "run"],
        cwd=tmp_path,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def accept_then_kill(request: Request) -> Reply:
        if len(server.requests_to("/hooks/hook_a")) == 2:
            os.kill(process.pid, signal.SIGKILL)  # accepted, but never recorded
        return Reply(204)

    server.route("POST", "/hooks/hook_a", accept_then_kill)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    first_run = [json.loads(r.body)["content"] for r in server.requests_to("/hooks/hook_a")]
    assert len(first_run) == 2
    second_message = set(re.findall(r"\d{4}\.\d{5}", first_run[1]))

    server.route("POST", "/hooks/hook_a", Reply(204))
    assert cli("notify", cwd=tmp_path, env=env).returncode == 0
    counts = Counter(posted_ids(server, "/hooks/hook_a"))
    assert set(counts) == set(ids)  # nothing lost
    assert {i for i, n in counts.items() if n == 2} == second_message  # one message twice
    assert max(counts.values()) == 2
