"""Email and chat inside real runs: new papers go out once per destination, failures retry."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import LocalServer, Reply
from tests.servers.smtp import smtp_server
from tests.test_pipeline import cli

PASSWORD = "smtp-SECRET-pass"
CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splats
    keywords: ["gaussian splatting"]
endpoints:
  api_url: {api}
  rss_url: {rss}
  hf_url: {base}/hf
  pwc_url: {base}/pwc
http:
  request_interval: 0
  max_retries: 0
code_links:
  request_interval: 0
email:
  host: 127.0.0.1
  port: {smtp_port}
  security: none
  username: radar
  password_env: SMTP_PASSWORD
  sender: radar@example.org
  recipients: [a@example.org, b@example.org]
chat:
  - service: slack
    webhook_env: SLACK_WEBHOOK_URL
"""


def announce(arxiv: FakeArxiv, day: date, *ids: str) -> None:
    recent = datetime.now(timezone.utc) - timedelta(hours=3)
    papers = [make_paper(i, f"Gaussian splatting {i}", published=recent) for i in ids]
    arxiv.announce(day, papers)


def test_each_destination_gets_each_paper_once(tmp_path: Path, server: LocalServer) -> None:
    arxiv = FakeArxiv(server, ["cs.CV"])
    server.route("POST", "/hooks/slack", Reply(body="ok"))
    announce(arxiv, date(2026, 11, 23), "2611.00001", "2611.00002")
    with smtp_server(user="radar", password=PASSWORD) as smtp:
        (tmp_path / "arxiv-radar.yml").write_text(
            CONFIG.format(
                api=arxiv.api_url, rss=arxiv.rss_url, base=server.url, smtp_port=smtp.port
            ),
            encoding="utf-8",
        )
        env = {"SMTP_PASSWORD": PASSWORD, "SLACK_WEBHOOK_URL": f"{server.url}/hooks/slack"}
        first = cli("run", cwd=tmp_path, env=env)
        assert first.returncode == 0, first.stderr
        assert len(smtp.received) == 1
        mail = smtp.received[0]
        assert set(mail.rcpt_tos) == {"a@example.org", "b@example.org"}
        body = mail.message.get_body(("plain",))
        assert body is not None and "2611.00001" in body.get_content()
        slack = [json.loads(r.body) for r in server.requests_to("/hooks/slack")]
        assert len(slack) == 1 and "2611.00002" in slack[0]["text"]

        assert cli("run", cwd=tmp_path, env=env).returncode == 0  # nothing new: nothing sent
        assert len(smtp.received) == 1 and len(server.requests_to("/hooks/slack")) == 1

        announce(arxiv, date(2026, 11, 24), "2611.00003")
        assert cli("run", cwd=tmp_path, env=env).returncode == 0
        latest = smtp.received[-1].message.get_body(("plain",))
        assert latest is not None
        text = latest.get_content()
        assert "2611.00003" in text and "2611.00001" not in text

    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes()


def test_a_failed_send_is_retried_next_run(tmp_path: Path, server: LocalServer) -> None:
    arxiv = FakeArxiv(server, ["cs.CV"])
    server.route("POST", "/hooks/slack", Reply(500, "down"))  # down through every retry
    announce(arxiv, date(2026, 11, 23), "2611.00001")
    with smtp_server(user="radar", password=PASSWORD) as smtp:
        (tmp_path / "arxiv-radar.yml").write_text(
            CONFIG.format(
                api=arxiv.api_url, rss=arxiv.rss_url, base=server.url, smtp_port=smtp.port
            ),
            encoding="utf-8",
        )
        env = {"SMTP_PASSWORD": PASSWORD, "SLACK_WEBHOOK_URL": f"{server.url}/hooks/slack"}
        failed = cli("run", cwd=tmp_path, env=env)
        assert failed.returncode == 1
        assert "chat:slack:SLACK_WEBHOOK_URL" in failed.stderr
        assert "/hooks/slack" not in failed.stderr  # the webhook URL is a secret
        assert len(smtp.received) == 1  # the email went out regardless
        # Only the complete delivery moves its destination's watermark.
        marks = watermarks(tmp_path)
        assert marks["email"] is not None and marks["chat:slack:SLACK_WEBHOOK_URL"] is None

        server.route("POST", "/hooks/slack", Reply(body="ok"))
        assert cli("notify", cwd=tmp_path, env=env).returncode == 0
        posts = server.requests_to("/hooks/slack")
        assert "2611.00001" in json.loads(posts[-1].body)["text"]
        assert len(smtp.received) == 1  # email already had it
        assert watermarks(tmp_path)["chat:slack:SLACK_WEBHOOK_URL"] == marks["email"]


def watermarks(root: Path) -> dict[str, str | None]:
    """Each destination's delivery watermark, as the committed state holds it."""
    state = json.loads((root / "state" / "watermarks.json").read_text(encoding="utf-8"))
    return {row["channel"]: row["delivered_through"] for row in state["tables"]["destinations"]}


def test_unset_secret_is_a_user_error_before_any_request(
    tmp_path: Path, server: LocalServer
) -> None:
    arxiv = FakeArxiv(server, ["cs.CV"])
    announce(arxiv, date(2026, 11, 23), "2611.00001")
    (tmp_path / "arxiv-radar.yml").write_text(
        CONFIG.format(api=arxiv.api_url, rss=arxiv.rss_url, base=server.url, smtp_port=25),
        encoding="utf-8",
    )
    result = cli("run", cwd=tmp_path, env={"SMTP_PASSWORD": "", "SLACK_WEBHOOK_URL": ""})
    assert result.returncode == 2
    assert "SMTP_PASSWORD" in result.stderr and "SLACK_WEBHOOK_URL" in result.stderr
    assert server.requests == []
