"""Property-based tests of the feed parsers: whatever the network sends, the answer is a parsed
page or the project's own SourceFormatError (which names the URL), never a stray exception; and
well-formed feeds with arbitrary field values survive the trip through the parser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from arxiv_radar.errors import SourceFormatError
from arxiv_radar.sources.arxiv_api import FeedPage, parse_feed
from arxiv_radar.sources.listing import EASTERN, Listing, parse_listing

URL = "http://127.0.0.1/feed"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ATOM_NS = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom"'
)
RSS_NS = 'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"'

# Characters XML 1.0 can carry (no controls but tab and newline, no surrogates), markup-heavy.
xml_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from(["\t", "\n", " ", "<", ">", "&", '"', "'", "]"]),
    max_size=60,
)
# One author name: no whitespace of any kind and no comma (the listing's separator).
words = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters=","),
    min_size=1,
    max_size=12,
)
categories = st.lists(
    st.sampled_from(["cs.CV", "cs.CL", "cs.LG", "hep-th", "math.AG", "q-bio.NC"]),
    min_size=1,
    max_size=4,
    unique=True,
)
new_ids = st.builds(
    lambda year, month, number: f"{year:02d}{month:02d}.{number:05d}",
    st.integers(15, 99),
    st.integers(1, 12),
    st.integers(0, 99999),
)
old_ids = st.builds(
    lambda archive, number: f"{archive}/{number:07d}",
    st.sampled_from(["hep-th", "math", "cond-mat", "astro-ph"]),
    st.integers(9100001, 9912999),
)
moments = st.datetimes(
    min_value=datetime(1991, 1, 1),
    max_value=datetime(2024, 1, 1),  # + up to 900 days for updated: sources reject the future
    timezones=st.just(timezone.utc),
).map(lambda moment: moment.replace(microsecond=0))


def _expect_parsed_or_own_error(parse: object, data: bytes) -> None:
    assert callable(parse)
    try:
        result = parse(data, url=URL)
    except SourceFormatError as err:
        assert URL in err.message and err.url == URL
    else:
        assert isinstance(result, (FeedPage, Listing))


# --- anything at all -------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=400))
@example(b"")
@example(b"\xef\xbb\xbf<feed/>")
@example(b'<?xml version="1.0" encoding="nope"?><feed/>')
def test_any_bytes_into_parse_feed(data: bytes) -> None:
    _expect_parsed_or_own_error(parse_feed, data)


@FAST
@given(st.binary(max_size=400))
@example(b"<rss><channel/></rss>")
@example(b'<?xml version="1.0" encoding="utf-32"?><rss/>')
@example(b'<?xml version="1.0" encoding="rot13"?><rss/>')
def test_any_bytes_into_parse_listing(data: bytes) -> None:
    _expect_parsed_or_own_error(parse_listing, data)


@FAST
@given(st.text(max_size=300))
def test_any_text_into_both_parsers(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    _expect_parsed_or_own_error(parse_feed, data)
    _expect_parsed_or_own_error(parse_listing, data)


# --- well-formed XML with arbitrary content ---------------------------------------------------

atom_children = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "id",
                "title",
                "summary",
                "published",
                "updated",
                "author",
                "category",
                "arxiv:primary_category",
                "arxiv:comment",
            ]
        ),
        xml_text,
    ),
    max_size=8,
)


def _atom_child(tag: str, text: str) -> str:
    if tag in {"category", "arxiv:primary_category"}:
        return f"<{tag} term={quoteattr(text)}/>"
    if tag == "author":
        return f"<author><name>{escape(text)}</name></author>"
    return f"<{tag}>{escape(text)}</{tag}>"


@FAST
@given(
    entries=st.lists(atom_children, max_size=3),
    total=st.one_of(st.integers(-5, 10).map(str), xml_text),
    start=st.one_of(st.integers(0, 10).map(str), xml_text),
)
def test_atom_shaped_garbage_parses_or_fails_cleanly(
    entries: list[list[tuple[str, str]]], total: str, start: str
) -> None:
    body = "".join(
        "<entry>" + "".join(_atom_child(tag, text) for tag, text in children) + "</entry>"
        for children in entries
    )
    feed = (
        f"<feed {ATOM_NS}><opensearch:totalResults>{escape(total)}</opensearch:totalResults>"
        f"<opensearch:startIndex>{escape(start)}</opensearch:startIndex>{body}</feed>"
    )
    _expect_parsed_or_own_error(parse_feed, feed.encode("utf-8"))


rss_children = st.lists(
    st.tuples(
        st.sampled_from(
            ["title", "guid", "description", "category", "arxiv:announce_type", "dc:creator"]
        ),
        xml_text,
    ),
    max_size=7,
)


@FAST
@given(items=st.lists(rss_children, max_size=3), pub=st.one_of(xml_text, st.just("")))
def test_rss_shaped_garbage_parses_or_fails_cleanly(
    items: list[list[tuple[str, str]]], pub: str
) -> None:
    body = "".join(
        "<item>" + "".join(f"<{t}>{escape(x)}</{t}>" for t, x in children) + "</item>"
        for children in items
    )
    feed = f"<rss {RSS_NS}><channel><pubDate>{escape(pub)}</pubDate>{body}</channel></rss>"
    _expect_parsed_or_own_error(parse_listing, feed.encode("utf-8"))


# --- round trips -----------------------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class ApiEntry:
    arxiv_id: str
    version: int
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: datetime
    updated: datetime
    comment: str

    def xml(self) -> str:
        cats = "".join(f'<category term="{c}"/>' for c in self.categories)
        authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in self.authors)
        return (
            f"<entry><id>http://arxiv.org/abs/{self.arxiv_id}v{self.version}</id>"
            f"<title>{escape(self.title)}</title><summary>{escape(self.abstract)}</summary>"
            f"<published>{self.published.isoformat()}</published>"
            f"<updated>{self.updated.isoformat().replace('+00:00', 'Z')}</updated>"
            f"<arxiv:comment>{escape(self.comment)}</arxiv:comment>{authors}{cats}"
            f'<arxiv:primary_category term="{self.categories[0]}"/></entry>'
        )


@st.composite
def api_entries(draw: st.DrawFn) -> ApiEntry:
    published = draw(moments)
    return ApiEntry(
        arxiv_id=draw(st.one_of(new_ids, old_ids)),
        version=draw(st.integers(1, 30)),
        title=draw(xml_text),
        abstract=draw(xml_text),
        authors=draw(st.lists(xml_text, max_size=4)),
        categories=draw(categories),
        published=published,
        updated=published + timedelta(days=draw(st.integers(0, 900))),
        comment=draw(xml_text),
    )


@FAST
@given(entries=st.lists(api_entries(), min_size=1, max_size=4), start=st.integers(0, 500))
def test_api_feed_round_trip(entries: list[ApiEntry], start: int) -> None:
    feed = (
        f"<?xml version='1.0' encoding='UTF-8'?><feed {ATOM_NS}>"
        f"<opensearch:totalResults>{start + len(entries)}</opensearch:totalResults>"
        f"<opensearch:startIndex>{start}</opensearch:startIndex>"
        + "".join(e.xml() for e in entries)
        + "</feed>"
    )
    page = parse_feed(feed.encode("utf-8"), url=URL)
    assert (page.total, page.start) == (start + len(entries), start)
    assert len(page.papers) == len(entries)
    for paper, e in zip(page.papers, entries, strict=True):
        assert (paper.arxiv_id, paper.version) == (e.arxiv_id, e.version)
        assert paper.title == _clean(e.title)
        assert paper.abstract == _clean(e.abstract)
        assert paper.comment == _clean(e.comment)
        assert paper.authors == tuple(_clean(a) for a in e.authors)
        assert list(paper.categories) == e.categories
        assert paper.primary_category == e.categories[0]
        assert (paper.published, paper.updated) == (e.published, e.updated)


@dataclass(frozen=True)
class RssItem:
    arxiv_id: str
    version: int
    kind: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]

    def xml(self) -> str:
        ident = f"{self.arxiv_id}v{self.version}"
        cats = "".join(f"<category>{c}</category>" for c in self.categories)
        return (
            f"<item><title>{escape(self.title)}</title>"
            f"<description>arXiv:{ident} Announce Type: {self.kind}\n"
            f"Abstract: {escape(self.abstract)}</description>"
            f'<guid isPermaLink="false">oai:arXiv.org:{ident}</guid>{cats}'
            f"<arxiv:announce_type>{self.kind}</arxiv:announce_type>"
            f"<dc:creator>{escape(', '.join(self.authors))}</dc:creator></item>"
        )


rss_items = st.builds(
    RssItem,
    arxiv_id=st.one_of(new_ids, old_ids),
    version=st.integers(1, 30),
    kind=st.sampled_from(["new", "cross", "replace", "replace-cross"]),
    title=xml_text,
    abstract=xml_text,
    authors=st.lists(words, max_size=4),
    categories=categories,
)


@FAST
@given(items=st.lists(rss_items, max_size=5, unique_by=lambda i: i.arxiv_id), day=moments)
def test_listing_round_trip(items: list[RssItem], day: datetime) -> None:
    eastern = day.astimezone(EASTERN)
    feed = (
        f"<?xml version='1.0' encoding='UTF-8'?><rss {RSS_NS} version='2.0'><channel>"
        f"<pubDate>{format_datetime(eastern)}</pubDate>"
        + "".join(i.xml() for i in items)
        + "</channel></rss>"
    )
    listing = parse_listing(feed.encode("utf-8"), url=URL)
    assert listing.announced == eastern.date()
    assert len(listing.items) == len(items)
    for parsed, item in zip(listing.items, items, strict=True):
        assert (parsed.arxiv_id, parsed.version) == (item.arxiv_id, item.version)
        assert parsed.announce_type == item.kind
        assert parsed.title == _clean(item.title)
        assert parsed.abstract == _clean(item.abstract)
        assert list(parsed.categories) == item.categories
        assert parsed.authors == tuple(item.authors)
