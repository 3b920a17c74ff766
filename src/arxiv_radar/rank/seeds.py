"""Where a topic's seeds come from: arXiv ids in the config, a BibTeX or RIS export, feedback.

A reference-manager export names a paper in many ways (an ``eprint`` field, an arXiv URL, the
arXiv DOI 10.48550/arXiv.ID, a note "arXiv:ID"), so every field is searched for an id. An entry
without any arXiv id still teaches the ranker through its own title and abstract.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bibtexparser
import rispy

from arxiv_radar.errors import ConfigError
from arxiv_radar.paper import split_version

__all__ = ["FileSeed", "arxiv_id_in", "read_seeds_file", "seed_from_fields"]

# New-style ids after "arxiv" (URL, DOI, note) or standing alone in an eprint field.
_ID_IN_TEXT = re.compile(
    r"(?:arxiv(?:\.org)?[./:\s]*(?:abs/|pdf/)?|^)(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Z]{2})?/\d{7})",
    re.IGNORECASE,
)
_ID_FIELDS = ("eprint", "arxivid", "arxiv", "url", "urls", "doi", "note", "notes", "journal")


@dataclass(frozen=True)
class FileSeed:
    """One entry of a seeds file: its arXiv id when it has one, else its own text."""

    arxiv_id: str | None
    title: str
    abstract: str


def arxiv_id_in(values: Iterable[str]) -> str | None:
    """The first arXiv id found in ``values`` (field texts), without its version."""
    for value in values:
        for match in _ID_IN_TEXT.finditer(value.strip()):
            try:
                arxiv_id, _ = split_version(match.group(1))
            except ValueError:
                continue
            return arxiv_id
    return None


def _texts(entry: Mapping[str, Any], keys: Iterable[str]) -> Iterator[str]:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _clean(text: str) -> str:
    """BibTeX protects capitals with braces; readers and the ranker want the plain words."""
    return " ".join(text.replace("{", "").replace("}", "").split())


def _bibtex_entries(text: str) -> list[dict[str, Any]]:
    parser = bibtexparser.bparser.BibTexParser(common_strings=True)
    entries: list[dict[str, Any]] = bibtexparser.loads(text, parser=parser).entries
    return entries


def _ris_entries(text: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = rispy.loads(text)
    return entries


def seed_from_fields(entry: Mapping[str, Any]) -> FileSeed | None:
    """A seed from one reference's fields (BibTeX, RIS or Zotero names), None when it has
    neither a title nor an arXiv id."""
    title = _clean(next(_texts(entry, ("title", "primary_title")), ""))
    arxiv_id = arxiv_id_in(_texts(entry, _ID_FIELDS))
    if arxiv_id is None and not title:
        return None
    return FileSeed(arxiv_id, title, _clean(next(_texts(entry, ("abstract",)), "")))


def read_seeds_file(path: Path, *, topic: str) -> list[FileSeed]:
    """Seeds of a ``.bib`` or ``.ris`` export; a file that yields none is a config error."""
    where = f"topic {topic!r}: seeds_file {path}"
    readers = {".bib": _bibtex_entries, ".bibtex": _bibtex_entries, ".ris": _ris_entries}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ConfigError(
            f"{where}: unknown format {path.suffix or '(no extension)'}",
            fix="export the collection as BibTeX (.bib) or RIS (.ris)",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{where}: cannot read it: {err}", fix="check the path") from None
    try:
        entries = reader(text)
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"{where}: cannot parse it: {err}", fix="export it again") from None
    seeds = [seed for seed in map(seed_from_fields, entries) if seed is not None]
    if not seeds:
        raise ConfigError(
            f"{where}: no entry with a title or an arXiv id",
            fix="check that the file is a complete BibTeX or RIS export",
        )
    return seeds
