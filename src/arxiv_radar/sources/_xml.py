"""Parsing arXiv's XML so that one damaged entry costs that entry, not the whole page.

A single byte of invalid UTF-8 makes an XML parser refuse the whole document, and with it every
good paper beside the bad one. When that is the only problem, the bytes are decoded with
replacement characters and parsed again; the entries that carry a replacement character are then
the damaged ones, which the sources skip and record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

__all__ = ["XML_ERRORS", "ParsedXml", "is_damaged", "parse_xml", "short"]

_REPLACEMENT = "\ufffd"
_DECLARED = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"']([\w.-]+)", re.IGNORECASE)
# LookupError/ValueError: an unknown or multi-byte encoding named in the XML declaration.
XML_ERRORS = (ParseError, DefusedXmlException, LookupError, ValueError)


@dataclass(frozen=True)
class ParsedXml:
    """The root element; ``repaired`` when invalid UTF-8 was replaced to read the rest."""

    root: Element
    repaired: bool = False


def _is_utf8_document(data: bytes) -> bool:
    declared = _DECLARED.match(data[:200])
    return declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")


def parse_xml(data: bytes) -> ParsedXml:
    """Parse ``data`` with defusedxml; raise one of :data:`XML_ERRORS` when it cannot be read."""
    try:
        root: Element = fromstring(data)
    except ParseError:
        if not _is_utf8_document(data):
            raise
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            repaired = data.decode("utf-8", errors="replace").encode("utf-8")
            return ParsedXml(fromstring(repaired), repaired=True)
        raise
    return ParsedXml(root)


def is_damaged(element: Element) -> bool:
    """Whether ``element`` holds text that was invalid UTF-8 (after :func:`parse_xml` repaired)."""
    for node in element.iter():
        if any(_REPLACEMENT in value for value in node.attrib.values()):
            return True
    return any(_REPLACEMENT in text for text in element.itertext())


def short(text: str, limit: int = 80) -> str:
    """``repr`` of untrusted text, cut short: a rejection message must stay one small line."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
