"""Secrets never leak and hostile paper text stays inert, through the whole pipeline.

One run of the real CLI at -vv with every secret the config can name (a GitHub token, an LLM key,
an SMTP password, a Slack webhook URL) and papers whose titles and abstracts carry <script>, pipes,
newlines, Markdown and HTML. Then every byte the run left behind (outputs, the store and its WAL,
stdout, stderr, the email, the chat message) is searched for the secrets and for live markup.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from markdown_it import MarkdownIt

from arxiv_radar.paper import Paper
from arxiv_radar.publish.export import read_json_exports
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.fake_apis import FakeChat, FakeGitHub, FakeHuggingFace
from tests.servers.faults import FaultInjector, unavailable
from tests.servers.http import LocalServer, Reply, local_server
from tests.servers.smtp import SmtpServer, smtp_server

SECRETS = {
    "GITHUB_TOKEN": "ghp_S3CRETgithubTOKEN0000000000000000",
    "LLM_KEY": "sk-S3CRETllmKEY1111111111111111",
    "SMTP_PASSWORD": "S3CRETsmtpPASSWORD2222",
}
HOOK_SECRET = "S3CREThook3333333333"
HOSTILE_TITLE = (
    '<script>alert("t")</script> Gaussian | splatting **bold** [click](javascript:alert(1)) '
    "<img src=x onerror=alert(2)> `code` # heading"
)
HOSTILE_ABSTRACT = (
    "First line\n| a | b |\n|---|---|\n<script>alert('a')</script> "
    "<iframe src=//evil.example></iframe> ![x](javascript:alert(3)) _under_ & done"
)
# Markup that would run or load something: the hostile text may be shown, only as text.
LIVE_MARKUP = re.compile(
    r"<script>alert|<img src=x|<iframe|(?:href|src)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE
)

CONFIG = """\
categories: [cs.CV]
topics:
  - name: Splatting
    query: 'ti:splatting'
    categories: [cs.CV]
code_links:
  finders: [text, huggingface]
  request_interval: 0
feeds:
  csv: true  # opt-in; checked below like the JSON
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


@dataclass
class Outcome:
    root: Path
    result: subprocess.CompletedProcess[str]
    smtp: SmtpServer
    server: LocalServer

    def leftovers(self) -> Iterator[tuple[str, bytes]]:
        """Everything the run left behind that a secret could have reached."""
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and path.name != "arxiv-radar.yml":
                yield str(path.relative_to(self.root)), path.read_bytes()
        yield "stdout", self.result.stdout.encode()
        yield "stderr", self.result.stderr.encode()
        for number, message in enumerate(self.smtp.received):
            yield f"email {number}", message.raw
        for request in self.server.requests:
            if request.path.startswith("/hooks/"):
                yield f"chat post {request.path}", request.body


def hostile_papers() -> list[Paper]:
    recent = datetime.now(timezone.utc) - timedelta(hours=2)
    return [
        make_paper(
            "2611.00001",
            HOSTILE_TITLE,
            abstract=HOSTILE_ABSTRACT,
            authors=["Mallory <b>|</b> Evil", "Eve\nNewline"],
            published=recent,
            comment="Code: https://github.com/o/n <script>alert('c')</script>",
        ),
        make_paper("2611.00002", "Plain splatting paper", published=recent),
    ]


def run_cli(root: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arxiv_radar", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    """One full run, shared by the checks below (it is the expensive part)."""
    root = tmp_path_factory.mktemp("radar")
    with (
        local_server() as server,
        smtp_server(user="radar", password=SECRETS["SMTP_PASSWORD"]) as smtp,
    ):
        arxiv = FakeArxiv(server, ["cs.CV"])
        arxiv.announce(date(2026, 11, 24), hostile_papers())
        FakeHuggingFace(server).paper("2611.00001", repo="https://github.com/o/n", stars=5)
        FakeGitHub(server, SECRETS["GITHUB_TOKEN"], {"o/n": 7})
        FakeChat(server, key=SECRETS["LLM_KEY"])
        server.route("POST", f"/hooks/{HOOK_SECRET}", Reply(200, "ok"))
        (root / "arxiv-radar.yml").write_text(
            CONFIG.format(url=server.url, smtp_port=smtp.port), encoding="utf-8"
        )
        env = {**SECRETS, "SLACK_WEBHOOK_URL": f"{server.url}/hooks/{HOOK_SECRET}"}
        result = run_cli(root, "-vv", "run", env=env)
        yield Outcome(root, result, smtp, server)


def secret_values() -> list[str]:
    return [*SECRETS.values(), HOOK_SECRET]


def test_the_run_used_every_secret(outcome: Outcome) -> None:
    """Otherwise the leak checks below would prove nothing."""
    assert outcome.result.returncode == 0, outcome.result.stderr
    headers = [r.headers.get("authorization", "") for r in outcome.server.requests]
    assert f"bearer {SECRETS['GITHUB_TOKEN']}" in headers
    assert f"Bearer {SECRETS['LLM_KEY']}" in headers
    assert outcome.smtp.received and outcome.smtp.received[0].login == "radar"
    assert outcome.server.requests_to(f"/hooks/{HOOK_SECRET}")
    assert "DEBUG" in outcome.result.stderr or "GET" in outcome.result.stderr  # -vv was verbose


def test_no_secret_in_any_output_store_log_or_message(outcome: Outcome) -> None:
    leaks = [
        (where, secret)
        for where, data in outcome.leftovers()
        for secret in secret_values()
        if secret.encode() in data
    ]
    assert leaks == []


def test_markdown_pages_render_hostile_text_inert(outcome: Outcome) -> None:
    pages = [outcome.root / "README.md", *(outcome.root / "docs").rglob("*.md")]
    assert len(pages) > 1
    renderer = MarkdownIt("commonmark").enable("table")
    for page in pages:
        text = page.read_text("utf-8")
        html = renderer.render(text)
        assert not LIVE_MARKUP.search(html), page
        _tables_keep_their_shape(renderer, text, page)
    assert "Gaussian" in (outcome.root / "README.md").read_text("utf-8")


def _tables_keep_their_shape(renderer: MarkdownIt, text: str, page: Path) -> None:
    """A pipe or newline in a title must not add cells or rows: every row has the header's width."""
    widths: list[int] = []
    cells = 0
    for token in renderer.parse(text):
        if token.type == "tr_open":
            cells = 0
        elif token.type in {"th_open", "td_open"}:
            cells += 1
        elif token.type == "tr_close":
            widths.append(cells)
        elif token.type == "table_close":
            assert len(set(widths)) <= 1, (page, widths)
            widths = []


def test_site_pages_escape_hostile_text(outcome: Outcome) -> None:
    pages = list((outcome.root / "docs").rglob("*.html"))
    assert pages
    shown = False
    for page in pages:
        html = page.read_text("utf-8")
        assert not LIVE_MARKUP.search(html), page
        shown = shown or "&lt;script&gt;alert(" in html
    assert shown, "the hostile title should be shown, escaped"


def test_feeds_carry_hostile_text_as_text(outcome: Outcome) -> None:
    feeds = list((outcome.root / "docs").rglob("*.xml"))
    assert feeds
    for path in feeds:
        raw = path.read_text("utf-8")
        assert "<script" not in raw and "<img" not in raw, path
        parsed = feedparser.parse(raw)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        titles = [entry.title for entry in parsed.entries]
        if "2611.00001" in raw:
            assert any("Gaussian | splatting" in title for title in titles), path


def test_exports_keep_hostile_text_as_exact_data(outcome: Outcome) -> None:
    exports = outcome.root / "docs" / "exports"
    papers = {p["arxiv_id"]: p for p in read_json_exports(exports)}
    (month,) = json.loads((exports / "index.json").read_text("utf-8"))["months"]
    hostile = papers["2611.00001"]
    assert hostile["title"] == " ".join(HOSTILE_TITLE.split())
    assert hostile["abstract"] == " ".join(HOSTILE_ABSTRACT.split())

    rows = list(csv.reader(io.StringIO((exports / month["csv"]).read_text("utf-8"))))
    assert len(rows) == 3 and len({len(row) for row in rows}) == 1
    assert " ".join(HOSTILE_TITLE.split()) in rows[1] + rows[2]

    bib = (exports / month["bib"]).read_text("utf-8")
    assert bib.count("@misc{") == 2
    assert bib.count("{") == bib.count("}")  # a title cannot close its field early


def test_email_and_chat_carry_no_live_markup(outcome: Outcome) -> None:
    (message,) = outcome.smtp.received
    assert message.rcpt_tos == ("me@example.org",)
    html = message.message.get_body(("html",))
    assert html is not None
    assert not LIVE_MARKUP.search(html.get_content())
    (post,) = outcome.server.requests_to(f"/hooks/{HOOK_SECRET}")
    text = json.dumps(json.loads(post.body))
    assert "<script" not in text and "<img" not in text


# --- secrets on the failure paths --------------------------------------------------------------


def test_failures_name_where_but_never_the_secret(tmp_path: Path, server: LocalServer) -> None:
    """Every destination fails; the messages, logs, records and pages still hold no secret."""
    arxiv = FakeArxiv(server, ["cs.CV"])
    arxiv.announce(date(2026, 11, 24), hostile_papers())
    FakeChat(server, key="the-right-key")  # echoes the wrong key it is given, like OpenAI
    # 400, not 5xx: the chat notifier's own retry schedule would cost seconds.
    server.route("POST", f"/hooks/{HOOK_SECRET}", Reply(400, f"no hook at /hooks/{HOOK_SECRET}"))
    faults = FaultInjector(server, "/api/query")
    with smtp_server(user="radar", password="another-password") as smtp:
        config = CONFIG.format(url=server.url, smtp_port=smtp.port)
        secret_api = f"{server.url.replace('://', '://user:' + HOOK_SECRET + '@')}/api/query"
        config = config.replace(f"api_url: {server.url}/api/query", f"api_url: {secret_api}")
        config = config.replace("finders: [text, huggingface]", "enabled: false")
        (tmp_path / "arxiv-radar.yml").write_text(config, encoding="utf-8")
        env = {**SECRETS, "SLACK_WEBHOOK_URL": f"{server.url}/hooks/{HOOK_SECRET}"}
        assert run_cli(tmp_path, "fetch", env=env).returncode == 0  # papers to enrich and send
        faults.always(unavailable())
        result = run_cli(tmp_path, "-vv", "run", env=env)
        status = run_cli(tmp_path, "status", env={})

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "/api/query" in result.stderr and "HTTP 503" in result.stderr
    assert "slack" in result.stderr.lower() and "SLACK_WEBHOOK_URL" in result.stderr
    assert "401" in result.stderr  # the LLM refused the key, and echoed it back
    assert "email" in result.stderr.lower()
    leftovers = [
        (str(p), p.read_bytes()) for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".yml"
    ]
    leftovers += [("stderr", result.stderr.encode()), ("stdout", result.stdout.encode())]
    leftovers += [("status", status.stdout.encode())]
    for where, data in leftovers:
        for secret in secret_values():
            assert secret.encode() not in data, (where, secret)
