"""A small fake arXiv on the local HTTP server: a daily RSS listing and the Atom query API.

It speaks arXiv's real wire formats (RSS 2.0 with ``arxiv:announce_type``; Atom with opensearch
counts) so the code under test parses exactly what it would parse in production. The API knows
every paper "published so far"; a search with a ``submittedDate:[a TO b]`` window returns the
papers of that window (and category), any other search returns everything, newest first, which is
a superset of what arXiv would return, leaving the local match to decide.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from arxiv_radar.paper import Paper
from arxiv_radar.query import parse
from tests.servers.http import LocalServer, Reply, Request

__all__ = ["FakeArxiv", "atom_page", "listing_days", "make_paper", "submitted_for"]

_WINDOW = re.compile(r"(submittedDate|lastUpdatedDate):\[(\d{12}) TO (\d{12})\]")
_CAT = re.compile(r"cat:([\w.-]+)")
_EASTERN = ZoneInfo("America/New_York")


def listing_days(first: date, count: int) -> list[date]:
    """``count`` consecutive arXiv listing dates (Monday to Friday) from ``first``."""
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def submitted_for(listing_day: date, minute: int = 0) -> datetime:
    """A v1 submission time (UTC) that arXiv announces in the listing dated ``listing_day``:
    noon US Eastern (before the 14:00 cutoff) on the weekday before it, plus ``minute``."""
    day = listing_day - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    noon = datetime.combine(day, datetime.min.time(), tzinfo=_EASTERN).replace(hour=12)
    return (noon + timedelta(minutes=minute)).astimezone(timezone.utc)


def make_paper(
    arxiv_id: str,
    title: str,
    *,
    abstract: str = "An abstract about nothing in particular.",
    categories: Sequence[str] = ("cs.CV",),
    published: datetime | None = None,
    version: int = 1,
    authors: Sequence[str] = ("Ada Lovelace", "Alan Turing"),
    comment: str = "",
) -> Paper:
    when = published or datetime(2026, 11, 20, 18, 0, tzinfo=timezone.utc)
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        authors=tuple(authors),
        abstract=abstract,
        categories=tuple(categories),
        primary_category=categories[0],
        published=when,
        updated=when,
        comment=comment,
    )


@dataclass
class _Announcement:
    paper: Paper
    kind: str  # new | cross | replace | replace-cross


class FakeArxiv:
    """Program the listing of "today" and the papers the API knows, then point the config here."""

    def __init__(self, server: LocalServer, categories: Sequence[str]) -> None:
        self.server = server
        self.categories = list(categories)
        self.known: dict[str, Paper] = {}
        self.today: list[_Announcement] = []
        self.announced: date | None = None
        self.fail_api: int = 0  # answer this many API requests with 503 first
        self.api_budget: int | None = None  # answer this many more API requests, then 503s
        self.searches_down = False  # every search_query request answers 503 (id_list still works)
        # Searches whose query contains one of these strings answer 503 (one job fails).
        self.failing_queries: tuple[str, ...] = ()
        # Tamper with one search page: (request, the page's papers) -> the papers served, with
        # totalResults unchanged (short, empty or reordered pages, duplicates).
        self.mangle: Callable[[Request, list[Paper]], list[Paper]] | None = None
        # Called while a search is being answered, before the reply is sent.
        self.on_search: Callable[[Request], None] | None = None
        # Papers submitted in the same minute come back in a new order on every request, as
        # arXiv's sort leaves ties unordered.
        self.unstable_ties: random.Random | None = None
        # Searches without a window return only the papers their query matches (evaluated with
        # the project's own query language), as arXiv does, instead of everything.
        self.filter_queries = False
        server.route("GET", "/rss/" + "+".join(self.categories), self._rss)
        server.route("GET", "/api/query", self._api)

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/query"

    @property
    def rss_url(self) -> str:
        return f"{self.server.url}/rss"

    def announce(
        self,
        day: date,
        new: Iterable[Paper] = (),
        *,
        cross: Iterable[Paper] = (),
        replaced: Iterable[Paper] = (),
        replaced_cross: Iterable[Paper] = (),
    ) -> None:
        """Make ``day`` the current listing; the API learns of every paper in it."""
        self.announced = day
        self.today = [
            *(_Announcement(p, "new") for p in new),
            *(_Announcement(p, "cross") for p in cross),
            *(_Announcement(p, "replace") for p in replaced),
            *(_Announcement(p, "replace-cross") for p in replaced_cross),
        ]
        for item in self.today:
            self.publish(item.paper)

    def publish(self, paper: Paper) -> None:
        """The API knows ``paper`` (e.g. a paper of a day whose listing nobody read)."""
        known = self.known.get(paper.arxiv_id)
        if known is not None and known.version >= paper.version:
            return
        self.known[paper.arxiv_id] = (
            replace(paper, published=known.published) if known is not None else paper
        )

    def api_requests(self) -> list[Request]:
        return self.server.requests_to("/api/query")

    def window_searches(self) -> list[Request]:
        """API searches over a ``submittedDate`` window (gap fills and backfills)."""
        return [r for r in self.api_requests() if "submittedDate" in r.param("search_query")]

    def revision_searches(self) -> list[Request]:
        """API searches over a ``lastUpdatedDate`` window (new versions on missed days)."""
        return [r for r in self.api_requests() if "lastUpdatedDate" in r.param("search_query")]

    # --- wire formats ---------------------------------------------------------------------------

    def _rss(self, request: Request) -> Reply:
        assert self.announced is not None, "call announce() first"
        pub = format_datetime(
            datetime.combine(
                self.announced, datetime.min.time(), tzinfo=timezone(-timedelta(hours=5))
            )
        )
        items = "".join(_rss_item(a, pub) for a in self.today)
        body = (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
            f"<title>updates on arXiv.org</title><pubDate>{pub}</pubDate>{items}"
            "</channel></rss>"
        )
        return Reply(body=body, headers={"Content-Type": "application/rss+xml"})

    def _api(self, request: Request) -> Reply:
        if self.fail_api > 0:
            self.fail_api -= 1
            return Reply(503, "busy")
        if self.api_budget is not None:
            if self.api_budget <= 0:
                return Reply(503, "busy")
            self.api_budget -= 1
        ids = [i for i in request.param("id_list").split(",") if i]
        if ids:
            found = [self.known[i] for i in ids if i in self.known]
            return atom_page(found, total=len(found), start=0)
        query = request.param("search_query")
        if self.searches_down or any(text in query for text in self.failing_queries):
            return Reply(503, "search is down")
        if self.on_search is not None:
            self.on_search(request)
        by_update = request.param("sortBy") == "lastUpdatedDate"
        matches = self._search(query, by_update=by_update)
        if request.param("sortOrder") == "ascending":
            matches.reverse()
        if self.unstable_ties is not None:
            matches = _shuffle_ties(matches, self.unstable_ties, by_update=by_update)
        start = int(request.param("start", "0"))
        size = int(request.param("max_results", "10"))
        page = matches[start : start + size]
        if self.mangle is not None:
            page = self.mangle(request, page)
        return atom_page(page, total=len(matches), start=start)

    def _search(self, query: str, *, by_update: bool = False) -> list[Paper]:
        """Newest first by the sort date; a window filters on its own date (first version for
        ``submittedDate``, latest for ``lastUpdatedDate``)."""

        def sort_key(paper: Paper) -> tuple[datetime, str]:
            return (paper.updated if by_update else paper.published, paper.arxiv_id)

        papers = sorted(self.known.values(), key=sort_key, reverse=True)
        window = _WINDOW.search(query)
        if window:
            field, *bounds = window.groups()
            low, high = (
                datetime.strptime(w, "%Y%m%d%H%M").replace(tzinfo=timezone.utc) for w in bounds
            )

            def stamp(paper: Paper) -> datetime:
                return paper.updated if field == "lastUpdatedDate" else paper.published

            papers = [p for p in papers if low <= stamp(p) <= high]
        category = _CAT.search(query)
        if category and window:
            papers = [p for p in papers if category.group(1) in p.categories]
        if self.filter_queries and not window:
            matcher = parse(query)
            papers = [p for p in papers if matcher.matches(p)]
        return papers


def _shuffle_ties(papers: list[Paper], rng: random.Random, *, by_update: bool) -> list[Paper]:
    """Shuffle each run of papers sorted into the same minute, keeping the runs in order."""

    def minute(paper: Paper) -> datetime:
        return _minute(paper.updated if by_update else paper.published)

    shuffled: list[Paper] = []
    run: list[Paper] = []
    for paper in papers:
        if run and minute(run[-1]) != minute(paper):
            rng.shuffle(run)
            shuffled += run
            run = []
        run.append(paper)
    rng.shuffle(run)
    return shuffled + run


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _rss_item(item: _Announcement, pub: str) -> str:
    paper = item.paper
    categories = "".join(f"<category>{c}</category>" for c in paper.categories)
    return (
        f"<item><title>{escape(paper.title)}</title>"
        f"<link>https://arxiv.org/abs/{paper.arxiv_id}</link>"
        f"<description>arXiv:{paper.arxiv_id}v{paper.version} Announce Type: {item.kind} \n"
        f"Abstract: {escape(paper.abstract)}</description>"
        f'<guid isPermaLink="false">oai:arXiv.org:{paper.arxiv_id}v{paper.version}</guid>'
        f"{categories}<pubDate>{pub}</pubDate>"
        f"<arxiv:announce_type>{item.kind}</arxiv:announce_type>"
        f"<dc:creator>{escape(', '.join(paper.authors))}</dc:creator></item>"
    )


def atom_page(papers: Sequence[Paper], *, total: int, start: int) -> Reply:
    """One API answer in the current Atom format, with arXiv's opensearch counts."""
    entries = "".join(_atom_entry(p) for p in papers)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">'
        "<id>https://arxiv.org/api/fake</id><title>arXiv Query</title>"
        "<updated>2026-11-25T00:00:00Z</updated>"
        f"<opensearch:itemsPerPage>{len(papers)}</opensearch:itemsPerPage>"
        f"<opensearch:totalResults>{total}</opensearch:totalResults>"
        f"<opensearch:startIndex>{start}</opensearch:startIndex>{entries}</feed>"
    )
    return Reply(body=body, headers={"Content-Type": "application/atom+xml"})


def _atom_entry(paper: Paper) -> str:
    authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in paper.authors)
    categories = "".join(
        f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in paper.categories
    )
    comment = f"<arxiv:comment>{escape(paper.comment)}</arxiv:comment>" if paper.comment else ""
    if paper.doi:
        comment += f"<arxiv:doi>{escape(paper.doi)}</arxiv:doi>"
    if paper.journal_ref:
        comment += f"<arxiv:journal_ref>{escape(paper.journal_ref)}</arxiv:journal_ref>"
    return (
        f"<entry><id>http://arxiv.org/abs/{paper.arxiv_id}v{paper.version}</id>"
        f"<title>{escape(paper.title)}</title>"
        f"<updated>{paper.updated.isoformat().replace('+00:00', 'Z')}</updated>"
        f'<link href="https://arxiv.org/abs/{paper.arxiv_id}v{paper.version}" rel="alternate" '
        'type="text/html"/>'
        f"<summary>{escape(paper.abstract)}</summary>{categories}"
        f"<published>{paper.published.isoformat().replace('+00:00', 'Z')}</published>"
        f'{comment}<arxiv:primary_category term="{paper.primary_category}"/>{authors}</entry>'
    )
