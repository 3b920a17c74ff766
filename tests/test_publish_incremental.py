"""Incremental publishing: pages skipped by fingerprint must equal a from-scratch publish, byte
for byte, after days of new papers and changes to old ones; memory stays bounded (month files)."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
from datetime import date, datetime, timedelta, timezone
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
from arxiv_radar.store.ranking import RankedRow

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


def publish(ws: Workspace, language: str | None = None) -> list[Path]:
    with Store.open(ws.database) as store:
        store.display_language = language
        return publish_all(ws, store, compile_topics(ws.config.topics))


def found_code(store: Store, arxiv_id: str, url: str, stars: int, at: datetime) -> None:
    """A code link found for ``arxiv_id``, recorded as the enrich stage records one."""
    store.record_code(arxiv_id, CodeOutcome(url, None, stars, "test", at, 1, None))


def translated(store: Store, of: Paper, text: str, at: datetime) -> None:
    """An English abstract for ``of``, recorded as the enrich stage records a translation."""
    store.record_text(of, TextKey("abstract", "en", "test", "m"), text, at)


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
        found_code(store, f"{old:%y%m}.00400", "https://github.com/a/b", 42, old)
    first = publish(history)
    assert_same_as_scratch(history, tmp_path, "scratch1")
    names = {p.relative_to(history.root).as_posix() for p in first}
    assert "archive/2025-01.md" in names  # the old month with the new code link
    assert "archive/2025-02.md" not in names  # untouched month: not even rendered

    with Store.open(history.database) as store:
        add_day(store, 62, 5)
        store.upsert_papers(
            [paper(1001, START + timedelta(days=10), version=2, title="Renamed in v2")],
            seen_at=START + timedelta(days=62),
            source="api",
        )
        translated(
            store,
            paper(2000, START + timedelta(days=20)),
            "A translated abstract",
            START + timedelta(days=62),
        )
    publish(history)
    assert "Renamed in v2" in (history.root / "archive/2025-01.md").read_text("utf-8")
    assert_same_as_scratch(history, tmp_path, "scratch2")


def test_nothing_new_renders_nothing_and_writes_nothing(history: Workspace) -> None:
    before = {p: p.stat().st_mtime_ns for p in (history.root / "docs").rglob("*") if p.is_file()}
    assert publish(history) == []
    after = {p: p.stat().st_mtime_ns for p in (history.root / "docs").rglob("*") if p.is_file()}
    assert after == before


def test_a_moved_digest_folder_keeps_its_fresh_pages(tmp_path: Path) -> None:
    """A renamed repository is checked out at another path with its cached database inside:
    its pages are still fresh (a re-render would drop the marker), and a new day renders."""
    ws = workspace(tmp_path / "digest", Path("radar.db"))
    with Store.open(ws.database) as store:
        for day in range(0, 20, 2):
            add_day(store, day, 4)
    publish(ws)
    shutil.copytree(ws.root, tmp_path / "renamed")
    moved = load_workspace(tmp_path / "renamed" / "arxiv-radar.yml")
    day_page = sorted((moved.root / "docs/days").glob("*.html"))[0]
    mark(day_page)
    assert publish(moved) == []
    assert day_page.read_text("utf-8").endswith(MARKER)
    with Store.open(moved.database) as store:
        add_day(store, 30, 3)
    written = names(moved, publish(moved))
    assert any(name.startswith("docs/days/") for name in written)
    assert day_page.read_text("utf-8").endswith(MARKER)


def test_a_folder_sharing_a_database_from_elsewhere_renders_its_own_pages(
    history: Workspace, tmp_path: Path
) -> None:
    """A preview copy publishing from the same outside database must not make the original's
    stale pages look fresh, nor its own: paths stay absolute, the copy renders everything."""
    shutil.copytree(history.root, tmp_path / "preview")
    preview = load_workspace(tmp_path / "preview" / "arxiv-radar.yml")
    assert preview.database == history.database
    day_page = sorted((preview.root / "docs/days").glob("*.html"))[0]
    mark(day_page)
    publish(preview)
    assert not day_page.read_text("utf-8").endswith(MARKER)


def test_a_deleted_page_comes_back(history: Workspace) -> None:
    gone = [
        history.root / "archive/2025-01.md",
        history.root / "docs/archive/2025-01.html",
        history.root / "docs/days/2025-01-05.html",
        history.root / "docs/exports/papers-2025-01.bib",
        history.root / "docs/exports/2025-01/papers-2025-01-05.json.gz",
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
    archive = (ws.root / "archive/2025-01.md").read_text("utf-8")
    assert "Abstract of paper 0. Abstract of paper 0." not in archive  # 40 chars now
    assert_same_as_scratch(ws, tmp_path, "scratch")


def test_exports_are_split_by_day_with_an_index(history: Workspace) -> None:
    exports = history.root / "docs/exports"
    index = json.loads((exports / "index.json").read_text("utf-8"))
    assert [m["month"] for m in index["months"]] == ["2025-03", "2025-02", "2025-01"]
    ids: list[str] = []
    for month in index["months"]:
        in_month = 0
        days = [name.split("papers-")[1][:10] for name in month["days"]]
        assert days == sorted(days, reverse=True) and all(d[:7] == month["month"] for d in days)
        for name in month["days"]:
            data = json.loads(gzip.decompress((exports / name).read_bytes()))
            assert {p["day"] for p in data["papers"]} == {name.split("papers-")[1][:10]}
            in_month += len(data["papers"])
            ids += [p["arxiv_id"] for p in data["papers"]]
        assert in_month == month["papers"]
        assert "csv" not in month  # opt-in (feeds.csv)
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


def test_an_older_namesake_arriving_late_renames_the_keys_of_later_months(
    history: Workspace, tmp_path: Path
) -> None:
    """A paper of early January with the stem of later ones (same first author, year and title
    word) takes the bare key: the later months of the year have their keys renamed too."""
    late = paper(7007, START - timedelta(days=1))  # Ada Lovelace0, like papers 7, 14, ... of 2025
    with Store.open(history.database) as store:
        store.upsert_papers([late], seen_at=START + timedelta(days=70), source="api")
        store.add_matches("Vision", [late.arxiv_id], matched_at=START + timedelta(days=70))
    written = names(history, publish(history))
    assert {"docs/exports/papers-2025-01.bib", "docs/exports/papers-2025-02.bib"} <= written
    assert "docs/exports/papers-2025-03.bib" in written
    assert_same_as_scratch(history, tmp_path, "scratch")


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


def names(ws: Workspace, written: list[Path]) -> set[str]:
    return {path.relative_to(ws.root).as_posix() for path in written}


def test_a_changed_old_code_link_rewrites_only_the_files_that_show_it(
    history: Workspace, tmp_path: Path
) -> None:
    """Its day page, its day's data file, its Markdown month (Code column) and stars.json;
    the topic pages (newest 200) and Robots' feeds (newest 100: Robots has 90 papers) list it
    too. Not its month's HTML list (no code links there), not its BibTeX (no code field), no
    other month."""
    old = START + timedelta(days=4)
    with Store.open(history.database) as store:
        found_code(store, f"{old:%y%m}.00400", "https://github.com/a/b", 42, old)
        queries: list[str] = []
        store.connection.set_trace_callback(queries.append)
        published = publish_all(history, store, compile_topics(history.config.topics))
        store.connection.set_trace_callback(None)
    # Its day is read once, for its data file and its page alike.
    day_reads = [q for q in queries if "p.published >= '2025-01-07T" in q and "ORDER BY" in q]
    assert len(day_reads) == 1, day_reads
    written = names(history, published)
    assert written == {
        "docs/days/2025-01-07.html",
        "docs/exports/2025-01/papers-2025-01-07.json.gz",
        "archive/2025-01.md",
        "docs/exports/stars.json",
        "docs/topics/vision.html",
        "docs/topics/language.html",
        "docs/topics/robots.html",
        "docs/feeds/topics/robots.xml",
        "docs/feeds/topics/robots.atom",
    }
    stars = json.loads((history.root / "docs/exports/stars.json").read_text("utf-8"))
    assert stars == {"v": 1, "stars": {f"{old:%y%m}.00400": 42}}
    assert_same_as_scratch(history, tmp_path, "scratch")


def test_a_new_old_translation_rewrites_only_the_files_that_show_it(
    history: Workspace, tmp_path: Path
) -> None:
    publish(history, "en")  # the settings changed: every page once
    old = START + timedelta(days=20)
    with Store.open(history.database) as store:
        translated(store, paper(2000, old), "Translated!", old)
    written = names(history, publish(history, "en"))
    # The Markdown month shows translated abstracts; the month's HTML list, BibTeX and the day
    # page (abstracts.js fills its cards from the day file) do not.
    assert written == {
        "docs/exports/2025-01/papers-2025-01-23.json.gz",
        "archive/2025-01.md",
        "docs/topics/vision.html",
        "docs/topics/language.html",
        "docs/topics/robots.html",
    }
    day_file = history.root / "docs/exports/2025-01/papers-2025-01-23.json.gz"
    assert "Translated!" in gzip.decompress(day_file.read_bytes()).decode("utf-8")
    # The day page's card has a slot that abstracts.js fills from that file.
    assert "Translated!" not in (history.root / "docs/days/2025-01-23.html").read_text("utf-8")


MARKER = "% left here by the test: a render of this file would drop it\n"


def mark(path: Path) -> bytes:
    """Append MARKER to ``path`` (a page no render writes it to); return its rendered bytes."""
    rendered = path.read_bytes()
    path.write_bytes(rendered + MARKER.encode("utf-8"))
    return rendered


def test_a_month_bib_is_not_rendered_again_for_fields_it_does_not_show(
    history: Workspace, tmp_path: Path
) -> None:
    """Code links and a translation move January's window, so the changed day's data file is
    rendered again; its BibTeX shows neither, and they leave the listing fingerprint it is
    rendered from alone (the marker survives). A revised abstract moves that fingerprint, yet
    BibTeX does not show it either: the first such change renders the file once more and records
    the hash of its inputs, the second finds that hash unchanged and keeps the file unrendered.
    Once restored it equals a from-scratch render."""
    bib = history.root / "docs/exports/papers-2025-01.bib"
    old = START + timedelta(days=4)
    with Store.open(history.database) as store:
        found_code(store, f"{old:%y%m}.00400", "https://github.com/a/b", 42, old)
    publish(history)
    rendered = mark(bib)
    with Store.open(history.database) as store:
        found_code(store, f"{old:%y%m}.00401", "https://github.com/c/d", 7, old)
        translated(store, paper(1000, START + timedelta(days=10)), "Translated!", old)
    written = names(history, publish(history))
    assert f"docs/exports/2025-01/papers-{old:%Y-%m-%d}.json.gz" in written
    assert bib.read_text("utf-8").endswith(MARKER)
    assert names(history, publish(history)) == set()  # the new window print was recorded
    for revision in ("first", "second"):
        revised = dataclasses.replace(paper(402, old), abstract=f"A {revision} new abstract.")
        with Store.open(history.database) as store:
            store.upsert_papers([revised], seen_at=old + timedelta(days=9), source="api")
        if revision == "first":
            publish(history)
            rendered = mark(bib)
    assert "docs/exports/papers-2025-01.bib" not in names(history, publish(history))
    assert bib.read_text("utf-8").endswith(MARKER)
    bib.write_bytes(rendered)
    assert_same_as_scratch(history, tmp_path, "scratch")


def test_a_month_bib_is_rendered_again_when_a_field_it_shows_changes(
    history: Workspace, tmp_path: Path
) -> None:
    """A new comment (same version, metadata changed) is in the BibTeX note: rendered again."""
    bib = history.root / "docs/exports/papers-2025-01.bib"
    mark(bib)
    when = START + timedelta(days=4)
    changed = dataclasses.replace(paper(400, when), comment="Accepted at CVPR 2025")
    with Store.open(history.database) as store:
        store.upsert_papers([changed], seen_at=when + timedelta(days=9), source="listing")
    assert "docs/exports/papers-2025-01.bib" in names(history, publish(history))
    text = bib.read_text("utf-8")
    assert MARKER not in text
    assert "note = {Accepted at CVPR 2025}" in text
    assert_same_as_scratch(history, tmp_path, "scratch")


ARCHIVE_MARK = "\n<!-- left here by the test: only a full render drops it -->\n"


def mark_archive(ws: Workspace, month: str) -> Path:
    """Append ARCHIVE_MARK to an archive month: patching its rows keeps it, a render drops it."""
    path = ws.root / "archive" / f"{month}.md"
    path.write_text(path.read_text("utf-8") + ARCHIVE_MARK, encoding="utf-8")
    return path


def unmark(path: Path) -> None:
    path.write_text(path.read_text("utf-8").replace(ARCHIVE_MARK, ""), encoding="utf-8")


def test_an_old_month_with_new_code_links_and_translations_has_only_those_rows_rewritten(
    history: Workspace, tmp_path: Path
) -> None:
    """The rows are patched into the page on disk (the mark survives) and the page equals a
    from-scratch render: the Code and Abstract cells are the only change."""
    publish(history, "en")  # the settings changed: every page once
    page = mark_archive(history, "2025-01")
    old = START + timedelta(days=4)
    with Store.open(history.database) as store:
        found_code(store, f"{old:%y%m}.00400", "https://github.com/a/b", 42, old)
        found_code(store, f"{old:%y%m}.00405", "https://github.com/c/d", 7, old)
        translated(store, paper(2000, START + timedelta(days=20)), "Translated | with a bar!", old)
    assert "archive/2025-01.md" in names(history, publish(history, "en"))
    text = page.read_text("utf-8")
    assert text.endswith(ARCHIVE_MARK)
    assert text.count("[code](https://github.com/a/b)") == 3  # its three topics (add_day)
    assert "Translated \\| with a bar!" in text
    unmark(page)
    with Store.open(history.database) as store:
        store.display_language = "en"
        publish_all(history, store, compile_topics(history.config.topics))
    scratch = workspace(tmp_path / "scratch", history.database)
    with Store.open(history.database) as store:
        store.display_language = "en"
        publish_all(scratch, store, compile_topics(scratch.config.topics))
    assert page.read_bytes() == (scratch.root / "archive/2025-01.md").read_bytes()


def test_new_papers_in_a_month_place_its_unchanged_papers_rows_again(
    history: Workspace, tmp_path: Path
) -> None:
    """A month gaining papers is rendered again, but an unchanged paper's rows come from the
    page on disk, one per section (a row edited there keeps the edit, which a fresh format
    would drop); a changed paper's rows are formatted anew. Otherwise it equals a from-scratch
    render."""
    page = history.root / "archive/2025-03.md"
    kept, changed = f"{START + timedelta(days=58):%y%m}.05800", "2503.05801"
    edited = page.read_text("utf-8").replace("**Paper 5800 about", "**Edited 5800 about")
    page.write_text(edited, encoding="utf-8")
    with Store.open(history.database) as store:
        add_day(store, 59, 6)
        found_code(store, changed, "https://github.com/a/b", 3, START + timedelta(days=59))
    assert "archive/2025-03.md" in names(history, publish(history))
    text = page.read_text("utf-8")
    assert text.count("**Edited 5800 about") == 3  # paper 5800 is in the three topics
    assert "Paper 5900 about" in text and "[code](https://github.com/a/b)" in text
    page.write_text(text.replace("**Edited 5800 about", "**Paper 5800 about"), encoding="utf-8")
    assert kept in text
    assert_same_as_scratch(history, tmp_path, "scratch")


def test_new_papers_in_a_month_ordered_by_relevance_keep_it_in_order(tmp_path: Path) -> None:
    """Kept rows are placed where the month's order puts their papers now: a new paper with a
    high score comes first in its day, ahead of kept rows."""
    text = config_text().replace("{name: Robots,", "{name: Robots, order: relevance,")
    ws = workspace(tmp_path / "site", tmp_path / "radar.db", text)
    with Store.open(ws.database) as store:
        for day in range(0, 6, 2):
            add_day(store, day, 8)
    publish(ws)
    with Store.open(ws.database) as store:
        new = add_day(store, 4, 11)[-1]  # the same day, later: i = 10 is in Robots
        row = RankedRow(new.arxiv_id, 0.9, "like your seeds", "seeds")
        store.record_scores("Robots", [row], at=START + timedelta(days=5))
    publish(ws)
    assert_same_as_scratch(ws, tmp_path, "scratch")


@pytest.mark.parametrize("change", ["topic", "metadata", "row missing"])
def test_an_old_month_is_rendered_in_full_when_its_layout_may_have_moved(
    history: Workspace, tmp_path: Path, change: str
) -> None:
    """A new topic for an old paper, a revised title, or a page whose row is not where it
    should be (edited by hand): the whole month is rendered again (the mark is gone)."""
    page = mark_archive(history, "2025-01")
    old = START + timedelta(days=4)
    with Store.open(history.database) as store:
        found_code(store, f"{old:%y%m}.00401", "https://github.com/a/b", 42, old)
        if change == "topic":
            store.add_matches("Robots", [f"{old:%y%m}.00401"], matched_at=old)
        elif change == "metadata":
            renamed = paper(401, old, version=2, title="Renamed")
            store.upsert_papers([renamed], seen_at=old + timedelta(days=9), source="api")
    if change == "row missing":
        lines = page.read_text("utf-8").split("\n")
        kept = [line for line in lines if f"[{old:%y%m}.00401](" not in line]
        page.write_text("\n".join(kept), encoding="utf-8")
    publish(history)
    assert not page.read_text("utf-8").endswith(ARCHIVE_MARK)
    assert_same_as_scratch(history, tmp_path, "scratch")


def test_a_month_ordered_by_relevance_is_rendered_in_full_when_a_score_changes(
    tmp_path: Path,
) -> None:
    """A new score may move its paper within its day, so rows are not patched in place."""
    text = config_text().replace("{name: Robots,", "{name: Robots, order: relevance,")
    ws = workspace(tmp_path / "site", tmp_path / "radar.db", text)
    with Store.open(ws.database) as store:
        papers = [p for day in range(0, 6, 2) for p in add_day(store, day, 8)]
    publish(ws)
    page = mark_archive(ws, "2025-01")
    first = papers[-8]  # the last day's first paper: in every topic, listed last in its day
    with Store.open(ws.database) as store:
        row = RankedRow(first.arxiv_id, 0.9, "like your seeds", "seeds")
        store.record_scores("Robots", [row], at=START + timedelta(days=7))
    assert "archive/2025-01.md" in names(ws, publish(ws))
    text = page.read_text("utf-8")
    assert not text.endswith(ARCHIVE_MARK)
    robots = text.split("## Robots", 1)[1]
    newest = papers[-3]  # i = 5: in Robots, listed first in its day by date
    assert robots.index(f"[{first.arxiv_id}](") < robots.index(f"[{newest.arxiv_id}](")
    assert_same_as_scratch(ws, tmp_path, "scratch")


def calendar_with_queries(store: Store) -> tuple[incremental.Calendar, list[str]]:
    """A calendar built as publish builds it, and the topic-count queries that took."""
    queries: list[str] = []
    store.connection.set_trace_callback(queries.append)
    try:
        calendar = incremental.Calendar.build(store, timezone.utc, TOPICS)
    finally:
        store.connection.set_trace_callback(None)
    return calendar, [q for q in queries if "FROM topic_papers" in q]


def test_the_calendar_counts_again_only_the_months_that_changed(history: Workspace) -> None:
    """Topic counts are kept beside each month's window fingerprint: a publish with nothing new
    counts nothing, and a new membership in January re-counts January alone, correctly."""
    with Store.open(history.database) as store:
        calendar, queries = calendar_with_queries(store)
        assert [m.label for m in calendar.months] == ["2025-03", "2025-02", "2025-01"]
        assert queries == []
        old = f"{START + timedelta(days=4):%y%m}.00401"
        store.add_matches("Robots", [old], matched_at=START + timedelta(days=30))
        calendar, queries = calendar_with_queries(store)
        assert len(queries) == len(TOPICS)  # January's three topics
        for month in calendar.months:
            fresh = {
                t: n for t in TOPICS if (n := store.topic_window_count(t, month.start, month.end))
            }
            assert calendar.topic_counts[month.label] == fresh
    publish(history)
    with Store.open(history.database) as store:
        assert calendar_with_queries(store)[1] == []


def days_with_queries(
    calendar: incremental.Calendar, store: Store
) -> tuple[dict[str, list[tuple[str, tuple[int, int] | None]]], int]:
    """Each month's days with their known fingerprints, and how many papers queries that took."""
    queries: list[str] = []
    store.connection.set_trace_callback(queries.append)
    try:
        days = {
            month.label: [(day.label, day.known) for day in calendar.days(month)]
            for month in calendar.months
        }
    finally:
        store.connection.set_trace_callback(None)
    return days, sum("FROM papers" in q for q in queries)


def test_the_days_of_a_month_are_counted_again_only_when_it_changed(history: Workspace) -> None:
    """Day fingerprints are kept beside each month's, as topic counts are: after a publish the
    days of unchanged months cost no query, and a changed month's are counted again, right."""
    with Store.open(history.database) as store:
        old = f"{START + timedelta(days=4):%y%m}.00401"
        found_code(store, old, "https://github.com/a/b", 42, START + timedelta(days=30))
        calendar = calendar_with_queries(store)[0]
        days, queries = days_with_queries(calendar, store)
        assert queries == 31  # January's days: its code link moved its fingerprint
        for month in calendar.months:
            for label, known in days[month.label]:
                day = incremental.day_window(date.fromisoformat(label), timezone.utc)
                assert known == store.window_fingerprint(day.start, day.end)
            every = incremental.days_of(month, timezone.utc)
            with_papers = [d.label for d in every if store.window_fingerprint(d.start, d.end)[0]]
            assert [label for label, _ in days[month.label]] == with_papers


def test_a_star_refresh_rewrites_stars_json_and_no_window_page(history: Workspace) -> None:
    old = START + timedelta(days=4)
    with Store.open(history.database) as store:
        found_code(store, f"{old:%y%m}.00400", "https://github.com/a/b", 42, old)
    publish(history)
    with Store.open(history.database) as store:
        store.record_stars({"https://github.com/a/b": 43}, old + timedelta(days=30))
    written = names(history, publish(history))
    assert "docs/exports/stars.json" in written
    assert not [
        n
        for n in written
        if n.startswith(("docs/days/", "docs/archive/", "docs/exports/papers-", "docs/exports/20"))
    ]


def test_an_upgrade_removes_search_shards_and_csv_files_it_no_longer_writes(
    history: Workspace,
) -> None:
    """The site manifest of an older version lists search/<month>.json and CSV files."""
    docs = history.root / "docs"
    assert history.path is not None
    history.path.write_text(
        config_text() + f"feeds: {{csv: true}}\ndatabase: {history.database}\n", "utf-8"
    )
    publish(load_workspace(history.path))
    assert sorted(p.name for p in (docs / "exports").glob("*.csv")) == [
        "papers-2025-01.csv",
        "papers-2025-02.csv",
        "papers-2025-03.csv",
    ]
    manifest = json.loads((docs / ".arxiv-radar-site.json").read_text("utf-8"))
    (docs / "search").mkdir()
    for month in ("2025-01", "2025-02", "2025-03"):
        (docs / f"search/{month}.json").write_text("{}", "utf-8")
        manifest["files"].append(f"search/{month}.json")
    (docs / ".arxiv-radar-site.json").write_text(json.dumps(manifest), "utf-8")
    history.path.write_text(config_text() + f"database: {history.database}\n", "utf-8")
    publish(load_workspace(history.path))
    assert not (docs / "search").exists()
    assert not list((docs / "exports").glob("*.csv"))


def test_an_upgrade_removes_the_month_data_files_of_the_previous_layout(
    history: Workspace,
) -> None:
    """Before day files, exports/papers-<month>.json.gz held the data; the manifest lists them."""
    docs = history.root / "docs"
    manifest = json.loads((docs / ".arxiv-radar-site.json").read_text("utf-8"))
    for month in ("2025-01", "2025-02", "2025-03"):
        (docs / f"exports/papers-{month}.json.gz").write_bytes(gzip.compress(b"{}"))
        manifest["files"].append(f"exports/papers-{month}.json.gz")
    (docs / ".arxiv-radar-site.json").write_text(json.dumps(manifest), "utf-8")
    publish(history)
    assert not list((docs / "exports").glob("papers-*.json.gz"))
    day_files = {p.name[len("papers-") : -len(".json.gz")] for p in docs.glob("exports/*/*.gz")}
    assert day_files == {p.stem for p in docs.glob("days/*.html")} and len(day_files) == 30


def test_with_the_site_off_a_changed_old_paper_rewrites_its_day_file_alone(
    tmp_path: Path,
) -> None:
    """The exports alone (feeds on, site off): one day file rewritten, equal to a fresh one."""
    ws = workspace(
        tmp_path / "feeds", tmp_path / "radar.db", config_text() + "site: {enabled: false}\n"
    )
    with Store.open(ws.database) as store:
        for day in range(0, 60, 2):
            add_day(store, day, 8)
    publish(ws)
    old = START + timedelta(days=4)
    with Store.open(ws.database) as store:
        found_code(store, f"{old:%y%m}.00400", "https://github.com/a/b", 42, old)
    written = {n for n in names(ws, publish(ws)) if n.startswith("docs/exports/")}
    assert written == {"docs/exports/2025-01/papers-2025-01-07.json.gz", "docs/exports/stars.json"}
    assert_same_as_scratch(ws, tmp_path, "scratch")


def test_the_newest_papers_of_a_topic_are_what_the_store_lists_at_any_depth(
    history: Workspace,
) -> None:
    with Store.open(history.database) as store:
        newest = incremental.NewestInTopics(store, depth=20)
        for limit in (5, 20, 0, 3):
            assert newest.get("Vision", limit) == store.topic_entries("Vision", limit=limit)
        deeper = newest.get("Vision", 50)  # past what was read: read again, deeper
        assert deeper == store.topic_entries("Vision", limit=50)
        everything = store.topic_entries("Robots")
        assert newest.get("Robots", 10_000) == everything  # fewer than asked: all of them
        assert newest.get("Robots", len(everything) + 5) == everything
