from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from arxiv_radar.errors import ConfigError, FetchError, SourceFormatError
from arxiv_radar.http import PoliteClient
from arxiv_radar.http_budget import HttpSettings
from arxiv_radar.sources.listing import (
    ListingItem,
    fetch_listing,
    listing_url,
    parse_listing,
)
from tests.servers.http import LocalServer, Reply, shared_data

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
RECORDED = "arxiv-rss-2024format-cs.CL-2026-08-13-139items.xml"
FAST = HttpSettings(request_interval=0, backoff_base=0.01, timeout=2.0, max_retries=1)


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    with PoliteClient(FAST) as polite:
        yield polite


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_recorded_feed_counts_and_date() -> None:
    listing = parse_listing(shared_data(RECORDED), url="https://rss.arxiv.org/rss/cs.CL")
    assert listing.announced == date(2026, 8, 13)
    assert len(listing.items) == 139
    counts = Counter(item.announce_type for item in listing.items)
    assert counts == {"new": 56, "cross": 36, "replace": 32, "replace-cross": 15}
    assert listing.items[0] == ListingItem(
        arxiv_id="2608.11232",
        version=1,
        announce_type="new",
        categories=("cs.CL", "cs.AI"),
        title=(
            "Backtrader-Bench: Benchmarking LLM Agents on Algorithmic Trading with "
            "Self-Generated MCQs"
        ),
        abstract=listing.items[0].abstract,
        authors=("Ruoxi Zhao", "Maziar Raissi"),
    )
    last = listing.items[-1]
    assert (last.arxiv_id, last.version, last.announce_type) == ("2608.10694", 2, "replace-cross")
    assert last.categories == ("cs.LG", "cs.AI", "cs.CL", "cs.NE")


def test_items_carry_authors_and_abstract_for_pre_matching() -> None:
    listing = parse_listing(shared_data(RECORDED), url="https://rss.arxiv.org/rss/cs.CL")
    first = listing.items[0]
    assert first.arxiv_id == "2608.11232"
    assert first.authors == ("Ruoxi Zhao", "Maziar Raissi")
    assert first.abstract.startswith("Evaluating LLM coding agents in algorithmic trading")
    assert "Announce Type" not in first.abstract
    assert all(item.abstract for item in listing.items)


def test_fetch_recorded_feed_over_http(server: LocalServer, client: PoliteClient) -> None:
    server.route("GET", "/rss/cs.CL", Reply(body=shared_data(RECORDED)))
    listing = fetch_listing(client, f"{server.url}/rss", ["cs.CL"])
    assert listing.url == f"{server.url}/rss/cs.CL"
    assert len(listing.items) == 139
    (request,) = server.requests
    assert request.headers["accept"] == "application/rss+xml, application/xml;q=0.9"


def test_two_categories_make_one_request(server: LocalServer, client: PoliteClient) -> None:
    server.route("GET", "/rss/cs.CV+cs.CL", Reply(body=fixture("rss-duplicates-and-fallbacks.xml")))
    listing = fetch_listing(client, f"{server.url}/rss/", ["cs.CV", "cs.CL"])
    assert [r.path for r in server.requests] == ["/rss/cs.CV+cs.CL"]
    assert listing.url == f"{server.url}/rss/cs.CV+cs.CL"
    assert server.unused_routes() == []


def test_empty_weekend_feed_is_an_empty_listing() -> None:
    listing = parse_listing(fixture("rss-empty-weekend.xml"), url="u")
    assert listing.items == ()
    assert listing.announced == date(2026, 8, 15)


def test_malformed_item_is_skipped_and_named_with_the_url(
    server: LocalServer, client: PoliteClient
) -> None:
    server.route("GET", "/rss/cs.CV", Reply(body=fixture("rss-malformed-item.xml")))
    listing = fetch_listing(client, f"{server.url}/rss", ["cs.CV"])
    assert len(listing.items) == 1  # the good item beside it is kept
    (message,) = listing.rejected
    assert f"{server.url}/rss/cs.CV" in message
    assert "item 2 ('An item whose identifier was mangled') has no readable arXiv id" in message


def test_duplicates_are_dropped_and_description_is_a_fallback() -> None:
    listing = parse_listing(fixture("rss-duplicates-and-fallbacks.xml"), url="u")
    assert listing.announced == date(2026, 8, 17)
    assert listing.items == (
        ListingItem(
            "2608.00002",
            3,
            "replace",
            ("cs.CV", "cs.CL"),
            "Seen twice",
            abstract="Listed under both categories.",
        ),
        ListingItem(
            "hep-th/9711200",
            4,
            "replace-cross",
            ("hep-th",),
            "No guid, no announce_type element",
            abstract="Old-style id read from the description.",
        ),
    )


def test_announced_is_read_in_us_eastern() -> None:
    # 02:30 UTC on the 14th is still the evening of the 13th in New York.
    data = fixture("rss-empty-weekend.xml").replace(
        b"Sat, 15 Aug 2026 00:00:00 -0400", b"Fri, 14 Aug 2026 02:30:00 +0000"
    )
    assert parse_listing(data, url="u").announced == date(2026, 8, 13)


def test_missing_pub_date_gives_none() -> None:
    data = fixture("rss-empty-weekend.xml").replace(
        b"<pubDate>Sat, 15 Aug 2026 00:00:00 -0400</pubDate>", b""
    )
    assert parse_listing(data, url="u").announced is None


def test_unreadable_pub_date_is_a_format_error() -> None:
    data = fixture("rss-empty-weekend.xml").replace(b"Sat, 15 Aug 2026 00:00:00 -0400", b"someday")
    with pytest.raises(SourceFormatError, match="unreadable channel pubDate 'someday'"):
        parse_listing(data, url="u")


@pytest.mark.parametrize(
    "body",
    [b"<rss><channel><item>", b"<html><body>Service unavailable</body></html>", b""],
)
def test_bad_documents_are_format_errors(body: bytes) -> None:
    with pytest.raises(SourceFormatError, match=r"^http://x/rss/cs\.CV: "):
        parse_listing(body, url="http://x/rss/cs.CV")


def test_server_failure_becomes_fetch_error(server: LocalServer, client: PoliteClient) -> None:
    server.route("GET", "/rss/cs.CV", Reply(503))
    with pytest.raises(FetchError, match="failed after 2 attempts: HTTP 503"):
        fetch_listing(client, f"{server.url}/rss", ["cs.CV"])


def test_listing_url() -> None:
    assert listing_url("https://rss.arxiv.org/rss", ["cs.CV", "cs.CL"]) == (
        "https://rss.arxiv.org/rss/cs.CV+cs.CL"
    )
    with pytest.raises(ConfigError, match="no arXiv categories"):
        listing_url("https://rss.arxiv.org/rss", [])
