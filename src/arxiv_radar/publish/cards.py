"""What the site shows of a paper, as HTML built in Python: the cards of the home, topic and day
pages and the one-line rows of the month pages.

Every publish renders the home page and 20 topic pages of up to 200 cards, and a changed day
re-renders hundreds; a Jinja macro call per card (per line, on a month page) was most of the
site's rendering time. These functions write exactly what the templates' autoescape would
(markupsafe's five entities), and the golden files in tests/golden/site hold them to it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup, escape

__all__ = [
    "CompactRows",
    "SiteItem",
    "SiteTopic",
    "escape_text",
    "mathify",
    "paper_cards",
]

# Pandoc's rule for inline math: no space just inside the dollars and no digit right after the
# closing one, so "costs $5 and $10" stays text. An escaped dollar (\$) never delimits.
_MATH_RE = re.compile(
    r"(?<!\\)\$\$.+?(?<!\\)\$\$"
    r"|(?<![\\$])\$[^\s$](?:[^$\n]*?[^\s$\\])?\$(?![\d$])",
    re.DOTALL,
)


@dataclass(frozen=True)
class SiteTopic:
    index: int
    name: str
    slug: str
    feed_slug: str  # the name of its files under feeds/ and exports/ (publish.feeds)


@dataclass(slots=True)
class SiteItem:
    """One entry as the pages show it: text fields raw (escaped when written), URLs vetted.

    Not frozen (nothing mutates it): a frozen dataclass sets each field through
    ``object.__setattr__``, and a touched month builds thousands of these.
    """

    arxiv_id: str
    version: int
    title: str
    title_translated: str
    authors: str
    first_author: str  # "First Author et al." on the month lists
    day: date
    categories: str
    abs_url: str
    pdf_url: str
    code_url: str | None
    project_url: str | None
    stars: int | None
    tldr: str
    abstract: str
    abstract_translated: str
    topics: tuple[SiteTopic, ...]
    # Per topic slug, the paper's stored (score, reason) in that topic: a paper in two ranked
    # topics has a score in each, and each section of a page shows its own.
    ranks: dict[str, tuple[float, str]] = field(default_factory=dict)


def mathify(text: str) -> Markup:
    """Escape ``text`` and wrap ``$...$`` / ``$$...$$`` in ``<span class="math">``, verbatim.

    No math renderer can be downloaded, so TeX stays as the author wrote it (backslashes intact);
    the span lets CSS set it apart in a monospace face.
    """
    if "$" not in text:
        return escape(text)
    pieces: list[Markup | str] = []
    last = 0
    for match in _MATH_RE.finditer(text):
        pieces.append(text[last : match.start()])
        pieces.append(Markup('<span class="math">{}</span>').format(match.group(0)))
        last = match.end()
    pieces.append(text[last:])
    return Markup("").join(pieces)


def escape_text(text: str) -> str:
    """markupsafe's escape (same five characters, same entities) as plain str operations, for
    the hundreds of thousands of fields a publish escapes."""
    if not any(ch in text for ch in "&<>'\""):
        return text
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


# --- cards ---------------------------------------------------------------------------------


def paper_cards(
    items: Sequence[SiteItem],
    root: str,
    *,
    repeats: Collection[str] = (),
    topic: SiteTopic | None = None,
    order: str | None = None,
    day_page: bool = False,
) -> Markup:
    """A list of cards, ``<ol class="papers">``: the full card of each paper, or one line
    pointing to it for ``repeats`` (ids shown in full under an earlier topic of the page).

    ``topic`` shows each card's reason in it; ``order`` (its default, "date" or "relevance")
    gives a ranked topic's list a Sort control and the cards what it sorts by. Day-page cards
    (``day_page``) carry no star count (stars.js adds it), no link to the page itself, no topic
    tags and no abstract text: a slot abstracts.js fills from the day's data file.
    """
    parts: list[str] = []
    if order and topic is not None:
        slug = escape_text(topic.slug)
        parts.append(_sort_control(topic, order))
        parts.append(
            f'<ol class="papers" id="papers-{slug}" data-sort-default="{escape_text(order)}">\n'
        )
    else:
        parts.append('<ol class="papers">\n')
    for item in items:
        rank = item.ranks.get(topic.slug) if topic is not None else None
        data = _rank_data(item, topic) if order and topic is not None else ""
        if item.arxiv_id in repeats:
            parts.append(_repeat_line(item, data))
        else:
            parts.append(_card(item, root, data, rank, day_page))
    parts.append("</ol>\n")
    # Safe: every field was escaped where it was written.
    return Markup("".join(parts))  # noqa: S704


def _sort_control(topic: SiteTopic, order: str) -> str:
    name, slug = escape_text(topic.name), escape_text(topic.slug)
    buttons = "".join(
        f'<button type="button" data-sort="{choice}" aria-controls="papers-{slug}" '
        f'aria-pressed="{"true" if choice == order else "false"}">{choice}</button>\n'
        for choice in ("date", "relevance")
    )
    return (
        f'<div class="sort-control" role="group" aria-label="Sort {name} papers" '
        f'data-list="papers-{slug}" hidden>\n<span>Sort:</span>\n{buttons}</div>\n'
    )


def _rank_data(item: SiteItem, topic: SiteTopic) -> str:
    score = item.ranks.get(topic.slug, (0.0, ""))[0]
    return (
        f' data-id="{escape_text(item.arxiv_id)}" data-day="{item.day.isoformat()}"'
        f' data-score="{score:.4f}"'
    )


def _repeat_line(item: SiteItem, data: str) -> str:
    arxiv_id = escape_text(item.arxiv_id)
    return (
        f'<li class="paper repeat"{data}><a class="paper-title" href="#p-{arxiv_id}">'
        f'{mathify(item.title)}</a> <span class="meta">· {arxiv_id} · listed above</span></li>\n'
    )


def _card(
    item: SiteItem,
    root: str,
    data: str,
    rank: tuple[float, str] | None,
    day_page: bool,
) -> str:
    arxiv_id = escape_text(item.arxiv_id)
    lines = [
        f'<li class="paper"{data}>\n<h3 class="paper-title" id="p-{arxiv_id}">'
        f'<a href="{escape_text(item.abs_url)}">{mathify(item.title)}</a></h3>\n'
    ]
    if item.title_translated:
        lines.append(f'<p class="translated">{mathify(item.title_translated)}</p>\n')
    lines.append(f'<p class="meta">\n<span class="authors">{escape_text(item.authors)}</span>\n')
    if not day_page:
        day = item.day.isoformat()
        lines.append(
            f'· <a href="{escape_text(root)}days/{day}.html">'
            f'<time datetime="{day}">{day}</time></a>\n'
        )
    categories = f"· {escape_text(item.categories)}" if item.categories else ""
    lines.append(f"· {arxiv_id}v{item.version}\n{categories}</p>\n")
    lines.append(_links(item, root, day_page))
    if item.tldr:
        lines.append(f'<p class="tldr"><strong>TL;DR:</strong> {mathify(item.tldr)}</p>\n')
    if rank and rank[1]:
        lines.append(f'<p class="why"><strong>Why:</strong> {escape_text(rank[1])}</p>\n')
    lines.append(_abstract(item, day_page))
    lines.append("</li>\n")
    return "".join(lines)


def _links(item: SiteItem, root: str, day_page: bool) -> str:
    lines = [f'<p class="links">\n<a href="{escape_text(item.pdf_url)}">PDF</a>\n']
    if item.code_url:
        code = escape_text(item.code_url)
        if day_page:
            arxiv_id = escape_text(item.arxiv_id)
            lines.append(f'<a class="code" href="{code}" data-stars="{arxiv_id}">Code</a>\n')
        else:
            lines.append(f'<a class="code" href="{code}">Code</a>\n')
            if item.stars is not None:
                lines.append(f'<span class="stars" title="GitHub stars">★ {item.stars}</span>\n')
    if item.project_url:
        lines.append(f'<a href="{escape_text(item.project_url)}">Project page</a>\n')
    # A day page lists the paper under each of its topics already (in full once, then "listed
    # above"), so only the other pages tag its topics.
    if not day_page:
        root_text = escape_text(root)
        lines.extend(
            f'<a class="tag" href="{root_text}topics/{escape_text(topic.slug)}.html">'
            f"{escape_text(topic.name)}</a>\n"
            for topic in item.topics
        )
    lines.append("</p>\n")
    return "".join(lines)


def _abstract(item: SiteItem, day_page: bool) -> str:
    if not (item.abstract or item.abstract_translated):
        return ""
    if day_page:
        return (
            f'<details data-abstract="{escape_text(item.arxiv_id)}"><summary>Abstract</summary>'
            f'<p class="slot"><a href="{escape_text(item.abs_url)}">Abstract on arXiv</a></p>'
            "</details>\n"
        )
    original = f"<p>{mathify(item.abstract)}</p>" if item.abstract else ""
    translated = (
        f'<p class="translated">{mathify(item.abstract_translated)}</p>'
        if item.abstract_translated
        else ""
    )
    return f"<details>\n<summary>Abstract</summary>\n{original}{translated}</details>\n"


# --- month pages ---------------------------------------------------------------------------


class CompactRows:
    """Each paper's line on a month page, built once per paper whatever its number of topics."""

    def __init__(self, items: Sequence[SiteItem], root: str) -> None:
        self._lines = {item.arxiv_id: _compact_row(item, root) + "\n" for item in items}

    def __call__(self, items: Sequence[SiteItem]) -> Markup:
        """The lines of ``items`` (a section), each ending with a newline."""
        # Safe: every line was escaped field by field in _compact_row.
        return Markup("".join([self._lines[item.arxiv_id] for item in items]))  # noqa: S704


def _compact_row(item: SiteItem, root: str) -> str:
    """Title (to its card on the day page, where the abstract and links are), first author, id.

    Kept this small on purpose: the month pages list every paper of the site, once per topic,
    and the Pages site has 1 GB for the whole history. No code link either, so a code link
    found for an old paper rewrites its day page and data file, not its month's list.
    """
    day = item.day.isoformat()
    # Every field is escaped: text by escape_text, the title by mathify.
    return (
        f'<li><a href="{escape_text(root)}days/{day}.html#p-{escape_text(item.arxiv_id)}">'
        f"{mathify(item.title)}</a> · {escape_text(item.first_author)} · "
        f"{escape_text(item.arxiv_id)}</li>"
    )
