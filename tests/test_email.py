from __future__ import annotations

import logging
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

import pytest

from arxiv_radar.errors import ConfigError, StageError, UserError
from arxiv_radar.paper import Entry, Paper
from arxiv_radar.publish.email import EmailSettings, build_message, count_papers, send_digest
from tests.servers.smtp import SmtpServer, smtp_server

DAY = date(2026, 11, 24)
WHEN = datetime(2026, 11, 24, 1, 17, tzinfo=timezone.utc)
PASSWORD = "s3cret-Pa55word"  # a test credential for the local server


def entry(arxiv_id: str, title: str, **extra: object) -> Entry:
    paper = Paper(
        arxiv_id=arxiv_id,
        version=1,
        title=title,
        authors=("Ada Lovelace", "Alan Turing"),
        abstract="We study things.",
        categories=("cs.CL",),
        primary_category="cs.CL",
        published=WHEN,
        updated=WHEN,
    )
    return Entry(paper=paper, first_seen=WHEN, **extra)  # type: ignore[arg-type]


SECTIONS: dict[str, list[Entry]] = {
    "Language models": [
        entry("2611.00001", "Scaling Laws Revisited", code_url="https://github.com/a/b", stars=42),
        entry("2611.00002", "Tokenizers & <Friends>", tldr="Short summary."),
    ],
    "Retrieval": [entry("2611.00002", "Tokenizers & <Friends>")],
}


def settings(server: SmtpServer, **changes: object) -> EmailSettings:
    base = EmailSettings(
        host=server.host,
        port=server.port,
        security="none",
        sender="Radar <radar@example.org>",
        recipients=("alice@example.org", "bob@example.net"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def smtp_auth() -> Iterator[SmtpServer]:
    with smtp_server(user="radar", password=PASSWORD) as running:
        yield running


def parts(message: EmailMessage) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            assert isinstance(part, EmailMessage)
            found[part.get_content_type()] = str(part.get_content())
    return found


def test_digest_is_delivered_with_right_headers_and_both_parts(smtp: SmtpServer) -> None:
    assert send_digest(settings(smtp), sections=SECTIONS, day=DAY, site_url="https://x.io/r/")

    [received] = smtp.received
    assert received.mail_from == "radar@example.org"
    assert received.rcpt_tos == ("alice@example.org", "bob@example.net")
    message = received.message
    assert message["From"] == "Radar <radar@example.org>"
    assert [a for _, a in getaddresses([message["To"]])] == list(received.rcpt_tos)
    assert message["Subject"] == "[arxiv-radar] 2026-11-24: 2 new papers in 2 topics"
    sent_at = parsedate_to_datetime(message["Date"])
    assert abs((sent_at - datetime.now(timezone.utc)).total_seconds()) < 60
    assert message["Message-ID"].endswith("@example.org>")
    assert message.get_content_type() == "multipart/alternative"
    bodies = parts(message)
    assert set(bodies) == {"text/plain", "text/html"}
    text, html = bodies["text/plain"], bodies["text/html"]
    for body in (text, html):
        assert "Language models" in body
        assert "Retrieval" in body
        assert "https://arxiv.org/abs/2611.00001" in body
        assert "https://github.com/a/b" in body
        assert "https://x.io/r/" in body
    assert "Tokenizers & <Friends>" in text
    assert "Tokenizers &amp; &lt;Friends&gt;" in html
    assert "TL;DR: Short summary." in text
    assert text.index("Language models") < text.index("Retrieval")


def test_topic_order_is_kept_and_empty_topics_are_left_out() -> None:
    sections = {"Zeta": [entry("2611.00009", "Z")], "Empty": [], "Alpha": [entry("2611.1", "A")]}
    message = build_message(
        EmailSettings(host="h", sender="a@b.c", recipients=("d@e.f",)), sections=sections, day=DAY
    )
    text = parts(message)["text/plain"]
    assert text.index("Zeta") < text.index("Alpha")
    assert "Empty" not in text
    assert message["Subject"] == "[arxiv-radar] 2026-11-24: 2 new papers in 2 topics"


def test_a_title_cannot_inject_headers(smtp: SmtpServer) -> None:
    evil = "Nice paper\r\nBcc: evil@example.com\r\nX-Evil: yes"
    send_digest(settings(smtp), sections={"T": [entry("2611.00003", evil)]}, day=DAY)

    [received] = smtp.received
    assert received.rcpt_tos == ("alice@example.org", "bob@example.net")
    message = received.message
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert "evil@example.com" not in message["To"]
    header_block = received.raw.split(b"\r\n\r\n", 1)[0]
    assert b"evil@example.com" not in header_block
    assert "Nice paper Bcc: evil@example.com X-Evil: yes" in parts(message)["text/plain"]


def test_html_escapes_markup_and_drops_non_web_links() -> None:
    hostile = entry(
        "2611.00004",
        "<script>alert(1)</script> & more",
        code_url="javascript:alert(2)",
        tldr="<img src=x onerror=alert(3)>",
    )
    message = build_message(
        EmailSettings(host="h", sender="a@b.c", recipients=("d@e.f",)),
        sections={"T": [hostile]},
        day=DAY,
    )
    html = parts(message)["text/html"]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<img" not in html
    assert "javascript:" not in html
    assert "javascript:" not in parts(message)["text/plain"]


def test_subject_prefix_is_sanitised_and_date_header_is_given_time() -> None:
    message = build_message(
        EmailSettings(
            host="h", sender="a@b.c", recipients=("d@e.f",), subject_prefix="[x]\r\nBcc: z@z"
        ),
        sections={"T": [entry("2611.00005", "One")]},
        day=DAY,
        now=WHEN,
    )
    assert message["Subject"] == "[x] Bcc: z@z 2026-11-24: 1 new paper in 1 topic"
    assert message["Bcc"] is None
    assert parsedate_to_datetime(message["Date"]) == WHEN


def test_empty_day_sends_nothing(smtp: SmtpServer) -> None:
    empty: Mapping[str, Sequence[Entry]] = {"T": []}
    assert send_digest(settings(smtp), sections=empty, day=DAY) is False
    assert smtp.received == []


def test_empty_day_is_sent_when_configured(smtp: SmtpServer) -> None:
    assert send_digest(settings(smtp, send_empty=True), sections={}, day=DAY) is True
    [received] = smtp.received
    assert received.message["Subject"] == "[arxiv-radar] 2026-11-24: no new papers"


def test_a_paper_in_two_topics_counts_once() -> None:
    assert count_papers(SECTIONS) == 2


def test_login_with_password_from_environment(
    smtp_auth: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    config = settings(smtp_auth, username="radar", password_env="SMTP_PASSWORD")
    assert send_digest(config, sections=SECTIONS, day=DAY)
    [received] = smtp_auth.received
    assert received.login == "radar"


def test_unset_password_variable_is_a_user_error(
    smtp_auth: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    config = settings(smtp_auth, username="radar", password_env="SMTP_PASSWORD")
    with pytest.raises(UserError) as caught:
        send_digest(config, sections=SECTIONS, day=DAY)
    assert "SMTP_PASSWORD" in str(caught.value)
    assert "set SMTP_PASSWORD" in caught.value.fix
    assert smtp_auth.logins == []  # failed before connecting


def test_wrong_password_never_leaks(
    smtp_auth: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-Hunter2-pw"
    monkeypatch.setenv("SMTP_PASSWORD", wrong)
    config = settings(smtp_auth, username="radar", password_env="SMTP_PASSWORD")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StageError) as caught:
        send_digest(config, sections=SECTIONS, day=DAY)
    error = caught.value
    assert f"127.0.0.1:{smtp_auth.port}" in str(error)
    assert "535" in str(error)
    assert error.__cause__ is None and error.__suppress_context__
    everything = str(error) + repr(error) + error.fix + caplog.text
    assert wrong not in everything
    assert set(smtp_auth.logins) == {"radar"}  # smtplib tries each offered mechanism
    assert smtp_auth.received == []


def test_unreachable_server_is_a_stage_error_naming_host_and_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = EmailSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="a@b.c",
        recipients=("d@e.f",),
        timeout=2,
    )
    with pytest.raises(StageError, match=f"127.0.0.1:{port}"):
        send_digest(config, sections=SECTIONS, day=DAY)


def test_starttls_required_but_not_offered_fails_before_sending(smtp: SmtpServer) -> None:
    with pytest.raises(StageError, match="STARTTLS"):
        send_digest(settings(smtp, security="starttls"), sections=SECTIONS, day=DAY)
    assert smtp.received == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1, made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "ssl"])
def test_tls_modes_encrypt_before_login(
    certificate: tuple[Path, Path], implicit: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    context = server_context(certificate)
    with smtp_server(
        user="radar", password=PASSWORD, tls_context=context, implicit_tls=implicit
    ) as server:
        config = settings(
            server,
            security="ssl" if implicit else "starttls",
            username="radar",
            password_env="SMTP_PASSWORD",
            ca_file=str(certificate[0]),
        )
        assert send_digest(config, sections=SECTIONS, day=DAY)
        [received] = server.received
        assert received.login == "radar"


def test_untrusted_certificate_is_refused(certificate: tuple[Path, Path]) -> None:
    with smtp_server(tls_context=server_context(certificate)) as server:
        with pytest.raises(StageError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            send_digest(settings(server, security="starttls"), sections=SECTIONS, day=DAY)
        assert server.received == []


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"recipients": ()}, "email.recipients"),
        ({"recipients": ("ok@x.y", "x@y\r\nBcc: e@v.il")}, "email.recipients[1]"),
        ({"sender": "nobody"}, "email.sender"),
        ({"security": "tls"}, "email.security"),
        ({"username": "u"}, "email.username"),
    ],
)
def test_invalid_settings_name_the_key(changes: dict[str, object], key: str) -> None:
    base: dict[str, object] = {"host": "h", "sender": "a@b.c", "recipients": ("d@e.f",)}
    with pytest.raises(ConfigError) as caught:
        EmailSettings(**{**base, **changes})  # type: ignore[arg-type]
    assert key in caught.value.message
    assert caught.value.fix


# --- ranking: top picks above the topics --------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden" / "email"


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/email/NAME; UPDATE_GOLDEN=1 rewrites it (review the diff)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"missing golden {path}; run with UPDATE_GOLDEN=1"
    assert text.encode("utf-8") == path.read_bytes()


def test_unranked_digest_is_unchanged_byte_for_byte(smtp: SmtpServer) -> None:
    """The golden files hold the digest as it was sent before top picks existed."""
    assert send_digest(
        settings(smtp, top_picks=5), sections=SECTIONS, day=DAY, site_url="https://x.io/r/"
    )
    [received] = smtp.received
    bodies = parts(received.message)
    check_golden("unranked.txt", bodies["text/plain"])
    check_golden("unranked.html", bodies["text/html"])


def ranked_sections() -> dict[str, list[Entry]]:
    """Two ranked topics: 2611.00003 scores best in Retrieval, 2611.00004 has score 0."""
    return {
        "Language models": [
            entry("2611.00001", "Scaling Laws", score=0.42, why='nearest seed "Chinchilla" (0.42)'),
            entry("2611.00003", "Dense <Retrievers>", score=0.30, why="shared terms dense"),
            entry("2611.00004", "Unrelated", score=0.0, why="no seed term"),
        ],
        "Retrieval": [
            entry("2611.00002", "Rerankers", score=0.55, why="followed author A. <Name> & co"),
            entry("2611.00003", "Dense <Retrievers>", score=0.81, why='nearest seed "DPR" (0.81)'),
        ],
    }


def test_email_opens_with_the_top_picks_best_first_with_their_reasons(smtp: SmtpServer) -> None:
    sections = ranked_sections()
    assert send_digest(settings(smtp, top_picks=3), sections=sections, day=DAY)
    [received] = smtp.received
    bodies = parts(received.message)
    text, html = bodies["text/plain"].replace("\r\n", "\n"), bodies["text/html"]
    picks = text.split("Top picks\n---------\n", 1)[1].split("\nLanguage models (3)", 1)[0]
    assert picks.strip().splitlines() == [
        "1. Dense <Retrievers>",
        "   Retrieval · score 0.81",
        '   Why: nearest seed "DPR" (0.81)',
        "   Abstract: https://arxiv.org/abs/2611.00003",
        "",
        "2. Rerankers",
        "   Retrieval · score 0.55",
        "   Why: followed author A. <Name> & co",
        "   Abstract: https://arxiv.org/abs/2611.00002",
        "",
        "3. Scaling Laws",
        "   Language models · score 0.42",
        '   Why: nearest seed "Chinchilla" (0.42)',
        "   Abstract: https://arxiv.org/abs/2611.00001",
    ]
    assert text.index("Top picks") < text.index("Language models (3)")  # the email opens with them
    section = html.split(">Top picks</h2>", 1)[1].split("</ol>", 1)[0]
    links = [section.index(f'href="https://arxiv.org/abs/2611.0000{n}"') for n in (3, 2, 1)]
    assert links == sorted(links) and "2611.00004" not in section
    assert "Dense &lt;Retrievers&gt;</a>" in section
    assert "Retrieval · score 0.81" in section
    assert "<strong>Why:</strong> followed author A. &lt;Name&gt; &amp; co" in section
    assert html.index(">Top picks</h2>") < html.index(">Language models <span")


def test_top_picks_limit_and_zero_turn_the_section_off() -> None:
    base = EmailSettings(host="h", sender="a@b.c", recipients=("d@e.f",))
    one = parts(build_message(replace(base, top_picks=1), sections=ranked_sections(), day=DAY))
    picks = one["text/plain"].split("Top picks", 1)[1].split("Language models (3)", 1)[0]
    assert "1. Dense <Retrievers>" in picks and "2." not in picks
    off = parts(build_message(base, sections=ranked_sections(), day=DAY))
    assert "Top picks" not in off["text/plain"] and "Top picks" not in off["text/html"]
