"""The Markdown digest: golden pages, anchors, cells, archives.

Golden files live in tests/golden/markdown/. After an intended change of the output, regenerate
them with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_markdown.py

and review the diff: it is exactly what users will see change on their pages.
"""

from __future__ import annotations

import dataclasses
import html
import os
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from arxiv_radar.errors import ConfigError
from arxiv_radar.paper import Entry, Paper
from arxiv_radar.publish.cells import (
    escape_cell,
    format_stars,
    normalize_space,
    safe_url,
    shorten,
)
from arxiv_radar.publish.incremental import Calendar, Fingerprints, MonthEntries, NewestInTopics
from arxiv_radar.publish.markdown import (
    GENERATED_MARKER,
    USAGE_URL,
    ArchiveLink,
    MarkdownSettings,
    Slugger,
    StoreMarkdown,
    TopicSection,
    render_archive_index,
    render_archive_month,
    render_index,
    slugify,
)
from arxiv_radar.store import Store
from tests.filling import FETCHED, LANGUAGE, fill_store

GOLDEN = Path(__file__).parent / "golden" / "markdown"
UTC = timezone.utc
CPP = "C++ / CUDA: Fast & Small!"
TOPICS = ("Gaussian Splatting", CPP, "LLM Agents")


# --- data --------------------------------------------------------------------------------------


def make_entry(
    arxiv_id: str,
    published: datetime,
    title: str = "A plain title",
    *,
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
    abstract: str = "We study things carefully and report results.",
    **enrichment: object,
) -> Entry:
    paper = Paper(
        arxiv_id=arxiv_id,
        version=1,
        title=title,
        authors=authors,
        abstract=abstract,
        categories=("cs.CV",),
        primary_category="cs.CV",
        published=published,
        updated=published,
    )
    return Entry(paper=paper, first_seen=published, **enrichment)  # type: ignore[arg-type]


def dataset() -> dict[str, list[Entry]]:
    """3 topics over Aug-Oct 2026; the tricky cells sit in the README rows of Gaussian Splatting."""
    day = datetime(2026, 10, 6, 17, 0, tzinfo=UTC)
    splatting = [
        make_entry(
            "2610.00005",
            day,
            "Fast | Faster <script>alert(1)</script>\nSplatting",
            authors=("Solo Author",),
            abstract="We bound $x_1 | y$ and *stars* in [brackets] with snake_case.\n\tNew line. "
            * 3,
            code_url="https://github.com/example/fast-splat",
            stars=1234,
            project_url="https://example.github.io/fast-splat",
        ),
        make_entry(
            "2610.00004",
            day - timedelta(days=1),
            "*stars* and $x_1 | y$",
            abstract="English abstract, not shown.",
            abstract_translated="翻译后的摘要, 高斯泼溅的快速渲染。",
            title_translated="星星与数学",
            tldr="Faster splats.",
        ),
        make_entry("2609.00003", datetime(2026, 9, 20, tzinfo=UTC), "September splats"),
        make_entry("2608.00002", datetime(2026, 8, 2, tzinfo=UTC), "August splats"),
        make_entry("2608.00001", datetime(2026, 8, 1, tzinfo=UTC), "Early August splats"),
    ]
    cpp = [
        make_entry("2610.00010", day, "CUDA kernels", code_url="javascript:alert(1)"),
        make_entry("2609.00011", datetime(2026, 9, 3, tzinfo=UTC), "# Not a heading", authors=()),
    ]
    return {"Gaussian Splatting": splatting, CPP: cpp, "LLM Agents": []}


SETTINGS = MarkdownSettings(repository="octo/radar", readme_rows=2, abstract_chars=80)


def publish(
    tmp_path: Path,
    settings: MarkdownSettings = SETTINGS,
    *,
    topics: dict[str, list[Entry]] | None = None,
) -> list[Path]:
    """Publish the Markdown pages under ``tmp_path`` the way publish_all does, from a real store
    (filled from ``topics``, default the dataset, on the first call only)."""
    path = tmp_path / "radar.db"
    fresh = not path.exists()
    data = dataset() if topics is None else topics
    with Store.open(path) as store:
        if fresh:
            fill_store(store, [e for rows in data.values() for e in rows], data)
        store.display_language = LANGUAGE
        names = list(TOPICS if topics is None else data)
        calendar = Calendar.build(store, settings.zone, tuple(names))
        fingerprints = Fingerprints(store)
        markdown = StoreMarkdown(
            store,
            settings,
            topics=names,
            root=tmp_path,
            calendar=calendar,
            fingerprints=fingerprints,
            newest=NewestInTopics(store, settings.readme_rows),
        )
        written = [p for m in calendar.months for p in markdown.month(MonthEntries(store, m))]
        written += markdown.closing("Fetched 7 papers | 2 new", FETCHED.date())
        fingerprints.save()
    return sorted(written)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.exists(), f"missing golden {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- golden pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("golden", "relative"),
    [
        ("README.md", "README.md"),
        ("pages-index.md", "docs/index.md"),
        ("archive-2026-10.md", "docs/archive/2026-10.md"),
        ("archive-index.md", "docs/archive/index.md"),
    ],
)
def test_golden_pages(tmp_path: Path, golden: str, relative: str) -> None:
    publish(tmp_path)
    check_golden(golden, read(tmp_path / relative))


def test_publish_writes_every_page_then_nothing_when_unchanged(tmp_path: Path) -> None:
    written = publish(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "README.md",
        "docs/archive/2026-08.md",
        "docs/archive/2026-09.md",
        "docs/archive/2026-10.md",
        "docs/archive/index.md",
        "docs/index.md",
    ]
    assert publish(tmp_path) == []


def test_rendering_is_deterministic() -> None:
    def once() -> str:
        return render_index(
            settings=SETTINGS,
            updated_on=date(2026, 10, 7),
            topics=[TopicSection(n, rows, len(rows)) for n, rows in dataset().items()],
            archive_months=["2026-09", "2026-10"],
            target="readme",
        )

    first = once()
    assert first == once()
    assert first.endswith(
        "</p>\n\n[contributors-shield]: https://img.shields.io/github/contributors/"
        "octo/radar.svg?style=for-the-badge\n" + first.split("?style=for-the-badge\n", 1)[1]
    )
    assert "\r" not in first
    assert not first.endswith("\n\n")


# --- structure ---------------------------------------------------------------------------------


def anchors_in(text: str) -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', text))


@pytest.mark.parametrize("relative", ["README.md", "docs/index.md", "docs/archive/2026-09.md"])
def test_every_internal_link_has_its_anchor(tmp_path: Path, relative: str) -> None:
    publish(tmp_path)
    text = read(tmp_path / relative)
    targets = re.findall(r"href=#([^>\s]+)>", text)
    assert "top" in targets
    assert set(targets) <= anchors_in(text)


def test_toc_lists_topics_with_github_slugs(tmp_path: Path) -> None:
    publish(tmp_path)
    readme = read(tmp_path / "README.md")
    assert "    <li><a href=#c--cuda-fast--small>C++ / CUDA: Fast &amp; Small!</a></li>\n" in readme
    assert '<a id="c--cuda-fast--small"></a>\n\n## C++ / CUDA: Fast &amp; Small!\n' in readme


def test_older_papers_links_point_at_existing_archive_anchors(tmp_path: Path) -> None:
    publish(tmp_path)
    for page, base in (("README.md", tmp_path), ("docs/index.md", tmp_path / "docs")):
        text = read(tmp_path / page)
        links = re.findall(r"\[(\d{4}-\d{2})\]\(([^)#]+)#([^)]+)\)", text)
        # Gaussian Splatting shows 2 of 5 rows: the other 3 are in Sep and Aug (not Oct).
        assert [month for month, _, _ in links] == ["2026-09", "2026-08"]
        for _, href, anchor in links:
            assert anchor in anchors_in(read(base / href))
    assert (
        "Showing 2 of 5 papers. Older papers: [2026-09](docs/archive/2026-09.md#gaussian"
        in read(tmp_path / "README.md")
    )


def test_every_row_lands_on_an_archive_page(tmp_path: Path) -> None:
    publish(tmp_path, MarkdownSettings(repository="", readme_rows=0))
    archived = "".join(read(p) for p in sorted((tmp_path / "docs" / "archive").glob("2026-*.md")))
    for rows in dataset().values():
        for entry in rows:
            assert archived.count(f"[{entry.paper.arxiv_id}](") == 1


def test_readme_rows_cut_and_pages_links_are_relative_to_docs(tmp_path: Path) -> None:
    publish(tmp_path, MarkdownSettings(repository="octo/radar", readme_rows=1))
    readme, pages = read(tmp_path / "README.md"), read(tmp_path / "docs" / "index.md")
    assert readme.count("](https://arxiv.org/pdf/") == 2  # one row for each non-empty topic
    assert "Showing 1 of 5 papers." in readme
    assert "Showing 1 of 2 papers. Older papers: [2026-09](docs/archive/2026-09.md#c--" in readme
    assert "[2026-09](archive/2026-09.md#c--cuda-fast--small)" in pages
    assert pages.startswith(f"---\nlayout: default\n---\n\n{GENERATED_MARKER}\n")
    assert readme.startswith(f'{GENERATED_MARKER}\n<a id="top"></a>\n')


def test_nested_readme_path_gets_correct_relative_links() -> None:
    settings = MarkdownSettings(repository="o/r", readme_path="digest/README.md", docs_dir="site")
    section = TopicSection("T", [], 3, [ArchiveLink("2026-09", "t")])
    text = render_index(
        settings=settings,
        updated_on=None,
        topics=[section],
        archive_months=["2026-09"],
        target="readme",
    )
    assert "[2026-09](../site/archive/2026-09.md#t)" in text
    assert "[all months](../site/archive/index.md)" in text


def test_archive_beside_the_readme_links_both_ways_and_replaces_the_old_one(
    tmp_path: Path,
) -> None:
    """With the HTML site on, archive months live in archive/ beside the README (Pages serves
    Markdown raw under .nojekyll); the ones an earlier version wrote under docs/ are removed,
    a user's own file there is not."""
    publish(tmp_path)  # the old layout: docs/archive/
    old = tmp_path / "docs" / "archive"
    assert (old / "2026-10.md").is_file()
    (old / "notes.md").write_text("my notes\n", encoding="utf-8")
    (old / "2026-01.md").write_text("# my own page of that name\n", encoding="utf-8")
    beside = dataclasses.replace(SETTINGS, archive_dir="archive")
    publish(tmp_path, beside)
    readme, pages = read(tmp_path / "README.md"), read(tmp_path / "docs" / "index.md")
    assert "](archive/2026-09.md#" in readme and "[all months](archive/index.md)" in readme
    assert "](../archive/2026-09.md#" in pages
    month = read(tmp_path / "archive" / "2026-10.md")
    assert "[Back to the digest](../README.md)" in month
    assert "[Back to the digest](../README.md)" in read(tmp_path / "archive" / "index.md")
    assert sorted(p.name for p in old.iterdir()) == ["2026-01.md", "notes.md"]


def test_header_without_repository_has_no_badges_and_says_never() -> None:
    text = render_index(
        settings=MarkdownSettings(repository=""),
        updated_on=None,
        topics=[TopicSection("Empty", [], 0)],
        archive_months=[],
        target="readme",
        status_line="No announcements on weekends.\n<b>really</b>",
    )
    assert "shields.io" not in text
    assert "github.com" not in text.replace(USAGE_URL, "")  # nothing links a repository
    assert (
        "## Updated on: never\n\nNo announcements on weekends. &lt;b&gt;really&lt;/b&gt;\n" in text
    )
    assert "No papers yet." in text


def test_usage_line_links_to_arxiv_radars_own_documentation(tmp_path: Path) -> None:
    publish(tmp_path)
    assert USAGE_URL == "https://github.com/arxiv-radar/arxiv-radar#readme"
    for page in ("README.md", "docs/index.md"):
        text = read(tmp_path / page)
        assert f"> Usage instructions: [here]({USAGE_URL})" in text
        assert "octo/radar#readme" not in text  # not back to the digest itself


def test_updated_on_is_the_day_it_is_given(tmp_path: Path) -> None:
    # The day comes from arXiv's newest announcement (see publish.digest.updated_on), a calendar
    # date already: no time zone shifts it.
    publish(tmp_path, MarkdownSettings(repository="o/r", timezone="America/New_York"))
    assert "## Updated on 2026.10.07\n" in read(tmp_path / "README.md")


def test_archive_month_follows_the_display_time_zone(tmp_path: Path) -> None:
    late = make_entry("2610.99999", datetime(2026, 10, 31, 20, 0, tzinfo=UTC), "Halloween")
    settings = MarkdownSettings(repository="", timezone="Asia/Shanghai")
    publish(tmp_path, settings, topics={"T": [late]})
    archive = read(tmp_path / "docs" / "archive" / "2026-11.md")
    assert "|2026-11-01|**Halloween**|" in archive


def test_archive_index_lists_months_newest_first() -> None:
    text = render_archive_index(settings=SETTINGS, months=["2026-08", "2026-10", "2026-09"])
    assert "- [2026-10](2026-10.md)\n- [2026-09](2026-09.md)\n- [2026-08](2026-08.md)\n" in text
    assert "No archived papers yet." in render_archive_index(settings=SETTINGS, months=[])


def test_archive_month_skips_topics_without_rows_and_links_home() -> None:
    rows = dataset()["Gaussian Splatting"][:1]
    text = render_archive_month(
        settings=SETTINGS,
        month="2026-10",
        topics=[TopicSection("Empty", [], 0), TopicSection("Gaussian Splatting", rows, 1)],
    )
    assert "Empty" not in text
    assert "[Back to the digest](../index.md)" in text
    assert "# Papers of 2026-10\n" in text


# --- cells and columns -------------------------------------------------------------------------


def table_cells(text: str) -> list[list[str]]:
    """Parse the Markdown like GitHub would (GFM tables, raw HTML allowed) and return body cells."""
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in rendered
    bodies = re.findall(r"<tbody>(.*?)</tbody>", rendered, re.S)
    rows = [row for body in bodies for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return [
        [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows
    ]


def test_tricky_cells_stay_in_their_column_and_render_inert(tmp_path: Path) -> None:
    publish(tmp_path)
    rows = table_cells(read(tmp_path / "README.md"))
    assert all(len(row) == 5 for row in rows)
    title = rows[0][1]
    assert title == "<strong>Fast | Faster <script>alert(1)</script> Splatting</strong>"
    assert rows[1][1] == "<strong>*stars* and $x_1 | y$</strong><br>星星与数学"
    assert rows[0][2].startswith("We bound $x_1 | y$ and *stars* in [brackets] with snake_case.")


def test_code_cell_variants(tmp_path: Path) -> None:
    publish(tmp_path)
    readme = read(tmp_path / "README.md")
    assert (
        "|**[code](https://github.com/example/fast-splat)** ★1.2k "
        "[page](https://example.github.io/fast-splat)|" in readme
    )
    assert "javascript" not in readme  # an unsafe code URL renders as "—"
    assert "|[2610.00010](https://arxiv.org/pdf/2610.00010)|—|" in readme


def test_translated_abstract_replaces_english() -> None:
    entry = dataset()["Gaussian Splatting"][1]
    text = render_archive_month(
        settings=SETTINGS, month="2026-10", topics=[TopicSection("T", [entry], 1)]
    )
    assert "翻译后的摘要" in text
    assert "English abstract" not in text


def test_pending_translation_shows_english_marked_as_such() -> None:
    rows = dataset()["Gaussian Splatting"]
    settings = dataclasses.replace(SETTINGS, untranslated_marker="(EN)")
    text = render_archive_month(
        settings=settings, month="2026-10", topics=[TopicSection("T", rows[:2], 2)]
    )
    pending, translated = (row[2] for row in table_cells(text))
    assert pending.startswith("(EN) ") and "翻译后的摘要" in translated
    assert "(EN)" not in translated


def test_column_selection_and_order() -> None:
    settings = MarkdownSettings(repository="", columns=("authors", "title", "tldr"))
    rows = dataset()
    entries = [rows["Gaussian Splatting"][0], rows["Gaussian Splatting"][1], rows[CPP][1]]
    text = render_archive_month(
        settings=settings, month="2026-10", topics=[TopicSection("T", entries, 3)]
    )
    assert "|Authors|Title|TL;DR|\n|:---|:---|:---|\n" in text
    assert "|Solo Author|" in text
    assert "|Ada Lovelace et al.|" in text
    assert "|—|**\\# Not a heading**|—|" in text
    assert "|Faster splats.|" in text
    assert all(len(row) == 3 for row in table_cells(text))


def test_full_abstract_when_abstract_chars_is_zero() -> None:
    long = "word " * 200
    entry = make_entry("2610.00001", datetime(2026, 10, 1, tzinfo=UTC), abstract=long)
    text = render_archive_month(
        settings=MarkdownSettings(repository="", abstract_chars=0),
        month="2026-10",
        topics=[TopicSection("T", [entry], 1)],
    )
    assert normalize_space(long) in text
    assert "…" not in text


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"repository": "not a repo"}, "repository"),
        ({"repository": "o/r", "columns": ("date", "stars")}, "columns"),
        ({"repository": "o/r", "columns": ()}, "columns"),
        ({"repository": "o/r", "readme_rows": -1}, "readme_rows"),
        ({"repository": "o/r", "timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_settings_errors_name_the_key(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=f"^{key}:") as caught:
        MarkdownSettings(**kwargs)  # type: ignore[arg-type]
    assert caught.value.fix


# --- anchors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        (CPP, "c--cuda-fast--small"),
        ("Gaussian Splatting", "gaussian-splatting"),
        ("3D Reconstruction & NeRF", "3d-reconstruction--nerf"),
        ("Vision-Language_Models (VLM)", "vision-language_models-vlm"),
        ("Überraschung: 视觉 模型", "überraschung-视觉-模型"),
        ("Updated on 2026.10.07", "updated-on-20261007"),
    ],
)
def test_slugify_matches_github(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_slugger_numbers_duplicates_like_github_and_reserves_top() -> None:
    slugger = Slugger()
    assert [slugger.slug(n) for n in ["A", "a", "a-1", "Top", "!!!", "???"]] == [
        "a",
        "a-1",
        "a-1-1",
        "top-1",
        "section",
        "section-1",
    ]


def test_topic_named_like_the_updated_heading_gets_its_own_anchor() -> None:
    text = render_index(
        settings=SETTINGS,
        updated_on=date(2026, 10, 7),
        topics=[TopicSection("Updated on 2026.10.07", [], 0)],
        archive_months=[],
        target="readme",
    )
    assert "<a href=#updated-on-20261007-1>" in text
    assert '<a id="updated-on-20261007-1"></a>' in text


# --- cells.py properties -----------------------------------------------------------------------


def unescape(cell: str) -> str:
    """Undo escape_cell for text without math: drop backslash escapes, then decode entities."""
    return html.unescape(re.sub(r"\\(.)", r"\1", cell))


text_strategy = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="$"), max_size=80
)
any_text = st.text(
    alphabet=st.sampled_from(list("ab $_*|<>&\\`[]#~\n\r\tx1^{}")) | st.characters(), max_size=80
)


@given(text_strategy)
def test_escape_round_trips_plain_text(text: str) -> None:
    assert unescape(escape_cell(text)) == normalize_space(text)


@given(any_text)
def test_escaped_cell_is_one_inert_table_cell(text: str) -> None:
    cell = escape_cell(text)
    assert not set(cell) & set("\n\r\t<>")
    assert "|" not in cell.replace("\\|", "")
    assert not cell.startswith("#")
    assert len(table_cells(f"|h|\n|---|\n|{cell}|\n")[0]) == 1


@given(st.from_regex(r"[a-z_^{}\\]{0,10}[a-z{}]", fullmatch=True))
def test_math_keeps_latex_readable(formula: str) -> None:
    cell = escape_cell(f"see $x{formula}$ *here*")
    assert f"$x{formula}$" in cell
    assert cell.endswith("\\*here\\*")


def test_math_pipes_and_html_are_still_escaped() -> None:
    assert escape_cell("$a<b | c$") == "$a&lt;b \\| c$"
    assert escape_cell("costs $5 and $10 *") == "costs $5 and $10 \\*"


@given(st.text(max_size=200), st.integers(min_value=1, max_value=120))
def test_shorten_is_a_prefix_within_the_limit(text: str, limit: int) -> None:
    short = shorten(text, limit)
    full = normalize_space(text)
    if len(full) <= limit:
        assert short == full
    else:
        assert short.endswith("…")
        assert len(short) <= limit + 1
        assert full.startswith(short[:-1])


@given(st.text(alphabet=" \n\tab$,", min_size=400, max_size=3000), st.integers(1, 40))
def test_shorten_long_whitespace_heavy_text_matches_full_normalisation(
    text: str, limit: int
) -> None:
    short = shorten(text, limit)
    full = normalize_space(text)
    assert short == full if len(full) <= limit else full.startswith(short[:-1])


def test_shorten_cuts_at_word_boundary_and_not_inside_math() -> None:
    assert shorten("alpha beta gamma delta", 12) == "alpha beta…"
    assert shorten("alpha, beta gamma", 8) == "alpha…"
    assert shorten("we show $a + b = c$ holds", 14) == "we show…"
    assert shorten("Supercalifragilistic", 5) == "Super…"
    assert shorten("a" + " " * 5000 + "b c d", 3) == "a b…"
    assert shorten("x " * 400 + "$" + "y" * 10 + "$", 805) == ("x " * 400).strip() + "…"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/a/b", "https://github.com/a/b"),
        ("HTTP://example.org/x?q=1&r=2#f", "HTTP://example.org/x?q=1&r=2#f"),
        ("https://x.org/a b(c)|<d>", "https://x.org/a%20b%28c%29%7C%3Cd%3E"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("https://", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url_only_http(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


@pytest.mark.parametrize(
    ("stars", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1k"),
        (1234, "1.2k"),
        (12_345, "12.3k"),
        (999_950, "1M"),
        (2_500_000, "2.5M"),
    ],
)
def test_format_stars(stars: int, text: str) -> None:
    assert format_stars(stars) == text


def test_cells_never_print_none() -> None:
    bare = make_entry("2610.00001", datetime(2026, 10, 1, tzinfo=UTC), "", authors=(), abstract="")
    columns = ("date", "title", "authors", "abstract", "pdf", "code", "tldr")
    settings = MarkdownSettings(repository="", columns=columns)
    topics = [TopicSection("T", [bare], 1)]
    text = render_archive_month(settings=settings, month="2026-10", topics=topics)
    row = text.split("|:---|:---|:---|:---|:---|:---|:---|\n")[1].splitlines()[0]
    assert "None" not in row
    assert row == "|2026-10-01|—|—|—|[2610.00001](https://arxiv.org/pdf/2610.00001)|—|—|"
