"""No secret leaks, whatever the servers echo back, in whatever encoding.

Every server of this journey echoes the credential it was sent: GitHub's GraphQL quotes the
bearer token, Feishu's ``msg`` quotes its hook token and signing secret, a generic webhook
redirects with its ``?sig=`` and then quotes it, a Slack hook redirects (httpcore logs the
``Location`` at -vv), the SMTP server repeats the base64 AUTH exchange and the translator the
key, each raw, URL-encoded, base64 and JSON-escaped. The real CLI runs ``run``, ``status``,
``doctor``, ``notify`` and ``enrich`` at -vv; then every file left behind (outputs, the database
and its WAL, ``state/`` if any) and every stdout/stderr is searched for each secret in each form.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, unquote, unquote_plus

import pytest

from arxiv_radar import secrets
from arxiv_radar.errors import StageError
from arxiv_radar.paper import Entry, Paper
from arxiv_radar.publish.email import EmailSettings, send_digest
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.echo import (
    echo_github,
    echo_translator,
    encodings,
    feishu_echo,
    generic_redirect_echo,
    slack_redirect,
    smtp_auth_echo,
)
from tests.servers.http import LocalServer, local_server
from tests.servers.smtp import SmtpServer

GITHUB_TOKEN = "ghp_S3CRETgithubTOKEN0000000000000000"
LLM_KEY = "sk-S3CRET/llm+KEY=1111111111"
SMTP_PASSWORD = 'S3CRET/smtp+"pass"&word=2222'
SLACK_TOKEN = "S3CRETslackTOKEN3333xxxx"
SLACK_PATH = f"/services/T0LEAK/B0LEAK/{SLACK_TOKEN}"
FEISHU_TOKEN = "S3CRET-feishu-hook-4444-aaaa-bbbbbbbb"
FEISHU_PATH = f"/open-apis/bot/v2/hook/{FEISHU_TOKEN}"
FEISHU_SECRET = "S3CRET/feishu+sign=5555"
SIG = "S3CRET/sig+6666=="
GENERIC_PATH = "/generic/hook"
SMTP_USER = "radar"
# What smtplib sends for AUTH PLAIN: base64 of "\0user\0password", the password at an offset.
AUTH_PLAIN = base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode()

CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
code_links:
  finders: [text]
  request_interval: 0
translation:
  provider: openai
  base_url: {url}/v1
  model: test-model
  api_key_env: LLM_KEY
email:
  host: 127.0.0.1
  port: {smtp_port}
  security: none
  username: radar
  password_env: SMTP_PASSWORD
  sender: radar@example.org
  recipients: [me@example.org]
chat:
  - service: slack
    webhook_env: SLACK_WEBHOOK_URL
  - service: feishu
    webhook_env: FEISHU_WEBHOOK_URL
    secret_env: FEISHU_SECRET
  - service: generic
    webhook_env: GENERIC_WEBHOOK_URL
endpoints:
  api_url: {url}/api/query
  rss_url: {url}/rss
  hf_url: {url}
  github_api_url: {url}
http:
  request_interval: 0
  max_retries: 1
  backoff_base: 0.01
"""
COMMANDS = (("run",), ("status",), ("doctor",), ("notify",), ("enrich",))


@dataclass
class Journey:
    root: Path
    results: dict[str, subprocess.CompletedProcess[str]]
    server: LocalServer
    smtp: SmtpServer

    def leftovers(self) -> Iterator[tuple[str, bytes]]:
        """Every file the commands wrote and every line they printed."""
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and path.name != "arxiv-radar.yml":
                yield str(path.relative_to(self.root)), path.read_bytes()
        for command, result in self.results.items():
            yield f"{command} stdout", result.stdout.encode()
            yield f"{command} stderr", result.stderr.encode()

    def leaks(self, *secrets: str) -> list[tuple[str, str, str]]:
        """(where, secret, encoding) for every form of ``secrets`` found anywhere; "url-any"
        catches partial URL encodings (httpx leaves ``/`` and ``+`` as they are)."""
        found = []
        for where, data in self.leftovers():
            text = data.decode("utf-8", "replace")
            decoded = {unquote(text), unquote_plus(text)}
            for secret in secrets:
                found += [(where, secret, n) for n, f in encodings(secret).items() if f in text]
                if any(secret in plain for plain in decoded):
                    found.append((where, secret, "url-any"))
        return found


def run_cli(root: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arxiv_radar", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=90,
        # Wide enough that rich never wraps or truncates a line: a wrapped secret would hide.
        env={**os.environ, "COLUMNS": "4000", **env},
        check=False,
    )


def _papers() -> list[Paper]:
    recent = datetime.now(timezone.utc) - timedelta(hours=2)
    return [
        make_paper(
            "2611.00001",
            "Gaussian splatting with code",
            published=recent,
            comment="Code: https://github.com/o/n",
        ),
        make_paper("2611.00002", "Plain splatting paper", published=recent),
    ]


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    """The five commands at -vv against echoing servers (the expensive part, shared)."""
    root = tmp_path_factory.mktemp("leaks")
    with local_server() as server, smtp_auth_echo("PLAIN") as smtp:
        FakeArxiv(server, ["cs.CV"]).announce(date(2026, 11, 24), _papers())
        echo_github(server)
        echo_translator(server)
        slack_redirect(server, SLACK_PATH)
        feishu_echo(server, FEISHU_PATH, secret=FEISHU_SECRET)
        generic_redirect_echo(server, GENERIC_PATH)
        (root / "arxiv-radar.yml").write_text(
            CONFIG.format(url=server.url, smtp_port=smtp.port), encoding="utf-8"
        )
        env = {
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "LLM_KEY": LLM_KEY,
            "SMTP_PASSWORD": SMTP_PASSWORD,
            "SLACK_WEBHOOK_URL": f"{server.url}{SLACK_PATH}",
            "FEISHU_WEBHOOK_URL": f"{server.url}{FEISHU_PATH}",
            "FEISHU_SECRET": FEISHU_SECRET,
            "GENERIC_WEBHOOK_URL": f"{server.url}{GENERIC_PATH}?sig={quote(SIG, safe='')}&v=1",
        }
        results = {args[0]: run_cli(root, "-vv", *args, env=env) for args in COMMANDS}
        yield Journey(root, results, server, smtp)


def test_the_servers_were_asked_and_echoed(journey: Journey) -> None:
    """Otherwise the leak checks below would prove nothing."""
    run = journey.results["run"]
    assert run.returncode == 1, run.stderr  # every destination refused
    assert "Traceback" not in run.stderr
    assert journey.server.requests_to("/graphql")
    assert journey.server.requests_to(f"{GENERIC_PATH}-moved")
    assert journey.server.requests_to(f"/moved{SLACK_PATH}")
    assert journey.server.requests_to(FEISHU_PATH)
    assert "535" in run.stderr and "19021" in run.stderr
    assert "Location" in run.stderr  # -vv really logged response headers
    assert (journey.root / "arxiv-radar.db").exists()


def test_github_token_echoed_by_graphql_reaches_no_record_or_log(journey: Journey) -> None:
    with Store.open(journey.root / "arxiv-radar.db") as store:
        records = json.dumps([run.stats for run in store.recent_runs(10)])
    assert "Bad credentials: bearer ***" in records  # the failure is still told, without it
    assert journey.leaks(GITHUB_TOKEN) == []


def test_feishu_error_msg_is_scrubbed(journey: Journey) -> None:
    assert journey.leaks(FEISHU_TOKEN, FEISHU_SECRET) == []


def test_webhook_query_secret_is_scrubbed_before_and_after_a_redirect(journey: Journey) -> None:
    assert "bad signature" in journey.results["notify"].stderr
    assert journey.leaks(SIG) == []


def test_smtp_auth_exchange_echoed_in_base64_is_scrubbed(journey: Journey) -> None:
    assert journey.leaks(SMTP_PASSWORD) == []
    assert [w for w, data in journey.leftovers() if AUTH_PLAIN.encode() in data] == []


def test_slack_hook_in_a_location_header_at_vv_is_scrubbed(journey: Journey) -> None:
    assert journey.leaks(SLACK_TOKEN, SLACK_PATH) == []


def test_no_secret_in_any_encoding_in_any_file_or_output(journey: Journey) -> None:
    secrets = (GITHUB_TOKEN, LLM_KEY, SMTP_PASSWORD, SLACK_TOKEN, FEISHU_TOKEN, FEISHU_SECRET, SIG)
    assert journey.leaks(*secrets) == []


def test_smtp_auth_login_echo_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUTH LOGIN sends the password alone, base64-encoded; the server repeats that line."""
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
    entry = Entry(paper=_papers()[0], first_seen=datetime.now(timezone.utc))
    with smtp_auth_echo("LOGIN") as smtp:
        settings = EmailSettings(
            host=smtp.host,
            port=smtp.port,
            security="none",
            username=SMTP_USER,
            password_env="SMTP_PASSWORD",
            sender="radar@example.org",
            recipients=("me@example.org",),
        )
        with pytest.raises(StageError) as caught:
            send_digest(settings, sections={"Splatting": [entry]}, day=date(2026, 11, 24))
    told = f"{caught.value} {caught.value.fix}"
    assert "535" in told
    assert [name for name, form in encodings(SMTP_PASSWORD).items() if form in told] == []


# --- the scrubber itself ------------------------------------------------------------------------


def test_base64_of_a_secret_is_scrubbed_at_every_offset_of_a_blob() -> None:
    """AUTH PLAIN puts the password after the user name: any alignment must be caught."""
    secret = "Offset-S3CRET-7777"
    secrets.register(secret)
    for prefix in ("", "a", "ab", "\0user\0", "\0radar\0", "\0longer-user\0"):
        blob = base64.b64encode(f"{prefix}{secret}tail".encode()).decode()
        scrubbed = secrets.scrub(f"535 {blob}")
        assert "***" in scrubbed, prefix
        for kept in scrubbed[4:].split("***"):  # what is left decodes to no part of the secret
            assert secret[:6] not in base64.b64decode(kept + "=" * (-len(kept) % 4)).decode(
                "latin-1"
            )


def test_the_cli_handler_scrubs_records_of_every_logger() -> None:
    """Filters on loggers miss records that propagate from child loggers; a handler's does not."""
    secret = "Handler-S3CRET-8888"
    secrets.register(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    secrets.install(handler)
    logger = logging.getLogger("some.library.child")
    logger.addHandler(handler)
    try:
        logger.warning("Location: %s (%d)", f"https://h/x?sig={quote(secret, safe='')}", 302)
        logger.warning(f"headers=[(b'Authorization', b'bearer {secret}')]")
    finally:
        logger.removeHandler(handler)
    assert secret not in stream.getvalue() and quote(secret, safe="") not in stream.getvalue()
    assert "(302)" in stream.getvalue()


def test_values_too_short_to_be_secrets_are_left_alone() -> None:
    secrets.register("abc", "")
    assert secrets.scrub("abc and more") == "abc and more"
