"""Turning untrusted paper text into safe, single-line Markdown table cells.

Titles and abstracts come from arXiv authors: they contain ``|`` (which would split a table row),
newlines (which would end it), ``<script>`` and Markdown syntax. Everything here is pure and
property-tested: whatever the input, a cell stays one cell, renders as the text it was, and no HTML
from the input ever reaches the page. Inline math (``$x_1 | y$``) is kept readable for GitHub's
math renderer: inside it only what would break the table or inject HTML is escaped.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

__all__ = [
    "escape_cell",
    "escape_html",
    "escape_normalized",
    "format_stars",
    "math_spans",
    "normalize_space",
    "safe_code_url",
    "safe_url",
    "shorten",
]

# Control characters that str.split() does not treat as whitespace (NUL, ESC, DEL...).
_OTHER_CONTROLS_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]+")
# $$display$$ or $inline$ whose content neither starts nor ends with a space (like GitHub, pandoc).
_MATH_RE = re.compile(r"\$\$[^$]+?\$\$|\$(?!\s)[^$]+?(?<!\s)\$")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HTML_RE = re.compile(r"[&<>]")
_MATH_ESCAPES = {**_HTML, "|": "\\|"}
_MATH_ESCAPE_RE = re.compile(r"[&<>|]")
_TEXT_ESCAPES = {
    **_MATH_ESCAPES,
    **{ch: "\\" + ch for ch in "\\`*_[]~"},
}
_TEXT_ESCAPE_RE = re.compile(r"[&<>|\\`*_\[\]~]")
_SPECIALS_RE = re.compile(r"[&<>|\\`*_\[\]~$]")
# Characters that would end or confuse a Markdown link destination, or are not valid in URLs.
_URL_SAFE = ":/?#@!$&'*+,;=%"
_ELLIPSIS = "…"
_LOOKAHEAD = 400


def normalize_space(text: str) -> str:
    """Collapse whitespace and control characters to single spaces, so a cell is one line."""
    # split() already breaks on CR, LF, tabs and Unicode spaces, in C; this runs on every abstract
    # of every archive page, so the regex only runs when other control characters may remain.
    text = " ".join(text.split())
    if text.isprintable():
        return text
    return " ".join(_OTHER_CONTROLS_RE.sub(" ", text).split())


def math_spans(text: str) -> list[tuple[int, int]]:
    """Start and end offsets of the ``$...$`` math in ``text``, in order."""
    return [match.span() for match in _MATH_RE.finditer(text)]


def escape_cell(text: str) -> str:
    """Escape ``text`` for a Markdown table cell: one line, no HTML, no accidental formatting."""
    return escape_normalized(normalize_space(text))


def escape_normalized(text: str) -> str:
    """:func:`escape_cell` for text already normalised (by :func:`shorten`): skips a second pass."""
    if not text.startswith("#") and not _SPECIALS_RE.search(text):
        return text  # the common case, decided by one regex scan in C
    parts: list[str] = []
    position = 0
    for start, end in math_spans(text):
        parts.append(_escape_text(text[position:start]))
        parts.append(_MATH_ESCAPE_RE.sub(lambda m: _MATH_ESCAPES[m.group()], text[start:end]))
        position = end
    parts.append(_escape_text(text[position:]))
    escaped = "".join(parts)
    return "\\" + escaped if escaped.startswith("#") else escaped


def _escape_text(text: str) -> str:
    return _TEXT_ESCAPE_RE.sub(lambda m: _TEXT_ESCAPES[m.group()], text)


def escape_html(text: str) -> str:
    """Escape ``text`` for HTML element content (table of contents entries), on one line."""
    return _HTML_RE.sub(lambda m: _HTML[m.group()], normalize_space(text))


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to about ``limit`` characters at a word boundary and mark the cut with "…".

    ``limit <= 0`` keeps the full text. The cut never falls inside a math span (half a formula
    would render as garbage), unless the formula alone is longer than the limit or reaches more than
    about ``_LOOKAHEAD / 2`` characters past it: only a window of the text is normalised, because
    this runs on every abstract of every archive page.
    """
    if limit <= 0:
        return normalize_space(text)
    window = text[: 2 * limit + _LOOKAHEAD]
    head = normalize_space(window)
    if len(window) < len(text) and len(head) <= limit + _LOOKAHEAD // 2:
        head = normalize_space(text)  # mostly whitespace: normalise it all, exactly
    if len(head) <= limit:
        return head
    text = head
    cut = limit
    for match in _MATH_RE.finditer(text):
        start, end = match.span()
        if start >= cut:
            break
        if cut < end:
            cut = start
            break
    space = text.rfind(" ", 0, cut + 1)
    if space > 0:
        cut = space
    elif cut == 0:
        cut = limit
    return text[:cut].rstrip(" ,;:") + _ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """The URL ready for a Markdown link destination, or ``None`` unless it is http(s).

    Other schemes (``javascript:``, ``data:``) are dropped so enrichment data can never inject
    script; spaces, parentheses, pipes and angle brackets are percent-encoded so the link and the
    table survive.
    """
    if not url:
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(text, safe=_URL_SAFE)


# Where code links may point in data outputs (JSON, CSV, the generic webhook): the hosts the
# finders know. Consumers of data render links without our escaping, so a link elsewhere is
# more likely an enricher's bug or a hostile answer than code.
CODE_HOSTS = frozenset(
    {"github.com", "gitlab.com", "huggingface.co", "codeberg.org", "bitbucket.org", "gitee.com"}
)


def safe_code_url(url: str | None) -> str | None:
    """:func:`safe_url`, and only on a known code host (``www.`` allowed, no user info)."""
    href = safe_url(url)
    if href is None:
        return None
    parts = urlsplit(href)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host not in CODE_HOSTS or parts.username is not None:
        return None
    return href


def format_stars(stars: int) -> str:
    """GitHub-style short counts: 999, 1.2k, 12k, 3.4M."""
    if stars < 1000:
        return str(max(stars, 0))
    text = f"{stars / 1000:.1f}"
    if float(text) < 1000:
        return text.removesuffix(".0") + "k"
    return f"{stars / 1_000_000:.1f}".removesuffix(".0") + "M"
