"""The daily arXiv RSS listing (rss.arxiv.org, the 2024+ RSS 2.0 format).

One request per run gives every paper announced today in the followed categories, with its
announce type (new, cross, replace, replace-cross). The listing carries only ids and titles worth
trusting; full metadata comes from the API. A day without announcements (weekends, holidays) is
a channel with no items, which is a normal, empty :class:`Listing`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from arxiv_radar.errors import ConfigError, SourceFormatError
from arxiv_radar.http import PoliteClient
from arxiv_radar.paper import check_date, split_version
from arxiv_radar.sources._xml import XML_ERRORS, ParsedXml, is_damaged, parse_xml, short

__all__ = ["Listing", "ListingItem", "fetch_listing", "listing_url", "parse_listing"]

logger = logging.getLogger(__name__)

ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
ACCEPT = "application/rss+xml, application/xml;q=0.9"
EASTERN = ZoneInfo("America/New_York")
_DESCRIPTION_RE = re.compile(r"arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)")
_FORMAT_FIX = "arXiv may have changed its RSS format or sent a partial answer; try again later"


@dataclass(frozen=True)
class ListingItem:
    """One announced paper as the listing shows it (metadata comes from the API later)."""

    arxiv_id: str
    version: int
    announce_type: str
    categories: tuple[str, ...]
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listing:
    """A day's announcements; ``announced`` is the feed's date in US/Eastern, arXiv's clock.

    ``rejected`` says why each unusable item (no readable id, invalid UTF-8) or an implausible
    channel date was skipped; the good items are kept.
    """

    url: str
    announced: date | None
    items: tuple[ListingItem, ...]
    rejected: tuple[str, ...] = ()


class _ImplausibleDate(SourceFormatError):
    """The listing's date is far outside arXiv's range: read the listing as undated."""


def _format_error(url: str, problem: str) -> SourceFormatError:
    return SourceFormatError(f"{url}: {problem}", url=url, fix=_FORMAT_FIX)


def _collapse(text: str | None) -> str:
    return " ".join((text or "").split())


def _announced(channel: Element, *, url: str) -> date | None:
    """The channel's date; an implausible one (year 9999) raises SourceFormatError, which the
    caller records before reading the listing as undated."""
    raw = (channel.findtext("pubDate") or "").strip()
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError) as exc:
        raise _format_error(url, f"unreadable channel pubDate {short(raw)}") from exc
    if moment.tzinfo is None:
        raise _format_error(url, f"channel pubDate {short(raw)} has no time zone")
    try:
        return check_date(moment).astimezone(EASTERN).date()
    except (ValueError, OverflowError) as exc:
        message = f"{url}: implausible channel pubDate {short(raw)}"
        raise _ImplausibleDate(message, url=url, fix=_FORMAT_FIX) from exc


def _item_id(item: Element) -> tuple[str, int] | None:
    """Read ``id``/``version`` from the guid, else from the description's ``arXiv:...`` prefix."""
    candidates = [(item.findtext("guid") or "").strip()]
    match = _DESCRIPTION_RE.search(item.findtext("description") or "")
    if match:
        candidates.append(match.group("id"))
    for raw in candidates:
        try:
            arxiv_id, version = split_version(raw)
        except ValueError:
            continue
        if version is not None:
            return arxiv_id, version
    return None


def _announce_type(item: Element) -> str:
    explicit = _collapse(item.findtext(f"{ARXIV}announce_type"))
    if explicit:
        return explicit
    match = _DESCRIPTION_RE.search(item.findtext("description") or "")
    return match.group("type") if match else ""


def _parse_item(item: Element, *, url: str, position: int) -> ListingItem:
    identity = _item_id(item)
    title = _collapse(item.findtext("title"))
    if identity is None:
        raise _format_error(
            url, f"item {position} ({short(title or 'untitled')}) has no readable arXiv id"
        )
    announce_type = _announce_type(item)
    if not announce_type:
        raise _format_error(url, f"item {position} ({identity[0]}) has no announce type")
    categories = tuple(
        dict.fromkeys(c for c in (_collapse(e.text) for e in item.findall("category")) if c)
    )
    return ListingItem(
        arxiv_id=identity[0],
        version=identity[1],
        announce_type=announce_type,
        categories=categories,
        title=title,
        abstract=_abstract(item),
        authors=_authors(item),
    )


def _abstract(item: Element) -> str:
    """The abstract follows ``Abstract:`` in the description; it lets topics pre-match."""
    text = item.findtext("description") or ""
    _, found, abstract = text.partition("Abstract:")
    return _collapse(abstract if found else "")


def _authors(item: Element) -> tuple[str, ...]:
    creators = _collapse(item.findtext(f"{DC}creator"))
    return tuple(name.strip() for name in creators.split(",") if name.strip())


def _channel(data: bytes, *, url: str) -> ParsedXml:
    try:
        parsed = parse_xml(data)
    except XML_ERRORS as exc:
        raise _format_error(url, f"malformed XML in the RSS listing ({exc})") from exc
    root = parsed.root
    channel = root.find("channel") if root.tag == "rss" else None
    if channel is None:
        raise _format_error(url, f"expected an RSS 2.0 <rss><channel>, got <{root.tag}>")
    return ParsedXml(channel, repaired=parsed.repaired)


def _read_item(element: Element, *, url: str, position: int, repaired: bool) -> ListingItem:
    """One item, or SourceFormatError saying why this item alone is unusable."""
    item = _parse_item(element, url=url, position=position)
    if repaired and is_damaged(element):
        raise _format_error(url, f"item {position} ({item.arxiv_id}) holds invalid UTF-8")
    return item


def parse_listing(data: bytes, *, url: str) -> Listing:
    """Parse one RSS listing; items are deduplicated by id (first occurrence wins).

    An unusable item is skipped and named in ``rejected``; the rest of the listing is kept.
    """
    parsed = _channel(data, url=url)
    items: dict[str, ListingItem] = {}
    rejected: list[str] = []
    for position, element in enumerate(parsed.root.findall("item"), start=1):
        try:
            item = _read_item(element, url=url, position=position, repaired=parsed.repaired)
        except SourceFormatError as exc:
            logger.warning("skipped a listing item: %s", exc.message)
            rejected.append(exc.message)
            continue
        if item.arxiv_id in items:
            logger.debug("%s lists %s twice; keeping the first", url, item.arxiv_id)
            continue
        items[item.arxiv_id] = item
    try:
        announced = _announced(parsed.root, url=url)
    except _ImplausibleDate as exc:
        logger.warning("read the listing as undated: %s", exc.message)
        rejected.append(exc.message)
        announced = None
    return Listing(
        url=url, announced=announced, items=tuple(items.values()), rejected=tuple(rejected)
    )


def listing_url(base: str, categories: Sequence[str]) -> str:
    """arXiv serves several categories in one feed when they are joined with ``+``."""
    if not categories:
        raise ConfigError(
            "no arXiv categories to read the daily listing for",
            fix="add at least one category (e.g. cs.CV) to the topics in the config",
        )
    return f"{base.rstrip('/')}/{'+'.join(categories)}"


def fetch_listing(client: PoliteClient, base: str, categories: Sequence[str]) -> Listing:
    """Fetch today's listing for ``categories`` with a single request."""
    url = listing_url(base, categories)
    response = client.get(url, accept=ACCEPT)
    listing = parse_listing(response.content, url=url)
    logger.debug("%s: %d items announced %s", url, len(listing.items), listing.announced)
    return listing
