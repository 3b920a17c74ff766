from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from arxiv_radar.errors import ConfigError, FetchError, StageError, UserError
from arxiv_radar.http import PoliteClient
from arxiv_radar.http_budget import HttpSettings
from arxiv_radar.paper import Entry, Paper
from arxiv_radar.publish.chat import (
    ChatSettings,
    DiscordNotifier,
    FeishuNotifier,
    SlackNotifier,
    feishu_sign,
    make_notifier,
)
from tests.servers.http import LocalServer, Reply

DAY = date(2026, 11, 24)
WHEN = datetime(2026, 11, 24, 1, 17, tzinfo=timezone.utc)
SECRET_PATH = "/services/T000/B000/XXXXsecretXXXX"


def entry(n: int, title: str = "", **extra: Any) -> Entry:
    paper = Paper(
        arxiv_id=f"2611.{n:05d}",
        version=1,
        title=title or f"Paper number {n} about things",
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        abstract="Abstract.",
        categories=("cs.CL",),
        primary_category="cs.CL",
        published=WHEN,
        updated=WHEN,
    )
    return Entry(paper=paper, first_seen=WHEN, **extra)


SMALL = {
    "Language models": [
        entry(1, "Scaling & <Laws>", code_url="https://github.com/a/b", stars=7, tldr="Short."),
        entry(2),
    ],
    "Retrieval": [entry(3)],
}


def big(papers: int = 80) -> dict[str, list[Entry]]:
    return {
        "Topic A": [entry(i, tldr="A fairly long TL;DR sentence. " * 3) for i in range(papers)],
        "Topic B": [entry(1000 + i) for i in range(papers // 2)],
    }


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    settings = HttpSettings(request_interval=0, timeout=5, max_retries=2, backoff_base=0.01)
    with PoliteClient(settings) as polite:
        yield polite


def notifier(
    server: LocalServer,
    client: PoliteClient,
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    **changes: Any,
) -> Any:
    monkeypatch.setenv("CHAT_WEBHOOK", server.url + SECRET_PATH + "?token=abc123")
    settings = ChatSettings(service=service, webhook_env="CHAT_WEBHOOK", **changes)
    return make_notifier(settings, client=client)


def bodies(server: LocalServer) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in server.requests_to(SECRET_PATH)]


def arxiv_ids(text: str) -> list[str]:
    return re.findall(r"arxiv\.org/abs/(\d{4}\.\d{5})", text)


def test_slack_payload_uses_mrkdwn_links_and_escapes(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("POST", SECRET_PATH, Reply(200, "ok", {"Content-Type": "text/plain"}))
    sent = notifier(server, client, monkeypatch, "slack").send(SMALL, DAY, "https://x.io/r/")
    assert sent == 1
    [request] = server.requests_to(SECRET_PATH)
    assert request.query == {"token": ["abc123"]}
    assert request.headers["content-type"] == "application/json"
    text = json.loads(request.body)["text"]
    assert text.startswith("*arXiv digest 2026-11-24: 3 new papers*\n<https://x.io/r/|Browse")
    assert "<https://arxiv.org/abs/2611.00001|Scaling &amp; &lt;Laws&gt;>" in text
    assert "<https://github.com/a/b|Code> ★7" in text
    assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in text
    assert "_Short._" in text
    assert text.index("*Language models*") < text.index("*Retrieval*")


def test_discord_payload_uses_markdown_links_without_pings(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("POST", SECRET_PATH, Reply(204))
    sections = {"T": [entry(1, "Hello @everyone [click](https://evil)")]}
    assert notifier(server, client, monkeypatch, "discord").send(sections, DAY) == 1
    [body] = bodies(server)
    assert body["allowed_mentions"] == {"parse": []}
    content = body["content"]
    assert "(<https://arxiv.org/abs/2611.00001>)" in content
    assert "\\@everyone \\[click\\]\\(https://evil\\)" in content
    assert "[PDF](<https://arxiv.org/pdf/2611.00001>)" in content


def test_feishu_post_is_signed_with_the_documented_scheme(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("POST", SECRET_PATH, Reply(200, '{"code":0,"msg":"success","data":{}}'))
    monkeypatch.setenv("FEISHU_SECRET", "sign-me")
    chat = notifier(server, client, monkeypatch, "feishu", secret_env="FEISHU_SECRET")
    assert chat.send(SMALL, DAY, "https://x.io/") == 1
    [body] = bodies(server)
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["en_us"]
    assert post["title"] == "arXiv digest 2026-11-24: 3 new papers"
    links = [el for para in post["content"] for el in para if el["tag"] == "a"]
    assert {
        "tag": "a",
        "text": "Scaling & <Laws>",
        "href": "https://arxiv.org/abs/2611.00001",
    } in links
    assert {"tag": "a", "text": "Browse and search", "href": "https://x.io/"} in links
    stamp = int(body["timestamp"])
    assert abs(stamp - time.time()) < 60
    assert body["sign"] == feishu_sign("sign-me", stamp)


def test_feishu_sign_matches_reference_value() -> None:
    # base64(HMAC-SHA256(key="1599360473\ndemo", msg=b"")), computed independently with openssl:
    # printf '' | openssl dgst -sha256 -hmac "$(printf '1599360473\ndemo')" -binary | base64
    assert feishu_sign("demo", 1599360473) == "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="


def test_feishu_error_code_in_a_200_answer_is_reported(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("POST", SECRET_PATH, Reply(200, '{"code":19021,"msg":"sign match fail"}'))
    chat = notifier(server, client, monkeypatch, "feishu")
    with pytest.raises(StageError, match="19021 sign match fail"):
        chat.send(SMALL, DAY)


def test_generic_posts_the_structured_digest_once(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("POST", SECRET_PATH, Reply(200, "{}"))
    assert notifier(server, client, monkeypatch, "generic").send(big(), DAY, "https://x.io") == 1
    [body] = bodies(server)
    assert body["day"] == "2026-11-24"
    assert body["papers"] == 120
    assert [t["name"] for t in body["topics"]] == ["Topic A", "Topic B"]
    first = body["topics"][0]["papers"][0]
    assert first["abs_url"] == "https://arxiv.org/abs/2611.00000"
    assert first["authors"][3] == "Edsger Dijkstra"
    assert first["code_url"] is None


@pytest.mark.parametrize(
    "case",
    [(SlackNotifier, "text", 3000), (DiscordNotifier, "content", 2000)],
    ids=["slack", "discord"],
)
def test_long_digests_split_on_paper_boundaries_under_the_limit(
    server: LocalServer,
    client: PoliteClient,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[type, str, int],
) -> None:
    cls, field, limit = case
    monkeypatch.setenv("HOOK", server.url + "/hook")
    chat = cls(ChatSettings(service="x", webhook_env="HOOK"), client)
    sections = big()
    messages = [p[field] for p in chat.payloads(sections, DAY)]
    assert len(messages) > 3
    for number, text in enumerate(messages, start=1):
        assert len(text.encode("utf-16-le")) // 2 <= limit
        assert f"({number}/{len(messages)})" in text.splitlines()[0]
    seen = [i for text in messages for i in arxiv_ids(text)]
    expected = [e.paper.arxiv_id for entries in sections.values() for e in entries]
    assert seen == expected  # every paper exactly once, in order
    for text in messages:  # no paper cut in half: each abs link has its PDF link after it
        assert len(arxiv_ids(text)) == text.count("arxiv.org/pdf/")
    assert re.search(r"^\*+Topic A\*+ \(cont\.\)$", messages[1], re.MULTILINE)


def test_feishu_split_stays_under_byte_budget(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK", server.url + "/hook")
    chat = FeishuNotifier(ChatSettings(service="feishu", webhook_env="HOOK"), client)
    sections = {"主题": [entry(i, "多语言 " * 40) for i in range(300)]}
    payloads = chat.payloads(sections, DAY)
    assert len(payloads) > 1
    seen = []
    for payload in payloads:
        assert len(json.dumps(payload).encode()) < 30_000
        post = payload["content"]["post"]["en_us"]
        seen += [
            el["href"] for p in post["content"] for el in p if el.get("text", "").startswith("多")
        ]
    assert len(seen) == 300 == len(set(seen))


def test_a_huge_title_is_truncated_with_an_ellipsis(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK", server.url + "/hook")
    chat = DiscordNotifier(ChatSettings(service="discord", webhook_env="HOOK"), client)
    sections = {"T": [entry(1), entry(2, "Enormous " * 1000), entry(3)]}
    messages = [p["content"] for p in chat.payloads(sections, DAY)]
    assert all(len(m) <= 2000 for m in messages)
    assert [i for m in messages for i in arxiv_ids(m)] == ["2611.00001", "2611.00002", "2611.00003"]
    assert any(
        "Enormous Enormous" in m and "…](<https://arxiv.org/abs/2611.00002>)" in m for m in messages
    )


def test_max_chars_lowers_the_limit_but_cannot_exceed_the_service(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK", server.url + "/hook")
    small = SlackNotifier(ChatSettings(service="slack", webhook_env="HOOK", max_chars=1200), client)
    assert all(len(p["text"]) <= 1200 for p in small.payloads(big(20), DAY))
    huge = SlackNotifier(ChatSettings(service="slack", webhook_env="HOOK", max_chars=90000), client)
    assert all(len(p["text"]) <= 3000 for p in huge.payloads(big(), DAY))
    tiny = SlackNotifier(ChatSettings(service="slack", webhook_env="HOOK", max_chars=50), client)
    with pytest.raises(ConfigError, match="max_chars"):
        tiny.payloads(SMALL, DAY)


def test_messages_are_posted_in_order(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("POST", SECRET_PATH, Reply(204))
    sent = notifier(server, client, monkeypatch, "discord").send(big(), DAY)
    contents = [b["content"] for b in bodies(server)]
    assert sent == len(contents) > 3
    assert [c.splitlines()[0] for c in contents] == [
        f"**arXiv digest 2026-11-24: 120 new papers ({i}/{sent})**" for i in range(1, sent + 1)
    ]


def test_empty_day_sends_nothing_unless_configured(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("POST", SECRET_PATH, Reply(200, "ok"))
    assert notifier(server, client, monkeypatch, "slack").send({"T": []}, DAY) == 0
    assert server.requests == []
    chat = notifier(server, client, monkeypatch, "slack", send_empty=True)
    assert chat.send({}, DAY) == 1
    assert "0 new papers" in bodies(server)[0]["text"]


def test_rate_limit_retry_after_is_honoured_then_succeeds(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route(
        "POST",
        SECRET_PATH,
        [Reply(429, '{"retry_after": 0.3}', {"Retry-After": "1"}), Reply(204)],
    )
    assert notifier(server, client, monkeypatch, "discord").send(SMALL, DAY) == 1
    first, second = server.requests_to(SECRET_PATH)
    assert second.at - first.at >= 0.9
    assert first.body == second.body


def test_server_error_is_reported_without_the_secret_url(
    server: LocalServer,
    client: PoliteClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.route("POST", SECRET_PATH, Reply(500, "boom"))
    chat = notifier(server, client, monkeypatch, "slack")
    with pytest.raises(FetchError) as caught:
        chat.send(SMALL, DAY)
    error = caught.value
    assert error.url == "slack webhook (CHAT_WEBHOOK)"
    assert "message 1/1" in str(error)
    assert "HTTP 500" in str(error)
    assert error.__cause__ is None and error.__suppress_context__
    assert len(server.requests_to(SECRET_PATH)) == 3  # first try + 2 retries
    assert "retrying slack webhook (CHAT_WEBHOOK)" in caplog.text
    everything = str(error) + repr(error) + error.fix + caplog.text
    assert "XXXXsecretXXXX" not in everything
    assert "abc123" not in everything


def test_client_error_names_the_status_and_body_not_the_url(
    server: LocalServer,
    client: PoliteClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.route("POST", SECRET_PATH, Reply(404, "no_service"))
    with pytest.raises(FetchError) as caught:
        notifier(server, client, monkeypatch, "slack").send(SMALL, DAY)
    assert "HTTP 404 no_service" in str(caught.value)
    assert "CHAT_WEBHOOK" in caught.value.fix
    assert "XXXXsecretXXXX" not in str(caught.value) + caplog.text


def test_missing_webhook_variable_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    with pytest.raises(UserError) as caught:
        make_notifier(ChatSettings(service="slack", webhook_env="SLACK_WEBHOOK_URL"))
    assert "set SLACK_WEBHOOK_URL" in caught.value.fix


def test_unknown_service_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        make_notifier(ChatSettings(service="teams", webhook_env="X"))
    assert "discord, feishu, generic, lark, slack" in caught.value.fix


def test_missing_feishu_secret_is_a_user_error(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEISHU_SECRET", raising=False)
    chat = notifier(server, client, monkeypatch, "feishu", secret_env="FEISHU_SECRET")
    with pytest.raises(UserError, match="FEISHU_SECRET"):
        chat.send(SMALL, DAY)
    assert server.requests == []


def test_a_token_echoed_alone_in_an_error_body_is_scrubbed(
    server: LocalServer,
    client: PoliteClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = "Zx81aQ2mN7pL0sWc4RtY9uVb"  # Slack-length token, echoed without the rest of the URL
    monkeypatch.setenv("CHAT_WEBHOOK", f"{server.url}/services/T0/B0/{token}")
    server.route("POST", f"/services/T0/B0/{token}", Reply(403, f"invalid_token {token}"))
    settings = ChatSettings(service="slack", webhook_env="CHAT_WEBHOOK")
    with pytest.raises(FetchError) as caught:
        make_notifier(settings, client=client).send(SMALL, DAY)
    assert "invalid_token" in str(caught.value)
    assert token not in str(caught.value) + caught.value.fix + caplog.text


# --- ranking: the reason and score of each ranked paper -----------------------------------------

GOLDEN = Path(__file__).parent / "golden" / "chat"
WHY = 'nearest seed "Splats <&> *bold* [x](y) @here" (0.71); followed author A. Name'


def ranked(papers: int = 80) -> dict[str, list[Entry]]:
    """``big()`` with a score and a reason on every paper, some of them long."""
    return {
        topic: [
            replace(e, score=0.9 - i / 1000, why=(WHY + " ·" * (i % 60))[:200])
            for i, e in enumerate(entries)
        ]
        for topic, entries in big(papers).items()
    }


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/chat/NAME; UPDATE_GOLDEN=1 rewrites it (review the diff)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"missing golden {path}; run with UPDATE_GOLDEN=1"
    assert text.encode("utf-8") == path.read_bytes()


@pytest.mark.parametrize("service", ["slack", "discord", "feishu"])
def test_unranked_messages_are_unchanged_byte_for_byte(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    """The golden files hold what these services were posted before reasons existed."""
    server.route("POST", SECRET_PATH, Reply(200, '{"code":0}'))
    chat = notifier(server, client, monkeypatch, service)
    sent = chat.send(SMALL, DAY, "https://x.io/r/") + chat.send(big(), DAY)
    posted = [r.body.decode("utf-8") for r in server.requests_to(SECRET_PATH)]
    assert sent == len(posted) > 2
    check_golden(f"unranked-{service}.jsonl", "\n".join(posted) + "\n")


RANKED_SMALL = {
    "Language models": [
        replace(SMALL["Language models"][0], score=0.9, why=WHY),
        replace(SMALL["Language models"][1], score=0.25, why="shared terms tokens"),
    ],
    "Retrieval": SMALL["Retrieval"],  # an unranked topic beside a ranked one: no reason line
}
ESCAPED_WHY = {
    "slack": '    why: nearest seed "Splats &lt;&amp;&gt; *bold* [x](y) @here" (0.71); '
    "followed author A. Name (score 0.90)",
    "discord": '  why: nearest seed "Splats \\<&\\> \\*bold\\* \\[x\\]\\(y\\) \\@here" \\(0.71\\); '
    "followed author A. Name \\(score 0.90\\)",
    "feishu": f"  why: {WHY} (score 0.90)",
}


def chat_lines(service: str, body: dict[str, Any]) -> list[str]:
    """The posted message as lines of text (Feishu: one line per paragraph, links as URLs)."""
    if service == "feishu":
        paragraphs = body["content"]["post"]["en_us"]["content"]
        return ["".join(el.get("href", el["text"]) for el in p) for p in paragraphs]
    return str(body["text" if service == "slack" else "content"]).splitlines()


@pytest.mark.parametrize("service", ["slack", "discord", "feishu"])
def test_each_chat_format_shows_the_escaped_reason_and_score_of_ranked_papers(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    server.route("POST", SECRET_PATH, Reply(200, '{"code":0}'))
    assert notifier(server, client, monkeypatch, service).send(RANKED_SMALL, DAY) == 1
    [body] = bodies(server)
    lines = chat_lines(service, body)
    whys = [n for n, line in enumerate(lines) if line.lstrip().startswith("why: ")]
    assert [lines[n] for n in whys[:1]] == [ESCAPED_WHY[service]]
    second = lines[whys[1]].strip().replace("\\", "")  # Discord escapes the parentheses
    assert len(whys) == 2 and second == "why: shared terms tokens (score 0.25)"  # none for 2611.3
    for n, paper in zip(whys, ("2611.00001", "2611.00002"), strict=True):
        # the reason follows its own paper's title and links, before the next paper
        assert f"arxiv.org/pdf/{paper}" in lines[n - 1]


@pytest.mark.parametrize(
    "case",
    [("slack", "text", 3000), ("discord", "content", 2000), ("feishu", "", 20_000)],
    ids=["slack", "discord", "feishu"],
)
def test_ranked_digests_still_split_on_paper_boundaries_with_every_reason(
    server: LocalServer,
    client: PoliteClient,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str, int],
) -> None:
    service, field, limit = case
    server.route("POST", SECRET_PATH, Reply(200, '{"code":0}'))
    sections = ranked(160 if service == "feishu" else 80)
    sent = notifier(server, client, monkeypatch, service).send(sections, DAY)
    posted = bodies(server)
    assert sent == len(posted) > 1
    seen = []
    for body in posted:
        if field:
            assert len(body[field].encode("utf-16-le")) // 2 <= limit
        else:
            assert len(json.dumps(body["content"])) <= limit
        text = "\n".join(chat_lines(service, body))
        ids = arxiv_ids(text)
        assert text.count("why: ") == len(ids) == text.count("arxiv.org/pdf/")  # none cut in half
        seen += ids
    assert seen == [e.paper.arxiv_id for entries in sections.values() for e in entries]


def test_a_paper_too_long_for_its_reason_drops_it_before_its_links(
    server: LocalServer, client: PoliteClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK", server.url + "/hook")
    chat = DiscordNotifier(ChatSettings(service="discord", webhook_env="HOOK"), client)
    long_why = "w" * 200
    sections = {"T": [replace(entry(1, "Enormous " * 1000), score=0.5, why=long_why)]}
    [content] = [p["content"] for p in chat.payloads(sections, DAY)]
    assert len(content) <= 2000 and "[PDF](<https://arxiv.org/pdf/2611.00001>)" in content
    assert f"why: {long_why} \\(score 0.50\\)" in content  # the title gave way, not the reason
