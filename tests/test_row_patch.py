"""Swapping a paper's rows in a rendered Markdown page: exact, or declined."""

from __future__ import annotations

from arxiv_radar.publish.row_patch import pdf_cell_token, replace_rows, rows_by_token

PAGE = "\n".join(
    [
        "# Papers of 2025-01",
        "",
        "## Vision",
        "|Title|PDF|Code|",
        "|:---|:---|:---|",
        "|**A**|[2501.00001](https://arxiv.org/pdf/2501.00001v1)|-|",
        "|**B**|[2501.00002](https://arxiv.org/pdf/2501.00002v1)|-|",
        "",
        "## Robots",
        "|Title|PDF|Code|",
        "|:---|:---|:---|",
        "|**A**|[2501.00001](https://arxiv.org/pdf/2501.00001v1)|-|",
        "",
    ]
)
A = pdf_cell_token("[2501.00001](https://arxiv.org/pdf/2501.00001v1)")
B = pdf_cell_token("[2501.00002](https://arxiv.org/pdf/2501.00002v1)")


def test_each_row_of_a_paper_is_replaced_in_section_order() -> None:
    rows = {A: ["|**A**|x|**[code](u1)**|", "|**A**|x|**[code](u2)**|"], B: ["|**B**|y|z|"]}
    patched = replace_rows(PAGE, rows)
    assert patched is not None
    lines = patched.split("\n")
    assert lines[5] == "|**A**|x|**[code](u1)**|"
    assert lines[6] == "|**B**|y|z|"
    assert lines[11] == "|**A**|x|**[code](u2)**|"
    assert [n for n, line in enumerate(lines) if line != PAGE.split("\n")[n]] == [5, 6, 11]


def test_a_paper_with_no_rows_changes_nothing() -> None:
    token = pdf_cell_token("[2501.00009](https://arxiv.org/pdf/2501.00009v1)")
    assert replace_rows(PAGE, {token: []}) == PAGE


def test_it_declines_when_the_rows_are_not_where_it_expects() -> None:
    assert replace_rows(PAGE, {A: ["|one row only|"]}) is None  # A has two rows
    assert replace_rows(PAGE, {B: ["|1|", "|2|"]}) is None  # B has one
    assert replace_rows(PAGE.replace("|**B**|", "B: "), {B: ["|b|"]}) is None  # not a table row
    both = PAGE.replace("|-|\n|**B**|", "|-|")  # A's and B's cells on one line
    assert replace_rows(both, {A: ["|a|", "|a|"], B: ["|b|"]}) is None


def test_an_escaped_bar_is_not_a_cell_boundary() -> None:
    """Cell text escapes ``|``, so a title quoting a PDF cell does not match it."""
    page = PAGE.replace("|**B**|", "|**B \\|[2501.00001](https://arxiv.org/pdf/2501.00001v1)\\|**|")
    patched = replace_rows(page, {A: ["|a1|", "|a2|"]})
    assert patched is not None
    assert patched.count("|a1|") == 1 and patched.count("|a2|") == 1
    assert "\\|[2501.00001](https://arxiv.org/pdf/2501.00001v1)\\|" in patched


def test_the_rows_of_each_paper_are_found_in_page_order() -> None:
    page = PAGE.replace("|**B**|", "|**B** [page](https://b.example)|[x](https://y)|")
    found = rows_by_token(page, {A, B})
    assert found[A] == [PAGE.split("\n")[5], PAGE.split("\n")[11]]
    assert found[B] == [page.split("\n")[6]]  # a link cell before the PDF cell is skipped
    unknown = pdf_cell_token("[2501.00009](https://arxiv.org/pdf/2501.00009v1)")
    assert unknown not in rows_by_token(page, {unknown})


def test_a_line_holding_two_papers_gives_neither() -> None:
    both = PAGE.replace("|-|\n|**B**|", "|-|")  # A's first row and B's on one line
    found = rows_by_token(both, {A, B})
    assert A not in found and B not in found
    assert rows_by_token(both, {B}) == {B: [both.split("\n")[5]]}
