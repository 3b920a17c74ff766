"""Links written by authors, and the re-check schedule for papers without code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arxiv_radar.enrich.codelinks import RECHECK_DAYS, TextFinder, next_check
from arxiv_radar.enrich.links import find_links_in_text, normalise_repo_url
from tests.fixtures.enrich.helpers import T0, make_paper


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Code: https://github.com/foo/bar.", "https://github.com/foo/bar"),
        ("(see https://github.com/foo/bar)", "https://github.com/foo/bar"),
        ("at https://github.com/foo/bar.git;", "https://github.com/foo/bar"),
        ("at https://github.com/foo/bar/tree/main/src", "https://github.com/foo/bar"),
        ("at http://www.github.com/Foo/Bar-2.0]", "https://github.com/Foo/Bar-2.0"),
        ("code is at github.com/foo/bar, soon", "https://github.com/foo/bar"),
        (r"available at \url{https://github.com/foo/bar}.", "https://github.com/foo/bar"),
        (r"\href{https://github.com/foo/bar}{here}", "https://github.com/foo/bar"),
        ("[code](https://github.com/foo/bar)", "https://github.com/foo/bar"),
        ("<https://github.com/foo/bar>", "https://github.com/foo/bar"),
        ("'https://github.com/foo/bar'", "https://github.com/foo/bar"),
        ("https://gitlab.com/grp/sub/proj/-/tree/main", "https://gitlab.com/grp/sub/proj"),
        ("https://codeberg.org/me/tool.git", "https://codeberg.org/me/tool"),
        ("https://huggingface.co/spaces/me/demo.", "https://huggingface.co/spaces/me/demo"),
        ("https://huggingface.co/datasets/me/set", "https://huggingface.co/datasets/me/set"),
        ("weights: https://huggingface.co/me/model}", "https://huggingface.co/me/model"),
    ],
)
def test_repository_links_are_found_and_normalised(text: str, expected: str) -> None:
    assert find_links_in_text(text).code == [expected]


def test_project_pages_are_kept_apart_from_code() -> None:
    abstract = (
        "Project page: https://example.org/nerfy. Code at https://github.com/a/b. "
        "Videos on https://a.github.io/nerfy/ and our site https://lab.example.edu/x/."
    )
    links = find_links_in_text(abstract)
    assert links.code == ["https://github.com/a/b"]
    assert links.project == [
        "https://example.org/nerfy",
        "https://a.github.io/nerfy/",
        "https://lab.example.edu/x/",
    ]


def test_unrelated_links_and_non_repository_pages_are_ignored() -> None:
    text = (
        "See https://doi.org/10.1/abc and https://arxiv.org/abs/2401.00001, "
        "https://huggingface.co/papers/2401.00001 and https://github.com/features/copilot."
    )
    links = find_links_in_text(text)
    assert links.code == []
    assert links.project == []


def test_comment_is_searched_and_duplicates_collapse() -> None:
    links = find_links_in_text(
        "Code: https://github.com/a/b.", "12 pages; code https://GITHUB.com/a/b/ and github.com/a/b"
    )
    assert links.code == ["https://github.com/a/b"]


def test_normalise_rejects_non_repositories() -> None:
    assert normalise_repo_url("https://github.com/justanowner") is None
    assert normalise_repo_url("https://example.org/a/b") is None
    assert normalise_repo_url("https://gitlab.com/alone") is None


@given(st.text(alphabet=".,;:)]}>'\"", max_size=6))
def test_any_trailing_punctuation_is_stripped(tail: str) -> None:
    assert find_links_in_text(f"code https://github.com/o/r{tail} now").code == [
        "https://github.com/o/r"
    ]


def test_text_finder_reports_source_and_time() -> None:
    finder = TextFinder(clock=lambda: T0)
    paper = make_paper(comment="Accepted. https://github.com/o/r; page https://o.github.io/r")
    result = finder.find(paper)
    assert result.source == "text"
    assert result.at == T0
    assert getattr(result, "code_url", None) == "https://github.com/o/r"
    assert getattr(result, "project_url", None) == "https://o.github.io/r"


def test_schedule_widens_then_stops() -> None:
    assert next_check(T0, 0) == T0
    gaps = [next_check(T0, n) for n in range(1, len(RECHECK_DAYS) + 1)]
    assert [g is not None and round((g - T0) / timedelta(days=1)) for g in gaps] == [3, 10, 30]
    assert next_check(T0, len(RECHECK_DAYS) + 1) is None


def test_schedule_tolerates_a_run_starting_a_bit_earlier_next_day() -> None:
    due = next_check(T0, 1)
    assert due is not None
    assert due <= T0 + timedelta(days=3) - timedelta(minutes=30)
