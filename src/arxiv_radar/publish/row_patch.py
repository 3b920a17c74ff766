"""Replacing a few papers' rows in a Markdown page rendered earlier, instead of rendering it again.

A code link or translation found for an old paper changes its rows on its month's archive page
and nothing else there; rendering the month again reads and formats 12,500 papers to change a
few lines. Each row holds its paper's PDF cell, ``|[<id>](<pdf url>)|``, which no other row can
hold (cell text escapes ``|``), so the rows of a paper are the lines holding that cell, in the
page's section order. The caller decides when the page's layout cannot have moved (same papers,
metadata and topics, no order by score); this module only swaps lines, and declines (None) when
a paper's rows are not exactly where it expects them, so the caller renders in full. When the
layout may have moved (the day's new papers), :func:`rows_by_token` hands the caller the rows
of the papers that did not change, to place again instead of formatting them anew.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence

__all__ = ["pdf_cell_token", "replace_rows", "rows_by_token"]


def pdf_cell_token(cell: str) -> str:
    """What marks a paper's rows: its PDF cell with the column bars around it."""
    return f"|{cell}|"


def replace_rows(text: str, rows: Mapping[str, Sequence[str]]) -> str | None:
    """``text`` with the table lines holding each token replaced, in order, by that token's
    rows; None when a token is on a different number of lines than it has rows, off a table
    line, or on a line another token is on too."""
    spans: list[tuple[int, int, str]] = []
    for token, new_rows in rows.items():
        lines = list(_lines_holding(text, token))
        if len(lines) != len(new_rows) or any(text[start] != "|" for start, _ in lines):
            return None
        spans.extend((start, end, row) for (start, end), row in zip(lines, new_rows, strict=True))
    pieces, last = [], 0
    for start, end, row in sorted(spans):
        if start < last:
            return None
        pieces += [text[last:start], row]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _lines_holding(text: str, token: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line holding ``token``, found at C speed: a month page is megabytes."""
    at = text.find(token)
    while at != -1:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end == -1 else end
        yield start, end
        at = text.find(token, end)


def rows_by_token(text: str, tokens: Collection[str]) -> dict[str, list[str]]:
    """The table lines of ``text`` holding each of ``tokens``, in page order; a line holding
    two of them belongs to neither (the caller formats those papers anew)."""
    found: dict[str, list[str]] = {}
    spoiled: set[str] = set()
    for line in _TABLE_LINE.findall(text):
        held = [cell + "|" for cell in _LINK_CELL.findall(line) if cell + "|" in tokens]
        if len(held) == 1:
            found.setdefault(held[0], []).append(line)
        else:
            spoiled.update(held)
    return {token: rows for token, rows in found.items() if token not in spoiled}


_TABLE_LINE = re.compile(r"^\|.*$", re.MULTILINE)
# A link cell, as a PDF cell is, with the bar before it; the bar after it is only looked at,
# since the next cell starts with it.
_LINK_CELL = re.compile(r"\|\[[^\]\n]*\]\([^)\n]*\)(?=\|)")
