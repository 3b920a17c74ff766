"""Seed-based ranking against a real SQLite store and a fake arXiv API on 127.0.0.1."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from arxiv_radar.config import Workspace, load_workspace
from arxiv_radar.paper import Paper
from arxiv_radar.pipeline import run_pipeline
from arxiv_radar.publish.export import read_json_exports
from arxiv_radar.rank.reasons import MAX_REASON
from arxiv_radar.rank.scorer import FOLLOW_BONUS
from arxiv_radar.rank.seeds import read_seeds_file
from arxiv_radar.store import Store
from tests.servers.arxiv import FakeArxiv, make_paper
from tests.servers.http import LocalServer, Reply, Request
from tests.servers.smtp import smtp_server

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)
SEEN = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
FIXTURES = Path(__file__).parent / "fixtures" / "rank"

SPLAT_SEED = make_paper(
    "2308.04079",
    "3D Gaussian Splatting for Real-Time Radiance Field Rendering",
    abstract="Radiance field methods with anisotropic 3D gaussians rasterized by splatting give "
    "real-time novel view synthesis of captured scenes at high quality.",
    authors=("Bernhard Kerbl", "Georgios Kopanas"),
)
SPEECH_SEED = make_paper(
    "2212.04356",
    "Robust Speech Recognition via Large-Scale Weak Supervision",
    abstract="We train speech recognition models on hundreds of thousands of hours of weakly "
    "supervised multilingual audio transcripts and study zero-shot transfer.",
    authors=("Alec Radford",),
)
CANDIDATES = [
    make_paper(
        "2611.00001",
        "Dynamic Gaussian Splatting for Deformable Scenes",
        abstract="We extend 3D gaussian splatting with deformation fields for real-time "
        "rendering of dynamic scenes and novel view synthesis.",
        authors=("Mei Chen",),
    ),
    make_paper(
        "2611.00002",
        "Streaming Speech Recognition for Low-Resource Languages",
        abstract="A multilingual speech recognition model with weak supervision transfers "
        "zero-shot to low-resource languages and streaming audio.",
        authors=("Ravi Kumar",),
    ),
    make_paper(
        "2611.00003",
        "Graph Neural Networks for Molecule Property Prediction",
        abstract="Message passing networks predict molecular properties from atom graphs.",
        authors=("Wei Zhang", "Olga Petrova"),
    ),
    make_paper(
        "2611.00004",
        "Sparse-View Radiance Fields with Gaussian Primitives",
        abstract="Gaussian primitives rasterized by splatting recover radiance fields from "
        "three input views for view synthesis.",
        authors=("Ana Silva",),
    ),
]

CONFIG = """\
categories: [cs.CV]
topics:
  - name: Vision
    query: 'all:the OR all:a OR all:we OR all:for OR all:from'
{extra}
endpoints:
  api_url: {api}
  rss_url: {base}/rss
  hf_url: {base}/hf
  pwc_url: {base}/pwc
http:
  request_interval: 0
  max_retries: 0
  backoff_base: 0
"""


@pytest.fixture
def arxiv(server: LocalServer) -> FakeArxiv:
    fake = FakeArxiv(server, ["cs.CV"])
    for paper in (SPLAT_SEED, SPEECH_SEED):
        fake.publish(paper)
    return fake


def workspace(root: Path, arxiv: FakeArxiv, extra: str, api: str | None = None) -> Workspace:
    text = CONFIG.format(extra=extra, api=api or arxiv.api_url, base=arxiv.server.url)
    (root / "arxiv-radar.yml").write_text(text, encoding="utf-8")
    return load_workspace(root / "arxiv-radar.yml")


def fill(ws: Workspace, papers: list[Paper] = CANDIDATES) -> None:
    with Store.open(ws.database) as store:
        store.upsert_papers(papers, seen_at=SEEN, source="test")
        store.add_matches("Vision", [p.arxiv_id for p in papers], matched_at=SEEN)


def rank(ws: Workspace) -> dict[str, tuple[float, str]]:
    outcome = run_pipeline(ws, ("rank",), command="rank", now=NOW)
    assert outcome.errors == []
    with Store.open(ws.database) as store:
        return {k: (r.score, r.why) for k, r in store.topic_scores("Vision").items()}


def order(scores: dict[str, tuple[float, str]]) -> list[str]:
    return sorted(scores, key=lambda k: (-scores[k][0], k))


def id_requests(arxiv: FakeArxiv) -> list[str]:
    return [r.param("id_list") for r in arxiv.api_requests() if r.param("id_list")]


SEEDS = "    seeds: [2308.04079, 2212.04356v1]"


def test_seeds_from_ids_are_fetched_once_in_one_batch_and_stored(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS)
    fill(ws)
    rank(ws)
    assert id_requests(arxiv) == ["2308.04079,2212.04356"]
    with Store.open(ws.database) as store:
        stored = store.seed_papers(["2308.04079", "2212.04356"])
        assert stored["2308.04079"].title == SPLAT_SEED.title
        # Seeds are not digest papers: they never enter the papers table.
        assert store.get_paper("2308.04079") is None
    rank(ws)
    assert len(id_requests(arxiv)) == 1


def test_reasons_name_the_real_nearest_seed(tmp_path: Path, arxiv: FakeArxiv) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS)
    fill(ws)
    scores = rank(ws)
    assert order(scores)[-1] == "2611.00003"  # the molecule paper is near neither seed
    splat, speech = scores["2611.00001"][1], scores["2611.00002"][1]
    assert splat.startswith('nearest seed "3D Gaussian Splatting for Real-Time Radiance')
    assert speech.startswith('nearest seed "Robust Speech Recognition via Large-Scale')
    assert "shared terms" in splat and "splatting" in splat
    assert "speech" in speech.split("shared terms")[1]
    assert all(len(why) <= MAX_REASON for _, why in scores.values())


def test_max_over_seeds_keeps_each_interest(tmp_path: Path, arxiv: FakeArxiv) -> None:
    """Both interests' papers outrank the unrelated one, whatever the other seed says."""
    ws = workspace(tmp_path, arxiv, SEEDS)
    fill(ws)
    top = order(rank(ws))[:3]
    assert set(top) == {"2611.00001", "2611.00002", "2611.00004"}


def test_seeds_from_bibtex_and_ris_exports(tmp_path: Path, arxiv: FakeArxiv) -> None:
    bib = read_seeds_file(FIXTURES / "zotero.bib", topic="Vision")
    assert [(s.arxiv_id, s.title) for s in bib] == [
        ("2308.04079", "3D Gaussian Splatting for Real-Time Radiance Field Rendering"),
        ("2212.04356", "Robust Speech Recognition via Large-Scale Weak Supervision"),
        (None, "Message Passing for Molecules"),
    ]
    ris = read_seeds_file(FIXTURES / "mendeley.ris", topic="Vision")
    assert [s.arxiv_id for s in ris] == ["2308.04079", "2212.04356"]
    (tmp_path / "library.ris").write_bytes((FIXTURES / "mendeley.ris").read_bytes())
    ws = workspace(tmp_path, arxiv, "    seeds_file: library.ris")
    fill(ws)
    scores = rank(ws)
    assert id_requests(arxiv) == ["2308.04079,2212.04356"]
    assert "Gaussian Splatting" in scores["2611.00001"][1]


def test_bibtex_entry_without_arxiv_id_is_a_seed_by_its_own_text(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    (tmp_path / "lib.bib").write_bytes((FIXTURES / "zotero.bib").read_bytes())
    ws = workspace(tmp_path, arxiv, "    seeds_file: lib.bib")
    fill(ws)
    assert rank(ws)["2611.00003"][1].startswith('nearest seed "Message Passing for Molecules"')


def test_unreadable_seeds_file_names_topic_and_file(tmp_path: Path, arxiv: FakeArxiv) -> None:
    (tmp_path / "lib.bib").write_text("@article{broken, title={x", encoding="utf-8")
    ws = workspace(tmp_path, arxiv, "    seeds_file: lib.bib")
    result = cli("rank", "Vision", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "topic 'Vision': seeds_file" in result.stderr and "lib.bib" in result.stderr
    assert "Traceback" not in result.stderr
    del ws


def test_followed_author_is_named_as_the_paper_writes_it(tmp_path: Path, arxiv: FakeArxiv) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS + "\nfollow: [wei  zhang]")
    fill(ws)
    scores = rank(ws)
    assert "followed author Wei Zhang" in scores["2611.00003"][1]
    assert scores["2611.00003"][0] >= FOLLOW_BONUS
    assert "followed author" not in scores["2611.00001"][1]


def test_feedback_changes_the_order(tmp_path: Path, arxiv: FakeArxiv) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS)
    fill(ws)
    before = order(rank(ws))
    assert before[-1] == "2611.00003"
    (tmp_path / "feedback.yml").write_text(
        f"Vision:\n  up: [2611.00003]\n  down: [{before[0]}]\n", encoding="utf-8"
    )
    after = rank(ws)
    assert order(after)[0] == "2611.00003"
    assert order(after).index(before[0]) > 0
    assert "like down-voted" in after[before[0]][1]


def test_classifier_joins_after_enough_labels_and_is_named(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS + "\nrank:\n  classifier_min_labels: 2")
    fill(ws)
    (tmp_path / "feedback.yml").write_text(
        "Vision:\n  up: [2611.00004]\n  down: [2611.00003]\n", encoding="utf-8"
    )
    scores = rank(ws)
    assert "classifier on 2 labels" in scores["2611.00001"][1]


def test_unknown_seed_id_is_a_clear_error(tmp_path: Path, arxiv: FakeArxiv) -> None:
    workspace(tmp_path, arxiv, "    seeds: [2308.04079, 2501.99999]")
    result = cli("rank", "Vision", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert lines == ["error: topic 'Vision': seed 2501.99999 is not on arXiv"]
    assert "Traceback" not in result.stderr


def test_ranking_is_stable_between_runs(tmp_path: Path, arxiv: FakeArxiv) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS)
    fill(ws)
    first = rank(ws)
    with Store.open(ws.database) as store:
        revision = store.revision()
    # A new paper arrives: the fitted term weights change, stored scores must not.
    later = make_paper("2611.00009", "Splatting Gaussians Again", abstract="More splatting.")
    with Store.open(ws.database) as store:
        store.upsert_papers([later], seen_at=NOW, source="test")
        store.add_matches("Vision", ["2611.00009"], matched_at=NOW)
        revision = store.revision()
    second = rank(ws)
    assert {k: v for k, v in second.items() if k != "2611.00009"} == first
    assert rank(ws) == second
    with Store.open(ws.database) as store:
        assert store.revision() == revision + 1  # only the new paper's score was written


class _Tripwire:
    """A server that fails the test if anything calls it."""

    def __init__(self, server: LocalServer) -> None:
        self.calls: list[str] = []
        server.route("GET", "/trip/api/query", self._called)

    def _called(self, request: Request) -> Reply:
        self.calls.append(request.path)
        return Reply(500, "the ranker must not call the network")


def test_no_network_while_scoring(tmp_path: Path, arxiv: FakeArxiv, server: LocalServer) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS)
    fill(ws)
    rank(ws)  # seed metadata is fetched and stored here, once
    tripwire = _Tripwire(server)
    ws = workspace(
        tmp_path, arxiv, SEEDS + "\n    follow: [Ana Silva]", api=f"{server.url}/trip/api/query"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROXY")}
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    scores = rank(ws)
    assert tripwire.calls == []
    assert "followed author Ana Silva" in scores["2611.00004"][1]
    result = cli("rank", "Vision", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert tripwire.calls == []


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arxiv_radar", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or dict(os.environ),
        check=False,
    )


def test_rank_command_prints_todays_ranking_and_explains(tmp_path: Path, arxiv: FakeArxiv) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS)
    fill(ws)
    result = cli("rank", "Vision", "--explain", "2611.00001v2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Vision: 2026-11-24" in out
    assert out.index("2611.00001") < out.index("2611.00003")
    assert "seed 2308.04079 0." in out and "max seed similarity" in out
    unknown = cli("rank", "Nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "no topic named 'Nope'" in unknown.stderr


def test_readme_lists_a_seeded_topic_by_relevance_with_a_why_column(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    extra = SEEDS + "\noutput:\n  columns: [date, title, why]\nsite:\n  enabled: false"
    ws = workspace(tmp_path, arxiv, extra + "\nfeeds:\n  enabled: false")
    fill(ws)
    outcome = run_pipeline(ws, ("rank", "publish"), command="run", now=NOW)
    assert outcome.errors == []
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "|Publish Date|Title|Why|" in readme
    rows = [line for line in readme.splitlines() if line.startswith("|2026-")]
    with Store.open(ws.database) as store:
        expected = order({k: (r.score, r.why) for k, r in store.topic_scores("Vision").items()})
    titles = {p.arxiv_id: p.title for p in CANDIDATES}
    assert [next(i for i in expected if titles[i] in row) for row in rows] == expected
    assert 'nearest seed "3D Gaussian Splatting' in rows[0]
    picks = readme.split("### Top picks", 1)[1].split("<details>", 1)[0]
    assert picks.strip().startswith(f"1. [{titles[expected[0]]}](https://arxiv.org/abs/")
    assert picks.count("(Vision, ") == 3 and "nearest seed" in picks  # score 0 is no pick
    # The same topic with order: date keeps the newest-first (here: id) order.
    ws = workspace(tmp_path, arxiv, extra.replace(SEEDS, SEEDS + "\n    order: date"))
    run_pipeline(ws, ("rank", "publish"), command="run", now=NOW)
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("|2026-")]
    assert [next(i for i in titles if titles[i] in row) for row in rows] == sorted(
        titles, reverse=True
    )


def test_json_export_carries_score_and_why(tmp_path: Path, arxiv: FakeArxiv) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS + "\nsite:\n  enabled: false")
    fill(ws)
    assert run_pipeline(ws, ("rank", "publish"), command="run", now=NOW).errors == []
    papers = {p["arxiv_id"]: p for p in read_json_exports(tmp_path / "docs/exports")}
    with Store.open(ws.database) as store:
        stored = store.topic_scores("Vision")
    assert papers["2611.00001"]["score"] == stored["2611.00001"].score
    assert papers["2611.00001"]["why"] == "Vision: " + stored["2611.00001"].why


def test_chat_digest_lists_by_relevance_with_score_and_why(
    tmp_path: Path, arxiv: FakeArxiv, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("POST", "/hooks/generic", Reply(body="ok"))
    monkeypatch.setenv("RANK_TEST_HOOK", f"{server.url}/hooks/generic")
    # The papers were stored before the destination existed: ask for them as its backlog.
    chat = "\nchat:\n  - service: generic\n    webhook_env: RANK_TEST_HOOK\n    backlog_days: 365"
    ws = workspace(tmp_path, arxiv, SEEDS + chat)
    fill(ws)
    assert run_pipeline(ws, ("rank", "notify"), command="run", now=NOW).errors == []
    (posted,) = server.requests_to("/hooks/generic")
    (topic,) = json.loads(posted.body)["topics"]
    with Store.open(ws.database) as store:
        stored = store.topic_scores("Vision")
    scores = {k: (r.score, r.why) for k, r in stored.items()}
    assert [p["id"] for p in topic["papers"]] == order(scores)
    assert [p["why"] for p in topic["papers"]] == [scores[i][1] for i in order(scores)]


def test_email_digest_opens_with_the_top_picks_and_their_reasons(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    with smtp_server() as smtp:
        email = (
            f"\nemail:\n  host: 127.0.0.1\n  port: {smtp.port}\n  security: none\n"
            "  sender: radar@example.org\n  recipients: [a@example.org]\n  backlog_days: 365"
        )
        ws = workspace(tmp_path, arxiv, SEEDS + email)
        fill(ws)
        assert run_pipeline(ws, ("rank", "notify"), command="run", now=NOW).errors == []
        (mail,) = smtp.received
    body = mail.message.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")
    picks = text.split("Top picks\n---------\n", 1)[1].split("\nVision (4)", 1)[0]
    with Store.open(ws.database) as store:
        scores = {k: (r.score, r.why) for k, r in store.topic_scores("Vision").items()}
    titles = {p.arxiv_id: p.title for p in CANDIDATES}
    best = [i for i in order(scores) if scores[i][0] > 0]  # a score of 0 is no pick
    assert 0 < len(best) < len(CANDIDATES)
    expected = [
        f"{n}. {titles[i]}\n   Vision · score {scores[i][0]:.2f}\n   Why: {scores[i][1]}\n"
        f"   Abstract: https://arxiv.org/abs/{i}"
        for n, i in enumerate(best, start=1)
    ]
    assert picks.strip() == "\n\n".join(expected)


def test_slack_digest_gives_each_ranked_paper_its_reason_and_score(
    tmp_path: Path, arxiv: FakeArxiv, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("POST", "/hooks/slack", Reply(body="ok"))
    monkeypatch.setenv("RANK_TEST_HOOK", f"{server.url}/hooks/slack")
    chat = "\nchat:\n  - service: slack\n    webhook_env: RANK_TEST_HOOK\n    backlog_days: 365"
    ws = workspace(tmp_path, arxiv, SEEDS + chat)
    fill(ws)
    assert run_pipeline(ws, ("rank", "notify"), command="run", now=NOW).errors == []
    (posted,) = server.requests_to("/hooks/slack")
    text = json.loads(posted.body)["text"]
    with Store.open(ws.database) as store:
        scores = {k: (r.score, r.why) for k, r in store.topic_scores("Vision").items()}
    whys = [line.strip() for line in text.splitlines() if line.strip().startswith("why: ")]
    assert whys == [
        "why: "
        + scores[i][1].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        + f" (score {scores[i][0]:.2f})"
        for i in order(scores)
        if scores[i][1]  # a paper without a reason (score 0) gets no line
    ]


def test_unquoted_ids_keep_their_trailing_zeros(tmp_path: Path, arxiv: FakeArxiv) -> None:
    """YAML reads 2301.10000 as the float 2301.1: seeds and votes must keep the text."""
    ws = workspace(tmp_path, arxiv, "    seeds: [2301.10000, 2301.01230]")
    assert ws.config.topics[0].seeds == ["2301.10000", "2301.01230"]
    from arxiv_radar.rank.feedback import read_feedback

    (tmp_path / "feedback.yml").write_text("Vision:\n  up: [2301.10000]\n  down:\n", "utf-8")
    votes = read_feedback(tmp_path / "feedback.yml", ["Vision"])["Vision"]
    assert votes.up == ("2301.10000",) and votes.down == ()


def test_reason_stays_within_200_characters_and_keeps_its_evidence() -> None:
    from arxiv_radar.rank.reasons import Evidence, reason

    evidence = Evidence(
        nearest_title="A Very Long Title " * 20,
        similarity=0.41,
        followed=("Wei Zhang", "Ana Silva"),
        terms=("splatting", "radiance", "gaussian"),
        group=(4, 0.22),
        categories=(("cs.GR", "cs.CV"), 1.6),
        classifier=(0.83, 24),
    )
    text = reason(evidence)
    assert len(text) <= MAX_REASON
    assert text.startswith('nearest seed "A Very Long Title')
    assert "followed author Wei Zhang, Ana Silva" in text and "classifier on 24 labels" in text
    assert "shared terms" not in text  # the least telling part made room for the seed


def test_site_topic_page_cards_carry_the_reason(tmp_path: Path, arxiv: FakeArxiv) -> None:
    ws = workspace(tmp_path, arxiv, SEEDS + "\nfeeds:\n  enabled: false")
    fill(ws)
    assert run_pipeline(ws, ("rank", "publish"), command="run", now=NOW).errors == []
    page = html.unescape((tmp_path / "docs/topics/vision.html").read_text(encoding="utf-8"))
    assert page.count('<p class="why"><strong>Why:</strong> nearest seed "') == 3
    assert 'Why:</strong> nearest seed "Robust Speech Recognition' in page
    # A seeded topic is listed by relevance (topics[].order's default): best first within a day.
    assert 'id="papers-vision" data-sort-default="relevance"' in page
    cards = re.findall(r'data-day="([\d-]+)" data-score="([\d.]+)"', page)
    assert len(cards) == 4 and any(float(score) > 0 for _, score in cards)
    assert cards == sorted(cards, key=lambda card: (card[0], float(card[1])), reverse=True)


def test_a_category_the_seeds_share_lifts_a_paper_and_is_named() -> None:
    from arxiv_radar.rank.features import TermSpace
    from arxiv_radar.rank.scorer import Candidate, Profile, Seed, score

    text = "Real-time rendering of radiance fields with gaussian splatting."
    store = [f"Paper {i} about image classification and detection." for i in range(20)]
    cats = [("cs.CV",)] * 20
    space = TermSpace.fit([*store, text], [*cats, ("cs.CV", "cs.GR")])
    seed = Seed("2308.04079", "3D Gaussian Splatting", text, ("cs.CV", "cs.GR"))
    plain = Candidate("2611.00001", "Splats", text, (), ("cs.CV",))
    graphics = Candidate("2611.00002", "Splats", text, (), ("cs.GR",))
    first, second = score(space, Profile("Vision", (seed,)), [plain, graphics])
    assert first.arxiv_id == "2611.00002" and first.score > second.score
    assert first.evidence.categories is not None and first.evidence.categories[0] == ("cs.GR",)
    assert second.evidence.categories is None  # cs.CV is on most papers: it explains nothing


ZOTERO_ITEMS = [
    {
        "key": "AAAA1111",
        "data": {
            "itemType": "preprint",
            "title": SPLAT_SEED.title,
            "url": "http://arxiv.org/abs/2308.04079v1",
        },
    },
    {
        "key": "BBBB2222",
        "data": {
            "itemType": "journalArticle",
            "title": "Message Passing for Molecules",
            "abstractNote": "Neural message passing networks predict molecular properties "
            "from molecule graphs of atoms.",
            "DOI": "10.1021/some.journal",
        },
    },
    {"key": "CCCC3333", "data": {"itemType": "note", "note": "read later"}},
]


def _zotero(request: Request) -> Reply:
    """Zotero web API v3: a JSON array per page, the total in ``Total-Results``; this one
    answers two items per page whatever the limit, as a server may."""
    start = int(request.param("start", "0"))
    page = ZOTERO_ITEMS[start : start + 2]
    headers = {"Content-Type": "application/json", "Total-Results": str(len(ZOTERO_ITEMS))}
    return Reply(body=json.dumps(page), headers=headers)


def test_seeds_from_a_zotero_collection(
    tmp_path: Path, arxiv: FakeArxiv, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("GET", "/zotero/groups/4711/collections/ABCD2345/items/top", _zotero)
    monkeypatch.setenv("RANK_TEST_ZOTERO_KEY", "zotero-secret")
    monkeypatch.setenv("ARXIV_RADAR_ZOTERO_URL", f"{server.url}/zotero")
    zotero = (
        "    zotero:\n      library: groups/4711\n      collection: ABCD2345\n"
        "      api_key_env: RANK_TEST_ZOTERO_KEY"
    )
    ws = workspace(tmp_path, arxiv, zotero)
    fill(ws)
    scores = rank(ws)
    calls = server.requests_to("/zotero/groups/4711/collections/ABCD2345/items/top")
    assert [c.param("start") for c in calls] == ["0", "2"]
    assert {c.headers["zotero-api-key"] for c in calls} == {"zotero-secret"}
    assert calls[0].headers["zotero-api-version"] == "3"
    assert id_requests(arxiv) == ["2308.04079"]  # the item with an arXiv id, fetched from arXiv
    assert scores["2611.00003"][1].startswith('nearest seed "Message Passing for Molecules"')
    assert scores["2611.00001"][1].startswith('nearest seed "3D Gaussian Splatting')
    # --explain scores from the stored collection, without asking Zotero again.
    from arxiv_radar.rank.report import topic_ranking

    report = topic_ranking(ws, "Vision", explain="2611.00003")
    assert any("Message Passing for Molecules" in line for line in report.explanation)
    assert len(server.requests_to("/zotero/groups/4711/collections/ABCD2345/items/top")) == 2
    stored = b"".join(f.read_bytes() for f in tmp_path.glob("arxiv-radar.db*"))
    assert b"zotero-secret" not in stored


def test_scores_and_seeds_survive_a_rebuild_from_the_committed_state(
    tmp_path: Path, arxiv: FakeArxiv
) -> None:
    """A cache miss must not re-score (pages would change) nor ask arXiv for the seeds again."""
    from arxiv_radar.store.snapshot import export_state, rebuild_database

    ws = workspace(tmp_path, arxiv, SEEDS)
    fill(ws)
    scores = rank(ws)
    with Store.open(ws.database) as store:
        export_state(store, ws.state_dir)
        seeds = store.seed_papers(["2308.04079", "2212.04356"])
        stored = store.topic_scores("Vision")
    rebuild_database(ws.database, ws.state_dir)
    with Store.open(ws.database) as store:
        assert store.seed_papers(["2308.04079", "2212.04356"]) == seeds
        assert store.topic_scores("Vision") == stored
    assert rank(ws) == scores
    assert len(id_requests(arxiv)) == 1, "the seeds were fetched once, before the rebuild"
