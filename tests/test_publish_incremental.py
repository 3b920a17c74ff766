"""Incremental publishing: pages skipped by fingerprint must equal a from-scratch publish, byte
for byte, after days of new papers and changes to old ones; memory stays bounded (month files)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from arxiv_radar.config import Workspace, load_workspace
from arxiv_radar.match import compile_topics
from arxiv_radar.paper import Paper
from arxiv_radar.publish import incremental
from arxiv_radar.publish.digest import publish_all
from arxiv_radar.publish.export import read_json_exports
from arxiv_radar.records import CodeOutcome, TextKey
from arxiv_radar.store import Store

START = datetime(2025, 1, 3, 15, tzinfo=timezone.utc)
TOPICS = ("Vision", "Language", "Robots")


def config_text(timezone_name: str = "UTC", abstract_chars: int = 120) -> str:
    topics = "".join(f"  - {{name: {t}, keywords: [{t.lower()}]}}\n" for t in TOPICS)
    return (
        "repository: octo/digest\ncategories: [cs.CV]\n"
        f"timezone: {timezone_name}\noutput: {{abstract_chars: {abstract_chars}, readme_rows: 5}}\n"
        f"topics:\n{topics}"
    )


def workspace(root: Path, store_path: Path, text: str | None = None) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    (root / "arxiv-radar.yml").write_text(
        (text or config_text()) + f"database: {store_path}\n", encoding="utf-8"
    )
    return load_workspace(root / "arxiv-radar.yml")


def paper(n: int, when: datetime, version: int = 1, title: str = "") -> Paper:
    return Paper(
        arxiv_id=f"{when:%y%m}.{n:05d}",
        version=version,
        title=title or f"Paper {n} about $x^{n}$ & things",
        authors=(f"Ada Lovelace{n % 7}", "Bob Builder"),
        abstract=f"Abstract of paper {n}. " * 8,
        categories=("cs.CV", "cs.LG"),
        primary_category="cs.CV",
        published=when,
        updated=when + timedelta(days=version - 1),
    )


def add_day(store: Store, day: int, count: int) -> list[Paper]:
    when = START + timedelta(days=day)
    papers = [paper(day * 100 + i, when + timedelta(minutes=i)) for i in range(count)]
    store.upsert_papers(papers, seen_at=when + timedelta(hours=6), source="listing")
    for index, topic in enumerate(TOPICS):
        ids = [p.arxiv_id for i, p in enumerate(papers) if i % 3 == index or i % 5 == 0]
        store.add_matches(topic, ids, matched_at=when + timedelta(hours=6))
    store.set_meta("last_fetch_ok", (when + timedelta(hours=6)).isoformat())
    return papers


def publish(ws: Workspace) -> list[Path]:
    with Store.open(ws.database) as store:
        return publish_all(ws, store, compile_topics(ws.config.topics))


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix not in (".db", ".yml", ".lock", ".db-wal", ".db-shm")
    }


def assert_same_as_scratch(ws: Workspace, tmp_path: Path, name: str) -> None:
    scratch = workspace(
        tmp_path / name,
        ws.database,
        ws.path.read_text("utf-8").rsplit("database", 1)[0] if ws.path else None,
    )
    publish(scratch)
    incremental, fresh = tree(ws.root), tree(scratch.root)
    assert sorted(incremental) == sorted(fresh)
    for path, data in fresh.items():
        assert incremental[path] == data, path


@pytest.fixture
def history(tmp_path: Path) -> Workspace:
    """A store with papers over three months (60 days, every other day) and a first publish."""
    ws = workspace(tmp_path / "site", tmp_path / "radar.db")
    with Store.open(ws.database) as store:
        for day in range(0, 60, 2):
            add_day(store, day, 8)
    publish(ws)
    return ws


def test_days_of_changes_to_new_and_old_papers_equal_a_full_rebuild(
    history: Workspace, tmp_path: Path
) -> None:
    old = START + timedelta(days=4)
    with Store.open(history.database) as store:
        add_day(store, 61, 10)
        store.record_code(
            f"{old:%y%m}.00400",
            CodeOutcome("https://github.com/a/b", None, 42, "test", old, 1, None),
        )
    first = publish(history)
    assert_same_as_scratch(history, tmp_path, "scratch1")
    names = {p.relative_to(history.root).as_posix() for p in first}
    assert "docs/archive/2025-01.md" in names  # the old month with the new code link
    assert "docs/archive/2025-02.md" not in names  # untouched month: not even rendered

    with Store.open(history.database) as store:
        add_day(store, 62, 5)
        store.upsert_papers(
            [paper(1001, START + timedelta(days=10), version=2, title="Renamed in v2")],
            seen_at=START + timedelta(days=62),
            source="api",
        )
        store.record_text(
            paper(2000, START + timedelta(days=20)),
            TextKey("abstract", "en", "test", "m"),
            "A translated abstract",
            START + timedelta(days=62),
        )
    publish(history)
    assert "Renamed in v2" in (history.root / "docs/archive/2025-01.md").read_text("utf-8")
    assert_same_as_scratch(history, tmp_path, "scratch2")


def test_nothing_new_renders_nothing_and_writes_nothing(history: Workspace) -> None:
    before = {p: p.stat().st_mtime_ns for p in (history.root / "docs").rglob("*") if p.is_file()}
    assert publish(history) == []
    after = {p: p.stat().st_mtime_ns for p in (history.root / "docs").rglob("*") if p.is_file()}
    assert after == before


def test_a_deleted_page_comes_back(history: Workspace) -> None:
    gone = [
        history.root / "docs/archive/2025-01.md",
        history.root / "docs/archive/2025-01.html",
        history.root / "docs/days/2025-01-05.html",
        history.root / "docs/exports/papers-2025-01.bib",
        history.root / "docs/search/2025-01.json",
    ]
    saved = {path: path.read_bytes() for path in gone}
    for path in gone:
        path.unlink()
    assert sorted(publish(history)) == sorted(gone)
    assert {path: path.read_bytes() for path in gone} == saved


def test_changed_settings_render_the_pages_they_affect(history: Workspace, tmp_path: Path) -> None:
    assert history.path is not None
    history.path.write_text(
        config_text("Asia/Tokyo", 40) + f"database: {history.database}\n", encoding="utf-8"
    )
    ws = load_workspace(history.path)
    publish(ws)
    archive = (ws.root / "docs/archive/2025-01.md").read_text("utf-8")
    assert "Abstract of paper 0. Abstract of paper 0." not in archive  # 40 chars now
    assert_same_as_scratch(ws, tmp_path, "scratch")


def test_exports_are_split_by_month_with_an_index(history: Workspace) -> None:
    exports = history.root / "docs/exports"
    index = json.loads((exports / "index.json").read_text("utf-8"))
    assert [m["month"] for m in index["months"]] == ["2025-03", "2025-02", "2025-01"]
    ids: list[str] = []
    for month in index["months"]:
        data = json.loads((exports / month["json"]).read_text("utf-8"))
        assert len(data["papers"]) == month["papers"]
        ids += [p["arxiv_id"] for p in data["papers"]]
        csv_rows = (exports / month["csv"]).read_bytes().count(b"\r\n")
        assert csv_rows == month["papers"] + 1
    assert len(ids) == len(set(ids)) == 30 * 8
    assert [p["arxiv_id"] for p in read_json_exports(exports)] == ids
    assert not (exports / "papers.json").exists()


def test_citation_keys_stay_unique_across_month_files(history: Workspace) -> None:
    keys: list[str] = []
    for bib in sorted((history.root / "docs/exports").glob("papers-*.bib")):
        keys += [
            line[6:-1] for line in bib.read_text("utf-8").splitlines() if line.startswith("@misc{")
        ]
    assert len(keys) == 240 and len(set(keys)) == 240
    assert any(key.endswith("paperb") for key in keys)  # namesakes across months get suffixes


def test_new_renderers_re_render_every_page(
    history: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade or a template edit must not leave old months in the old layout."""
    with Store.open(history.database) as store:
        before = store.output_fingerprints()
    monkeypatch.setattr(incremental, "renderer_digest", lambda: "templates-of-another-release")
    publish(history)
    with Store.open(history.database) as store:
        after = store.output_fingerprints()
    assert before and all(after[path] != print_ for path, print_ in before.items())
