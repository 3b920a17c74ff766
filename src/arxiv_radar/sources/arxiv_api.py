"""The arXiv API (Atom feeds): look papers up by id and page through searches.

Both feed formats are read: the legacy one (before arXiv's 2025 re-implementation: per-element
namespace declarations, abstracts wrapped over lines, blank placeholder entries) and the current
one. Parsing uses ``defusedxml`` because the bytes come from the network.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.etree.ElementTree import Element

import httpx

from arxiv_radar.errors import FetchError, SourceFormatError, UserError
from arxiv_radar.http import HttpStatusError, PoliteClient, RetryableResponse, redact_url
from arxiv_radar.paper import Paper, check_date, split_version
from arxiv_radar.sources._xml import XML_ERRORS, ParsedXml, is_damaged, parse_xml, short

__all__ = ["ArxivAPI", "FeedPage", "IncompleteSearchError", "parse_feed"]

logger = logging.getLogger(__name__)

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
ARXIV = "{http://arxiv.org/schemas/atom}"
ACCEPT = "application/atom+xml, application/xml;q=0.9"
ID_BATCH = 100
_INCOMPLETE_FIX = "the next run searches again; arXiv's paging is usually right on a retry"
_FORMAT_FIX = "arXiv may have changed its API format or returned a partial answer; try again later"


@dataclass(frozen=True)
class FeedPage:
    """One page of API results; ``total`` is arXiv's count for the whole query.

    ``rejected`` says why each unusable entry (a bad id or date, no category, invalid UTF-8)
    was skipped: the good entries beside it are kept, and the page still counts all of them.
    """

    total: int
    start: int
    papers: list[Paper]
    rejected: tuple[str, ...] = ()

    @property
    def entries(self) -> int:
        """Entries the page held, usable or not: what paging advances by."""
        return len(self.papers) + len(self.rejected)


def _collapse(text: str | None) -> str:
    """arXiv wraps titles and abstracts over indented lines; readers want one clean line."""
    return " ".join((text or "").split())


def _child_text(element: Element, tag: str) -> str:
    return _collapse(element.findtext(tag))


def _format_error(url: str, problem: str) -> SourceFormatError:
    return SourceFormatError(f"{url}: {problem}", url=url, fix=_FORMAT_FIX)


def _parse_time(raw: str, *, url: str, what: str) -> datetime:
    text = raw.strip()
    try:
        # Python 3.10's fromisoformat does not accept a trailing "Z".
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        # OverflowError: a date at the edge of datetime's range moved to UTC.
        return check_date(value.astimezone(timezone.utc))
    except (ValueError, OverflowError) as exc:
        raise _format_error(url, f"unreadable or implausible {what} date {short(text)}") from exc


def _categories(entry: Element, *, url: str, arxiv_id: str) -> tuple[str, ...]:
    """Categories in feed order with the primary one first (it may be absent from the list)."""
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [c.get("term", "").strip() for c in entry.findall(f"{ATOM}category")]
    ordered = [primary.get("term", "").strip()] if primary is not None else []
    ordered += terms
    unique = tuple(dict.fromkeys(term for term in ordered if term))
    if not unique:
        raise _format_error(url, f"entry {arxiv_id} has no category")
    return unique


def _entry_id(raw: str, *, url: str) -> tuple[str, int]:
    try:
        arxiv_id, version = split_version(raw)
    except ValueError as exc:
        raise _format_error(url, f"entry id {short(raw)} is not an arXiv id") from exc
    if version is None:
        raise _format_error(url, f"entry id {short(raw)} has no version")
    return arxiv_id, version


def _parse_entry(entry: Element, *, url: str) -> Paper:
    arxiv_id, version = _entry_id(entry.findtext(f"{ATOM}id") or "", url=url)
    published_raw = entry.findtext(f"{ATOM}published")
    if not published_raw:
        raise _format_error(url, f"entry {arxiv_id} has no published date")
    published = _parse_time(published_raw, url=url, what="published")
    updated_raw = entry.findtext(f"{ATOM}updated")
    updated = _parse_time(updated_raw, url=url, what="updated") if updated_raw else published
    categories = _categories(entry, url=url, arxiv_id=arxiv_id)
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=_child_text(entry, f"{ATOM}title"),
        authors=tuple(_collapse(a.findtext(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author")),
        abstract=_child_text(entry, f"{ATOM}summary"),
        categories=categories,
        primary_category=categories[0],
        published=published,
        updated=updated,
        comment=_child_text(entry, f"{ARXIV}comment"),
        doi=_child_text(entry, f"{ARXIV}doi"),
        journal_ref=_child_text(entry, f"{ARXIV}journal_ref"),
    )


def _check_error_entry(entry: Element, *, url: str) -> None:
    """arXiv reports bad requests as a feed whose single entry has an ``api/errors#`` id."""
    entry_id = entry.findtext(f"{ATOM}id") or ""
    if "/api/errors" in entry_id:
        message = _child_text(entry, f"{ATOM}summary") or entry_id.rsplit("#", 1)[-1]
        raise SourceFormatError(
            f"arXiv API rejected {url}: {message}",
            url=url,
            fix="check the arXiv ids or the query in the config",
        )


def _is_placeholder(entry: Element) -> bool:
    """The legacy API answered unknown ids with an entry that has neither id nor title."""
    return not (entry.findtext(f"{ATOM}id") or "").strip() and not _child_text(
        entry, f"{ATOM}title"
    )


def _read_int(root: Element, tag: str, *, url: str) -> int:
    raw = (root.findtext(f"{OPENSEARCH}{tag}") or "").strip()
    try:
        return int(raw)
    except ValueError as exc:
        raise _format_error(url, f"missing or unreadable opensearch:{tag} {raw!r}") from exc


def _parse_root(data: bytes, *, url: str) -> ParsedXml:
    try:
        parsed = parse_xml(data)
    except XML_ERRORS as exc:
        raise _format_error(url, f"malformed XML from the arXiv API ({exc})") from exc
    if parsed.root.tag != f"{ATOM}feed":
        raise _format_error(url, f"expected an Atom <feed>, got <{parsed.root.tag}>")
    return parsed


def _read_entry(entry: Element, *, url: str, repaired: bool) -> Paper:
    """One entry as a Paper, or SourceFormatError saying why this entry alone is unusable."""
    paper = _parse_entry(entry, url=url)
    if repaired and is_damaged(entry):
        raise _format_error(url, f"entry {paper.arxiv_id} holds invalid UTF-8")
    return paper


def parse_feed(data: bytes, *, url: str) -> FeedPage:
    """Parse one API answer; raise SourceFormatError on bad XML or an arXiv error feed.

    An unusable entry is skipped and named in ``rejected``; the rest of the page is kept.
    """
    parsed = _parse_root(data, url=url)
    root = parsed.root
    papers: list[Paper] = []
    rejected: list[str] = []
    for entry in root.findall(f"{ATOM}entry"):
        _check_error_entry(entry, url=url)
        if _is_placeholder(entry):
            continue
        try:
            papers.append(_read_entry(entry, url=url, repaired=parsed.repaired))
        except SourceFormatError as exc:
            logger.warning("skipped an entry: %s", exc.message)
            rejected.append(exc.message)
    total = _read_int(root, "totalResults", url=url)
    start = _read_int(root, "startIndex", url=url)
    if not papers and not rejected and total == 1:
        # Legacy quirk: an unknown id gave totalResults 1 and a blank entry; it means nothing.
        total = 0
    return FeedPage(total=total, start=start, papers=papers, rejected=tuple(rejected))


class ArxivAPI:
    """Id look-ups and paged searches against the API endpoint ``url`` (the full query URL)."""

    def __init__(self, client: PoliteClient, url: str) -> None:
        self.client = client
        self.url = url
        self.rejected: list[str] = []  # entries skipped as unusable, for the run record

    def fetch_ids(self, ids: Sequence[str]) -> list[Paper]:
        """Latest versions of ``ids``, in no particular order; missing ids are logged, not fatal."""
        papers, missing = self.lookup_ids(ids)
        if missing:
            logger.warning("arXiv returned no record for %s", ", ".join(missing))
        return papers

    def lookup_ids(self, ids: Sequence[str]) -> tuple[list[Paper], list[str]]:
        """Latest versions of ``ids`` and, sorted, the ids arXiv answered nothing for, for a
        caller that reports them itself (an import of thousands of old ids)."""
        wanted = _bare_ids(ids)
        papers: list[Paper] = []
        for offset in range(0, len(wanted), ID_BATCH):
            batch = wanted[offset : offset + ID_BATCH]
            params = {"id_list": ",".join(batch), "start": "0", "max_results": str(len(batch))}
            papers.extend(self._page(params).papers)
        return papers, sorted(set(wanted) - {paper.arxiv_id for paper in papers})

    def search(
        self,
        search_query: str,
        *,
        page_size: int = 100,
        sort_by: str = "submittedDate",
        sort_order: str = "descending",
    ) -> Iterator[Paper]:
        """Yield results page by page so the caller can stop as soon as it has enough.

        Paging goes on to arXiv's ``totalResults``: arXiv serves short pages mid-result, so a
        short page is retried like an empty one and, if it stays short, raises FetchError rather
        than end the results early. A paper served again on a later page means arXiv reordered
        the results between requests (it leaves papers of the same date unordered), so another
        was skipped: that raises :class:`IncompleteSearchError` rather than pass the results
        off as complete. Exhaustive searches page by windows instead
        (:class:`arxiv_radar.gapfill.WindowFiller`).
        """
        start = 0
        seen: set[str] = set()
        while True:
            page = self.search_page(
                search_query,
                start=start,
                page_size=page_size,
                sort_by=sort_by,
                sort_order=sort_order,
            )
            repeated = [p.arxiv_id for p in page.papers if p.arxiv_id in seen]
            if repeated:
                raise self._incomplete(
                    search_query,
                    f"page at start={start} repeats {repeated[0]} from an earlier page",
                )
            seen.update(p.arxiv_id for p in page.papers)
            yield from page.papers
            start += page.entries  # rejected entries hold their place in arXiv's paging
            if start >= page.total:
                return

    def _incomplete(self, search_query: str, problem: str) -> IncompleteSearchError:
        url = redact_url(f"{self.url}?search_query={search_query}")
        return IncompleteSearchError(
            f"{url}: {problem}: arXiv reordered its results between pages, so one may be missing",
            url=url,
            fix=_INCOMPLETE_FIX,
        )

    def search_page(
        self,
        search_query: str,
        *,
        start: int,
        page_size: int,
        sort_by: str = "submittedDate",
        sort_order: str = "descending",
    ) -> FeedPage:
        """One page of a search, whole: a page with fewer distinct papers than it should hold
        (short, empty, or with a paper twice) is retried and, if it stays so, raises
        FetchError. Its papers come once each."""
        params = {
            "search_query": search_query,
            "start": str(start),
            "max_results": str(page_size),
            "sortBy": sort_by,
            "sortOrder": sort_order,
        }
        page = self._page(params, expect_results=True)
        unique = list({paper.arxiv_id: paper for paper in page.papers}.values())
        return dataclasses.replace(page, papers=unique)

    def _page(self, params: dict[str, str], *, expect_results: bool = False) -> FeedPage:
        """One request; with ``expect_results``, an empty or short page inside ``total`` is
        retried (arXiv sometimes serves fewer entries than the page holds)."""
        pages: list[FeedPage] = []
        size = int(params.get("max_results", "0"))

        def validate(response: httpx.Response) -> None:
            page = parse_feed(response.content, url=redact_url(str(response.url)))
            expected = min(size, page.total - page.start)
            # A rejected entry (bad id, no category) still held its place on the page.
            distinct = len({paper.arxiv_id for paper in page.papers}) + len(page.rejected)
            if expect_results and distinct < expected:
                served = f": {distinct} of {expected} distinct entries" if page.entries else ""
                problem = "short page" if page.entries else "empty page"
                raise RetryableResponse(
                    f"{problem} at start={page.start}{served} "
                    f"although arXiv reports {page.total} results"
                )
            pages.append(page)

        try:
            self.client.get(self.url, params=params, accept=ACCEPT, validate=validate)
        except HttpStatusError as exc:
            if exc.status_code == 400:
                _raise_error_feed(exc)
            raise
        self.rejected.extend(pages[-1].rejected)
        return pages[-1]


class IncompleteSearchError(FetchError):
    """Paging reached arXiv's total with papers missing: the results must not count as complete."""


def _raise_error_feed(exc: HttpStatusError) -> None:
    """arXiv explains a 400 in an error feed; surface its text rather than a bare status code."""
    try:
        root = _parse_root(exc.body, url=exc.url).root
    except SourceFormatError:
        return
    for entry in root.findall(f"{ATOM}entry"):
        _check_error_entry(entry, url=exc.url)


def _bare_ids(ids: Sequence[str]) -> list[str]:
    """Strip versions (we want the latest) and duplicates; reject text that is not an id."""
    bare: dict[str, None] = {}
    for raw in ids:
        try:
            arxiv_id, _ = split_version(raw)
        except ValueError as exc:
            raise UserError(
                f"not an arXiv identifier: {raw!r}",
                fix="use ids like 2401.01234 or hep-th/9711200 (a version suffix is ignored)",
            ) from exc
        bare[arxiv_id] = None
    return list(bare)
