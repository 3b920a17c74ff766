from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

import pytest

from arxiv_radar.errors import FetchError, SourceFormatError, UserError
from arxiv_radar.http import HttpStatusError, PoliteClient
from arxiv_radar.http_budget import HttpSettings
from arxiv_radar.paper import Paper
from arxiv_radar.sources.arxiv_api import ArxivAPI, parse_feed
from tests.servers.http import SHARED_DATA, LocalServer, Reply, Request, shared_data

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
FAST = HttpSettings(request_interval=0, backoff_base=0.01, timeout=2.0, max_retries=2)
RECORDED = sorted(p.name for p in SHARED_DATA.glob("arxiv-api-*.xml")) or ["(shared data absent)"]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def atom_feed(ids: Sequence[str], *, total: int, start: int = 0) -> str:
    """A current-format API answer with one minimal entry per id."""
    entries = "".join(
        f"""<entry><id>http://arxiv.org/abs/{i}v2</id><title>Paper {i}</title>
        <updated>2024-01-02T03:04:05Z</updated><published>2024-01-01T00:00:00Z</published>
        <summary>About {i}.</summary><author><name>A. Author</name></author>
        <category term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>
        <arxiv:primary_category term="cs.CV"/></entry>"""
        for i in ids
    )
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/test</id><title>arXiv Query</title>
  <opensearch:itemsPerPage>{len(ids)}</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
  {entries}
</feed>"""


def new_id(n: int) -> str:
    return f"2401.{n:05d}"


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    with PoliteClient(FAST) as polite:
        yield polite


def api(server: LocalServer, client: PoliteClient) -> ArxivAPI:
    return ArxivAPI(client, f"{server.url}/api/query")


# --- the recorded responses --------------------------------------------------------------------


def expected_entries(name: str) -> int:
    match = re.search(r"-(\d+)entr(?:y|ies)", name)
    assert match, name
    return int(match.group(1))


@pytest.mark.parametrize("name", RECORDED)
def test_every_recorded_response_parses(name: str) -> None:
    data = shared_data(name)
    if "error" in name:
        with pytest.raises(SourceFormatError, match="arXiv API rejected http://x/q"):
            parse_feed(data, url="http://x/q")
        return
    page = parse_feed(data, url="http://x/q")
    assert len(page.papers) == expected_entries(name)
    for paper in page.papers:
        assert paper.title
        assert paper.title == " ".join(paper.title.split())
        assert paper.abstract == " ".join(paper.abstract.split())
        assert paper.authors
        assert all(paper.authors)
        assert paper.categories[0] == paper.primary_category
        assert len(set(paper.categories)) == len(paper.categories)
        assert paper.version >= 1
        assert paper.published.tzinfo == timezone.utc
        assert paper.updated.tzinfo == timezone.utc
        assert paper.updated >= paper.published


def parse_one(name: str) -> Paper:
    page = parse_feed(shared_data(name), url="http://x/q")
    assert len(page.papers) == 1
    return page.papers[0]


def test_legacy_entry_exact_values() -> None:
    paper = parse_one("arxiv-api-2016-idlist-1111.2011v2-1entry.xml")
    assert (paper.arxiv_id, paper.version) == ("1111.2011", 2)
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.abstract.startswith("Theoretical description of anisotropic systems, such as")
    assert paper.abstract.endswith("extra dimension to the theory describing a single node.")
    assert paper.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.primary_category == "cond-mat.str-el"
    assert paper.published == utc("2011-11-08T18:48:36")
    assert paper.updated == utc("2012-04-02T12:38:54")
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.comment == "8 pages, 3 figures. Published version"


def test_legacy_old_style_id_and_counts() -> None:
    paper = parse_one("arxiv-api-2019-idlist-math_9501234-1entry.xml")
    assert (paper.arxiv_id, paper.version) == ("math/9501234", 1)
    assert paper.authors == ("Donald E. Knuth",)
    assert paper.abstract.startswith("This note derives the characteristic polynomial")
    assert paper.journal_ref == "J. Algebraic Combin. 6 (1997), no. 3, 253--257"
    assert paper.doi == ""
    page = parse_feed(shared_data("arxiv-api-2016-au-del_maestro-10entries.xml"), url="u")
    assert (page.total, page.start, len(page.papers)) == (31, 0, 10)


def test_current_format_exact_values() -> None:
    paper = parse_one("arxiv-api-2026-idlist-hep-th_9711200-1entry.xml")
    assert (paper.arxiv_id, paper.version) == ("hep-th/9711200", 3)
    assert paper.title == "The Large N Limit of Superconformal Field Theories and Supergravity"
    assert paper.authors == ("Juan M. Maldacena",)
    assert paper.published == utc("1997-11-27T23:53:13")
    assert paper.updated == utc("1998-01-22T15:42:41")
    assert paper.doi == "10.1023/A:1026654312961"
    assert paper.journal_ref == "Adv.Theor.Math.Phys.2:231-252,1998"
    assert paper.abstract.startswith("We show that the large $N$ limit")
    assert paper.categories == ("hep-th",)


def test_current_format_versions_categories_authors() -> None:
    attention = parse_one("arxiv-api-2026-idlist-1706.03762-1entry-tamnd.xml")
    assert (attention.arxiv_id, attention.version) == ("1706.03762", 7)
    assert attention.title == "Attention Is All You Need"
    assert attention.authors[0] == "Ashish Vaswani"
    assert len(attention.authors) == 8
    assert attention.categories == ("cs.CL", "cs.LG")
    quantum = parse_one("arxiv-api-2026-idlist-quant-ph_0201082v1-1entry.xml")
    assert (quantum.arxiv_id, quantum.version) == ("quant-ph/0201082", 1)
    assert quantum.categories == ("quant-ph", "cs.PL")
    zero = parse_one("arxiv-api-2026-idlist-2104.12255v1-1entry.xml")
    assert zero.title == "0"
    assert zero.published == zero.updated == utc("2021-04-20T16:07:14")


def test_search_page_totals() -> None:
    page = parse_feed(shared_data("arxiv-api-2026-search-testing-start10-10entries.xml"), url="u")
    assert (page.total, page.start, len(page.papers)) == (214881, 10, 10)
    empty = parse_feed(shared_data("arxiv-api-2026-zero-results-0entries.xml"), url="u")
    assert (empty.total, empty.papers) == (0, [])


# --- format errors -----------------------------------------------------------------------------


def test_legacy_blank_placeholder_means_empty() -> None:
    page = parse_feed((FIXTURES / "api-legacy-blank-entry.xml").read_bytes(), url="u")
    assert (page.total, page.papers) == (0, [])


def test_truncated_xml_names_the_url(server: LocalServer, client: PoliteClient) -> None:
    body = shared_data("arxiv-api-2026-idlist-1207.7214-1entry.xml")[:900]
    server.route("GET", "/api/query", Reply(body=body))
    with pytest.raises(SourceFormatError) as caught:
        api(server, client).fetch_ids(["1207.7214"])
    assert f"{server.url}/api/query?id_list=1207.7214" in str(caught.value)
    assert "malformed XML" in str(caught.value)
    assert caught.value.url.startswith(f"{server.url}/api/query?")


def test_xml_bomb_is_refused() -> None:
    with pytest.raises(SourceFormatError, match="malformed XML"):
        parse_feed((FIXTURES / "api-xml-bomb.xml").read_bytes(), url="u")


def test_not_a_feed_is_a_format_error() -> None:
    with pytest.raises(SourceFormatError, match="expected an Atom <feed>"):
        parse_feed(b"<html><body>maintenance</body></html>", url="u")


def test_missing_total_is_a_format_error() -> None:
    data = atom_feed([new_id(1)], total=1).replace(
        "<opensearch:totalResults>1</opensearch:totalResults>", ""
    )
    with pytest.raises(SourceFormatError, match="totalResults"):
        parse_feed(data.encode(), url="u")


def test_entry_with_bad_id_is_skipped_and_named() -> None:
    data = atom_feed(["garbage"], total=1)
    page = parse_feed(data.encode(), url="u")
    assert page.papers == []
    assert len(page.rejected) == 1
    assert "not an arXiv id" in page.rejected[0]


# --- fetch_ids ---------------------------------------------------------------------------------


def test_fetch_ids_strips_versions_and_reads_the_answer(
    server: LocalServer, client: PoliteClient
) -> None:
    body = shared_data("arxiv-api-2016-idlist-1111.2011v2-1entry.xml")
    server.route("GET", "/api/query", Reply(body=body))
    papers = api(server, client).fetch_ids(["1111.2011v1", "1111.2011"])
    assert [(p.arxiv_id, p.version) for p in papers] == [("1111.2011", 2)]
    (request,) = server.requests
    assert request.param("id_list") == "1111.2011"
    assert request.param("max_results") == "1"
    assert request.headers["accept"] == "application/atom+xml, application/xml;q=0.9"


def serve_requested_ids(request: Request) -> Reply:
    ids = request.param("id_list").split(",")
    return Reply(body=atom_feed(ids, total=len(ids)))


def test_fetch_ids_batches_by_100(server: LocalServer, client: PoliteClient) -> None:
    server.route("GET", "/api/query", serve_requested_ids)
    wanted = [new_id(n) for n in range(250)]
    papers = api(server, client).fetch_ids(wanted)
    assert sorted(p.arxiv_id for p in papers) == wanted
    sizes = [len(r.param("id_list").split(",")) for r in server.requests]
    assert sizes == [100, 100, 50]
    assert [r.param("max_results") for r in server.requests] == ["100", "100", "50"]
    asked = [i for r in server.requests for i in r.param("id_list").split(",")]
    assert asked == wanted


def test_fetch_ids_warns_about_missing_ids(
    server: LocalServer, client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("GET", "/api/query", Reply(body=atom_feed([new_id(1)], total=1)))
    papers = api(server, client).fetch_ids([new_id(1), new_id(2)])
    assert [p.arxiv_id for p in papers] == [new_id(1)]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [new_id(2) in r.getMessage() for r in warnings] == [True]


def test_fetch_ids_legacy_placeholder_returns_nothing(
    server: LocalServer, client: PoliteClient
) -> None:
    body = (FIXTURES / "api-legacy-blank-entry.xml").read_bytes()
    server.route("GET", "/api/query", Reply(body=body))
    assert api(server, client).fetch_ids(["1501.99999"]) == []
    assert len(server.requests) == 1


def test_fetch_ids_rejects_non_ids_before_any_request(
    server: LocalServer, client: PoliteClient
) -> None:
    with pytest.raises(UserError, match="not an arXiv identifier: 'not-an-id'"):
        api(server, client).fetch_ids(["2401.00001", "not-an-id"])
    assert server.requests == []


def test_fetch_ids_empty_input_makes_no_request(server: LocalServer, client: PoliteClient) -> None:
    assert api(server, client).fetch_ids([]) == []
    assert server.requests == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("arxiv-api-2026-idlist-abc-error400.xml", "incorrect id format for abc"),
        ("arxiv-api-2019-idlist-INVALIDID-error400.xml", "incorrect id format for INVALIDID"),
    ],
)
def test_http_400_error_feed_raises_its_text(
    server: LocalServer, client: PoliteClient, name: str, text: str
) -> None:
    server.route("GET", "/api/query", Reply(400, shared_data(name)))
    with pytest.raises(SourceFormatError) as caught:
        api(server, client).fetch_ids(["2401.00001"])
    assert text in str(caught.value)
    assert f"{server.url}/api/query?id_list=2401.00001" in str(caught.value)
    assert len(server.requests) == 1


def test_http_400_without_error_feed_keeps_the_status(
    server: LocalServer, client: PoliteClient
) -> None:
    server.route("GET", "/api/query", Reply(400, "Bad Request"))
    with pytest.raises(HttpStatusError, match="HTTP 400"):
        api(server, client).fetch_ids(["2401.00001"])


# --- search ------------------------------------------------------------------------------------


def serve_pages(total: int) -> Callable[[Request], Reply]:
    """Answer any start/max_results window of a result set of ``total`` ids."""

    def respond(request: Request) -> Reply:
        start = int(request.param("start"))
        size = int(request.param("max_results"))
        ids = [new_id(n) for n in range(start, min(start + size, total))]
        return Reply(body=atom_feed(ids, total=total, start=start))

    return respond


def test_search_pages_through_three_pages(server: LocalServer, client: PoliteClient) -> None:
    server.route("GET", "/api/query", serve_pages(5))
    papers = list(api(server, client).search("cat:cs.CV", page_size=2))
    assert [p.arxiv_id for p in papers] == [new_id(n) for n in range(5)]
    assert [r.param("start") for r in server.requests] == ["0", "2", "4"]
    for request in server.requests:
        assert request.param("search_query") == "cat:cs.CV"
        assert request.param("max_results") == "2"
        assert request.param("sortBy") == "submittedDate"
        assert request.param("sortOrder") == "descending"


def test_search_stops_at_total(server: LocalServer, client: PoliteClient) -> None:
    server.route("GET", "/api/query", serve_pages(4))
    papers = list(api(server, client).search("ti:x", page_size=2, sort_by="lastUpdatedDate"))
    assert len(papers) == 4
    assert len(server.requests) == 2
    assert server.requests[0].param("sortBy") == "lastUpdatedDate"


def test_search_is_lazy(server: LocalServer, client: PoliteClient) -> None:
    server.route("GET", "/api/query", serve_pages(100))
    first = list(islice(api(server, client).search("ti:x", page_size=10), 3))
    assert len(first) == 3
    assert len(server.requests) == 1


def test_search_retries_an_empty_page(server: LocalServer, client: PoliteClient) -> None:
    server.route(
        "GET",
        "/api/query",
        [
            Reply(body=atom_feed([], total=3)),
            Reply(body=atom_feed([new_id(0), new_id(1), new_id(2)], total=3)),
        ],
    )
    papers = list(api(server, client).search("ti:x", page_size=10))
    assert len(papers) == 3
    assert len(server.requests) == 2
    assert "empty page" in client.retries[0].reason


def test_search_fails_when_pages_stay_empty(server: LocalServer, client: PoliteClient) -> None:
    server.route("GET", "/api/query", Reply(body=atom_feed([], total=3)))
    with pytest.raises(FetchError) as caught:
        list(api(server, client).search("ti:x", page_size=10))
    assert not isinstance(caught.value, SourceFormatError)
    assert "failed after 3 attempts: empty page" in str(caught.value)
    assert len(server.requests) == 3


def test_search_with_no_results(server: LocalServer, client: PoliteClient) -> None:
    body = shared_data("arxiv-api-2026-zero-results-0entries.xml")
    server.route("GET", "/api/query", Reply(body=body))
    assert list(api(server, client).search('all:"zzqqxx"')) == []
    assert len(server.requests) == 1


def test_search_legacy_total_one_but_empty(server: LocalServer, client: PoliteClient) -> None:
    body = (FIXTURES / "api-legacy-blank-entry.xml").read_bytes()
    server.route("GET", "/api/query", Reply(body=body))
    assert list(api(server, client).search("ti:x")) == []
    assert len(server.requests) == 1
    assert client.retries == []


def test_search_error_feed_raises(server: LocalServer, client: PoliteClient) -> None:
    server.route(
        "GET", "/api/query", Reply(body=shared_data("arxiv-api-2026-error-start-nope.xml"))
    )
    with pytest.raises(SourceFormatError, match="start must be an integer"):
        list(api(server, client).search("ti:x"))
